"""Generate scalefit's SYNTHETIC example data (not measurements of any model).

Run from the repository root::

    python -m scalefit.datasets.data.make_synthetic

It rewrites ``synthetic_isoflop.csv`` and ``synthetic_curves.csv`` beside it
from the Chinchilla law of Hoffmann et al. (2022), Approach 3,

    L(N, D) = E + A / N**alpha + B / D**beta,
    E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28,

with C = 6 N D, a fixed seed and the noise described below.  The output is
deterministic: running it again gives the same files.

1. ``synthetic_isoflop.csv``: an IsoFLOP sweep.  Eight budgets
   (1e18, 3e18, 1e19, ..., 3e21 FLOPs); at each, nine model sizes spaced
   evenly in log N over one decade either side of the law's compute-optimal
   N*(C), rounded to 3 significant figures; D = C / (6 N), rounded to whole
   tokens.  Loss = L(N, D) times lognormal noise with sigma 0.007 (about
   0.7%).  Two mild outliers are injected and flagged in column
   ``outlier``: the 3rd model of the 1e19 budget (+4% loss, as if a loss
   spike was not recovered) and the 7th model of the 3e20 budget (-3% loss,
   as if evaluated on an easier split).
2. ``synthetic_curves.csv``: training curves for six model sizes
   (20M to 800M parameters) at two horizons (20 and 80 tokens per
   parameter), 30 evenly spaced checkpoints each, batch 2**19 tokens.  Loss
   at a checkpoint = L(N, D_seen) + 0.04 * (1 + cos(pi * p)) / 2, where p is
   the fraction of the run elapsed (a cosine learning-rate schedule leaves the
   loss above the law until it anneals; the excess is 0 at the end), times
   lognormal noise with sigma 0.004.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20220329  # the arXiv date of Hoffmann et al. (2022)
LAW = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
K = 6.0

BUDGETS = (1e18, 3e18, 1e19, 3e19, 1e20, 3e20, 1e21, 3e21)
SIZES_PER_BUDGET = 9
ISOFLOP_SIGMA = 0.007
#: (budget, index of the model within the budget, multiplicative loss change)
OUTLIERS = ((1e19, 2, 1.04), (3e20, 6, 0.97))

CURVE_SIZES = (20e6, 32e6, 50e6, 80e6, 125e6, 200e6, 320e6, 500e6, 800e6, 1280e6)
TOKENS_PER_PARAM = (10, 40, 160)
CHECKPOINTS = 30
BATCH_TOKENS = 2**19
SCHEDULE_EXCESS = 0.04
CURVE_SIGMA = 0.004


def chinchilla_loss(n_params: np.ndarray, n_tokens: np.ndarray) -> np.ndarray:
    """L(N, D) = E + A / N**alpha + B / D**beta with :data:`LAW`."""
    return LAW["E"] + LAW["A"] / n_params ** LAW["alpha"] + LAW["B"] / n_tokens ** LAW["beta"]


def compute_optimal_params(flops: float) -> float:
    """N*(C) minimising L(N, C / (6 N)): G * (C/6)**(beta/(alpha+beta))."""
    a, b = LAW["alpha"], LAW["beta"]
    g = (a * LAW["A"] / (b * LAW["B"])) ** (1.0 / (a + b))
    return g * (flops / K) ** (b / (a + b))


def _round_sig(x: np.ndarray, digits: int = 3) -> np.ndarray:
    mag = 10.0 ** (np.floor(np.log10(x)) - (digits - 1))
    return np.round(x / mag) * mag


def make_isoflop(seed: int = SEED) -> pd.DataFrame:
    """The synthetic IsoFLOP sweep (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    for budget in BUDGETS:
        n_star = compute_optimal_params(budget)
        sizes = _round_sig(n_star * np.logspace(-1.0, 1.0, SIZES_PER_BUDGET))
        tokens = np.round(budget / (K * sizes))
        loss = chinchilla_loss(sizes, tokens) * np.exp(rng.normal(0.0, ISOFLOP_SIGMA, sizes.size))
        outlier = np.zeros(sizes.size, dtype=bool)
        for b, i, factor in OUTLIERS:
            if b == budget:
                loss[i] *= factor
                outlier[i] = True
        for n, d, l, o in zip(sizes, tokens, loss, outlier):
            rows.append(
                {"budget": budget, "params": int(n), "tokens": int(d), "flops": K * n * d,
                 "loss": round(float(l), 5), "outlier": bool(o)}
            )
    return pd.DataFrame(rows)


def make_curves(seed: int = SEED) -> pd.DataFrame:
    """The synthetic training curves (see the module docstring)."""
    rng = np.random.default_rng(seed + 1)
    rows = []
    for n in CURVE_SIZES:
        for tpp in TOKENS_PER_PARAM:
            total_steps = int(round(tpp * n / BATCH_TOKENS))
            steps = np.round(np.linspace(total_steps / CHECKPOINTS, total_steps, CHECKPOINTS)).astype(int)
            seen = steps * float(BATCH_TOKENS)
            progress = steps / total_steps
            excess = SCHEDULE_EXCESS * (1.0 + np.cos(np.pi * progress)) / 2.0
            loss = (chinchilla_loss(np.full(seen.shape, float(n)), seen) + excess) * np.exp(rng.normal(0.0, CURVE_SIGMA, steps.size))
            name = f"synth_{int(n / 1e6)}m_{tpp}tpp"
            for s, d, l in zip(steps, seen, loss):
                rows.append(
                    {"run": name, "step": int(s), "params": int(n), "tokens": int(d),
                     "total_tokens": int(total_steps * BATCH_TOKENS), "loss": round(float(l), 5)}
                )
    return pd.DataFrame(rows)


def main(out_dir: str | Path | None = None) -> None:
    """Write both CSV files into ``out_dir`` (default: this file's folder)."""
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    make_isoflop().to_csv(out / "synthetic_isoflop.csv", index=False, float_format="%.6g")
    make_curves().to_csv(out / "synthetic_curves.csv", index=False)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
