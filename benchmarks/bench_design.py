"""Benchmark: does scalefit.design pick runs that pin down N* at the target better than a standard IsoFLOP grid?

The issue's benchmark (issue 15): 100 simulated truths with alpha, beta ~ U[0.25, 0.5] and E ~ U[1.5, 3]
(A, B log-uniform in [200, 2000]: the issue fixes no range for them; this brackets the published fits),
1% log-normal noise, a target of 1e24 FLOPs and an experiment budget of 1e21 FLOPs. Compared, on the same
truths and the same noise seeds:

(a) scalefit.design(1e24, 1e21) with the default prior (the published fits) and objective "n_opt";
(b) the standard Chinchilla-style grid of the same total cost: 5 budgets a factor 3 apart, 8 sizes each,
    +-4x around the prior's optimum (scalefit.isoflop_grid), scaled to spend 1e21;
(c) the same grid at twice the cost (2e21).

Error: |ln(N*_hat / N*)| at 1e24, with N*_hat from scalefit.fit of the simulated runs. BLAS threads are pinned
to 1 in every fit (threadpoolctl, inside the simulation kernel).

Run: python benchmarks/bench_design.py [--truths 100] [--n-sims 32] [--n-jobs 2]
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd

import scalefit
from scalefit.experiments._search import simulate_errors


def truths(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(dict(
        E=rng.uniform(1.5, 3.0, n), A=np.exp(rng.uniform(np.log(200), np.log(2000), n)),
        B=np.exp(rng.uniform(np.log(200), np.log(2000), n)),
        alpha=rng.uniform(0.25, 0.5, n), beta=rng.uniform(0.25, 0.5, n),
    ))


def standard_grid(total: float) -> pd.DataFrame:
    rel = 3.0 ** -np.arange(5.0)
    top = total / (8 * rel.sum())
    return scalefit.isoflop_grid(top * rel, 8, span=4.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--truths", type=int, default=100)
    ap.add_argument("--n-sims", type=int, default=32)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    chosen = scalefit.design(1e24, 1e21, n_sims=args.n_sims, n_jobs=args.n_jobs, seed=0)
    t_design = time.perf_counter() - t0
    designs = {"(a) scalefit.design": chosen.runs, "(b) 5x8 +-4x grid, same cost": standard_grid(1e21),
               "(c) 5x8 +-4x grid, double cost": standard_grid(2e21)}
    t1 = time.perf_counter()
    err = simulate_errors(list(designs.values()), truths(args.truths), target=1e24, noise=0.01, outliers=0.0, k=6.0,
                          seed=7, stage=9, n_jobs=args.n_jobs)
    t_eval = time.perf_counter() - t1
    med = np.median(np.abs(err[:, :, 1]), axis=1)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, scalefit {scalefit.__version__}")
    print(f"design chosen: {chosen.name}; {chosen.n_runs} runs, {chosen.total_flops:.3g} FLOPs; search {t_design:.0f} s")
    print(f"evaluation on {args.truths} truths: {t_eval:.0f} s")
    print("| design | runs | FLOPs | median abs ln error of N* | ratio to (b) | failed fits |")
    print("|---|---|---|---|---|---|")
    for (name, runs), m, e in zip(designs.items(), med, err):
        print(f"| {name} | {len(runs)} | {runs['flops'].sum():.3g} | {m:.4f} | {m / med[1]:.2f} | "
              f"{int(np.count_nonzero(~np.isfinite(e[:, 1])))} |")
    print(f"criterion (a) <= 0.75 x (b): {'met' if med[0] <= 0.75 * med[1] else 'NOT met'}; "
          f"(a) <= (c): {'met' if med[0] <= med[2] else 'NOT met'}")


if __name__ == "__main__":
    main()
