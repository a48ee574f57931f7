"""Reading runs: :func:`read_runs` turns a file, a DataFrame or records into validated :class:`Runs`.

Columns are recognised by alias (:data:`ALIASES`), values are parsed and
checked through :mod:`scalefit._validation`, and every exclusion is recorded
with the row number of the user's input.
"""
from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import _errors
from .. import _input_warnings as _w
from .. import _validation as _v
from .._errors import Option, ScalefitInputError
from .._numbers import parse_column
from ._columns import ALIASES, resolve_columns, resolve_run_id
from ._files import read_file as _read_file
from ._runs import CANONICAL, Runs
from ._trackers import is_sparse_history, is_wandb_export, reshape_export, to_pandas
from ._tracked import open_tracker

__all__ = ["read_runs", "as_runs", "ALIASES", "SYNTHETIC_PREFIX"]

#: ``read_runs("synthetic:isoflop")`` / ``"synthetic:curves"`` read the bundled
#: synthetic examples (:func:`scalefit.datasets.synthetic_path`).
SYNTHETIC_PREFIX = "synthetic:"

_RESERVED = ("row", "run", "step") + CANONICAL
_RUN_SEP = "|"
_SPARSE_REASON = "no loss logged on this row (W&B history: other metrics at this step)"
#: Labels of sources whose ``attrs`` are the user's, not notes scalefit's readers left.
_OWNED_ATTRS = ("DataFrame",)
#: ``read_runs("-")`` reads the table from standard input (the CLI's ``scalefit fit -``).
STDIN = "-"


def as_runs(runs: Any) -> "Runs":
    """``runs`` itself when it is a :class:`Runs`, else ``read_runs(runs)``.

    The one place where an analysis turns what the user gave (a path, a
    DataFrame, records) into :class:`Runs`.
    """
    if isinstance(runs, Runs):
        return runs
    return read_runs(runs)


