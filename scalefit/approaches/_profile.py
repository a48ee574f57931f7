"""The exact Chinchilla IsoFLOP profile fitted to every budget by variable projection (private).

Under the Chinchilla law L(N, D) = E + A N^-alpha + B D^-beta, the loss along
one FLOP budget C (D = C / (k N)) is

    L_C(N) = E + A N^-alpha + B (C / (k N))^-beta = c0 + c1 N^-alpha + c2 N^beta,

a curve that is *not* a parabola in log N unless alpha = beta and the grid is
narrow.  A parabola's vertex is therefore a biased estimate of N*(C) on
off-centre grids or when alpha != beta (Czech et al. 2025, "Problems with
Chinchilla Approach 2").  :func:`profile_minima` fits that exact profile
instead: per-budget linear coefficients ``(c0, c1, c2)`` and exponents
``(alpha, beta)`` shared by all budgets, by variable projection (Golub and
Pereyra 1973; the approach Czech et al. recommend): for given exponents the
coefficients are a weighted linear least-squares problem per budget, so the
residual sum of squares is a function of the two exponents only.  For the data
it is minimised over a log grid, then polished by least squares; the
bootstrap resamples are refined all at once from the data's exponents and
from the bound edges of the box (:mod:`._profile_refine`).  Each budget's
optimum is then in closed form, where alpha c1 N^-alpha = beta c2 N^beta:

    N*_C = (alpha c1 / (beta c2))^(1 / (alpha + beta)).

The coefficients are free per budget, so budgets keep their own N*, D*, L*
(the power law N* ~ C^a is fitted across them as for the polynomial methods),
and when the Chinchilla law holds the estimate is consistent whatever the grid.

In the kernel ``X`` is log10 N centred per budget, so the basis is
``exp(-alpha u)``, ``exp(beta u)`` with ``u = ln(10) X`` (a per-budget rescaling
of N^-alpha and N^beta, which leaves the fit unchanged and keeps it well
conditioned).
"""
from __future__ import annotations

import numpy as np

from ._profile_refine import refine_resamples

#: Bounds of the shared exponents alpha and beta searched by the profile fit.
EXPONENT_BOUNDS = (0.02, 3.0)
#: Points per exponent of the coarse log grid, and rounds of the pattern search that refines it.
GRID_POINTS = 16
SEARCH_ROUNDS = 16
#: First step (in log alpha, log beta) of the resamples' pattern search from the data's exponents.
SEARCH_STEP = 0.25
LN10 = float(np.log(10.0))
#: Largest number of (replicate, budget, point) cells the coarse grid evaluates at once (bounds its memory).
CHUNK_CELLS = 1 << 21


