"""Approach 2 of Hoffmann et al. (2022): IsoFLOP profiles (private; see :func:`isoflop`).

The padded-array kernels come first (:func:`cluster_log_flops`,
:func:`bootstrap_counts`, :func:`budget_minima`), then the analysis that
forms budgets per group and calls them (:func:`isoflop`).

Everything in the kernels works on padded arrays so that the point estimate and every
bootstrap replicate of every FLOP budget are computed in a handful of numpy
calls, never in a Python loop over replicates:

* ``X``, ``Y`` have shape ``(G, P)``: budget ``g`` holds its ``n_g <= P``
  points (log10 model size, centred per budget, and loss), padded after
  ``n_g``.
* ``W`` has shape ``(R, G, P)``: the multiplicity of each point in replicate
  ``r`` (row 0 is the data itself, all ones; padding is 0).

A weighted least-squares polynomial fit then reduces to sums of ``W * X**p``
and one batched ``numpy.linalg.solve``.
"""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from .._errors import IsoFLOPBiasWarning, Option, ScalefitInputError, warn
from .._validation import check_n_jobs, check_positive_scalar
from ..runs import Runs, as_runs
from ._bias import bias_check
from ._checks import (
    FLAGS,
    check_bool,
    check_columns,
    check_flags,
    check_int,
    check_levels,
    check_seed,
    refuse_missing,
    require_columns,
    row_numbers,
    warn_notes,
)
from ._isoflop_result import GroupedIsoFLOPResult, IsoFLOPResult, key_text
from ._powerlaw import few_resamples_note, fit_power_laws, intervals_from_samples
from ._profile import profile_minima, profile_values

METHODS = ("profile", "parabola", "cubic", "nearest")


# --------------------------------------------------------------------- budgets
def cluster_log_flops(flops: np.ndarray, tolerance: float) -> np.ndarray:
    """Single-linkage clusters of FLOP values in log space.

    Sorted values whose ratio to their predecessor is at most ``1 + tolerance``
    join the predecessor's cluster.  Returns an integer label per input value
    (labels increase with FLOPs).
    """
    flops = np.asarray(flops, dtype=float)
    order = np.argsort(flops, kind="stable")
    logc = np.log(flops[order])
    new = np.empty(len(logc), dtype=bool)
    if len(logc):
        new[0] = True
        new[1:] = np.diff(logc) > np.log1p(tolerance)
    labels_sorted = np.cumsum(new) - 1
    labels = np.empty(len(flops), dtype=int)
    labels[order] = labels_sorted
    return labels


#: Largest number of (replicate, budget, point) cells one batch of resamples holds; larger bootstraps are drawn and
#: analysed in consecutive batches so peak memory stays bounded whatever the number of rows (issue 12).
CHUNK_CELLS = 1 << 21


