"""Benchmark: scalefit.isoflop against a per-group numpy.polyfit bootstrap loop.

Usage
-----
    python benchmarks/bench_isoflop.py                       # defaults below
    python benchmarks/bench_isoflop.py --bootstrap 1000 --repeats 5 --baseline-resamples 50

Data: Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9,
``../shared/data/porian2024/isoflop_points.csv`` (1,745 runs, 15 configurations,
budgets given exactly by the flops column), read through ``scalefit.read_runs``.

scalefit: the median wall time of ``--repeats`` full analyses
(``isoflop(runs, group_by=<6 columns>, bootstrap=N)``), for the default
method ("nearest") and for "parabola".

Baseline: the loop people's scripts run — for each configuration, for each
resample, for each budget: draw the budget's runs with replacement
(``rng.choice``), ``numpy.polyfit`` a parabola to loss against log N, take its
vertex, then ``numpy.polyfit`` log N* against log C.  It is timed on
``--baseline-resamples`` resamples (all 15 configurations) and scaled
linearly to ``--bootstrap`` resamples; both run in this process on the same
data.  The baseline fits an all-points parabola, so the like-for-like ratio is
against scalefit's ``method="parabola"``.
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

import scalefit

SHARED = Path(os.environ.get("SCALEFIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def baseline_loop(table, n_boot: int, seed: int) -> dict:
    """Per-group, per-resample, per-budget polyfit bootstrap; returns {group: array of a}."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, g in table.groupby(KEYS):
        budgets = [(c, np.log10(b["n_params"].to_numpy()), b["loss"].to_numpy()) for c, b in g.groupby("flops")]
        a = np.empty(n_boot)
        for i in range(n_boot):
            log_c, log_n = [], []
            for c, x, y in budgets:
                idx = rng.choice(len(x), size=len(x), replace=True)
                if len(np.unique(x[idx])) < 3:
                    continue
                p = np.polyfit(x[idx], y[idx], 2)
                if p[0] <= 0:
                    continue
                v = -p[1] / (2 * p[0])
                if x.min() <= v <= x.max():
                    log_c.append(np.log10(c))
                    log_n.append(v)
            a[i] = np.polyfit(log_c, log_n, 1)[0] if len(log_c) >= 2 else np.nan
        out[key] = a
    return out


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline-resamples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    path = SHARED / "porian2024" / "isoflop_points.csv"
    if not path.exists():
        print(f"skipped: {path} is absent (the real data live in ../shared/data)")
        return 0
    runs = scalefit.read_runs(path)
    n_groups = runs.table.groupby(KEYS).ngroups
    n_budgets = runs.table.groupby(KEYS + ["flops"]).ngroups
    print(f"data: {path} ({len(runs)} runs, {n_groups} configurations, {n_budgets} budgets)")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cpu(s)")

    def ours(method):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scalefit.ScalefitWarning)
            return scalefit.isoflop(runs, group_by=KEYS, bootstrap=args.bootstrap, seed=args.seed, method=method)

    ours("nearest")  # warm-up (imports, caches)
    t_nearest = statistics.median(timed(lambda: ours("nearest"), args.repeats))
    t_parabola = statistics.median(timed(lambda: ours("parabola"), args.repeats))

    nb = args.baseline_resamples
    t_sub = statistics.median(timed(lambda: baseline_loop(runs.table, nb, args.seed), max(1, min(3, args.repeats))))
    t_base = t_sub * args.bootstrap / nb

    print(f"scalefit.isoflop, method='nearest', {args.bootstrap} resamples: median {t_nearest:.3f} s over {args.repeats} repeats")
    print(f"scalefit.isoflop, method='parabola', {args.bootstrap} resamples: median {t_parabola:.3f} s over {args.repeats} repeats")
    print(f"baseline polyfit loop, {nb} resamples: median {t_sub:.3f} s -> estimated {t_base:.1f} s for {args.bootstrap}")
    print(f"ratio baseline / scalefit: {t_base / t_parabola:.0f}x (parabola, like for like), {t_base / t_nearest:.0f}x (default nearest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