def _solve(U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray, alpha: np.ndarray, beta: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares coefficients ``(R, G, 3)`` and the residual sum of squares ``(R,)``.

    ``alpha`` and ``beta`` have shape ``(R,)`` (one pair per replicate, shared by its budgets).
    Budgets where ``ok`` is false do not enter the sum and get NaN coefficients.
    """
    f1 = np.exp(-alpha[:, None, None] * U)  # (R, G, P)
    f2 = np.exp(beta[:, None, None] * U)
    # divide each basis function by its weighted scale so the 3x3 systems stay well conditioned
    wsum = np.maximum(W.sum(-1, keepdims=True), 1e-300)
    s1 = np.sqrt((W * f1 * f1).sum(-1, keepdims=True) / wsum)
    s2 = np.sqrt((W * f2 * f2).sum(-1, keepdims=True) / wsum)
    f1 = f1 / s1
    f2 = f2 / s2
    Wf1, Wf2 = W * f1, W * f2
    m00 = W.sum(-1)
    m01 = Wf1.sum(-1)
    m02 = Wf2.sum(-1)
    m11 = (Wf1 * f1).sum(-1)
    m12 = (Wf1 * f2).sum(-1)
    m22 = (Wf2 * f2).sum(-1)
    M = np.stack([np.stack([m00, m01, m02], -1), np.stack([m01, m11, m12], -1), np.stack([m02, m12, m22], -1)], -2)
    T = np.stack([(W * Y).sum(-1), (Wf1 * Y).sum(-1), (Wf2 * Y).sum(-1)], -1)
    M = np.where(ok[..., None, None], M, np.eye(3))
    T = np.where(ok[..., None], T, 0.0)
    with np.errstate(all="ignore"):
        try:
            c = np.linalg.solve(M, T[..., None])[..., 0]
        except np.linalg.LinAlgError:  # an exactly singular system somewhere: fall back to least squares per system
            c = np.stack([np.linalg.lstsq(m, t, rcond=None)[0] for m, t in zip(M.reshape(-1, 3, 3), T.reshape(-1, 3))]
                         ).reshape(T.shape)
        resid = Y - (c[..., 0:1] + c[..., 1:2] * f1 + c[..., 2:3] * f2)
        rss = np.where(ok, (W * resid * resid).sum(-1), 0.0).sum(-1)
        c = np.stack([c[..., 0], c[..., 1] / s1[..., 0], c[..., 2] / s2[..., 0]], -1)
    rss = np.where(np.isfinite(rss), rss, np.inf)
    c[~ok] = np.nan
    return c, rss


def _grid_search(U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    """The best ``(log alpha, log beta)`` of the data (replicate 0) on the coarse log grid."""
    grid = np.linspace(np.log(EXPONENT_BOUNDS[0]), np.log(EXPONENT_BOUNDS[1]), GRID_POINTS)
    ga, gb = (g.ravel() for g in np.meshgrid(grid, grid, indexing="ij"))
    K = ga.size
    # grid points as replicates of the data's weights, as many at once as CHUNK_CELLS allows
    step = max(1, CHUNK_CELLS // max(1, U.size))
    rss = np.concatenate([
        _solve(U, Y, np.broadcast_to(W[:1], (len(ga[i:i + step]),) + W.shape[1:]),
               np.broadcast_to(ok[:1], (len(ga[i:i + step]),) + ok.shape[1:]), np.exp(ga[i:i + step]),
               np.exp(gb[i:i + step]))[1]
        for i in range(0, K, step)])
    k = int(np.argmin(rss))
    return float(ga[k]), float(gb[k])


def _polish(U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray, la: float, lb: float) -> tuple[float, float]:
    """Gauss-Newton (scipy's trust-region least squares) on the projected residuals of the data, from ``(la, lb)``.

    The projected problem is a long narrow valley in the exponents; a pattern
    search stops short of its floor, this polish reaches it (Golub and Pereyra
    1973: the projected residuals have the same minimiser as the full problem).
    """
    from scipy.optimize import least_squares

    lo, hi = np.log(EXPONENT_BOUNDS[0]), np.log(EXPONENT_BOUNDS[1])
    w, okr = W[:1], ok[:1]
    sw = np.sqrt(np.where(okr[..., None], w, 0.0))[0]

    def residuals(z: np.ndarray) -> np.ndarray:
        a, b = np.exp(z[:1]), np.exp(z[1:])
        c, _ = _solve(U, Y, w, okr, a, b)
        c = np.nan_to_num(c[0])
        fit = c[:, 0:1] + c[:, 1:2] * np.exp(-a[0] * U) + c[:, 2:3] * np.exp(b[0] * U)
        return (sw * (Y - fit)).ravel()

    z0 = np.clip([la, lb], lo + 1e-9, hi - 1e-9)
    try:
        sol = least_squares(residuals, z0, bounds=(lo, hi), x_scale=1.0, xtol=1e-12, ftol=1e-15, gtol=1e-15,
                            max_nfev=200)
    except (ValueError, np.linalg.LinAlgError):  # a degenerate budget: keep the search's answer
        return la, lb
    if float(np.sum(sol.fun**2)) <= float(np.sum(residuals(z0) ** 2)):
        return float(sol.x[0]), float(sol.x[1])
    return la, lb


def _pattern_search(U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray, la: np.ndarray, lb: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The former refinement of the resamples: a shrinking 3x3 pattern search in (log alpha, log beta), all at once.

    128 batched solves; kept as the reference :mod:`._profile_refine` is tested against.
    Returns ``(log alpha, log beta, rss)``, each ``(R,)``.
    """
    lo, hi = np.log(EXPONENT_BOUNDS[0]), np.log(EXPONENT_BOUNDS[1])
    la, lb = la.copy(), lb.copy()
    _, best = _solve(U, Y, W, ok, np.exp(la), np.exp(lb))
    step = np.full(len(la), SEARCH_STEP)
    moves = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)]
    for _ in range(SEARCH_ROUNDS):
        cand_best, cand_a, cand_b = best.copy(), la.copy(), lb.copy()
        for i, j in moves:
            ta = np.clip(la + i * step, lo, hi)
            tb = np.clip(lb + j * step, lo, hi)
            _, rss = _solve(U, Y, W, ok, np.exp(ta), np.exp(tb))
            better = rss < cand_best
            cand_best = np.where(better, rss, cand_best)
            cand_a = np.where(better, ta, cand_a)
            cand_b = np.where(better, tb, cand_b)
        moved = cand_best < best
        best, la, lb = cand_best, cand_a, cand_b
        step = np.where(moved, step, step / 2.0)
    return la, lb, best


