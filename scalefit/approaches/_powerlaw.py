"""Result objects of Approaches 1 and 2 (private; re-exported by :mod:`scalefit.approaches`)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ._errors import ScalefitInputError
from ._isoflop_core import loglog_fit, percentile_interval
from ._json import jsonable

QUANTITIES = ("a", "b", "k_n", "k_d")
_EMPTY = MappingProxyType({})


def intervals_from_samples(samples: pd.DataFrame, levels: tuple[float, ...]) -> Mapping[str, Mapping[float, tuple[float, float]]]:
    """Percentile intervals ``{quantity: {level: (low, high)}}`` from bootstrap samples."""
    out = {}
    for q in QUANTITIES:
        col = samples[q].to_numpy(dtype=float) if q in samples else np.array([])
        out[q] = MappingProxyType({lv: percentile_interval(col, lv) for lv in levels})
    return MappingProxyType(out)


@dataclass(frozen=True)
class PowerLawFits:
    """N* = k_n C^a and D* = k_d C^b on the data (row 0) and on every resample (rows 1..)."""

    a: float
    b: float
    k_n: float
    k_d: float
    samples: pd.DataFrame
    n_valid: int

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.a))


def fit_power_laws(log_c: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, mask: np.ndarray) -> PowerLawFits:
    """Least-squares power laws in log10 space; row 0 of ``log_n``/``log_d``/``mask`` is the data."""
    a, log_kn = loglog_fit(log_c, log_n, mask)
    b, log_kd = loglog_fit(log_c, log_d, mask)
    samples = pd.DataFrame({"a": a[1:], "b": b[1:], "k_n": 10.0 ** log_kn[1:], "k_d": 10.0 ** log_kd[1:]})
    return PowerLawFits(a=float(a[0]), b=float(b[0]), k_n=float(10.0 ** log_kn[0]), k_d=float(10.0 ** log_kd[0]),
                        samples=samples, n_valid=int(np.isfinite(samples["a"]).sum()))


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    cols = [c for c in columns if c in df.columns]
    return [{c: (list(r[c]) if c == "flags" else r[c]) for c in cols} for _, r in df.iterrows()]


@dataclass(frozen=True)
class OptimalAllocation:
    """Compute-optimal model size and token count at given FLOP budgets.

    Attributes
    ----------
    flops, n_params, n_tokens : numpy.ndarray
        Budgets and the optimal N* = k_n C^a and D* = k_d C^b there.
    intervals : mapping
        ``{"n_params": {level: (low, high)}, "n_tokens": {...}}``, each a pair of
        arrays from the bootstrap samples of the power laws (NaN when there were none).
    """

    flops: np.ndarray
    n_params: np.ndarray
    n_tokens: np.ndarray
    intervals: Mapping[str, Mapping[float, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per budget with columns flops, n_params, n_tokens and the interval bounds."""
        df = pd.DataFrame({"flops": self.flops, "n_params": self.n_params, "n_tokens": self.n_tokens})
        for q, per_level in self.intervals.items():
            for lv, (lo, hi) in per_level.items():
                df[f"{q}_low_{lv:g}"] = lo
                df[f"{q}_high_{lv:g}"] = hi
        return df


