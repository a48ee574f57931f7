"""Runs saved with a result and read back (private): :func:`runs_to_dict` and :func:`runs_from_dict`.

A result keeps the runs it was computed from (so a plot needs nothing else);
its JSON carries them in this form, and :func:`scalefit.load` rebuilds the
same :class:`Runs`: the canonical table and the excluded rows column for
column (:func:`scalefit._json.frame_to_dict`), and everything ingestion recorded.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .._json import frame_from_dict, frame_to_dict, jsonable
from ._runs import Runs

__all__ = ["runs_to_dict", "runs_from_dict"]


def runs_to_dict(runs: Runs | None) -> dict[str, Any] | None:
    """JSON types that :func:`runs_from_dict` turns back into equal runs (None stays None)."""
    if runs is None:
        return None
    return {
        "table": frame_to_dict(runs.table),
        "excluded": frame_to_dict(runs.excluded),
        "derived": list(runs.derived),
        "column_map": [[k, v] for k, v in runs.column_map.items()],
        "duplicate_rows": jsonable(list(runs.duplicate_rows)),
        "source": runs.source,
        "flops_per_param_token": runs.flops_per_param_token,
        "duplicate_of": [[int(k), int(v)] for k, v in runs.duplicate_of.items()],
        "run_id": list(runs.run_id),
        "notes": list(runs.notes),
        "row_places": _places_to_dict(runs.row_places),
        "selected": list(runs.selected),
    }


def _places_to_dict(places: tuple | None) -> dict[str, Any] | None:
    """A file's lines as their offset from the row number when that is constant (the usual case), else listed."""
    if places is None:
        return None
    kind, where = places
    if isinstance(where, range):
        return {"kind": kind, "offset": where.start, "n": len(where)}
    if kind == "line" and len(where):
        offset = np.asarray(where, dtype=np.int64) - np.arange(len(where))
        if (offset == offset[0]).all():
            return {"kind": kind, "offset": int(offset[0]), "n": len(where)}
    return {"kind": kind, "places": jsonable(list(where))}


def _places_from_dict(d: Mapping[str, Any] | None) -> tuple | None:
    if not d:
        return None
    if "offset" in d:
        return d["kind"], range(int(d["offset"]), int(d["offset"]) + int(d["n"]))
    return d["kind"], (np.asarray(d["places"], dtype=np.int64) if d["kind"] == "line" else list(d["places"]))


def runs_from_dict(d: Mapping[str, Any] | None) -> Runs | None:
    """The :class:`Runs` :func:`runs_to_dict` saved."""
    if d is None:
        return None
    return Runs(
        table=frame_from_dict(d["table"]),
        excluded=frame_from_dict(d["excluded"]),
        derived=tuple(d.get("derived", ())),
        column_map={k: v for k, v in d.get("column_map", [])},
        duplicate_rows=tuple(d.get("duplicate_rows", ())),
        source=str(d.get("source", "DataFrame")),
        flops_per_param_token=float(d.get("flops_per_param_token", 6.0)),
        duplicate_of={int(k): int(v) for k, v in d.get("duplicate_of", [])},
        run_id=tuple(d.get("run_id", ())),
        notes=tuple(d.get("notes", ())),
        row_places=_places_from_dict(d.get("row_places")),
        selected=tuple(d.get("selected", ())),
    )