def fit_exponents(U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray, *,
                  start: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The shared exponents ``(alpha, beta)``, each ``(R,)``, minimising every replicate's residual sum of squares.

    The data (replicate 0): a coarse log grid, then a least-squares polish
    (skipped when ``start`` gives the data's ``(alpha, beta)``, fitted before).
    Resamples: :func:`._profile_refine.refine_resamples`, from the data's answer and the bound edges.
    """
    R = W.shape[0]
    if start is None:
        start = tuple(np.exp(_polish(U, Y, W, ok, *_grid_search(U, Y, W, ok))))
    a0, b0 = float(start[0]), float(start[1])
    if R == 1:
        return np.full(1, a0), np.full(1, b0)
    # the resamples start from the log of the exponents reported for the data, so a later batch given them
    # as ``start`` refines its resamples from exactly the same point
    lo, hi = np.log(EXPONENT_BOUNDS[0]), np.log(EXPONENT_BOUNDS[1])
    la, lb = refine_resamples(U, Y, W[1:], ok[1:], float(np.log(a0)), float(np.log(b0)), (lo, hi))
    return np.r_[a0, np.exp(la)], np.r_[b0, np.exp(lb)]


def profile_minima(X: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray, *,
                   start: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """Minimum of the fitted Chinchilla IsoFLOP profile for every (replicate, budget).

    Parameters
    ----------
    X, Y : ndarray, shape (G, P)
        Centred log10 N and loss of every budget's points (padded).
    W : ndarray, shape (R, G, P)
        Multiplicity of each point in each replicate (row 0: the data).
    ok : ndarray of bool, shape (R, G)
        Budgets with enough distinct sizes to be fitted.
    start : tuple of float, optional
        The data's exponents ``(alpha, beta)`` when already fitted (a later batch of resamples).

    Returns
    -------
    dict
        ``x`` (vertex, centred log10 N), ``loss`` (fitted loss there), ``curvature`` (second derivative in
        log10 N there; NaN when the fitted profile has no minimum, i.e. c1 <= 0 or c2 <= 0), ``ok``,
        ``coef`` ``(R, G, 5)`` = ``(c0, c1, c2, alpha, beta)`` of ``c0 + c1 exp(-alpha u) + c2 exp(beta u)``
        with ``u = ln(10) X``, and ``use`` (which points entered each fit).
    """
    U = LN10 * X
    alpha, beta = fit_exponents(U, Y, W, ok, start=start)
    c, _ = _solve(U, Y, W, ok, alpha, beta)
    a = alpha[:, None]
    b = beta[:, None]
    c0, c1, c2 = c[..., 0], c[..., 1], c[..., 2]
    with np.errstate(all="ignore"):
        has_min = (c1 > 0) & (c2 > 0)
        u = np.where(has_min, np.log(a * c1 / (b * c2)) / (a + b), np.nan)
        e1, e2 = np.exp(-a * u), np.exp(b * u)
        loss = c0 + c1 * e1 + c2 * e2
        curvature = LN10**2 * (a * a * c1 * e1 + b * b * c2 * e2)
    coef = np.concatenate([c, np.broadcast_to(a, c0.shape)[..., None], np.broadcast_to(b, c0.shape)[..., None]], -1)
    return {"x": u / LN10, "loss": loss, "curvature": curvature, "ok": ok, "coef": coef, "use": W > 0}


def profile_values(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The fitted profile ``c0 + c1 exp(-alpha u) + c2 exp(beta u)`` at centred log10 N ``x`` (``u = ln(10) x``)."""
    c0, c1, c2, alpha, beta = (float(v) for v in coef)
    u = LN10 * np.asarray(x, dtype=float)
    return c0 + c1 * np.exp(-alpha * u) + c2 * np.exp(beta * u)
