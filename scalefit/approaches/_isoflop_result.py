"""Results of Approach 2: one IsoFLOP analysis, and a mapping of them per group (private)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._format import format_interval
from .._json import jsonable
from .._summary import Summary
from ._powerlaw import OptimalAllocation, PowerLawResult, flag_text, fmt, records, summary
from ._saved import from_state, saved_state, state_dict, to_json

if TYPE_CHECKING:
    from ..runs import Runs

TITLE = "IsoFLOP analysis (Approach 2)"

#: The options an IsoFLOP analysis records (``result.options``), in this order.
OPTIONS = ("budget", "group_by", "min_points", "tolerance", "method", "n_nearest", "best_per_size", "exclude_flags",
           "bootstrap", "level", "seed", "flops_per_param_token")


def key_text(cols: tuple, key: tuple) -> str:
    """``col=value, ...`` naming one group."""
    return ", ".join(f"{c}={v}" for c, v in zip(cols, key))


def _reason(flags: tuple) -> str:
    text = {
        "edge": "the lowest loss is at the smallest or largest model sampled, so the minimum is not bracketed",
        "off_center": "the fitted minimum lies outside the sampled range of model sizes",
        "non_convex": "the fitted curve has no minimum (curvature not positive)",
    }
    return "; ".join(text.get(f, f) for f in flags) if flags else ""


@dataclass(frozen=True, eq=False, kw_only=True)
class _IsoFLOPOptions:
    """The options of an IsoFLOP analysis, shared by a result and a grouped result."""

    method: str
    n_nearest: int
    tolerance: float
    budget: str | None
    min_points: int
    exclude_flags: tuple[str, ...]
    flops_per_param_token: float
    best_per_size: bool = False
    group_by: tuple[str, ...] = ()

    @property
    def options(self) -> Mapping[str, Any]:
        """The options the analysis ran with (keyword -> value), as :func:`scalefit.isoflop` takes them."""
        values = {name: getattr(self, name) for name in OPTIONS if name != "bootstrap"}
        values["bootstrap"] = getattr(self, "n_bootstrap")
        return MappingProxyType({name: values[name] for name in OPTIONS})

    def _method_text(self) -> str:
        return f"method={self.method}" + (f", n_nearest={self.n_nearest}" if self.method == "nearest" else "")

    def _options_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_nearest": self.n_nearest,
            "best_per_size": self.best_per_size,
            "budget": self.budget,
            "tolerance": self.tolerance,
            "min_points": self.min_points,
            "exclude_flags": list(self.exclude_flags),
            "flops_per_param_token": self.flops_per_param_token,
        }


@dataclass(frozen=True, eq=False, kw_only=True)
class IsoFLOPResult(PowerLawResult, _IsoFLOPOptions):
    """Result of :func:`scalefit.isoflop` (Approach 2 of Hoffmann et al., 2022).

    Attributes
    ----------
    a, b : float
        Exponents of N* = k_n C^a and D* = k_d C^b.  NaN when fewer than two
        budgets were usable.
    k_n, k_d : float
        Coefficients of the two power laws.
    intervals : mapping
        ``{"a": {level: (low, high)}, "b": ..., "k_n": ..., "k_d": ...}``,
        bootstrap percentile intervals.
    level : tuple of float
        Interval levels.
    optima : pandas.DataFrame
        One row per FLOP budget: ``flops``, ``n_params`` (N*), ``n_tokens``
        (D* = C / (k N*)), ``loss`` (L* at the fitted minimum), ``flags``
        (tuple of ``"edge"``, ``"off_center"``, ``"non_convex"``),
        ``n_points``, ``used`` (in the power-law fit), ``n_params_sd_log10``
        (bootstrap SD of log10 N*), ``flops_spread`` (max/min FLOPs of the
        runs in the budget), ``curve`` and ``centre`` (the polynomial fitted in
        log10 N - centre, highest power first), ``rows`` and ``rows_used`` (the
        row numbers of the budget's runs, and of those the curve was fitted to).
    unassigned : pandas.DataFrame
        Rows that joined no usable budget: ``row`` (original row number),
        ``flops``, ``reason``.
    bootstrap_samples : pandas.DataFrame
        One row per resample with columns a, b, k_n, k_d (NaN when a resample
        had fewer than two valid budgets).
    runs : Runs
        The runs analysed (final checkpoints; for one group of a grouped
        analysis, the rows of that group).
    method, n_nearest, best_per_size, tolerance, budget, min_points, exclude_flags, flops_per_param_token
        The options the analysis ran with (all of them in ``options``).
    key : tuple
        The group key (``()`` for an ungrouped analysis).
    group_by : tuple of str
        The grouping columns of the analysis this result is one group of.
    """

    optima: pd.DataFrame
    unassigned: pd.DataFrame
    key: tuple = ()
    bias_check: Mapping[str, Any] | None = None
    bias_warning: str = ""

    @property
    def budgets(self) -> np.ndarray:
        """FLOPs of the analysed budgets (the ``flops`` column of :attr:`optima`)."""
        return self.optima["flops"].to_numpy(dtype=float)

    def budget_index(self) -> np.ndarray:
        """Index into :attr:`optima` of each row of :attr:`runs` (-1: in no analysed budget).

        Runs are matched to budgets by the row numbers the analysis recorded
        (``optima["rows"]`` against the runs' ``row`` column), never by position.
        """
        if self.runs is None:
            return np.zeros(0, dtype=int)
        where = {r: g for g, rows in enumerate(self.optima["rows"]) for r in rows}
        rows = self.runs.table["row"].to_numpy() if "row" in self.runs.table else np.arange(len(self.runs))
        return np.array([where.get(int(r), -1) for r in rows], dtype=int)

    @property
    def excluded_budgets(self) -> pd.DataFrame:
        """Budgets left out of the power-law fit, with the reason."""
        if not len(self.optima):
            return pd.DataFrame(columns=["flops", "flags", "reason"])
        ex = self.optima.loc[~self.optima["used"], ["flops", "flags"]].copy()
        ex["reason"] = [_reason(f) for f in ex["flags"]]
        return ex.reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """One row with the exponents, coefficients and intervals."""
        return pd.DataFrame([self._table_row()])

    def to_frame(self) -> pd.DataFrame:
        """The same as :meth:`table`."""
        return self.table()

    def _table_row(self) -> dict[str, Any]:
        row = self._interval_row()
        row["n_budgets"] = len(self.optima)
        row["n_used"] = int(self.optima["used"].sum()) if len(self.optima) else 0
        row["n_unassigned"] = len(self.unassigned)
        row["success"] = self.success
        return row

    def summary(self) -> Summary:
        """Text/HTML summary (``str()`` gives text; notebooks render HTML)."""
        info = self._law_info() + [("options", self._method_text())]
        if self.key:
            info.insert(0, ("group", ", ".join(map(str, self.key))))
        rows = [
            [fmt(r.flops), fmt(r.n_params), fmt(r.n_tokens), fmt(r.loss), r.n_points, flag_text(r.flags), "yes" if r.used else "no"]
            for r in self.optima.itertuples()
        ]
        notes = []
        ex = self.excluded_budgets
        if len(ex):
            notes.append(f"{len(ex)} budget(s) left out of the power-law fit: "
                         + "; ".join(f"C={fmt(c)} ({r})" for c, r in zip(ex["flops"], ex["reason"])))
        if len(self.unassigned):
            notes.append(f"{len(self.unassigned)} row(s) joined no usable budget (see .unassigned).")
        if not self.success:
            notes.append(self.message)
        tables = [("Per-budget optima", ["flops", "N*", "D*", "L*", "points", "flags", "used"], rows)]
        return summary(TITLE, info, tables, notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with keys a, b, k_n, k_d, intervals, optima, excluded_budgets, unassigned and the options."""
        out: dict[str, Any] = {"approach": "isoflop"}
        out.update(self._power_law_dict())
        out.update(self._options_dict())
        out.update(
            {
                "optima": records(self.optima, ["flops", "n_params", "n_tokens", "loss", "flags", "n_points", "used"]),
                "excluded_budgets": records(self.excluded_budgets, ["flops", "flags", "reason"]),
                "unassigned": records(self.unassigned, ["row", "flops", "reason"]),
                "bias_check": None if self.bias_check is None else dict(self.bias_check),
                "bias_warning": self.bias_warning or None,
            }
        )
        if self.key:
            out["key"] = dict(zip(self.group_by, self.key)) if self.group_by else list(self.key)
        out["saved"] = state_dict(self)  # every field, for scalefit.load (see from_dict)
        return jsonable(out)

    def __repr__(self) -> str:
        n_used = int(self.optima["used"].sum()) if len(self.optima) else 0
        return f"IsoFLOPResult(a={self.a:.4g}, b={self.b:.4g}, budgets_used={n_used}/{len(self.optima)})"

    # ------------------------------------------------------------ saved
    def to_json(self, path: Any = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given (atomically, with a ``written_by`` key).

        :func:`scalefit.load` reads it back whole: the runs, each budget's
        curve and rows, the bootstrap samples and the intervals, number for
        number.  An existing file is replaced only with ``overwrite=True``.
        """
        return to_json(self, path, overwrite=overwrite)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "IsoFLOPResult":
        """The result :meth:`to_dict` (or ``scalefit isoflop --json``) saved, with every number it had.

        Raises
        ------
        ScalefitInputError
            If ``d`` has no ``"saved"`` block (an older or edited file).
        """
        return from_state(cls, saved_state(d, "IsoFLOP"))


_NAN = float("nan")


@dataclass(frozen=True, eq=False, kw_only=True)
class GroupedIsoFLOPResult(_IsoFLOPOptions, Mapping):
    """Result of :func:`scalefit.isoflop` with ``group_by``: one :class:`IsoFLOPResult` per group.

    A read-only mapping from group key (a tuple of the ``group_by`` values, in
    sorted order) to that group's result; ``result[("x",)]``, ``len(result)``
    and ``result.items()`` work as on a dict.

    Attributes
    ----------
    groups : mapping
        The mapping itself (group key -> :class:`IsoFLOPResult`).
    group_by : tuple of str
        Grouping columns.
    runs : Runs
        All runs analysed (final checkpoints); each group's result keeps its own rows.
    level, n_bootstrap, seed, method, n_nearest, tolerance, budget, min_points, exclude_flags, flops_per_param_token, best_per_size
        The options every group ran with (all of them in ``options``).
    a, b, k_n, k_d : float
        NaN: a grouped analysis has no single power law (see each group).
    """

    results: Mapping[tuple, IsoFLOPResult]
    level: tuple[float, ...]
    n_bootstrap: int
    seed: int | None
    runs: Runs | None = field(default=None, repr=False)

    a = k_n = b = k_d = _NAN

    # ------------------------------------------------------------ mapping
    def __getitem__(self, key: tuple) -> IsoFLOPResult:
        return self.results[key]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def groups(self) -> Mapping[tuple, IsoFLOPResult]:
        """The mapping itself: group key -> :class:`IsoFLOPResult`."""
        return self

    # ------------------------------------------------------------ summary
    @property
    def success(self) -> bool:
        """True when every group has a power-law fit."""
        return all(r.success for r in self.results.values())

    @property
    def message(self) -> str:
        n_fail = sum(not r.success for r in self.results.values())
        return f"{len(self)} groups analysed" + (f"; {n_fail} without a usable power-law fit" if n_fail else "")

    @property
    def n_bootstrap_valid(self) -> int:
        """The fewest usable resamples of any group."""
        return min((r.n_bootstrap_valid for r in self.results.values()), default=0)

    @property
    def optima(self) -> pd.DataFrame:
        """Every group's :attr:`IsoFLOPResult.optima`, with the ``group_by`` columns first."""
        return self._stack("optima")

    @property
    def unassigned(self) -> pd.DataFrame:
        """Every group's rows that joined no usable budget, with the ``group_by`` columns first."""
        return self._stack("unassigned")

    def _stack(self, name: str) -> pd.DataFrame:
        frames = []
        for key, res in self.results.items():
            part = getattr(res, name).copy()
            for i, col in enumerate(self.group_by):
                part.insert(i, col, [key[i]] * len(part))
            frames.append(part)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(self.group_by))

    def predict_optimal(self, flops: float | np.ndarray) -> dict[tuple, OptimalAllocation]:
        """:meth:`IsoFLOPResult.predict_optimal` of every group, keyed by group."""
        return {key: res.predict_optimal(flops) for key, res in self.results.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per group: the ``group_by`` values, then a, b, k_n, k_d with their intervals and counts."""
        rows = []
        for key, res in self.results.items():
            row = dict(zip(self.group_by, key))
            row.update(res._table_row())
            rows.append(row)
        return pd.DataFrame(rows)

    def table(self) -> pd.DataFrame:
        """The same as :meth:`to_frame`."""
        return self.to_frame()

    def summary(self) -> Summary:
        """Text/HTML summary, one row per group (``str()`` gives text; notebooks render HTML)."""
        lv = self.level[0]
        header = list(self.group_by) + ["a", f"a {lv:.0%} interval", "b", "budgets used"]
        rows = []
        for key, res in self.results.items():
            lo, hi = res.intervals["a"][lv]
            n_used = int(res.optima["used"].sum()) if len(res.optima) else 0
            rows.append(list(key) + [fmt(res.a), format_interval(lo, hi, "fixed"), fmt(res.b), f"{n_used}/{len(res.optima)}"])
        info = [("groups", len(self)), ("grouped by", ", ".join(self.group_by)), ("options", self._method_text())]
        notes = [f"{key_text(self.group_by, k)}: {r.message}" for k, r in self.results.items() if not r.success]
        return summary(TITLE, info, [("Per group", header, rows)], notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``group_by``, the options, ``unassigned`` and ``groups`` (one object per group, with its ``key``).

        ``a``, ``b``, ``k_n`` and ``k_d`` are null: each group has its own.
        """
        out: dict[str, Any] = {"approach": "isoflop", "group_by": list(self.group_by)}
        out.update({q: None for q in ("a", "b", "k_n", "k_d")})
        out.update({"level": list(self.level), "n_bootstrap": self.n_bootstrap, "n_bootstrap_valid": self.n_bootstrap_valid,
                    "seed": self.seed, "success": self.success, "message": self.message})
        out.update(self._options_dict())
        out["unassigned"] = records(self.unassigned, [*self.group_by, "row", "flops", "reason"])
        out["groups"] = [res.to_dict() for res in self.results.values()]
        out["saved"] = state_dict(self, skip=("results",))  # every field but the groups (saved above), for scalefit.load
        return jsonable(out)

    def __repr__(self) -> str:
        return f"GroupedIsoFLOPResult(groups={len(self)}, group_by={self.group_by!r})"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # ------------------------------------------------------------ saved
    def to_json(self, path: Any = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given (see :meth:`IsoFLOPResult.to_json`)."""
        return to_json(self, path, overwrite=overwrite)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GroupedIsoFLOPResult":
        """The grouped result :meth:`to_dict` (or ``scalefit isoflop --group-by ... --json``) saved.

        Raises
        ------
        ScalefitInputError
            If ``d`` or one of its groups has no ``"saved"`` block.
        """
        groups = [IsoFLOPResult.from_dict(g) for g in d.get("groups", [])]
        return from_state(cls, saved_state(d, "grouped IsoFLOP"), results={g.key: g for g in groups})
