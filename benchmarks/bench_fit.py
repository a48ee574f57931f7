"""Benchmark: scalefit.fit against the 4,500-start L-BFGS-B procedure (Hoffmann et al. 2022).

Usage
-----
    python benchmarks/bench_fit.py                 # speed on the replication data
    python benchmarks/bench_fit.py --robustness 50 # plus 50 synthetic data sets, full 4,500 starts each
    python benchmarks/bench_fit.py --skip-speed --grid-check  # the live version of a unit test (below)
    python benchmarks/bench_fit.py --before db19691  # also the engine at another revision, alternated
    python benchmarks/bench_fit.py --skip-speed --robustness 25 --first 0 --record-reference   # competitor, ~1 min CPU/set
    python benchmarks/bench_fit.py --skip-speed --check-reference  # scalefit against the recorded objectives (seconds)

Speed: the competitor's cost is estimated from a random sample of its starts
(at least 100) timed one by one, times 4,500 (``--full`` also runs every
start); scalefit's is the median of repeated full fits, alternated with
simple-scaling-laws' method (re-implemented in benchmarks/reference.py, as the
package is not installable here).  All run in this process on the same data,
with BLAS pinned to one thread; the load average is printed beside them.

Robustness: on each synthetic data set (benchmarks/reference.py:synthetic_dataset)
the competitor runs all 4,500 starts (analytic gradients, to make the run
affordable; finite differences only make it less precise) and scalefit's
objective must be no worse: f_scalefit <= f_reference * (1 + 1e-6).

Recorded robustness (--record-reference / --check-reference): the competitor's objective on each
synthetic set does not depend on scalefit, so it is recorded once in benchmarks/robustness_reference.csv
(header: command, commit, machine) and scalefit is checked against the file in seconds, with the same
test as --robustness.

Grid check (--grid-check): the live version of
tests/test_fitting.py::test_never_worse_than_grid_procedure.  For seeds 0, 1, 2
it runs the competitor (analytic gradients, BLAS pinned to one thread) from 400
random starts of the 4,500-point grid on synthetic_dataset(100 + seed, 80), and
checks scalefit against it with the test's assertion.  The test compares with
the objectives recorded from this run (GRID_CHECK_SEEDS / the printed values)
instead of running the ~12 s competitor on every test run; rerun this and
update the constants there if benchmarks/reference.py changes.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402

import scalefit  # noqa: E402

SHARED = Path(os.environ.get("SCALEFIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def replication_runs():
    path = SHARED / "chinchilla_epoch" / "svg_extracted_data.csv"
    if not path.exists():
        return None
    runs = scalefit.read_runs(path)
    # the replication drops the 5 runs with the highest loss
    keep = np.argsort(runs.loss)[: len(runs) - 5]
    mask = np.zeros(len(runs), bool)
    mask[keep] = True
    return runs.subset(mask)


def load_before(rev: str):
    """The scalefit package as of git revision ``rev``, imported as ``scalefit_before`` (a temporary copy).

    ``git archive rev scalefit`` is unpacked into a temporary folder and the package renamed, so the
    engine before a change runs in this process, alternated with the current one on the same data.
    """
    import importlib
    import subprocess
    import tarfile
    import tempfile

    root = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="scalefit_before_"))
    data = subprocess.run(["git", "archive", rev, "scalefit"], cwd=root, capture_output=True, check=True).stdout
    tar_path = tmp / "src.tar"
    tar_path.write_bytes(data)
    with tarfile.open(tar_path) as tar:
        tar.extractall(tmp, filter="data")
    (tmp / "scalefit").rename(tmp / "scalefit_before")
    sys.path.insert(0, str(tmp))
    return importlib.import_module("scalefit_before")


def load_reference_before(rev: str):
    """benchmarks/reference.py as of git revision ``rev``, imported as ``reference_before``."""
    import importlib.util
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "show", f"{rev}:benchmarks/reference.py"], cwd=root, capture_output=True,
                          check=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="reference_before_")) / "reference_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("reference_before", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


VARIANTS = ({}, {"space": "linear"}, {"loss": "mse"}, {"fixed": {"E": 1.8}}, {"tie": [["alpha", "beta"]]},
            {"bounds": {"alpha": (0.0, 0.3)}})


def compare_before(before, n_sets: int) -> tuple[int, int, int, float, int, int]:
    """The current engine against ``before`` (load_before) on synthetic sets x :data:`VARIANTS`.

    Set s is reference.synthetic_dataset(1000 + s, 80 + 40 (s mod 4)).  Returns (no worse, total,
    better, worst relative difference, identical seed grids, seed grids compared): the objective must
    be no worse than before's (relative 1e-9), and the variable-projection seeds are compared where
    both engines have ``seed_grid``.
    """
    import warnings

    from scalefit.fitting import _chinchilla as new_engine

    old_engine = getattr(getattr(before, "fitting"), "_chinchilla")
    no_worse = total = better = same_seeds = seeds_compared = 0
    worst = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(n_sets):
            N, D, L, _ = reference.synthetic_dataset(1000 + s, 80 + (s % 4) * 40)
            df = pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))
            for v in VARIANTS:
                a = before.fit(df, **v).objective
                res = scalefit.fit(df, **v)
                rel = (res.objective - a) / abs(a)
                total += 1
                no_worse += rel <= 1e-9
                better += rel < -1e-9
                worst = max(worst, rel)
                prob, red = new_engine.engine_problem(res.problem)
                w = res.problem.weights
                fixed = {j: float(red.c[j]) for j in range(5) if not np.any(red.T[j])}
                tied = bool(np.any(red.T[3]) and np.array_equal(red.T[3], red.T[4]))
                grids = [np.linspace(max(lo, 0.02), min(hi, 2.5), 16) if lo < min(hi, 2.5) else np.array([lo])
                         for lo, hi in (new_engine.engine_bounds(red, 3), new_engine.engine_bounds(red, 4))]
                with np.errstate(all="ignore"):
                    kw = dict(alpha_grid=grids[0], beta_grid=grids[1], fixed_theta=fixed, tied_ab=tied, n_keep=8)
                    t1, f1 = new_engine.seed_grid(prob, red, w, **kw)
                    t0, f0 = old_engine.seed_grid(prob, red, w, **kw)
                seeds_compared += 1
                same_seeds += bool(t1.shape == t0.shape and np.allclose(t1, t0, rtol=1e-12, atol=1e-12)
                                   and np.allclose(f1, f0, rtol=1e-12))
    return no_worse, total, better, worst, same_seeds, seeds_compared


def bench_speed(runs, n_sample: int, repeats: int, seed: int, full: bool = False, before=None,
                peer_before=None) -> dict:
    N, D, L = runs.n_params, runs.n_tokens, runs.loss
    logN, logD, logL = np.log(N), np.log(D), np.log(L)
    grid = reference.hoffmann_grid()
    idx = np.random.default_rng(seed).choice(len(grid), n_sample, replace=False)
    per_fd, per_an = [], []
    # the competitor runs at its best: BLAS pinned to one thread (scipy/scipy#23191: L-BFGS-B from
    # scipy 1.15 can run tens of times slower with OpenBLAS's default threads on a busy machine)
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=1)
    for i in idx:
        t = time.perf_counter()
        reference.fit_one(grid[i], logN, logD, logL, gradient="fd")
        per_fd.append(time.perf_counter() - t)
    for i in idx[: max(100, n_sample // 2)]:
        t = time.perf_counter()
        reference.fit_one(grid[i], logN, logD, logL, gradient="analytic")
        per_an.append(time.perf_counter() - t)
    full_run = None
    if full:  # every start of the recipe, run in full (not estimated from the sample)
        t = time.perf_counter()
        f_full, _ = reference.fit_reference(N, D, L, gradient="fd")
        full_run = (time.perf_counter() - t, f_full)
    # simple-scaling-laws' method (re-implemented, benchmarks/reference.py) and scalefit, alternated
    ssl = reference.SimpleScalingLaws(N, D, L)
    ssl.fit()
    scalefit.fit(runs)  # warm-up (imports, caches)
    old_runs = None
    if before is not None:  # the engine at another revision, on the same rows
        old_runs = before.read_runs(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)))
        before.fit(old_runs)
    ssl_old = None if peer_before is None else peer_before.SimpleScalingLaws(N, D, L)
    ours, theirs, olds, peer_olds = [], [], [], []
    res_old = None
    for _ in range(repeats):
        t = time.perf_counter()
        res = scalefit.fit(runs)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        ssl.fit()
        theirs.append(time.perf_counter() - t)
        if before is not None:
            t = time.perf_counter()
            res_old = before.fit(old_runs)
            olds.append(time.perf_counter() - t)
        if ssl_old is not None:
            t = time.perf_counter()
            ssl_old.fit()
            peer_olds.append(time.perf_counter() - t)
    limiter.restore_original_limits()
    full_fd = np.median(per_fd) * len(grid)
    full_an = np.median(per_an) * len(grid)
    return dict(
        per_start_fd=np.median(per_fd), per_start_analytic=np.median(per_an), full_fd=full_fd, full_analytic=full_an,
        scalefit=np.median(ours), scalefit_min=np.min(ours), objective=res.objective, params=res.params,
        ssl=np.median(theirs), ssl_min=np.min(theirs), full_run=full_run,
        before=np.median(olds) if olds else None, before_min=np.min(olds) if olds else None,
        before_objective=None if res_old is None else res_old.objective,
        peer_before=np.median(peer_olds) if peer_olds else None,
    )


def bench_robustness(n_sets: int, n_runs: int, first: int = 0) -> pd.DataFrame:
    rows = []
    for s in range(first, first + n_sets):
        N, D, L, truth = reference.synthetic_dataset(s, n_runs)
        t = time.perf_counter()
        f_ref, p_ref = reference.fit_reference(N, D, L, gradient="analytic")
        t_ref = time.perf_counter() - t
        runs = scalefit.read_runs(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)))
        t = time.perf_counter()
        res = scalefit.fit(runs)
        t_ours = time.perf_counter() - t
        rows.append(dict(seed=s, alpha_true=truth["alpha"], beta_true=truth["beta"], f_reference=f_ref, f_scalefit=res.objective,
                         rel_diff=(res.objective - f_ref) / f_ref, t_reference=t_ref, t_scalefit=t_ours,
                         no_worse=res.objective <= f_ref * (1 + 1e-6)))
        r = rows[-1]
        print(f"  set {s:3d}: alpha={r['alpha_true']:.2f} beta={r['beta_true']:.2f} ref={f_ref:.8g} scalefit={res.objective:.8g} "
              f"rel={r['rel_diff']:+.2e} {'ok' if r['no_worse'] else 'WORSE'} ({t_ref:.1f} s vs {t_ours*1e3:.0f} ms)", flush=True)
    return pd.DataFrame(rows)


ROBUSTNESS_REFERENCE = Path(__file__).resolve().parent / "robustness_reference.csv"


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record_reference(path: Path, n_sets: int, n_runs: int, first: int = 0) -> None:
    """Run the competitor's 4,500 starts on each synthetic set and append its best objective to ``path``.

    One row per set, written as soon as the set is done (so a long run can be split with --first, or
    resumed): seed, n_runs, f_reference (repr, all digits), the reference parameters and its CPU time.
    The header comment names the command, commit and machine.  The competitor does not depend on
    scalefit, so the file stays valid whatever scalefit's engine becomes (re-record it only if
    benchmarks/reference.py's recipe or synthetic_dataset changes).
    """
    from threadpoolctl import threadpool_limits

    new = not path.exists()
    with open(path, "a") as fh:
        if new:
            fh.write(f"# competitor objectives for the robustness check of benchmarks/bench_fit.py\n"
                     f"# command: python benchmarks/bench_fit.py {' '.join(sys.argv[1:])}\n"
                     f"# commit: {_commit()}; machine: {platform.platform()}, {os.cpu_count()} cpus, "
                     f"python {platform.python_version()}, numpy {np.__version__}; BLAS pinned to one thread\n"
                     f"# recipe: 4,500 L-BFGS-B starts (analytic gradients), reference.fit_reference; "
                     f"data: reference.synthetic_dataset(seed, n_runs)\n"
                     "seed,n_runs,f_reference,E,A,B,alpha,beta,cpu_seconds\n")
            fh.flush()
        for s in range(first, first + n_sets):
            N, D, L, _ = reference.synthetic_dataset(s, n_runs)
            t = time.process_time()
            with threadpool_limits(limits=1):
                f_ref, p = reference.fit_reference(N, D, L, gradient="analytic")
            cpu = time.process_time() - t
            fh.write(f"{s},{n_runs},{f_ref!r},{p['E']!r},{p['A']!r},{p['B']!r},{p['alpha']!r},{p['beta']!r},{cpu:.1f}\n")
            fh.flush()
            print(f"  set {s:3d}: reference {f_ref!r} ({cpu:.1f} s CPU)", flush=True)


def check_reference(path: Path, n_sets: int | None = None, first: int = 0) -> pd.DataFrame:
    """scalefit against the recorded competitor objectives: f_scalefit <= f_reference * (1 + 1e-6) on each set."""
    ref = pd.read_csv(path, comment="#").drop_duplicates("seed", keep="last").sort_values("seed")
    ref = ref[ref["seed"] >= first]
    if n_sets:
        ref = ref.head(n_sets)
    rows = []
    for s, n_runs, f_ref in zip(ref["seed"], ref["n_runs"], ref["f_reference"]):
        N, D, L, _ = reference.synthetic_dataset(int(s), int(n_runs))
        t = time.perf_counter()
        res = scalefit.fit(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)))
        t_ours = time.perf_counter() - t
        ok = res.objective <= f_ref * (1 + 1e-6)
        rows.append(dict(seed=int(s), f_reference=f_ref, f_scalefit=res.objective, rel_diff=(res.objective - f_ref) / f_ref,
                         t_scalefit=t_ours, no_worse=ok))
        print(f"  set {int(s):3d}: ref={f_ref:.10g} scalefit={res.objective:.10g} rel={rows[-1]['rel_diff']:+.2e} "
              f"{'ok' if ok else 'WORSE'} ({t_ours*1e3:.1f} ms)", flush=True)
    return pd.DataFrame(rows)


GRID_CHECK_SEEDS = (0, 1, 2)


def grid_check(seeds=GRID_CHECK_SEEDS, n_starts: int = 400) -> bool:
    """The live check of tests/test_fitting.py::test_never_worse_than_grid_procedure; True if all pass."""
    from threadpoolctl import threadpool_limits

    ok = True
    for seed in seeds:
        N, D, L, _ = reference.synthetic_dataset(100 + seed, 80)
        grid = reference.hoffmann_grid()
        starts = grid[np.random.default_rng(seed).choice(len(grid), n_starts, replace=False)]
        with threadpool_limits(limits=1):
            f_ref, _ = reference.fit_reference(N, D, L, starts=starts, gradient="analytic")
        res = scalefit.fit(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)))
        passed = res.objective <= f_ref * (1 + 1e-6)
        ok &= passed
        print(f"  seed {seed}: reference ({n_starts} starts) {f_ref!r}, scalefit {res.objective!r} "
              f"{'ok' if passed else 'WORSE'}", flush=True)
    return ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sample", type=int, default=100, help="competitor starts timed (>= 100)")
    p.add_argument("--repeats", type=int, default=21, help="scalefit fits timed")
    p.add_argument("--robustness", type=int, default=0, help="synthetic data sets for the robustness check")
    p.add_argument("--n-runs", type=int, default=120, help="runs per synthetic data set")
    p.add_argument("--first", type=int, default=0, help="seed of the first synthetic data set (to split the run)")
    p.add_argument("--skip-speed", action="store_true", help="only the robustness check")
    p.add_argument("--grid-check", action="store_true",
                   help="the live version of test_never_worse_than_grid_procedure (400 grid starts, 3 data sets)")
    p.add_argument("--full", action="store_true", help="also run all 4,500 starts of the recipe in full (minutes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--before", metavar="REV", help="also time the package at git revision REV (e.g. db19691), "
                   "alternated with the current one and the peer, in this process")
    p.add_argument("--peer-before", metavar="REV", help="also time reference.py's peer method as of revision REV")
    p.add_argument("--compare-sets", type=int, default=0, metavar="N",
                   help="with --before: objectives and seeds of both engines on N synthetic sets x 6 variants")
    p.add_argument("--record-reference", type=Path, metavar="CSV", nargs="?", const=ROBUSTNESS_REFERENCE,
                   help="only run the competitor on --robustness sets (from --first) and append its objectives to CSV "
                        "(default benchmarks/robustness_reference.csv); about 50 s CPU per set")
    p.add_argument("--check-reference", type=Path, metavar="CSV", nargs="?", const=ROBUSTNESS_REFERENCE,
                   help="check scalefit against the objectives recorded in CSV (seconds); --robustness N limits the sets")
    args = p.parse_args(argv)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}, numpy {np.__version__}")
    load = f"{os.getloadavg()[0]:.2f}"
    status = 0
    runs = None if args.skip_speed else replication_runs()
    if args.skip_speed:
        pass
    elif runs is None:
        print("replication data absent: skipping the speed benchmark on real data")
    else:
        before = load_before(args.before) if args.before else None
        peer_before = load_reference_before(args.peer_before) if args.peer_before else None
        r = bench_speed(runs, max(100, args.sample), args.repeats, args.seed, args.full, before, peer_before)
        print(f"Speed on the replication data (240 runs), BLAS pinned to one thread; load average before/after: "
              f"{load} / {os.getloadavg()[0]:.2f}")
        print(f"  4,500-start L-BFGS-B, finite-difference gradients: {r['per_start_fd']*1e3:.1f} ms/start (median of {max(100, args.sample)}) "
              f"-> {r['full_fd']:.1f} s estimated for all starts")
        print(f"  same with analytic gradients:                       {r['per_start_analytic']*1e3:.1f} ms/start -> {r['full_analytic']:.1f} s")
        print(f"  scalefit.fit: median {r['scalefit']*1e3:.1f} ms (min {r['scalefit_min']*1e3:.1f} ms) over {args.repeats} fits; objective {r['objective']:.10g}")
        print(f"  ratio (FD procedure / scalefit):       {r['full_fd']/r['scalefit']:.0f}x")
        print(f"  ratio (analytic procedure / scalefit): {r['full_analytic']/r['scalefit']:.0f}x")
        if r["full_run"] is not None:
            print(f"  all 4,500 starts run in full (finite differences): {r['full_run'][0]:.1f} s, objective "
                  f"{r['full_run'][1]:.10g}; ratio {r['full_run'][0]/r['scalefit']:.0f}x")
        print(f"  simple-scaling-laws' method (re-implemented in benchmarks/reference.py; least squares on raw loss): "
              f"median {r['ssl']*1e3:.1f} ms (min {r['ssl_min']*1e3:.1f} ms) over {args.repeats} fits, alternated with "
              f"scalefit's; ratio {r['ssl']/r['scalefit']:.1f}x (of minima {r['ssl_min']/r['scalefit_min']:.1f}x)")
        if r["before"] is not None:
            print(f"  scalefit at {args.before} (same process, alternated): median {r['before']*1e3:.1f} ms "
                  f"(min {r['before_min']*1e3:.1f} ms), objective {r['before_objective']:.10g}; "
                  f"speed-up {r['before']/r['scalefit']:.2f}x (of minima {r['before_min']/r['scalefit_min']:.2f}x)")
        if r["peer_before"] is not None:
            print(f"  the peer's method as re-implemented at {args.peer_before}: median {r['peer_before']*1e3:.1f} ms "
                  f"(now {r['ssl']*1e3:.1f} ms: x{r['ssl']/r['peer_before']:.2f})")
        print(f"  load average after the timed fits: {os.getloadavg()[0]:.2f}")
    if args.compare_sets and args.before:
        load0 = os.getloadavg()[0]
        nw, tot, bet, worst, same, cmpd = compare_before(load_before(args.before), args.compare_sets)
        print(f"Engine at {args.before} vs now on {args.compare_sets} synthetic sets x {len(VARIANTS)} variants "
              f"(load {load0:.2f}): no worse on {nw}/{tot} (relative 1e-9), better on {bet}, worst relative "
              f"difference {worst:+.2e}; identical variable-projection seeds on {same}/{cmpd}")
        status |= 0 if nw == tot else 1
    if args.grid_check:
        print("Grid check (tests/test_fitting.py::test_never_worse_than_grid_procedure, live):")
        status |= 0 if grid_check() else 1
    if args.record_reference is not None:
        print(f"Recording the competitor's objectives on {args.robustness} sets from seed {args.first} "
              f"to {args.record_reference}:")
        record_reference(args.record_reference, args.robustness, args.n_runs, args.first)
        return status
    if args.check_reference is not None:
        df = check_reference(args.check_reference, args.robustness or None, args.first)
        worse = int((~df["no_worse"]).sum())
        print(f"Recorded robustness check ({args.check_reference.name}): scalefit no worse than the 4,500-start best on "
              f"{len(df) - worse}/{len(df)} sets; median rel. difference {df['rel_diff'].median():+.2e}, "
              f"max {df['rel_diff'].max():+.2e}; median scalefit time {df['t_scalefit'].median()*1e3:.1f} ms")
        return 1 if worse or status else 0
    if args.robustness:
        print(f"Robustness on {args.robustness} synthetic data sets ({args.n_runs} runs each), all 4,500 starts:")
        df = bench_robustness(args.robustness, args.n_runs, args.first)
        worse = int((~df["no_worse"]).sum())
        print(f"  scalefit no worse than the 4,500-start best on {len(df) - worse}/{len(df)} sets; "
              f"median rel. difference {df['rel_diff'].median():+.2e}, min {df['rel_diff'].min():+.2e}, max {df['rel_diff'].max():+.2e}")
        print(f"  median time: reference {df['t_reference'].median():.1f} s, scalefit {df['t_scalefit'].median()*1e3:.1f} ms")
        return 1 if worse or status else 0
    return status


if __name__ == "__main__":
    sys.exit(main())
