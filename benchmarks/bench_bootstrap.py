"""Benchmark: the bootstrap of the Chinchilla fit on the replication data (240 runs).

Usage
-----
    python benchmarks/bench_bootstrap.py [--n 4000] [--repeats 3]

Competitors, in this process on the same data and resamples:

* scalefit: ``fit.bootstrap(n)`` (batched exact Newton, warm-started from every
  basin of the full fit), with n_jobs=1 and n_jobs=-1;
* warm-started L-BFGS-B: for each resample, one L-BFGS-B run of the Huber
  objective (analytic gradient) from the full-data optimum: the cheapest way
  to bootstrap the procedure of Hoffmann et al. / Besiroglu et al. (refitting
  each resample with all 4,500 starts would take days);
* least squares, as simple-scaling-laws bootstraps its plain least-squares fit on
  raw loss: scipy ``least_squares`` per resample from the full-data optimum.

Costs of the competitors are estimated from a sample of resamples and scaled to n.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402
from bench_fit import replication_runs  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sample", type=int, default=200, help="resamples timed for each competitor")
    args = p.parse_args(argv)
    import scalefit

    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}, numpy {np.__version__}")
    runs = replication_runs()
    if runs is None:
        print("replication data absent (../shared/data): nothing to benchmark")
        return 0
    fit = scalefit.fit(runs)
    fit.bootstrap(50, n_jobs=1, progress=False)  # warm-up
    t_one, t_all = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        b1 = fit.bootstrap(args.n, seed=0, n_jobs=1, progress=False)
        t_one.append(time.perf_counter() - t)
        t = time.perf_counter()
        b2 = fit.bootstrap(args.n, seed=0, n_jobs=-1, progress=False)
        t_all.append(time.perf_counter() - t)
    same = b1.samples.equals(b2.samples)
    se = b2.stderr
    print(f"scalefit bootstrap, {args.n} resamples: median {np.median(t_one):.2f} s (n_jobs=1), {np.median(t_all):.2f} s (n_jobs=-1); "
          f"identical samples across n_jobs: {same}; refits not converged: {int((~b2.converged).sum())}")
    print("  standard errors: " + ", ".join(f"{k} {v:.4g}" for k, v in se.items())
          + f"; a: {b2.derived()['a'].std(ddof=1):.4f}")
    print("  published (Besiroglu et al. 2024): E 0.026, A 124.5, B 1293, alpha 0.0154, beta 0.0206; a ~0.02")

    N, D, L = runs.n_params, runs.n_tokens, runs.loss
    x, y, logL = np.log(N), np.log(D), np.log(L)
    pr = fit.params
    theta0 = np.array([np.log(pr["A"]), np.log(pr["B"]), np.log(pr["E"]), pr["alpha"], pr["beta"]])
    rng = np.random.default_rng(0)
    idx = [rng.integers(0, len(L), len(L)) for _ in range(args.sample)]
    t = time.perf_counter()
    for ii in idx:
        reference.fit_one(theta0, x[ii], y[ii], logL[ii], gradient="analytic")
    per_lbfgs = (time.perf_counter() - t) / args.sample

    def resid(q, ii):
        E, A, B, al, be = q
        return E + A * N[ii] ** -al + B * D[ii] ** -be - L[ii]

    q0 = np.array([pr["E"], pr["A"], pr["B"], pr["alpha"], pr["beta"]])
    t = time.perf_counter()
    for ii in idx:
        least_squares(resid, q0, args=(ii,), x_scale="jac")
    per_ls = (time.perf_counter() - t) / args.sample
    ours = np.median(t_all)
    print(f"warm-started L-BFGS-B per resample: {per_lbfgs*1e3:.1f} ms -> {per_lbfgs*args.n:.1f} s for {args.n}; ratio {per_lbfgs*args.n/ours:.1f}x")
    print(f"least squares (simple-scaling-laws style) per resample: {per_ls*1e3:.1f} ms -> {per_ls*args.n:.1f} s for {args.n}; ratio {per_ls*args.n/ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
