"""Kernel of the Chinchilla engine: the data, the parameter map, the loss and its batched derivatives.

:mod:`._chinchilla` seeds, polishes and adapts fitting problems; everything it
evaluates comes from here.  Internal parameter order is (e, a, b, alpha,
beta), with e, a, b the logs of E, A, B.  Everything here is private.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._problem import rho as _rho  # the one definition of every objective

NATURAL = ("E", "A", "B", "alpha", "beta")


@dataclass
class Problem:
    """Data and objective options of one Chinchilla fit (internal)."""

    x: np.ndarray  # log N, shape (n,)
    y: np.ndarray  # log D
    loss: np.ndarray  # L
    space: str = "log"  # "log" | "linear"
    kind: str = "huber"  # "huber" | "mse"
    delta: float = 1e-3

    def __post_init__(self) -> None:
        # constants of the hot loop, computed once per problem
        self.log_loss = np.log(self.loss)
        self.x_moments = np.column_stack([np.ones_like(self.x), self.x, self.x * self.x])  # (n, 3)
        self.y_moments = np.column_stack([np.ones_like(self.y), self.y, self.y * self.y])
        self.xy_moments = np.column_stack([np.ones_like(self.x), self.x, self.y, self.x * self.y])
        self.x_lin = np.vstack([np.ones_like(self.x), self.x])  # (2, n): a - alpha x as one product
        self.y_lin = np.vstack([np.ones_like(self.y), self.y])
        self.x_lo, self.x_hi = float(np.min(self.x)), float(np.max(self.x))
        self.y_lo, self.y_hi = float(np.min(self.y)), float(np.max(self.y))

    def row_blocks(self, size: int) -> list:
        """``[(slice, Problem of those rows)]`` in blocks of ``size`` rows (cached)."""
        cache = self.__dict__.setdefault("_blocks", {})
        if size not in cache:
            n = self.x.size
            cache[size] = [(slice(i, min(i + size, n)),
                            Problem(self.x[i : i + size], self.y[i : i + size], self.loss[i : i + size],
                                    self.space, self.kind, self.delta))
                           for i in range(0, n, size)]
        return cache[size]

    @property
    def target(self) -> np.ndarray:
        return self.log_loss if self.space == "log" else self.loss


@dataclass
class Reduction:
    """Free parameters z -> internal theta = T z + c (fixing and tying)."""

    T: np.ndarray  # (5, m)
    c: np.ndarray  # (5,)
    lower: np.ndarray  # (m,) bounds on z
    upper: np.ndarray

    def theta(self, z: np.ndarray) -> np.ndarray:
        return z @ self.T.T + self.c

    def z_of(self, theta: np.ndarray) -> np.ndarray:
        # least-squares inverse (exact for theta in the range of T)
        return (theta - self.c) @ np.linalg.pinv(self.T).T


_CONTROLLER: list = []


def single_thread():
    """Context manager pinning BLAS to one thread.

    Small dense linear algebra only loses time to BLAS threads.  The
    threadpoolctl controller is built once per process: building it scans
    the loaded libraries, which costs about 1 ms, as much as a third of a fit.
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1)


# --------------------------------------------------------------------- kernel
def _forward(theta: np.ndarray, prob: Problem):
    """Return s = LSE(...), softmax weights p (3, K, n) and residuals r, shape (K, n)."""
    e = theta[:, 0:1]
    u1 = theta[:, 1:2] - theta[:, 3:4] * prob.x
    u2 = theta[:, 2:3] - theta[:, 4:5] * prob.y
    m = np.maximum(np.maximum(u1, u2), e)
    q1, q2, q3 = np.exp(u1 - m), np.exp(u2 - m), np.exp(e - m)
    tot = q1 + q2 + q3
    s = m + np.log(tot)
    inv = 1.0 / tot
    p = (q1 * inv, q2 * inv, q3 * inv)
    r = s - prob.log_loss if prob.space == "log" else np.exp(s) - prob.loss
    return s, p, r


def objective(theta: np.ndarray, prob: Problem, w: np.ndarray) -> np.ndarray:
    """Objective for a batch of parameter vectors theta (K, 5) and weights w (K, n) or (n,)."""
    theta = np.atleast_2d(theta)
    _, _, r = _forward(theta, prob)
    val, _, _ = _rho(r, prob.kind, prob.delta)
    return np.sum(w * val, axis=1)


