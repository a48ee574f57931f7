"""Last steps of the generic engine (:mod:`._generic`) from its best polished point.

:func:`lbfgs_fallback` takes over from a point Newton did not certify;
:func:`gauss_newton_refine` continues from a certified one while Gauss-Newton
steps still lower the objective (near an exact fit, Newton's absolute gradient
floor stops it early in a flat direction).
"""
from __future__ import annotations

import numpy as np

from ._generic import Model, Polished, derivatives, polish
from ._problem import rho

__all__ = ["gauss_newton_refine", "lbfgs_fallback"]


def lbfgs_fallback(model: Model, pol: Polished, best: int, w: np.ndarray) -> Polished:
    """L-BFGS-B from a point Newton did not certify; kept only if it lowers the objective."""
    from scipy.optimize import minimize

    def obj(z: np.ndarray) -> float:
        return float(model.objective(model.predict(model.natural(z[None, :])), w)[0])

    bnds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None) for lo, hi in zip(model.lo, model.hi)]
    r = minimize(obj, pol.Z[best], method="L-BFGS-B", bounds=bnds, options=dict(ftol=1e-15, gtol=1e-12, maxiter=2000))
    if np.isfinite(r.fun) and r.fun < pol.f[best]:
        again = polish(model, r.x[None, :], w)
        Z, f = pol.Z.copy(), pol.f.copy()
        Z[best], f[best] = (again.Z[0], again.f[0]) if again.f[0] <= r.fun else (r.x, r.fun)
        gn, cv = pol.grad_norm.copy(), pol.converged.copy()
        gn[best], cv[best] = again.grad_norm[0], again.converged[0]
        return Polished(Z, f, gn, cv)
    return pol


def gauss_newton_refine(model: Model, pol: Polished, best: int, w: np.ndarray, *, max_iter: int = 2000) -> Polished:
    """Levenberg-Marquardt steps on the Gauss-Newton curvature from the best point, kept while they lower the objective.

    Newton's convergence test has an absolute floor (a gradient below 1e-12 per
    unit of weight is zero), which near an exact fit stops it in a flat
    direction long before the objective stops falling: on Caballero et al.'s
    noise-free BNSL it stopped at 2e-14 with c1 at 0.43 instead of 5.66 (issue 14).  The
    Gauss-Newton matrix J^T diag(w rho'') J is positive semi-definite and needs
    no second differences, and Marquardt's diagonal scaling makes the damping
    act on each direction by its own curvature.  A converged fit with residuals
    far from exact stops after the first step that gains nothing.
    """
    z = pol.Z[best].copy()
    d = derivatives(model, z[None, :], w)
    f0 = f = float(d.f[0])
    if not np.isfinite(f) or f <= 0 or d.scale[0] > 1e-3 * np.sum(w):
        return pol  # Newton's test was relative (the gradient's scale above its floor): nothing for this to do
    lam = 1e-3
    for _ in range(max_iter):
        _, _, d2 = rho(d.r[0], model.kind, model.delta)
        c = np.where(np.isfinite(d2) & (w > 0), w * d2, 0.0)
        J = d.J[0]
        Hgn = J.T @ (J * c[:, None])
        dg = np.maximum(np.diagonal(Hgn), 1e-300)
        free = ~(((z <= model.lo + 1e-12) & (d.g[0] > 0)) | ((z >= model.hi - 1e-12) & (d.g[0] < 0)))
        gfree = np.where(free, d.g[0], 0.0)
        improved = False
        while lam < 1e12:
            A = Hgn + lam * np.diag(dg)
            A = np.where(free[:, None] & free[None, :], A, np.eye(len(z)))
            try:
                step = -np.linalg.solve(A, gfree)
            except np.linalg.LinAlgError:
                break
            zn = np.clip(z + np.where(free, step, 0.0), model.lo, model.hi)
            dn = derivatives(model, zn[None, :], w)
            if np.isfinite(dn.f[0]) and dn.f[0] < f:
                gain = f - float(dn.f[0])
                z, d, f, lam = zn, dn, float(dn.f[0]), max(lam * 0.2, 1e-15)
                improved = gain > 1e-12 * f
                break
            lam *= 8.0
        if not improved:
            break
    if f >= f0:
        return pol
    Z, fs, gn, cv = pol.Z.copy(), pol.f.copy(), pol.grad_norm.copy(), pol.converged.copy()
    Z[best], fs[best] = z, f
    pg = np.where(((z <= model.lo + 1e-12) & (d.g[0] > 0)) | ((z >= model.hi - 1e-12) & (d.g[0] < 0)), 0.0, d.g[0])
    gn[best] = float(np.sqrt(pg @ pg))
    return Polished(Z, fs, gn, cv)
