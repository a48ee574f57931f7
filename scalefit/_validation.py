"""All checks of user input live here.

Every function either returns the checked value or raises
:class:`~scalefit._errors.ScalefitInputError` with a message that says what
was wrong, where (column and 0-based row numbers of the user's input), what
was found and how to fix it.  Heuristic checks warn with a typed warning
instead of failing.  Other modules call these helpers rather than checking
input themselves; none of them uses ``assert``.  The heuristic warnings
live in :mod:`scalefit._input_warnings`.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import Option, ScalefitInputError

__all__ = [
    "NAN_POLICIES",
    "LOSS_UNITS",
    "READERS",
    "format_rows",
    "row_places",
    "current_row_places",
    "format_values",
    "check_option",
    "check_positive_scalar",
    "check_level",
    "check_positive_finite",
    "check_min_runs",
    "check_source_path",
    "check_not_empty",
    "check_unique_columns",
    "check_column_map",
    "check_columns_exist",
    "missing_columns_error",
    "row_problems",
    "raise_for_problems",
]

#: What ``columns=`` takes: a mapping source -> canonical name, or (source, canonical) pairs.
ColumnMap = Mapping[Any, Any] | Sequence[tuple[Any, Any]]

NAN_POLICIES = ("raise", "omit")
LOSS_UNITS = ("nats", "bits")

#: File suffix -> reader name.  Compressed files (``.gz``, ``.bz2``, ``.xz``,
#: ``.zip``, ``.zst``) are accepted for the text formats.
READERS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSION = (".gz", ".bz2", ".xz", ".zip", ".zst")

#: How many row numbers and values a message lists before summarising.
MAX_LISTED_ROWS = 10
MAX_LISTED_VALUES = 5


# ----------------------------------------------------------------- formatting
#: Where the rows being read sit in the user's source: ``("line", lines)`` for a file
#: (1-based line of each data row, the header being line 1) or ``("label", labels)``
#: for a DataFrame's index; set by :func:`row_places` while ``read_runs`` works.
_PLACES: ContextVar[tuple[str, Sequence[Any]] | None] = ContextVar("scalefit_row_places", default=None)


@contextmanager
def row_places(kind: str | None, places: Sequence[Any] | None) -> Iterator[None]:
    """Within this block, :func:`format_rows` also names each row's file line or index label."""
    token = _PLACES.set((kind, places) if kind and places is not None else None)
    try:
        yield
    finally:
        _PLACES.reset(token)


def current_row_places() -> tuple[str, Sequence[Any]] | None:
    """The ``(kind, places)`` that :func:`row_places` set, or None outside it (kept by Runs for later messages)."""
    return _PLACES.get()


def _listed(items: list[str], limit: int, total: int) -> str:
    if len(items) == 1:
        return items[0]
    if total <= limit:
        return ", ".join(items[:-1]) + f" and {items[-1]}"
    return ", ".join(items[:limit]) + ", ..."


def format_rows(rows: Iterable[int], limit: int = MAX_LISTED_ROWS) -> str:
    """Describe row numbers: ``"rows 3, 7 and 9"`` or ``"rows 1, 2, ... (25 rows in all)"``.

    Rows count data rows from 0.  While :func:`row_places` is active, a file's
    rows are named ``"data row 1 (file line 3)"`` (lines count from 1, the
    header included) and a DataFrame's ``"row 1 (index label 'b')"``.
    """
    rows = [int(r) for r in rows]
    if not rows:
        return "no rows"
    shown = rows[:limit] if len(rows) > limit else rows
    total = f" ({len(rows)} rows in all)" if len(rows) > limit else ""
    places = _PLACES.get()
    if places is not None and all(0 <= r < len(places[1]) for r in shown):
        kind, where = places
        if kind == "line":
            word = "data row" if len(rows) == 1 else "data rows"
            lines = "file line" if len(rows) == 1 else "file lines"
            return (f"{word} {_listed([str(r) for r in shown], limit, len(rows))} "
                    f"({lines} {_listed([str(where[r]) for r in shown], limit, len(rows))}){total}")
        word = "row" if len(rows) == 1 else "rows"
        labels = "index label" if len(rows) == 1 else "index labels"
        return (f"{word} {_listed([str(r) for r in shown], limit, len(rows))} "
                f"({labels} {_listed([repr(where[r]) for r in shown], limit, len(rows))}){total}")
    if len(rows) == 1:
        return f"row {rows[0]}"
    if len(rows) <= limit:
        return "rows " + ", ".join(map(str, rows[:-1])) + f" and {rows[-1]}"
    return "rows " + ", ".join(map(str, rows[:limit])) + f", ... ({len(rows)} rows in all)"


