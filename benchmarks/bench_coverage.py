"""Benchmark: empirical coverage of scalefit's bootstrap intervals, per design and truth.

Usage
-----
    python benchmarks/bench_coverage.py --design isoflop --truth hoffmann --replicates 200 --resamples 200
    python benchmarks/bench_coverage.py --design isoflop --truth equal --replicates 200 --resamples 200
    python benchmarks/bench_coverage.py --design isoflop --truth imbalanced --replicates 200 --resamples 200
    python benchmarks/bench_coverage.py --design curves --truth hoffmann --replicates 200 --resamples 200
    python benchmarks/bench_coverage.py --design curves --truth imbalanced --replicates 200 --resamples 200
    python benchmarks/bench_coverage.py --se-ratio --resamples 4000

Truths (E=1.69, A=406.4, B=410.7 of Hoffmann et al. 2022, eq. 10, throughout):

- ``hoffmann``: alpha=0.34, beta=0.28 (their eq. 10);
- ``equal``: alpha = beta = 0.34;
- ``imbalanced``: alpha=0.45, beta=0.25.

Designs (sizes placed around the truth's own compute-optimal N*(C), so that every truth gets
the same shape of sweep):

- ``isoflop``: 6 budgets from 1e18 to 1e21 FLOPs x 8 model sizes spanning a factor 30 around
  N*(C); 1% log-normal noise on each loss.  Resampled by run.
- ``curves``: 30 training runs: 10 model sizes (N*(C) for 10 budgets from 1e18 to 1e21) x 3
  lengths (1/4, 1 and 4 times the compute-optimal tokens D*(C)), 10 evenly spaced checkpoints
  each, every checkpoint following the law at the tokens seen (as if each were the end of its
  own schedule); noise: a per-run log offset N(0, 0.005) plus a per-checkpoint one N(0, 0.005).
  All 300 checkpoints are fitted; the bootstrap resamples whole runs.

Each replicate fits the Chinchilla law (Huber on log-loss, delta=1e-3), bootstraps it, and
records whether the 80% and 95% intervals of alpha, beta, a = beta/(alpha+beta) and
N*(1e24) (three orders of magnitude beyond the largest budget) contain the truth: the
intervals scalefit prints (``BootstrapResult.interval`` / ``derived_interval``: the
bias-corrected percentile interval joined with the plain one) and the plain percentile ones.

``--se-ratio``: on the replication data of Besiroglu et al. (2024) (240 runs after dropping the
5 highest losses, from ``../shared/data``), the ratio of scalefit's asymptotic standard errors
(``FitResult.stderr``) to the bootstrap ones (``--resamples`` resamples), per parameter.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalefit
from scalefit.laws import chinchilla_compute_optimal, get_law

TRUTHS = {
    "hoffmann": dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
    "equal": dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.34),
    "imbalanced": dict(E=1.69, A=406.4, B=410.7, alpha=0.45, beta=0.25),
}
TARGET = 1e24
LEVELS = (0.8, 0.95)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():  # the worktrees live next to the main checkout
    DATA = Path("/work/shared/data")


def isoflop_sweep(truth: dict, seed: int, sigma: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.geomspace(1e18, 1e21, 6):
        n_star = float(chinchilla_compute_optimal(truth, C)[0])
        for N in n_star * np.geomspace(1 / np.sqrt(30), np.sqrt(30), 8):
            rows.append((N, C / (6 * N), C))
    N, D, C = map(np.array, zip(*rows))
    L = get_law("chinchilla")(truth, n_params=N, n_tokens=D) * np.exp(rng.normal(0, sigma, N.size))
    return pd.DataFrame(dict(n_params=N, n_tokens=D, flops=C, loss=L))


def curves(truth: dict, seed: int, run_sigma: float = 0.005, point_sigma: float = 0.005) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.geomspace(1e18, 1e21, 10):
        n_star, d_star = (float(x) for x in chinchilla_compute_optimal(truth, C)[:2])
        for mult in (0.25, 1.0, 4.0):
            seen = d_star * mult * np.linspace(0.1, 1.0, 10)
            offset = rng.normal(0, run_sigma)
            loss = get_law("chinchilla")(truth, n_params=np.full(seen.size, n_star), n_tokens=seen)
            loss = loss * np.exp(offset + rng.normal(0, point_sigma, seen.size))
            run = f"n{n_star:.3g}_x{mult:g}"
            rows += [dict(run=run, n_params=n_star, n_tokens=d, loss=v) for d, v in zip(seen, loss)]
    return pd.DataFrame(rows)


def coverage(design: str, truth_name: str, replicates: int, resamples: int) -> pd.DataFrame:
    truth = TRUTHS[truth_name]
    a_true = truth["beta"] / (truth["alpha"] + truth["beta"])
    true = dict(alpha=truth["alpha"], beta=truth["beta"], a=a_true,
                n_opt=float(chinchilla_compute_optimal(truth, TARGET)[0]))
    key = f"n_opt@{TARGET:.3g}"
    hits = {(k, lv, kind): 0 for k in true for lv in LEVELS for kind in ("printed", "plain")}
    for r in range(replicates):
        if design == "isoflop":
            runs = scalefit.read_runs(isoflop_sweep(truth, r))
        else:
            runs = scalefit.read_runs(curves(truth, r), run_id="run")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = scalefit.fit(runs)
            boot = res.bootstrap(resamples, seed=r, n_jobs=1, progress=False)
            draws = boot.derived(flops=TARGET)
            draws["alpha"], draws["beta"] = boot.samples["alpha"], boot.samples["beta"]
            for lv in LEVELS:
                iv = boot.interval(lv)
                div = boot.derived_interval(lv, flops=TARGET)
                printed = dict(alpha=iv.loc["alpha"], beta=iv.loc["beta"], a=div.loc["a"], n_opt=div.loc[key])
                lo, hi = draws.quantile((1 - lv) / 2), draws.quantile((1 + lv) / 2)
                for k, v in true.items():
                    col = key if k == "n_opt" else k
                    hits[(k, lv, "printed")] += int(printed[k]["low"] <= v <= printed[k]["high"])
                    hits[(k, lv, "plain")] += int(lo[col] <= v <= hi[col])
    out = [dict(design=design, truth=truth_name, quantity=k, level=lv, kind=kind, coverage=h / replicates)
           for (k, lv, kind), h in hits.items()]
    return pd.DataFrame(out)


def se_ratio(resamples: int) -> None:
    path = DATA / "chinchilla_epoch" / "svg_extracted_data.csv"
    if not path.exists():
        print(f"skipped: {path} is absent (public data of ../shared/data)")
        return
    runs = scalefit.read_runs(path, columns={"Model Size": "n_params", "Training FLOP": "flops"}, drop_highest=5)
    res = scalefit.fit(runs)
    boot = res.bootstrap(resamples, seed=0, n_jobs=1, progress=False)
    bse = boot.stderr
    print(f"replication data, {res.n_runs} runs; {resamples} resamples; asymptotic kind: {res.stderr_kind}")
    print("| parameter | asymptotic SE | bootstrap SE | ratio |")
    print("|---|---|---|---|")
    for k in ("E", "A", "B", "alpha", "beta"):
        print(f"| {k} | {res.stderr[k]:.4g} | {bse[k]:.4g} | {res.stderr[k] / bse[k]:.2f} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--design", choices=("isoflop", "curves"), default="isoflop")
    p.add_argument("--truth", choices=sorted(TRUTHS), default="hoffmann")
    p.add_argument("--replicates", type=int, default=200)
    p.add_argument("--resamples", type=int, default=200)
    p.add_argument("--se-ratio", action="store_true", help="Asymptotic against bootstrap standard errors on the replication data.")
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        if args.se_ratio:
            se_ratio(args.resamples)
            print(f"{time.perf_counter() - t0:.0f} s")
            return 0
        tab = coverage(args.design, args.truth, args.replicates, args.resamples)
    print(f"{args.design}, truth {args.truth} {TRUTHS[args.truth]}: {args.replicates} replicates x "
          f"{args.resamples} resamples, {time.perf_counter() - t0:.0f} s")
    print("| design | truth | quantity | nominal | printed interval | plain percentile |")
    print("|---|---|---|---|---|---|")
    wide = tab.pivot_table(index=["quantity", "level"], columns="kind", values="coverage", sort=False)
    for (q, lv), r in wide.iterrows():
        print(f"| {args.design} | {args.truth} | {q} | {lv:.0%} | {r['printed']:.1%} | {r['plain']:.1%} |")
    print(f"(Monte Carlo SE: {np.sqrt(0.8 * 0.2 / args.replicates) * 100:.1f} points at 80%, "
          f"{np.sqrt(0.95 * 0.05 / args.replicates) * 100:.1f} at 95%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
