"""Benchmark: the forecasting laws' errors and prediction-interval coverage on the three public benchmarks.

Usage
-----
    python benchmarks/bench_laws_coverage.py --data chinchilla --n-boot 20 --out /tmp/lc_chinchilla.json
    python benchmarks/bench_laws_coverage.py --data li --n-boot 20 --out /tmp/lc_li.json
    python benchmarks/bench_laws_coverage.py --data porian --n-boot 20 --out /tmp/lc_porian.json
    python benchmarks/bench_laws_coverage.py --combine /tmp/lc_chinchilla.json /tmp/lc_li.json /tmp/lc_porian.json
    python benchmarks/bench_laws_coverage.py --gadre

``--gadre`` refits Gadre et al.'s (2024) five RedPajama runs (the table typed, with its source, in
tests/test_laws_forecast.py) with the over-training law under three objectives and prints the relative
errors on their two held-out runs; their own least-squares fit printed 0.7103% and 0.7320%.

The held-out runs, the fitting design and the intervals are those of ``benchmarks/bench_backtest.py``
(its ``TASKS`` and ``run``, reused here: the chinchilla replication data fitted below 1e21 FLOPs, Li et al.'s
final best-learning-rate runs fitted up to 0.52B parameters, each Porian et al. configuration fitted up to
1/8 of its largest budget).  This script only picks the laws issue 14 added (``--laws``; ``chinchilla``, the
plain default, is kept as the yardstick) and tabulates them without ``auto``, which bench_backtest's own
summary requires.  Every law is fitted with its default objective (Huber, delta 1e-3, log loss); 80% and
95% prediction intervals come from ``--n-boot`` bootstrap resamples, residual noise and the inner-backtest
extrapolation term.  BLAS threads are pinned to one.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_backtest as bb  # noqa: E402  (the benchmark definitions, one owner)

#: The laws issue 14 added that these data have inputs for; 1-D learning curves along compute, as the forecasts go.
LAWS = "chinchilla,over-training,saturating,bnsl,m1-flops,m2-flops,m3-flops,m4-flops"


def combine(paths: list[str]) -> None:
    parts = bb.merge_parts(paths)  # parts of one data set (--part) merged
    tables = []
    for d in parts:
        t = pd.DataFrame(d["rows"])
        t["data"] = d["data"]
        tables.append(t)
        loads = ", ".join(f"{x:.1f}" for x in d["loads"])
        print(f"\n### {d['data']} (n_boot {d['n_boot']}; {sum(d['seconds'].values()):.0f} s wall; load average at the "
              f"end {loads}; {d['machine']})\n")
        _table(bb.summarise(t))
    t = pd.concat(tables, ignore_index=True)
    print("\n### all three combined\n")
    rows = []
    for law, g in t.groupby("law", sort=False):
        s = bb.summarise(g).iloc[0].to_dict()
        s["sets"] = g["data"].nunique()
        rows.append(s)
    _table(pd.DataFrame(rows), sets=True)


def _table(s: pd.DataFrame, *, sets: bool = False) -> None:
    print(("| law | data sets " if sets else "| law ") + "| held out | mean err % | max err % | bias % | 80% cover | "
          "80% median width % | 95% cover | 95% median width % |")
    print("|---" * (10 if sets else 9) + "|")
    for r in s.itertuples(index=False):
        print(f"| {r.law} " + (f"| {r.sets} " if sets else "") + f"| {r.n} | {r.mean_err:.2f} | {r.max_err:.2f} | "
              f"{r.bias:+.2f} | {r.cover80:.1%} | {r.width80:.2f} | {r.cover95:.1%} | {r.width95:.2f} |")


def gadre() -> None:
    """Gadre et al.'s Figure 1 forecasts under their objective and scalefit's (see the module docstring)."""
    import numpy as np

    import scalefit

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_laws_forecast import GADRE_RPJ_FIT, GADRE_RPJ_TARGETS

    N, M, loss = (np.array([row[i] for row in GADRE_RPJ_FIT], dtype=float) for i in (1, 2, 3))
    runs = scalefit.read_runs(pd.DataFrame(dict(n_params=N, tokens_per_param=M, loss=loss)))
    print("| objective | " + " | ".join(f"{m} (M = {t:g}) rel. error %" for m, _, t, _, _ in GADRE_RPJ_TARGETS) + " |")
    print("|---|" + "---|" * len(GADRE_RPJ_TARGETS))
    print("| Gadre et al.'s printed (least squares on L) | " + " | ".join(f"{r[4]:.4f}" for r in GADRE_RPJ_TARGETS) + " |")
    for label, kw in [("mse, linear (theirs)", dict(loss="mse", space="linear")), ("mse, log", dict(loss="mse", space="log")),
                      ("huber 1e-3, log (scalefit's default)", {})]:
        fit = scalefit.fit(runs, "over-training", **kw)
        errs = [abs(float(fit.predict(n_params=float(n), n_tokens=m * n)) - truth) / truth * 100
                for _, n, m, truth, _ in GADRE_RPJ_TARGETS]
        print(f"| {label} | " + " | ".join(f"{e:.4f}" for e in errs) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=sorted(bb.TASKS))
    ap.add_argument("--n-boot", type=int, default=20)
    ap.add_argument("--laws", default=LAWS, help=f"Comma-separated laws (default {LAWS}).")
    ap.add_argument("--part", default="1/1", help="K/N: every N-th task from the K-th (to split porian).")
    ap.add_argument("--out", default=None)
    ap.add_argument("--combine", nargs="+", default=None)
    ap.add_argument("--gadre", action="store_true", help="Gadre et al.'s Figure 1 forecasts under three objectives.")
    args = ap.parse_args()
    if args.gadre:
        gadre()
        return 0
    if args.combine:
        combine(args.combine)
        return 0
    if not args.data:
        ap.error("give --data or --combine")
    if not bb.DATA.exists():
        print(f"skipped: {bb.DATA} is absent (public data of ../shared/data)", file=sys.stderr)
        return 0
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        result = bb.run(args.data, args.n_boot, args.laws, args.part)
    bb.emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
