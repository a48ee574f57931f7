"""Benchmark: the profile bootstrap's resample refinement against an earlier revision's, resample by resample.

Usage
-----
    python benchmarks/bench_isoflop_refine.py                    # against db19691, all three data sets
    python benchmarks/bench_isoflop_refine.py --against REV --data porian --bootstrap 200

``--against`` names a git revision of this repository; its
``scalefit/approaches/_profile.py`` (self-contained: it imports numpy only) is
loaded as a module and its ``fit_exponents`` swapped in for the current one.
db19691 is main before this change: a batched Levenberg-Marquardt from the
data's exponents, plus a 3x3 pattern search for every resample whose exponents
lie within 0.05 (log) of a bound.

Data sets: the bundled sweep (``synthetic:isoflop``, ``--bootstrap`` resamples),
Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9,
``../shared/data/porian2024/isoflop_points.csv`` (15 configurations,
``group_by`` their six columns; ``--bootstrap`` resamples each), and
``bench_scale.make_sweep(10**4)`` with 200 resamples.

For each data set ``scalefit.isoflop(..., method="profile", seed=0)`` runs
twice in this process, BLAS pinned to one thread: with the current refinement
and with the revision's.  Reported: the CPU seconds of each whole call (the
median of ``--repeats``, alternating); every resample's residual sum of squares
at each version's exponents, computed by the same function (the current
``_profile._solve``, exact residuals), counting resamples where the current one
is worse by more than 1e-9 relative and better by more than 1e-6; and how far
the 95% bootstrap intervals of a, b, k_n and k_d moved, as a fraction of the
revision's interval width (the largest over the configurations).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import scalefit
from scalefit.approaches import _profile

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCALEFIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def load_revision(rev: str):
    """The ``_profile`` module of git revision ``rev``, loaded from its source."""
    src = subprocess.run(["git", "show", f"{rev}:scalefit/approaches/_profile.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"profile_{rev}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"profile_{rev}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(data, kwargs, fit_exponents):
    """One ``isoflop`` call with ``fit_exponents`` in place; returns (result, CPU s, [(U, Y, W, ok, a, b)])."""
    calls = []

    def spy(U, Y, W, ok, *, start=None):
        a, b = fit_exponents(U, Y, W, ok, start=start)
        calls.append((U, Y, W, ok, a, b))
        return a, b

    keep = _profile.fit_exponents
    _profile.fit_exponents = spy
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scalefit.ScalefitWarning)
            t = time.process_time()
            res = scalefit.isoflop(data, method="profile", seed=0, **kwargs)
            cpu = time.process_time() - t
    finally:
        _profile.fit_exponents = keep
    return res, cpu, calls


def intervals(res):
    """{(group, name): (lo, hi)} of the 95% intervals."""
    groups = res.items() if isinstance(res, scalefit.GroupedIsoFLOPResult) else [((), res)]
    out = {}
    for key, r in groups:
        for name in ("a", "b", "k_n", "k_d"):
            lo, hi = r.intervals[name][0.95]
            out[(key, name)] = (float(lo), float(hi))
    return out


def compare(name, data, kwargs, old, repeats):
    new_cpu, old_cpu = [], []
    for _ in range(repeats):
        new, t_new, calls_new = run(data, kwargs, _profile.fit_exponents)
        ref, t_old, calls_old = run(data, kwargs, old.fit_exponents)
        new_cpu.append(t_new)
        old_cpu.append(t_old)
    worse = better = total = 0
    worst = 0.0
    for (U, Y, W, ok, a, b), (_, _, W2, _, a2, b2) in zip(calls_new, calls_old):
        assert np.array_equal(W, W2)
        _, rss = _profile._solve(U, Y, W[1:], ok[1:], a[1:], b[1:])
        _, ref_rss = _profile._solve(U, Y, W[1:], ok[1:], a2[1:], b2[1:])
        rel = rss / ref_rss - 1.0
        worse += int(np.sum(rel > 1e-9))
        better += int(np.sum(rel < -1e-6))
        total += rss.size
        worst = max(worst, float(np.max(rel)))
    iv_new, iv_old = intervals(new), intervals(ref)
    moves = {n: 0.0 for n in ("a", "b", "k_n", "k_d")}
    for k, (lo, hi) in iv_old.items():
        nlo, nhi = iv_new[k]
        width = hi - lo
        if width > 0:
            moves[k[1]] = max(moves[k[1]], max(abs(nlo - lo), abs(nhi - hi)) / width)
    tn, to = statistics.median(new_cpu), statistics.median(old_cpu)
    print(f"{name}: CPU new {tn:.2f} s, old {to:.2f} s ({to / tn:.1f}x); resamples {total}: new worse (>1e-9 rel) "
          f"{worse}, better (>1e-6 rel) {better}, largest relative excess {worst:.1e}; 95% interval ends moved by at "
          "most " + ", ".join(f"{n} {m:.1%}" for n, m in moves.items()) + " of the old width")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="db19691")
    ap.add_argument("--data", default="sweep,porian,scale")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    old = load_revision(args.against)
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    with threadpool_limits(limits=1):
        for name in args.data.split(","):
            if name == "sweep":
                compare("bundled sweep", "synthetic:isoflop", dict(bootstrap=args.bootstrap), old, args.repeats)
            elif name == "porian":
                path = SHARED / "porian2024" / "isoflop_points.csv"
                if not path.exists():
                    print(f"porian: skipped, {path} is absent")
                    continue
                compare("Porian et al., 15 configurations", scalefit.read_runs(path),
                        dict(bootstrap=args.bootstrap, group_by=KEYS), old, args.repeats)
            elif name == "scale":
                sys.path.insert(0, str(Path(__file__).resolve().parent))
                from bench_scale import make_sweep

                compare("bench_scale.make_sweep(10^4)", make_sweep(10_000), dict(bootstrap=200, budget="budget"), old,
                        args.repeats)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
