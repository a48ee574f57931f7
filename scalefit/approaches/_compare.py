"""Compute-optimal allocation from training runs: Approaches 1 and 2 of Hoffmann et al. (2022).

* :func:`isoflop` (Approach 2): group runs into FLOP budgets, find the loss
  minimum over model size within each budget, and fit N* = k_n C^a and
  D* = k_d C^b through the minima.
* :func:`envelope` (Approach 1): from training curves, take the lowest loss
  reached at each FLOP value over all runs and fit the same power laws to the
  model sizes on that envelope.
* :func:`compare_approaches`: Approaches 1, 2 and 3 (a parametric
  Chinchilla fit) side by side, as in Table 2 of Hoffmann et al. (2022).

Intervals come from a nonparametric bootstrap (runs resampled within each
budget for Approach 2, whole runs for Approach 1), computed for all resamples
at once in numpy and deterministic for a given ``seed``.

References
----------
Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
arXiv 2203.15556.  Porian et al. (2024), "Resolving Discrepancies in
Compute-Optimal Scaling of Language Models", arXiv 2406.19146.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from ._errors import IsoFLOPWarning, ScalefitInputError, ScalefitWarning
from ._isoflop_core import (
    METHODS,
    bootstrap_counts,
    budget_minima,
    cluster_log_flops,
)
from ._isoflop_results import (
    EnvelopeResult,
    IsoFLOPResult,
    OptimalAllocation,
    _fmt,
    _key_text,
    fit_power_laws,
    intervals_from_samples,
    jsonable,
)
from ._validation import check_level, check_positive_scalar

__all__ = [
    "isoflop",
    "IsoFLOPResult",
    "envelope",
    "EnvelopeResult",
    "compare_approaches",
    "ApproachComparison",
    "OptimalAllocation",
    "IsoFLOPWarning",
]

FLAGS = ("edge", "off_center", "non_convex")
DEFAULT_EXCLUDE = FLAGS




# ======================================================================= input
def _as_runs(runs: Any, what: str):
    """A :class:`~scalefit.runs.Runs`, reading anything else with :func:`scalefit.read_runs`."""
    from .runs import Runs

    if isinstance(runs, Runs):
        return runs
    try:
        from . import read_runs
    except (ImportError, AttributeError) as exc:  # pragma: no cover - only before read_runs exists
        raise ScalefitInputError(
            f"{what}: got {type(runs).__name__}, but scalefit.read_runs is not available to read it; "
            "pass a scalefit.Runs object."
        ) from exc
    return read_runs(runs)


def _check_int(what: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ScalefitInputError(f"{what}: {name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _check_levels(what: str, level: Any) -> tuple[float, ...]:
    levels = (level,) if np.isscalar(level) else tuple(level)
    out = [check_level(lv, where=what) for lv in levels]
    if not out:
        raise ScalefitInputError(f"{what}: level is empty; pass a level such as 0.95 or (0.68, 0.95).")
    return tuple(out)


def _check_flags(what: str, exclude_flags: Any) -> tuple[str, ...]:
    flags = (exclude_flags,) if isinstance(exclude_flags, str) else tuple(exclude_flags)
    bad = [f for f in flags if f not in FLAGS]
    if bad:
        raise ScalefitInputError(f"{what}: exclude_flags holds unknown flag(s) {bad}; choose from {', '.join(FLAGS)}.")
    return flags


def _check_seed(what: str, seed: Any) -> int | None:
    if seed is None:
        return None
    return _check_int(what, "seed", seed, 0)


def _columns(what: str, name: str, cols: Any) -> tuple[str, ...]:
    if cols is None:
        return ()
    cols = (cols,) if isinstance(cols, str) else tuple(cols) if isinstance(cols, (list, tuple)) else (cols,)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ScalefitInputError(f"{what}: {name} must be a column name or a list of column names; got {cols!r}.")
    return cols


def _require_columns(what: str, option: str, table: pd.DataFrame, cols: Iterable[str]) -> None:
    missing = [c for c in cols if c not in table.columns]
    if missing:
        user = [c for c in table.columns if c not in ("row",)]
        raise ScalefitInputError(
            f"{what}: {option} names column(s) {missing} that the runs do not have; "
            f"available columns are {user}. Keep the column when reading the runs, or fix the name.",
            column=missing[0],
        )


def _refuse_missing(what: str, option: str, table: pd.DataFrame, col: str) -> None:
    bad = table[col].isna().to_numpy()
    if bad.any():
        rows = table.loc[bad, "row"].tolist() if "row" in table else np.flatnonzero(bad).tolist()
        raise ScalefitInputError(
            f"{what}: {option} column {col!r} is missing a value in {int(bad.sum())} row(s) "
            f"(rows {rows[:10]}{' ...' if len(rows) > 10 else ''}). Fill them in or drop those rows first.",
            column=col,
            rows=rows,
        )


def _rows(table: pd.DataFrame) -> np.ndarray:
    return table["row"].to_numpy() if "row" in table else np.arange(len(table))


def _groups(what: str, table: pd.DataFrame, group_by: tuple[str, ...]) -> list[tuple[tuple, pd.DataFrame]]:
    if not group_by:
        return [((), table)]
    _require_columns(what, "group_by", table, group_by)
    for c in group_by:
        _refuse_missing(what, "group_by", table, c)
    return [((k if isinstance(k, tuple) else (k,)), g) for k, g in table.groupby(list(group_by), sort=True)]


def _warn(messages: list[str]) -> None:
    """One IsoFLOPWarning, attributed to the first caller outside scalefit."""
    if not messages:
        return
    import os
    import sys

    pkg = os.path.dirname(os.path.abspath(__file__))
    level, frame = 1, sys._getframe(0)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg):
        frame = frame.f_back
        level += 1
    warnings.warn("\n".join(messages), IsoFLOPWarning, stacklevel=level)


def _no_samples() -> pd.DataFrame:
    return pd.DataFrame({q: pd.Series(dtype=float) for q in ("a", "b", "k_n", "k_d")})


# ============================================================== Approach 2
def isoflop(
    runs: Any,
    *,
    budget: str | None = None,
    group_by: str | Sequence[str] | None = None,
    min_points: int = 3,
    tolerance: float = 0.1,
    method: Literal["nearest", "parabola", "cubic"] = "nearest",
    n_nearest: int = 6,
    best_per_size: bool = False,
    exclude_flags: Sequence[str] = DEFAULT_EXCLUDE,
    bootstrap: int = 1000,
    level: float | Sequence[float] = 0.95,
    seed: int | None = 0,
    n_jobs: int = 1,
    flops_per_param_token: float | None = None,
) -> IsoFLOPResult:
    """IsoFLOP analysis (Approach 2 of Hoffmann et al., 2022).

    Runs are grouped into FLOP budgets.  Within each budget the loss is fitted
    against log10 N and its minimum gives N*(C), D*(C) = C / (k N*) and L*(C).
    Then N* = k_n C^a and D* = k_d C^b are fitted by least squares in log-log
    space over the budgets whose minimum is trustworthy.

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
        One row per run (final loss).  Training curves (a ``run`` column) are
        reduced to each run's final checkpoint.
    budget : str, optional
        Column holding each run's FLOP budget.  By default budgets are found by
        clustering ``flops`` in log space (see ``tolerance``).
    group_by : str or list of str, optional
        Run the whole analysis separately for every combination of these
        columns; the result then holds one result per group in ``groups``.
    min_points : int, default 3
        Budgets with fewer runs are not analysed; their rows are reported in
        ``unassigned``.
    tolerance : float, default 0.1
        Relative FLOP gap that splits budgets: sorted runs whose FLOPs are
        within a factor ``1 + tolerance`` of the previous run join its budget.
    method : {"nearest", "parabola", "cubic"}, default "nearest"
        How the minimum of loss against log10 N is found.  ``"parabola"`` fits
        one parabola to all runs of a budget (Hoffmann et al.); ``"nearest"``
        fits it only to the runs of the ``n_nearest`` model sizes closest in
        log N to the lowest observed loss (the same as ``"parabola"`` when a
        budget has no more sizes than that); ``"cubic"`` fits a cubic and takes its local minimum.
        The default is ``"nearest"`` because loss is only parabolic in log N
        near the optimum: wide sweeps rise much more steeply on the
        too-few-tokens side, which biases an all-points parabola.  On Porian
        et al.'s (2024) 15 configurations it reproduces their exponent ``a``
        within 0.03 (mean 0.012); an all-points parabola misses by up to 0.08.
    n_nearest : int, default 6
        Distinct model sizes used by ``method="nearest"`` (at least 3); every
        run of those sizes enters the fit.
    best_per_size : bool, default False
        Within each budget keep only the lowest-loss run of each model size
        (e.g. the best learning rate of a sweep).  The other runs are listed
        in ``unassigned`` with that reason.
    exclude_flags : sequence of str, default all
        Budgets carrying any of these flags are left out of the power-law fit:
        ``"edge"`` (the lowest loss is at the smallest or largest model, so
        the sweep does not bracket the minimum), ``"off_center"`` (the fitted
        minimum lies outside the sampled model sizes), ``"non_convex"`` (the
        fitted curve has no minimum; such budgets are always left out).
    bootstrap : int, default 1000
        Resamples for the intervals (0 for none).  Each resample draws the runs
        of every budget with replacement within that budget.
    level : float or sequence of float, default 0.95
        Level(s) of the percentile intervals.
    seed : int or None, default 0
        Seed of the bootstrap; the same seed gives the same result.
    n_jobs : int, default 1
        Threads used across groups (``-1``: all cores).
    flops_per_param_token : float, optional
        k in D* = C / (k N*); default the runs' own (6 unless read otherwise).

    Returns
    -------
    IsoFLOPResult

    Raises
    ------
    ScalefitInputError
        For a bad option, a missing column, or fewer than two budgets.

    Warns
    -----
    IsoFLOPWarning
        When budgets are left out of the fit, rows join no budget, or many
        resamples are unusable.

    Examples
    --------
    >>> res = scalefit.isoflop("sweeps.csv")                    # doctest: +SKIP
    >>> res.a, res.interval("a")                                # doctest: +SKIP
    >>> res.predict_optimal(1e21).n_params                      # doctest: +SKIP
    """
    what = "isoflop"
    if method not in METHODS:
        raise ScalefitInputError(f"{what}: method must be one of {', '.join(map(repr, METHODS))}; got {method!r}.")
    min_points = _check_int(what, "min_points", min_points, 3)
    n_nearest = _check_int(what, "n_nearest", n_nearest, 3)
    tolerance = check_positive_scalar(tolerance, "tolerance", where=what)
    bootstrap = _check_int(what, "bootstrap", bootstrap, 0)
    levels = _check_levels(what, level)
    seed = _check_seed(what, seed)
    flags = _check_flags(what, exclude_flags)
    if not isinstance(best_per_size, (bool, np.bool_)):
        raise ScalefitInputError(f"{what}: best_per_size must be True or False; got {best_per_size!r}.")
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ScalefitInputError(f"{what}: n_jobs must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    group_cols = _columns(what, "group_by", group_by)
    if budget is not None and not isinstance(budget, str):
        raise ScalefitInputError(f"{what}: budget must be the name of a column holding FLOP budgets; got {budget!r}.")

    runs = _as_runs(runs, what)
    if flops_per_param_token is None:
        flops_per_param_token = float(getattr(runs, "flops_per_param_token", 6.0))
    k = check_positive_scalar(flops_per_param_token, "flops_per_param_token", where=what)
    table = runs.table
    notes: list[str] = []
    if runs.has_curves:
        table = runs.final().table
        n_dropped = len(runs) - len(table)
        if n_dropped:
            notes.append(f"training curves given: used each run's final checkpoint ({len(table)} runs; {n_dropped} earlier checkpoints not used).")
    if budget is not None:
        _require_columns(what, "budget", table, [budget])
        vals = pd.to_numeric(table[budget], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(vals) & (vals > 0))
        if bad.any():
            rows = _rows(table)[bad].tolist()
            found = table[budget].to_numpy()[bad][:5].tolist()
            raise ScalefitInputError(
                f"{what}: budget column {budget!r} must hold positive finite FLOP counts; rows {rows[:10]} hold {found}. "
                "Fix those values or let isoflop cluster the flops column (budget=None).",
                column=budget,
                rows=rows,
            )
    groups = _groups(what, table, group_cols)

    opts = dict(
        budget=budget, min_points=min_points, tolerance=tolerance, method=method, n_nearest=n_nearest,
        best_per_size=bool(best_per_size), exclude_flags=flags, bootstrap=bootstrap, levels=levels, k=k, group_by=group_cols, seed=seed,
    )
    seeds = np.random.SeedSequence(seed).spawn(len(groups))
    jobs = [(key, sub, np.random.default_rng(s)) for (key, sub), s in zip(groups, seeds)]
    if n_jobs == 1 or len(jobs) == 1:
        results = [_isoflop_group(key, sub, rng, **opts) for key, sub, rng in jobs]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(_isoflop_group)(key, sub, rng, **opts) for key, sub, rng in jobs)

    for (key, _), (res, msgs) in zip(groups, results):
        prefix = f"[{_key_text(group_cols, key)}] " if group_cols else ""
        notes += [prefix + m for m in msgs]
    _warn(notes)
    if not group_cols:
        return results[0][0]
    per_group = MappingProxyType({key: res for (key, _), (res, _) in zip(groups, results)})
    nan = float("nan")
    n_fail = sum(not r.success for r in per_group.values())
    return IsoFLOPResult(
        a=nan, b=nan, k_n=nan, k_d=nan,
        intervals=intervals_from_samples(_no_samples(), levels),
        level=levels, bootstrap_samples=_no_samples(),
        n_bootstrap=bootstrap, n_bootstrap_valid=min((r.n_bootstrap_valid for r in per_group.values()), default=0),
        success=n_fail == 0,
        message=f"{len(per_group)} groups analysed" + (f"; {n_fail} without a usable power-law fit" if n_fail else ""),
        seed=seed, optima=_empty_optima(), unassigned=pd.concat([r.unassigned for r in per_group.values()], ignore_index=True),
        method=method, n_nearest=n_nearest, tolerance=tolerance, budget=budget, min_points=min_points,
        exclude_flags=flags, flops_per_param_token=k, best_per_size=bool(best_per_size), key=(), group_by=group_cols,
        groups=per_group,
    )


def _empty_optima() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=t) for c, t in [("flops", float), ("n_params", float), ("n_tokens", float), ("loss", float),
                                           ("flags", object), ("n_points", int), ("used", bool),
                                           ("n_params_sd_log10", float), ("flops_spread", float)]}
    )


def _geomean(values: np.ndarray) -> float:
    """Geometric mean; exactly the common value when all values are equal."""
    if values.min() == values.max():
        return float(values[0])
    return float(np.exp(np.log(values).mean()))


def _isoflop_group(key, sub, rng, *, budget, min_points, tolerance, method, n_nearest, best_per_size, exclude_flags,
                   bootstrap, levels, k, group_by, seed):
    """Approach 2 on one group's rows; returns (result, messages to warn)."""
    what = "isoflop" + (f" [{_key_text(group_by, key)}]" if group_by else "")
    msgs: list[str] = []
    flops = sub["flops"].to_numpy(dtype=float)
    rows = _rows(sub)
    if budget is not None:
        bvals = pd.to_numeric(sub[budget]).to_numpy(dtype=float)
        labels = pd.factorize(bvals, sort=True)[0]
    else:
        labels = cluster_log_flops(flops, tolerance)
    degree = 3 if method == "cubic" else 2
    log_n_all = np.log10(sub["n_params"].to_numpy(dtype=float))
    loss_all = sub["loss"].to_numpy(dtype=float)

    kept: list[np.ndarray] = []
    unassigned = []
    for lab in range(labels.max() + 1 if len(labels) else 0):
        idx = np.flatnonzero(labels == lab)
        c_val = float(bvals[idx[0]]) if budget is not None else _geomean(flops[idx])
        if best_per_size:
            order = idx[np.lexsort((loss_all[idx], log_n_all[idx]))]
            first = np.r_[True, np.diff(log_n_all[order]) != 0]
            worse = order[~first]
            why = f"not the lowest-loss run of its model size in budget C~{c_val:.3g} (best_per_size=True)"
            unassigned += [{"row": int(r), "flops": float(f), "reason": why} for r, f in zip(rows[worse], flops[worse])]
            idx = np.sort(order[first])
        n_distinct = len(np.unique(log_n_all[idx]))
        reason = None
        if len(idx) < min_points:
            reason = f"budget C~{c_val:.3g} has {len(idx)} run(s), fewer than min_points={min_points}"
        elif n_distinct < degree + 1:
            reason = f"budget C~{c_val:.3g} has only {n_distinct} distinct model size(s); a {method} fit needs {degree + 1}"
        if reason:
            unassigned += [{"row": int(r), "flops": float(f), "reason": reason} for r, f in zip(rows[idx], flops[idx])]
        else:
            kept.append(idx)
    unassigned_df = pd.DataFrame(unassigned, columns=["row", "flops", "reason"])
    n_not_best = sum("best_per_size" in u["reason"] for u in unassigned)
    if len(unassigned) > n_not_best:
        msgs.append(f"{len(unassigned) - n_not_best} row(s) joined no usable budget (see result.unassigned): "
                    + "; ".join(sorted({u['reason'] for u in unassigned if 'best_per_size' not in u['reason']})[:5]))
    if len(kept) < 2:
        hint = (f"pass budget='<column>' naming the budget of each run, or a larger tolerance (now {tolerance:g})"
                if budget is None else "give at least two budgets with enough runs each")
        raise ScalefitInputError(
            f"{what}: found {len(kept)} usable FLOP budget(s) (of {labels.max() + 1 if len(labels) else 0} formed, "
            f"min_points={min_points}); an IsoFLOP fit needs at least 2. Fix: {hint}.",
            column=budget or "flops",
        )

    # ---- padded per-budget arrays, each budget sorted by model size
    G = len(kept)
    P = max(len(i) for i in kept)
    X = np.zeros((G, P))
    Y = np.zeros((G, P))
    uid = np.tile(np.arange(P), (G, 1))  # padding gets ids of its own (weight 0)
    centre = np.zeros(G)
    c_budget = np.zeros(G)
    spread = np.zeros(G)
    sizes = np.array([len(i) for i in kept])
    edge = np.zeros(G, dtype=bool)
    xr = np.zeros((G, 2))
    sorted_idx = []
    for g, idx in enumerate(kept):
        idx = idx[np.lexsort((loss_all[idx], log_n_all[idx]))]
        sorted_idx.append(idx)
        x = log_n_all[idx]
        centre[g] = x.mean()
        X[g, : len(idx)] = x - centre[g]
        Y[g, : len(idx)] = loss_all[idx]
        uid[g, : len(idx)] = np.unique(x, return_inverse=True)[1]
        xr[g] = (x[0] - centre[g], x[-1] - centre[g])
        best = x[np.argmin(loss_all[idx])]
        edge[g] = best == x[0] or best == x[-1]
        f = flops[idx]
        c_budget[g] = float(bvals[idx[0]]) if budget is not None else _geomean(f)
        spread[g] = f.max() / f.min()

    W = bootstrap_counts(rng, sizes, P, bootstrap)
    m = budget_minima(X, Y, W, uid, P, method=method, n_nearest=n_nearest)
    inside = (m["x"] >= xr[:, 0]) & (m["x"] <= xr[:, 1])
    valid = m["ok"] & (m["curvature"] > 0) & inside  # (R, G)

    flag_lists = []
    for g in range(G):
        fl = []
        if edge[g]:
            fl.append("edge")
        if m["ok"][0, g] and m["curvature"][0, g] > 0 and not inside[0, g]:
            fl.append("off_center")
        if not (m["ok"][0, g] and m["curvature"][0, g] > 0):
            fl.append("non_convex")
        flag_lists.append(tuple(fl))
    used = np.array([not (set(fl) & set(exclude_flags)) and "non_convex" not in fl for fl in flag_lists])

    log_c = np.log10(c_budget)
    log_n = m["x"] + centre  # (R, G)
    log_d = log_c - np.log10(k) - log_n
    mask = valid & used[None, :]
    fits = fit_power_laws(log_c, log_n, log_d, mask)
    with np.errstate(invalid="ignore"):
        sd = np.array([np.nanstd(log_n[1:, g][valid[1:, g]]) if valid[1:, g].sum() >= 2 else np.nan for g in range(G)])

    point_ok = fits.ok
    n_used = int(used.sum())
    if point_ok:
        message = f"power laws fitted through {n_used} of {G} budgets"
    else:
        message = (f"fewer than 2 usable budgets ({n_used} of {G}); no power law fitted. "
                   "Sweeps must bracket each budget's minimum, or pass exclude_flags=() to use flagged budgets.")
        msgs.append(message)
    if not all(used):
        msgs.append(
            f"{G - n_used} of {G} budget(s) left out of the power-law fit: "
            + "; ".join(f"C={c_budget[g]:.3g} ({', '.join(flag_lists[g])})" for g in range(G) if not used[g])
            + ". See result.excluded_budgets; pass exclude_flags=() to keep flagged budgets."
        )
    # several runs at one model size in a budget: different configurations pooled, or
    # hyperparameter variants; either way the per-budget curve mixes them
    repeated = [g for g in range(G) if len(np.unique(log_n_all[kept[g]])) < len(kept[g])]
    if repeated and not best_per_size:
        worst = max(len(kept[g]) / len(np.unique(log_n_all[kept[g]])) for g in repeated)
        msgs.append(
            f"{len(repeated)} of {G} budget(s) hold several runs of the same model size (up to {worst:.1f} per size). "
            "If they are different configurations (data set, schedule, ...), analyse each on its own with "
            "group_by=[...] (CLI --group-by); if they are hyperparameter variants, pass best_per_size=True."
        )
    wide = spread > (1 + tolerance) ** 2
    if budget is None and wide.any():
        msgs.append(
            f"{int(wide.sum())} clustered budget(s) span more than a factor {(1 + tolerance) ** 2:.3g} in FLOPs "
            "(chained clustering); pass budget='<column>' or a smaller tolerance if budgets were merged."
        )
    if bootstrap and point_ok and fits.n_valid < 0.9 * bootstrap:
        msgs.append(f"only {fits.n_valid} of {bootstrap} bootstrap resamples gave a fit; intervals rest on those.")

    # a curve without a minimum has no optimum: report NaN rather than its stationary point (a maximum)
    convex = np.array(["non_convex" not in fl for fl in flag_lists])
    optima = pd.DataFrame(
        {
            "flops": c_budget,
            "n_params": np.where(convex, 10.0 ** log_n[0], np.nan),
            "n_tokens": np.where(convex, 10.0 ** log_d[0], np.nan),
            "loss": np.where(convex, m["loss"][0], np.nan),
            "flags": flag_lists,
            "n_points": sizes,
            "used": used,
            "n_params_sd_log10": sd,
            "flops_spread": spread,
            # the curve fitted to each budget: coefficients (highest power first, numpy.polyval order)
            # in log10 N - centre, and the rows it was fitted to, so plots draw exactly what was fitted
            "curve": [tuple(float(v) for v in m["coef"][0, g][::-1]) for g in range(G)],
            "centre": centre,
            "rows": [tuple(int(r) for r in rows[sorted_idx[g]]) for g in range(G)],
            "rows_used": [tuple(int(r) for r in rows[sorted_idx[g]][m["use"][0, g, : sizes[g]]]) for g in range(G)],
        }
    )
    nan = float("nan")
    res = IsoFLOPResult(
        a=fits.a,
        b=fits.b,
        k_n=fits.k_n if point_ok else nan,
        k_d=fits.k_d if point_ok else nan,
        intervals=intervals_from_samples(fits.samples, levels),
        level=levels,
        bootstrap_samples=fits.samples,
        n_bootstrap=bootstrap,
        n_bootstrap_valid=fits.n_valid,
        success=point_ok,
        message=message,
        seed=seed,
        optima=optima,
        unassigned=unassigned_df,
        method=method,
        n_nearest=n_nearest,
        tolerance=tolerance,
        budget=budget,
        min_points=min_points,
        exclude_flags=exclude_flags,
        flops_per_param_token=k,
        best_per_size=best_per_size,
        key=key,
        group_by=group_by,
    )
    return res, msgs


