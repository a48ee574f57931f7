"""Approaches 1, 2 and 3 of Hoffmann et al. (2022) side by side (private; see :func:`compare_approaches`).

References
----------
Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
arXiv 2203.15556, Table 2.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._errors import ApproachesDisagreeWarning, Option, ScalefitInputError, warn
from .._format import format_interval
from .._json import jsonable
from .._summary import Summary
from ..fitting import fit
from ..laws import chinchilla_compute_optimal, chinchilla_exponents, chinchilla_values
from ..runs import as_runs
from ._checks import check_levels
from ._envelope import envelope
from ._isoflop import isoflop
from ._isoflop_result import GroupedIsoFLOPResult
from ._powerlaw import PowerLawResult, fmt, summary


@dataclass(frozen=True, eq=False)
class ApproachComparison:
    """Approaches 1-3 side by side, like Table 2 of Hoffmann et al. (2022).

    Attributes
    ----------
    results : mapping
        Approach name ("envelope", "isoflop", "parametric") -> its result.
    budgets : tuple of float
        FLOP budgets at which N* and D* are tabulated.
    skipped : mapping
        Approach name -> why it was not run.
    level : float
        Interval level.
    """

    results: Mapping[str, Any]
    budgets: tuple[float, ...]
    skipped: Mapping[str, str]
    level: float
    rows: tuple = field(default=(), repr=False)

    @property
    def disagreements(self) -> tuple[str, ...]:
        """One sentence per pair of approaches whose intervals of ``a`` (N* ~ C^a) do not overlap."""
        out = []
        rows = [r for r in self.rows if np.isfinite(r["a_low"]) and np.isfinite(r["a_high"])]
        for i, r in enumerate(rows):
            for q in rows[i + 1:]:
                if r["a_high"] < q["a_low"] or q["a_high"] < r["a_low"]:
                    out.append(f"the approaches disagree: {r['approach']} gives a = {fmt(r['a'])} "
                               f"{format_interval(r['a_low'], r['a_high'], 'fixed')} and {q['approach']} a = "
                               f"{fmt(q['a'])} {format_interval(q['a_low'], q['a_high'], 'fixed')}; their "
                               f"{self.level:.0%} intervals do not overlap, so the choice of method moves N* more "
                               "than the noise does: check each approach's assumptions (Hoffmann et al. 2022, "
                               "Sec. 3) before trusting one.")
        return tuple(out)

    def table(self) -> pd.DataFrame:
        """One row per approach: a, b with interval bounds, and N*, D* at each budget."""
        df = pd.DataFrame(list(self.rows))
        return df.set_index("approach") if len(df) else df

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``approaches`` (one object per row), ``budgets``, ``skipped``."""
        return jsonable({"budgets": list(self.budgets), "level": self.level, "approaches": list(self.rows), "skipped": dict(self.skipped)})

    def to_frame(self) -> pd.DataFrame:
        """The same as :meth:`table`."""
        return self.table()

    def summary(self) -> Summary:
        """Text/HTML rendering of :meth:`table`."""
        header = ["approach", "a", f"a {self.level:.0%}", "b", f"b {self.level:.0%}"]
        for c in self.budgets:
            header += [f"N* @ {c:.3g}", f"D* @ {c:.3g}"]
        rows = []
        for r in self.rows:
            row = [r["approach"], fmt(r["a"]), format_interval(r["a_low"], r["a_high"], "fixed"),
                   fmt(r["b"]), format_interval(r["b_low"], r["b_high"], "fixed")]
            for c in self.budgets:
                row += [fmt(r[f"n_params@{c:.3g}"]), fmt(r[f"n_tokens@{c:.3g}"])]
            rows.append(row)
        notes = [f"{k} not run: {v}" for k, v in self.skipped.items()] + list(self.disagreements)
        return summary("Compute-optimal scaling: approaches compared", [], [("", header, rows)], notes)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


APPROACHES = ("envelope", "isoflop", "parametric")


