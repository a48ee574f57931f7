"""Benchmark: scalefit.isoflop against a per-group numpy.polyfit bootstrap loop.

Usage
-----
    python benchmarks/bench_isoflop.py                       # defaults below
    python benchmarks/bench_isoflop.py --bootstrap 1000 --repeats 3 --baseline-resamples 1000
    python benchmarks/bench_isoflop.py --scale-rows 1e6 --bootstrap 20   # peak memory on a large sweep instead

Data: Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9,
``../shared/data/porian2024/isoflop_points.csv`` (1,745 runs, 15 configurations,
budgets given exactly by the flops column), read through ``scalefit.read_runs``.

scalefit: the median wall and CPU time of ``--repeats`` full analyses
(``isoflop(runs, group_by=<6 columns>, bootstrap=N)``), for the default
method ("profile", the exact Chinchilla profile per budget), "nearest" and
"parabola".  BLAS is pinned to one thread (threadpoolctl) for everything.

Baseline: the loop people's scripts run — for each configuration, for each
resample, for each budget: draw the budget's runs with replacement
(``rng.choice``), ``numpy.polyfit`` a parabola to loss against log N, take its
vertex, then ``numpy.polyfit`` log N* against log C.  It is timed on
``--baseline-resamples`` resamples (all 15 configurations; default 1,000, the
full count) and scaled linearly to ``--bootstrap`` resamples when fewer; both run
in this process on the same data.  The profile default and the baseline are timed
alternately (profile, baseline, profile, ...) so load changes hit both; the ratio
is the median of the per-repeat ratios.  The baseline fits an all-points
parabola, so the like-for-like ratio for speed alone is against
``method="parabola"``; the profile default is the estimator scalefit reports.
The load average (``os.getloadavg``) is printed before and after.

``--scale-rows N`` instead runs ``isoflop(sweep, budget="budget", bootstrap=--bootstrap)`` once on
``bench_scale.make_sweep(N)`` (ten budgets, N/10 sizes each) and prints its wall and CPU time and the
process's peak resident set size (``ru_maxrss``: interpreter, the sweep and the analysis).  The
resamples are drawn and analysed in batches of at most 2^21 cells (two resamples per batch at
10^6 rows), so the peak does not grow with the number of resamples: 20 measure the peak of 200.
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


def timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def large_sweep(rows: int, n_boot: int) -> int:
    """Time and peak memory of the profile bootstrap on ``bench_scale.make_sweep(rows)``."""
    import resource

    from threadpoolctl import threadpool_limits

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_scale import make_sweep

    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    sweep = make_sweep(rows)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", scalefit.ScalefitWarning)
        wall, cpu = timed(lambda: scalefit.isoflop(sweep, budget="budget", bootstrap=n_boot, seed=0, n_jobs=1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"isoflop(make_sweep({rows}), bootstrap={n_boot}): wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB")
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-resamples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-others", action="store_true", help="time only the profile default and the baseline")
    ap.add_argument("--scale-rows", type=float, default=None, help="time and peak memory on make_sweep(N) instead")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    if args.scale_rows:
        return large_sweep(int(args.scale_rows), args.bootstrap)

    path = SHARED / "porian2024" / "isoflop_points.csv"
    if not path.exists():
        print(f"skipped: {path} is absent (the real data live in ../shared/data)")
        return 0
    runs = scalefit.read_runs(path)
    n_groups = runs.table.groupby(KEYS).ngroups
    n_budgets = runs.table.groupby(KEYS + ["flops"]).ngroups
    print(f"data: {path} ({len(runs)} runs, {n_groups} configurations, {n_budgets} budgets)")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cpu(s)")
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())

    def ours(method):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scalefit.ScalefitWarning)
            return scalefit.isoflop(runs, group_by=KEYS, bootstrap=args.bootstrap, seed=args.seed, method=method)

    nb = args.baseline_resamples
    scale = args.bootstrap / nb
    with threadpool_limits(limits=1):
        ours("nearest")  # warm-up (imports, caches)
        prof, base = [], []
        for _ in range(args.repeats):
            prof.append(timed(lambda: ours("profile")))
            w, c = timed(lambda: baseline_loop(runs.table, nb, args.seed))
            base.append((w * scale, c * scale))
        others = {m: [timed(lambda m=m: ours(m)) for _ in range(args.repeats)]
                  for m in ([] if args.skip_others else ["nearest", "parabola"])}

    def med(ts, i):
        return statistics.median(t[i] for t in ts)

    n = args.repeats
    print(f"scalefit.isoflop, method='profile' (default), {args.bootstrap} resamples: median wall {med(prof, 0):.2f} s, "
          f"CPU {med(prof, 1):.2f} s over {n} repeats (wall: {', '.join(f'{t[0]:.2f}' for t in prof)})")
    for m, ts in others.items():
        print(f"scalefit.isoflop, method={m!r}, {args.bootstrap} resamples: median wall {med(ts, 0):.3f} s, "
              f"CPU {med(ts, 1):.3f} s")
    what = f"{nb} resamples" + (f", scaled x{scale:g} to {args.bootstrap}" if nb != args.bootstrap else "")
    print(f"baseline polyfit loop ({what}): median wall {med(base, 0):.2f} s, CPU {med(base, 1):.2f} s "
          f"(wall: {', '.join(f'{t[0]:.2f}' for t in base)})")
    rw = statistics.median(b[0] / p[0] for b, p in zip(base, prof))
    rc = statistics.median(b[1] / p[1] for b, p in zip(base, prof))
    print(f"ratio baseline / profile (median of per-repeat ratios): wall {rw:.2f}x, CPU {rc:.2f}x (>1: scalefit faster)")
    for m, ts in others.items():
        print(f"ratio baseline / {m}: CPU {med(base, 1) / med(ts, 1):.1f}x")
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
