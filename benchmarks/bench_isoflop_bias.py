"""Benchmark: does Approach 2's bias warning fire when (and only when) its exponent is biased?

Usage
-----
    python benchmarks/bench_isoflop_bias.py

Noise-free synthetic IsoFLOP sweeps (issue 11; Czech et al. 2025): the Chinchilla law with
E = 1.69, A = 406.4, B = 410.7 and alpha + beta = 0.62 split so that alpha/beta is 1/3, 1 or 3;
5 budgets 1e18..1e22 FLOPs, 15 model sizes per budget on a +-2x, +-4x, +-8x or +-16x log grid
around the true N*(C), centred, 3x off-centre, or drifting (N*/3 at the smallest budget to 3 N*
at the largest).  Each per-budget estimator (the Chinchilla profile, the default; nearest-k parabola,
full parabola, cubic) is run with
``scalefit.isoflop``; the bias is a_hat - a_true; "fired" is whether an IsoFLOPBiasWarning was
raised.  The criteria (issue 11): the warning fires in every case whose |bias| > 0.01, and never on
centred grids with alpha = beta (balanced) without noise.
"""
from __future__ import annotations

import os
import platform
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import scalefit

from bench_isoflop_estimators import DESIGNS, RATIOS, sweep, truth  # the same synthetic designs (this folder is on sys.path)

SPANS = (2.0, 4.0, 8.0, 16.0)
METHODS = ("profile", "nearest", "parabola", "cubic")
NO_NOISE = np.random.default_rng(0)  # unused draws: noise 0


def main() -> None:
    records = []
    with threadpool_limits(limits=1):
        for ratio_name, ratio in RATIOS.items():
            p = truth(ratio)
            a_true = p["beta"] / (p["alpha"] + p["beta"])
            for design in DESIGNS:
                for span in SPANS:
                    data = sweep(p, design, 0.0, NO_NOISE, span=span)
                    for method in METHODS:
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            try:
                                res = scalefit.isoflop(data, method=method, bootstrap=0)
                            except scalefit.ScalefitInputError:
                                continue
                        fired = any(isinstance(w.message, scalefit.IsoFLOPBiasWarning) for w in caught)
                        records.append(dict(ratio=ratio_name, design=design, span=span, method=method,
                                            bias=res.a - a_true, fired=fired))
    df = pd.DataFrame(records)
    biased = df[df["bias"].abs() > 0.01]
    balanced = df[(df["design"] == "centred") & (df["ratio"] == "1")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"cases: {len(df)}; with |bias in a| > 0.01: {len(biased)}; warned among those: {int(biased['fired'].sum())}")
    print(f"centred balanced noise-free cases: {len(balanced)}; warned: {int(balanced['fired'].sum())}")
    print(f"other cases warned (|bias| <= 0.01): {int(df[df['bias'].abs() <= 0.01]['fired'].sum())}")
    table = df.pivot_table(index=["ratio", "design", "span"], columns="method", values="bias").round(4)
    print(table.to_string())
    missed = biased[~biased["fired"]]
    if len(missed):
        print("MISSED:\n" + missed.to_string())


if __name__ == "__main__":
    main()