def chunk_rows(n_groups: int, n_pad: int, *, cells: int | None = None) -> int:
    """Resamples per batch: as many as fit in ``cells`` (default :data:`CHUNK_CELLS`) cells, at least one."""
    return max(1, int(CHUNK_CELLS if cells is None else cells) // max(1, n_groups * n_pad))


def bootstrap_count_chunks(rng: np.random.Generator, sizes: np.ndarray, n_pad: int, n_boot: int, *,
                           chunk: int | None = None):
    """Yield the multiplicities of :func:`bootstrap_counts` in batches of at most ``chunk`` resamples.

    Each batch is ``(n + 1, G, P)`` with row 0 the data (all ones on the
    budget's points) followed by the batch's ``n`` resamples.  numpy's
    Generator fills a C-order array in sequence, so consecutive draws of
    ``(n, G, P)`` reproduce one draw of ``(n_boot, G, P)``: the resamples are
    the same for a seed whatever the batch size.
    """
    sizes = np.asarray(sizes, dtype=int)
    n_groups = len(sizes)
    if chunk is None:
        chunk = chunk_rows(n_groups, n_pad)
    chunk = max(1, int(chunk))
    valid = np.arange(n_pad)[None, :] < sizes[:, None]  # (G, P)
    g = np.arange(n_groups)[None, :, None]
    start = 0
    while True:
        n = min(chunk, n_boot - start)
        counts = np.zeros((n + 1, n_groups, n_pad))
        counts[0] = valid
        if n > 0:
            draws = rng.random((n, n_groups, n_pad))
            idx = np.minimum((draws * sizes[None, :, None]).astype(int), n_pad - 1)
            del draws
            b = np.arange(n)[:, None, None]
            lin = ((b * n_groups + g) * n_pad + idx)[np.broadcast_to(valid, idx.shape)]
            counts[1:] = np.bincount(lin, minlength=n * n_groups * n_pad).reshape(n, n_groups, n_pad)
        yield counts
        start += n
        if start >= n_boot:
            return


def bootstrap_counts(rng: np.random.Generator, sizes: np.ndarray, n_pad: int, n_boot: int) -> np.ndarray:
    """Multiplicities ``(n_boot + 1, G, P)``: row 0 is the data, rows 1.. resample within each budget.

    Budget ``g`` draws ``sizes[g]`` points with replacement from its own
    ``sizes[g]`` points (a nonparametric bootstrap within budgets).  All in one
    array; :func:`bootstrap_count_chunks` yields the same resamples in batches.
    """
    parts = list(bootstrap_count_chunks(rng, sizes, n_pad, n_boot, chunk=max(1, n_boot)))
    return parts[0]


# ----------------------------------------------------------------- polynomials
def _distinct_present(W: np.ndarray, uid: np.ndarray, n_unique: int) -> np.ndarray:
    """Number of distinct x values with positive weight, shape ``W.shape[:-1]``."""
    if np.all(uid == np.arange(uid.shape[-1])):  # no repeated x (padding counts as distinct, weight 0)
        return (W > 0).sum(-1)
    onehot = (uid[..., None] == np.arange(n_unique)).astype(float)  # (G, P, U)
    per_value = np.einsum("rgp,gpu->rgu", (W > 0).astype(float), onehot)
    return (per_value > 0).sum(-1)


def _weighted_polyfit(X: np.ndarray, Y: np.ndarray, W: np.ndarray, degree: int, ok: np.ndarray) -> np.ndarray:
    """Coefficients ``c[..., p]`` of ``sum_p c_p x**p`` by weighted least squares.

    Entries where ``ok`` is false get NaN (they have too few distinct points).
    """
    powers = [np.ones_like(X)]
    for _ in range(2 * degree):
        powers.append(powers[-1] * X)
    S = np.stack([(W * p).sum(-1) for p in powers], -1)  # (R, G, 2d+1)
    T = np.stack([(W * powers[p] * Y).sum(-1) for p in range(degree + 1)], -1)  # (R, G, d+1)
    ij = np.add.outer(np.arange(degree + 1), np.arange(degree + 1))
    M = S[..., ij]  # (R, G, d+1, d+1)
    eye = np.eye(degree + 1)
    M = np.where(ok[..., None, None], M, eye)
    T = np.where(ok[..., None], T, 0.0)
    coef = np.linalg.solve(M, T[..., None])[..., 0]
    coef[~ok] = np.nan
    return coef


def _rank(values: np.ndarray) -> np.ndarray:
    """Rank of each entry along the last axis (0 = smallest; ties in order of position)."""
    order = np.argsort(values, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(values.shape[-1]), order.shape), axis=-1)
    return rank


def _nearest_sizes(dist: np.ndarray, uid: np.ndarray, n_unique: int, k: int) -> np.ndarray:
    """Points whose model size is among the ``k`` distinct sizes nearest (``dist``) the best point.

    Absent points carry ``dist = inf`` and are never selected.  Several runs of
    one size (e.g. a learning-rate sweep) all enter together.
    """
    if np.all(uid == np.arange(uid.shape[-1])):  # every point its own size
        return (_rank(dist) < k) & np.isfinite(dist)
    onehot = uid[..., None] == np.arange(n_unique)  # (G, P, U)
    dist_u = np.where(onehot, dist[..., None], np.inf).min(axis=-2)  # (R, G, U)
    sel_u = (_rank(dist_u) < k) & np.isfinite(dist_u)
    return np.take_along_axis(sel_u, np.broadcast_to(uid, dist.shape), axis=-1) & np.isfinite(dist)


