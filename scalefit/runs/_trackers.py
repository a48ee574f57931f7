"""Experiment-tracker exports reshaped into one row per checkpoint (private).

:func:`reshape_export` recognises what Weights & Biases writes and turns it into
the long table :func:`scalefit.read_runs` reads, saying what it did in notes:

* a chart-panel CSV ("Export panel data"): one ``Step`` column and one column
  per run and metric, ``"<run> - <metric>"`` (plus ``__MIN`` / ``__MAX``
  bands), melted to one row per run and step with a column per metric;
* JSON-valued cells (``config`` / ``summary`` dicts in a run-table CSV, nested
  objects in JSON records), flattened to ``"<column>.<key>"`` columns, which
  the aliases then match through their tracker prefixes;
* a per-step history export (``_step`` with ``_runtime`` / ``_timestamp``), whose
  rows log different metrics at different steps: :func:`is_sparse_history`
  tells :func:`read_runs` to set aside the rows that carry no loss.

Also :func:`to_pandas` for pyarrow and polars tables.
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any

import pandas as pd

from .._errors import ScalefitInputError

__all__ = ["reshape_export", "is_sparse_history", "is_wandb_export", "to_pandas", "HISTORY_MARKERS", "RUN_TABLE_MARKERS"]

#: A column named ``_step`` together with one of these marks a W&B per-step history export.
HISTORY_MARKERS = ("_runtime", "_timestamp")
#: Columns every W&B run-table CSV export starts with (besides ``Name``).
RUN_TABLE_MARKERS = ("State", "Created", "Runtime")
_PANEL = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?P<band>__MIN|__MAX)?$")
_MAX_DEPTH = 4


def to_pandas(source: Any) -> pd.DataFrame | None:
    """A pandas copy of a pyarrow Table / RecordBatch or a polars DataFrame; None for anything else."""
    module = type(source).__module__.split(".")[0]
    if module == "pyarrow" and hasattr(source, "to_pandas"):
        return source.to_pandas()
    if module == "polars":
        if hasattr(source, "collect") and not hasattr(source, "to_pandas"):  # a LazyFrame
            source = source.collect()
        try:
            return source.to_pandas()
        except ImportError:  # polars converts through pyarrow
            return pd.DataFrame(source.to_dict(as_series=False))
    return None


def reshape_export(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], bool]:
    """``(frame, notes, reshaped_rows)``: ``frame`` melted and/or flattened when it is a tracker export.

    ``reshaped_rows`` is True when the rows no longer correspond one to one to
    the input's rows (a melted chart panel), so file line numbers no longer apply.
    """
    notes: list[str] = []
    melted = _melt_panel(frame)
    rows_changed = melted is not None
    if melted is not None:
        frame, note = melted
        notes.append(note)
    flat = _flatten_json_columns(frame)
    if flat is not None:
        frame, note = flat
        notes.append(note)
    return frame, notes, rows_changed


def is_sparse_history(columns: list) -> bool:
    """True for a W&B per-step history export (``_step`` with ``_runtime`` or ``_timestamp``)."""
    names = {str(c).lower() for c in columns}
    return "_step" in names and any(m in names for m in HISTORY_MARKERS)


def is_wandb_export(columns: list) -> bool:
    """True for a W&B run-table export (``Name``, ``State``, ``Created``, ``Runtime``) or history export."""
    names = {str(c) for c in columns}
    return is_sparse_history(columns) or ("Name" in names and all(m in names for m in RUN_TABLE_MARKERS))


# ------------------------------------------------------------------ chart panel
def _melt_panel(frame: pd.DataFrame) -> tuple[pd.DataFrame, str] | None:
    matches = {c: _PANEL.match(str(c)) for c in frame.columns}
    panel = [c for c, m in matches.items() if m is not None]
    keys = [c for c in frame.columns if c not in panel]
    if not panel or not keys or len(keys) > 2:
        return None  # a panel export has one x-axis column (two with a wall-time column)
    if len({matches[c].group("run") for c in panel}) < 2 and len(panel) < 2:  # type: ignore[union-attr]
        return None
    lines = [c for c in panel if matches[c].group("band") is None]  # type: ignore[union-attr]
    bands = len(panel) - len(lines)
    pieces = []
    for col in lines:
        m = matches[col]
        if m is None:
            continue
        piece = frame[keys].copy()
        piece["run"] = m.group("run")
        piece["metric"] = m.group("metric")
        piece["value"] = frame[col].to_numpy()
        pieces.append(piece)
    long = pd.concat(pieces, ignore_index=True)
    cells = len(long)
    long = long[long["value"].notna()]
    try:
        wide = long.pivot_table(index=["run", *keys], columns="metric", values="value", aggfunc="first", sort=False)
    except (TypeError, ValueError) as exc:
        raise ScalefitInputError(
            f"the table looks like a W&B chart-panel export ('<run> - <metric>' columns) but could not be "
            f"melted: {exc}. Export the run table or the run history instead."
        ) from None
    wide = wide.reset_index()
    wide.columns.name = None
    metrics = sorted({str(matches[c].group("metric")) for c in lines})  # type: ignore[union-attr]
    runs = long["run"].nunique()
    note = (f"W&B chart panel: melted {len(lines)} '<run> - <metric>' columns ({runs} runs; metrics "
            f"{', '.join(map(repr, metrics))}) into {len(wide)} rows keyed by run and {', '.join(map(repr, map(str, keys)))}; "
            f"{cells - len(long)} empty cells (steps a run did not log) skipped")
    if bands:
        note += f"; {bands} __MIN/__MAX band columns (smoothing envelopes) not read"
    return wide, note


# ------------------------------------------------------------- JSON columns
def _as_mapping(value: Any) -> dict | None:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        out = json.loads(text)
    except ValueError:
        try:  # str(dict) as pandas writes a column of dicts: single quotes, True/None
            out = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return out if isinstance(out, dict) else None


def _flatten(prefix: str, value: dict, out: dict, depth: int) -> None:
    for key, inner in value.items():
        name = f"{prefix}.{key}"
        if isinstance(inner, dict) and depth < _MAX_DEPTH:
            if set(inner) == {"value"}:  # W&B config export: {"lr": {"value": 3e-4}}
                out[name] = inner["value"]
            else:
                _flatten(name, inner, out, depth + 1)
        else:
            out[name] = inner


def _flatten_json_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, str] | None:
    if frame.columns.duplicated().any():
        return None  # refused, naming the repeats, by read_runs
    flattened = []
    frame_out = frame
    for col in list(frame.columns):
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        present = series[series.notna()]
        if present.empty:
            continue
        parsed = [_as_mapping(v) for v in present]
        if any(p is None for p in parsed):
            continue  # a column of dicts only: text that merely starts with "{" stays text
        records: list[dict] = [{} for _ in range(len(frame))]
        for pos, mapping in zip(present.index, parsed):
            flat: dict = {}
            _flatten(str(col), mapping or {}, flat, 1)
            records[frame.index.get_loc(pos)] = flat
        expanded = pd.DataFrame.from_records(records, index=frame.index)
        if expanded.empty or not len(expanded.columns):
            continue
        taken = set(map(str, frame_out.columns))
        expanded.columns = [c if c not in taken else f"{c}_json" for c in map(str, expanded.columns)]
        at = list(frame_out.columns).index(col)
        frame_out = pd.concat([frame_out.iloc[:, :at], expanded, frame_out.iloc[:, at + 1:]], axis=1)
        flattened.append((str(col), len(expanded.columns)))
    if not flattened:
        return None
    text = ", ".join(f"{c!r} ({n} keys)" for c, n in flattened)
    return frame_out, f"JSON-valued column(s) {text} flattened into '<column>.<key>' columns"