def residuals(theta: np.ndarray, prob: Problem) -> np.ndarray:
    _, _, r = _forward(np.atleast_2d(theta), prob)
    return r[0]


class Workspace:
    """Reusable buffers for :func:`_derivatives` on batches of up to K problems of n rows.

    Fresh multi-megabyte temporaries on every call cost page faults (most of the kernel's time on
    a busy machine); a polish allocates these once and evaluates each iteration into views.  The
    buffers hold one block of :func:`block_shape` (problems, rows), so they stay in cache.
    """

    _NAMES = ("t1", "t2", "lh", "r", "d1", "tmp", "c", "q1", "q2", "q3", "q4", "q5", "q6")

    def __init__(self, K: int, n: int, *, blocked: bool = True) -> None:
        if blocked:
            K, n = block_shape(K, n)
        self.K, self.n = K, n
        self.buf = {k: np.empty((K, n)) for k in self._NAMES}
        self.mask = np.empty((K, n), dtype=bool)

    def __getitem__(self, key: tuple[str, int]) -> np.ndarray:
        name, k = key
        return self.buf[name][:k, : self.rows]

    rows = 0  # rows of the block being evaluated (set by _derivatives_rows)


#: Rows evaluated at once by :func:`_derivatives`: a block of every buffer stays in cache, so the
#: time per row does not grow with the rows (a (1, 10^6) buffer is 8 MB).
ROWS_BLOCK = 1 << 15
#: Values per buffer of a block (problems x rows): the thirteen buffers of :class:`Workspace` then
#: take about 3 MB, near a core's L2 cache (benchmarks/RESULTS.md, "Issue 12: the batched
#: bootstrap, second pass").
BLOCK_VALUES = 1 << 15


