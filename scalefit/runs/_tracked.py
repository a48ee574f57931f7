"""Runs read from where they were logged: an MLflow tracking server or TensorBoard event files (private).

:func:`open_tracker` is the hook :func:`scalefit.read_runs` calls first: for an
``"mlflow://host:port/<experiment>"`` string, a :class:`MlflowSource`, a folder
holding TensorBoard event files or a :class:`TensorBoardSource` it returns the
long table (one row per run and logged step of the loss) and a label for
messages; for anything else None.  :func:`read_mlflow` and
:func:`read_tensorboard` are the public spellings with the options a string
cannot carry.

Both trackers log *histories* (a value per step) and *constants* (MLflow
params, TensorBoard hparams).  :func:`curves_frame` turns them into one table:
a row for every logged step of the loss, each other history matched at the
same step, constants repeated along the run.  Columns keep the tracker's names
(``metrics.<key>`` / ``params.<key>`` for MLflow, the tag and ``hparams/<name>``
for TensorBoard), so the aliases of :data:`scalefit.runs.ALIASES` map them
like any other table's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._validation import ColumnMap
from .._errors import Option, ScalefitInputError

__all__ = ["TrackedRun", "curves_frame", "open_tracker", "read_mlflow", "read_tensorboard",
           "MLFLOW_SCHEMES", "MlflowSource", "TensorBoardSource"]

#: ``read_runs("mlflow://127.0.0.1:5000/<experiment>")`` reads an MLflow server over http;
#: ``mlflow+https://`` over https.
MLFLOW_SCHEMES = {"mlflow": "http", "mlflow+http": "http", "mlflow+https": "https"}
#: Targets a run may log once (a constant of the run): repeated along its checkpoints.
_RUN_CONSTANT_TARGETS = ("n_params", "unique_tokens")
#: Targets that change along a training curve: a run-constant source for them is refused.
_PER_STEP_TARGETS = ("n_tokens", "flops")


@dataclass(frozen=True)
class MlflowSource:
    """An MLflow experiment on a tracking server, as :func:`read_mlflow` reads it.

    Parameters
    ----------
    tracking_uri : str
        What ``mlflow.set_tracking_uri`` takes: ``"http://127.0.0.1:5000"``, ``"https://..."``,
        ``"databricks"``, a local ``"mlruns"`` folder or a ``"sqlite:///..."`` store.
    experiment : str
        The experiment's name (or its id when no experiment has that name).
    filter_string : str
        MLflow's run filter, e.g. ``"params.lr = '3e-4' and attributes.status = 'FINISHED'"``.
    history : bool
        True (default) for a row per logged step of the loss (training curves); False for one
        row per run with the last value of each metric.
    timeout : float
        Seconds to wait for an http(s) server to answer before saying it is unreachable.
    """

    tracking_uri: str
    experiment: str
    filter_string: str = ""
    history: bool = True
    timeout: float = 10.0


@dataclass(frozen=True)
class TensorBoardSource:
    """A TensorBoard log folder (each folder holding event files is a run), as :func:`read_tensorboard` reads it."""

    logdir: str | PathLike


@dataclass
class TrackedRun:
    """One logged run: its id, descriptive columns, constants and per-step histories.

    ``histories`` maps a column name to ``(steps, values, wall_times)`` arrays in logging order.
    """

    run: str
    info: dict[str, Any] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    histories: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)


# ----------------------------------------------------------------- dispatch
def open_tracker(source: Any, *, columns: ColumnMap | None = None, use_non_embedding: bool = False,
                 nan_policy: str = "raise") -> tuple[pd.DataFrame, str] | None:
    """``(frame, label)`` when ``source`` is a tracker (MLflow URI or source, TensorBoard folder); else None."""
    options: dict[str, Any] = {"columns": columns, "use_non_embedding": use_non_embedding, "nan_policy": nan_policy}
    if isinstance(source, str) and "://" in source and source.split("://", 1)[0].lower() in MLFLOW_SCHEMES:
        from ._mlflow import parse_mlflow_uri

        source = parse_mlflow_uri(source)
    if isinstance(source, MlflowSource):
        from ._mlflow import fetch_mlflow

        return fetch_mlflow(source, **options)
    if isinstance(source, (str, PathLike, TensorBoardSource)) and not isinstance(source, bytes):
        from ._tensorboard import fetch_tensorboard, is_event_file, is_tensorboard_dir

        path = Path(source.logdir if isinstance(source, TensorBoardSource) else source).expanduser()
        if isinstance(source, TensorBoardSource) or is_tensorboard_dir(path) or is_event_file(path):
            return fetch_tensorboard(path, **options)
    return None


def read_mlflow(tracking_uri: str, experiment: str, *, filter_string: str = "", history: bool = True,
                timeout: float = 10.0, **options: Any):
    """Read the runs of an MLflow experiment from its tracking server into :class:`~scalefit.Runs`.

    Params become ``params.<key>`` columns, metrics ``metrics.<key>``; the
    aliases map them (``params.n_params`` -> ``n_params``, ``metrics.val_loss``
    -> ``loss``, ...) and ``columns=`` maps the rest.  With ``history=True``
    each run contributes a row per step at which it logged the loss, with the
    other mapped metrics taken at that step: a training curve keyed by
    ``run_id`` and ``step``.  ``read_runs("mlflow://host:port/<experiment>")``
    does the same over http.

    Parameters
    ----------
    tracking_uri : str
        The tracking server or store, e.g. ``"http://127.0.0.1:5000"``.
    experiment : str
        Experiment name (or id).
    filter_string : str, optional
        MLflow's run filter (``"attributes.status = 'FINISHED'"``).
    history : bool
        Read every logged step (True, default) or the last value of each metric (False).
    timeout : float
        Seconds to wait for an http(s) server before calling it unreachable.
    **options
        Any keyword option of :func:`scalefit.read_runs` (``columns``, ``run_id``,
        ``nan_policy``, ``exclude``, ...).

    Returns
    -------
    Runs

    Raises
    ------
    ScalefitInputError
        The MLflow client is not installed (``pip install 'scalefit[mlflow]'``), the server cannot be
        reached, the experiment does not exist (the message lists those that do), it has no runs, no
        metric maps to the loss (the message lists the metrics and params found), or the token count
        is a run parameter while the loss has several steps per run.

    Examples
    --------
    >>> runs = scalefit.read_mlflow("http://127.0.0.1:5000", "chinchilla-sweep")  # doctest: +SKIP
    >>> runs = scalefit.read_runs("mlflow://127.0.0.1:5000/chinchilla-sweep")      # doctest: +SKIP
    """
    from ._read import read_runs

    return read_runs(MlflowSource(str(tracking_uri), str(experiment), filter_string=filter_string or "",
                                  history=bool(history), timeout=float(timeout)), **options)


def read_tensorboard(logdir: str | PathLike, **options: Any):
    """Read TensorBoard event files into :class:`~scalefit.Runs`: each folder holding event files is a run.

    Every scalar tag becomes a column named by its tag (``train/loss``, ``tokens``)
    and every hyperparameter of the hparams plugin a ``hparams/<name>`` column;
    the aliases map them.  A row is a step at which the run logged its loss; the
    other scalars are taken at that step, and a scalar for the parameter count
    logged once per run is repeated along the run.  TensorBoard stores scalars
    as 32-bit floats (hparams as 64-bit), so values come back rounded to float32.
    ``read_runs(logdir)`` does the same.

    Parameters
    ----------
    logdir : path
        The folder given to ``tensorboard --logdir`` (or one event file).
    **options
        Any keyword option of :func:`scalefit.read_runs`.

    Returns
    -------
    Runs

    Raises
    ------
    ScalefitInputError
        The tensorboard package is missing (``pip install 'scalefit[tensorboard]'``), the folder holds
        no event files, or no scalar maps to the loss (the message lists the tags found).
    """
    from ._read import read_runs

    return read_runs(TensorBoardSource(logdir), **options)


# ------------------------------------------------------------ shared table
def resolve_targets(available: Sequence[str], columns: ColumnMap | None, *, use_non_embedding: bool,
                    label: str, found: str, loss_hint: str) -> dict[str, str]:
    """Column -> canonical target by :func:`scalefit.read_runs`' own alias rules; the loss must be among them."""
    from ._columns import ALIASES, resolve_columns

    mapping, _ = resolve_columns(list(available), columns, step=None, use_non_embedding=use_non_embedding)
    if "loss" not in mapping.values():
        raise ScalefitInputError(
            f"no logged value of {label} looks like the loss (looked for "
            + ", ".join(repr(a) for a in ALIASES["loss"]) + f", also after a tracker prefix); found {found}. "
            f"Map yours with columns={{{loss_hint!r}: 'loss'}}.",
            column="loss",
            options=[Option("columns", f"{{{loss_hint!r}: 'loss'}}")],
        )
    return mapping


