"""How the Chinchilla fit and its bootstrap scale with rows: time, peak memory, log-log slope.

Usage
-----
    python benchmarks/bench_fit_rows.py [--rows 1e4,1e5,1e6] [--resamples 200] [--resamples-largest 200]

Each (operation, rows) runs in its own process: synthetic rows (Hoffmann et al. 2022 eq. 10, 1%
log-normal noise, N in [1e7, 1e10], D in [1e9, 1e12], all distinct), read with ``read_runs``, a
warm-up fit on 1,000 rows (imports), then the timed operation.  Peak memory is the process's peak
resident set (``ru_maxrss``) minus the resident set just before the operation, so it counts what the
operation added (the runs are already in memory).  BLAS is pinned to one thread.  The slope is the
least-squares slope of log(time) on log(rows), of wall time and of the process's CPU time (which
a loaded machine distorts less).  (benchmarks/bench_scale.py, owned elsewhere, covers
every operation; this helper is the fit and bootstrap only.)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
import scalefit
from threadpoolctl import threadpool_limits
op, n, resamples = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3])

def rows(n, seed):
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.01, n))
    return pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))

with threadpool_limits(limits=1):
    scalefit.fit(rows(1000, 1)).bootstrap(4, n_jobs=1, progress=False)  # imports and caches
    runs = scalefit.read_runs(rows(n, 0))
    fit = scalefit.fit(runs) if op == "bootstrap" else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import gc; gc.collect()
    rss_now = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() // 1024
    t, c = time.perf_counter(), time.process_time()
    out = scalefit.fit(runs) if op == "fit" else fit.bootstrap(resamples, seed=0, n_jobs=1, progress=False)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(seconds=dt, cpu_seconds=dc, peak_kb=peak, rss_before_kb=rss_now, maxrss_before_kb=before)))
"""


def run(op: str, n: int, resamples: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, op, str(n), str(resamples)], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    # the operation's own peak: peak RSS over the RSS just before it (0 if the peak came earlier)
    r["added_mb"] = max(r["peak_kb"] - r["rss_before_kb"], 0) / 1024
    r["peak_mb"] = r["peak_kb"] / 1024
    return r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="1e4,1e5,1e6")
    p.add_argument("--resamples", type=int, default=200)
    p.add_argument("--resamples-largest", type=int, default=None, help="resamples at the largest size (default: --resamples)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--skip-bootstrap", action="store_true")
    p.add_argument("--skip-fit", action="store_true", help="time the bootstrap only (each child still fits, untimed)")
    args = p.parse_args(argv)
    sizes = [int(float(s)) for s in args.rows.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    ops = [op for op, skip in (("fit", args.skip_fit), ("bootstrap", args.skip_bootstrap)) if not skip]
    for op in ops:
        times, cpus = [], []
        for n in sizes:
            k = args.resamples if (n != max(sizes) or args.resamples_largest is None) else args.resamples_largest
            rs = [run(op, n, k) for _ in range(args.repeats)]
            t = float(np.median([r["seconds"] for r in rs]))
            c = float(np.median([r["cpu_seconds"] for r in rs]))
            times.append(t / k if op == "bootstrap" else t)
            cpus.append(c / k if op == "bootstrap" else c)
            label = f"bootstrap({k})" if op == "bootstrap" else "fit"
            print(f"{label:>15s} rows {n:>9,d}: {t:8.2f} s, CPU {c:8.2f} s (medians of {len(rs)}), load {os.getloadavg()[0]:.1f}, peak RSS {max(r['peak_mb'] for r in rs):7.1f} MB, "
                  f"added by the operation {max(r['added_mb'] for r in rs):7.1f} MB ({max(r['added_mb'] for r in rs) * 2**20 / n:.0f} B/row)",
                  flush=True)
        if len(sizes) > 1:
            slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
            what = "time per resample" if op == "bootstrap" else "time"
            cslope = np.polyfit(np.log(sizes), np.log(cpus), 1)[0]
            print(f"{op}: log-log slope of {what} on rows, {sizes[0]:,}..{sizes[-1]:,}: {slope:.3f} (wall), {cslope:.3f} (CPU)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