def read_runs(
    source: str | PathLike | pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Sequence] | Runs,
    *,
    columns: _v.ColumnMap | None = None,
    run_id: str | Sequence[str] | None = None,
    nan_policy: Literal["raise", "omit"] = "raise",
    loss_unit: Literal["nats", "bits"] = "nats",
    flops_per_param_token: float = 6.0,
    drop_duplicates: bool = False,
    use_non_embedding: bool = False,
    step: str | None = None,
    exclude: str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]] | None = None,
    drop_highest: int | None = None,
) -> Runs:
    """Read training runs into canonical, validated form.

    Parameters
    ----------
    source : path, DataFrame, list of dicts, dict of columns or Runs
        A CSV, TSV, JSON (records), JSONL or Parquet file (chosen by suffix;
        text formats may be compressed, e.g. ``.csv.gz``); ``"synthetic:isoflop"``
        or ``"synthetic:curves"`` for the bundled synthetic examples (see
        :func:`scalefit.datasets.synthetic_path`); a DataFrame (never
        modified); a list of dicts, one per row; or a :class:`Runs`, which is
        returned as it is (the other options are then ignored).  Also an
        MLflow experiment, ``"mlflow://HOST:PORT/<experiment>"``, and a folder
        of TensorBoard event files (see :func:`scalefit.read_mlflow` and
        :func:`scalefit.read_tensorboard`).
    columns : dict, optional
        Explicit map source column -> canonical name (``n_params``,
        ``n_tokens``, ``flops``, ``loss``, ``step``).  It wins over the
        aliases, which otherwise recognise names such as ``"Model Size"``,
        ``"N"``, ``"tokens"``, ``"D"``, ``"Training FLOP"``, ``"C"``,
        ``"val_loss"`` (see :data:`ALIASES`; matching ignores case, spaces,
        ``_``, ``-``, ``/``).  When several columns match one canonical name,
        the highest-priority alias is used and the choice is recorded in
        ``Runs.column_map`` and ``Runs.notes`` (which say whether the other
        columns' values differ and how to choose one of them).  A list of
        ``(source, canonical)`` pairs is accepted too; a source mapped to two
        canonical names is refused.
    run_id : str or list of str, optional
        Column(s) identifying a training run.  The table then gets a string
        ``run`` key (values joined by ``"|"``) and a ``step``; the id columns
        are kept.  Without it, a column named ``run``, ``run_id`` or
        ``run_name`` is used when present.
    nan_policy : {"raise", "omit"}
        What to do with missing, infinite, non-positive or non-numeric
        ``n_params``, ``n_tokens``, ``flops``, ``loss`` (and negative
        ``step``): raise an error naming them, or exclude those rows, record
        each in ``Runs.excluded`` with its reason and warn.
    loss_unit : {"nats", "bits"}
        Unit of the loss; bits are converted to nats (times ln 2).
    flops_per_param_token : float
        k in C = k * N * D, used to derive the one missing quantity among N,
        D and C, and to check them when all three are given.
    drop_duplicates : bool
        Exclude rows that exactly duplicate an earlier row.  Duplicates are
        reported either way (warning, ``Runs.duplicates``, summary).
    use_non_embedding : bool
        Prefer non-embedding parameter (and FLOP) columns such as
        ``N_no_emb`` / ``C_no_emb``; an error when none is found.
    step : str, optional
        Column holding the checkpoint step; otherwise an alias (``step``,
        ``global_step``, ``current_steps``, ...) or, for curves, the order of
        ``n_tokens`` within each run (starting at 0).

    exclude : str, mapping or list of them, optional
        Rows to exclude after reading, each recorded in ``Runs.excluded`` with
        its reason: an expression over the canonical columns (``"loss > 4"``)
        or ``{column: value or values}`` (a QC flag); see :meth:`Runs.exclude`.
    drop_highest : int, optional
        Exclude the ``k`` rows with the highest loss (the replication of
        Besiroglu et al. 2024 drops 5).

    Returns
    -------
    Runs
        Table with ``row`` (0-based row of the input: the first data row of
        a file is row 0), ``n_params``, ``n_tokens``, ``flops``, ``loss``,
        ``run``/``step`` for curves, and the other input columns.

    Raises
    ------
    ScalefitInputError
        For a missing or unsupported file, empty input, columns that cannot be
        found (the message lists those available), two or more of N, D, C
        missing, unreadable numbers, and (with ``nan_policy="raise"``) invalid
        values.

    Warns
    -----
    DuplicateRowsWarning
        Exact duplicate rows.
    ExcludedRowsWarning
        Rows excluded under ``nan_policy="omit"`` or ``drop_duplicates``.
    InconsistentFlopsWarning
        C differs from k * N * D by more than 10% on some row.
    UnitsWarning
        Median N below 1e4 (params in millions?), loss above 20 (perplexity?),
        a run with fewer than 1e6 tokens (tokens in billions?) or 1e12 FLOPs
        (FLOPs in PF-days?); curves are judged by each run's last checkpoint.

    Examples
    --------
    >>> import scalefit
    >>> runs = scalefit.read_runs([
    ...     {"Model Size": "70M", "Training FLOP": 4.2e18, "loss": 3.1},
    ...     {"Model Size": "1.3B", "Training FLOP": 7.8e19, "loss": 2.6},
    ... ])
    >>> runs.derived
    ('n_tokens',)
    >>> float(runs.n_tokens[0])
    10000000000.0
    """
    if isinstance(source, Runs):
        return source
    _v.check_option(nan_policy, "nan_policy", _v.NAN_POLICIES)
    _v.check_option(loss_unit, "loss_unit", _v.LOSS_UNITS)
    k = _v.check_positive_scalar(flops_per_param_token, "flops_per_param_token")

    tracked = open_tracker(source, columns=columns, use_non_embedding=use_non_embedding, nan_policy=nan_policy)
    frame, label = tracked if tracked is not None else _load(source)
    places = frame.attrs.pop("scalefit_lines", None) if label not in _OWNED_ATTRS else None
    file_notes = list(frame.attrs.pop("scalefit_notes", ())) if label not in _OWNED_ATTRS else []
    labels = None
    if isinstance(source, pd.DataFrame) and not source.index.equals(pd.RangeIndex(len(source))):
        labels = list(source.index)  # messages then name the user's index labels
    frame, export_notes, rows_changed = reshape_export(frame)
    if rows_changed:  # a melted chart panel: rows are (run, step) pairs, not lines of the file
        places, labels = None, None
    frame.attrs["scalefit_notes"] = file_notes + export_notes
    with _v.row_places("line" if places is not None else "label" if labels is not None else None,
                       places if places is not None else labels):
        return _read(frame, label, columns=columns, run_id=run_id, nan_policy=nan_policy, loss_unit=loss_unit,
                     k=k, drop_duplicates=drop_duplicates, use_non_embedding=use_non_embedding, step=step,
                     exclude=exclude, drop_highest=drop_highest)