def budget_minima(
    X: np.ndarray,
    Y: np.ndarray,
    W: np.ndarray,
    uid: np.ndarray,
    n_unique: int,
    *,
    method: str,
    n_nearest: int,
    max_excess_loss: float | None = None,
    profile_start: tuple[float, float] | None = None,
) -> dict[str, np.ndarray]:
    """Minimum of loss against centred log10 N for every (replicate, budget).

    Returns a dict of ``(R, G)`` arrays: ``x`` (vertex, centred log10 N),
    ``loss`` (fitted loss there), ``curvature`` (second derivative there;
    positive means a minimum), ``ok`` (enough distinct points were present);
    plus ``coef`` ``(R, G, degree+1)``, the polynomial's coefficients in
    increasing powers of centred log10 N, and ``use`` ``(R, G, P)``, which
    points entered each fit.  ``method="profile"`` fits the Chinchilla profile
    (:func:`._profile.profile_minima`; ``coef`` then holds ``(c0, c1, c2, alpha, beta)``) to the
    points whose loss is at most ``1 + max_excess_loss`` times the budget's lowest (all points when None);
    ``profile_start`` gives the data's exponents ``(alpha, beta)`` when already fitted (by an earlier batch).
    """
    present = W > 0
    if method == "profile":
        if max_excess_loss is not None:
            lowest = np.where(present, Y, np.inf).min(-1, keepdims=True)
            W = np.where(Y <= lowest * (1.0 + max_excess_loss), W, 0.0)
        return profile_minima(X, Y, W, _distinct_present(W, uid, n_unique) >= 3, start=profile_start)
    if method == "nearest":
        ymask = np.where(present, Y, np.inf)
        best = np.argmin(ymask, axis=-1)[..., None]
        x0 = np.take_along_axis(np.broadcast_to(X, W.shape), best, axis=-1)
        dist = np.where(present, np.abs(X - x0), np.inf)
        W = np.where(_nearest_sizes(dist, uid, n_unique, n_nearest), W, 0.0)
    degree = 3 if method == "cubic" else 2
    ok = _distinct_present(W, uid, n_unique) >= degree + 1
    c = _weighted_polyfit(X, Y, W, degree, ok)
    with np.errstate(divide="ignore", invalid="ignore"):
        if degree == 2:
            c0, c1, c2 = c[..., 0], c[..., 1], c[..., 2]
            x = -c1 / (2.0 * c2)
            curvature = 2.0 * c2
            loss = c0 + c1 * x + c2 * x * x
        else:
            c0, c1, c2, c3 = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
            # stationary points of c0 + c1 x + c2 x^2 + c3 x^3 solve 3c3 x^2 + 2c2 x + c1 = 0;
            # the local minimum is the root where the second derivative equals +sqrt(disc).
            disc = (2.0 * c2) ** 2 - 12.0 * c3 * c1
            s = np.sqrt(np.where(disc >= 0, disc, np.nan))
            x = -2.0 * c1 / (2.0 * c2 + s)
            curvature = s
            loss = c0 + c1 * x + c2 * x * x + c3 * x * x * x
    curvature = np.where(np.isfinite(x), curvature, np.nan)
    return {"x": x, "loss": loss, "curvature": curvature, "ok": ok, "coef": c, "use": W > 0}


def _chunked_minima(rng: np.random.Generator, sizes: np.ndarray, X: np.ndarray, Y: np.ndarray, uid: np.ndarray,
                    n_boot: int, *, method: str, n_nearest: int, max_excess_loss: float | None,
                    chunk: int | None = None) -> dict[str, np.ndarray]:
    """:func:`budget_minima` of the data and ``n_boot`` resamples, drawn and analysed in batches.

    The ``(R, G)`` outputs are those of one call on :func:`bootstrap_counts`'s
    whole array (the resamples are the same and each is analysed on its own);
    ``coef`` and ``use`` are kept for the data (row 0) only.  The profile's
    exponents of the data are fitted once and reused by every batch.
    """
    P = X.shape[1]
    parts: list[dict[str, np.ndarray]] = []
    start = None
    for i, W in enumerate(bootstrap_count_chunks(rng, sizes, P, n_boot, chunk=chunk)):
        m = budget_minima(X, Y, W, uid, P, method=method, n_nearest=n_nearest, max_excess_loss=max_excess_loss,
                          profile_start=start)
        if method == "profile":
            start = (float(m["coef"][0, 0, 3]), float(m["coef"][0, 0, 4]))
        if i == 0:
            parts.append(m)
        else:
            parts.append({k: m[k][1:] for k in ("x", "loss", "curvature", "ok")})
    if len(parts) == 1:
        return parts[0]
    out = {k: np.concatenate([p[k] for p in parts]) for k in ("x", "loss", "curvature", "ok")}
    out["coef"] = parts[0]["coef"][:1]
    out["use"] = parts[0]["use"][:1]
    return out


