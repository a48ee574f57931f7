"""Benchmark: accuracy of the per-budget IsoFLOP estimators (Approach 2) against Approach 3.

Usage
-----
    python benchmarks/bench_isoflop_estimators.py                 # 20 replicates per noisy cell
    python benchmarks/bench_isoflop_estimators.py --replicates 5  # quicker

Designs (issue 11; Czech et al. 2025, "Problems with Chinchilla Approach 2"): the Chinchilla
law with E = 1.69, A = 406.4, B = 410.7 and alpha + beta = 0.62 split so that alpha/beta is
1/3, 1 or 3; 5 budgets 1e18..1e22 FLOPs, 15 model sizes per budget on a +-8x log grid around
the true N*(C), either centred, 3x off-centre (the grid centre at 3 N*), or drifting (the
centre moves from N*/3 at the smallest budget to 3 N* at the largest); multiplicative noise
of 0, 0.3% or 1% on the loss.

Estimators: ``scalefit.isoflop(..., method=m)`` for each method m (the nearest-k parabola, the
full parabola, the cubic), and Approach 3 (``scalefit.fit`` on the same points, then the
closed-form optimum).  Reported: the median absolute relative error of N* and D* at 1e24 FLOPs
over the replicates (one replicate for noise 0), and the median over the designs.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import scalefit
from scalefit.laws import chinchilla_compute_optimal, get_law

BUDGETS = np.logspace(18, 22, 5)
TARGET = 1e24
RATIOS = {"1/3": 1 / 3, "1": 1.0, "3": 3.0}
DESIGNS = ("centred", "off-centre 3x", "drifting")
NOISES = (0.0, 0.003, 0.01)
METHODS = ("nearest", "parabola", "cubic")


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
    for m in METHODS:
        res = scalefit.isoflop(data, method=m)
        pred = res.predict_optimal(TARGET)
        out[m] = (float(pred.n_params[0]) / n_true - 1, float(pred.n_tokens[0]) / d_true - 1)
    fit = scalefit.fit(data)
    n3, d3, _ = chinchilla_compute_optimal(fit.params, TARGET)
    out["approach 3"] = (float(n3) / n_true - 1, float(d3) / d_true - 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicates", type=int, default=20)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
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
    print(f"# {platform.python_version()}, {os.cpu_count()} cores, replicates {args.replicates}")
    print("\nMedian |relative error| at 1e24 FLOPs, median over the 9 designs (3 grids x 3 alpha/beta), and worst design:")
    print("| noise | estimator | N* median | D* median | N* worst | D* worst |")
    print("|---|---|---|---|---|---|")
    for (noise, est), g in cell.groupby(["noise", "estimator"]):
        print(f"| {100 * noise:g}% | {est} | {100 * g.err_n.median():.1f}% | {100 * g.err_d.median():.1f}% | "
              f"{100 * g.err_n.max():.1f}% | {100 * g.err_d.max():.1f}% |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
