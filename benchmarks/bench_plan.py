"""Benchmark: the planner's numerical path against the Chinchilla closed form.

Usage
-----
    python benchmarks/bench_plan.py

For the published coefficient sets (Hoffmann et al. 2022 rounded and
unrounded, Besiroglu et al. 2024) and budgets from 1e18 to 1e30 FLOPs, the
closed form (Hoffmann et al. 2022, eq. 4) and the generic numerical path (the
same law passed as a user-defined ``Law``) must agree; the script prints the
largest relative difference in N*, D* and the budget inverse, and the time per
plan of each path, with and without 1,000 bootstrap samples.
"""
from __future__ import annotations

import platform
import time
import types

import numpy as np
import pandas as pd

from scalefit import budget_for_loss, compute_optimal
from scalefit.plan import frontier_draws
from scalefit.laws import Law, chinchilla_params

SETS = {
    # Hoffmann et al. (2022) eq. 10; unrounded values as recovered by Besiroglu et al. (2024); Besiroglu et al. (2024).
    "hoffmann-rounded": dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
    "hoffmann-unrounded": dict(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083),
    "besiroglu": dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658),
}
BUDGETS = np.logspace(18, 30, 13)
LAW = Law("user-chinchilla", lambda n_params, n_tokens, E, A, B, alpha, beta: E + A / n_params**alpha + B / n_tokens**beta,
          chinchilla_params())


def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main() -> None:
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.processor() or platform.machine()}")
    rows = []
    for name, params in SETS.items():
        numeric = types.SimpleNamespace(law=LAW, params=params)
        closed_plans, t_closed = timed(lambda params=params: compute_optimal(params, BUDGETS))
        numeric_plans, t_numeric = timed(lambda numeric=numeric: compute_optimal(numeric, BUDGETS))
        dn = max(abs(b.n_params / a.n_params - 1) for a, b in zip(closed_plans, numeric_plans))
        dd = max(abs(b.n_tokens / a.n_tokens - 1) for a, b in zip(closed_plans, numeric_plans))
        losses = [a.loss for a in closed_plans]
        inverse, t_inv = timed(lambda numeric=numeric, losses=losses: budget_for_loss(numeric, losses), repeat=1)
        dc = max(abs(p.flops / c - 1) for p, c in zip(inverse, BUDGETS))
        rows.append({"set": name, "max |dN*|/N*": dn, "max |dD*|/D*": dd, "max |dC|/C (inverse)": dc,
                     "closed ms/plan": 1e3 * t_closed / len(BUDGETS), "numeric ms/plan": 1e3 * t_numeric / len(BUDGETS),
                     "numeric inverse ms/plan": 1e3 * t_inv / len(BUDGETS)})
    print(pd.DataFrame(rows).set_index("set").to_string(float_format=lambda v: f"{v:.3g}"))

    rng = np.random.default_rng(0)
    params = SETS["besiroglu"]
    samples = pd.DataFrame({k: v * np.exp(0.05 * rng.standard_normal(1000)) for k, v in params.items()})
    for label, law in (("closed", "chinchilla"), ("numeric", LAW)):
        boot = types.SimpleNamespace(fit=types.SimpleNamespace(law=law, params=params), samples=samples)
        plan, t = timed(lambda boot=boot: compute_optimal(boot, 5.76e23), repeat=1)
        lo, hi = plan.intervals["n_params"]
        print(f"1,000 bootstrap samples, {label:>7}: {t:.2f} s; N* = {plan.n_params:.3g} [{lo:.3g}, {hi:.3g}]")

    # the plots' frontier bands: the same solver, all draws and budgets at once
    draws = samples.iloc[:200].to_dict("records")
    grid = np.geomspace(1e18, 1e25, 160)
    for label, law in (("closed", "chinchilla"), ("numeric", LAW)):
        band, t = timed(lambda law=law: frontier_draws(law, draws, grid), repeat=1)
        print(f"frontier_draws, 200 draws x 160 budgets, {label:>7}: {t:.2f} s ({np.isnan(band).sum()} NaN)")


if __name__ == "__main__":
    main()
