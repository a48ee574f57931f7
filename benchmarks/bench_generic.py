"""Benchmark: a user-defined law on the generic engine against the built-in Chinchilla fit.

Usage
-----
    python benchmarks/bench_generic.py                  # 25 fits of each, interleaved
    python benchmarks/bench_generic.py --repeats 50 --declared
    python benchmarks/bench_generic.py --objectives     # the objectives tests/test_generic.py compares with
    python benchmarks/bench_generic.py --bootstrap 40   # a bootstrap of the user law (n_jobs=1)
    python benchmarks/bench_generic.py --asymmetric-check 300  # asymmetric Huber vs L-BFGS-B grid starts
    python benchmarks/bench_generic.py --sweep          # the engine's seeds polished and grid budget

``--asymmetric-check K`` fits the built-in Chinchilla law with
``loss="huber-asymmetric"`` (over-predictions x10, delta 1e-3, log space) and
runs L-BFGS-B (finite-difference gradients) from K random starts of the
4,500-point initialisation grid of Hoffmann et al. / Besiroglu et al. on the
same objective, in the log-sum-exp form, and prints both optima.

``--sweep`` runs the ``--objectives`` cases with each number of polished seeds
(``N_KEEP``) and grid budget (``GRID_BUDGET``) and counts, per setting, the
cases whose objective is worse than the best any setting reached by more than
1e-9 relative, with the total time.

``--objectives`` prints the objective of every case tests/test_generic.py holds
the engine to; run in a checkout of commit cb76bf3 (the engine before variable
projection, with this file copied in) it gives the recorded reference values.

The user law is the Chinchilla law written by hand, as a user would:
``E + A/N**alpha + B/D**beta`` with the built-in's parameter specs (E, A, B on a
log scale, their start grids), so the generic engine must find by itself that
E, A and B enter linearly (``--declared`` marks them ``linear=True`` instead).
Both fits run in this process on the 240 rows of the Chinchilla replication
(Besiroglu et al. 2024: the 245 rows of epoch-research/analyzing-chinchilla @
9225883 minus the 5 highest losses), BLAS pinned to one thread on both sides
(threadpoolctl), alternating built-in and user fits so that load on a shared
machine hits both alike.  Reported: median and quartiles of the wall time per
fit, the ratio of medians, both objectives, and the load average before and
after.
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

import scalefit
from scalefit.laws import Law, Param, chinchilla_params

SHARED = Path(os.environ.get("SCALEFIT_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def user_chinchilla(n_params, n_tokens, E, A, B, alpha, beta):
    """The Chinchilla law as a user writes it (Hoffmann et al. 2022, eq. 2)."""
    return E + A / n_params**alpha + B / n_tokens**beta


def user_law(declared: bool) -> Law:
    params = chinchilla_params()
    if declared:
        params = [Param(p.name, p.value, min=p.min, max=p.max, log=p.log, grid=p.grid,
                        linear=True if p.name in ("E", "A", "B") else None) for p in params]
    return Law("user-chinchilla", user_chinchilla, params)


def objectives(path: Path, quiet: bool = False) -> dict:
    """Objective of each case of tests/test_generic.py (replication, synthetic sets, tie, fixed value)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pandas as pd
    import reference

    law = user_law(False)
    runs = scalefit.read_runs(path, drop_highest=5)
    cases = [(("user", "huber", "log"), runs, law, {}), (("user", "mse", "log"), runs, law, dict(loss="mse")),
             (("user", "mse", "linear"), runs, law, dict(loss="mse", space="linear"))]
    for name, loss, space in (("kaplan-nd", "huber", "log"), ("kaplan-nd", "mse", "linear"),
                              ("kaplan-n-e", "huber", "log"), ("kaplan-c-e", "huber", "log"),
                              ("kaplan-d-e", "mse", "log"), ("kaplan-n", "huber", "log")):
        cases.append(((name, loss, space), runs, name, dict(loss=loss, space=space)))

    def synthetic(seed: int) -> pd.DataFrame:
        N, D, L, _ = reference.synthetic_dataset(100 + seed, 80)
        return pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))

    cases += [((f"synthetic {s}",), synthetic(s), law, {}) for s in range(10)]
    cases += [(("synthetic 0 tied",), synthetic(0), law, dict(tie=[("alpha", "beta")])),
              (("synthetic 1 fixed E",), synthetic(1), law, dict(fixed={"E": 1.8}))]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, data, lw, kw in cases:
            t = time.perf_counter()
            res = scalefit.fit(data, lw, **kw)
            out[" ".join(key)] = (res.objective, time.perf_counter() - t)
            if not quiet:
                print(f"{' '.join(key):28s} {res.objective!r:24s} {time.perf_counter() - t:7.2f} s  success={res.success}")
    return out


def sweep(path: Path) -> None:
    """Misses and time of the --objectives cases for each number of polished seeds and grid budget."""
    from threadpoolctl import threadpool_limits

    from scalefit.fitting import _generic

    settings = [(k, b) for b in (64, 256, 1024) for k in (2, 4, 6, 8)]
    runs = {}
    with threadpool_limits(limits=1):
        objectives(path, quiet=True)  # warm-up: imports
        for k, b in settings:
            _generic.N_KEEP, _generic.GRID_BUDGET = k, b
            runs[(k, b)] = objectives(path, quiet=True)
    best = {c: min(r[c][0] for r in runs.values()) for c in runs[settings[0]]}
    load = os.getloadavg()
    print(f"{len(best)} cases; load average after {load[0]:.2f}")
    print(f"{'N_KEEP':>6s} {'GRID_BUDGET':>11s} {'misses':>6s} {'total s':>8s}")
    for (k, b), r in runs.items():
        misses = sum(r[c][0] > best[c] * (1 + 1e-9) for c in best)
        print(f"{k:6d} {b:11d} {misses:6d} {sum(t for _, t in r.values()):8.2f}")