def _read(frame: pd.DataFrame, label: str, *, columns: Any, run_id: Any, nan_policy: str, loss_unit: str, k: float,
          drop_duplicates: bool, use_non_embedding: bool, step: Any, exclude: Any = None,
          drop_highest: int | None = None) -> Runs:
    """The body of :func:`read_runs` once the source is a DataFrame we own."""
    _v.check_not_empty(frame, label)
    _v.check_unique_columns(list(frame.columns), label)
    available = list(frame.columns)
    rows = np.arange(len(frame), dtype=np.int64)

    mapping, notes = resolve_columns(available, columns, step=step, use_non_embedding=use_non_embedding, frame=frame)
    notes[:0] = list(frame.attrs.pop("scalefit_notes", ()))
    run_cols, run_note = resolve_run_id(run_id, available, tracker=is_wandb_export(available))
    if run_note:
        notes.append(run_note)

    present = [c for c in CANONICAL if c in mapping.values()]
    missing = [c for c in CANONICAL if c not in present]
    if "loss" in missing:
        raise _v.missing_columns_error(
            "no loss column found (looked for " + ", ".join(repr(a) for a in ALIASES["loss"]) + ")",
            available,
            " Map yours with columns={'<name>': 'loss'}.",
            column="loss",
            options=[Option("columns", "{'<name>': 'loss'}")],
        )
    missing_size = [c for c in missing if c != "loss"]
    # with the token multiplier M = D/N, one size column is enough: the first missing one comes from M
    via_multiplier = missing_size.pop(0) if len(missing_size) == 2 and "tokens_per_param" in mapping.values() else None
    if len(missing_size) > 1:
        looked = "; ".join(f"{c}: " + ", ".join(repr(a) for a in ALIASES[c]) for c in missing_size)
        raise _v.missing_columns_error(
            f"found no column for {' and '.join(missing_size)}; two of n_params, n_tokens and flops "
            f"are needed (the third is derived from flops = k * n_params * n_tokens). Looked for {looked}",
            available,
            " Map yours with columns={'<name>': '<canonical>'}.",
            column=missing_size[0],
            options=[Option("columns", "{'<name>': '<canonical>'}")],
        )
    source_of = {target: src for src, target in mapping.items()}

    # ---- duplicates (identical across every input column)
    duplicate_of = _find_duplicates(frame)

    # ---- parse and screen values
    values: dict[str, np.ndarray] = {}
    problems: dict[str, tuple[str, np.ndarray, Any]] = {}
    for name in CANONICAL + ("step", "unique_tokens", "tokens_per_param"):
        if name not in source_of:
            continue
        src = source_of[name]
        raw = frame[src]
        parsed, unparseable = parse_column(raw)
        values[name] = parsed
        label_col = name if str(src) == name else f"{name} ({str(src)!r})"
        if (unparseable.any() or name == "loss") and not pd.api.types.is_numeric_dtype(raw.dtype):
            # only strings can be written in a locale style: a numeric column is skipped, not scanned value by value
            _v.check_number_style(repr(str(src)), raw.to_numpy(dtype=object), rows, loss=name == "loss")
        why = _v.row_problems(label_col, parsed, unparseable, allow_zero=name == "step")
        # the raw values are shown only for rows with a problem: a clean column is not copied into Python objects
        problems[name] = (src, why, raw.to_numpy(dtype=object) if (why != "").any() else raw.to_numpy())
    if run_cols:
        missing_id = frame[run_cols].isna().any(axis=1).to_numpy()
        reasons = np.where(missing_id, f"run id ({', '.join(map(str, run_cols))}) is missing", "").astype(object)
        raw_ids = np.empty(len(rows), dtype=object)
        for i in np.flatnonzero(missing_id):  # only the values a message may show
            raw_ids[i] = tuple(frame[run_cols].iloc[i]) if len(run_cols) > 1 else frame[run_cols[0]].iloc[i]
        problems["run"] = (", ".join(map(str, run_cols)), reasons, raw_ids)

    sparse = np.zeros(len(rows), dtype=bool)
    if is_sparse_history(available):  # W&B history: each row logs some metrics at one step
        sparse = frame[source_of["loss"]].isna().to_numpy()
        if sparse.all():
            raise ScalefitInputError(
                f"the W&B history export {label} logs no value of the loss column {str(source_of['loss'])!r} "
                "on any row; map the column that holds the loss with columns={'<name>': 'loss'}.",
                column="loss", options=[Option("columns", "{'<name>': 'loss'}")],
            )
        for name, (src, why, raw_values) in problems.items():
            problems[name] = (src, np.where(sparse, "", why).astype(object), raw_values)
        if sparse.any():
            notes.append(f"W&B history export: {int(sparse.sum())} of {len(rows)} rows log no "
                         f"{str(source_of['loss'])!r} (other metrics at those steps); set aside in Runs.excluded")

    derived: tuple = ()
    if via_multiplier is not None:
        derived = _from_multiplier(via_multiplier, values, problems, rows, k, notes)
    if missing_size:
        (target,) = missing_size
        derived = derived + (target,)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if target == "flops":
                values["flops"] = k * values["n_params"] * values["n_tokens"]
            elif target == "n_tokens":
                values["n_tokens"] = values["flops"] / (k * values["n_params"])
            else:
                values["n_params"] = values["flops"] / (k * values["n_tokens"])
        inputs_ok = np.all([problems[c][1] == "" for c in CANONICAL + ("tokens_per_param",) if c in problems], axis=0)
        parts = [c for c in ("n_params", "n_tokens", "flops") if c != target]
        reasons = _v.row_problems(
            f"derived {target} (from {' and '.join(parts)})", values[target], np.zeros(len(rows), bool)
        )
        reasons[~inputs_ok | sparse] = ""
        problems[target] = (target, reasons, values[target].astype(object))

    if nan_policy == "raise":
        _v.raise_for_problems(problems, rows, derived=derived)

    reasons = _join_reasons([p[1] for p in problems.values()], len(rows))
    reasons[sparse] = _SPARSE_REASON
    if drop_duplicates:
        for r, first in duplicate_of.items():
            why_dup = f"exact duplicate of {_v.format_rows([first])}"
            reasons[r] = f"{reasons[r]}; {why_dup}" if reasons[r] else why_dup
    keep = reasons == ""
    _w.warn_duplicates(duplicate_of, dropped=drop_duplicates)
    if not keep.any():
        raise ScalefitInputError(
            f"every one of the {len(rows)} rows of {label} is invalid, e.g. row 0: {reasons[0]}. "
            "Fix the values or the column mapping (see the columns found: "
            + ", ".join(f"{s!r} -> {t}" for s, t in mapping.items()) + ")."
        )
    excluded = _excluded_frame(frame, rows[~keep], reasons[~keep])
    shown = ~keep & ~sparse  # the set-aside history rows are named once, in a note
    _w.warn_excluded(rows[shown], reasons[shown])

    # ---- clean values only from here on
    clean = {name: v[keep] for name, v in values.items()}
    if loss_unit == "bits":
        clean["loss"] = clean["loss"] * math.log(2.0)
        notes.append("loss converted from bits to nats (multiplied by ln 2)")
    if not derived:
        _w.warn_inconsistent_flops(
            clean["n_params"], clean["n_tokens"], clean["flops"], k, rows[keep]
        )
    _w.warn_units(clean["n_params"], clean["loss"])

    table = pd.DataFrame({"row": rows[keep]})
    kept_frame = frame.loc[keep].reset_index(drop=True)
    if run_cols:
        table["run"] = _run_keys(kept_frame, run_cols)
        if "step" in clean:
            table["step"] = _as_int_if_integral(clean.pop("step"))
        else:
            table["step"] = _step_from_tokens(table["run"], clean["n_tokens"])
            notes.append("step: order of n_tokens within each run (no step column found)")
    elif "step" in clean:
        _w.warn_step_without_run(source_of["step"], clean["step"])
        table["step"] = _as_int_if_integral(clean.pop("step"))
    for name in CANONICAL:
        table[name] = clean[name]
    for name in ("n_tokens", "flops"):  # a column read, not derived: derived ones inherit its unit
        if name not in derived:
            _w.warn_magnitudes(name, source_of[name], clean[name], rows[keep],
                               runs=table["run"].to_numpy() if "run" in table else None,
                               derived=[d for d in derived if d in CANONICAL and d != name])
    if "step" in table and "run" in table:
        _warn_repeated_steps(table, set(duplicate_of))
    if "unique_tokens" in clean:
        table["unique_tokens"] = clean["unique_tokens"]
    if "tokens_per_param" in clean:
        table["tokens_per_param"] = clean["tokens_per_param"]

    mapped_sources = set(mapping)
    for col in available:
        if col in mapped_sources and col not in run_cols:
            continue
        if run_cols == [col] and str(col) == "run":  # its values are the run key already
            continue
        name = col
        if str(col) in _RESERVED or col in table.columns:
            name = _free_name(f"{col}_input", table.columns)
            notes.append(f"input column {str(col)!r} renamed {name!r} (its name is reserved)")
        table[name] = kept_frame[col].to_numpy()

    column_map = {src: target for src, target in mapping.items()}
    runs = Runs(
        table=table,
        excluded=excluded,
        derived=derived,
        column_map=column_map,
        duplicate_rows=tuple(duplicate_of),
        source=label,
        flops_per_param_token=k,
        duplicate_of=dict(duplicate_of),
        run_id=tuple(str(c) for c in run_cols),
        notes=tuple(notes),
        row_places=_kept_places(),
    )
    filters = [] if exclude is None else ([exclude] if isinstance(exclude, (str, Mapping)) else list(exclude))
    for item in filters:
        runs = runs.exclude(item)
    return runs.exclude(highest_loss=drop_highest) if drop_highest else runs


