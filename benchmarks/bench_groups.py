"""Benchmark: shared-exponent group fits (``fit(..., group_by=, shared=)``) against fitting each group alone.

Usage
-----
    python benchmarks/bench_groups.py                    # accuracy (synthetic) and Porian timing
    python benchmarks/bench_groups.py --replicates 40 --noise 0.01 --skip-porian

Accuracy (synthetic, the truth known): ``--replicates`` data sets of three
groups (datasets) that share alpha = 0.34 and beta = 0.28 and differ in E, A
and B, each an IsoFLOP sweep of 5 budgets (1e18..1e20) x 7 sizes (N*/4..4 N*)
with log-normal noise ``--noise``.  Reported: the median and 90th percentile
over replicates and groups of |a_hat - a| (a = beta/(alpha+beta)) when each
group is fitted alone (``scalefit.fit`` per group, the usual script) and when
they are fitted together with alpha and beta shared.

Timing (real data): Porian et al. (2024), formll/resolving-scaling-law-
discrepancies@0dc60d9, ``../shared/data/porian2024/isoflop_points.csv``: the
15 configurations fitted together with alpha and beta shared, against the 15
fits alone, both in this process with BLAS pinned to one thread.  Timings on a
shared machine are noisy: the load average is printed beside them.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import scalefit
from scalefit.laws import get_law

SHARED = Path(os.environ.get("SCALEFIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
ALPHA, BETA = 0.34, 0.28
GROUPS = {"web": dict(E=1.8, A=400.0, B=1500.0), "code": dict(E=1.2, A=250.0, B=3000.0),
          "books": dict(E=2.1, A=600.0, B=900.0)}
PORIAN_CONFIG = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def sweep(noise: float, rng: np.random.Generator) -> pd.DataFrame:
    law = get_law("chinchilla")
    frames = []
    for g, p in GROUPS.items():
        for C in (1e18, 3e18, 1e19, 3e19, 1e20):
            N = np.geomspace(np.sqrt(C / 120) / 4, np.sqrt(C / 120) * 4, 7)
            D = C / (6 * N)
            L = law(dict(p, alpha=ALPHA, beta=BETA), n_params=N, n_tokens=D) * np.exp(rng.normal(0, noise, N.size))
            frames.append(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L, dataset=g)))
    return pd.concat(frames, ignore_index=True)


def accuracy(replicates: int, noise: float, seed: int) -> None:
    a_true = BETA / (ALPHA + BETA)
    alone, shared = [], []
    for i in range(replicates):
        df = sweep(noise, np.random.default_rng([seed, i]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for g in GROUPS:
                alone.append(abs(scalefit.fit(df[df.dataset == g].reset_index(drop=True), "chinchilla").a - a_true))
            res = scalefit.fit(df, "chinchilla", group_by="dataset", shared=("alpha", "beta"))
        shared += [abs(r.a - a_true) for r in res.values()]
    q = lambda xs, p: float(np.quantile(xs, p))  # noqa: E731
    print(f"accuracy: {replicates} replicates x {len(GROUPS)} groups, noise {noise:g}, seed {seed}")
    print("| fit | median abs error of a | 90th percentile |")
    print("|---|---|---|")
    print(f"| each group alone | {q(alone, 0.5):.4f} | {q(alone, 0.9):.4f} |")
    print(f"| shared alpha, beta | {q(shared, 0.5):.4f} | {q(shared, 0.9):.4f} |")


def porian_timing(repeats: int) -> None:
    path = SHARED / "porian2024" / "isoflop_points.csv"
    if not path.exists():
        print(f"skipped Porian timing: {path} is absent")
        return
    runs = scalefit.read_runs(path)
    labels = runs.table[PORIAN_CONFIG].astype(str).agg("/".join, axis=1).to_numpy()
    t_alone, t_shared = [], []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for g in dict.fromkeys(labels):
                scalefit.fit(runs.subset(labels == g), "chinchilla")
            t_alone.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            res = scalefit.fit(runs, "chinchilla", group_by=PORIAN_CONFIG)
            t_shared.append(time.perf_counter() - t0)
    load = os.getloadavg()
    print(f"Porian: 15 configurations, {len(runs)} runs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"  15 fits alone: median {statistics.median(t_alone):.2f} s; shared alpha, beta: median "
          f"{statistics.median(t_shared):.2f} s (ratio {statistics.median(t_shared) / statistics.median(t_alone):.0f}x; "
          f"{repeats} repeats)")
    print(f"  shared alpha {res.shared['alpha']:.4f}, beta {res.shared['beta']:.4f}; objective shared "
          f"{res.objective:.5f} vs alone {res.separate_objective:.5f} (+{100 * (res.objective / res.separate_objective - 1):.1f}%)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1, help="timing repeats on Porian's data")
    ap.add_argument("--skip-porian", action="store_true")
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"numpy {np.__version__}")
    accuracy(args.replicates, args.noise, args.seed)
    if not args.skip_porian:
        porian_timing(args.repeats)


if __name__ == "__main__":
    main()
