"""Benchmark: the bootstrap of the Chinchilla fit on the replication data (240 runs).

Usage
-----
    python benchmarks/bench_bootstrap.py [--repeats 3] [--validate 200]

In this process, on the same data, with BLAS pinned to one thread (threadpoolctl):

* scalefit: ``fit.bootstrap(n)`` for n = 1,000 and 4,000 with ``n_jobs=1`` and with the
  default ``n_jobs=None`` (workers chosen from the amount of work); each resample is a weight
  vector over the runs, all refitted as one batched Newton problem warm-started from the full
  fit's basins (scalefit/fitting/bootstrap.py);
* simple-scaling-laws' bootstrap, re-implemented (benchmarks/reference.py: the package is not
  installable here): 1,000 wild-bootstrap draws, each a least-squares refit on raw loss warm-started
  from its point fit, run in full;
* ``--validate M``: the first M resamples refitted one by one with the full search of
  ``scalefit.fit`` (variable-projection seeds, every basin); counts resamples where the full
  search finds a lower objective than the batched bootstrap (by more than 1e-9 relative);
* ``--before COMMIT``: the bootstrap module of an earlier commit (``git archive COMMIT scalefit``
  into a temporary package ``scalefit_before``, its engine and kernel included) timed against
  this tree's on the same fit, alternated, 4,000 resamples with ``n_jobs=1``: wall and CPU
  medians, and the largest change of the standard errors and objectives.

Medians of ``--repeats`` runs; the load average is printed beside the timings.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402
from bench_fit import replication_runs  # noqa: E402

# standard errors of the 4,000-resample bootstrap before issue 12's batched rewrite (commit cb76bf3,
# benchmarks/RESULTS.md "Bootstrap"): the new engine must stay within 3% of them
BEFORE = dict(E=0.02581, A=122.2, B=1329.0, alpha=0.01528, beta=0.02052, a=0.0197)


def validate(fit, m: int, seed: int = 0) -> tuple[int, float]:
    """Full search on the first m resamples; (number where it beats the batched refit, max relative gain)."""
    from scalefit.fitting import _chinchilla, bootstrap as boot_mod

    b = fit.bootstrap(m, seed=seed, n_jobs=1, progress=False)
    n = len(fit.runs)
    W = boot_mod._resample_weights(np.arange(n), n, seed, range(m)) * fit.problem.weights[None, :]
    worse, gain = 0, 0.0
    with np.errstate(all="ignore"), _chinchilla.single_thread():
        for i in range(m):
            sol = _chinchilla.fit_chinchilla(fit.problem.with_weights(W[i]))
            rel = (b.objective[i] - sol.objective) / sol.objective
            gain = max(gain, rel)
            worse += rel > 1e-9
    return worse, gain


def before_after(fit, commit: str, repeats: int, n: int = 4000) -> None:
    """Time ``commit``'s bootstrap module against this tree's, alternated in this process."""
    import importlib
    import subprocess
    import tempfile

    from scalefit.fitting import bootstrap as now_mod

    root = Path(__file__).resolve().parent.parent
    tmp = tempfile.mkdtemp(prefix="scalefit_before_")
    archive = subprocess.run(["git", "-C", str(root), "archive", commit, "scalefit"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    os.rename(os.path.join(tmp, "scalefit"), os.path.join(tmp, "scalefit_before"))
    sys.path.insert(0, tmp)
    old_mod = importlib.import_module("scalefit_before.fitting.bootstrap")
    old_mod.is_chinchilla = now_mod.is_chinchilla  # the fit's law objects are this tree's
    runs_ = {"before": old_mod.bootstrap, "after": now_mod.bootstrap}
    for f in runs_.values():
        f(fit, 100, n_jobs=1, progress=False)  # warm-up
    wall: dict = {}
    cpu: dict = {}
    out: dict = {}
    for _ in range(repeats):
        for name, f in runs_.items():
            t, c = time.perf_counter(), time.process_time()
            out[name] = f(fit, n, seed=0, n_jobs=1, progress=False)
            wall.setdefault(name, []).append(time.perf_counter() - t)
            cpu.setdefault(name, []).append(time.process_time() - c)
            print(f"  {name} ({commit if name == 'before' else 'this tree'}): {wall[name][-1]:.3f} s wall, "
                  f"{cpu[name][-1]:.3f} s CPU, load {os.getloadavg()[0]:.2f}", flush=True)
    b0, b1 = out["before"], out["after"]
    se0, se1 = b0.stderr, b1.stderr
    print(f"before/after, {n} resamples, n_jobs=1, medians of {repeats}: wall {np.median(wall['before']):.3f} / "
          f"{np.median(wall['after']):.3f} s ({np.median(wall['before']) / np.median(wall['after']):.2f}x), CPU "
          f"{np.median(cpu['before']):.3f} / {np.median(cpu['after']):.3f} s "
          f"({np.median(cpu['before']) / np.median(cpu['after']):.2f}x); largest SE change "
          f"{100 * max(abs(se1[k] / se0[k] - 1) for k in se0):.4f}%, largest relative objective change "
          f"{np.max(np.abs(b1.objective - b0.objective) / b0.objective):.1e}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--validate", type=int, default=0, help="resamples checked against a full search each")
    p.add_argument("--skip-peer", action="store_true", help="skip simple-scaling-laws' bootstrap")
    p.add_argument("--before", metavar="COMMIT", help="also time this commit's bootstrap module against this tree's")
    p.add_argument("--only-before", action="store_true", help="with --before: skip the other measurements")
    args = p.parse_args(argv)
    import scalefit
    from threadpoolctl import threadpool_limits

    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}, numpy {np.__version__}")
    runs = replication_runs()
    if runs is None:
        print("replication data absent (../shared/data): nothing to benchmark")
        return 0
    fit = scalefit.fit(runs)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    if args.before:
        with threadpool_limits(limits=1):
            before_after(fit, args.before, args.repeats)
        if args.only_before:
            print(f"load average at end: {os.getloadavg()[0]:.2f}")
            return 0
    with threadpool_limits(limits=1):
        fit.bootstrap(50, n_jobs=1, progress=False)  # warm-up
        times: dict = {}
        results: dict = {}
        for _ in range(args.repeats):
            for n in (1000, 4000):
                for jobs in (1, None):
                    t = time.perf_counter()
                    results[n, jobs] = fit.bootstrap(n, seed=0, n_jobs=jobs, progress=False)
                    times.setdefault((n, jobs), []).append(time.perf_counter() - t)
        peer = None
        if not args.skip_peer:
            ssl = reference.SimpleScalingLaws(runs.n_params, runs.n_tokens, runs.loss)
            q, _ = ssl.fit()
            peer = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                ssl.bootstrap(q, 1000, seed=0)
                peer.append(time.perf_counter() - t)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    for (n, jobs), ts in times.items():
        b = results[n, jobs]
        print(f"scalefit bootstrap, {n} resamples, n_jobs={jobs}: median {np.median(ts):.3f} s over {len(ts)} "
              f"(min {np.min(ts):.3f}); refits not converged: {int((~b.converged).sum())}")
    b = results[4000, 1]
    same = b.samples.equals(results[4000, None].samples)
    print(f"  identical samples for n_jobs=1 and n_jobs=None: {same}")
    se = dict(b.stderr)
    se["a"] = float(b.derived()["a"].std(ddof=1))
    print("  standard errors (4,000): " + ", ".join(f"{k} {v:.4g}" for k, v in se.items()))
    print("  change from before issue 12's rewrite: " + ", ".join(f"{k} {100 * (se[k] / v - 1):+.2f}%" for k, v in BEFORE.items()))
    print("  published (Besiroglu et al. 2024): E 0.026, A 124.5, B 1293, alpha 0.0154, beta 0.0206; a ~0.02")
    if peer is not None:
        best4000 = np.median(times[4000, 1])
        print(f"simple-scaling-laws' bootstrap (re-implemented), 1,000 draws: median {np.median(peer):.2f} s over {len(peer)}; "
              f"ratio to scalefit's 4,000 (n_jobs=1): {np.median(peer) / best4000:.1f}x, "
              f"to scalefit's 1,000 (n_jobs=1): {np.median(peer) / np.median(times[1000, 1]):.1f}x")
    if args.validate:
        worse, gain = validate(fit, args.validate)
        print(f"validation: full search better than the batched refit on {worse} of {args.validate} resamples "
              f"(largest relative gain {gain:.2e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
