"""Multi-start engine for any law.

Laws without a dedicated engine, including user-defined ones, are fitted by
multi-start ``scipy.optimize.least_squares`` with the problem's loss, followed
by an exact L-BFGS-B polish of the weighted objective; derivatives at the
optimum are taken by finite differences.
"""
from __future__ import annotations

import math
from itertools import product
from typing import Any, Callable

import numpy as np

from .._errors import FitError
from ._chinchilla import _rho
from ._problem import Problem, Solution


def fit_generic(
    problem: Problem,
    *,
    seed: int,
    max_starts: int,
    warm: np.ndarray | None = None,
    derivatives: bool = True,
) -> Solution:
    """Best of ``least_squares`` from the law's start grid (capped at ``max_starts``), polished.

    ``warm`` adds a first start (the bootstrap's full-fit optimum); without
    ``derivatives`` the Hessian, Jacobian and gradient norm are not computed.
    """
    from scipy.optimize import least_squares, minimize

    spec = problem.spec
    law = problem.law
    inputs, y, w = problem.inputs, problem.observed, problem.weights
    loss, delta, space = problem.loss, problem.delta, problem.space
    m = spec.n_free
    target = np.log(y) if space == "log" else y

    def resid(z):
        internal = spec.internal(z)
        vals = np.where(spec.log, np.exp(internal), internal)
        pred = law.function(**inputs, **dict(zip(spec.names, vals)))
        pred = np.asarray(pred, float)
        if space == "log":
            out = np.log(np.where(pred > 0, pred, np.nan)) - target
        else:
            out = pred - target
        return np.where(np.isfinite(out), out, 1e3)

    def obj(z):
        return float(np.sum(w * _rho(resid(z), loss, delta)[0]))

    # starts: product of per-group grids (natural -> internal), capped
    grids = []
    for g in spec.groups:
        p = law.param(g[0])
        vals = p.grid or (p.value,)
        iv = [math.log(v) if p.log else v for v in vals if (not p.log or v > 0)]
        grids.append(iv or [p.to_internal(p.value)])
    starts = np.array(list(product(*grids)), dtype=float) if grids else np.zeros((1, 0))
    default = np.array([law.param(g[0]).to_internal(law.param(g[0]).value) for g in spec.groups], float)
    if len(starts) > max_starts:
        rng = np.random.default_rng(seed)
        starts = starts[rng.choice(len(starts), max_starts - 1, replace=False)]
    starts = np.vstack([default[None, :], starts]) if m else starts
    if warm is not None:
        starts = np.vstack([np.asarray(warm, float)[None, :], starts])
    lo = np.where(np.isfinite(spec.lower), spec.lower, -np.inf)
    hi = np.where(np.isfinite(spec.upper), spec.upper, np.inf)
    eps = 1e-9
    lo_in = np.where(np.isfinite(lo), lo + eps * (1 + np.abs(np.where(np.isfinite(lo), lo, 0))), -np.inf)
    hi_in = np.where(np.isfinite(hi), hi - eps * (1 + np.abs(np.where(np.isfinite(hi), hi, 0))), np.inf)
    starts = np.clip(starts, lo_in, hi_in)
    sw = np.sqrt(w)
    results = []
    for z0 in starts:
        try:
            r = least_squares(
                lambda z: sw * resid(z), z0, bounds=(lo, hi), loss="huber" if loss == "huber" else "linear",
                f_scale=delta, method="trf", x_scale="jac", max_nfev=200 * (m + 1),
            )
            results.append((obj(r.x), r.x))
        except (ValueError, np.linalg.LinAlgError):
            continue
    if not results:
        raise FitError(f"every start failed for law {law.name!r}; check the law's function and parameter grids.")
    results.sort(key=lambda t: t[0])
    z_best = results[0][1]
    try:  # tighten the best start
        r = least_squares(
            lambda z: sw * resid(z), z_best, bounds=(lo, hi), loss="huber" if loss == "huber" else "linear",
            f_scale=delta, method="trf", x_scale="jac", ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=400 * (m + 1),
        )
        if obj(r.x) <= results[0][0]:
            z_best = r.x
            results[0] = (obj(r.x), r.x)
    except (ValueError, np.linalg.LinAlgError):
        pass
    # exact polish of the weighted objective
    bnds = [(a if np.isfinite(a) else None, b if np.isfinite(b) else None) for a, b in zip(lo, hi)]
    pol = minimize(obj, z_best, method="L-BFGS-B", bounds=bnds, options=dict(ftol=1e-15, gtol=1e-12, maxiter=2000))
    if pol.fun < results[0][0]:
        z_best = pol.x
    f_best = obj(z_best)
    # distinct minima by residual vector
    residuals = [resid(z) for _, z in results]  # each start's residuals, computed once
    r_best = resid(z_best)
    reps: list[np.ndarray] = []
    for rz in residuals:
        if not any(np.max(np.abs(rz - rr)) <= 1e-6 for rr in reps):
            reps.append(rz)
    others = [fv for (fv, _), rz in zip(results, residuals) if np.max(np.abs(rz - r_best)) > 1e-6]
    second = float(min(others)) if others else float("nan")
    if not derivatives:
        return Solution(z_best, f_best, float("nan"), bool(pol.success), len(starts), len(reps), second)
    # derivatives by finite differences
    J = num_jac(resid, z_best, lo, hi)
    r0 = resid(z_best)
    _, d1, d2 = _rho(r0, loss, delta)

    def grad(z):
        Jz = num_jac(resid, z, lo, hi)
        return Jz.T @ (w * _rho(resid(z), loss, delta)[1])

    H_z = num_jac(grad, z_best, lo, hi)
    H_z = 0.5 * (H_z + H_z.T)
    g = J.T @ (w * d1)
    at_lo = (z_best <= lo + 1e-10) & (g > 0)
    at_hi = (z_best >= hi - 1e-10) & (g < 0)
    gnorm = float(np.linalg.norm(np.where(at_lo | at_hi, 0.0, g)))
    converged = gnorm <= 1e-6 * max(1.0, abs(f_best)) or (pol.success and gnorm <= 1e-4 * max(1.0, abs(f_best)))
    return Solution(z_best, f_best, gnorm, bool(converged), len(starts), len(reps), second, hessian=H_z, jacobian=J)


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
