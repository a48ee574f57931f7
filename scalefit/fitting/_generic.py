"""Engine for any law: variable projection, a vectorised multi-start and a batched Newton polish.

A law is a black-box vectorised function of the run columns and its
parameters.  Most scaling laws are linear in some of their parameters (E, A
and B in ``E + A/N**alpha + B/D**beta``), and this engine uses that, as the
Chinchilla engine does for its own law (:mod:`._chinchilla`):

1. **Linear parameters.**  The free parameters (tied groups count as one) that
   the prediction is affine in are declared with ``Param(..., linear=True)`` or
   found numerically (:func:`linear_groups`), so that
   ``L_hat = g_0(u) + sum_j c_j g_j(u)`` with ``u`` the other ("nonlinear")
   parameters.
2. **Seeding by variable projection.**  On a grid of ``u`` (the parameters'
   start grids, refined by midpoints up to :data:`GRID_BUDGET` cells), the basis
   ``g_j(u)`` of every cell comes from one batched evaluation of the law and the
   linear coefficients from a weighted least-squares solve per cell (weights
   ``1/L**2`` approximate log space).  Coefficients outside their bounds are
   re-solved with every subset of terms held at their floor, as the Chinchilla
   engine does.  The true objective is evaluated at every cell and the grid's
   local minima (the distinct basins) are kept.
3. **Polish.**  The kept seeds are polished together by a damped, saddle-free
   Newton method on the exact objective (any ``rho`` of
   :func:`._problem.rho`), with bounds by projection.  Its derivatives come
   from one batched evaluation of the law on a stencil that uses the affine
   structure: derivatives in the linear parameters are exact differences, and
   only the nonlinear ones are finite differences.

A law that does not broadcast over a parameter axis (a function written for
scalars) is evaluated point by point: slower, with the same answer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations, product
from typing import Any, Callable

import numpy as np

from .._errors import FitError, ScalefitInputError
from ._problem import Problem, Solution, rho

#: Most grid cells the seeding evaluates before refining stops (cells are refined by midpoints).
GRID_BUDGET = 256
#: Most cells evaluated at all: a larger product of start grids is subsampled (with the fit's seed).
MAX_CELLS = 4096
#: Most seeds polished by Newton (``max_starts`` lowers it).
N_KEEP = 6
#: Floor of a positive linear coefficient whose term is switched off in seeding.
_TINY = 1e-12
#: Relative finite-difference step in the nonlinear coordinates.
_STEP = 1e-5


# ====================================================================== model
class Model:
    """A fitting problem as this engine sees it: free groups split into nonlinear ones and linear ones.

    Coordinates ``z`` are the optimiser's free variables (:class:`._problem.Spec`);
    ``V`` are their natural values (``exp(z)`` for log-scale groups).
    """

    def __init__(self, problem: Problem) -> None:
        spec, law = problem.spec, problem.law
        self.problem, self.law, self.spec = problem, law, spec
        self.m = spec.n_free
        self.names = spec.names
        self.glog = np.array([law.param(g[0]).log for g in spec.groups], bool)
        self.member = np.full(len(self.names), -1)
        for j, g in enumerate(spec.groups):
            for n in g:
                self.member[self.names.index(n)] = j
        self.fixed_nat = np.array([float(spec.fixed.get(n, 0.0)) for n in self.names])
        self.inputs = problem.inputs
        self.y = np.asarray(problem.observed, float)
        self.log_space = problem.space == "log"
        self.target = np.log(self.y) if self.log_space else self.y
        self.kind, self.delta = problem.loss, problem.delta
        self.lo, self.hi = spec.lower, spec.upper
        self.broadcasts = self._broadcasts()
        self.starts = [_start_values(self, j) for j in range(self.m)]
        lin = linear_groups(self)
        self.lin = np.array(lin, int)
        self.nl = np.array([j for j in range(self.m) if j not in lin], int)

    # ------------------------------------------------------------ evaluation
    def natural(self, Z: np.ndarray) -> np.ndarray:
        return np.where(self.glog, np.exp(Z), Z)

    def z_of(self, V: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Coordinates of natural values ``V`` of the groups ``cols``."""
        lg = self.glog[cols]
        with np.errstate(divide="ignore"):
            return np.where(lg, np.log(np.where(lg, V, 1.0)), V)

    def _kwargs(self, V: np.ndarray) -> dict:
        P = np.where(self.member >= 0, V[:, np.maximum(self.member, 0)], self.fixed_nat)
        return {n: P[:, i : i + 1] for i, n in enumerate(self.names)}

    def predict(self, V: np.ndarray, inputs: dict | None = None) -> np.ndarray:
        """The law at natural group values ``V`` (B, m): predictions (B, runs)."""
        inputs = self.inputs if inputs is None else inputs
        n = len(next(iter(inputs.values())))
        kw = self._kwargs(np.atleast_2d(V))
        B = len(V)
        with np.errstate(all="ignore"):
            if self.broadcasts:
                out = np.asarray(self.law.function(**inputs, **kw), dtype=float)
                return np.broadcast_to(out, (B, n))
            out = np.empty((B, n))
            for b in range(B):
                out[b] = np.asarray(self.law.function(**inputs, **{k: float(v[b, 0]) for k, v in kw.items()}), float)
            return out

    def _broadcasts(self) -> bool:
        """Does the law evaluate a column of parameter values at once, as scalars would give?"""
        V = self.natural(np.vstack([self.default_z(), self.default_z() * 0.9 + 0.05]))
        try:
            with np.errstate(all="ignore"):
                kw = self._kwargs(V)
                out = np.asarray(self.law.function(**self.inputs, **kw), dtype=float)
                one = [np.asarray(self.law.function(**self.inputs, **{k: float(v[b, 0]) for k, v in kw.items()}), float)
                       for b in range(2)]
            return out.shape[0] == 2 and all(np.allclose(out[b], one[b], rtol=1e-12, atol=0, equal_nan=True)
                                             for b in range(2))
        except Exception:  # a function written for scalar parameters (Python `if`, `max`, ...)
            return False

    def default_z(self) -> np.ndarray:
        z = np.array([self.law.param(g[0]).to_internal(self.law.param(g[0]).value) for g in self.spec.groups], float)
        return np.clip(z, *inner_bounds(self.lo, self.hi))

    # -------------------------------------------------------------- objective
    def residuals(self, pred: np.ndarray) -> np.ndarray:
        if self.log_space:
            with np.errstate(all="ignore"):
                return np.log(np.where(pred > 0, pred, np.nan)) - self.target
        return pred - self.target

    def objective(self, pred: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Objective of each row of predictions (inf where a weighted prediction is invalid)."""
        val = rho(self.residuals(pred), self.kind, self.delta)[0]
        val = np.where(w > 0, val, 0.0)
        f = np.where(np.isfinite(val), val, np.inf) @ w
        return np.where(np.isfinite(f), f, np.inf)


def inner_bounds(lo: np.ndarray, hi: np.ndarray, eps: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Bounds pulled inwards by a relative ``eps`` (start points must not sit on a bound)."""
    lo_in = np.where(np.isfinite(lo), lo + eps * (1 + np.abs(np.where(np.isfinite(lo), lo, 0))), -np.inf)
    hi_in = np.where(np.isfinite(hi), hi - eps * (1 + np.abs(np.where(np.isfinite(hi), hi, 0))), np.inf)
    return lo_in, hi_in


# ======================================================== linear parameters
def linear_groups(model: Model) -> list[int]:
    """Free groups the law's prediction is jointly affine in, by declaration or by a numerical test.

    A group qualifies when no member says ``linear=False``.  At three random
    parameter points (a fixed generator: the answer never depends on the fit's
    seed), on up to 50 of the runs, the prediction must be affine in the
    group's natural value, and all qualifying groups together must add up
    (no products such as ``A * B``).  A group declared ``linear=True`` that
    fails is refused.
    """
    law, spec = model.law, model.spec
    cands, declared = [], set()
    for j, g in enumerate(spec.groups):
        flags = {law.param(n).linear for n in g}
        if False in flags:
            continue
        cands.append(j)
        if True in flags:
            declared.add(j)
    if not cands:
        return []
    n = len(model.y)
    rows = np.unique(np.linspace(0, n - 1, min(n, 50)).astype(int))
    inputs = {k: v[rows] for k, v in model.inputs.items()}
    rng = np.random.default_rng(20240601)
    lo_in, hi_in = inner_bounds(model.lo, model.hi)
    base = []
    for _ in range(3):
        z = np.array([rng.choice(model.starts[j]) for j in range(model.m)], float)
        z = z + rng.normal(0, 0.1, model.m) * np.maximum(1, np.abs(z)) * 0.1
        base.append(np.clip(z, lo_in, hi_in))
    V0 = model.natural(np.array(base))

    t = np.maximum(np.abs(V0), 1.0) * 0.7  # test values per base point and group

    def close(a: np.ndarray, b: np.ndarray, F: np.ndarray) -> np.ndarray:
        """a == b to 1e-7 of the largest of the predictions ``F`` they come from (..., points, runs)."""
        return np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= 1e-7 * np.nanmax(np.abs(F), axis=-2))

    def each(group_set: list[int]) -> np.ndarray:
        """Per group, with the others at the base point: f(0), f(t), f(2.3 t) on a line."""
        pts = np.repeat(V0[:, None, None, :], len(group_set), axis=1).repeat(3, axis=2)  # (R, q, 3, m)
        for k, j in enumerate(group_set):
            pts[:, k, :, j] = t[:, j : j + 1] * np.array([0.0, 1.0, 2.3])
        F = model.predict(pts.reshape(-1, model.m), inputs).reshape(len(V0), len(group_set), 3, -1)
        ok = close(F[:, :, 2] - F[:, :, 0], 2.3 * (F[:, :, 1] - F[:, :, 0]), F)  # each group on its own scale
        return np.asarray(ok.all(axis=(0, 2)))

    def joint(group_set: list[int]) -> bool:
        """All groups at 0, each alone at t, all at t: the increments add up (no products such as A * B)."""
        zero = V0.copy()
        zero[:, group_set] = 0.0
        pts = [zero]
        for j in group_set:
            v = zero.copy()
            v[:, j] = t[:, j]
            pts.append(v)
        v = zero.copy()
        v[:, group_set] = t[:, group_set]
        pts.append(v)
        F = model.predict(np.stack(pts, axis=1).reshape(-1, model.m), inputs).reshape(len(V0), len(pts), -1)
        total = F[:, 0] + (F[:, 1:-1] - F[:, :1]).sum(axis=1)
        return bool(close(F[:, -1], total, F).all())

    ok = each(cands)
    passing = [j for j, good in zip(cands, ok) if good]
    if len(passing) > 1 and not joint(passing):  # rare: products of coefficients; add them one by one
        chosen: list[int] = []
        for j in passing:
            if joint(chosen + [j]):
                chosen.append(j)
        passing = chosen
    for j in declared:
        if j not in passing:
            names = list(spec.groups[j])
            raise ScalefitInputError(
                f"law {law.name!r}: parameter(s) {names} are declared linear=True, but the law's prediction is not "
                "linear in them (together with the other linear parameters); remove linear=True, or write the law "
                "so that they multiply separate terms.", values=names,
            )
    return passing


