"""Benchmark: accuracy of the per-budget IsoFLOP estimators (Approach 2) against Approach 3.

Usage
-----
    python benchmarks/bench_isoflop_estimators.py                 # 20 replicates per noisy cell
    python benchmarks/bench_isoflop_estimators.py --replicates 5  # quicker
    python benchmarks/bench_isoflop_estimators.py --real-only      # only the real-data agreement and the timings
    python benchmarks/bench_isoflop_estimators.py --window-sweep   # Porian agreement against max_excess_loss

Real data (``--porian DIR``, default ../shared/data/porian2024 or $SCALEFIT_SHARED_DATA/porian2024 when present): Porian et al. (2024),
formll/resolving-scaling-law-discrepancies@0dc60d9, 15 configurations; for each estimator the
largest and mean |a - n_exponent| against their published exponents (fit_results_basic.csv).
Timing: ``scalefit.isoflop`` with 1,000 bootstrap resamples, the default ("profile") against the
former default ("nearest"), on the bundled synthetic sweep (8 budgets x 9 sizes; median of 3 runs)
and on all 15 Porian configurations (``group_by``; 1 run), BLAS pinned to one thread.

Designs (issue 11; Czech et al. 2025, "Problems with Chinchilla Approach 2"): the Chinchilla
law with E = 1.69, A = 406.4, B = 410.7 and alpha + beta = 0.62 split so that alpha/beta is
1/3, 1 or 3; 5 budgets 1e18..1e22 FLOPs, 15 model sizes per budget on a +-8x log grid around
the true N*(C), either centred, 3x off-centre (the grid centre at 3 N*), or drifting (the
centre moves from N*/3 at the smallest budget to 3 N* at the largest); multiplicative noise
of 0, 0.3% or 1% on the loss.

Estimators: ``scalefit.isoflop(..., method=m, bootstrap=0)`` for each method m (the exact
Chinchilla profile per budget with shared exponents, fitted by variable projection, to the runs
within 30% of each budget's lowest loss (the default) and to all runs; the nearest-k parabola;
the full parabola; the cubic), and Approach 3 (``scalefit.fit`` on the same points, then the
closed-form optimum).  Reported: the median absolute relative error of N* and D* at 1e24 FLOPs
over the replicates (one replicate for noise 0), and the median over the designs; then, per noise
level, the median error of N* for each grid design (over its three alpha/beta), to show where each
estimator loses.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import scalefit
import scalefit.datasets
from scalefit.laws import chinchilla_compute_optimal, get_law

BUDGETS = np.logspace(18, 22, 5)
TARGET = 1e24
RATIOS = {"1/3": 1 / 3, "1": 1.0, "3": 3.0}
DESIGNS = ("centred", "off-centre 3x", "drifting")
NOISES = (0.0, 0.003, 0.01)
#: label -> options of scalefit.isoflop; "profile" is the default (max_excess_loss=0.3)
METHODS = {
    "profile": dict(method="profile"),
    "profile, all runs": dict(method="profile", max_excess_loss=None),
    "nearest": dict(method="nearest"),
    "parabola": dict(method="parabola"),
    "cubic": dict(method="cubic"),
}


def truth(ratio: float) -> dict:
    beta = 0.62 / (1 + ratio)
    return dict(E=1.69, A=406.4, B=410.7, alpha=0.62 - beta, beta=beta)


def sweep(params: dict, design: str, noise: float, rng: np.random.Generator, span: float = 8.0) -> pd.DataFrame:
    law = get_law("chinchilla")
    rows = []
    for i, c in enumerate(BUDGETS):
        n_star = float(chinchilla_compute_optimal(params, c)[0])
        shift = {"centred": 0.0, "off-centre 3x": np.log10(3.0),
                 "drifting": np.log10(3.0) * (2 * i / (len(BUDGETS) - 1) - 1)}[design]
        n = 10 ** (np.log10(n_star) + shift + np.linspace(-np.log10(span), np.log10(span), 15))
        d = c / (6 * n)
        loss = law(params, n_params=n, n_tokens=d) * np.exp(rng.normal(0, noise, n.size))
        rows.append(pd.DataFrame(dict(n_params=n, n_tokens=d, flops=c, loss=loss)))
    return pd.concat(rows, ignore_index=True)


def errors(data: pd.DataFrame, params: dict) -> dict:
    n_true, d_true, _ = chinchilla_compute_optimal(params, TARGET)
    out = {}
    for m, options in METHODS.items():
        res = scalefit.isoflop(data, bootstrap=0, **options)
        pred = res.predict_optimal(TARGET)
        out[m] = (float(pred.n_params[0]) / n_true - 1, float(pred.n_tokens[0]) / d_true - 1)
    fit = scalefit.fit(data)
    n3, d3, _ = chinchilla_compute_optimal(fit.params, TARGET)
    out["approach 3"] = (float(n3) / n_true - 1, float(d3) / d_true - 1)
    return out


PORIAN_KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
#: ../shared/data/porian2024 beside the repository, or under $SCALEFIT_SHARED_DATA (as the tests read it)
DEFAULT_PORIAN = Path(os.environ.get("SCALEFIT_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
                      ) / "porian2024"


def window_sweep(porian: Path) -> None:
    """Porian agreement of method="profile" for several max_excess_loss windows (how the default 0.3 was chosen)."""
    runs = scalefit.read_runs(porian / "isoflop_points.csv")
    ref = pd.read_csv(porian / "fit_results_basic.csv")
    print("\nPorian et al. (2024), method='profile': |a - n_exponent| against max_excess_loss:")
    print("| max_excess_loss | max | mean | configurations > 0.03 |")
    print("|---|---|---|---|")
    with threadpool_limits(limits=1):
        for window in (0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, None):
            res = scalefit.isoflop(runs, group_by=PORIAN_KEYS, bootstrap=0, method="profile", max_excess_loss=window)
            tab = res.table().merge(ref[PORIAN_KEYS + ["n_exponent"]], on=PORIAN_KEYS, validate="one_to_one")
            diff = (tab["a"] - tab["n_exponent"]).abs()
            print(f"| {window} | {diff.max():.3f} | {diff.mean():.4f} | {int((diff > 0.03).sum())} |")


#: Estimators timed with a 1,000-resample bootstrap: the new default and the former one.
TIMED = ("profile", "nearest")


def real_data(porian: Path, repeats: int = 3) -> None:
    """Agreement with Porian et al.'s exponents, and the time of a 1,000-resample bootstrap."""
    runs = scalefit.read_runs(porian / "isoflop_points.csv")
    ref = pd.read_csv(porian / "fit_results_basic.csv")
    synthetic = scalefit.datasets.load_synthetic()
    print("\nPorian et al. (2024), 15 configurations: |a - n_exponent| of isoflop(runs, group_by=<6 keys>, method=m):")
    print("| estimator | max | mean | configurations > 0.03 |")
    print("|---|---|---|---|")
    with threadpool_limits(limits=1):
        for m, options in METHODS.items():
            res = scalefit.isoflop(runs, group_by=PORIAN_KEYS, bootstrap=0, **options)
            tab = res.table().merge(ref[PORIAN_KEYS + ["n_exponent"]], on=PORIAN_KEYS, validate="one_to_one")
            diff = (tab["a"] - tab["n_exponent"]).abs()
            print(f"| {m} | {diff.max():.3f} | {diff.mean():.4f} | {int((diff > 0.03).sum())} |")
        sys.stdout.flush()
        print(f"\nTime of isoflop(bootstrap=1000), median of {repeats} (bundled sweep) and 1 run (15 Porian groups); "
              f"load average before: {os.getloadavg()[0]:.2f}")
        print("wall time, and CPU time of this process in brackets (one BLAS thread: the CPU time is what an idle "
              "core would take)")
        print("| estimator | bundled sweep (8 budgets x 9 sizes) | 15 Porian groups (177 budgets) |")
        print("|---|---|---|")
        for m in TIMED:
            cells = []
            for data, kw, n in ((synthetic, {}, repeats), (runs, dict(group_by=PORIAN_KEYS), 1)):
                wall, cpu = [], []
                for _ in range(n):
                    t0, c0 = time.perf_counter(), time.process_time()
                    scalefit.isoflop(data, bootstrap=1000, **kw, **METHODS[m])
                    wall.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                cells.append(f"{np.median(wall):.2f} s ({np.median(cpu):.2f} s)")
            print(f"| {m} | {cells[0]} | {cells[1]} |")
            sys.stdout.flush()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--porian", type=Path, default=DEFAULT_PORIAN, help="folder of Porian et al.'s tables")
    ap.add_argument("--real-only", action="store_true", help="skip the synthetic table")
    ap.add_argument("--window-sweep", action="store_true", help="only the Porian agreement against max_excess_loss")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.window_sweep:
        window_sweep(args.porian)
        return
    if args.real_only:
        real_data(args.porian)
        return
    records = []
    with threadpool_limits(limits=1):
        for design in DESIGNS:
            for rname, ratio in RATIOS.items():
                params = truth(ratio)
                for noise in NOISES:
                    reps = 1 if noise == 0 else args.replicates
                    for rep in range(reps):
                        rng = np.random.default_rng([int(noise * 1e4), rep, DESIGNS.index(design), int(ratio * 3)])
                        for est, (en, ed) in errors(sweep(params, design, noise, rng), params).items():
                            records.append(dict(design=design, ratio=rname, noise=noise, estimator=est,
                                                err_n=abs(en), err_d=abs(ed), bias_n=en))
    df = pd.DataFrame(records)
    cell = df.groupby(["noise", "estimator", "design", "ratio"])[["err_n", "err_d"]].median().reset_index()
    print(f"# {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"replicates {args.replicates}, load average {os.getloadavg()[0]:.2f}")
    print("\nMedian |relative error| at 1e24 FLOPs, median over the 9 designs (3 grids x 3 alpha/beta), and worst design:")
    print("| noise | estimator | N* median | D* median | N* worst | D* worst |")
    print("|---|---|---|---|---|---|")
    for (noise, est), g in cell.groupby(["noise", "estimator"]):
        print(f"| {100 * noise:g}% | {est} | {100 * g.err_n.median():.1f}% | {100 * g.err_d.median():.1f}% | "
              f"{100 * g.err_n.max():.1f}% | {100 * g.err_d.max():.1f}% |")
    print("\nMedian |relative error| of N* at 1e24 FLOPs per grid design (median over its 3 alpha/beta cells):")
    per = cell.groupby(["noise", "estimator", "design"])["err_n"].median().unstack("design")[list(DESIGNS)]
    print("| noise | estimator | " + " | ".join(DESIGNS) + " |")
    print("|---|---|" + "---|" * len(DESIGNS))
    for (noise, est), row in per.iterrows():
        print(f"| {100 * noise:g}% | {est} | " + " | ".join(f"{100 * v:.1f}%" for v in row) + " |")
    if args.porian.exists():
        real_data(args.porian)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