# ============================================================== Approach 1
def envelope(
    runs: Any,
    *,
    n_grid: int = 200,
    final_only: bool = False,
    min_tokens: float | None = None,
    min_fraction: float | None = None,
    exclude_flags: Sequence[str] = ("edge",),
    bootstrap: int = 1000,
    level: float | Sequence[float] = 0.95,
    seed: int | None = 0,
) -> EnvelopeResult:
    """Minimum-over-training-curves analysis (Approach 1 of Hoffmann et al., 2022).

    Every run's loss is interpolated (log loss against log FLOPs) onto a grid
    of ``n_grid`` log-spaced FLOP values spanning the checkpoints.  At each
    grid value the run with the lowest loss is on the envelope; its model size
    and the tokens it had seen there give N_opt(C) and D_opt(C), and
    N_opt = k_n C^a, D_opt = k_d C^b are fitted by least squares in log-log
    space.  With several runs per model size (e.g. a learning-rate sweep) the
    envelope takes the best one.

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
        Training curves: a ``run`` column (``read_runs(..., run_id=[...])``)
        and optionally ``step``.  FLOPs along a curve are the table's ``flops``.
    n_grid : int, default 200
        Number of log-spaced FLOP values.
    final_only : bool, default False
        Use only each run's final checkpoint.  An intermediate checkpoint of a
        run with a decaying (e.g. cosine) schedule is not a fair point: its
        learning rate has not been annealed, so its loss is higher than a run
        planned for that many tokens would reach (Hoffmann et al., 2022,
        Sec. 3.1 and App. A).  The envelope is then the set of final
        checkpoints that no run with fewer FLOPs beats.  Without curves
        (no ``run`` column) each row counts as one run's final checkpoint.
    min_tokens : float, optional
        Drop checkpoints that had seen fewer tokens (warmup noise).
    min_fraction : float, optional
        Drop checkpoints before this fraction (0 to 1) of their run's length
        (tokens relative to the run's last checkpoint).
    exclude_flags : sequence of str, default ("edge",)
        Frontier points carrying these flags are left out of the fit.
        ``"edge"``: the winning run is the smallest or largest model covering
        that FLOP value, so the true optimum may lie beyond the sampled sizes
        (always the case where only one model size reaches a FLOP value).
    bootstrap : int, default 1000
        Resamples of whole runs, with replacement (0 for none).
    level : float or sequence of float, default 0.95
        Level(s) of the percentile intervals.
    seed : int or None, default 0
        Seed of the bootstrap.

    Returns
    -------
    EnvelopeResult
        ``dropped`` counts the checkpoints each filter removed.

    Raises
    ------
    ScalefitInputError
        For a bad option, runs without curves (unless ``final_only``), or no
        frontier to fit.

    Warns
    -----
    IsoFLOPWarning
        When runs cannot contribute or frontier points are left out.
    """
    from ._isoflop_envelope import compute_envelope

    what = "envelope"
    n_grid = _check_int(what, "n_grid", n_grid, 2)
    bootstrap = _check_int(what, "bootstrap", bootstrap, 0)
    levels = _check_levels(what, level)
    seed = _check_seed(what, seed)
    if not isinstance(final_only, (bool, np.bool_)):
        raise ScalefitInputError(f"{what}: final_only must be True or False; got {final_only!r}.")
    if min_tokens is not None:
        min_tokens = check_positive_scalar(min_tokens, "min_tokens", allow_zero=True, where=what)
    if min_fraction is not None:
        min_fraction = check_positive_scalar(min_fraction, "min_fraction", allow_zero=True, where=what)
        if min_fraction >= 1:
            raise ScalefitInputError(
                f"{what}: min_fraction must be below 1 (it is the fraction of each run's length to skip); got {min_fraction!r}."
            )
    flags = _check_flags(what, exclude_flags)
    runs = _as_runs(runs, what)
    if not runs.has_curves and not final_only:
        raise ScalefitInputError(
            f"{what}: needs training curves, but the runs have no 'run' column. Read them with "
            "read_runs(..., run_id=[<columns identifying a run>]) (CLI: --run-id), or pass final_only=True "
            "to treat every row as one run's final checkpoint."
        )
    msgs: list[str] = []
    table, not_final = runs.table, 0
    if final_only and runs.has_curves:
        table = runs.final().table
        not_final = len(runs) - len(table)
    res = compute_envelope(
        table, not_final=not_final, n_grid=n_grid, final_only=bool(final_only), min_tokens=min_tokens, min_fraction=min_fraction,
        exclude_flags=flags, bootstrap=bootstrap, levels=levels, seed=seed, msgs=msgs,
    )
    _warn(msgs)
    return res