def _start_values(model: Model, j: int) -> np.ndarray:
    """Start grid of free group ``j`` in its coordinate: the parameter's grid and its default value."""
    p = model.law.param(model.spec.groups[j][0])
    vals = [v for v in (p.grid or ()) if not p.log or v > 0] + [p.value]
    lo_in, hi_in = inner_bounds(model.lo, model.hi)
    z = np.array([math.log(v) if p.log else v for v in vals], float)
    return np.unique(np.clip(z, lo_in[j], hi_in[j]))


# ================================================================= seeding
def _refined(axes: list[np.ndarray], budget: int) -> list[np.ndarray]:
    """Insert midpoints in every axis with two or more values while the grid stays within ``budget`` cells."""
    while True:
        finer = [np.sort(np.concatenate([a, 0.5 * (a[1:] + a[:-1])])) if a.size > 1 else a for a in axes]
        if all(a.size == f.size for a, f in zip(axes, finer)) or math.prod(f.size for f in finer) > budget:
            return axes
        axes = finer


def seed_points(model: Model, w: np.ndarray, *, n_keep: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Variable-projection seeds: the grid's basins, best first, as (z (K, m), objective (K,))."""
    nl = model.nl
    axes = _refined([model.starts[j] for j in nl], GRID_BUDGET)
    shape = tuple(a.size for a in axes)
    U = np.array(list(product(*axes)), float) if len(axes) else np.zeros((1, 0))
    subsampled = len(U) > MAX_CELLS
    if subsampled:
        rng = np.random.default_rng(seed)
        U = U[np.sort(rng.choice(len(U), MAX_CELLS, replace=False))]
    K0 = len(U)
    Z = np.tile(model.default_z(), (K0, 1))
    Z[:, nl] = U
    Z, f, pred = project(model, Z, w)
    order = np.argsort(f, kind="stable")
    order = order[np.isfinite(f[order])]
    if subsampled or not len(axes):
        ranked = order
    else:  # local minima of the grid along every axis first, then the best other cells
        grid = f.reshape(shape)
        is_min = np.isfinite(grid)
        for ax in range(grid.ndim):
            pad = [(0, 0)] * grid.ndim
            pad[ax] = (1, 1)
            p = np.pad(grid, pad, constant_values=np.inf)
            lo_sl = [slice(None)] * grid.ndim
            hi_sl = [slice(None)] * grid.ndim
            lo_sl[ax], hi_sl[ax] = slice(0, -2), slice(2, None)
            is_min &= (grid <= p[tuple(lo_sl)]) & (grid <= p[tuple(hi_sl)])
        flat = is_min.ravel()[order]
        ranked = np.concatenate([order[flat], order[~flat]])
    keep = _distinct(pred, ranked, n_keep)
    return Z[keep], f[keep]


def project(model: Model, Z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variable projection: each row of ``Z`` with its linear groups re-solved by weighted least squares.

    Returns the new rows, their objective and their predictions (B, runs).  The
    basis is one batched evaluation of the law: all linear groups at 0, then each at 1.
    """
    lin, q = model.lin, model.lin.size
    Z = Z.copy()
    V = model.natural(Z)
    pts = np.repeat(V[:, None, :], q + 1, axis=1)
    pts[:, :, lin] = np.vstack([np.zeros(q), np.eye(q)]) if q else pts[:, :, lin]
    F = model.predict(pts.reshape(-1, model.m)).reshape(len(Z), q + 1, -1)
    G0, G = F[:, 0], F[:, 1:] - F[:, :1]
    if q:
        C = _linear_coefficients(model, G0, G, w)
        pred = G0 + np.einsum("kj,kjn->kn", C, G)
        Z[:, lin] = model.z_of(C, lin)
    else:
        pred = G0
    return Z, model.objective(pred, w), pred


def _distinct(pred: np.ndarray, ranked: np.ndarray, n_keep: int) -> np.ndarray:
    """The first ``n_keep`` of ``ranked`` whose predictions differ from every one kept before.

    Cells on the plateau of a switched-off term (its coefficient at the floor)
    predict the same losses whatever that term's exponent: one of them is enough.
    """
    keep: list[int] = []
    for i in ranked[: 16 * n_keep]:
        tol = 1e-9 * np.max(np.abs(pred[i]))
        if not any(np.max(np.abs(pred[i] - pred[k])) <= tol for k in keep):
            keep.append(int(i))
            if len(keep) == n_keep:
                break
    return np.array(keep, int)


def _linear_coefficients(model: Model, G0: np.ndarray, G: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares coefficients per cell, within bounds (terms at their floor where needed)."""
    lin = model.lin
    q = lin.size
    lo, hi = model.lo[lin], model.hi[lin]
    glog = model.glog[lin]
    lo_nat = np.where(glog, np.where(np.isfinite(lo), np.exp(np.minimum(lo, 700)), 0.0), lo)
    hi_nat = np.where(glog, np.where(np.isfinite(hi), np.exp(np.minimum(hi, 700)), np.inf), hi)
    floor = np.where(glog, np.maximum(lo_nat, _TINY), np.clip(0.0, lo_nat, hi_nat))
    ww = w / model.y**2 if model.log_space else w
    Gw = G * ww
    M = np.einsum("kjn,kin->kji", Gw, G)
    rhs = np.einsum("kjn,kn->kj", Gw, model.y - G0)
    K0 = len(G0)

    def solve(sub: tuple, rows: np.ndarray) -> np.ndarray:
        C = np.repeat(floor[None, :], rows.size, axis=0)
        if sub:
            s = list(sub)
            off = [j for j in range(q) if j not in sub]
            Ms = M[rows][:, s][:, :, s]
            b = rhs[rows][:, s] - (M[rows][:, s][:, :, off] @ floor[off] if off else 0.0)
            Ms = Ms + 1e-14 * np.trace(Ms, axis1=1, axis2=2)[:, None, None] * np.eye(len(s)) + 1e-300 * np.eye(len(s))
            with np.errstate(all="ignore"):
                try:
                    C[:, s] = np.linalg.solve(Ms, b[..., None])[..., 0]
                except np.linalg.LinAlgError:
                    C[:, s] = np.nan
        return C

    C = solve(tuple(range(q)), np.arange(K0))
    feasible = np.all(np.isfinite(C) & (C >= np.where(glog, _TINY, lo_nat)) & (C <= hi_nat), axis=1)
    bad = np.flatnonzero(~feasible)
    C = np.clip(np.nan_to_num(C, nan=0.0), floor, hi_nat)
    if bad.size:  # re-solve with every subset of terms held at their floor; keep the best objective
        subsets = [s for k in range(q - 1, -1, -1) for s in combinations(range(q), k)] if q <= 4 else [()]
        best_f = model.objective(G0[bad] + np.einsum("kj,kjn->kn", C[bad], G[bad]), w)
        for sub in subsets:
            Cs = np.clip(np.nan_to_num(solve(sub, bad), nan=0.0), floor, hi_nat)
            fs = model.objective(G0[bad] + np.einsum("kj,kjn->kn", Cs, G[bad]), w)
            better = fs < best_f
            C[bad[better]] = Cs[better]
            best_f[better] = fs[better]
    return C


# ================================================================== Newton
@dataclass
class Derivatives:
    f: np.ndarray  # (K,) objective
    g: np.ndarray  # (K, m) gradient in z
    H: np.ndarray  # (K, m, m) Hessian in z
    r: np.ndarray  # (K, n) residuals
    J: np.ndarray  # (K, n, m) Jacobian of the residuals in z
    scale: np.ndarray  # (K,) typical size of the gradient: sum |w rho'| |grad r|_1


def derivatives(model: Model, Z: np.ndarray, w: np.ndarray) -> Derivatives:
    """Objective, gradient and Hessian at each row of ``Z``, from one batched evaluation of the law.

    Stencil: the point; +-h along each nonlinear coordinate and +h along each
    pair of them (first and second derivatives of the prediction); for each
    linear group, the point and the +h points with that group's coefficient
    shifted (its exact derivative, and its mixed derivatives by a forward
    difference).  The prediction's second derivative in two linear groups is
    zero, and in one log-scale linear group equals its first.
    """
    K, m = Z.shape
    nl, lin = model.nl, model.lin
    a, q = nl.size, lin.size
    V = model.natural(Z)
    h = _STEP * np.maximum(1.0, np.abs(Z[:, nl]))  # (K, a)
    pairs = list(combinations(range(a), 2))
    offsets = [np.zeros(a)]
    for i in range(a):
        offsets += [np.eye(a)[i], -np.eye(a)[i]]
    for i, k in pairs:
        offsets.append(np.eye(a)[i] + np.eye(a)[k])
    n_off = len(offsets)
    offs = np.array(offsets)  # (P, a)
    Zs = np.repeat(Z[:, None, :], n_off, axis=1)
    Zs[:, :, nl] += offs[None, :, :] * h[:, None, :]
    Vs = model.natural(Zs)  # (K, P, m)
    Vs[:, :, lin] = V[:, None, lin]  # linear groups exactly at their values
    # linear shifts at the point (offset 0) and at the +h_i points (offsets 1, 3, 5, ...)
    base_idx = [0] + [1 + 2 * i for i in range(a)]
    c = V[:, lin]  # (K, q)
    s = np.where(model.glog[lin], c, np.where(c != 0, np.abs(c), 1.0))
    s = np.where(s != 0, s, 1.0)
    shifted = []
    for jj in range(q):
        blk = Vs[:, base_idx, :].copy()
        blk[:, :, lin[jj]] += s[:, jj : jj + 1]
        shifted.append(blk)
    allpts = np.concatenate([Vs] + shifted, axis=1) if q else Vs
    R = allpts.shape[1]
    F = model.predict(allpts.reshape(K * R, m)).reshape(K, R, -1)
    F0 = F[:, 0]
    fac = np.where(model.glog[lin], c / s, 1.0 / s) if q else np.zeros((K, 0))  # d pred/d z_j = fac * dF_j
    lin_at = [n_off + jj * (1 + a) for jj in range(q)]  # row of group jj shifted at the point

    def first(X: np.ndarray) -> np.ndarray:
        """First derivatives in z of the stencil quantity X (K, R, ...) -> (K, m, ...)."""
        out = np.empty((K, m) + X.shape[2:])
        ex = (slice(None),) + (None,) * (X.ndim - 2)
        for i in range(a):
            out[:, nl[i]] = (X[:, 1 + 2 * i] - X[:, 2 + 2 * i]) / (2 * h[:, i][ex])
        for jj in range(q):
            out[:, lin[jj]] = (X[:, lin_at[jj]] - X[:, 0]) * fac[:, jj][ex]
        return out

    Dp = np.moveaxis(first(F), 1, 2)  # (K, n, m) derivatives of the prediction
    r = model.residuals(F0)
    val, d1, d2 = rho(r, model.kind, model.delta)
    used = w > 0
    val = np.where(used, val, 0.0)
    f = np.sum(np.where(np.isfinite(val), val, np.inf) * w, axis=1)
    f = np.where(np.isfinite(f), f, np.inf)
    wd1 = np.where(used, w * d1, 0.0)
    wd2 = np.where(used, w * d2, 0.0)
    with np.errstate(all="ignore"):
        if model.log_space:  # r = log pred - log L: grad r = grad pred / pred, and its Hessian adds -J J^T
            J = Dp / F0[:, :, None]
            c1, c2 = wd2 - wd1, wd1 / F0
        else:
            J = Dp
            c1, c2 = wd2, wd1
        J = np.where(used[None, :, None] & np.isfinite(J), J, 0.0)
        c1 = np.where(np.isfinite(c1), c1, 0.0)
        c2 = np.where(np.isfinite(c2), c2, 0.0)
        g = np.einsum("kn,knm->km", wd1, J)
        H = np.einsum("knm,knl->kml", J * c1[:, :, None], J)
        # sum_n c2_n * (second derivatives of pred_n): the stencil rows contracted with c2 first
        S = np.einsum("krn,kn->kr", np.where(np.isfinite(F), F, 0.0), c2)
    S0 = S[:, 0]
    for i in range(a):
        H[:, nl[i], nl[i]] += (S[:, 1 + 2 * i] - 2 * S0 + S[:, 2 + 2 * i]) / h[:, i] ** 2
    for p_, (i, k) in enumerate(pairs):
        v = (S[:, 1 + 2 * a + p_] - S[:, 1 + 2 * i] - S[:, 1 + 2 * k] + S0) / (h[:, i] * h[:, k])
        H[:, nl[i], nl[k]] += v
        H[:, nl[k], nl[i]] += v
    for jj in range(q):
        j = lin[jj]
        Sj = (S[:, lin_at[jj]] - S0) * fac[:, jj]
        if model.glog[j]:  # d2 pred / d z_j^2 = d pred / d z_j for a log-scale linear group
            H[:, j, j] += Sj
        for i in range(a):
            v = ((S[:, lin_at[jj] + 1 + i] - S[:, 1 + 2 * i]) * fac[:, jj] - Sj) / h[:, i]
            H[:, j, nl[i]] += v
            H[:, nl[i], j] += v
    g = np.where(np.isfinite(g), g, 0.0)
    H = np.where(np.isfinite(H), H, 0.0)
    # floor: a gradient below 1e-12 per unit of weight is zero (an exact fit, where every rho' vanishes)
    scale = np.maximum(np.sum(np.abs(wd1) * np.sum(np.abs(J), axis=2), axis=1), 1e-3 * np.sum(w))
    return Derivatives(f, g, 0.5 * (H + np.swapaxes(H, 1, 2)), r, J, scale)


def _prune(Z: np.ndarray, f: np.ndarray, active: np.ndarray, converged: np.ndarray, it: int) -> None:
    """Stop points that cannot compete: twice the best converged objective after 3 Newton steps, 10% above
    it after 10, or on the path of a better point (the same coordinates to 1e-7).

    Only a converged point (a basin reached) sets the bar: while the leader is
    still descending, a point behind it may be on its way to a deeper basin
    (a slow valley, as in a sharp broken power law, issue 14).
    """
    idx = np.flatnonzero(active)
    if np.any(converged):
        best = np.min(f[converged])
        limit = 2.0 if it < 10 else 1.1
        active[idx[f[idx] > limit * best]] = False
    idx = np.flatnonzero(active)
    for i in idx:
        others = np.flatnonzero((f < f[i]) | (converged & (f <= f[i])))
        others = others[others != i]
        if others.size and np.any(np.max(np.abs(Z[others] - Z[i]) / (1 + np.abs(Z[i])), axis=1) < 1e-7):
            active[i] = False


@dataclass
class Polished:
    Z: np.ndarray  # (K, m)
    f: np.ndarray  # (K,)
    grad_norm: np.ndarray  # (K,) projected gradient norm
    converged: np.ndarray  # (K,) bool


def polish(model: Model, Z0: np.ndarray, w: np.ndarray, *, max_iter: int = 100, ftol: float = 1e-13,
           gtol: float = 1e-9, prune: bool = True, project_linear: bool = True) -> Polished:
    """Damped saddle-free Newton on a batch of start points (the Chinchilla engine's method, any law).

    With ``prune``, points that cannot compete stop early (:func:`_prune`); they
    stay unconverged.
    """
    K, m = Z0.shape
    lower, upper = model.lo, model.hi
    Z = np.clip(Z0, lower, upper)
    d = derivatives(model, Z, w)
    f, g, H, gs = d.f, d.g, d.H, d.scale
    lam = np.full(K, 1e-3)
    active = np.isfinite(f)
    converged = np.zeros(K, bool)
    eye = np.eye(m)
    lo_tol, hi_tol = lower + 1e-12, upper - 1e-12
    for it in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        zi, gi, Hi, li = Z[idx], g[idx], H[idx], lam[idx]
        free = ~(((zi <= lo_tol) & (gi > 0)) | ((zi >= hi_tol) & (gi < 0)))
        gi_f = np.where(free, gi, 0.0)
        Hf = np.where(free[:, :, None] & free[:, None, :], Hi, 0.0) + (~free)[:, :, None] * eye
        ev, Vec = np.linalg.eigh(Hf)
        aev = np.abs(ev)
        denom = aev + (li * np.maximum(aev.max(axis=1), 1e-300))[:, None] + 1e-300
        step = -(Vec @ ((np.swapaxes(Vec, 1, 2) @ gi_f[:, :, None])[:, :, 0] / denom)[:, :, None])[:, :, 0]
        step = np.where(free, step, 0.0)
        z_new = np.clip(zi + step, lower, upper)
        dn = derivatives(model, z_new, w)
        f_old = f[idx]
        ok = np.isfinite(dn.f) & (dn.f <= f_old)
        if project_linear and model.lin.size and not ok.all():
            # a rejected step moved the linear coefficients along Newton's quadratic model only; re-solving them
            # for its nonlinear coordinates follows the curved valley of a log-scale coefficient at once
            rej = np.flatnonzero(~ok)
            z_proj, f_proj, _ = project(model, z_new[rej], w)
            better = np.isfinite(f_proj) & (f_proj < f_old[rej])
            if better.any():
                rb = rej[better]
                dp = derivatives(model, z_proj[better], w)
                z_new[rb] = z_proj[better]
                for name in ("f", "g", "H", "scale"):
                    getattr(dn, name)[rb] = getattr(dp, name)
                ok = np.isfinite(dn.f) & (dn.f <= f_old)
        acc = idx[ok]
        if acc.size:
            Z[acc], f[acc], g[acc], H[acc], gs[acc] = z_new[ok], dn.f[ok], dn.g[ok], dn.H[ok], dn.scale[ok]
            lam[acc] = np.maximum(lam[acc] * 0.2, 1e-12)
        lam[idx[~ok]] *= 8.0
        rel = np.abs(f_old - np.where(ok, dn.f, f_old)) <= ftol * np.maximum(np.abs(f_old), 1e-300)
        pg = np.where(free, g[idx], 0.0)
        gnorm = np.sqrt(np.sum(pg * pg, axis=1))
        small = gnorm <= gtol * gs[idx]
        done = ok & small & (rel | (np.abs(step).max(axis=1) < 1e-12))
        # no step improves f any more, either damping is hopeless or the trial point ties with this one to
        # rounding: a kink of the near-L1 objective, as converged as floating point allows
        tie = ~ok & (np.abs(dn.f - f_old) <= 1e-13 * np.abs(f_old))
        stalled = (lam[idx] > 1e12) | tie
        converged[idx[done]] = True
        converged[idx[stalled & (gnorm <= 1e3 * gtol * gs[idx])]] = True
        active[idx[done | stalled]] = False
        if prune and it >= 3:
            _prune(Z, f, active, converged, it)
    at_lo = (Z <= lo_tol) & (g > 0)
    at_hi = (Z >= hi_tol) & (g < 0)
    pg = np.where(at_lo | at_hi, 0.0, g)
    gnorm = np.sqrt(np.sum(pg * pg, axis=1))
    converged |= gnorm <= 10 * gtol * gs
    return Polished(Z, f, gnorm, converged)


# ================================================================== engine
def fit_generic(
    problem: Problem,
    *,
    seed: int,
    max_starts: int,
    warm: np.ndarray | None = None,
    derivatives: bool = True,
) -> Solution:
    """Seed by variable projection, polish the seeds together by Newton, keep the best.

    Parameters
    ----------
    problem : Problem
    seed : int
        Seeds the subsampling of start grids larger than :data:`MAX_CELLS` cells.
    max_starts : int
        Most seeds polished (at most :data:`N_KEEP`).
    warm : numpy.ndarray, optional
        A start polished first (the bootstrap's full-fit optimum, in ``z``).
    derivatives : bool
        Also return the Hessian and the residuals' Jacobian at the optimum.
    """
    from ._generic_refine import gauss_newton_refine, lbfgs_fallback  # they use this module's derivatives

    model = Model(problem)
    w = np.asarray(problem.weights, float)
    n_keep = max(1, min(int(max_starts), N_KEEP))
    Z, _ = seed_points(model, w, n_keep=n_keep - (warm is not None), seed=seed)
    if warm is not None:
        Z = np.vstack([np.clip(np.asarray(warm, float)[None, :], model.lo, model.hi), Z])
    if len(Z) == 0:
        raise FitError(f"every start failed for law {problem.law.name!r}: the law gave no finite prediction on its "
                       "start grid; check the law's function and parameter grids.")
    pol = polish(model, Z, w)
    if not np.any(np.isfinite(pol.f)):
        raise FitError(f"every start failed for law {problem.law.name!r}; check the law's function and parameter grids.")
    best = int(np.argmin(pol.f))
    if not pol.converged[best]:
        pol = lbfgs_fallback(model, pol, best, w)
    pol = gauss_newton_refine(model, pol, best, w)
    d = _final(model, pol.Z[best], w)
    # distinct minima by residual vectors, best first
    res = model.residuals(model.predict(model.natural(pol.Z)))
    reps: list[np.ndarray] = []
    second = math.inf
    for i in np.argsort(pol.f):
        if not np.isfinite(pol.f[i]) or not (pol.converged[i] or i == best):  # a seed stopped early is no minimum
            continue
        if not any(np.nanmax(np.abs(res[i] - rr)) <= 1e-6 for rr in reps):
            reps.append(res[i])
            if len(reps) == 2:
                second = float(pol.f[i])
    return Solution(
        z=pol.Z[best].copy(), objective=float(d.f[0]), grad_norm=float(pol.grad_norm[best]),
        converged=bool(pol.converged[best]), n_starts=len(Z), n_minima=len(reps),
        second_best=second if math.isfinite(second) else float("nan"),
        hessian=d.H[0] if derivatives else None, jacobian=d.J[0] if derivatives else None,
    )


def _final(model: Model, z: np.ndarray, w: np.ndarray) -> Derivatives:
    return derivatives(model, z[None, :], w)


def num_jac(fun: Callable[[np.ndarray], Any], z: Any, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of ``fun`` at ``z``, steps clipped to the bounds."""
    z = np.asarray(z, float)
    f0 = np.asarray(fun(z), float)
    J = np.empty((f0.size, z.size))
    for j in range(z.size):
        h = 1e-6 * max(1.0, abs(z[j]))
        zp, zm = z.copy(), z.copy()
        zp[j] = min(z[j] + h, hi[j])
        zm[j] = max(z[j] - h, lo[j])
        J[:, j] = (np.asarray(fun(zp)) - np.asarray(fun(zm))) / (zp[j] - zm[j])
    return J