@dataclass(frozen=True, eq=False, kw_only=True)
class _PowerLawResult:
    """Fields and helpers shared by the Approach 1 and 2 results."""

    a: float
    b: float
    k_n: float
    k_d: float
    intervals: Mapping[str, Mapping[float, tuple[float, float]]]
    level: tuple[float, ...]
    bootstrap_samples: pd.DataFrame
    n_bootstrap: int
    n_bootstrap_valid: int
    success: bool
    message: str
    seed: int | None = None

    # ------------------------------------------------------------- helpers
    def interval(self, name: str, level: float | None = None) -> tuple[float, float]:
        """Bootstrap percentile interval of ``a``, ``b``, ``k_n`` or ``k_d``.

        Parameters
        ----------
        name : {"a", "b", "k_n", "k_d"}
        level : float, optional
            One of the levels the analysis was run with; default the first.
        """
        if name not in QUANTITIES:
            raise ScalefitInputError(f"interval: unknown quantity {name!r}; choose one of {', '.join(QUANTITIES)}.")
        level = self.level[0] if level is None else float(level)
        if level not in self.intervals[name]:
            raise ScalefitInputError(
                f"interval: level {level:g} was not computed; available levels are "
                f"{', '.join(f'{lv:g}' for lv in self.level)} (pass level=... to the analysis)."
            )
        return self.intervals[name][level]

    def predict_optimal(self, flops: float | np.ndarray) -> OptimalAllocation:
        """Compute-optimal N* = k_n C^a and D* = k_d C^b at FLOP budget(s) ``flops``.

        Parameters
        ----------
        flops : float or array_like
            Positive FLOP budgets.

        Returns
        -------
        OptimalAllocation
            With bootstrap percentile intervals at every analysed level.
        """
        c = np.atleast_1d(np.asarray(flops, dtype=float))
        if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c <= 0):
            bad = [float(v) for v in c[~(np.isfinite(c) & (c > 0))][:5]]
            raise ScalefitInputError(
                f"predict_optimal: flops must be positive and finite; found {bad if bad else 'no values'}. "
                "Pass FLOP budgets such as 1e21."
            )
        n = self.k_n * c ** self.a
        d = self.k_d * c ** self.b
        s = self.bootstrap_samples
        intervals: dict[str, dict] = {}
        if len(s):
            n_s = s["k_n"].to_numpy()[:, None] * c[None, :] ** s["a"].to_numpy()[:, None]
            d_s = s["k_d"].to_numpy()[:, None] * c[None, :] ** s["b"].to_numpy()[:, None]
            for name, samp in (("n_params", n_s), ("n_tokens", d_s)):
                per = {}
                for lv in self.level:
                    ok = np.isfinite(samp).all(axis=1)
                    if ok.sum() >= 2:
                        lo, hi = np.quantile(samp[ok], [(1 - lv) / 2, (1 + lv) / 2], axis=0)
                    else:
                        lo = hi = np.full(c.shape, np.nan)
                    per[lv] = (lo, hi)
                intervals[name] = MappingProxyType(per)
        return OptimalAllocation(flops=c, n_params=n, n_tokens=d, intervals=MappingProxyType(intervals))

    def _law_info(self) -> list[tuple[str, Any]]:
        lv = self.level[0]
        info = []
        for q, label in (("a", "a  (N* ~ C^a)"), ("b", "b  (D* ~ C^b)"), ("k_n", "k_n"), ("k_d", "k_d")):
            lo, hi = self.intervals[q][lv]
            info.append((label, f"{_fmt(getattr(self, q))}  [{_fmt(lo)}, {_fmt(hi)}] at {lv:.0%}"))
        info.append(("bootstrap", f"{self.n_bootstrap_valid} valid of {self.n_bootstrap} resamples (seed {self.seed})"))
        return info

    def _power_law_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "k_n": self.k_n,
            "k_d": self.k_d,
            "intervals": {q: {f"{lv:g}": list(v) for lv, v in per.items()} for q, per in self.intervals.items()},
            "level": list(self.level),
            "n_bootstrap": self.n_bootstrap,
            "n_bootstrap_valid": self.n_bootstrap_valid,
            "seed": self.seed,
            "success": self.success,
            "message": self.message,
        }

    def _interval_row(self) -> dict[str, Any]:
        lv = self.level[0]
        row: dict[str, Any] = {}
        for q in QUANTITIES:
            lo, hi = self.intervals[q][lv]
            row[q] = getattr(self, q)
            row[f"{q}_low"] = lo
            row[f"{q}_high"] = hi
        return row


