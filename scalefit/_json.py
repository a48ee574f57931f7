"""One conversion to plain JSON types, shared by every result's ``to_dict`` and the CLI."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return str(obj)


# ---------------------------------------------------------------- saved frames
def encode_cell(v: Any) -> Any:
    """One cell for :func:`frame_to_dict`: tuples and arrays as lists, non-finite floats as None / "inf" / "-inf"."""
    if isinstance(v, (tuple, list, np.ndarray)):
        return [encode_cell(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, (float, np.floating)) and not isinstance(v, bool):
        f = float(v)
        return f if math.isfinite(f) else {"float": str(f)}  # "nan", "inf", "-inf": valid JSON, never misread
    return jsonable(v)


def _decode_float(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, Mapping):
        return float(v["float"])
    return float(v)


def frame_to_dict(df: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as JSON types that :func:`frame_from_dict` turns back into an equal frame.

    Keeps the column order, each column's dtype, and cells that hold tuples
    (``flags``, ``rows``, fitted curves), number for number (JSON floats
    round-trip exactly; NaN and infinities are ``{"float": "nan"}``, ``{"float": "inf"}``).
    The index is not kept (results use a plain range index).
    """
    columns, dtypes, kinds, data = [], [], [], []
    for name in df.columns:
        col = df[name]
        values = col.tolist()
        kind = "plain"
        if col.dtype == object and values and all(isinstance(v, tuple) for v in values):
            kind = "tuple"
        elif col.dtype == object and values and all(isinstance(v, np.ndarray) for v in values):
            kind = "array"
        columns.append(str(name))
        dtypes.append(str(col.dtype))
        kinds.append(kind)
        data.append([encode_cell(v) for v in values])
    return {"columns": columns, "dtypes": dtypes, "kinds": kinds, "data": data, "n_rows": len(df)}


def decode_cell(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(decode_cell(x) for x in v)
    if isinstance(v, Mapping) and set(v) == {"float"}:
        return float(v["float"])
    return v


def frame_from_dict(d: Mapping[str, Any]) -> pd.DataFrame:
    """The DataFrame :func:`frame_to_dict` saved (same columns, dtypes and cells)."""
    out: dict[str, pd.Series] = {}
    n = int(d.get("n_rows", 0))
    for name, dtype, kind, values in zip(d["columns"], d["dtypes"], d["kinds"], d["data"]):
        if kind == "tuple":
            series = pd.Series([decode_cell(v) for v in values], dtype=object)
        elif kind == "array":
            series = pd.Series([np.asarray([_decode_float(x) for x in v], dtype=float) for v in values], dtype=object)
        elif dtype.startswith("float"):
            series = pd.Series([_decode_float(v) for v in values], dtype=dtype)
        elif dtype == "object":
            series = pd.Series([decode_cell(v) for v in values], dtype=object)
        else:
            series = pd.Series(values, dtype=dtype)
        out[name] = series.reset_index(drop=True)
    frame = pd.DataFrame(out, columns=list(d["columns"]))
    if not len(frame.columns):
        frame = pd.DataFrame(index=range(n))
    return frame
