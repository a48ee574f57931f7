"""Time and peak memory of each operation at 10^3 ... 10^6 rows, and the log-log slope of time on rows.

Run from the repository root::

    python benchmarks/bench_scale.py                          # 1e3, 1e4, 1e5, 1e6 rows, every operation
    python benchmarks/bench_scale.py --rows 1e3,1e4 --ops fit,envelope --repeats 3
    python benchmarks/bench_scale.py --cli --repeats 5 [--jobs 1] [--code /tmp/old]   # --help and the report's speed

Data (synthetic, from the Chinchilla law of Hoffmann et al. 2022, Approach 3, eq. 10, through
``scalefit.datasets.data.make_synthetic``; not measurements of any model):

- training curves: ``rows / 100`` runs of 100 checkpoints each, model sizes spaced evenly in
  log N from 20M to 2B parameters, horizons of 10, 40 and 160 tokens per parameter in turn,
  loss = L(N, D_seen) plus a cosine-schedule excess of 0.04 that vanishes at the end of the run,
  times lognormal noise (sigma 0.004), as ``make_synthetic.make_curves``;
- IsoFLOP sweeps: ten budgets from 1e18 to 3e22 FLOPs (1, 3, 10, ...), ``rows / 10`` model sizes
  per budget spaced evenly in log N one decade either side of N*(C), loss = L(N, C / 6N) times
  lognormal noise (sigma 0.007).

Operations, each in a fresh Python process (so that one's peak memory never hides another's):

- ``read_csv``: ``scalefit.read_runs(path, run_id="run")`` of the curves written as CSV;
- ``read_frame``: ``scalefit.read_runs(frame, run_id="run")`` of the same table as a DataFrame;
- ``fit``: ``scalefit.fit(curves)`` (every checkpoint is a row of the fit);
- ``bootstrap``: ``fit.bootstrap(200, seed=0, n_jobs=1)`` of that fit (resampling whole curves);
- ``isoflop``: ``scalefit.isoflop(sweep, budget="budget", bootstrap=200, n_jobs=1)``;
- ``envelope``: ``scalefit.envelope(curves, bootstrap=200)``;
- ``report``: ``scalefit.report.build_report(curves, bootstrap=200, n_jobs=1)`` written to HTML
  (fit and IsoFLOP on each run's final checkpoint, the envelope on every checkpoint, all figures).

BLAS is pinned to one thread (threadpoolctl) in every process.  Time is the wall time of the
operation alone, and beside it the CPU time of the process over the operation (less disturbed when
other jobs share the machine) (``time.perf_counter``; reading the prepared input is not counted, except in the
read operations, which are the reading).  Memory is the process's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``: interpreter, imports, the input and the
operation; the column ``base`` is the peak before the operation starts, so ``peak - base`` is
what the operation added; a worker process the operation started counts with its own peak, if larger).  A process gets ``--timeout`` seconds and an address-space limit of
``--limit-gb`` (so a runaway operation fails instead of swapping the shared machine); a failure is
recorded as such.  The slope is the least-squares slope of log(time) on log(rows) over the sizes
from 10^4 to 10^6 that finished.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OPS = ("read_csv", "read_frame", "fit", "bootstrap", "isoflop", "envelope", "report")
CHECKPOINTS_PER_RUN = 100
BUDGETS_PER_SWEEP = 10
RESAMPLES = 200


# ---------------------------------------------------------------- the data
def make_curves(rows: int, seed: int = 0):
    """``rows`` checkpoints of realistic training curves (see the module docstring)."""
    import pandas as pd

    from scalefit.datasets.data.make_synthetic import CURVE_SIGMA, SCHEDULE_EXCESS, TOKENS_PER_PARAM, chinchilla_loss

    rng = np.random.default_rng(seed)
    n_runs = max(rows // CHECKPOINTS_PER_RUN, 1)
    sizes = np.round(np.geomspace(2e7, 2e9, n_runs))
    horizon = np.array(TOKENS_PER_PARAM, float)[np.arange(n_runs) % len(TOKENS_PER_PARAM)] * sizes
    progress = np.arange(1, CHECKPOINTS_PER_RUN + 1) / CHECKPOINTS_PER_RUN
    n = np.repeat(sizes, CHECKPOINTS_PER_RUN)
    d = np.round((horizon[:, None] * progress[None, :]).ravel())
    excess = np.tile(SCHEDULE_EXCESS * (1.0 + np.cos(np.pi * progress)) / 2.0, n_runs)
    loss = (chinchilla_loss(n, d) + excess) * np.exp(rng.normal(0.0, CURVE_SIGMA, n.size))
    return pd.DataFrame({"run": np.repeat(np.arange(n_runs), CHECKPOINTS_PER_RUN), "params": n, "tokens": d,
                         "loss": np.round(loss, 5)})


def make_sweep(rows: int, seed: int = 0):
    """``rows`` IsoFLOP runs: ten budgets, ``rows / 10`` sizes each (see the module docstring)."""
    import pandas as pd

    from scalefit.datasets.data.make_synthetic import ISOFLOP_SIGMA, K, chinchilla_loss, compute_optimal_params

    rng = np.random.default_rng(seed + 1)
    per = max(rows // BUDGETS_PER_SWEEP, 3)
    budgets = np.array([m * 10.0**e for e in range(18, 23) for m in (1, 3)])[:BUDGETS_PER_SWEEP]
    frames = []
    for c in budgets:
        n = np.round(compute_optimal_params(c) * np.logspace(-1.0, 1.0, per))
        d = c / (K * n)
        loss = chinchilla_loss(n, d) * np.exp(rng.normal(0.0, ISOFLOP_SIGMA, n.size))
        frames.append(pd.DataFrame({"budget": c, "params": n, "tokens": d, "flops": c, "loss": loss}))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------ one operation
def run_one(op: str, folder: Path) -> dict:
    """Do ``op`` on the data in ``folder``; return its time and memory (called in a fresh process)."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    import scalefit

    with threadpool_limits(limits=1):
        curves_csv = folder / "curves.csv"
        needs = {"read_csv": None, "isoflop": "sweep", "read_frame": "frame"}.get(op, "curves")
        given = None
        if needs == "frame":
            given = pd.read_pickle(folder / "curves.pkl")
        elif needs == "curves":
            given = scalefit.read_runs(pd.read_pickle(folder / "curves.pkl"), run_id="run")
        elif needs == "sweep":
            given = scalefit.read_runs(pd.read_pickle(folder / "sweep.pkl"))
        fitted = scalefit.fit(given) if op == "bootstrap" else None
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        c0 = time.process_time()
        t0 = time.perf_counter()
        if op == "read_csv":
            out: object = scalefit.read_runs(curves_csv, run_id="run")
        elif op == "read_frame":
            out = scalefit.read_runs(given, run_id="run")
        elif op == "fit":
            out = scalefit.fit(given)
        elif op == "bootstrap":
            assert fitted is not None
            out = fitted.bootstrap(RESAMPLES, seed=0, n_jobs=1, progress=False)
        elif op == "isoflop":
            out = scalefit.isoflop(given, budget="budget", bootstrap=RESAMPLES, seed=0, n_jobs=1)
        elif op == "envelope":
            out = scalefit.envelope(given, bootstrap=RESAMPLES, seed=0)
        elif op == "report":
            from scalefit.report import build_report

            rep = build_report(given, bootstrap=RESAMPLES, n_jobs=1, progress=False)
            out = rep.write(folder / "report.html", overwrite=True)
        else:
            raise SystemExit(f"unknown operation {op!r}")
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # worker processes, if any were started
    return {"seconds": seconds, "cpu": cpu, "peak_mb": max(peak, children) / 1024.0, "base_mb": base / 1024.0}