def curve_values(method: str, curve: Any, x: np.ndarray) -> np.ndarray:
    """Loss of the curve an analysis fitted to one budget (``optima["curve"]``) at centred log10 N ``x``.

    For the polynomial methods ``curve`` holds the coefficients, highest power
    first (numpy.polyval order); for ``method="profile"`` it holds
    ``(c0, c1, c2, alpha, beta)`` of the Chinchilla profile (see :mod:`._profile`).
    """
    if method == "profile":
        return profile_values(np.asarray(curve, dtype=float), x)
    return np.polyval(np.asarray(curve, dtype=float), x)


# ============================================================== Approach 2
def isoflop(
    runs: Any,
    *,
    budget: str | None = None,
    group_by: str | Sequence[str] | None = None,
    min_points: int = 3,
    tolerance: float = 0.1,
    method: Literal["profile", "nearest", "parabola", "cubic"] = "profile",
    n_nearest: int = 6,
    max_excess_loss: float | None = 0.3,
    best_per_size: bool = False,
    exclude_flags: Sequence[str] = FLAGS,
    bootstrap: int = 1000,
    level: float | Sequence[float] = 0.95,
    seed: int | None = 0,
    n_jobs: int = 1,
    flops_per_param_token: float | None = None,
) -> IsoFLOPResult | GroupedIsoFLOPResult:
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
        columns; the result is then a :class:`GroupedIsoFLOPResult`, a
        mapping from group key (a tuple of values) to that group's result.
    min_points : int, default 3
        Budgets with fewer runs are not analysed; their rows are reported in
        ``unassigned``.
    tolerance : float, default 0.1
        Relative FLOP gap that splits budgets: sorted runs whose FLOPs are
        within a factor ``1 + tolerance`` of the previous run join its budget.
    method : {"profile", "nearest", "parabola", "cubic"}, default "profile"
        How the minimum of loss against log10 N is found.  ``"profile"`` fits
        every budget's exact Chinchilla IsoFLOP profile
        ``L_C(N) = E_C + A_C N^-alpha + B_C (C / (k N))^-beta``, with its own
        ``E_C, A_C, B_C`` and exponents shared by all budgets, by variable
        projection (Czech et al. 2025, "Problems with Chinchilla Approach 2",
        recommend it), and takes each budget's optimum in closed form; unlike a
        polynomial it is unbiased on off-centre grids and when alpha != beta
        whenever the law holds (see :mod:`scalefit.approaches._profile`).
        ``"parabola"`` fits one parabola to all runs of a budget (Hoffmann et
        al.); ``"nearest"`` fits it only to the runs of the ``n_nearest`` model
        sizes closest in log N to the lowest observed loss (the same as
        ``"parabola"`` when a budget has no more sizes than that); ``"cubic"``
        fits a cubic and takes its local minimum.  The default was chosen by
        measurement (benchmarks/RESULTS.md, issue 11): on synthetic Chinchilla
        sweeps (centred, 3x off-centre and drifting grids, alpha/beta 1/3 to 3)
        its median error of N* at 1e24 FLOPs is the lowest of the four at every
        noise level, and on Porian et al.'s (2024) 15 configurations it
        reproduces their exponent ``a`` within 0.03.
    n_nearest : int, default 6
        Distinct model sizes used by ``method="nearest"`` (at least 3); every
        run of those sizes enters the fit.
    max_excess_loss : float or None, default 0.3
        ``method="profile"`` fits each budget's runs whose loss is at most
        ``1 + max_excess_loss`` times the budget's lowest loss (None: all runs).
        Far from the optimum (models given a small fraction of a token per
        parameter) real losses leave the Chinchilla form; the profile is exact
        wherever the law holds, so the window costs precision but adds no bias.
        0.3 was chosen on Porian et al.'s sweeps (benchmarks/RESULTS.md).
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
    IsoFLOPResult or GroupedIsoFLOPResult
        The latter with ``group_by``.  Either keeps the runs it was computed
        from (``result.runs``) and its options (``result.options``).

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
        raise ScalefitInputError(f"{what}: method must be one of {', '.join(map(repr, METHODS))}; got {method!r}.",
                                 option="method")
    min_points = check_int(what, "min_points", min_points, 3)
    n_nearest = check_int(what, "n_nearest", n_nearest, 3)
    if max_excess_loss is not None:
        max_excess_loss = check_positive_scalar(
            max_excess_loss, "max_excess_loss", where=what,
            hint="Give the largest loss fitted per budget as a fraction above its lowest loss (0.3: 30%), or None for all runs.")
    tolerance = check_positive_scalar(tolerance, "tolerance", where=what)
    bootstrap = check_int(what, "bootstrap", bootstrap, 0)
    levels = check_levels(what, level)
    seed = check_seed(what, seed)
    flags = check_flags(what, exclude_flags)
    best_per_size = check_bool(what, "best_per_size", best_per_size)
    n_jobs = check_n_jobs(n_jobs, where=what)
    group_cols = check_columns(what, "group_by", group_by)
    if budget is not None and not isinstance(budget, str):
        raise ScalefitInputError(f"{what}: budget must be the name of a column holding FLOP budgets; got {budget!r}.",
                                 option="budget")

    runs = as_runs(runs)
    if flops_per_param_token is None:
        flops_per_param_token = float(getattr(runs, "flops_per_param_token", 6.0))
    k = check_positive_scalar(flops_per_param_token, "flops_per_param_token", where=what)
    notes: list[str] = []
    if runs.has_curves:
        finals = runs.final()
        n_dropped = len(runs) - len(finals)
        if n_dropped:
            notes.append(f"training curves given: used each run's final checkpoint ({len(finals)} runs; {n_dropped} earlier checkpoints not used).")
        runs = finals
    table = runs.table
    if budget is not None:
        require_columns(what, "budget", table, [budget])
        vals = pd.to_numeric(table[budget], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(vals) & (vals > 0))
        if bad.any():
            rows = row_numbers(table)[bad].tolist()
            found = table[budget].to_numpy()[bad][:5].tolist()
            raise ScalefitInputError(
                f"{what}: budget column {budget!r} must hold positive finite FLOP counts; rows {rows[:10]} hold {found}. "
                "Fix those values or let isoflop cluster the flops column (budget=None).",
                column=budget,
                rows=rows,
                values=found,
                options=[Option("budget", "None")],
            )
    groups = _groups(what, runs, group_cols)

    opts = dict(
        budget=budget, min_points=min_points, tolerance=tolerance, method=method, n_nearest=n_nearest,
        max_excess_loss=max_excess_loss, best_per_size=best_per_size, exclude_flags=flags, bootstrap=bootstrap, levels=levels, k=k, group_by=group_cols, seed=seed,
    )
    seeds = np.random.SeedSequence(seed).spawn(len(groups))
    jobs = [(key, sub, np.random.default_rng(s)) for (key, sub), s in zip(groups, seeds)]
    if n_jobs == 1 or len(jobs) == 1:
        results = [_isoflop_group(key, sub, rng, **opts) for key, sub, rng in jobs]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(_isoflop_group)(key, sub, rng, **opts) for key, sub, rng in jobs)

    for (key, _), (res, msgs) in zip(groups, results):
        prefix = f"[{key_text(group_cols, key)}] " if group_cols else ""
        notes += [prefix + m for m in msgs]
    warn_notes(notes)
    for (key, _), (res, _) in zip(groups, results):
        if res.bias_warning:
            prefix = f"[{key_text(group_cols, key)}] " if group_cols else ""
            warn(prefix + res.bias_warning, IsoFLOPBiasWarning,
                 options=[Option("method", "'profile'")] if method != "profile" else [])
    if not group_cols:
        return results[0][0]
    return GroupedIsoFLOPResult(
        results=MappingProxyType({key: res for (key, _), (res, _) in zip(groups, results)}),
        group_by=group_cols, level=levels, n_bootstrap=bootstrap, seed=seed, method=method, n_nearest=n_nearest,
        max_excess_loss=max_excess_loss, tolerance=tolerance, budget=budget, min_points=min_points, exclude_flags=flags, flops_per_param_token=k,
        best_per_size=best_per_size, runs=runs,
    )