# ------------------------------------------------------------------- helpers
def _kept_places() -> tuple | None:
    """The file lines (a range, or an int64 array) or index labels :func:`read_runs` names rows by, for Runs to keep."""
    active = _v.current_row_places()
    if active is None:
        return None
    kind, places = active
    if kind != "line":
        return kind, places
    if len(places) and places[-1] - places[0] == len(places) - 1:  # strictly increasing: no blank or quoted lines
        return kind, range(places[0], places[-1] + 1)  # the usual file: kept in O(1) memory
    return kind, np.asarray(places, dtype=np.int64)


def _load(source: Any) -> tuple[pd.DataFrame, str]:
    """Read ``source`` into a DataFrame we own, plus a label for messages."""
    converted = to_pandas(source)
    if converted is not None:
        return converted, f"{type(source).__module__.split('.')[0]} {type(source).__name__}"
    if isinstance(source, str) and source == STDIN:
        import sys

        from ._files import read_stream

        return read_stream(sys.stdin), "standard input"
    if isinstance(source, pd.DataFrame):
        if isinstance(source.columns, pd.MultiIndex):
            raise ScalefitInputError(
                "the DataFrame has MultiIndex columns; flatten them (e.g. with '_'.join) first."
            )
        return source.reset_index(drop=True).copy(deep=True), "DataFrame"
    if isinstance(source, str) and source.startswith(SYNTHETIC_PREFIX):
        from ..datasets.data import SYNTHETIC_FILES, data_file

        name = source[len(SYNTHETIC_PREFIX):]
        if name not in SYNTHETIC_FILES:
            known = ", ".join(repr(SYNTHETIC_PREFIX + k) for k in SYNTHETIC_FILES)
            raise ScalefitInputError(
                f"unknown bundled data set {source!r}; use one of {known}, or give a path.", values=[source]
            )
        path = data_file(SYNTHETIC_FILES[name])
        return _read_file(path, _v.check_source_path(path)), source
    if isinstance(source, (str, PathLike)):
        path = Path(source).expanduser()
        fmt = _v.check_source_path(path)
        return _read_file(path, fmt), str(source)
    if isinstance(source, Mapping):
        try:
            return pd.DataFrame({k: list(v) for k, v in source.items()}), "dict of columns"
        except (TypeError, ValueError) as exc:
            raise ScalefitInputError(
                f"could not build a table from the dict of columns: {exc}. Give equal-length lists."
            ) from None
    if isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        for i, item in enumerate(source):
            if not isinstance(item, Mapping):
                raise ScalefitInputError(
                    f"item {i} of the list is a {type(item).__name__}, not a dict; pass a list of "
                    "dicts, one per row, e.g. [{'n_params': 7e7, 'n_tokens': 1.4e9, 'loss': 3.2}]."
                )
        return pd.DataFrame.from_records(list(source)), "list of dicts"
    raise ScalefitInputError(
        f"cannot read runs from a {type(source).__name__}; pass a path (CSV, TSV, JSON, JSONL, "
        "Parquet), '-' for standard input, a pandas, polars or pyarrow table, a list of dicts or a Runs."
    )


