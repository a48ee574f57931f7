"""Seeding of the Chinchilla engine: variable projection over a grid of (alpha, beta), and grouping of points.

:func:`seed_grid` gives, for every cell of an (alpha, beta) grid, the weighted least-squares
(E, A, B) of the law (linear in them once the exponents are fixed) and the engine's robust
objective there, and keeps the distinct grid basins.  :func:`distinct_indices` and
:func:`_same_predictions` group points that predict the same losses.  Split from
:mod:`._chinchilla` (which re-exports these names); everything here is private.
"""
from __future__ import annotations

import numpy as np

from ._chinchilla_kernel import Problem, Reduction, _forward, residuals

#: Largest number of (cell or problem) x row values the seeding holds at once: 2**20 doubles, 8 MB.
_BLOCK = 1 << 20


def seed_grid(
    prob: Problem,
    red: Reduction,
    w: np.ndarray,
    *,
    alpha_grid: np.ndarray,
    beta_grid: np.ndarray,
    fixed_theta: dict[int, float],
    tied_ab: bool,
    n_keep: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """Variable-projection seeds: best (E, A, B) per (alpha, beta) cell.

    Returns (theta_seeds (K, 5), grid objective values) with the distinct grid
    basins first, best first.
    """
    al_fixed = fixed_theta.get(3)
    be_fixed = fixed_theta.get(4)
    al = np.atleast_1d(alpha_grid if al_fixed is None else [al_fixed])
    if tied_ab:
        pairs = np.stack([al, al], axis=1)
        shape = (al.size,)
    else:
        be = np.atleast_1d(beta_grid if be_fixed is None else [be_fixed])
        AL, BE = np.meshgrid(al, be, indexing="ij")
        pairs = np.stack([AL.ravel(), BE.ravel()], axis=1)
        shape = AL.shape
    P = pairs.shape[0]
    L = prob.loss
    logL = np.log(L)
    # features [1, N^-alpha, D^-beta] per distinct exponent only: (na, n) and (nb, n); cell p uses
    # row ia[p] and ib[p].  The normal equations of every cell come from their moments, so no
    # cells x rows x 3 array is ever built.
    ua, ia = np.unique(pairs[:, 0], return_inverse=True)
    ub, ib = np.unique(pairs[:, 1], return_inverse=True)
    FA = np.exp(-ua[:, None] * prob.x[None, :])
    FB = np.exp(-ub[:, None] * prob.y[None, :])
    # weights: log space residual ~ (Lhat - L) / L
    ww = w / (L * L) if prob.space == "log" else w * np.ones_like(L)
    FAw, FBw, wL = FA * ww, FB * ww, ww * L
    M = np.empty((P, 3, 3))
    M[:, 0, 0] = ww.sum()
    M[:, 0, 1] = M[:, 1, 0] = FAw.sum(1)[ia]
    M[:, 0, 2] = M[:, 2, 0] = FBw.sum(1)[ib]
    M[:, 1, 1] = np.einsum("an,an->a", FAw, FA)[ia]
    M[:, 2, 2] = np.einsum("bn,bn->b", FBw, FB)[ib]
    M[:, 1, 2] = M[:, 2, 1] = (FAw @ FB.T)[ia, ib]
    R = np.column_stack([np.full(P, wL.sum()), (FA @ wL)[ia], (FB @ wL)[ib]])
    fixed_lin = {j: float(np.exp(v)) for j, v in fixed_theta.items() if j < 3}
    free_terms = [j for j in range(3) if j not in fixed_lin]
    # right-hand side of the free terms: moments of the target L - (fixed terms)
    rhs_all = R.copy()
    for j, v in fixed_lin.items():
        rhs_all -= v * M[:, :, j]
    best_theta = np.full((P, 5), np.nan)
    best_f = np.full(P, np.inf)
    tiny = 1e-12
    # Only the solve with every free term: a subset that leaves a free term out gives it coefficient 0,
    # which the feasibility test below (every free coefficient > 0) always rejects, so the engine
    # before issue 12's fit work, which solved every subset, never kept one; skipping them keeps its
    # seeds exactly and saves 6 of 7 solves (tests/test_chinchilla_engine.py compares the seeds).
    subsets = [tuple(free_terms)]
    for sub in subsets:
        # the cell's solution depends on alpha only through an A term, on beta only through a B term
        used = set(sub) | set(fixed_lin)
        key = (ia * ub.size if 1 in used else 0) + (ib if 2 in used else 0)
        _, rep, inv = np.unique(np.broadcast_to(key, (P,)), return_index=True, return_inverse=True)
        coef = np.zeros((rep.size, 3))
        for j, v in fixed_lin.items():
            coef[:, j] = v
        if sub:
            cols = list(sub)
            Ms = M[rep][:, cols][:, :, cols]
            Ms = Ms + 1e-14 * np.trace(Ms, axis1=1, axis2=2)[:, None, None] * np.eye(len(sub))
            try:
                sol = np.linalg.solve(Ms, rhs_all[rep][:, cols, None])[..., 0]
            except np.linalg.LinAlgError:
                continue
            coef[:, cols] = sol
        feasible = np.all(coef[:, free_terms] > 0, axis=1) if free_terms else np.ones(rep.size, bool)
        coef = np.maximum(coef, tiny)
        fval = np.full(P, np.inf)
        ok = np.flatnonzero(feasible)
        if ok.size:
            # the law is linear in (E, A, B) at a grid cell: evaluate it directly (no log-sum-exp), in
            # blocks of cells so that no block holds more than _BLOCK values (memory linear in rows)
            f_rep = np.full(rep.size, np.inf)
            tilt = 1 not in used or 2 not in used
            if tilt:
                dA = np.zeros((ok.size, ua.size)) if 1 not in used else None
                dB = np.zeros((ok.size, ub.size)) if 2 not in used else None
            step = max(1, _BLOCK // max(L.size, 1))
            for b0 in range(0, ok.size, step):
                blk = ok[b0 : b0 + step]
                c = coef[blk]
                # E + A-term + B-term, summed in that order (the seeds' objective values to the last
                # bit, so ties between equivalent cells break as before); terms left out are skipped
                lhat = np.zeros((blk.size, L.size)) if 1 not in used else FA[ia[rep[blk]]]
                if 1 in used:
                    lhat *= c[:, 1:2]
                lhat += c[:, 0:1]
                if 2 in used:
                    lhat += c[:, 2:3] * FB[ib[rep[blk]]]
                if prob.space == "log":
                    r = np.log(lhat)
                    r -= logL
                else:
                    r = lhat - L
                f_rep[blk], d1 = _rho_value(r, prob.kind, prob.delta, w)
                # a term left out sits at its floor coefficient (tiny), whose alpha or beta still tilts
                # the cells that share a solution; add that tilt to first order, as a full evaluation would
                if tilt:
                    dr = w * d1 / (lhat if prob.space == "log" else 1.0)
                    if dA is not None:
                        dA[b0 : b0 + blk.size] = dr @ FA.T
                    if dB is not None:
                        dB[b0 : b0 + blk.size] = dr @ FB.T
            fval = f_rep[inv]
            if tilt:
                pos = np.full(rep.size, -1)
                pos[ok] = np.arange(ok.size)
                cell = pos[inv]
                hit = cell >= 0
                if dA is not None:
                    fval[hit] += tiny * dA[cell[hit], ia[hit]]
                if dB is not None:
                    fval[hit] += tiny * dB[cell[hit], ib[hit]]
        fval = np.where(np.isfinite(fval), fval, np.inf)
        coef = coef[inv]
        theta = np.column_stack([np.log(coef[:, 0]), np.log(coef[:, 1]), np.log(coef[:, 2]), pairs[:, 0], pairs[:, 1]])
        for j, v in fixed_theta.items():
            theta[:, j] = v
        better = fval < best_f
        best_f[better] = fval[better]
        best_theta[better] = theta[better]
    # distinct basins: local minima of the grid objective
    grid_f = best_f.reshape(shape)
    is_min = np.isfinite(grid_f)
    if grid_f.ndim == 2:
        dims: tuple = grid_f.shape
        n0, n1 = int(dims[0]), int(dims[1])
        padded = np.full((n0 + 2, n1 + 2), np.inf)
        padded[1:-1, 1:-1] = grid_f
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                if di == 0 and dj == 0:
                    continue
                nb = padded[1 + di : 1 + di + n0, 1 + dj : 1 + dj + n1]
                is_min &= grid_f <= nb
    else:
        line = np.full(grid_f.size + 2, np.inf)
        line[1:-1] = grid_f
        is_min &= (grid_f <= line[:-2]) & (grid_f <= line[2:])
    order = np.argsort(best_f)
    flat_min = is_min.ravel()[order]
    minima = order[flat_min].tolist()
    rest = order[~flat_min & np.isfinite(best_f[order])].tolist()
    keep = (minima[:n_keep] + rest[: max(0, n_keep // 2)])[: max(n_keep, 1)]
    if not keep:
        return best_theta[:0], best_f[:0]
    return best_theta[keep], best_f[keep]


def _rho_value(r: np.ndarray, kind: str, delta: float, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective per row of ``r`` (cells, n) with weights ``w``, and rho'(r): :func:`_problem.rho`'s
    value and first derivative (huber or mse), in place on ``r``'s copy, without the second derivative."""
    if kind == "mse":
        return 0.5 * ((r * r) @ w), r
    d1 = np.clip(r, -delta, delta)
    val = d1 * 0.5
    np.subtract(r, val, out=val)
    val *= d1  # d1 (r - d1/2): 1/2 r^2 inside +-delta, delta |r| - 1/2 delta^2 outside
    return val @ w, d1


def distinct_indices(theta: np.ndarray, f: np.ndarray, prob: Problem, *, atol: float = 1e-6) -> list:
    """Indices of distinct local minima among polished points, best first.

    Two points are the same minimum when their residual vectors agree to
    ``atol``: this merges degenerate optima (a term driven to zero, where its
    exponent no longer matters) that differ only in irrelevant parameters.
    """
    reps: list[tuple[int, np.ndarray]] = []
    for i in np.argsort(f):
        if not np.isfinite(f[i]):
            continue
        r = residuals(theta[i], prob)
        if not any(np.max(np.abs(r - q)) <= atol for _, q in reps):
            reps.append((i, r))
    return [i for i, _ in reps]


def _same_predictions(theta: np.ndarray, prob: Problem, *, atol: float = 1e-9) -> np.ndarray:
    """For each point, the first point whose residuals agree with its own to ``atol``.

    Residuals are computed in one pass when K x rows is at most :data:`_BLOCK`, else one point at
    a time (K x rows memory only for the residuals kept).
    """
    K = theta.shape[0]
    rep = np.arange(K)
    batch = K * prob.x.size <= _BLOCK
    r = _forward(theta, prob)[2] if batch else np.empty((K, prob.x.size))
    for i in range(K):
        if not batch:
            r[i] = residuals(theta[i], prob)
        if i:
            hit = np.flatnonzero(np.max(np.abs(r[:i] - r[i]), axis=1) <= atol)
            if hit.size:
                rep[i] = rep[hit[0]]
    return rep