# ======================================================= compare approaches
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

    def table(self) -> pd.DataFrame:
        """One row per approach: a, b with interval bounds, and N*, D* at each budget."""
        df = pd.DataFrame(list(self.rows))
        return df.set_index("approach") if len(df) else df

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``approaches`` (one object per row), ``budgets``, ``skipped``."""
        return jsonable({"budgets": list(self.budgets), "level": self.level, "approaches": list(self.rows), "skipped": dict(self.skipped)})

    def summary(self):
        """Text/HTML rendering of :meth:`table`."""
        from ._isoflop_results import _summary

        header = ["approach", "a", f"a {self.level:.0%}", "b", f"b {self.level:.0%}"]
        for c in self.budgets:
            header += [f"N* @ {c:.3g}", f"D* @ {c:.3g}"]
        rows = []
        for r in self.rows:
            row = [r["approach"], _fmt(r["a"]), f"[{_fmt(r['a_low'])}, {_fmt(r['a_high'])}]", _fmt(r["b"]), f"[{_fmt(r['b_low'])}, {_fmt(r['b_high'])}]"]
            for c in self.budgets:
                row += [_fmt(r[f"n_params@{c:.3g}"]), _fmt(r[f"n_tokens@{c:.3g}"])]
            rows.append(row)
        notes = [f"{k} not run: {v}" for k, v in self.skipped.items()]
        return _summary("Compute-optimal scaling: approaches compared", [], [("", header, rows)], notes)

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
    (level,) = _check_levels(what, level)
    c = np.atleast_1d(np.asarray(budgets, dtype=float))
    if c.size == 0 or not np.all(np.isfinite(c) & (c > 0)):
        raise ScalefitInputError(f"{what}: budgets must be positive FLOP counts such as (1e21, 5.76e23); got {tuple(budgets)!r}.")
    explicit = approaches is not None
    names = tuple(APPROACHES if approaches is None else ((approaches,) if isinstance(approaches, str) else approaches))
    bad = [a for a in names if a not in APPROACHES]
    if bad or not names:
        raise ScalefitInputError(f"{what}: unknown approach(es) {bad or names}; choose from {', '.join(APPROACHES)}.")
    given = dict(results or {})
    bad = [k for k in given if k not in APPROACHES]
    if bad:
        raise ScalefitInputError(f"{what}: results has unknown approach(es) {bad}; keys are {', '.join(APPROACHES)}.")
    if runs is None and not given:
        raise ScalefitInputError(f"{what}: give runs, or results already computed.")
    if runs is not None:
        runs = _as_runs(runs, what)
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
                    raise ScalefitInputError("needs training curves (a run column; read_runs(..., run_id=[...]))")
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
    return ApproachComparison(results=MappingProxyType(results), budgets=tuple(float(v) for v in c),
                              skipped=MappingProxyType(skipped), level=level, rows=tuple(rows))


def _row_from_powerlaw(name: str, res, c: np.ndarray, level: float) -> dict[str, Any]:
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
    try:
        from .fitting import fit
    except ImportError as exc:  # pragma: no cover - only in builds without the fitting engine
        raise ScalefitInputError(
            "scalefit.fit is not available in this installation, so Approach 3 (parametric fit) cannot run; "
            "pass approaches=('envelope', 'isoflop')."
        ) from exc
    res = fit(runs, law="chinchilla", **dict(fit_options))
    boot = None
    if bootstrap:
        boot = res.bootstrap(n=bootstrap, seed=0 if seed is None else seed, n_jobs=1, progress=False)
    out = res if boot is None else boot
    return out, _parametric_row(out, c, level, float(getattr(runs, "flops_per_param_token", 6.0)))


def _parametric_row(res, c: np.ndarray, level: float, k: float) -> dict[str, Any]:
    """Table row of Approach 3 from a FitResult or BootstrapResult (closed-form allocation)."""
    from .laws import chinchilla_compute_optimal

    boot = res if hasattr(res, "samples") else None
    fit_res = boot.fit if boot is not None else res
    p = fit_res.params
    alpha, beta = float(p["alpha"]), float(p.get("beta", p["alpha"]))
    a, b = beta / (alpha + beta), alpha / (alpha + beta)
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
