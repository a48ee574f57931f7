"""The validated runs: :class:`Runs` (the canonical table) and :class:`RunsSummary`.

The canonical table has one row per observation with the columns
``n_params``, ``n_tokens``, ``flops``, ``loss`` and, for training curves,
``run`` and ``step``.  Other user columns are kept for grouping.  Column
``row`` holds each observation's row number in the user's original input, so
every message and every exclusion can point back at it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._errors import Option, ScalefitInputError
from .._validation import MAX_LISTED_ROWS, format_rows, row_places

__all__ = ["Runs", "RunsSummary", "CANONICAL"]

CANONICAL = ("n_params", "n_tokens", "flops", "loss")


def _eval_mask(table: pd.DataFrame, expr: str) -> np.ndarray:
    """The boolean row mask of ``expr`` over ``table``; a clear error when it fails or is not boolean."""
    try:
        out = table.eval(expr)
    except Exception as exc:  # pandas raises many types for a bad expression
        raise ScalefitInputError(
            f"exclude expression {expr!r} cannot be evaluated ({type(exc).__name__}: {exc}); write a condition over "
            f"the columns {list(table.columns)}, e.g. 'loss > 4' (quote names with spaces in backticks).",
            option="exclude", options=[Option("exclude", text="exclude='loss > 4'")],
        ) from None
    values = np.asarray(out)
    if values.shape != (len(table),) or values.dtype != bool:
        raise ScalefitInputError(
            f"exclude expression {expr!r} must give True or False per row; it gave {values.dtype} of shape {values.shape}.",
            option="exclude",
        )
    return values


@dataclass(frozen=True, eq=False)
class Runs:
    """Validated runs in canonical form.

    Do not build this directly; use :func:`scalefit.read_runs`.

    Attributes
    ----------
    table : pandas.DataFrame
        Canonical table (a private copy; never the caller's frame).
    excluded : pandas.DataFrame
        Rows excluded from ``table``, with the original ``row`` number and a
        ``reason`` column.  Empty when nothing was excluded.
    derived : tuple of str
        Canonical columns computed rather than read (e.g. ``("n_tokens",)``).
    column_map : dict
        Source column -> canonical column, as resolved.
    duplicate_rows : tuple of int
        Original row numbers that exactly duplicate an earlier row.
    source : str
        Where the runs came from (path or ``"DataFrame"``).
    flops_per_param_token : float
        The k of C = k * N * D used to derive or check FLOPs.
    duplicate_of : dict
        Original row number -> row number of the earlier row it duplicates.
    run_id : tuple of str
        Input columns that identify a run (training curves); empty otherwise.
    notes : tuple of str
        What ingestion did besides mapping columns: unit conversions, alias
        choices among several candidates, renamed columns.
    row_places : tuple, optional
        ``("line", lines)`` (the 1-based file line of each input row) or
        ``("label", labels)`` (a DataFrame's index label of each input row), as
        the errors on reading named them; None when the input had neither.
        :meth:`format_rows` and the summary name rows this way.
    selected : tuple of str
        Row selections that are not exclusions (:meth:`final` keeping the last
        checkpoint of each run), each with how many rows it kept and left out.
    """

    table: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    derived: tuple = ()
    column_map: dict = field(default_factory=dict)
    duplicate_rows: tuple = ()
    source: str = "DataFrame"
    flops_per_param_token: float = 6.0
    duplicate_of: dict = field(default_factory=dict)
    run_id: tuple = ()
    notes: tuple = ()
    row_places: tuple | None = field(default=None, repr=False)
    selected: tuple = ()

    # ------------------------------------------------------------------ arrays
    @property
    def n_params(self) -> np.ndarray:
        return self.table["n_params"].to_numpy(dtype=float)

    @property
    def n_tokens(self) -> np.ndarray:
        return self.table["n_tokens"].to_numpy(dtype=float)

    @property
    def flops(self) -> np.ndarray:
        return self.table["flops"].to_numpy(dtype=float)

    @property
    def loss(self) -> np.ndarray:
        return self.table["loss"].to_numpy(dtype=float)

    @property
    def has_curves(self) -> bool:
        """True when the table holds training curves (a ``run`` column)."""
        return "run" in self.table.columns

    @property
    def n_runs(self) -> int:
        """Number of distinct runs (rows, when there are no curves)."""
        if self.has_curves:
            return int(self.table["run"].nunique())
        return len(self.table)

    @property
    def duplicates(self) -> pd.DataFrame:
        """Exact duplicate rows: ``row`` and the earlier row it duplicates (``duplicate_of``).

        Lists every duplicate found in the input, whether it was kept (the
        default) or excluded (``drop_duplicates=True``).
        """
        rows = list(self.duplicate_of.items()) or [(r, -1) for r in self.duplicate_rows]
        return pd.DataFrame(
            {"row": pd.Series([r for r, _ in rows], dtype="int64"),
             "duplicate_of": pd.Series([f for _, f in rows], dtype="int64")}
        )

    def __len__(self) -> int:
        return len(self.table)

    def format_rows(self, rows: Sequence[int] | np.ndarray, *, limit: int = MAX_LISTED_ROWS) -> str:
        """Name input rows (0-based, as in ``row`` and ``excluded``) the way the errors on reading did.

        ``"data row 4 (file line 6)"`` for a file, ``"row 1 (index label 'b')"``
        for a DataFrame with its own index, else ``"row 4"``.

        Examples
        --------
        >>> import pandas as pd, scalefit
        >>> frame = pd.DataFrame({"n_params": [1e8, 2e8], "n_tokens": [2e9, 4e9], "loss": [3.0, 2.8]}, index=["a", "b"])
        >>> scalefit.read_runs(frame).format_rows([1])
        "row 1 (index label 'b')"
        """
        kind, places = self.row_places if self.row_places is not None else (None, None)
        with row_places(kind, places):
            return format_rows(rows, limit)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table` (the canonical columns, ``row`` and the other input columns)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self.summary()))}</pre>"

    def __repr__(self) -> str:
        curves = f", n_runs={self.n_runs}" if self.has_curves else ""
        derived = f", derived={self.derived}" if self.derived else ""
        return (
            f"Runs(n_rows={len(self.table)}{curves}, excluded={len(self.excluded)}"
            f"{derived}, source={self.source!r})"
        )

    def _replace(self, table: pd.DataFrame, **changes: Any) -> "Runs":
        kept = set(table["row"])
        kw = dict(
            table=table.reset_index(drop=True),
            excluded=self.excluded,
            derived=self.derived,
            column_map=self.column_map,
            duplicate_rows=tuple(r for r in self.duplicate_rows if r in kept),
            source=self.source,
            flops_per_param_token=self.flops_per_param_token,
            duplicate_of={r: f for r, f in self.duplicate_of.items() if r in kept},
            run_id=self.run_id,
            notes=self.notes,
            row_places=self.row_places,
            selected=self.selected,
        )
        kw.update(changes)
        return Runs(**kw)

    def subset(self, mask: Sequence[bool] | np.ndarray) -> "Runs":
        """Return the runs where ``mask`` is true (a boolean array over rows)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self.table),):
            raise ScalefitInputError(
                f"mask has shape {mask.shape}; expected ({len(self.table)},), one entry per row.", option="mask"
            )
        return self._replace(self.table.loc[mask].copy())

    def exclude(
        self,
        where: str | Mapping[str, Any] | None = None,
        *,
        highest_loss: int | None = None,
    ) -> "Runs":
        """Exclude rows, listing each in ``excluded`` with its reason (the rows are never dropped silently).

        Parameters
        ----------
        where : str or mapping, optional
            A boolean expression over the table's columns, evaluated by
            :meth:`pandas.DataFrame.eval` (``"loss > 4"``; quote names with
            spaces in backticks), or a mapping ``{column: value or list of
            values}`` that excludes rows whose column equals one of the values
            (``{"qc": "bad"}``).
        highest_loss : int, optional
            Exclude the ``k`` rows with the highest loss (Besiroglu et al.
            2024 drop the 5 highest before refitting Chinchilla's runs).

        Returns
        -------
        Runs
            The remaining rows; ``excluded`` lists the earlier exclusions and
            these, each with its reason and values.

        Raises
        ------
        ScalefitInputError
            An unknown column, an expression that cannot be evaluated or is
            not boolean, a bad ``highest_loss``, or nothing left.

        Examples
        --------
        >>> from scalefit.datasets import load_synthetic
        >>> runs = load_synthetic()
        >>> kept = runs.exclude(highest_loss=2)
        >>> len(runs) - len(kept), list(kept.excluded["reason"])[-1].startswith("one of the 2 highest losses")
        (2, True)
        """
        table = self.table
        drop = np.zeros(len(table), bool)
        reasons = np.full(len(table), "", dtype=object)

        def add(mask: np.ndarray, why: Any) -> None:
            for i in np.flatnonzero(mask):
                text = why(i) if callable(why) else why
                reasons[i] = f"{reasons[i]}; {text}" if reasons[i] else text
            drop[mask] = True

        if isinstance(where, str):
            add(_eval_mask(table, where), f"excluded by {where!r}")
        elif isinstance(where, Mapping):
            for col, wanted in where.items():
                if col not in table.columns:
                    raise ScalefitInputError(
                        f"exclude: column {col!r} not found; the runs have columns {list(table.columns)}.",
                        column=str(col), option="exclude",
                    )
                vals = list(wanted) if isinstance(wanted, (list, tuple, set, np.ndarray)) else [wanted]
                col_values = table[col]
                mask = col_values.isin(vals).to_numpy()
                try:  # "1" from the CLI also matches a numeric 1
                    numeric = [float(v) for v in vals]
                    mask |= pd.to_numeric(col_values, errors="coerce").isin(numeric).to_numpy()
                except (TypeError, ValueError):
                    pass
                add(mask, lambda i, c=col: f"excluded: {c} = {table[c].iloc[i]!r}")
        elif where is not None:
            raise ScalefitInputError(
                f"exclude must be an expression such as 'loss > 4' or a mapping {{column: values}}; found {type(where).__name__}.",
                option="exclude",
            )
        if highest_loss is not None:
            if isinstance(highest_loss, (bool, np.bool_)) or not isinstance(highest_loss, (int, np.integer)) or highest_loss < 0:
                raise ScalefitInputError(
                    f"highest_loss must be a non-negative whole number of rows; found {highest_loss!r}.", option="highest_loss"
                )
            k = int(highest_loss)
            if k:
                order = np.argsort(-table["loss"].to_numpy(dtype=float), kind="mergesort")[:k]
                mask = np.zeros(len(table), bool)
                mask[order] = True
                add(mask, lambda i: f"one of the {k} highest losses (loss {table['loss'].iloc[i]:.6g})")
        if drop.all():
            raise ScalefitInputError(
                f"the exclusions leave no rows: all {len(table)} matched. Loosen them.", option="exclude",
            )
        if not drop.any():
            return self
        gone = table.loc[drop].copy()
        gone.insert(1, "reason", list(reasons[drop]))
        excluded = pd.concat([self.excluded, gone], ignore_index=True) if len(self.excluded) else gone.reset_index(drop=True)
        return self._replace(table.loc[~drop].copy(), excluded=excluded)

    # ----------------------------------------------------------------- curves
    def final(self) -> "Runs":
        """Keep the last checkpoint of each run.

        The last checkpoint is the one with the largest ``step``; ties are
        broken by the largest ``n_tokens``, then by the later input row.

        Returns
        -------
        Runs
            One row per run, in input order, still with its ``run`` column.
            Without training curves (no ``run`` column) this is ``self``.
            ``selected`` (and the summary) says how many checkpoints were kept
            and how many earlier ones left out; they are not listed in
            ``excluded``, which holds rows excluded for a reason.

        Examples
        --------
        >>> from scalefit.datasets import load_synthetic_curves
        >>> curves = load_synthetic_curves()
        >>> len(curves.final()) == curves.n_runs
        True
        """
        if not self.has_curves:
            return self
        keys = [c for c in ("run", "step", "n_tokens", "row") if c in self.table.columns]
        ordered = self.table.sort_values(keys, kind="mergesort")
        last = ordered.groupby("run", sort=False).tail(1).sort_values("row", kind="mergesort")
        left_out = len(self.table) - len(last)
        if not left_out:
            return self._replace(last.copy())
        selected = self.selected + (
            f"final() kept the last checkpoint of each of the {len(last):,} runs and left out the other "
            f"{left_out:,} checkpoint row(s) of {len(self.table):,} (a selection, not an exclusion: not listed)",)
        return self._replace(last.copy(), selected=selected)

    # ---------------------------------------------------------------- summary
    def summary(self) -> "RunsSummary":
        """Summarise the runs: counts, ranges, columns mapped and derived, exclusions.

        Returns
        -------
        RunsSummary
            Renders as text with ``str()``; ``to_dict()`` gives plain JSON types.
        """
        t = self.table
        ranges = {}
        for name in CANONICAL + ("step",):
            if name in t.columns and len(t):
                values = t[name].to_numpy(dtype=float)
                ranges[name] = {"min": float(np.min(values)), "max": float(np.max(values))}
        if len(t):
            ratio = self.n_tokens / self.n_params
            ranges["tokens_per_param"] = {"min": float(ratio.min()), "max": float(ratio.max())}
        excluded = [
            {"row": int(r), "reason": str(why)}
            for r, why in zip(self.excluded["row"], self.excluded["reason"])
        ]
        return RunsSummary(
            source=self.source,
            n_rows=len(t),
            n_runs=self.n_runs,
            has_curves=self.has_curves,
            run_id=tuple(self.run_id),
            columns={str(k): v for k, v in self.column_map.items()},
            derived=tuple(self.derived),
            flops_per_param_token=self.flops_per_param_token,
            ranges=ranges,
            duplicates=[{"row": int(r), "duplicate_of": int(f)} for r, f in self.duplicates.itertuples(index=False)],
            excluded=excluded,
            notes=tuple(self.notes),
            repeated=self._repeated(),
            selected=tuple(self.selected),
            row_places=self.row_places,
        )

    def _repeated(self) -> list:
        """Final points that share (n_params, n_tokens) but not the loss: replicates, or rows that conflict."""
        t = self.table
        if self.has_curves or not len(t) or not {"n_params", "n_tokens", "loss", "row"} <= set(t.columns):
            return []
        groups = t.groupby(["n_params", "n_tokens"], sort=False)
        return [[int(r) for r in g["row"]] for _, g in groups if len(g) > 1 and g["loss"].nunique() > 1]

    def to_dict(self) -> dict:
        """The summary as plain JSON types (same as ``summary().to_dict()``)."""
        return self.summary().to_dict()


