"""The usual Chinchilla fitting procedure, written out as the competitor to beat.

Hoffmann et al. (2022), as reproduced by Besiroglu et al. (2024,
epoch-research/analyzing-chinchilla@9225883): minimise the *sum* of
Huber_delta(LSE(a - alpha log N, b - beta log D, e) - log L) with delta = 1e-3,
running scipy's L-BFGS-B from every point of the grid
alpha, beta in {0, .5, 1, 1.5, 2}; e in {-1, -.5, 0, .5, 1}; a, b in {0, 5, ..., 25}
(4,500 starts) and keeping the best.

This file is benchmark/test scaffolding, not part of the package: it is the
baseline that ``scalefit.fit`` is measured against.
"""
from __future__ import annotations

from itertools import product

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp


def hoffmann_grid() -> np.ndarray:
    """The 4,500 initial points, columns (a, b, e, alpha, beta)."""
    alphas = betas = [0.0, 0.5, 1.0, 1.5, 2.0]
    es = [-1.0, -0.5, 0.0, 0.5, 1.0]
    abs_ = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    return np.array(list(product(abs_, abs_, es, alphas, betas)), dtype=float)


def objective(theta, logN, logD, logL, delta=1e-3):
    a, b, e, alpha, beta = theta
    pred = logsumexp([a - alpha * logN, b - beta * logD, e * np.ones_like(logN)], axis=0)
    return float(np.sum(huber(delta, pred - logL)))


def objective_and_grad(theta, logN, logD, logL, delta=1e-3):
    a, b, e, alpha, beta = theta
    u = np.stack([a - alpha * logN, b - beta * logD, np.full_like(logN, e)])
    s = logsumexp(u, axis=0)
    p = np.exp(u - s)
    r = s - logL
    f = float(np.sum(huber(delta, r)))
    d = np.clip(r, -delta, delta)
    g = np.array([d @ p[0], d @ p[1], d @ p[2], -(d * logN) @ p[0], -(d * logD) @ p[1]])
    return f, g


def fit_one(theta0, logN, logD, logL, *, gradient="fd", delta=1e-3):
    """One L-BFGS-B start; returns (objective, theta)."""
    if gradient == "fd":
        res = minimize(objective, theta0, args=(logN, logD, logL, delta), method="L-BFGS-B")
    else:
        res = minimize(objective_and_grad, theta0, args=(logN, logD, logL, delta), jac=True, method="L-BFGS-B")
    return float(res.fun), res.x


def fit_reference(n_params, n_tokens, loss, *, starts=None, gradient="fd", delta=1e-3):
    """Best of L-BFGS-B over ``starts`` (default: all 4,500). Returns (objective, natural params dict)."""
    logN, logD, logL = np.log(n_params), np.log(n_tokens), np.log(loss)
    starts = hoffmann_grid() if starts is None else starts
    best = (np.inf, None)
    for t0 in starts:
        f, x = fit_one(t0, logN, logD, logL, gradient=gradient, delta=delta)
        if f < best[0]:
            best = (f, x)
    a, b, e, alpha, beta = best[1]
    return best[0], dict(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)), alpha=float(alpha), beta=float(beta))


def synthetic_dataset(seed: int, n_runs: int = 120):
    """A synthetic sweep from a random Chinchilla-form law with noise and outliers.

    alpha, beta ~ U[0.1, 0.9]; E ~ U[1, 3]; A, B set so that each term is worth
    U[0.2, 2] nats at N = 1e8, D = 1e10; N ~ logU[1e7, 1e10], D ~ logU[1e9, 1e12];
    log-loss noise N(0, 0.01^2) and 3% of runs shifted by +-5-15% (outliers).
    """
    rng = np.random.default_rng(seed)
    alpha, beta = rng.uniform(0.1, 0.9, 2)
    E = rng.uniform(1.0, 3.0)
    A = rng.uniform(0.2, 2.0) * 1e8**alpha
    B = rng.uniform(0.2, 2.0) * 1e10**beta
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n_runs))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n_runs))
    L = (E + A / N**alpha + B / D**beta) * np.exp(rng.normal(0, 0.01, n_runs))
    k = max(1, int(0.03 * n_runs))
    idx = rng.choice(n_runs, k, replace=False)
    L[idx] *= 1 + rng.choice([-1, 1], k) * rng.uniform(0.05, 0.15, k)
    truth = dict(E=E, A=A, B=B, alpha=alpha, beta=beta)
    return N, D, L, truth