def format_values(values: Iterable[Any], limit: int = MAX_LISTED_VALUES) -> str:
    """Describe the distinct values found, in order of first appearance."""
    seen: list[str] = []
    for v in values:
        text = _show_value(v)
        if text not in seen:
            seen.append(text)
    more = f", ... ({len(seen)} distinct values)" if len(seen) > limit else ""
    return ", ".join(seen[:limit]) + more


def _show_value(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, str):
        return repr(v) if len(v) <= 40 else repr(v[:37] + "...")
    try:
        if v is not None and np.ndim(v) == 0 and np.isnan(v):
            return "NaN"
    except (TypeError, ValueError):
        pass
    text = repr(v.item() if isinstance(v, np.generic) else v)
    return text if len(text) <= 40 else text[:37] + "..."


def _names(items: Iterable[Any]) -> str:
    return ", ".join(repr(str(c)) for c in items)


# -------------------------------------------------------------- simple checks
def check_option(value: Any, name: str, allowed: Sequence[str]) -> str:
    """Check that ``value`` is one of ``allowed`` (e.g. ``nan_policy``).

    Raises
    ------
    ScalefitInputError
        Naming the option, the value found and the allowed values.
    """
    if not isinstance(value, str) or value not in allowed:
        raise ScalefitInputError(
            f"{name}={value!r} is not supported; use one of {_names(allowed)}.",
            option=name,
            values=[value],
        )
    return value


def check_positive_scalar(
    value: Any, name: str, *, allow_zero: bool = False, where: str | None = None, hint: str = ""
) -> float:
    """Check that ``value`` is one finite real number > 0 (>= 0 with ``allow_zero``); return it as a float.

    Numeric strings ("6") are read as numbers; booleans and anything else are
    refused.  ``where`` prefixes the message with the function at fault; ``hint``
    says how to fix the value.
    """
    pre = f"{where}: " if where else ""
    sign = ">= 0" if allow_zero else "> 0"
    tail = f" {hint}" if hint else ""
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise ScalefitInputError(
            f"{pre}{name} must be a finite number {sign}; found {value!r} ({type(value).__name__}).{tail}",
            option=name,
            values=[value],
        ) from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ScalefitInputError(
            f"{pre}{name} must be a finite number {sign}; found {value!r}.{tail}", option=name, values=[value]
        )
    return number


def check_integer(value: Any, name: str, *, minimum: int, where: str | None = None, hint: str = "",
                  options: Sequence[Option] = ()) -> int:
    """Check that ``value`` is an integer (not a bool, not 1.5, not "3") >= ``minimum``; return it as an int."""
    pre = f"{where}: " if where else ""
    tail = f" {hint}" if hint else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ScalefitInputError(
            f"{pre}{name} must be an integer >= {minimum}; found {value!r} ({type(value).__name__}).{tail}",
            option=name, values=[value], options=options,
        )
    return int(value)


def check_seed(seed: Any, *, where: str | None = None) -> int:
    """A seed: an integer >= 0 (numpy refuses negative seeds, floats and strings with its own errors)."""
    return check_integer(seed, "seed", minimum=0, where=where, hint="Pass a whole number such as seed=0.",
                         options=[Option("seed", "0")])


def check_n_jobs(n_jobs: Any, *, where: str | None = None) -> int:
    """Workers: a positive integer, or -1 for all cores."""
    pre = f"{where}: " if where else ""
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ScalefitInputError(
            f"{pre}n_jobs={n_jobs!r}: give a positive integer or -1 (all cores).", option="n_jobs", values=[n_jobs],
            options=(Option("n_jobs", repr(n_jobs)),),
        )
    return int(n_jobs)


def check_loss(loss: Any, allowed: Sequence[str]) -> str:
    """A fit objective's name, or ``"huber-asymmetric:K"`` with a finite over-prediction multiplier K > 0."""
    name, _, k = loss.partition(":") if isinstance(loss, str) else (loss, "", "")
    try:
        ok = name in allowed and (not k or (name == "huber-asymmetric" and 0 < float(k) < math.inf))
    except ValueError:
        ok = False
    if not ok:
        raise ScalefitInputError(
            f"loss must be one of {list(allowed)} (or 'huber-asymmetric:K', K > 0 the multiplier on over-predictions, "
            f"e.g. 'huber-asymmetric:4'); got {loss!r}.", option="loss", values=[loss])
    return loss


