"""The Chinchilla objective's value, gradient and Hessian for ONE parameter vector, with few array passes.

:func:`scalefit.fitting._chinchilla_kernel._derivatives` evaluates batches of problems into
reusable (K, n) buffers; for the fit's polish of its best seed (one problem, a few hundred rows)
most of that call's time is the overhead of its ~45 small numpy operations.  :func:`derivatives_one`
computes the same quantities with about 20: every sum the gradient and Hessian need is an entry
of one (9, n) @ (n, 6) product of per-row coefficients with the row moments 1, x, y, x^2, x y, y^2,
and the 5 + 15 entries are assembled from it as scalars.  Same formulas as the kernel (see its
``_derivatives_rows``): softmax weights p1, p2 of the A and B terms, p3 = 1 - p1 - p2.

It returns None where the kernel must be used instead: many rows (where call overhead no longer
matters and the kernel's row blocks bound memory), or a parameter vector whose one-shift
evaluation under- or overflows (the kernel's per-row shift handles it).
"""
from __future__ import annotations

import numpy as np

from ._chinchilla_kernel import Problem, _rho  # _rho: the one definition of every objective

#: Above this many rows the batched kernel (row blocks, reusable buffers) is used instead.
MAX_ROWS = 4096


def moments(prob: Problem) -> np.ndarray:
    """(n, 6) row moments 1, x, y, x^2, x y, y^2 of a problem (cached on it)."""
    V = prob.__dict__.get("_moments6")
    if V is None:
        x, y = prob.x, prob.y
        V = np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])
        prob.__dict__["_moments6"] = V
    return V


def derivatives_one(theta: np.ndarray, prob: Problem, w: np.ndarray, *, with_scale: bool = False) -> tuple | None:
    """Objective, gradient (5,) and Hessian (5, 5) at one theta (5,) = (e, a, b, alpha, beta), or None.

    ``w`` is the (n,) weight vector.  With ``with_scale``, also the gradient's typical size
    sum_i |w_i rho'(r_i)| |grad r_i|_1 (the kernel's ``with_scale``).  Equal to the kernel's
    ``_derivatives`` to rounding (tests/test_chinchilla_engine.py).
    """
    x, y = prob.x, prob.y
    if x.size > MAX_ROWS:
        return None
    e, a, b, al, be = (float(v) for v in theta)
    m = max(a - al * prob.x_lo, a - al * prob.x_hi, b - be * prob.y_lo, b - be * prob.y_hi, e)
    if abs(m) < 300.0:
        m = 0.0
    t1 = np.exp((a - m) - al * x)
    t2 = np.exp((b - m) - be * y)
    lh = t1 + t2
    lh += np.exp(e - m)
    r = np.log(lh)
    p1 = t1 / lh
    p2 = t2 / lh
    if prob.space == "log":
        r += m - prob.log_loss
    else:
        lhat = np.exp(r + m)
        r = lhat - prob.loss
    val, d1, d2 = _rho(r, prob.kind, prob.delta)
    f = float(val @ w)
    g_c = d1 * w  # w rho'
    c_c = d2 * w  # w rho''
    if prob.space == "log":
        c_c = c_c - g_c
    else:
        g_c = g_c * lhat
        c_c = c_c * (lhat * lhat)
    Q = np.empty((9, x.size))
    cp1, cp2 = Q[3], Q[4]
    np.multiply(c_c, p1, out=cp1)
    np.multiply(c_c, p2, out=cp2)
    np.multiply(cp1, p1, out=Q[0])
    np.multiply(cp1, p2, out=Q[1])
    np.multiply(cp2, p2, out=Q[2])
    np.multiply(g_c, p1, out=Q[5])
    np.multiply(g_c, p2, out=Q[6])
    Q[7] = c_c
    Q[8] = g_c
    S = (Q @ moments(prob)).tolist()  # 9 x [1, x, y, x^2, xy, y^2]
    (s11, s11x, _, s11xx, _, _), (s12, s12x, s12y, _, s12xy, _), (s22, _, s22y, _, _, s22yy) = S[0], S[1], S[2]
    s1, s1x = S[3][0], S[3][1]
    s2, s2y = S[4][0], S[4][2]
    t1s, t1x, t1xx = S[5][0], S[5][1], S[5][3]
    t2s, t2y, t2yy = S[6][0], S[6][2], S[6][5]
    sc, tg = S[7][0], S[8][0]
    g0 = tg - t1s - t2s
    g = np.array([g0, t1s, t2s, -t1x, -t2y])
    s33 = sc - 2.0 * (s1 + s2) + s11 + 2.0 * s12 + s22
    s31, s31x = s1 - s11 - s12, s1x - s11x - s12x
    s32, s32y = s2 - s22 - s12, s2y - s22y - s12y
    H = np.array([
        [s33 + g0, s31, s32, -s31x, -s32y],
        [s31, s11 + t1s, s12, -s11x - t1x, -s12y],
        [s32, s12, s22 + t2s, -s12x, -s22y - t2y],
        [-s31x, -s11x - t1x, -s12x, s11xx + t1xx, s12xy],
        [-s32y, -s12y, -s22y - t2y, s12xy, s22yy + t2yy],
    ])
    if not (np.isfinite(f) and np.isfinite(H).all()):
        return None
    if with_scale:  # |grad r_i|_1 = 1 + p1 |x| + p2 |y|
        ax, ay = prob.__dict__.get("_abs_xy") or prob.__dict__.setdefault("_abs_xy", (np.abs(x), np.abs(y)))
        size = float(np.abs(g_c).sum() + np.abs(Q[5]) @ ax + np.abs(Q[6]) @ ay)
        return f, g, H, max(size, 1e-300)
    return f, g, H


def jacobian_one(theta: np.ndarray, prob: Problem) -> np.ndarray:
    """(n, 5) Jacobian of the residuals at one theta (the kernel's ``per_row`` output, without its Hessian)."""
    e, a, b, al, be = (float(v) for v in theta)
    u1 = a - al * prob.x
    u2 = b - be * prob.y
    m = np.maximum(np.maximum(u1, u2), e)  # per-row shift, as the kernel's _forward
    t1, t2, t3 = np.exp(u1 - m), np.exp(u2 - m), np.exp(e - m)
    tot = t1 + t2 + t3
    p1, p2 = t1 / tot, t2 / tot
    J = np.column_stack([t3 / tot, p1, p2, -p1 * prob.x, -p2 * prob.y])
    if prob.space == "linear":
        J *= (np.exp(m) * tot)[:, None]
    return J
