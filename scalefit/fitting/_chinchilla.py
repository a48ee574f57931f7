"""Fast, vectorised engine for the Chinchilla parametric fit.

The objective (Hoffmann et al. 2022; Besiroglu et al. 2024) is

    f(theta) = sum_i w_i * rho(r_i),
    r_i = LSE(a - alpha*x_i, b - beta*y_i, e) - log L_i      (space="log")
    r_i = exp(LSE(...)) - L_i                                 (space="linear")

with x = log N, y = log D, A = e^a, B = e^b, E = e^e and rho the Huber loss
with threshold delta (or 1/2 r^2 for "mse").

Instead of 4,500 L-BFGS starts with finite-difference gradients, the engine

1. *seeds* by variable projection: on a grid of (alpha, beta) the law is linear
   in (E, A, B); a weighted non-negative least-squares solve (1/L weights
   approximate log space) gives the best (E, A, B) for every grid cell at
   once, for every subset of active terms.  The true robust objective is then
   evaluated on every cell and the distinct basins (local minima of the grid)
   are kept;
2. *polishes* all kept seeds simultaneously with a damped Newton method using
   the exact analytic gradient and Hessian of the Huber objective
   (saddle-free: negative curvature directions are flipped), with bounds by
   projection, abandoning a seed once even an optimistic Newton model cannot
   bring it within 1.5x of the best objective reached;
3. keeps the best, and counts the distinct local minima reached.

Step 1 lives in :mod:`._chinchilla_seed` (its names are re-exported here).

Step 2 is also used, warm-started, for the bootstrap: thousands of resampled
problems (as integer weights) are polished as one batch, their derivatives
assembled from (batch, rows) @ (rows, moments) products into reusable buffers.

Everything here is private.  The public entry point is :func:`scalefit.fit`.

Below the engine, :func:`fit_chinchilla` adapts a fitting
:class:`~scalefit.fitting._problem.Problem` to it and returns a
:class:`~scalefit.fitting._problem.Solution`.
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass

import numpy as np

from . import _problem
from ._chinchilla_seed import _BLOCK, _same_predictions, distinct_indices, seed_grid  # noqa: F401  (re-exported)
from ._chinchilla_single import derivatives_one, jacobian_one

from ._chinchilla_kernel import (  # noqa: F401  (re-exported: the engine's names, as before the split)
    NATURAL,
    Problem,
    Reduction,
    Workspace,
    _derivatives,
    _derivatives_shared,
    _derivatives_stable,
    _forward,
    _rho,
    objective,
    residuals,
    single_thread,
)


# --------------------------------------------------------------------- Newton
@dataclass
class PolishResult:
    theta: np.ndarray  # (K, 5)
    f: np.ndarray  # (K,)
    grad_norm: np.ndarray  # (K,) projected gradient norm in z
    converged: np.ndarray  # (K,) bool
    n_iter: int
    decrease: np.ndarray  # (K,) decrease a Newton step promises at theta (see basin_screen)
    lam: np.ndarray  # (K,) damping reached (to continue a polish where it stopped)
    pruned: np.ndarray  # (K,) bool: abandoned as hopeless (see polish's ``prune``)


def _damped_step(H: np.ndarray, g: np.ndarray, lam: np.ndarray, *, fast: bool) -> np.ndarray:
    """Saddle-free, Levenberg-damped Newton steps -V diag(1/(|ev| + lam s)) V^T g, shape (K, m).

    With ``fast=False``, s is the largest |eigenvalue| and every problem is
    eigendecomposed (the fit's few seeds).  With ``fast=True``, s is the sum of
    |eigenvalues|, so that where H is positive definite (the usual case near a
    minimum) the step is -(H + lam tr(H) I)^-1 g, solved without an
    eigendecomposition (a batched eigh costs about 25x a batched solve); only
    the other problems use eigh.  Either way each problem's step depends on its
    own H, g and lam only.
    """
    m = H.shape[1]
    nd = np.ones(H.shape[0], bool)
    step = np.empty_like(g)
    if fast:
        try:
            np.linalg.cholesky(H)
            nd[:] = False
        except np.linalg.LinAlgError:
            # leading principal minors (Sylvester's criterion) say which problems are positive definite
            pd_ = np.ones(H.shape[0], bool)
            for j in range(1, m + 1):
                pd_ &= np.linalg.det(H[:, :j, :j]) > 0
            nd = ~pd_
        pd_ = ~nd
        if pd_.any():
            tr = np.trace(H[pd_], axis1=1, axis2=2)
            Hp = H[pd_] + (lam[pd_] * tr + 1e-300)[:, None, None] * np.eye(m)
            step[pd_] = -np.linalg.solve(Hp, g[pd_][:, :, None])[:, :, 0]
        if not nd.any():
            return step
    ev, V = np.linalg.eigh(H[nd])
    aev = np.abs(ev)
    s = aev.sum(axis=1) if fast else np.maximum(aev.max(axis=1), 1e-300)
    denom = aev + (lam[nd] * s)[:, None] + 1e-300
    step[nd] = -(V @ ((np.swapaxes(V, 1, 2) @ g[nd][:, :, None])[:, :, 0] / denom)[:, :, None])[:, :, 0]
    return step


def polish(
    theta0: np.ndarray,
    prob: Problem,
    red: Reduction,
    w: np.ndarray,
    *,
    max_iter: int = 200,
    ftol: float = 1e-13,
    gtol: float = 1e-9,
    lam0: float | np.ndarray = 1e-3,
    window: int = 6,
    fast_steps: bool = False,
    prune: float = 0.0,
    shrink: float = 0.2,
    f_ref: float = np.inf,
) -> PolishResult:
    """Damped saddle-free Newton on a batch of problems; returns polished points.

    ``w`` is (n,) shared weights or (K, n) per-problem weights.  Each iteration
    evaluates the objective, gradient and Hessian at every trial point in one
    pass (:func:`_derivatives`), so an accepted step costs no second pass.
    ``lam0`` is the initial damping relative to the Hessian's scale (one
    per problem, e.g. a previous result's ``lam``, or one for all), and
    ``fast_steps`` chooses how steps are solved (:func:`_damped_step`).
    With ``prune`` (>= 1), a problem is abandoned (``pruned``) once its
    objective, less the decrease an optimistic Newton model promises
    (1/2 g^T |H|^-1 g, nearly undamped), exceeds ``prune`` times the lowest
    objective any problem of the batch has reached: the fit's hopeless basins.  A problem
    stops when its objective changes by at most ``ftol`` (relative) with a small
    projected gradient; at a kink of the near-L1 Huber objective, where the
    gradient never vanishes, it stops when ``window`` iterations together gained
    at most ``window * ftol`` (``window=0``: never) with a gradient within 1e3 x ``gtol`` of its scale.
    ``f_ref`` is an objective already reached elsewhere (a polished point outside the batch): the
    pruning test compares with the lower of it and the batch's best, and then applies even to
    a batch's last active problem.
    An accepted step multiplies a problem's damping by ``shrink``, a rejected one by 8.
    A single problem (K = 1) takes :func:`_polish_single`, the same iteration without the
    batch's bookkeeping.
    """
    K = theta0.shape[0]
    if K == 1:
        return _polish_single(theta0, prob, red, w, max_iter=max_iter, ftol=ftol, gtol=gtol, lam0=lam0,
                              window=window, fast_steps=fast_steps, shrink=shrink)
    shared = w.ndim == 1
    T = red.T
    TT = np.ascontiguousarray(T.T)
    lower, upper = red.lower, red.upper
    z = np.clip(red.z_of(theta0), lower, upper)
    lam = np.array(np.broadcast_to(np.asarray(lam0, float), (K,)))
    active = np.ones(K, dtype=bool)
    converged = np.zeros(K, dtype=bool)
    theta = red.theta(z)
    work = Workspace(K, prob.x.size)
    f, g, H, gs = _derivatives(theta, prob, w, work=work, with_scale=True)
    # no fixed or tied parameter (the usual case): z is theta, and the maps are skipped
    plain = T.shape == (5, 5) and np.array_equal(T, np.eye(5)) and not np.any(red.c)
    gz = g if plain else g @ T
    Hz = H if plain else TT @ H @ T
    it = 0
    eye = np.eye(z.shape[1])
    lo_tol, hi_tol = lower + 1e-12, upper - 1e-12
    pruned = np.zeros(K, dtype=bool)
    f_then = np.full((max(window, 1), K), np.inf)  # objective `window` iterations ago (a ring)
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        zi, gi, Hi, li = z[idx], gz[idx], Hz[idx], lam[idx]
        # freeze coordinates at a bound whose gradient pushes outward
        free = ~(((zi <= lo_tol) & (gi > 0)) | ((zi >= hi_tol) & (gi < 0)))
        all_free = bool(free.all())
        if all_free:
            step = _damped_step(Hi, gi, li, fast=fast_steps)
        else:
            gi_f = np.where(free, gi, 0.0)
            Hf = np.where(free[:, :, None] & free[:, None, :], Hi, 0.0) + (~free)[:, :, None] * eye
            step = np.where(free, _damped_step(Hf, gi_f, li, fast=fast_steps), 0.0)
        z_new = np.clip(zi + step, lower, upper)
        f_new, g_new, H_new = _derivatives(z_new if plain else z_new @ TT + red.c, prob, w if shared else w[idx],
                                           work=work)
        f_old = f[idx]
        ok = np.isfinite(f_new) & (f_new <= f_old)
        # accept improving steps
        acc = idx[ok]
        if acc.size:
            z[acc] = z_new[ok]
            f[acc] = f_new[ok]
            gz[acc] = g_new[ok] if plain else g_new[ok] @ T
            Hz[acc] = H_new[ok] if plain else TT @ H_new[ok] @ T
            lam[acc] = np.maximum(lam[acc] * shrink, 1e-12)
        rej = idx[~ok]
        lam[rej] = lam[rej] * 8.0
        # convergence: tiny relative change with small projected gradient, or hopeless damping
        scale = np.maximum(np.abs(f_old), 1e-300)
        rel = np.abs(f_old - np.where(ok, f_new, f_old)) <= ftol * scale
        pg = gz[idx] if all_free else np.where(free, gz[idx], 0.0)
        gnorm = np.sqrt(np.sum(pg * pg, axis=1))
        small_g = gnorm <= gtol * gs[idx]
        done_ok = ok & small_g & (rel | (np.abs(step).max(axis=1) < 1e-12))
        # no step improves f any more, or `window` steps gained next to nothing, and the gradient is tiny
        # relative to its scale: a kink of the near-L1 objective, as converged as floating point allows
        slot = it % max(window, 1)
        flat = (f_then[slot, idx] - f[idx] <= window * ftol * scale) & (window > 0)
        f_then[slot, idx] = f[idx]
        kink = ((lam[idx] > 1e12) | flat) & (gnorm <= 1e3 * gtol * gs[idx])
        converged[idx[done_ok | kink]] = True
        active[idx[done_ok | kink | (lam[idx] > 1e12)]] = False
        # the lowest objective is never pruned, unless a lower one was reached outside the batch (f_ref)
        if prune and (np.count_nonzero(active) > 1 or f_ref < np.inf):
            idx = np.flatnonzero(active)
            hope = _promised(Hz[idx], gz[idx], z[idx], lo_tol, hi_tol)
            drop = idx[f[idx] - hope > prune * min(np.min(f), f_ref)]
            pruned[drop] = True
            active[drop] = False
    # final projected gradient norm
    at_lo = (z <= lo_tol) & (gz > 0)
    at_hi = (z >= hi_tol) & (gz < 0)
    pg = np.where(at_lo | at_hi, 0.0, gz)
    gnorm = np.sqrt(np.sum(pg * pg, axis=1))
    converged |= gnorm <= 10 * gtol * gs
    converged &= ~pruned
    return PolishResult(red.theta(z), f, gnorm, converged, it, _promised(Hz, gz, z, lo_tol, hi_tol), lam, pruned)


def _single_step(H: np.ndarray, g: np.ndarray, lam: float, fast: bool) -> np.ndarray:
    """:func:`_damped_step` for one problem (H (m, m), g (m,)), without the batch axis."""
    if fast:
        try:
            np.linalg.cholesky(H)
            m = H.shape[0]
            return -np.linalg.solve(H + (lam * np.trace(H) + 1e-300) * np.eye(m), g)
        except np.linalg.LinAlgError:
            pass
    ev, V = np.linalg.eigh(H)
    aev = np.abs(ev)
    s = aev.sum() if fast else max(aev.max(), 1e-300)
    return -(V @ ((V.T @ g) / (aev + lam * s + 1e-300)))


def _polish_single(theta0: np.ndarray, prob: Problem, red: Reduction, w: np.ndarray, *, max_iter: int, ftol: float,
                   gtol: float, lam0: float | np.ndarray, window: int, fast_steps: bool, shrink: float) -> PolishResult:
    """:func:`polish` of one problem (theta0 (1, 5)): the same steps, tests and result, on vectors.

    A batch of one spends most of its time on the batch's bookkeeping (masks, index arrays,
    batched factorizations); here each iteration is one :func:`_derivatives` call and a 5 x 5
    factorization.
    """
    T, c = red.T, red.c
    plain = T.shape == (5, 5) and np.array_equal(T, np.eye(5)) and not np.any(c)
    TT = T.T
    lower, upper = red.lower, red.upper
    lo_tol, hi_tol = lower + 1e-12, upper - 1e-12
    z = np.clip(theta0[0] if plain else red.z_of(theta0)[0], lower, upper)
    lam = float(np.asarray(lam0, float).ravel()[0])
    work = Workspace(1, prob.x.size)
    wk = w if w.ndim == 1 else w[0]

    def evaluate(zz: np.ndarray, scale: bool = False):
        th = zz if plain else T @ zz + c
        one = derivatives_one(th, prob, wk, with_scale=scale)
        if one is None:
            out = _derivatives(th[None, :], prob, wk, work=work, with_scale=scale)
            one = (float(out[0][0]), out[1][0], out[2][0]) + ((float(out[3][0]),) if scale else ())
        f_, g_, H_ = one[:3]
        if not plain:
            g_, H_ = g_ @ T, TT @ H_ @ T
        return (f_, g_, H_, one[3]) if scale else (f_, g_, H_)

    f, g, H, gs = evaluate(z, True)
    f_then = np.full(max(window, 1), np.inf)
    converged = False
    it = 0
    stopped = False
    for it in range(1, max_iter + 1):
        if stopped:
            break
        free = ~(((z <= lo_tol) & (g > 0)) | ((z >= hi_tol) & (g < 0)))
        all_free = bool(free.all())
        if all_free:
            step = _single_step(H, g, lam, fast_steps)
        else:
            Hf = np.where(free[:, None] & free[None, :], H, 0.0) + np.diag((~free).astype(float))
            step = np.where(free, _single_step(Hf, np.where(free, g, 0.0), lam, fast_steps), 0.0)
        z_new = np.clip(z + step, lower, upper)
        f_new, g_new, H_new = evaluate(z_new)
        f_old = f
        ok = math.isfinite(f_new) and f_new <= f_old
        if ok:
            z, f, g, H = z_new, f_new, g_new, H_new
            lam = max(lam * shrink, 1e-12)
        else:
            lam *= 8.0
        scale = max(abs(f_old), 1e-300)
        rel = abs(f_old - f) <= ftol * scale
        pg = g if all_free else np.where(free, g, 0.0)
        gnorm = math.sqrt(float(pg @ pg))
        done_ok = ok and gnorm <= gtol * gs and (rel or float(np.abs(step).max()) < 1e-12)
        slot = it % max(window, 1)
        flat = window > 0 and f_then[slot] - f <= window * ftol * scale
        f_then[slot] = f
        kink = (lam > 1e12 or flat) and gnorm <= 1e3 * gtol * gs
        # a rejected step at a point that already passes the final gradient test: rounding is all that
        # is left to gain (the batch would go on raising the damping until the window of flat steps)
        floor = not ok and gnorm <= 10 * gtol * gs
        if done_ok or kink or floor:
            converged = True
        stopped = done_ok or kink or floor or lam > 1e12
    at_bound = ((z <= lo_tol) & (g > 0)) | ((z >= hi_tol) & (g < 0))
    pg = np.where(at_bound, 0.0, g)
    gnorm = math.sqrt(float(pg @ pg))
    converged = converged or gnorm <= 10 * gtol * gs
    theta = red.theta(z[None, :])
    decrease = _promised(H[None], g[None], z[None], lo_tol, hi_tol)
    return PolishResult(theta, np.array([f]), np.array([gnorm]), np.array([converged]), it, decrease,
                        np.array([lam]), np.array([False]))


def _promised(H: np.ndarray, g: np.ndarray, z: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Decrease an optimistic Newton model promises, 1/2 g^T |H|^-1 g over the coordinates free to move."""
    free = ~(((z <= lo) & (g > 0)) | ((z >= hi) & (g < 0)))
    gf = np.where(free, g, 0.0)
    Hf = np.where(free[:, :, None] & free[:, None, :], H, 0.0) + (~free)[:, :, None] * np.eye(z.shape[1])
    step = _damped_step(Hf, gf, np.full(z.shape[0], 1e-12), fast=True)
    return np.maximum(-0.5 * np.sum(gf * step, axis=1), 0.0)


