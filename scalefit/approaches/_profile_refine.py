"""The bootstrap resamples' profile exponents, refined from per-budget moments (private).

:mod:`._profile` fits the data's shared exponents ``(alpha, beta)``; every
bootstrap resample is the same points with other multiplicities ``W``, and its
exponents are refined here, all resamples at once.

Two changes make that cheap.  First the basis: ``{1, exp(-alpha u), exp(beta u)}``
spans the same curves as ``{1, g1, g2}`` with ``g1 = expm1(-alpha u) / alpha`` and
``g2 = expm1(beta u) / beta``, which tend to ``-u`` and ``u`` as an exponent
goes to 0, so the projected problem stays well conditioned at the 0.02 bound
where the first form degenerates into the constant.  Second, everything a
step needs is a weighted per-budget sum (a moment): with the constant
projected out, the coefficients solve a 2x2 system per budget in closed form
and the residual sum of squares is ``Cyy - c1 C1y - c2 C2y`` (Golub and Pereyra
1973); Kaufman's (1975) Gauss-Newton matrix of the projected problem is made of
moments too.  One refinement step is then 18 products of ``(resamples, points)``
arrays and their per-budget sums, with no per-budget linear-algebra call.

The projected problem has several basins when an exponent is near a bound (the
data of several of Porian et al.'s configurations): the interior, and the four
edges of the box where one exponent sits at a bound (the basis then degenerates
towards ``{1, u, exp(beta u)}`` at the lower bound, or a term that only the
smallest models feel at the upper).  Each resample is refined by a batched
Levenberg-Marquardt (an active set keeps an exponent on its bound while the
descent points out of the box) from the data's exponents.  Where the data's
or that answer's exponent is near a bound, it is also refined from the best
point of each edge (one exponent fixed at its bound, the other on a fine log
grid, the reduced 1-D problem) and of a coarse lattice over the box, wherever
that start's grid RSS is within ``FIRST_MARGIN`` of the first answer's.  The
grids share their basis across resamples, so their moments are matrix
products.  Each resample keeps the lowest RSS.  Results do not depend on which
other resamples share the batch.
"""
from __future__ import annotations

import numpy as np

#: Points of the log grid over the free exponent on each bound edge.
EDGE_GRID = 24
#: Points per exponent of the coarse log lattice over the whole box (its sides are the four bound edges).
COARSE_GRID = 8
#: Largest number of (product, replicate, point) cells held at once (bounds the memory of one evaluation).
CELLS = 1 << 22
#: The edge grids' matrix products run on row counts padded to a multiple of this.
GEMM_ROWS = 16
#: Iterations of the Levenberg-Marquardt refinement, and its first damping.
LM_ITERATIONS = 40
LM_DAMPING = 1e-3
#: Least damping after a rejected step (about halves the Gauss-Newton step).
REJECT_DAMPING = 1.0
#: A replicate stops once a step's predicted decrease of its RSS is below this fraction of the RSS.
TOLERANCE = 1e-11
#: A grid start is dropped once its RSS is this much (relative) above its resample's best RSS so far.
START_MARGIN = 0.02
#: Near a bound, a grid start is refined when its grid RSS is within this (relative) of the data start's answer.
FIRST_MARGIN = 0.3
#: "Near a bound": the data's or the resample's exponent within this (in log exponent) of a bound.
BOUND_MARGIN = 0.05
#: Iterations every start takes before it can be dropped for a worse RSS than another start's.
PRUNE_AFTER = 1


