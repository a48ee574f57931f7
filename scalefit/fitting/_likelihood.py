"""The Huber-likelihood maximum-likelihood fit of Besiroglu et al. (2024), with a fitted scale.

Besiroglu, Erdil, Barnett and You (2024), "Chinchilla Scaling: A replication
attempt" (arXiv 2404.10102; code: epoch-research/analyzing-chinchilla, commit
9225883) fit the Chinchilla law by maximum likelihood, treating each residual
``r`` (in log-loss) as drawn from a density shaped like the Huber loss,

    log p(r) = -Huber_delta(r / s) - log Z(delta) - log s,
    Z(delta) = sqrt(2 pi) (1 - 2 Phi(-delta)) + 2 exp(-delta^2 / 2) / delta,

with ``delta = 1e-3`` in units of the scale ``s``, which is fitted together with
the law's parameters.  ``Z`` makes the density integrate to one.  The objective
here is the (weighted) negative log-likelihood, ``-sum w log p(r)``.

For fixed ``s`` this is a Huber M-estimator with threshold ``delta * s`` on the
raw residuals; with their ``delta`` the threshold is tiny, so the fit is close
to least absolute deviations.  The objective has kinks, so it is maximised by
Nelder-Mead (restarted until it stops improving) from the optimum of the
ordinary Huber fit, the scale starting at its profile optimum
``delta * mean|r|``.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ._chinchilla import _rho
from ._problem import Problem

__all__ = ["huber_log_normaliser", "negative_log_likelihood", "maximise"]


def huber_log_normaliser(delta: float) -> float:
    """``log Z(delta)``, the log of the normalising constant of the unit-scale Huber density."""
    from scipy.stats import norm

    return math.log(math.sqrt(2.0 * math.pi) * (1.0 - 2.0 * float(norm.sf(delta))) + 2.0 * math.exp(-0.5 * delta * delta) / delta)


def negative_log_likelihood(resid: np.ndarray, weights: np.ndarray, log_scale: float, delta: float) -> float:
    """``-sum(w * log p(r))`` for the Huber density of scale ``exp(log_scale)``."""
    x = np.asarray(resid, float) / math.exp(log_scale)
    val = _rho(x, "huber", delta)[0]
    return float(np.sum(weights * (val + huber_log_normaliser(delta) + log_scale)))


def _resid_fn(problem: Problem):
    spec = problem.spec

    def resid(z: np.ndarray) -> np.ndarray:
        r = problem.residuals(spec.natural(spec.internal(z)))
        return np.where(np.isfinite(r), r, 1e3)

    return resid


def maximise(problem: Problem, starts: Iterable[np.ndarray], *, max_restarts: int = 12) -> tuple[np.ndarray, float, float, bool, int]:
    """Maximise the Huber likelihood over the free variables and the log scale.

    Parameters
    ----------
    problem : Problem
        The fitting problem (its ``delta`` is the likelihood's threshold in
        units of the scale; its weights weight each run's log-density).
    starts : iterable of numpy.ndarray
        Starting points in the problem's free coordinates.

    Returns
    -------
    z, log_scale, nll, converged, n_starts
    """
    from scipy.optimize import minimize

    spec, w, delta = problem.spec, problem.weights, problem.delta
    resid = _resid_fn(problem)
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None) for lo, hi in zip(spec.lower, spec.upper)]
    bounds.append((None, None))

    def nll(v: np.ndarray) -> float:
        return negative_log_likelihood(resid(v[:-1]), w, float(v[-1]), delta)

    best: tuple[np.ndarray, float, bool] | None = None
    n = 0
    for z0 in starts:
        n += 1
        z0 = np.clip(np.asarray(z0, float), spec.lower, spec.upper)
        mean_abs = float(np.sum(w * np.abs(resid(z0))) / np.sum(w))
        v = np.append(z0, math.log(max(delta * mean_abs, 1e-300)))
        f = nll(v)
        converged = False
        for _ in range(max_restarts):
            res = minimize(nll, v, method="Nelder-Mead", bounds=bounds,
                           options=dict(maxiter=4000 * v.size, xatol=1e-10, fatol=1e-10, adaptive=True))
            improved = f - float(res.fun)
            if float(res.fun) <= f:
                v, f = np.asarray(res.x, float), float(res.fun)
            if improved <= 1e-9 * max(1.0, abs(f)):
                converged = True
                break
        if best is None or f < best[1]:
            best = (v, f, converged)
    assert best is not None  # at least one start is always given
    v, f, converged = best
    return v[:-1], float(v[-1]), f, converged, n