def _groups(what: str, runs: Runs, group_by: tuple[str, ...]) -> list[tuple[tuple, Runs]]:
    """``(key, runs of that group)`` for every combination of the ``group_by`` values, in sorted order."""
    if not group_by:
        return [((), runs)]
    table = runs.table
    require_columns(what, "group_by", table, group_by)
    for c in group_by:
        refuse_missing(what, "group_by", table, c)
    out = []
    for key, group in table.reset_index(drop=True).groupby(list(group_by), sort=True):
        mask = np.zeros(len(table), dtype=bool)
        mask[group.index.to_numpy()] = True  # positions: the index was reset
        out.append(((key if isinstance(key, tuple) else (key,)), runs.subset(mask)))
    return out


def _geomean(values: np.ndarray) -> float:
    """Geometric mean; exactly the common value when all values are equal."""
    if values.min() == values.max():
        return float(values[0])
    return float(np.exp(np.log(values).mean()))


def _isoflop_group(key, group_runs: Runs, rng, *, budget, min_points, tolerance, method, n_nearest, max_excess_loss,
                   best_per_size,
                   exclude_flags, bootstrap, levels, k, group_by, seed):
    """Approach 2 on one group's runs; returns (result, messages to warn)."""
    what = "isoflop" + (f" [{key_text(group_by, key)}]" if group_by else "")
    msgs: list[str] = []
    sub = group_runs.table
    flops = sub["flops"].to_numpy(dtype=float)
    rows = row_numbers(sub)
    if budget is not None:
        bvals = pd.to_numeric(sub[budget]).to_numpy(dtype=float)
        labels = pd.factorize(bvals, sort=True)[0]
    else:
        labels = cluster_log_flops(flops, tolerance)
    degree = 3 if method == "cubic" else 2
    log_n_all = np.log10(sub["n_params"].to_numpy(dtype=float))
    loss_all = sub["loss"].to_numpy(dtype=float)

    kept: list[np.ndarray] = []
    unassigned: list[dict[str, Any]] = []
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
            options=[Option("budget", "'<column>'")] if budget is None else [],
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

    m = _chunked_minima(rng, sizes, X, Y, uid, bootstrap, method=method, n_nearest=n_nearest,
                        max_excess_loss=max_excess_loss)
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
            "group_by=[...]; if they are hyperparameter variants, pass best_per_size=True."
        )
    wide = spread > (1 + tolerance) ** 2
    if budget is None and wide.any():
        msgs.append(
            f"{int(wide.sum())} clustered budget(s) span more than a factor {(1 + tolerance) ** 2:.3g} in FLOPs "
            "(chained clustering); pass budget='<column>' or a smaller tolerance if budgets were merged."
        )
    msgs += few_resamples_note(fits, bootstrap)

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
            "curve": [tuple(float(v) for v in (m["coef"][0, g] if method == "profile" else m["coef"][0, g][::-1]))
                      for g in range(G)],
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
        intervals=intervals_from_samples(fits.samples, levels, dict(a=fits.a, b=fits.b, k_n=fits.k_n, k_d=fits.k_d)),
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
        max_excess_loss=max_excess_loss,
        tolerance=tolerance,
        budget=budget,
        min_points=min_points,
        exclude_flags=exclude_flags,
        flops_per_param_token=k,
        best_per_size=best_per_size,
        key=key,
        group_by=group_by,
        runs=group_runs,
    )
    if point_ok:
        check, bias_msgs, _ = bias_check(res.a, optima, group_runs, method=method)
        res = replace(res, bias_check=check, bias_warning=bias_msgs[0] if bias_msgs else "")
    return res, msgs