def _from_multiplier(target: str, values: dict, problems: dict, rows: np.ndarray, k: float,
                     notes: list) -> tuple:
    """Derive ``target`` (n_params or n_tokens) from the token multiplier M = D/N and the one size column given."""
    m = values["tokens_per_param"]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if "flops" in values:  # C = k N D = k M N^2
            other, values[target] = "flops", (np.sqrt(values["flops"] / (k * m)) if target == "n_params"
                                              else np.sqrt(values["flops"] * m / k))
        elif target == "n_tokens":
            other, values[target] = "n_params", m * values["n_params"]
        else:
            other, values[target] = "n_tokens", values["n_tokens"] / m
    reasons = _v.row_problems(f"derived {target} (from tokens_per_param and {other})", values[target],
                              np.zeros(len(rows), bool))
    inputs_ok = np.all([problems[c][1] == "" for c in ("tokens_per_param", other) if c in problems], axis=0)
    reasons[~inputs_ok] = ""
    problems[target] = (target, reasons, values[target].astype(object))
    notes.append(f"{target} derived from tokens_per_param (M = D/N) and {other}"
                 + (f" with flops = {k:g} N D" if other == "flops" else ""))
    return (target,)


def _warn_repeated_steps(table: pd.DataFrame, exact_duplicates: set) -> None:
    """Warn when a run logs one step more than once (a resumed run re-logging its last checkpoints).

    A repeat is the same run, step and token count (the same checkpoint) on two rows; rows that
    exactly duplicate another are reported as duplicates already and not counted here.
    """
    table = table[~table["row"].isin(exact_duplicates)]
    repeated = table.duplicated(["run", "step", "n_tokens"], keep=False).to_numpy()
    if not repeated.any():
        return
    sub = table.loc[repeated, ["run", "step", "row"]]
    runs = list(dict.fromkeys(sub["run"]))
    shown = ", ".join(
        f"run {r!r} step {int(g['step'].iloc[0]) if float(g['step'].iloc[0]).is_integer() else g['step'].iloc[0]}"
        f" ({_v.format_rows(g['row'].tolist(), limit=4)})"
        for (r, _), g in list(sub.groupby(["run", "step"], sort=False))[:3]
    )
    # a resumed run logs its last checkpoints again, never its first: runs that repeat their first step are
    # several runs under one id
    first = table["step"].to_numpy() == table.groupby("run")["step"].transform("min").to_numpy()
    joined = table.loc[repeated & first, "run"].unique()
    if 2 * len(joined) >= len(runs):
        _errors.warn(
            f"{int(repeated.sum())} of {len(table)} rows repeat a step within their run ({len(runs)} run(s): {shown}); "
            f"{len(joined)} of these runs repeat even their first step, so the run id joins several runs (e.g. two "
            "learning rates or seeds of one model): add the column that tells them apart to run_id. Curve analyses "
            "would otherwise see several losses at one point.",
            _errors.RepeatedStepsWarning,
            options=[Option("run_id", "[...]")],
        )
        return
    _errors.warn(
        f"{int(repeated.sum())} rows repeat a step within their run ({len(runs)} run(s): {shown}); a resumed run "
        "logs its last checkpoints twice, and curve analyses then see two losses at one point. Keep one row per "
        "step (e.g. exclude= the older rows) or give the resumed part its own run id.",
        _errors.RepeatedStepsWarning,
        options=[Option("exclude", "'<expression>'")],
    )