def _fmt(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return "nan"
    if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
        return f"{f:.4g}"
    return f"{f:.4f}"


def _summary(title: str, info: list, tables: list, notes: list):
    from ._summary import Summary, Table

    return Summary(
        title=title,
        info=info,
        tables=[Table(title=t, header=h, rows=r) for t, h, r in tables],
        notes=notes,
    )


def _flag_text(flags: Any) -> str:
    return ",".join(flags) if flags else "-"


# ---------------------------------------------------------------- Approach 2
@dataclass(frozen=True, eq=False, kw_only=True)
class IsoFLOPResult(_PowerLawResult):
    """Result of :func:`scalefit.isoflop` (Approach 2 of Hoffmann et al., 2022).

    Attributes
    ----------
    a, b : float
        Exponents of N* = k_n C^a and D* = k_d C^b.  NaN for a grouped result
        (see ``groups``) or when fewer than two budgets were usable.
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
        (bootstrap SD of log10 N*) and ``flops_spread`` (max/min FLOPs of the
        runs in the budget).
    unassigned : pandas.DataFrame
        Rows that joined no usable budget: ``row`` (original row number),
        ``flops``, ``reason``.
    bootstrap_samples : pandas.DataFrame
        One row per resample with columns a, b, k_n, k_d (NaN when a resample
        had fewer than two valid budgets).
    method, n_nearest, best_per_size, tolerance, budget, min_points, exclude_flags, flops_per_param_token
        The options the analysis ran with.
    key : tuple
        The group key (``()`` for an ungrouped analysis).
    group_by : tuple of str
        Grouping columns; non-empty for a grouped result.
    groups : mapping
        Group key tuple -> :class:`IsoFLOPResult`, for ``group_by``.
    """

    optima: pd.DataFrame
    unassigned: pd.DataFrame
    method: str
    n_nearest: int
    tolerance: float
    budget: str | None
    min_points: int
    exclude_flags: tuple[str, ...]
    flops_per_param_token: float
    best_per_size: bool = False
    key: tuple = ()
    group_by: tuple[str, ...] = ()
    groups: Mapping[tuple, "IsoFLOPResult"] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def excluded_budgets(self) -> pd.DataFrame:
        """Budgets left out of the power-law fit, with the reason."""
        if not len(self.optima):
            return pd.DataFrame(columns=["flops", "flags", "reason"])
        ex = self.optima.loc[~self.optima["used"], ["flops", "flags"]].copy()
        ex["reason"] = [_reason(f) for f in ex["flags"]]
        return ex.reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """One row per group (or one row) with the exponents, coefficients and intervals."""
        if self.groups:
            rows = []
            for key, res in self.groups.items():
                row = dict(zip(self.group_by, key))
                row.update(res._table_row())
                rows.append(row)
            return pd.DataFrame(rows)
        return pd.DataFrame([self._table_row()])

    def _table_row(self) -> dict[str, Any]:
        row = self._interval_row()
        row["n_budgets"] = len(self.optima)
        row["n_used"] = int(self.optima["used"].sum()) if len(self.optima) else 0
        row["n_unassigned"] = len(self.unassigned)
        row["success"] = self.success
        return row

    def summary(self):
        """Text/HTML summary (``str()`` gives text; notebooks render HTML)."""
        title = "IsoFLOP analysis (Approach 2)"
        opts = f"method={self.method}" + (f", n_nearest={self.n_nearest}" if self.method == "nearest" else "")
        if self.groups:
            lv = self.level[0]
            header = list(self.group_by) + ["a", f"a {lv:.0%} interval", "b", "budgets used"]
            rows = []
            for key, res in self.groups.items():
                lo, hi = res.intervals["a"][lv]
                n_used = int(res.optima["used"].sum()) if len(res.optima) else 0
                rows.append(list(key) + [_fmt(res.a), f"[{_fmt(lo)}, {_fmt(hi)}]", _fmt(res.b), f"{n_used}/{len(res.optima)}"])
            info = [("groups", len(self.groups)), ("grouped by", ", ".join(self.group_by)), ("options", opts)]
            notes = [f"{_key_text(self.group_by, k)}: {r.message}" for k, r in self.groups.items() if not r.success]
            return _summary(title, info, [("Per group", header, rows)], notes)
        info = self._law_info() + [("options", opts)]
        if self.key:
            info.insert(0, ("group", ", ".join(map(str, self.key))))
        rows = [
            [_fmt(r.flops), _fmt(r.n_params), _fmt(r.n_tokens), _fmt(r.loss), r.n_points, _flag_text(r.flags), "yes" if r.used else "no"]
            for r in self.optima.itertuples()
        ]
        notes = []
        ex = self.excluded_budgets
        if len(ex):
            notes.append(f"{len(ex)} budget(s) left out of the power-law fit: " + "; ".join(f"C={_fmt(c)} ({r})" for c, r in zip(ex["flops"], ex["reason"])))
        if len(self.unassigned):
            notes.append(f"{len(self.unassigned)} row(s) joined no usable budget (see .unassigned).")
        if not self.success:
            notes.append(self.message)
        tables = [("Per-budget optima", ["flops", "N*", "D*", "L*", "points", "flags", "used"], rows)]
        return _summary(title, info, tables, notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with keys a, b, k_n, k_d, intervals, optima, ... (and groups when grouped)."""
        out: dict[str, Any] = {"approach": "isoflop"}
        out.update(self._power_law_dict())
        out.update(
            {
                "method": self.method,
                "n_nearest": self.n_nearest,
                "best_per_size": self.best_per_size,
                "budget": self.budget,
                "tolerance": self.tolerance,
                "min_points": self.min_points,
                "exclude_flags": list(self.exclude_flags),
                "flops_per_param_token": self.flops_per_param_token,
                "optima": _records(self.optima, ["flops", "n_params", "n_tokens", "loss", "flags", "n_points", "used"]),
                "excluded_budgets": _records(self.excluded_budgets, ["flops", "flags", "reason"]),
                "unassigned": _records(self.unassigned, ["row", "flops", "reason"]),
            }
        )
        if self.key:
            out["key"] = dict(zip(self.group_by, self.key)) if self.group_by else list(self.key)
        if self.groups:
            out["group_by"] = list(self.group_by)
            out["groups"] = [res.to_dict() for res in self.groups.values()]
        return jsonable(out)

    def __repr__(self) -> str:
        if self.groups:
            return f"IsoFLOPResult(groups={len(self.groups)}, group_by={self.group_by!r})"
        return f"IsoFLOPResult(a={self.a:.4g}, b={self.b:.4g}, budgets_used={int(self.optima['used'].sum()) if len(self.optima) else 0}/{len(self.optima)})"


def _reason(flags: tuple) -> str:
    text = {
        "edge": "the lowest loss is at the smallest or largest model sampled, so the minimum is not bracketed",
        "off_center": "the fitted minimum lies outside the sampled range of model sizes",
        "non_convex": "the fitted curve has no minimum (curvature not positive)",
    }
    return "; ".join(text.get(f, f) for f in flags) if flags else ""


def _key_text(cols: tuple, key: tuple) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(cols, key))


# ---------------------------------------------------------------- Approach 1
@dataclass(frozen=True, eq=False, kw_only=True)
class EnvelopeResult(_PowerLawResult):
    """Result of :func:`scalefit.envelope` (Approach 1 of Hoffmann et al., 2022).

    Attributes
    ----------
    a, b, k_n, k_d, intervals, level
        As in :class:`IsoFLOPResult`; intervals resample whole runs.
    frontier : pandas.DataFrame
        The lower envelope: ``flops``, ``n_params``, ``n_tokens``, ``loss``,
        ``run`` (the run on the envelope), ``n_models`` (distinct model sizes
        covering that FLOP value), ``flags`` (``"edge"`` when the winner is the
        smallest or largest model covering that FLOP value) and ``used``.
    dropped : mapping
        Checkpoints dropped before the analysis: ``min_tokens``,
        ``min_fraction``, ``not_final`` (counts).
    excluded_runs : pandas.DataFrame
        Runs that could not contribute (``run``, ``reason``).
    n_runs : int
        Runs analysed.
    final_only, n_grid, min_tokens, min_fraction, exclude_flags
        The options the analysis ran with.
    """

    frontier: pd.DataFrame
    dropped: Mapping[str, int]
    excluded_runs: pd.DataFrame
    n_runs: int
    final_only: bool
    n_grid: int
    min_tokens: float | None
    min_fraction: float | None
    exclude_flags: tuple[str, ...]

    @property
    def optima(self) -> pd.DataFrame:
        """The frontier points (same columns as :attr:`IsoFLOPResult.optima` where they apply)."""
        return self.frontier

    def table(self) -> pd.DataFrame:
        """One row with the exponents, coefficients and intervals."""
        row = self._interval_row()
        row["n_points"] = len(self.frontier)
        row["n_used"] = int(self.frontier["used"].sum()) if len(self.frontier) else 0
        row["n_runs"] = self.n_runs
        row["success"] = self.success
        return pd.DataFrame([row])

    def summary(self):
        """Text/HTML summary (``str()`` gives text; notebooks render HTML)."""
        info = self._law_info()
        info += [
            ("runs", self.n_runs),
            ("checkpoints", "final only" if self.final_only else f"all, interpolated on a {self.n_grid}-point log-FLOP grid"),
            ("dropped", ", ".join(f"{k}: {v}" for k, v in self.dropped.items()) or "none"),
        ]
        fr = self.frontier
        rows = []
        if len(fr):
            # one row per stretch of the envelope held by one run
            seg = (fr["run"] != fr["run"].shift()).cumsum()
            for _, g in fr.groupby(seg, sort=False):
                rows.append([
                    str(g["run"].iloc[0]), _fmt(g["n_params"].iloc[0]), f"{_fmt(g['flops'].iloc[0])} - {_fmt(g['flops'].iloc[-1])}",
                    len(g), _flag_text(g["flags"].iloc[0]), "yes" if g["used"].any() else "no",
                ])
        notes = []
        n_ex = int((~fr["used"]).sum()) if len(fr) else 0
        if n_ex:
            notes.append(f"{n_ex} frontier point(s) left out of the power-law fit (edge: the winner is the smallest or largest model covering that FLOP value).")
        if len(self.excluded_runs):
            notes.append(f"{len(self.excluded_runs)} run(s) could not contribute (see .excluded_runs).")
        if not self.success:
            notes.append(self.message)
        tables = [("Envelope (runs holding the minimum loss)", ["run", "N", "FLOPs", "points", "flags", "used"], rows)]
        return _summary("Envelope analysis (Approach 1)", info, tables, notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with keys a, b, k_n, k_d, intervals, optima (the frontier), dropped, ..."""
        out: dict[str, Any] = {"approach": "envelope"}
        out.update(self._power_law_dict())
        out.update(
            {
                "final_only": self.final_only,
                "n_grid": self.n_grid,
                "min_tokens": self.min_tokens,
                "min_fraction": self.min_fraction,
                "exclude_flags": list(self.exclude_flags),
                "n_runs": self.n_runs,
                "dropped": dict(self.dropped),
                "excluded_runs": _records(self.excluded_runs, ["run", "reason"]),
                "optima": _records(self.frontier, ["flops", "n_params", "n_tokens", "loss", "flags", "run", "n_models", "used"]),
            }
        )
        return jsonable(out)

    def __repr__(self) -> str:
        return f"EnvelopeResult(a={self.a:.4g}, b={self.b:.4g}, n_runs={self.n_runs}, frontier_points={len(self.frontier)})"