def _child(op: str, folder: str, limit_gb: float) -> None:
    limit = int(limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings

    warnings.simplefilter("ignore")  # the synthetic data warn (outliers, extrapolation); not what is measured
    print(json.dumps(run_one(op, Path(folder))))


def measure(op: str, folder: Path, *, timeout: float, limit_gb: float) -> dict:
    """Run ``op`` in a fresh process; its result, or why it failed."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--child", op, str(folder), "--limit-gb", str(limit_gb)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {"error": f"exit {done.returncode}: {last[:160]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------ command-line speed
_WORK = ("import sys, time, resource\n"
         "t = time.perf_counter()\n"
         "from scalefit.cli import main\n"
         "try:\n"
         "    rc = main(sys.argv[1:])\n"
         "except SystemExit as exc:  # --help exits from argparse\n"
         "    rc = exc.code\n"
         "wall = time.perf_counter() - t\n"
         "ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]\n"
         "print('WORK', wall, sum(r.ru_utime + r.ru_stime for r in ru), rc, file=sys.stderr)\n")


def cli_speed(repeats: int, code: str | None, jobs: str) -> None:
    """Medians over ``repeats`` fresh processes: ``scalefit --help`` and ``scalefit report synthetic:isoflop``.

    "work" is the wall time from before ``import scalefit.cli`` to the end of ``main()`` (no interpreter
    start-up); "command" is the wall time of the whole process, as a user waits for it; "cpu" is the
    user + system time of the process and of its worker processes (less disturbed by other load).
    ``code`` is a folder holding another ``scalefit`` package to time instead (e.g. an older commit:
    ``git archive <commit> scalefit | tar -x -C /tmp/old``), run the same way in the same session.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if code:
        env["PYTHONPATH"] = code
    with tempfile.TemporaryDirectory(prefix="bench_scale_cli_") as tmp:
        cases = {"--help": ["--help"],
                 f"report --jobs {jobs}": ["report", "synthetic:isoflop", "--out", f"{tmp}/r.html", "--force", "--jobs", jobs]}
        for name, argv in cases.items():
            rows = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                # cwd: a folder without a scalefit package, so that `-c` imports the one PYTHONPATH names
                done = subprocess.run([sys.executable, "-c", _WORK, *argv], capture_output=True, text=True, env=env, cwd=tmp)
                command = time.perf_counter() - t0
                line = [ln for ln in done.stderr.splitlines() if ln.startswith("WORK ")]
                if not line:
                    raise SystemExit(f"{name} failed: {done.stderr[-500:]}")
                _, work, cpu, _rc = line[-1].split()
                rows.append((float(work), command, float(cpu), os.getloadavg()[0]))
            med = np.median(np.array(rows), axis=0)
            print(f"{name:18s} work {med[0]:.3f} s  command {med[1]:.3f} s  cpu {med[2]:.3f} s  "
                  f"(median of {repeats}; load {min(r[3] for r in rows):.2f}-{max(r[3] for r in rows):.2f})"
                  f"{'  code ' + code if code else ''}", flush=True)


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) on log(rows)."""
    if len(points) < 2:
        return float("nan")
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", default="1e3,1e4,1e5,1e6", help="Row counts, comma-separated (default 1e3,1e4,1e5,1e6).")
    p.add_argument("--ops", default=",".join(OPS), help=f"Operations (default all: {','.join(OPS)}).")
    p.add_argument("--repeats", type=int, default=1, help="Fresh processes per (operation, size); the median is kept.")
    p.add_argument("--timeout", type=float, default=600.0, help="Seconds allowed per process (default 600).")
    p.add_argument("--limit-gb", type=float, default=8.0, help="Address-space limit per process, GiB (default 8).")
    p.add_argument("--json", default=None, help="Also write the results here.")
    p.add_argument("--cli", action="store_true", help="Time `scalefit --help` and `scalefit report synthetic:isoflop` instead.")
    p.add_argument("--code", default=None, help="With --cli: a folder holding another scalefit package to time the same way.")
    p.add_argument("--jobs", default="-1", help="With --cli: the report's --jobs (default -1).")
    p.add_argument("--child", nargs=2, metavar=("OP", "FOLDER"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.limit_gb)
        return 0
    if args.cli:
        print(f"# load average {os.getloadavg()}; python {sys.version.split()[0]}", flush=True)
        cli_speed(args.repeats, args.code, args.jobs)
        return 0
    sizes = [int(float(v)) for v in args.rows.split(",")]
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    results: dict[str, dict[int, dict]] = {op: {} for op in ops}
    print(f"# load average {os.getloadavg()}; python {sys.version.split()[0]}; numpy {np.__version__}", flush=True)
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
            folder = Path(tmp)
            curves = make_curves(rows)
            curves.to_pickle(folder / "curves.pkl")
            curves.to_csv(folder / "curves.csv", index=False)
            make_sweep(rows).to_pickle(folder / "sweep.pkl")
            del curves
            for op in ops:
                tries = [measure(op, folder, timeout=args.timeout, limit_gb=args.limit_gb) for _ in range(args.repeats)]
                good = [t for t in tries if "error" not in t]
                if good:
                    res = {k: float(np.median([t[k] for t in good])) for k in ("seconds", "cpu", "peak_mb", "base_mb")}
                else:
                    res = tries[0]
                res["load"] = os.getloadavg()[0]
                results[op][rows] = res
                shown = (f"{res['seconds']:9.3f} s (cpu {res['cpu']:8.3f} s)  peak {res['peak_mb']:7.0f} MB  (base {res['base_mb']:5.0f} MB)"
                         if "error" not in res else res["error"])
                print(f"{op:10s} {rows:>9,d} rows  {shown}  load {res['load']:.2f}", flush=True)
    print("\n| operation | " + " | ".join(f"{r:,} rows: s / cpu s / peak MB" for r in sizes) + " | slope 1e4-1e6 (wall, cpu) |")
    print("|---|" + "---|" * len(sizes) + "---|")
    for op in ops:
        cells = []
        for r in sizes:
            res = results[op].get(r, {})
            cells.append(f"{res['seconds']:.3g} / {res['cpu']:.3g} / {res['peak_mb']:.0f}" if "seconds" in res
                         else res.get("error", "-"))
        done = [r for r in sizes if 1e4 <= r <= 1e6 and "seconds" in results[op].get(r, {})]
        s_wall = slope([(r, results[op][r]["seconds"]) for r in done])
        s_cpu = slope([(r, results[op][r]["cpu"]) for r in done])
        shown = "-" if math.isnan(s_wall) else f"{s_wall:.2f}, {s_cpu:.2f}"
        print(f"| {op} | " + " | ".join(cells) + f" | {shown} |")
    if args.json:
        Path(args.json).write_text(json.dumps({op: {str(k): v for k, v in d.items()} for op, d in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