def curves_frame(runs: Sequence[TrackedRun], mapping: Mapping[str, str], *, run_column: str, label: str,
                 nan_policy: str = "raise") -> tuple[pd.DataFrame, list[str]]:
    """One row per run and logged step of the loss; other histories at the same step, constants repeated.

    A run that never logged the loss is refused, naming it and what it logged; with
    ``nan_policy="omit"`` it gives one row with no loss and no step, which
    :func:`scalefit.read_runs` lists in ``Runs.excluded``.
    """
    loss_col = next(c for c, t in mapping.items() if t == "loss")
    target_of = dict(mapping)
    columns = [run_column] + sorted({k for r in runs for k in r.info}) + ["step", loss_col]
    for r in runs:
        for name in list(r.constants) + list(r.histories):
            if name not in columns:
                columns.append(name)
    notes: list[str] = []
    no_loss: list[str] = []
    broadcast: set[str] = set()
    pieces = []
    for r in runs:
        piece: dict[str, Any] = {}
        if loss_col in r.histories:
            steps, values, _ = r.histories[loss_col]
            order = np.lexsort((np.arange(len(steps)), steps))  # by step, then logging order
            steps, loss = steps[order], values[order]
        else:
            no_loss.append(r.run)
            steps, loss = np.array([np.nan]), np.array([np.nan])
        n = len(steps)
        piece[run_column] = [r.run] * n
        for key, value in r.info.items():
            piece[key] = [value] * n
        piece["step"] = steps
        piece[loss_col] = loss
        for name, value in r.constants.items():
            if target_of.get(name) in _PER_STEP_TARGETS and n > 1:
                raise ScalefitInputError(
                    f"{target_of[name]} comes from {name!r}, one value per run, but run {r.run!r} of {label} logged "
                    f"the loss ({loss_col!r}) at {n} steps, so every checkpoint would get the run's total. Log the "
                    f"{'tokens seen' if target_of[name] == 'n_tokens' else 'FLOPs spent'} at each step as a metric, "
                    "or read the last value of each run (read_mlflow(..., history=False)).",
                    column=target_of[name], values=[r.run],
                    options=[Option("columns", f"{{'<per-step metric>': {target_of[name]!r}}}")],
                )
            piece[name] = [value] * n
        for name, (h_steps, h_values, h_times) in r.histories.items():
            if name == loss_col:
                continue
            if len(h_steps) == 1 and target_of.get(name) in _RUN_CONSTANT_TARGETS:
                piece[name] = np.repeat(h_values, n)
                broadcast.add(name)
                continue
            # the last value logged at each step (by wall time, then logging order)
            order = np.lexsort((np.arange(len(h_steps)), h_times, h_steps))
            s_sorted, v_sorted = h_steps[order], h_values[order]
            last = np.r_[s_sorted[1:] != s_sorted[:-1], True] if len(s_sorted) else np.zeros(0, bool)
            s_last, v_last = s_sorted[last], v_sorted[last]
            out = np.full(n, np.nan)
            if len(s_last):
                at = np.clip(np.searchsorted(s_last, steps), 0, len(s_last) - 1)
                hit = s_last[at] == steps
                out[hit] = v_last[at[hit]]
            piece[name] = out
        pieces.append(pd.DataFrame(piece))
    if no_loss and nan_policy != "omit":
        first = next(r for r in runs if r.run == no_loss[0])
        logs = ", ".join(map(repr, sorted(first.histories))) or "no histories"
        shown = ", ".join(map(repr, no_loss[:5])) + (", ..." if len(no_loss) > 5 else "")
        raise ScalefitInputError(
            f"{len(no_loss)} of the {len(runs)} runs of {label} never logged the loss {loss_col!r} ({shown}; "
            f"{no_loss[0]!r} logs {logs}). Map their loss with columns={{'<name>': 'loss'}}, leave those runs out, "
            "or pass nan_policy='omit' to list them in Runs.excluded.",
            column="loss", values=no_loss[:5],
            options=[Option("columns", "{'<name>': 'loss'}"), Option("nan_policy", "'omit'")],
        )
    frame = pd.concat(pieces, ignore_index=True).reindex(columns=columns)
    frame["step"] = _integral(frame["step"])
    if broadcast:
        notes.append(f"{', '.join(map(repr, sorted(broadcast)))} logged once per run: repeated at every step of the run")
    if no_loss:
        shown = ", ".join(map(repr, no_loss[:5])) + (", ..." if len(no_loss) > 5 else "")
        notes.append(f"{len(no_loss)} run(s) of {label} never logged {loss_col!r} ({shown}): one row each with no loss")
    return frame, notes


def _integral(steps: pd.Series) -> pd.Series:
    values = steps.to_numpy(dtype=float)
    finite = np.isfinite(values)
    if finite.all() and np.all(values == np.round(values)):
        return pd.Series(values.astype(np.int64), index=steps.index)
    return steps