@dataclass(frozen=True)
class RunsSummary:
    """What :meth:`Runs.summary` reports; ``str()`` renders it, ``to_dict()`` gives JSON types."""

    source: str
    n_rows: int
    n_runs: int
    has_curves: bool
    run_id: tuple
    columns: dict
    derived: tuple
    flops_per_param_token: float
    ranges: dict
    duplicates: list
    excluded: list
    notes: tuple
    repeated: list = field(default_factory=list)
    selected: tuple = ()
    row_places: tuple | None = field(default=None, repr=False)

    def _rows(self, rows: Sequence[int], limit: int = MAX_LISTED_ROWS) -> str:
        """Rows named as the errors on reading named them (file line or index label)."""
        kind, places = self.row_places if self.row_places is not None else (None, None)
        with row_places(kind, places):
            return format_rows(rows, limit)

    def to_dict(self) -> dict:
        """Plain-JSON dictionary with keys ``n_rows``, ``n_runs``, ``columns``, ``ranges``, ..."""
        return {
            "source": self.source,
            "n_rows": self.n_rows,
            "n_runs": self.n_runs,
            "has_curves": self.has_curves,
            "run_id": list(self.run_id),
            "columns": dict(self.columns),
            "derived": list(self.derived),
            "flops_per_param_token": self.flops_per_param_token,
            "ranges": {k: dict(v) for k, v in self.ranges.items()},
            "duplicates": [dict(d) for d in self.duplicates],
            "excluded": [dict(e) for e in self.excluded],
            "notes": list(self.notes),
            "repeated": [list(g) for g in self.repeated],
            "selected": list(self.selected),
        }

    def __str__(self) -> str:
        runs = f"{self.n_runs} runs (run = {', '.join(self.run_id)})" if self.has_curves else f"{self.n_runs} runs"
        lines = [f"Runs from {self.source}", f"  {self.n_rows} rows, {runs}"]
        if self.columns:
            mapped = ", ".join(f"{src!r} -> {dst}" for src, dst in self.columns.items())
            lines.append(f"  columns: {mapped}")
        if self.derived:
            lines.append(
                f"  derived: {', '.join(self.derived)} "
                f"(from flops = {self.flops_per_param_token:g} * n_params * n_tokens)"
            )
        if self.ranges:
            lines.append("  ranges:")
            for name, r in self.ranges.items():
                lines.append(f"    {name:<17}{r['min']:>12.4g} .. {r['max']:.4g}")
        if self.duplicates:
            pairs = ", ".join(f"{self._rows([d['row']])} = {self._rows([d['duplicate_of']])}" for d in self.duplicates[:10])
            more = ", ..." if len(self.duplicates) > 10 else ""
            lines.append(f"  duplicates: {len(self.duplicates)} exact duplicate row(s): {pairs}{more}")
        else:
            lines.append("  duplicates: none (no exact duplicate row)")
        if self.repeated:
            shown = "; ".join(self._rows(g) for g in self.repeated[:5])
            more = "; ..." if len(self.repeated) > 5 else ""
            lines.append(f"  repeated (N, D): {len(self.repeated)} configuration(s) appear more than once with different "
                         f"losses (replicates, or rows that conflict): {shown}{more}")
        for selection in self.selected:
            lines.append(f"  selected: {selection}")
        if self.excluded:
            lines.append(f"  excluded: {len(self.excluded)} row(s)")
            for e in self.excluded[:20]:
                lines.append(f"    {self._rows([e['row']])}: {e['reason']}")
            if len(self.excluded) > 20:
                lines.append(f"    ... ({len(self.excluded) - 20} more; see Runs.excluded)")
        else:
            lines.append("  excluded: none" + (" (rows left out by a selection are counted above)" if self.selected else ""))
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)
