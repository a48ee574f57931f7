"""Vectorised numerics behind :mod:`scalefit.approaches` (private).

Everything here works on padded arrays so that the point estimate and every
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

import numpy as np

METHODS = ("parabola", "cubic", "nearest")


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


def bootstrap_counts(rng: np.random.Generator, sizes: np.ndarray, n_pad: int, n_boot: int) -> np.ndarray:
    """Multiplicities ``(n_boot + 1, G, P)``: row 0 is the data, rows 1.. resample within each budget.

    Budget ``g`` draws ``sizes[g]`` points with replacement from its own
    ``sizes[g]`` points (a nonparametric bootstrap within budgets).
    """
    sizes = np.asarray(sizes, dtype=int)
    n_groups = len(sizes)
    valid = np.arange(n_pad)[None, :] < sizes[:, None]  # (G, P)
    counts = np.zeros((n_boot + 1, n_groups, n_pad))
    counts[0] = valid
    if n_boot:
        draws = rng.random((n_boot, n_groups, n_pad))
        idx = np.minimum((draws * sizes[None, :, None]).astype(int), n_pad - 1)
        b = np.arange(n_boot)[:, None, None]
        g = np.arange(n_groups)[None, :, None]
        lin = ((b * n_groups + g) * n_pad + idx)[np.broadcast_to(valid, idx.shape)]
        counts[1:] = np.bincount(lin, minlength=n_boot * n_groups * n_pad).reshape(n_boot, n_groups, n_pad)
    return counts


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
) -> dict[str, np.ndarray]:
    """Minimum of loss against centred log10 N for every (replicate, budget).

    Returns a dict of ``(R, G)`` arrays: ``x`` (vertex, centred log10 N),
    ``loss`` (fitted loss there), ``curvature`` (second derivative there;
    positive means a minimum), ``ok`` (enough distinct points were present);
    plus ``coef`` ``(R, G, degree+1)``, the polynomial's coefficients in
    increasing powers of centred log10 N, and ``use`` ``(R, G, P)``, which
    points entered each fit.
    """
    present = W > 0
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


# ------------------------------------------------------------------ power laws
def loglog_fit(log_c: np.ndarray, log_y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept of ``log_y`` on ``log_c`` where ``mask``.

    ``log_c`` has shape ``(K,)`` or ``(R, K)``; ``log_y`` and ``mask`` have shape
    ``(R, K)``.  Rows with fewer than two distinct points give NaN.
    """
    m = mask & np.isfinite(log_y)
    w = m.astype(float)
    n = w.sum(-1)
    log_c = np.broadcast_to(log_c, log_y.shape)
    y = np.where(m, log_y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (w * log_c).sum(-1) / n
        my = (w * y).sum(-1) / n
        dx = np.where(m, log_c - mx[..., None], 0.0)
        sxx = (dx * dx).sum(-1)
        sxy = (dx * (y - my[..., None])).sum(-1)
        slope = sxy / sxx
        good = (n >= 2) & (sxx > 1e-12)
        slope = np.where(good, slope, np.nan)
        intercept = np.where(good, my - slope * mx, np.nan)
    return slope, intercept


def percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Equal-tailed percentile interval of the finite samples (NaN when none)."""
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if len(s) < 2:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(s, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))