def check_level(level: Any, *, where: str | None = None) -> float:
    """Check that an interval level lies strictly between 0 and 1; return it as a float."""
    pre = f"{where}: " if where else ""
    ok = not isinstance(level, (bool, np.bool_)) and isinstance(level, (numbers.Real, np.integer, np.floating))
    if not (ok and 0 < float(level) < 1):
        raise ScalefitInputError(
            f"{pre}level must lie strictly between 0 and 1 (e.g. 0.95); got {level!r}.", option="level", values=[level]
        )
    return float(level)


def check_positive_finite(values: Any, name: str) -> np.ndarray:
    """Check that every entry of ``values`` is a finite number > 0.

    Parameters
    ----------
    values : scalar or array-like
        For instance ``n_params`` passed to a prediction.
    name : str
        Name of the argument, used in the message.

    Returns
    -------
    numpy.ndarray of float
        ``values`` as a float array of the same shape.

    Raises
    ------
    ScalefitInputError
        Naming the argument, the positions at fault and the values found.
    """
    try:
        if isinstance(values, (bool, np.bool_)) or (
            isinstance(values, np.ndarray) and values.dtype == bool
        ):
            raise TypeError
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ScalefitInputError(
            f"{name} must be numbers; found {values!r:.80}. Pass floats such as 1.3e9.", option=name
        ) from None
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        flat = np.flatnonzero(bad.ravel())
        where = "" if arr.ndim == 0 else f" at positions {', '.join(map(str, flat[:MAX_LISTED_ROWS]))}"
        found = format_values(arr.ravel()[flat])
        raise ScalefitInputError(
            f"{name} must be finite and > 0; found {found}{where}.",
            rows=flat if arr.ndim else None,
            values=arr.ravel()[flat[:MAX_LISTED_VALUES]].tolist(),
            option=name,
        )
    return arr


def check_min_runs(runs: Any, minimum: int, what: str) -> None:
    """Refuse to go on when there are too few runs for ``what``.

    Parameters
    ----------
    runs : Runs
        The runs at hand (after exclusions).
    minimum : int
        Fewest runs ``what`` can work with (for instance the number of free
        parameters of a law plus one).
    what : str
        What needs them, e.g. ``"law 'chinchilla' (5 free parameters)"``.

    Raises
    ------
    ScalefitInputError
        "too few runs for ..." with the counts.
    """
    n = int(runs.n_runs)
    if n < minimum:
        excluded = getattr(runs, "excluded", None)
        n_excl = 0 if excluded is None else len(excluded)
        extra = f" ({n_excl} row(s) were excluded; see Runs.excluded)" if n_excl else ""
        raise ScalefitInputError(
            f"too few runs for {what}: it needs at least {minimum}, but {n} "
            f"{'was' if n == 1 else 'were'} given{extra}. Add runs, fix parameters "
            "(fixed=...) or choose a law with fewer free parameters.",
            options=[Option("fixed", text="fixed=...")],
        )