def block_shape(K: int, n: int) -> tuple[int, int]:
    """(problems, rows) of the blocks :func:`_derivatives` evaluates a (K, n) batch in."""
    rows = min(n, ROWS_BLOCK)
    return min(K, max(1, BLOCK_VALUES // max(rows, 1))), rows


def _derivatives(theta: np.ndarray, prob: Problem, w: np.ndarray, *, per_row: bool = False,
                 work: Workspace | None = None, with_scale: bool = False):
    """Objective, gradient (K, 5) and Hessian (K, 5, 5) in internal coordinates.

    Sums over rows, so they are taken over blocks of at most :data:`ROWS_BLOCK` rows and
    :data:`BLOCK_VALUES` problem-rows (:func:`_derivatives_rows` on each, see
    :func:`block_shape`) and added; ``per_row`` (the Jacobian of every row) takes all rows
    and problems at once.  See :func:`_derivatives_rows`.
    """
    K, n = theta.shape[0], prob.x.size
    if not per_row and w.ndim == 2 and K >= _SHARED_MIN and np.all(theta == theta[0]) and np.all(w >= 0):
        out = _derivatives_shared(theta[0], prob, w, with_scale=with_scale)
        if out is not None:
            return out
    kb, rb = block_shape(K, n)
    if per_row or (kb == K and rb == n):
        return _derivatives_rows(theta, prob, w, per_row=per_row, work=work, with_scale=with_scale)
    if work is None or work.K < kb or work.n < rb:
        work = Workspace(kb, rb)
    shared = w.ndim == 1
    blocks = prob.row_blocks(ROWS_BLOCK) if n > rb else [(slice(None), prob)]
    f, g, H = np.zeros(K), np.zeros((K, 5)), np.zeros((K, 5, 5))
    scale = np.zeros(K)
    for k0 in range(0, K, kb):
        ks = slice(k0, k0 + kb)
        for sl, blk in blocks:
            part = _derivatives_rows(theta[ks], blk, w[sl] if shared else w[ks, sl], work=work, with_scale=with_scale)
            f[ks] += part[0]
            g[ks] += part[1]
            H[ks] += part[2]
            if with_scale:
                scale[ks] += part[3]
    return (f, g, H, scale) if with_scale else (f, g, H)


#: Batches of at least this many problems at one shared point take :func:`_derivatives_shared`.
_SHARED_MIN = 2
_UPPER = np.triu_indices(5)


def _derivatives_shared(theta: np.ndarray, prob: Problem, w: np.ndarray, *, with_scale: bool = False):
    """:func:`_derivatives` of K weightings ``w`` (K, n), all at one point ``theta`` (5,); None if not finite.

    At a shared point every row's terms are the same for every problem, so each problem's
    objective, gradient, Hessian (and gradient scale) are weighted sums of 21 (22) per-row
    features: (K, n) @ (n, 22) products over blocks of :data:`ROWS_BLOCK` rows, a tenth of a
    general evaluation of a batch.  A polish started from one point for a whole batch (the
    bootstrap's refits) begins here.  Needs ``w >= 0`` (the gradient scale sums |w rho'| as
    w |rho'|).
    """
    K = w.shape[0]
    sums = np.zeros((K, 22 if with_scale else 21))
    n = prob.x.size
    for sl, blk in (prob.row_blocks(ROWS_BLOCK) if n > ROWS_BLOCK else [(slice(None), prob)]):
        feats = _shared_features(theta, blk, with_scale)
        if feats is None:
            return None
        sums += w[:, sl] @ feats.T
    f, g = sums[:, 0], np.ascontiguousarray(sums[:, 1:6])
    H = np.empty((K, 5, 5))
    H[:, _UPPER[0], _UPPER[1]] = sums[:, 6:21]
    H[:, _UPPER[1], _UPPER[0]] = sums[:, 6:21]
    if with_scale:
        return f, g, H, np.maximum(sums[:, 21], 1e-300)
    return f, g, H


def _shared_features(theta: np.ndarray, prob: Problem, with_scale: bool) -> np.ndarray | None:
    """Per-row features (21 or 22, n) of :func:`_derivatives_shared` at ``theta``; None if not finite."""
    s, (p1, p2, p3), r = _forward(theta[None, :], prob)
    s, p1, p2, p3, r = s[0], p1[0], p2[0], p3[0], r[0]
    val, d1, d2 = _rho(r, prob.kind, prob.delta)
    if prob.space == "log":
        a, b = d1, d2 - d1  # gcoef = w a, ccoef = w b
    else:
        lhat = np.exp(s)
        a, b = d1 * lhat, d2 * lhat * lhat
    n = r.size
    gs = np.empty((5, n))  # gradient of s per row
    gs[0], gs[1], gs[2] = p3, p1, p2
    np.multiply(p1, prob.x, out=gs[3])
    gs[3] *= -1.0
    np.multiply(p2, prob.y, out=gs[4])
    gs[4] *= -1.0
    feats = np.empty((22 if with_scale else 21, n))
    feats[0] = val
    np.multiply(a, gs, out=feats[1:6])
    bg = b * gs
    for t, (i, j) in enumerate(zip(*_UPPER)):
        np.multiply(bg[i], gs[j], out=feats[6 + t])
    # + a * sum_j p_j v_j v_j^T: v1 = e_a - x e_alpha, v2 = e_b - y e_beta, v3 = e_e
    col = {(int(i), int(j)): 6 + t for t, (i, j) in enumerate(zip(*_UPPER))}
    ap1, ap2 = a * p1, a * p2
    feats[col[0, 0]] += a * p3
    feats[col[1, 1]] += ap1
    feats[col[1, 3]] -= ap1 * prob.x
    feats[col[3, 3]] += ap1 * prob.x**2
    feats[col[2, 2]] += ap2
    feats[col[2, 4]] -= ap2 * prob.y
    feats[col[4, 4]] += ap2 * prob.y**2
    if with_scale:
        feats[21] = np.abs(a) * (1.0 + p1 * np.abs(prob.x) + p2 * np.abs(prob.y))
    return feats if np.all(np.isfinite(feats)) else None


def _derivatives_rows(theta: np.ndarray, prob: Problem, w: np.ndarray, *, per_row: bool = False,
                      work: Workspace | None = None, with_scale: bool = False):
    """Objective, gradient (K, 5) and Hessian (K, 5, 5) in internal coordinates, over all of ``prob``'s rows.

    With ``with_scale``, also the typical size of the gradient,
    sum_i |w_i rho'(r_i)| * |grad r_i|_1 (K,): convergence is judged relative
    to it, because with a small Huber delta the objective's absolute scale
    (~1e-3) says nothing about its gradient's.

    The gradient of s = LSE(...) per row is g_i = (p3, p1, p2, -p1 x, -p2 y) (softmax weights
    p), so every entry of sum_i c_i g_i g_i^T and of the gradient is a weighted sum of
    c_i p_j p_k times a moment 1, x, y, x^2, x y or y^2 of the row.  Those sums are taken as
    (K, n) @ (n, moments) products (BLAS), with ``p3 = 1 - p1 - p2`` removing the E products;
    no (K, n, 5) array is built.  The law is evaluated with one shift per problem (the largest
    term over its rows) instead of one per row; problems where that under- or overflows are
    recomputed with the per-row shift of :func:`_forward`.
    """
    K, n = theta.shape[0], prob.x.size
    if work is None or work.K < K or work.n < n:
        work = Workspace(K, n, blocked=False)
    work.rows = n
    t1, t2, lh, r = work["t1", K], work["t2", K], work["lh", K], work["r", K]
    e, a, b, al, be = (theta[:, j : j + 1] for j in range(5))
    # the largest exponent over rows and terms, per problem (u1, u2 are monotone in x, y)
    m = np.maximum(np.maximum(np.maximum(a - al * prob.x_lo, a - al * prob.x_hi),
                              np.maximum(b - be * prob.y_lo, b - be * prob.y_hi)), e)
    m[np.abs(m) < 300.0] = 0.0  # no shift needed where exp cannot overflow (saves a pass)
    shifted = bool(np.any(m))
    # a - m - alpha x and b - m - beta y as (K, 2) @ (2, n) products: one pass each instead of two
    coef = np.empty((K, 2))
    np.subtract(a, m, out=coef[:, :1])
    np.negative(al, out=coef[:, 1:])
    np.matmul(coef, prob.x_lin, out=t1)
    np.exp(t1, out=t1)
    np.subtract(b, m, out=coef[:, :1])
    np.negative(be, out=coef[:, 1:])
    np.matmul(coef, prob.y_lin, out=t2)
    np.exp(t2, out=t2)
    np.add(t1, t2, out=lh)
    lh += np.exp(e - m)
    np.log(lh, out=r)  # s - m
    if prob.space == "log":
        if shifted:
            r += m
        r -= prob.log_loss
    else:
        lhat = work["tmp", K]
        np.add(r, m, out=lhat)
        np.exp(lhat, out=lhat)
        np.subtract(lhat, prob.loss, out=r)
    np.divide(t1, lh, out=t1)  # p1
    np.divide(t2, lh, out=t2)  # p2
    p1, p2 = t1, t2
    d1, val, mask = work["d1", K], work["c", K], work.mask[:K, :n]
    shared = w.ndim == 1
    if prob.kind == "mse":
        np.multiply(r, r, out=val)
        val *= 0.5
        d1[...] = r
        mask[...] = True
    else:
        delta = prob.delta
        np.clip(r, -delta, delta, out=d1)
        np.multiply(d1, -0.5, out=val)
        val += r
        val *= d1  # 1/2 r^2 inside +-delta, delta |r| - 1/2 delta^2 outside
        np.equal(d1, r, out=mask)  # |r| <= delta
    f = val @ w if shared else np.einsum("kn,kn->k", w, val)
    # gcoef = w rho' (d1), ccoef: log space w (rho'' - rho'), linear space w rho'' lhat^2
    gcoef, ccoef = d1, val
    np.multiply(mask, w, out=ccoef)
    gcoef *= w
    if prob.space == "log":
        ccoef -= gcoef
    else:
        lhat = work["tmp", K]
        gcoef *= lhat
        ccoef *= lhat
        ccoef *= lhat
    q1, q2, q3, q4, q5, q6 = (work[k, K] for k in ("q1", "q2", "q3", "q4", "q5", "q6"))
    np.multiply(ccoef, p1, out=q1)  # c p1
    np.multiply(ccoef, p2, out=q2)  # c p2
    np.multiply(q1, p1, out=q3)  # c p1 p1
    np.multiply(q1, p2, out=q4)  # c p1 p2
    np.multiply(q2, p2, out=q5)  # c p2 p2
    np.multiply(gcoef, p1, out=q6)  # g p1
    np.multiply(gcoef, p2, out=lh)  # g p2
    X, Y = prob.x_moments, prob.y_moments  # (n, 3): 1, x, x^2 and 1, y, y^2
    s11, s22, s12 = q3 @ X, q5 @ Y, q4 @ prob.xy_moments  # (K, 3), (K, 3), (K, 4)
    s1, s2 = q1 @ X[:, :2], q2 @ Y[:, :2]
    t1s, t2s = q6 @ X, lh @ Y
    sc, tg = ccoef.sum(1), gcoef.sum(1)
    # E products from p3 = 1 - p1 - p2
    s33 = sc - 2.0 * (s1[:, 0] + s2[:, 0]) + s11[:, 0] + 2.0 * s12[:, 0] + s22[:, 0]
    s31 = s1 - s11[:, :2] - s12[:, :2]  # c p3 p1 against 1, x
    s32 = s2 - s22[:, :2] - s12[:, [0, 2]]  # c p3 p2 against 1, y
    g = np.empty((K, 5))
    g[:, 0] = tg - t1s[:, 0] - t2s[:, 0]
    g[:, 1] = t1s[:, 0]
    g[:, 2] = t2s[:, 0]
    g[:, 3] = -t1s[:, 1]
    g[:, 4] = -t2s[:, 1]
    H = np.empty((K, 5, 5))
    H[:, 0, 0] = s33 + g[:, 0]  # + sum g p3 (the softmax curvature of the E term)
    H[:, 0, 1] = s31[:, 0]
    H[:, 0, 2] = s32[:, 0]
    H[:, 0, 3] = -s31[:, 1]
    H[:, 0, 4] = -s32[:, 1]
    H[:, 1, 1] = s11[:, 0] + t1s[:, 0]
    H[:, 1, 2] = s12[:, 0]
    H[:, 1, 3] = -s11[:, 1] - t1s[:, 1]
    H[:, 1, 4] = -s12[:, 2]
    H[:, 2, 2] = s22[:, 0] + t2s[:, 0]
    H[:, 2, 3] = -s12[:, 1]
    H[:, 2, 4] = -s22[:, 1] - t2s[:, 1]
    H[:, 3, 3] = s11[:, 2] + t1s[:, 2]
    H[:, 3, 4] = s12[:, 3]
    H[:, 4, 4] = s22[:, 2] + t2s[:, 2]
    H[:, _LOWER[0], _LOWER[1]] = H[:, _LOWER[1], _LOWER[0]]
    bad = ~(np.isfinite(f) & np.isfinite(H).all(axis=(1, 2)))
    if np.any(bad) and not per_row:
        f[bad], g[bad], H[bad] = _derivatives_stable(theta[bad], prob, w if shared else w[bad])
    if with_scale:  # |grad r_i|_1 = p3 + p1 (1 + |x|) + p2 (1 + |y|) = 1 + p1 |x| + p2 |y|
        np.abs(gcoef, out=gcoef)
        np.abs(q6, out=q6)
        np.abs(lh, out=lh)
        size = gcoef.sum(1) + q6 @ np.abs(prob.x) + lh @ np.abs(prob.y)
        return f, g, H, np.maximum(size, 1e-300)
    if per_row:  # also the Jacobian of the residuals, (K, n, 5)
        gs = np.stack([1.0 - p1 - p2, p1, p2, -p1 * prob.x, -p2 * prob.y], axis=-1)
        jac = gs if prob.space == "log" else (r + prob.loss)[..., None] * gs
        return f, g, H, jac
    return f, g, H


_LOWER = np.tril_indices(5, -1)


def _derivatives_stable(theta: np.ndarray, prob: Problem, w: np.ndarray):
    """:func:`_derivatives` with the per-row shift of :func:`_forward` (extreme parameters only)."""
    s, (p1, p2, p3), r = _forward(theta, prob)
    val, d1, d2 = _rho(r, prob.kind, prob.delta)
    f = np.sum(w * val, axis=-1)
    gs = np.stack([p3, p1, p2, -p1 * prob.x, -p2 * prob.y], axis=-1)
    if prob.space == "log":
        gcoef, ggcoef = w * d1, w * (d2 - d1)
    else:
        lhat = np.exp(s)
        gcoef, ggcoef = w * d1 * lhat, w * d2 * lhat * lhat
    g = np.einsum("kn,knj->kj", gcoef, gs)
    H = np.einsum("kn,kni,knj->kij", ggcoef, gs, gs)
    s1, s1x, s1xx = ((gcoef * p1) @ prob.x_moments).T
    s2, s2y, s2yy = ((gcoef * p2) @ prob.y_moments).T
    H[:, 0, 0] += (gcoef * p3).sum(1)
    H[:, 1, 1] += s1
    H[:, 1, 3] -= s1x
    H[:, 3, 1] -= s1x
    H[:, 3, 3] += s1xx
    H[:, 2, 2] += s2
    H[:, 2, 4] -= s2y
    H[:, 4, 2] -= s2y
    H[:, 4, 4] += s2yy
    return f, g, H
