"""Runs read from TensorBoard event files with the ``tensorboard`` package's reader (private; the ``tensorboard`` extra).

Each folder under the log folder that holds ``events.out.tfevents.*`` files is a
run, named by its path relative to the log folder, as TensorBoard names it.
Scalars written as ``simple_value`` (PyTorch, tensorboardX, TF1) and as scalar
tensors (TF2 / Keras) are read in full (no reservoir sampling), and orphaned
events of a restarted run are kept (``purge_orphaned_data=False``), so a
resumed run's repeated steps show up and warn instead of vanishing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import ColumnMap
from .._errors import ScalefitInputError
from ._tracked import TrackedRun, curves_frame, resolve_targets

__all__ = ["fetch_tensorboard", "is_event_file", "is_tensorboard_dir"]

_MARK = "tfevents"
_HPARAMS_PREFIX = "hparams/"
_RESERVED = ("run", "step")


def is_event_file(path: Path) -> bool:
    """True for a TensorBoard event file (``events.out.tfevents.<time>.<host>``)."""
    return _MARK in path.name and path.is_file()


def is_tensorboard_dir(path: Path) -> bool:
    """True for a folder with at least one event file in it or below it."""
    if not path.is_dir():
        return False
    return next((p for p in path.rglob(f"*{_MARK}*") if p.is_file()), None) is not None


def _reader() -> Any:
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        raise ScalefitInputError(
            "reading TensorBoard event files needs the tensorboard package, which is not installed: "
            "pip install 'scalefit[tensorboard]'.",
        ) from None
    return event_accumulator


def _run_folders(path: Path) -> tuple[Path, list[Path]]:
    if path.is_file():
        return path.parent, [path.parent]
    folders = sorted({p.parent for p in path.rglob(f"*{_MARK}*") if p.is_file()})
    if not folders:
        raise ScalefitInputError(
            f"{str(path)!r} holds no TensorBoard event files (events.out.tfevents.*); give the folder passed to "
            "tensorboard --logdir.", values=[str(path)],
        )
    return path, folders


def _hparams(acc: Any) -> dict[str, Any]:
    try:
        content = acc.PluginTagToContent("hparams")
    except KeyError:
        return {}
    from tensorboard.plugins.hparams import plugin_data_pb2

    out: dict[str, Any] = {}
    for data in content.values():
        info = plugin_data_pb2.HParamsPluginData.FromString(data)
        if info.WhichOneof("data") != "session_start_info":
            continue
        for name, value in info.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            out[f"{_HPARAMS_PREFIX}{name}"] = getattr(value, kind) if kind else None
    return out


def _scalars(acc: Any) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    tags = acc.Tags()
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for tag in tags.get("scalars", []):
        events = acc.Scalars(tag)
        out[tag] = (np.array([e.step for e in events], dtype=float), np.array([e.value for e in events], dtype=float),
                    np.array([e.wall_time for e in events], dtype=float))
    tensor_tags = [t for t in tags.get("tensors", []) if acc.SummaryMetadata(t).plugin_data.plugin_name == "scalars"]
    if tensor_tags:
        from tensorboard.util import tensor_util

        for tag in tensor_tags:
            events = acc.Tensors(tag)
            values = [np.asarray(tensor_util.make_ndarray(e.tensor_proto), dtype=float) for e in events]
            if any(v.size != 1 for v in values):
                continue  # not a scalar after all
            out[tag] = (np.array([e.step for e in events], dtype=float), np.array([v.item() for v in values]),
                        np.array([e.wall_time for e in events], dtype=float))
    return out


def fetch_tensorboard(path: Path, *, columns: ColumnMap | None = None,
                      use_non_embedding: bool = False,
                      nan_policy: str = "raise") -> tuple[pd.DataFrame, str]:
    """The runs under ``path`` as one table (see :func:`scalefit.read_tensorboard`) and a label for messages."""
    event_accumulator = _reader()
    root, folders = _run_folders(path)
    label = f"TensorBoard logs {str(path)!r}"
    keep_all = {event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}
    tracked = []
    for folder in folders:
        acc = event_accumulator.EventAccumulator(str(folder), size_guidance=keep_all, purge_orphaned_data=False)
        acc.Reload()
        name = folder.relative_to(root).as_posix() if folder != root else (root.name or str(root))
        histories = {(f"{tag} (scalar)" if tag in _RESERVED else tag): h for tag, h in _scalars(acc).items()}
        tracked.append(TrackedRun(run=name, constants=_hparams(acc), histories=histories))
    tags = sorted({t for r in tracked for t in r.histories})
    hparams = sorted({h for r in tracked for h in r.constants})
    if not tags:
        raise ScalefitInputError(
            f"{label} hold no scalars ({len(folders)} run folder(s) read); log the loss with add_scalar / "
            "tf.summary.scalar.", values=[str(path)],
        )
    found = (f"scalars {', '.join(map(repr, tags))}" + (f" and hparams {', '.join(map(repr, hparams))}" if hparams else "")
             + f" in {len(tracked)} run(s)")
    mapping = resolve_targets(["run", "step", *tags, *hparams], columns, use_non_embedding=use_non_embedding,
                              label=label, found=found, loss_hint="<tag>")
    frame, notes = curves_frame(tracked, mapping, run_column="run", label=label,
                                    nan_policy=nan_policy)
    frame.attrs["scalefit_notes"] = [f"read {len(tracked)} run(s) of {label}", *notes]
    return frame, label