# ------------------------------------------------------------ source & table
def check_source_path(path: Path) -> str:
    """Check that ``path`` is a readable file of a supported format; return the format."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION:
        suffixes = suffixes[:-1]
    fmt = READERS.get(suffixes[-1]) if suffixes else None
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        raise ScalefitInputError(
            f"no such file: {str(path)!r} (looked in {str(parent.resolve())!r}). Check the path.",
            values=[str(path)],
        )
    if path.is_dir():
        raise ScalefitInputError(f"{str(path)!r} is a directory; pass a file of runs.", values=[str(path)])
    if fmt is None:
        raise ScalefitInputError(
            f"cannot tell the format of {str(path)!r} from its suffix {''.join(path.suffixes)!r}; "
            f"supported suffixes are {', '.join(READERS)} (optionally compressed with "
            f"{', '.join(_COMPRESSION)}). Rename the file or read it with pandas and pass the DataFrame.",
            values=[str(path)],
        )
    return fmt


def check_not_empty(frame: Any, source: str) -> None:
    """Refuse a table with no rows or no columns."""
    if frame.shape[1] == 0 or len(frame) == 0:
        raise ScalefitInputError(
            f"{source} is empty ({len(frame)} rows, {frame.shape[1]} columns); "
            "it needs one row per run with at least two of n_params, n_tokens, flops, and a loss."
        )


def check_unique_columns(columns: Sequence[Any], source: str) -> None:
    """Refuse tables whose column names repeat (which column would be meant?)."""
    seen, dups = set(), []
    for c in columns:
        if c in seen and c not in dups:
            dups.append(c)
        seen.add(c)
    if dups:
        raise ScalefitInputError(
            f"{source} has repeated column names {_names(dups)}; rename them so each is unique.",
            values=dups,
        )


def missing_columns_error(
    what: str,
    available: Sequence[Any],
    hint: str = "",
    *,
    column: str | None = None,
    values: Sequence[Any] = (),
    option: str | None = None,
    options: Sequence[Option] = (),
) -> ScalefitInputError:
    """Build the error for a column that could not be found, listing those available.

    ``column``, ``values``, ``option`` and ``options`` become the error's fields
    (``options`` are the fixes ``hint`` suggests).
    """
    return ScalefitInputError(
        f"{what}. Available columns: {_names(available)}.{hint}",
        column=column,
        values=values,
        option=option,
        options=options,
    )


def check_columns_exist(names: Sequence[Any], available: Sequence[Any], argument: str) -> list:
    """Check that each of ``names`` (given by ``argument``) is a column."""
    missing = [n for n in names if n not in set(available)]
    if missing:
        raise missing_columns_error(
            f"{argument} names column(s) {_names(missing)} that the input does not have",
            available,
            column=str(missing[0]),
            values=missing,
            option=argument,
        )
    return list(names)


def check_column_map(
    columns: ColumnMap | None, available: Sequence[Any], targets: Sequence[str]
) -> dict:
    """Check an explicit ``columns={"source": "canonical"}`` mapping.

    ``columns`` may also be a sequence of ``(source, canonical)`` pairs (what a
    command line such as ``--columns "P=n_params,P=n_tokens"`` gives), so that a
    source named twice is refused rather than the last pair silently winning.

    Raises
    ------
    ScalefitInputError
        When the mapping is neither a dict nor pairs, a source column is mapped
        to two canonical names, a source column does not exist, a target is not
        canonical, or two sources map to one target.
    """
    if columns is None:
        return {}
    pairs = _column_pairs(columns)
    avail = set(available)
    first_target: dict = {}
    for src, target in pairs:
        if src in first_target and first_target[src] != target:
            raise ScalefitInputError(
                f"columns maps {src!r} to both {first_target[src]!r} and {target!r}; a column can be read as one "
                f"quantity only. Keep one of {src!r}={first_target[src]!r} and {src!r}={target!r}.",
                column=str(src),
                values=[first_target[src], target],
                option="columns",
            )
        first_target.setdefault(src, target)
    for src, target in pairs:
        if target not in targets:
            hint, fixes = "", []
            if src in targets and target in avail:
                swapped = f"{{{target!r}: {src!r}}}"
                hint = f" It maps SOURCE -> canonical; did you mean {swapped}?"
                fixes = [Option("columns", swapped, text=swapped)]
            raise ScalefitInputError(
                f"columns maps {src!r} to {target!r}, which is not a canonical column; "
                f"targets must be one of {_names(targets)}.{hint}",
                column=str(src),
                values=[target],
                option="columns",
                options=fixes,
            )
        if src not in avail:
            raise missing_columns_error(
                f"columns maps {src!r} to {target!r} but the input has no column {src!r}",
                available,
                column=str(src),
                option="columns",
            )
    seen: dict = {}
    for src, target in dict(pairs).items():
        if target in seen:
            raise ScalefitInputError(
                f"columns maps both {seen[target]!r} and {src!r} to {target!r}; map only one.",
                column=str(src),
                values=[seen[target], src],
                option="columns",
            )
        seen[target] = src
    return dict(pairs)


def _column_pairs(columns: Any) -> list[tuple[Any, Any]]:
    """``columns`` as a list of (source, canonical) pairs: a mapping's items, or the pairs given."""
    if isinstance(columns, Mapping):
        return list(columns.items())
    if isinstance(columns, Sequence) and not isinstance(columns, (str, bytes)):
        pairs = list(columns)
        if all(isinstance(p, Sequence) and not isinstance(p, (str, bytes)) and len(p) == 2 for p in pairs):
            return [(p[0], p[1]) for p in pairs]
    raise ScalefitInputError(
        f"columns must be a dict mapping source column -> canonical name, e.g. {{'Model Size': 'n_params'}} "
        f"(or a list of (source, canonical) pairs); found {type(columns).__name__}.",
        option="columns",
    )