class Moments:
    """One group's points flattened (budgets in turn), with each replicate's multiplicities.

    Parameters
    ----------
    U, Y : ndarray, shape (G, P)
        ``ln(10)`` times centred log10 N, and loss, of every budget's points (padded).
    W : ndarray, shape (R, G, P)
        Multiplicities (the replicates to refine).
    ok : ndarray of bool, shape (R, G)
        Budgets that enter each replicate's sum.
    """

    def __init__(self, U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray) -> None:
        R, G, P = W.shape
        W = np.where(ok[..., None], W, 0.0)
        # the budgets' points: padding has loss 0 and weight 0 (losses are positive), so the columns, and with them
        # every replicate's sums, are the same whichever batch of resamples the replicate comes in
        used = np.asarray((np.asarray(Y) != 0) | (W > 0).any(0), dtype=bool)  # (G, P)
        budgets = np.flatnonzero(used.any(-1))
        used = used[budgets]
        cols = (budgets[:, None] * P + np.arange(P)[None, :])[used]
        self.starts = np.r_[0, np.cumsum(used.sum(-1))[:-1]]  # first column of each budget (for reduceat)
        self.ok = ok[:, budgets]
        u = np.nan_to_num(np.asarray(U, dtype=float).ravel()[cols])
        y = np.nan_to_num(np.asarray(Y, dtype=float).ravel()[cols])
        # subtract each budget's plain mean loss (absorbed by the constant) so the moments of y stay small
        seg = np.repeat(np.arange(len(budgets)), used.sum(-1))
        y = y - (np.bincount(seg, y) / np.bincount(seg))[seg]
        self.u, self.y = u, y
        self.w = W.reshape(R, -1)[:, cols]
        self.wy = self.w * y
        self.s0 = self.sums(self.w)
        self.sy = self.sums(self.wy)
        self.syy = self.sums(self.wy * y)
        with np.errstate(divide="ignore"):
            self.inv0 = np.where(self.ok & (self.s0 > 0), 1.0 / self.s0, 0.0)
        self._blocks: dict[int, list[tuple[int, int, np.ndarray, np.ndarray]]] = {}

    def sums(self, a: np.ndarray) -> np.ndarray:
        """Per-budget sums ``(n, G)`` of a ``(n, points)`` array."""
        return np.add.reduceat(a, self.starts, axis=-1)

    def blocks(self, width: int) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        """Column blocks ``(first, end, starts within the block, their budgets)`` of at most ``width`` points.

        Whole budgets are packed together; a budget wider than ``width`` is cut in pieces (moments add up).
        """
        width = max(1, int(width))
        ends = np.r_[self.starts[1:], len(self.u)]
        out: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        cur: list[tuple[int, int, int]] = []
        for g, (i, j) in enumerate(zip(self.starts, ends)):
            if cur and j - cur[0][1] > width:
                out.append((cur[0][1], cur[-1][2], np.array([c[1] - cur[0][1] for c in cur]), np.array([c[0] for c in cur])))
                cur = []
            if j - i > width:
                out += [(k, min(k + width, j), np.zeros(1, dtype=int), np.array([g])) for k in range(i, j, width)]
            else:
                cur.append((g, i, j))
        if cur:
            out.append((cur[0][1], cur[-1][2], np.array([c[1] - cur[0][1] for c in cur]), np.array([c[0] for c in cur])))
        return out

    @staticmethod
    def _products(w: np.ndarray, wy: np.ndarray, u: np.ndarray, a: np.ndarray, b: np.ndarray, grad: bool
                  ) -> np.ndarray:
        """The 7 (or with ``grad`` 18) weighted products ``(k, n, points)`` whose per-budget sums are the moments."""
        n, N = w.shape
        buf = np.empty((18 if grad else 7, n, N))
        e1 = np.multiply(-a, u)
        np.expm1(e1, out=e1)
        g1 = e1 / a
        e2 = np.multiply(b, u)
        np.expm1(e2, out=e2)
        g2 = e2 / b
        np.multiply(w, g1, out=buf[0])
        np.multiply(w, g2, out=buf[1])
        np.multiply(buf[0], g1, out=buf[2])
        np.multiply(buf[0], g2, out=buf[3])
        np.multiply(buf[1], g2, out=buf[4])
        np.multiply(wy, g1, out=buf[5])
        np.multiply(wy, g2, out=buf[6])
        if grad:
            # derivatives of g1, g2 in log alpha, log beta (the fitted curve's are c1 d1 and c2 d2):
            # d1 = -(u exp(-alpha u) + g1), d2 = u exp(beta u) - g2
            d1, d2 = e1, e2
            d1 += 1.0
            d1 *= u
            d1 += g1
            np.negative(d1, out=d1)
            d2 += 1.0
            d2 *= u
            d2 -= g2
            np.multiply(w, d1, out=buf[7])
            np.multiply(w, d2, out=buf[8])
            for i, (x, y) in enumerate([(7, g1), (7, g2), (8, g1), (8, g2), (7, d1), (7, d2), (8, d2)]):
                np.multiply(buf[x], y, out=buf[9 + i])
            np.multiply(wy, d1, out=buf[16])
            np.multiply(wy, d2, out=buf[17])
        return buf

    def evaluate(self, rows: np.ndarray, alpha: np.ndarray, beta: np.ndarray, *, grad: bool = False
                 ) -> tuple[np.ndarray, ...]:
        """RSS ``(n,)`` of replicates ``rows`` at their own exponents, and (``grad``) the Gauss-Newton ``H``, ``q``.

        ``H`` ``(n, 2, 2)`` and ``q`` ``(n, 2)`` are in (log alpha, log beta): the step is ``H^-1 q``.
        """
        k = 18 if grad else 7
        n, G = len(rows), len(self.starts)
        mom = np.zeros((k, n, G))
        if k not in self._blocks:
            self._blocks[k] = self.blocks(CELLS // k)
        for first, end, starts, budgets in self._blocks[k]:
            step = max(1, CELLS // (k * (end - first)))
            for r in range(0, n, step):
                sl = rows[r:r + step]
                part = self._products(self.w[sl, first:end], self.wy[sl, first:end], self.u[first:end],
                                      alpha[r:r + step, None], beta[r:r + step, None], grad)
                mom[:, r:r + step, budgets] += np.add.reduceat(part, starts, axis=-1)
        s1, s2, s11, s12, s22, s1y, s2y = mom[:7]
        inv0, sy, ok = self.inv0[rows], self.sy[rows], self.ok[rows]
        with np.errstate(all="ignore"):
            C11, C12, C22 = s11 - s1 * s1 * inv0, s12 - s1 * s2 * inv0, s22 - s2 * s2 * inv0
            C1y, C2y = s1y - s1 * sy * inv0, s2y - s2 * sy * inv0
            Cyy = self.syy[rows] - sy * sy * inv0
            det = C11 * C22 - C12 * C12
            c1 = (C22 * C1y - C12 * C2y) / det
            c2 = (C11 * C2y - C12 * C1y) / det
            rss = np.where(ok, Cyy - c1 * C1y - c2 * C2y, 0.0).sum(-1)
        rss = np.where(np.isfinite(rss), rss, np.inf)
        if not grad:
            return (rss,)
        t1, t2, t11, t12, t21, t22, t1d1, t1d2, t2d2, t1y, t2y = mom[7:]
        with np.errstate(all="ignore"):
            # centred moments of d with g (rows: d1, d2; columns: g1, g2), with d, and with y
            A = ((t11 - t1 * s1 * inv0, t12 - t1 * s2 * inv0), (t21 - t2 * s1 * inv0, t22 - t2 * s2 * inv0))
            Dd = {(0, 0): t1d1 - t1 * t1 * inv0, (0, 1): t1d2 - t1 * t2 * inv0, (1, 1): t2d2 - t2 * t2 * inv0}
            Dy = (t1y - t1 * sy * inv0, t2y - t2 * sy * inv0)
            # C^-1 A_j: the projection of d_j on the centred (g1, g2)
            P = [((C22 * A[j][0] - C12 * A[j][1]) / det, (C11 * A[j][1] - C12 * A[j][0]) / det) for j in (0, 1)]
            c = (c1, c2)
            H = np.empty((len(rows), 2, 2))
            for i in (0, 1):
                for j in range(i, 2):
                    hij = c[i] * c[j] * (Dd[(i, j)] - A[i][0] * P[j][0] - A[i][1] * P[j][1])
                    H[:, i, j] = H[:, j, i] = np.where(ok, hij, 0.0).sum(-1)
            q = np.stack([np.where(ok, c[i] * (Dy[i] - c1 * A[i][0] - c2 * A[i][1]), 0.0).sum(-1) for i in (0, 1)], -1)
        return rss, H, q

    def grid(self, alpha: np.ndarray, beta: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """RSS ``(n, K)`` of replicates ``rows`` (default all) at the ``K`` exponent pairs ``(alpha[k], beta[k])``.

        The basis is the same for every replicate, so each budget's moments are one matrix product.
        """
        a, b = alpha[None, :], beta[None, :]
        sel = slice(None) if rows is None else rows
        W, WY, inv0_all, sy_all, syy, ok = (v[sel] for v in (self.w, self.wy, self.inv0, self.sy, self.syy, self.ok))
        R, K = W.shape[0], len(alpha)
        # the products run on a row count padded to a multiple of GEMM_ROWS, so that every replicate's row goes
        # through the same BLAS kernel whatever the batch's size (its result is then the same in any batch)
        pad = ((0, -R % GEMM_ROWS), (0, 0))
        ends = np.r_[self.starts[1:], len(self.u)]
        out = np.zeros((R, K))
        width = max(1, CELLS // (7 * K))
        for g, (i, j) in enumerate(zip(self.starts, ends)):
            m = np.zeros((R, 5 * K))
            my = np.zeros((R, 2 * K))
            for first in range(i, j, width):  # a wide budget in pieces: moments add up
                end = min(first + width, j)
                u = self.u[first:end, None]
                g1 = np.expm1(-a * u) / a
                g2 = np.expm1(b * u) / b
                m += (np.pad(W[:, first:end], pad) @ np.concatenate([g1, g2, g1 * g1, g1 * g2, g2 * g2], 1))[:R]
                my += (np.pad(WY[:, first:end], pad) @ np.concatenate([g1, g2], 1))[:R]
            s1, s2, s11, s12, s22 = (m[:, n * K:(n + 1) * K] for n in range(5))
            s1y, s2y = my[:, :K], my[:, K:]
            inv0, sy = inv0_all[:, g:g + 1], sy_all[:, g:g + 1]
            with np.errstate(all="ignore"):
                C11, C12, C22 = s11 - s1 * s1 * inv0, s12 - s1 * s2 * inv0, s22 - s2 * s2 * inv0
                C1y, C2y = s1y - s1 * sy * inv0, s2y - s2 * sy * inv0
                det = C11 * C22 - C12 * C12
                fitted = (C22 * C1y * C1y - 2.0 * C12 * C1y * C2y + C11 * C2y * C2y) / det
                part = syy[:, g:g + 1] - sy * sy * inv0 - fitted
            out += np.where(ok[:, g:g + 1], part, 0.0)
        return np.where(np.isfinite(out), out, np.inf)


def levenberg_marquardt(mom: Moments, rows: np.ndarray, la: np.ndarray, lb: np.ndarray, bounds: tuple[float, float],
                        *, cap: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched Levenberg-Marquardt on (log alpha, log beta) of replicates ``rows`` (repeats allowed), within bounds.

    A replicate whose exponent sits at a bound and whose descent points out of
    the box keeps that exponent and steps in the other alone (an active set),
    so it slides along the bound.  A step is taken only where it lowers that
    replicate's RSS; replicates leave the batch once converged, or (``cap``,
    one value per replicate, lowered as the refinement goes) once their RSS is
    more than ``START_MARGIN`` above their replicate's ``cap`` (another start of
    the same resample already did better).  Returns ``(log alpha, log beta, rss)``.
    """
    lo, hi = bounds
    la, lb = la.copy(), lb.copy()
    rss, H, q = mom.evaluate(rows, np.exp(la), np.exp(lb), grad=True)
    lam = np.full(len(la), LM_DAMPING)
    live = np.arange(len(la))
    for it in range(LM_ITERATIONS):
        if cap is not None and it >= PRUNE_AFTER:
            live = live[rss[live] <= cap[rows[live]] * (1.0 + START_MARGIN)]
        if not live.size:
            break
        za, zb, lm = la[live], lb[live], lam[live]
        Hl, ql = H[live], q[live]
        a11, a22, a12 = Hl[:, 0, 0] * (1 + lm), Hl[:, 1, 1] * (1 + lm), Hl[:, 0, 1]
        qa, qb = ql[:, 0], ql[:, 1]
        act_a = ((za <= lo) & (qa < 0)) | ((za >= hi) & (qa > 0))
        act_b = ((zb <= lo) & (qb < 0)) | ((zb >= hi) & (qb > 0))
        with np.errstate(all="ignore"):
            det = a11 * a22 - a12 * a12
            sa = np.where(act_b, qa / a11, (a22 * qa - a12 * qb) / det)
            sb = np.where(act_a, qb / a22, (a11 * qb - a12 * qa) / det)
        sa = np.where(act_a, 0.0, sa)
        sb = np.where(act_b, 0.0, sb)
        # the Gauss-Newton model's decrease of the RSS along the step; below TOLERANCE of the RSS there is no more to gain
        flat = ~(sa * qa + sb * qb > TOLERANCE * rss[live])
        if flat.any():
            live, za, zb, lm, Hl, ql, sa, sb = (v[~flat] for v in (live, za, zb, lm, Hl, ql, sa, sb))
            if not live.size:
                break
        size = np.hypot(sa, sb)
        shrink = np.where(size > 1.0, 1.0 / np.where(size > 0, size, 1.0), 1.0)  # at most 1 in log exponent per step
        bad = ~(np.isfinite(sa) & np.isfinite(sb))
        ta = np.clip(za + np.where(bad, 0.0, sa * shrink), lo, hi)
        tb = np.clip(zb + np.where(bad, 0.0, sb * shrink), lo, hi)
        trss, tH, tq = mom.evaluate(rows[live], np.exp(ta), np.exp(tb), grad=True)
        old = rss[live]
        acc = trss < old
        moved = np.hypot(ta - za, tb - zb)
        la[live] = np.where(acc, ta, za)
        lb[live] = np.where(acc, tb, zb)
        rss[live] = np.where(acc, trss, old)
        H[live] = np.where(acc[:, None, None], tH, Hl)
        q[live] = np.where(acc[:, None], tq, ql)
        lam[live] = np.where(acc, np.maximum(lm / 3.0, 1e-12), np.maximum(lm * 4.0, REJECT_DAMPING))
        if cap is not None:
            np.minimum.at(cap, rows[live], rss[live])
        done = (acc & ((old - trss) <= 1e-13 * np.abs(old))) | (moved <= 1e-12) | (~acc & (lm > 1e8)) | bad
        live = live[~done]
    return la, lb, rss


def refine_resamples(U: np.ndarray, Y: np.ndarray, W: np.ndarray, ok: np.ndarray, la0: float, lb0: float,
                     bounds: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Log exponents ``(R,)`` of every resample (``W`` ``(R, G, P)``), from the data's ``(la0, lb0)`` and the edges.

    Every resample is first refined from the data's exponents (:func:`levenberg_marquardt`).  Where the data's or
    that answer's exponent is near a bound (where basins compete closely), also from the best grid point of each
    of the four bound edges (one exponent at a bound, the other on a fine log grid) and of a coarse lattice over
    the box, each where its grid RSS is within ``FIRST_MARGIN`` of the first answer's; the resample keeps the
    lowest RSS.  Interior resamples skip the grids, whose cost does not shrink with the batch (it would grow as
    rows squared when large data leave few resamples per batch).
    """
    lo, hi = bounds
    R = W.shape[0]
    mom = Moments(U, Y, W, ok)
    # the data's start first
    la, lb, rss = levenberg_marquardt(mom, np.arange(R), np.full(R, la0), np.full(R, lb0), bounds)

    # near a bound (the data's or this answer's exponent within BOUND_MARGIN of one) the basins compete closely:
    # there the grid's starts are tried, each where its grid RSS is within FIRST_MARGIN of the answer's
    def near(x):
        return (np.asarray(x) <= lo + BOUND_MARGIN) | (np.asarray(x) >= hi - BOUND_MARGIN)

    hard = np.flatnonzero(near(la) | near(lb) | near(la0) | near(lb0))
    if not hard.size:
        return la, lb
    edge = np.linspace(lo, hi, EDGE_GRID)
    coarse = np.linspace(lo, hi, COARSE_GRID)
    ca, cb = (g.ravel() for g in np.meshgrid(coarse, coarse, indexing="ij"))
    # the four edges (one exponent at a bound, the other on the fine grid), then the coarse lattice
    fixed = [np.full(EDGE_GRID, v) for v in (lo, hi)]
    ga = np.r_[fixed[0], edge, fixed[1], edge, ca]
    gb = np.r_[edge, fixed[0], edge, fixed[1], cb]
    rss_grid = mom.grid(np.exp(ga), np.exp(gb), hard)
    parts = [slice(i * EDGE_GRID, (i + 1) * EDGE_GRID) for i in range(4)] + [slice(4 * EDGE_GRID, None)]
    picks = [p.start + np.argmin(rss_grid[:, p], 1) for p in parts]
    sa = np.concatenate([ga[k] for k in picks])
    sb = np.concatenate([gb[k] for k in picks])
    srss = np.concatenate([rss_grid[np.arange(hard.size), k] for k in picks])
    rows = np.tile(hard, len(picks))
    cap = rss.copy()
    keep = srss <= cap[rows] * (1.0 + FIRST_MARGIN)
    if keep.any():
        ea, eb, erss = levenberg_marquardt(mom, rows[keep], sa[keep], sb[keep], bounds, cap=cap)
        r = rows[keep]
        order = np.lexsort((erss, r))  # by resample, then RSS: the first of each resample is its best start
        pick = order[np.r_[True, r[order][1:] != r[order][:-1]]]
        pick = pick[erss[pick] < rss[r[pick]]]
        la[r[pick]], lb[r[pick]] = ea[pick], eb[pick]
    return la, lb