def compare_approaches(
    runs: Any,
    *,
    budgets: Sequence[float] = (1e21, 5.76e23),
    approaches: Sequence[str] | None = None,
    level: float = 0.95,
    bootstrap: int = 1000,
    seed: int | None = 0,
    isoflop_options: Mapping[str, Any] | None = None,
    envelope_options: Mapping[str, Any] | None = None,
    fit_options: Mapping[str, Any] | None = None,
    results: Mapping[str, Any] | None = None,
) -> ApproachComparison:
    """Compare Approaches 1, 2 and 3 of Hoffmann et al. (2022) on the same runs.

    * ``"envelope"`` (Approach 1): :func:`envelope`, when the runs hold curves.
    * ``"isoflop"`` (Approach 2): :func:`isoflop` on the final checkpoints,
      when FLOP budgets can be formed.
    * ``"parametric"`` (Approach 3): ``scalefit.fit(..., law="chinchilla")``
      on the final checkpoints; then a = beta / (alpha + beta),
      b = alpha / (alpha + beta), N* = G (C/6)^a and D* = (C/6)^b / G with
      G = (alpha A / (beta B))^(1 / (alpha + beta)).

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
    budgets : sequence of float, default (1e21, 5.76e23)
        FLOP budgets at which to tabulate N* and D* (5.76e23 is Chinchilla's).
    approaches : sequence of str, optional
        Subset of ``("envelope", "isoflop", "parametric")``.  By default all
        that apply; an approach that cannot run is listed in ``skipped``.
        One named explicitly that cannot run raises.
    level : float, default 0.95
        Interval level.
    bootstrap, seed
        Passed to :func:`envelope` and :func:`isoflop`.
    isoflop_options, envelope_options, fit_options : mapping, optional
        Extra keyword arguments for each approach.
    results : mapping, optional
        Results already computed, keyed by approach: an EnvelopeResult for
        ``"envelope"``, an IsoFLOPResult for ``"isoflop"``, a FitResult or
        BootstrapResult for ``"parametric"``.  They are tabulated as they are
        instead of being recomputed; ``runs`` may then be None.

    Returns
    -------
    ApproachComparison
        ``table()`` gives one row per approach with columns a, a_low, a_high,
        b, b_low, b_high, ``n_params@<C>`` and ``n_tokens@<C>``.
    """
    what = "compare_approaches"
    (level,) = check_levels(what, level)
    c = np.atleast_1d(np.asarray(budgets, dtype=float))
    if c.size == 0 or not np.all(np.isfinite(c) & (c > 0)):
        raise ScalefitInputError(f"{what}: budgets must be positive FLOP counts such as (1e21, 5.76e23); got {tuple(budgets)!r}.",
                                 option="budgets")
    explicit = approaches is not None
    names = tuple(APPROACHES if approaches is None else ((approaches,) if isinstance(approaches, str) else approaches))
    bad = [a for a in names if a not in APPROACHES]
    if bad or not names:
        raise ScalefitInputError(f"{what}: unknown approach(es) {bad or names}; choose from {', '.join(APPROACHES)}.",
                                 option="approaches")
    given = dict(results or {})
    bad = [k for k in given if k not in APPROACHES]
    if bad:
        raise ScalefitInputError(f"{what}: results has unknown approach(es) {bad}; keys are {', '.join(APPROACHES)}.",
                                 option="results")
    if runs is None and not given:
        raise ScalefitInputError(f"{what}: give runs, or results already computed.")
    if runs is not None:
        runs = as_runs(runs)
        finals = runs.final() if runs.has_curves else runs
    elif not explicit:
        names = tuple(n for n in names if n in given)
    results = {}
    skipped: dict[str, str] = {}
    rows = []
    for name in APPROACHES:
        if name not in names:
            continue
        try:
            if name in given:
                res = given[name]
                if name == "parametric":
                    row = _parametric_row(res, c, level, float(getattr(runs, "flops_per_param_token", 6.0)))
                else:
                    row = _row_from_powerlaw(name, res, c, level)
            elif runs is None:
                raise ScalefitInputError("no runs given and no precomputed result for it")
            elif name == "envelope":
                if not runs.has_curves:
                    raise ScalefitInputError("needs training curves (a run column; read_runs(..., run_id=[...]))",
                                             options=[Option("run_id", text="read_runs(..., run_id=[...])")])
                res = envelope(runs, bootstrap=bootstrap, level=level, seed=seed, **dict(envelope_options or {}))
                row = _row_from_powerlaw(name, res, c, level)
            elif name == "isoflop":
                res = isoflop(finals, bootstrap=bootstrap, level=level, seed=seed, **dict(isoflop_options or {}))
                row = _row_from_powerlaw(name, res, c, level)
            else:
                res, row = _parametric(finals, c, level, bootstrap, seed, fit_options or {})
        except ScalefitInputError as exc:
            if explicit:
                raise
            skipped[name] = str(exc)
            continue
        if not getattr(res, "success", True):
            if explicit:
                raise ScalefitInputError(f"{what}: approach {name!r} ran but could not fit: {res.message}")
            skipped[name] = f"ran but could not fit: {res.message}"
            continue
        results[name] = res
        rows.append(row)
    if not rows:
        raise ScalefitInputError(f"{what}: no approach could run on these runs: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    out = ApproachComparison(results=MappingProxyType(results), budgets=tuple(float(v) for v in c),
                             skipped=MappingProxyType(skipped), level=level, rows=tuple(rows))
    for message in out.disagreements:
        warn(message[0].upper() + message[1:], ApproachesDisagreeWarning)
    return out