# ------------------------------------------------------------- value checks
def row_problems(
    label: str,
    parsed: np.ndarray,
    unparseable: np.ndarray,
    *,
    allow_zero: bool = False,
) -> np.ndarray:
    """Describe what is wrong with each value of a numeric column.

    Parameters
    ----------
    label : str
        How to name the column in reasons, e.g. ``"n_params ('Model Size')"``.
    parsed, unparseable : numpy.ndarray
        From :func:`scalefit._numbers.parse_column`.
    allow_zero : bool
        Accept zero (for step counters); negative values are always refused.

    Returns
    -------
    numpy.ndarray of object
        One reason string per row, ``""`` where the value is valid.
    """
    reasons = np.full(len(parsed), "", dtype=object)
    with np.errstate(invalid="ignore"):
        nonpos = (parsed < 0) if allow_zero else (parsed <= 0)
    reasons[np.isnan(parsed)] = f"{label} is missing (NaN)"
    reasons[np.isinf(parsed)] = f"{label} is infinite"
    reasons[np.isfinite(parsed) & nonpos] = f"{label} is {'negative' if allow_zero else 'not positive'}"
    reasons[unparseable] = f"{label} is not a number"
    return reasons


def check_number_style(label: str, raw: Any, rows: np.ndarray, *, loss: bool = False) -> None:
    """Refuse decimal commas and locale-formatted numbers in a column (they would be misread or lost).

    For the loss (``loss=True``), ``"2,268"`` is taken as a decimal comma too:
    read as thousands it would be a loss of 2268 nats.
    """
    from ._numbers import locale_style

    where, kind = locale_style(raw, ambiguous_is_decimal=loss)
    if len(where) == 0:
        return
    found = [raw[i] for i in where[:MAX_LISTED_VALUES]]
    fix = ("write numbers with a decimal point (3.1, not 3,1)" if kind == "decimal comma"
           else "write numbers without thousands separators and with a decimal point (1234.5, not 1.234,5)")
    raise ScalefitInputError(
        f"column {label} holds number(s) written with a {kind} ({format_rows(rows[where])}; found "
        f"{format_values(found)}); scalefit does not guess locales. Re-export the file with the C/English locale, "
        f"or {fix}.",
        column=label, rows=rows[where], values=found,
    )


_KINDS = (
    ("is not a number", "non-numeric"),
    ("is missing (NaN)", "missing (NaN)"),
    ("is infinite", "infinite"),
    ("is not positive", "zero or negative"),
    ("is negative", "negative"),
)


def raise_for_problems(
    problems: Mapping[str, tuple[str, np.ndarray, Any]],
    rows: np.ndarray,
    *,
    derived: Sequence[str] = (),
) -> None:
    """Raise for the first column that has invalid values (``nan_policy='raise'``).

    Parameters
    ----------
    problems : dict
        Canonical name -> (source column, reasons per row, raw values per row).
    rows : numpy.ndarray of int
        Original row numbers.
    derived : sequence of str
        Canonical columns that were computed; their message says from what.
    """
    bad = {name: p for name, p in problems.items() if (p[1] != "").any()}
    if not bad:
        return
    name, (source, reasons, raw) = next(iter(bad.items()))
    mask = reasons != ""
    at = rows[mask]
    kinds = []
    for key, word in _KINDS:
        count = int(sum(key in r for r in reasons[mask]))
        if count:
            kinds.append(f"{count} {word}")
    label = f"column {source!r}" + ("" if source == name else f" (used as {name})")
    if name in derived:
        label = f"derived column {name!r}"
    others = [f"{p[0]!r}" for n, p in bad.items() if n != name]
    also = f" Column(s) {', '.join(others)} also have invalid values." if others else ""
    what = "finite numbers >= 0" if name == "step" else (
        "non-missing" if name == "run" else "finite numbers > 0")
    found = np.asarray(raw, dtype=object)[mask]
    raise ScalefitInputError(
        f"{label} must hold {what}, but {format_rows(at)} {'does' if len(at) == 1 else 'do'} not "
        f"({', '.join(kinds)}); values found: {format_values(found)}."
        f"{also} Fix these values, or pass nan_policy='omit' to exclude the rows "
        "(each is then listed in Runs.excluded with its reason).",
        column=str(source),
        rows=at,
        values=found[:MAX_LISTED_VALUES].tolist(),
        options=[Option("nan_policy", "'omit'")],
    )
