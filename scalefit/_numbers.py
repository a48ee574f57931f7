"""Parse human-written numbers: ``"1.3B"``, ``"70M"``, ``"1.4T"``, ``"1,000,000"``.

Scaling-law tables are often written by hand, so model sizes and token counts
arrive as ``"70M"`` or ``"1.4T"``.  :func:`parse_number` turns one such value
into a float; :func:`parse_column` turns a whole column into floats and
reports which entries could not be read, so that the caller (see
:mod:`scalefit._validation`) can name them.

Suffixes are case-insensitive: K = 1e3, M = 1e6, B = G = 1e9, T = 1e12.
Thousands separators (``,`` and ``_``) and surrounding spaces are ignored.
An exponent and a suffix together (``"1.3e9B"``) are refused, and
:func:`locale_style` finds decimal commas and locale-formatted numbers
(``"3,1"``, ``"1.234,5"``, ``"1 234"``) so that they are refused with the fix
rather than misread.
``"nan"``, ``"inf"`` and empty strings parse to NaN/inf and are left for
validation to flag; they are not "unparseable".
"""
from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}

_NUMBER = re.compile(
    r"""^\s*
    (?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)   # 1, 1.3, .5, 1.2e9
    \s*(?P<suffix>[kmbgt])?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
            "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf, "": math.nan}
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[,_]\d{3})+(?:\.\d*)?(?:e[+-]?\d+)?\s*[kmbgt]?$", re.IGNORECASE)


def parse_number(value: Any) -> float:
    """Parse one value into a float.

    Parameters
    ----------
    value : str, int, float or None
        ``1.3e9``, ``"1.3B"``, ``"300b"``, ``"70M"``, ``"1.4T"``, ``"12K"``,
        ``"1.2e9"``, ``"1,000,000"``.  ``None``, ``""`` and ``"nan"`` give NaN.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When the value cannot be read as a number (for instance ``"abc"``,
        ``"1.3X"`` or a boolean).

    Examples
    --------
    >>> parse_number("1.3B")
    1300000000.0
    >>> parse_number("1,000")
    1000.0
    """
    if value is None:
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{value!r} is a boolean, not a number")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:  # a Python int beyond the float range
            return math.inf if value > 0 else -math.inf  # type: ignore[operator]  # typeshed: Real has no >
    if value is pd.NA or value is pd.NaT:
        return math.nan
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} (type {type(value).__name__}) is not a number")
    text = value.strip()
    low = text.lower()
    if low in _SPECIAL:
        return _SPECIAL[low]
    if _GROUPED.match(text):
        text = text.replace(",", "").replace("_", "")
    match = _NUMBER.match(text)
    if match is None:
        raise ValueError(f"{value!r} is not a number")
    number = float(match.group("num"))
    suffix = match.group("suffix")
    if suffix and "e" in match.group("num").lower():
        raise ValueError(f"{value!r} has both an exponent and a scale suffix; write 1.3e9 or 1.3B, not both")
    return number * SUFFIXES[suffix.lower()] if suffix else number


def parse_column(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of values into floats.

    Parameters
    ----------
    values : array-like or pandas.Series
        Numbers or number strings.

    Returns
    -------
    numbers : numpy.ndarray of float
        Parsed values; NaN where a value is missing or could not be read.
    unparseable : numpy.ndarray of bool
        True where a value was present but could not be read as a number.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.full(len(series), np.nan), np.ones(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(series), dtype=bool)
    if pd.api.types.infer_dtype(series, skipna=True) in ("integer", "floating", "mixed-integer-float"):
        try:  # plain Python numbers in an object column (e.g. ints beyond int64)
            return np.array(series.tolist(), dtype=float), np.zeros(len(series), dtype=bool)
        except (OverflowError, TypeError, ValueError):
            pass
    out = np.empty(len(series), dtype=float)
    bad = np.zeros(len(series), dtype=bool)
    for i, value in enumerate(series.tolist()):
        try:
            out[i] = parse_number(value)
        except (ValueError, OverflowError):
            out[i] = np.nan
            bad[i] = True
    return out, bad


_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+(?:e[+-]?\d+)?\s*$", re.IGNORECASE)
_LOCALE = re.compile(r"^\s*[+-]?\d{1,3}(?:(?:\.\d{3})+,\d*|(?:\.\d{3}){2,}|(?:[ '\u00a0\u202f]\d{3})+(?:[.,]\d*)?)\s*$")
_ONE_GROUP = re.compile(r"^\s*[+-]?\d{1,3},\d{3}\s*$")


def locale_style(values: Any, *, ambiguous_is_decimal: bool = False) -> tuple[np.ndarray, str]:
    """Find number strings written with a decimal comma or locale grouping.

    Parameters
    ----------
    values : array-like
        Raw values of one column.
    ambiguous_is_decimal : bool
        Also flag ``"2,268"`` (one comma before three digits), which otherwise
        reads as thousands; right for a loss, where 2268 nats is never meant.

    Returns
    -------
    positions : numpy.ndarray of int
        Positions of the flagged values (empty when none).
    kind : str
        ``"decimal comma"`` or ``"locale grouping"`` (of the first flagged value).
    """
    positions, kinds = [], []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            continue
        if _LOCALE.match(v):
            positions.append(i)
            kinds.append("locale grouping")
        elif (_DECIMAL_COMMA.match(v) and not _GROUPED.match(v.strip())) or (ambiguous_is_decimal and _ONE_GROUP.match(v)):
            positions.append(i)
            kinds.append("decimal comma")
    return np.asarray(positions, dtype=np.int64), (kinds[0] if kinds else "")