def _row_from_powerlaw(name: str, res: Any, c: np.ndarray, level: float) -> dict[str, Any]:
    if isinstance(res, GroupedIsoFLOPResult):
        raise ScalefitInputError(
            f"compare_approaches: the {name} result is grouped by {list(res.group_by)} ({len(res)} groups); the table "
            f"holds one analysis per approach, so pass one group, e.g. results={{{name!r}: result[{next(iter(res))!r}]}}.",
            option="group_by",
        )
    if not isinstance(res, PowerLawResult):
        raise ScalefitInputError(
            f"compare_approaches: results[{name!r}] must be the result of scalefit.{name}; got {type(res).__name__}.",
            option="results",
        )
    row: dict[str, Any] = {"approach": name}
    for q in ("a", "b"):
        lo, hi = res.intervals[q][level]
        row.update({q: getattr(res, q), f"{q}_low": lo, f"{q}_high": hi})
    alloc = res.predict_optimal(c)
    for i, cv in enumerate(c):
        row[f"n_params@{cv:.3g}"] = float(alloc.n_params[i])
        row[f"n_tokens@{cv:.3g}"] = float(alloc.n_tokens[i])
    return row


def _parametric(runs, c: np.ndarray, level: float, bootstrap: int, seed: int | None, fit_options: Mapping[str, Any]):
    """Approach 3: a Chinchilla fit and its closed-form allocation (intervals from the fit's bootstrap)."""
    res = fit(runs, law="chinchilla", **dict(fit_options))
    boot = None
    if bootstrap:
        boot = res.bootstrap(n=bootstrap, seed=0 if seed is None else seed, n_jobs=1, progress=False)
    out = res if boot is None else boot
    return out, _parametric_row(out, c, level, float(getattr(runs, "flops_per_param_token", 6.0)))


def _parametric_row(res, c: np.ndarray, level: float, k: float) -> dict[str, Any]:
    """Table row of Approach 3 from a FitResult or BootstrapResult (closed-form allocation)."""
    boot = res if hasattr(res, "samples") else None
    fit_res = boot.fit if boot is not None else res
    p = fit_res.params
    _, _, _, alpha, beta = chinchilla_values(p)
    a, b = chinchilla_exponents(alpha, beta)
    n_opt, d_opt, _ = chinchilla_compute_optimal(p, c, flops_per_param_token=k)
    row: dict[str, Any] = {"approach": "parametric", "a": a, "b": b}
    lo_a = hi_a = lo_b = hi_b = float("nan")
    if boot is not None:
        iv = boot.interval(level)
        lo_a, hi_a = float(iv.loc["a", "low"]), float(iv.loc["a", "high"])
        lo_b, hi_b = float(iv.loc["b", "low"]), float(iv.loc["b", "high"])
    row.update({"a_low": lo_a, "a_high": hi_a, "b_low": lo_b, "b_high": hi_b})
    for i, cv in enumerate(c):
        row[f"n_params@{cv:.3g}"] = float(n_opt[i])
        row[f"n_tokens@{cv:.3g}"] = float(d_opt[i])
    return row