def _find_duplicates(frame: pd.DataFrame) -> dict[int, int]:
    """Row -> earlier row it duplicates, for rows identical across every column."""
    try:
        keyed = frame
        dup_any = keyed.duplicated(keep=False).to_numpy()
    except TypeError:  # unhashable cells (lists in JSON)
        keyed = frame.astype(str)
        dup_any = keyed.duplicated(keep=False).to_numpy()
    if not dup_any.any():
        return {}
    positions = np.flatnonzero(dup_any)
    sub = keyed.iloc[positions].reset_index(drop=True)
    groups = sub.groupby(list(sub.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = pd.Series(positions).groupby(groups).transform("min").to_numpy()
    return {int(p): int(f) for p, f in zip(positions, first) if p != f}


def _join_reasons(columns: list[np.ndarray], n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for reasons in columns:
        for i in np.flatnonzero(reasons != ""):
            out[i] = reasons[i] if not out[i] else f"{out[i]}; {reasons[i]}"
    return out


def _excluded_frame(frame: pd.DataFrame, rows: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame({"row": pd.Series(rows, dtype="int64"), "reason": pd.Series(list(reasons), dtype=object)})
    original = frame.iloc[rows].reset_index(drop=True)
    for col in original.columns:
        name = col if col not in ("row", "reason") else _free_name(f"{col}_input", out.columns)
        out[name] = original[col].to_numpy()
    return out


def _free_name(name: str, taken: Any) -> str:
    taken = set(map(str, taken))
    while name in taken:
        name += "_"
    return name


def _run_keys(frame: pd.DataFrame, cols: list) -> np.ndarray:
    parts = []
    for c in cols:
        codes, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        texts = np.array([_key_text(u) for u in uniques] + ["<missing>"], dtype=object)
        parts.append(texts[codes])  # code -1 (missing) picks "<missing>"; such rows are excluded earlier
    keys = parts[0]
    for p in parts[1:]:
        keys = keys + _RUN_SEP + p
    return keys


def _key_text(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v.item() if isinstance(v, np.generic) else v)


def _as_int_if_integral(values: np.ndarray) -> np.ndarray:
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.all(np.abs(values) < 2**62):
        return values.astype(np.int64)
    return values


def _step_from_tokens(run: pd.Series, n_tokens: np.ndarray) -> np.ndarray:
    helper = pd.DataFrame({"run": run.to_numpy(), "n_tokens": n_tokens, "pos": np.arange(len(run))})
    helper = helper.sort_values(["run", "n_tokens", "pos"], kind="mergesort")
    helper["step"] = helper.groupby("run", sort=False).cumcount()
    return helper.sort_values("pos")["step"].to_numpy(dtype=np.int64)
