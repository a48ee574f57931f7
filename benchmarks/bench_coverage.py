"""Benchmark: empirical coverage of scalefit's bootstrap intervals.

Usage
-----
    python benchmarks/bench_coverage.py --replicates 200 --resamples 200

Each replicate draws an IsoFLOP-style sweep (6 budgets from 1e18 to 1e21 FLOPs,
8 model sizes per budget spanning a factor 30 around the optimum) from the
Hoffmann et al. (2022) law E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28
with 1% log-normal noise on the loss, fits the Chinchilla law (Huber on
log-loss, delta=1e-3), bootstraps it, and records whether the 80% and 95%
percentile intervals of alpha, beta and N*(1e24) contain the true values.
N*(1e24) is an extrapolation about three orders of magnitude beyond the largest
budget.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import pandas as pd

import scalefit
from scalefit.laws import chinchilla_compute_optimal, get_law

TRUE = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
TARGET = 1e24


def replicate(seed: int, sigma: float):
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.geomspace(1e18, 1e21, 6):
        n_star = float(chinchilla_compute_optimal(TRUE, C)[0])
        for N in n_star * np.geomspace(1 / np.sqrt(30), np.sqrt(30), 8):
            rows.append((N, C / (6 * N), C))
    N, D, C = map(np.array, zip(*rows))
    L = get_law("chinchilla")(TRUE, n_params=N, n_tokens=D) * np.exp(rng.normal(0, sigma, N.size))
    return pd.DataFrame(dict(n_params=N, n_tokens=D, flops=C, loss=L))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--replicates", type=int, default=200)
    p.add_argument("--resamples", type=int, default=200)
    p.add_argument("--sigma", type=float, default=0.01)
    args = p.parse_args(argv)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    truth = dict(alpha=TRUE["alpha"], beta=TRUE["beta"], n_opt=float(chinchilla_compute_optimal(TRUE, TARGET)[0]))
    hits = {(k, lv): 0 for k in truth for lv in (0.8, 0.95)}
    t0 = time.perf_counter()
    for r in range(args.replicates):
        res = scalefit.fit(replicate(r, args.sigma))
        boot = res.bootstrap(args.resamples, seed=r, n_jobs=1, progress=False)
        draws = boot.samples.copy()
        draws["n_opt"] = boot.derived(flops=TARGET)[f"n_opt@{TARGET:.3g}"]
        for lv in (0.8, 0.95):
            lo, hi = draws.quantile((1 - lv) / 2), draws.quantile((1 + lv) / 2)
            for k, v in truth.items():
                hits[(k, lv)] += int(lo[k] <= v <= hi[k])
    elapsed = time.perf_counter() - t0
    print(f"{args.replicates} replicates x {args.resamples} resamples, sigma={args.sigma}: {elapsed:.0f} s")
    print(f"{'quantity':<12} {'nominal':>8} {'empirical':>10} {'miss (pts)':>11}")
    worst = 0.0
    for k in truth:
        for lv in (0.8, 0.95):
            cov = hits[(k, lv)] / args.replicates
            miss = (cov - lv) * 100
            worst = max(worst, abs(miss))
            print(f"{k:<12} {lv:>8.0%} {cov:>10.1%} {miss:>+11.1f}")
    se = np.sqrt(0.95 * 0.05 / args.replicates) * 100
    print(f"(Monte Carlo SE of a 95% coverage estimate: {se:.1f} points; of 80%: {np.sqrt(0.8*0.2/args.replicates)*100:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