def basin_screen(theta: np.ndarray, prob: Problem, red: Reduction, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective of K weightings ``W`` (K, n) at one point, and the decrease a Newton step promises there.

    At a point shared by every problem the per-row terms are computed once, and each
    problem's objective, gradient and Hessian are (K, n) @ (n, .) products.  The
    promised decrease is 1/2 g^T |H|^-1 g (saddle-free, nearly undamped, bounds
    ignored): generous in flat directions, so a basin is written off only where
    even an optimistic quadratic model cannot bring it near the best objective.
    Returns (f (K,), decrease (K,)).
    """
    out = _derivatives_shared(np.asarray(theta, float), prob, W)
    if out is None:  # not finite at this point: no resample can use it
        return np.full(W.shape[0], np.inf), np.zeros(W.shape[0])
    f, g, H = out
    g = g @ red.T
    H = red.T.T @ H @ red.T
    step = _damped_step(H, g, np.full(W.shape[0], 1e-12), fast=True)
    return f, np.maximum(-0.5 * np.sum(g * step, axis=1), 0.0)


# ============================================================ adapter
# Turns a fitting Problem (scalefit.fitting._problem) into this engine's Problem
# and Reduction, and its results into a Solution.  `polish` is looked up through
# this module's globals at call time, so a test may monkeypatch it.
# Law parameter order for the engine: E, A, B, alpha, beta -> (e, a, b, alpha, beta).
_GRID_SIZE = 16
#: A seed is abandoned once even an optimistic Newton model leaves it above this multiple of the best
#: objective reached (:func:`polish`); measured against the engine before pruning in benchmarks/RESULTS.md.
_PRUNE = 1.5


def _z_of(red: Reduction, theta: np.ndarray) -> np.ndarray:
    """``red.z_of(theta)``, without its pseudo-inverse when nothing is fixed or tied (z is theta)."""
    plain = red.T.shape == (5, 5) and not np.any(red.c) and np.array_equal(red.T, np.eye(5))
    return np.array(theta, dtype=float) if plain else red.z_of(theta)


@lru_cache(maxsize=64)
def _grid(lo: float, hi: float) -> np.ndarray:
    g = np.linspace(max(lo, 0.02), min(hi, 2.5), _GRID_SIZE) if lo < min(hi, 2.5) else np.array([lo])
    g.flags.writeable = False
    return g


def _exponent_grid(lo: float, hi: float) -> np.ndarray:
    """The seeding grid of an exponent with bounds [lo, hi]: 16 points over [0.02, 2.5] within them (cached)."""
    return _grid(float(lo), float(hi))


def engine_map(spec: _problem.Spec) -> np.ndarray:
    """(5, p) matrix from law-internal parameters to the engine's (e, a, b, alpha, beta)."""
    M = np.zeros((5, len(spec.names)))
    for j, n in enumerate(NATURAL):
        src = n if n in spec.names else "alpha"  # tied law: beta == alpha
        M[j, spec.names.index(src)] = 1.0
    return M


def engine_problem(problem: _problem.Problem) -> tuple[Problem, Reduction]:
    """This engine's data and parameter reduction for a fitting problem."""
    spec = problem.spec
    inputs = problem.inputs
    prob = Problem(
        np.log(inputs["n_params"]), np.log(inputs["n_tokens"]), np.asarray(problem.observed, float),
        problem.space, problem.loss, problem.delta,
    )
    M = engine_map(spec)
    red = Reduction(M @ spec.T, M @ spec.c, spec.lower, spec.upper)
    return prob, red


def engine_bounds(red: Reduction, j: int) -> tuple[float, float]:
    """Bounds of engine coordinate ``j`` (a fixed coordinate's bounds are its value)."""
    cols = np.flatnonzero(red.T[j])
    if cols.size == 0:
        return float(red.c[j]), float(red.c[j])
    k = cols[0]
    return float(red.lower[k]), float(red.upper[k])


def theta_from_params(params: dict) -> np.ndarray:
    """Engine coordinates (e, a, b, alpha, beta) of natural parameters (beta defaults to alpha)."""
    p = params
    return np.array([math.log(p["E"]), math.log(p["A"]), math.log(p["B"]), p["alpha"], p.get("beta", p["alpha"])])


def polish_seeds(seeds: np.ndarray, prob: Problem, red: Reduction, w: np.ndarray) -> PolishResult:
    """Polish the best seed alone, screen the others against its objective, polish the survivors together.

    ``seeds`` (K, 5) come best first (:func:`seed_grid`).  The best grid seed is usually in the
    best basin, and a single problem polishes at the cost of its derivatives
    (:func:`_polish_single`).  Every other seed is then abandoned (``pruned``) where its
    objective, less the decrease an optimistic Newton model promises there, exceeds
    :data:`_PRUNE` times the polished objective (the test :func:`polish` applies at every
    iteration, applied before the first); the survivors are polished as one batch under the same
    test against the polished objective (``f_ref``).  Returns the K results in the seeds' order.
    """
    K = seeds.shape[0]
    first = polish(seeds[:1], prob, red, w, prune=_PRUNE)
    if K == 1:
        return first
    lo_tol, hi_tol = red.lower + 1e-12, red.upper - 1e-12
    rest = seeds[1:]
    z = np.clip(_z_of(red, rest), red.lower, red.upper)
    theta_rest = red.theta(z)
    ones = [derivatives_one(t, prob, w) for t in theta_rest] if w.ndim == 1 else [None]
    if all(o is not None for o in ones):
        f, g, H = (np.array([o[k] for o in ones]) for k in range(3))  # type: ignore[index]
    else:
        f, g, H = _derivatives(theta_rest, prob, w)
    g, H = g @ red.T, red.T.T @ H @ red.T
    hope = _promised(H, g, z, lo_tol, hi_tol)
    keep = np.flatnonzero(~(f - hope > _PRUNE * first.f[0]))
    theta = np.vstack([first.theta, red.theta(z)])
    out = PolishResult(theta, np.r_[first.f, f], np.r_[first.grad_norm, np.full(K - 1, np.inf)],
                       np.r_[first.converged, np.zeros(K - 1, bool)], first.n_iter, np.r_[first.decrease, hope],
                       np.r_[first.lam, np.full(K - 1, np.nan)], np.r_[False, np.ones(K - 1, bool)])
    if keep.size:
        more = polish(rest[keep], prob, red, w, prune=_PRUNE, f_ref=float(first.f[0]))
        for name in ("theta", "f", "grad_norm", "converged", "decrease", "lam", "pruned"):
            getattr(out, name)[keep + 1] = getattr(more, name)
        out.n_iter += more.n_iter
    return out


def fit_chinchilla(problem: _problem.Problem) -> _problem.Solution:
    """Seed by variable projection, polish the best seed, then the others that may beat it (:func:`polish_seeds`)."""
    prob, red = engine_problem(problem)
    w = problem.weights
    # which engine coordinates are fixed, and are alpha and beta tied?
    fixed_theta = {}
    for j in range(5):
        if not np.any(red.T[j]):
            fixed_theta[j] = float(red.c[j])
    tied_ab = bool(np.any(red.T[3]) and np.array_equal(red.T[3], red.T[4]))
    lo_a, hi_a = engine_bounds(red, 3)
    lo_b, hi_b = engine_bounds(red, 4)
    grid_a, grid_b = _exponent_grid(lo_a, hi_a), _exponent_grid(lo_b, hi_b)
    seeds, _ = seed_grid(prob, red, w, alpha_grid=grid_a, beta_grid=grid_b, fixed_theta=fixed_theta, tied_ab=tied_ab, n_keep=8)
    if seeds.shape[0] == 0:
        seeds = np.array([[0.5, 6.0, 6.0, 0.34, 0.28]])
    # seeds on a plateau of a dead term (its coefficient at the floor) predict the same losses and
    # differ only in that term's irrelevant exponent: polish one of each such group, share its result
    rep = _same_predictions(seeds, prob)
    uniq, back = np.unique(rep, return_inverse=True)
    pu = polish_seeds(seeds[uniq], prob, red, w)
    pr = PolishResult(pu.theta[back], pu.f[back], pu.grad_norm[back], pu.converged[back], pu.n_iter,
                      pu.decrease[back], pu.lam[back], pu.pruned[back])
    order = np.argsort(np.where(np.isfinite(pr.f), pr.f, np.inf))
    best = order[0]
    z_best = _z_of(red, pr.theta[best][None, :])[0]
    # minima reached: the basins abandoned as hopeless are not among them
    distinct = distinct_indices(pr.theta, np.where(pr.pruned, np.inf, pr.f), prob)
    # distinct minima come best first: the second is the best point with other residuals
    second = float(pr.f[distinct[1]]) if len(distinct) > 1 else float("nan")
    one = derivatives_one(pr.theta[best], prob, w)
    if one is None:
        f, g, H, rows = _derivatives(pr.theta[best][None, :], prob, w[None, :], per_row=True)
    else:
        H, rows = one[2][None], jacobian_one(pr.theta[best], prob)[None]
    return _problem.Solution(
        z=z_best, objective=float(pr.f[best]), grad_norm=float(pr.grad_norm[best]), converged=bool(pr.converged[best]),
        n_starts=int(seeds.shape[0]), n_minima=len(distinct), second_best=second,
        hessian=red.T.T @ H[0] @ red.T,
        jacobian=rows[0] @ red.T,  # (n, m): Jacobian of the residuals in z
        minima=pr.theta[distinct[:4]],
    )