def bootstrap(path: Path, n: int) -> None:
    """Time ``fit(...).bootstrap(n, n_jobs=1)`` of the user law (each resample refitted by the generic engine)."""
    from threadpoolctl import threadpool_limits

    runs = scalefit.read_runs(path, drop_highest=5)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.fit(runs, user_law(False))
        t = time.perf_counter()
        boot = res.bootstrap(n, seed=0, n_jobs=1, progress=False)
        dt = time.perf_counter() - t
    load = os.getloadavg()
    print(f"bootstrap of the user law, {n} resamples, n_jobs=1: {dt:.2f} s ({dt / n * 1e3:.0f} ms per resample); "
          f"converged {boot.converged.mean():.0%}; load average after {load[0]:.2f}")
    print("standard deviations:", {k: f"{v:.4g}" for k, v in boot.samples.std().items()})


def asymmetric_check(path: Path, k: int) -> None:
    """The asymmetric Huber optimum against L-BFGS-B from ``k`` starts of the 4,500-point grid."""
    import itertools

    from scipy.optimize import minimize
    from scipy.special import logsumexp

    runs = scalefit.read_runs(path, drop_highest=5)
    x, y, L = np.log(runs.n_params), np.log(runs.n_tokens), runs.loss

    def objective(theta: np.ndarray) -> float:
        e, a, b, al, be = theta
        s = logsumexp(np.stack([a - al * x, b - be * y, np.full_like(x, e)]), axis=0)
        r = s - np.log(L)
        d = np.clip(r, -1e-3, 1e-3)
        v = d * (r - 0.5 * d)
        return float(np.sum(np.where(r > 0, 10.0 * v, v)))

    grid = np.array(list(itertools.product([-1, -.5, 0, .5, 1], [0, 5, 10, 15, 20, 25], [0, 5, 10, 15, 20, 25],
                                           [0, .5, 1, 1.5, 2], [0, .5, 1, 1.5, 2])))
    starts = grid[np.random.default_rng(0).choice(len(grid), k, replace=False)]
    t = time.perf_counter()
    best = min(minimize(objective, s0, method="L-BFGS-B").fun for s0 in starts)
    dt = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.fit(runs, "chinchilla", loss="huber-asymmetric")
    r = res.residuals
    print(f"L-BFGS-B best of {k} grid starts: {best!r} ({dt:.0f} s); scalefit: {res.objective!r} "
          f"(relative difference {(res.objective - best) / best:+.2e})")
    print("scalefit parameters:", {p: f"{v:.6g}" for p, v in res.params.items()},
          f"law above {int(np.sum(r > 0))} runs, below {int(np.sum(r < 0))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=25, help="fits of each (default 25)")
    ap.add_argument("--declared", action="store_true", help="declare E, A, B linear=True instead of detecting it")
    ap.add_argument("--objectives", action="store_true", help="print the objectives of the test cases instead")
    ap.add_argument("--sweep", action="store_true", help="misses and time per seeds polished and grid budget instead")
    ap.add_argument("--bootstrap", type=int, default=0, metavar="N", help="time a bootstrap of N resamples instead")
    ap.add_argument("--asymmetric-check", type=int, default=0, metavar="K",
                    help="compare the asymmetric Huber fit with L-BFGS-B from K grid starts instead")
    args = ap.parse_args(argv)
    path = SHARED / "chinchilla_epoch" / "svg_extracted_data.csv"
    if not path.exists():
        print(f"replication data not found at {path}; set SCALEFIT_SHARED_DATA", file=sys.stderr)
        return 2
    if args.objectives:
        objectives(path)
        return 0
    if args.sweep:
        sweep(path)
        return 0
    if args.bootstrap:
        bootstrap(path, args.bootstrap)
        return 0
    if args.asymmetric_check:
        asymmetric_check(path, args.asymmetric_check)
        return 0
    from threadpoolctl import threadpool_limits

    runs = scalefit.read_runs(path, drop_highest=5)
    law = user_law(args.declared)
    load0 = os.getloadavg()
    times: dict[str, list[float]] = {"built-in": [], "user law": []}
    results = {}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, lw in (("built-in", "chinchilla"), ("user law", law)):  # warm-up: imports, caches
            scalefit.fit(runs, lw)
        for _ in range(args.repeats):
            for name, lw in (("built-in", "chinchilla"), ("user law", law)):
                t = time.perf_counter()
                results[name] = scalefit.fit(runs, lw)
                times[name].append(time.perf_counter() - t)
    load1 = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}; BLAS pinned to 1 thread")
    print(f"data: {path.name}, {len(runs)} runs; {args.repeats} fits of each, interleaved; linear parameters "
          + ("declared" if args.declared else "detected"))
    print(f"load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} "
          f"{load1[2]:.2f}")
    print(f"{'fit':10s} {'median ms':>10s} {'q25':>8s} {'q75':>8s}  {'objective':>20s}  n_starts")
    for name, ts in times.items():
        q25, med, q75 = np.percentile(np.array(ts) * 1e3, [25, 50, 75])
        r = results[name]
        print(f"{name:10s} {med:10.1f} {q25:8.1f} {q75:8.1f}  {r.objective:20.13g}  {r.n_starts}")
    ratio = np.median(times["user law"]) / np.median(times["built-in"])
    rel = (results["user law"].objective - results["built-in"].objective) / results["built-in"].objective
    print(f"ratio of medians (user law / built-in): {ratio:.2f}x; objective difference {rel:+.1e} relative")
    print("parameters:", {k: f"{v:.6g}" for k, v in results["user law"].params.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
