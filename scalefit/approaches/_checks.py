"""Input checks and warnings shared by Approaches 1 and 2 (private).

Each check names the function at fault (``what``), the option, the value found
and how to fix it; each raises :class:`~scalefit._errors.ScalefitInputError`.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from .._errors import IsoFLOPWarning, Option, ScalefitInputError, warn
from .._validation import check_level

#: Flags a budget (Approach 2) or a frontier point (Approach 1) can carry.
FLAGS = ("edge", "off_center", "non_convex")

#: Options the approaches' messages suggest, as the messages write them.
SUGGESTED = (
    Option("group_by", "[...]"),
    Option("best_per_size", "True"),
    Option("budget", "'<column>'"),
    Option("exclude_flags", "()"),
    Option("final_only", "True"),
    Option("run_id", text="read_runs(..., run_id=[...])"),
)


def suggested_in(text: str) -> list[Option]:
    """The options of :data:`SUGGESTED` that ``text`` names (verbatim)."""
    return [o for o in SUGGESTED if o.api() in text]


def warn_notes(notes: list[str]) -> None:
    """One :class:`IsoFLOPWarning` holding every note, with the options they suggest."""
    if notes:
        text = "\n".join(notes)
        warn(text, IsoFLOPWarning, options=suggested_in(text))


def check_int(what: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ScalefitInputError(f"{what}: {name} must be an integer >= {minimum}; got {value!r}.", option=name)
    return int(value)


def check_bool(what: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ScalefitInputError(f"{what}: {name} must be True or False; got {value!r}.", option=name)
    return bool(value)


def check_levels(what: str, level: Any) -> tuple[float, ...]:
    levels = (level,) if np.isscalar(level) else tuple(level)
    out = [check_level(lv, where=what) for lv in levels]
    if not out:
        raise ScalefitInputError(f"{what}: level is empty; pass a level such as 0.95 or (0.68, 0.95).", option="level")
    return tuple(out)


def check_flags(what: str, exclude_flags: Any) -> tuple[str, ...]:
    flags = (exclude_flags,) if isinstance(exclude_flags, str) else tuple(exclude_flags)
    bad = [f for f in flags if f not in FLAGS]
    if bad:
        raise ScalefitInputError(
            f"{what}: exclude_flags holds unknown flag(s) {bad}; choose from {', '.join(FLAGS)}.",
            option="exclude_flags", values=bad,
        )
    return flags


def check_seed(what: str, seed: Any) -> int | None:
    if seed is None:
        return None
    return check_int(what, "seed", seed, 0)


def check_columns(what: str, name: str, cols: Any) -> tuple[str, ...]:
    """A column name or list of names as a tuple (empty for None)."""
    if cols is None:
        return ()
    cols = (cols,) if isinstance(cols, str) else tuple(cols) if isinstance(cols, (list, tuple)) else (cols,)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ScalefitInputError(
            f"{what}: {name} must be a column name or a list of column names; got {cols!r}.", option=name
        )
    return cols


def require_columns(what: str, option: str, table: pd.DataFrame, cols: Iterable[str]) -> None:
    missing = [c for c in cols if c not in table.columns]
    if missing:
        user = [c for c in table.columns if c not in ("row",)]
        raise ScalefitInputError(
            f"{what}: {option} names column(s) {missing} that the runs do not have; "
            f"available columns are {user}. Keep the column when reading the runs, or fix the name.",
            column=missing[0],
            option=option,
        )


def refuse_missing(what: str, option: str, table: pd.DataFrame, col: str) -> None:
    bad = table[col].isna().to_numpy()
    if bad.any():
        rows = table.loc[bad, "row"].tolist() if "row" in table else np.flatnonzero(bad).tolist()
        raise ScalefitInputError(
            f"{what}: {option} column {col!r} is missing a value in {int(bad.sum())} row(s) "
            f"(rows {rows[:10]}{' ...' if len(rows) > 10 else ''}). Fill them in or drop those rows first.",
            column=col,
            rows=rows,
            option=option,
        )


def row_numbers(table: pd.DataFrame) -> np.ndarray:
    """The recorded row numbers of ``table`` (its ``row`` column), else positions."""
    return table["row"].to_numpy() if "row" in table else np.arange(len(table))
