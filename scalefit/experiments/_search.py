"""The design search: candidate designs, their simulated errors (in parallel), and the choice.

Every candidate is judged on the same truths drawn from the prior and, for
truth ``j``, the same noise stream ``default_rng([seed, stage, j])`` (common
random numbers: the comparison between candidates is not drowned by noise).
Tasks are (candidate, block of truths); each task's result depends only on its
inputs and seeds, so the search gives identical results for a seed whatever the
joblib backend (loky, threads, Dask) or the number of workers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._prior import NATURAL_CHINCHILLA
from ._simulate import QUANTITIES, design_errors, grid_runs, prior_optimum

#: The objective names, and the column of the error array each one scores.
OBJECTIVES = {"a": 0, "n_opt": 1, "d_opt": 2, "loss": 3}
#: Truths per parallel task.
_BLOCK = 8
#: Fits need 5 free parameters + 1 runs (scalefit.fit refuses fewer).
MIN_RUNS = 6


@dataclass(frozen=True)
class Candidate:
    """One candidate design: its runs and how it was built."""

    name: str
    runs: pd.DataFrame
    kind: str  # "grid" (equal runs per budget), "top-heavy" or "next"
    meta: dict = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return float(self.runs["flops"].sum())


def grid_candidates(
    prior: Any, experiment_flops: float, k: float, *, n_runs: int | None, budgets: Sequence[float] | None,
    min_params: float, max_params: float, seed: int,
) -> list[Candidate]:
    """IsoFLOP grids (equal and top-heavy run counts) that spend at most ``experiment_flops``.

    Without ``budgets`` the budgets are geometric (ratio 3 or 10, 2 to 5 of
    them) and scaled so that the design spends the whole experiment budget; the
    standard Chinchilla-style grid (5 budgets a factor 3 apart, 8 sizes, +-4x)
    is among them.  Runs outside ``[min_params, max_params]`` are left out.
    """
    out: list[Candidate] = []
    shapes: list[tuple[np.ndarray, list[int], str]] = []
    if budgets is not None:
        b = np.sort(np.asarray(budgets, dtype=float))[::-1]
        for counts, kind in _count_patterns(len(b), n_runs):
            shapes.append((b, counts, kind))
    else:
        for n_budgets in (2, 3, 4, 5):
            for ratio in (3.0, 10.0):
                for counts, kind in _count_patterns(n_budgets, n_runs):
                    rel = ratio ** -np.arange(n_budgets, dtype=float)
                    top = experiment_flops / float(np.dot(counts, rel))
                    shapes.append((top * rel, counts, f"{kind}, ratio {ratio:g}"))
    for b, counts, kind in shapes:
        centre = prior_optimum(prior, b, k, seed=seed)
        for span in (2.0, 4.0, 8.0):
            runs = grid_runs(b, counts, span, centre, k)
            keep = (runs["n_params"] >= min_params) & (runs["n_params"] <= max_params)
            runs = runs.loc[keep].reset_index(drop=True)
            if len(runs) < MIN_RUNS or runs["budget"].nunique() < 2 or runs["flops"].sum() > experiment_flops * (1 + 1e-9):
                continue
            name = f"{len(b)} budgets x {'/'.join(map(str, counts))} runs, +-{span:g}x ({kind})"
            out.append(Candidate(name, runs, "grid" if kind.startswith("equal") else "top-heavy",
                                 dict(budgets=b.tolist(), counts=list(counts), span=span)))
    return out


def _count_patterns(n_budgets: int, n_runs: int | None) -> list[tuple[list[int], str]]:
    """Runs per budget (largest budget first): equal counts, or more runs at the largest budget."""
    pats: list[tuple[list[int], str]] = []
    if n_runs is None:
        for n in (3, 5, 8):
            pats.append(([n] * n_budgets, "equal"))
        pats.append(([8] + [3] * (n_budgets - 1), "top-heavy"))
    else:
        if n_runs % n_budgets == 0 and n_runs // n_budgets >= 3:
            pats.append(([n_runs // n_budgets] * n_budgets, "equal"))
        top = n_runs - 3 * (n_budgets - 1)
        if top > 3:
            pats.append(([top] + [3] * (n_budgets - 1), "top-heavy"))
    seen, unique = set(), []
    for counts, kind in pats:
        if sum(counts) >= MIN_RUNS and tuple(counts) not in seen:
            seen.add(tuple(counts))
            unique.append((counts, kind))
    return unique


def _task(n_params: np.ndarray, n_tokens: np.ndarray, truths: np.ndarray, seeds: list, target: float,
          noise: float, outliers: float, k: float) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return design_errors(n_params, n_tokens, truths, seeds, target, noise, outliers, k)


def simulate_errors(
    designs: Sequence[pd.DataFrame], truths: pd.DataFrame, *, target: float, noise: float, outliers: float,
    k: float, seed: int, stage: int, n_jobs: int | None,
) -> np.ndarray:
    """Errors of each design under each truth: shape ``(designs, truths, 4)``, in parallel through joblib."""
    from joblib import Parallel, delayed

    theta = truths[list(NATURAL_CHINCHILLA)].to_numpy(float)
    blocks = [range(s, min(s + _BLOCK, len(theta))) for s in range(0, len(theta), _BLOCK)]
    tasks = [
        delayed(_task)(d["n_params"].to_numpy(float), d["n_tokens"].to_numpy(float), theta[list(blk)],
                       [[seed, stage, j] for j in blk], target, noise, outliers, k)
        for d in designs for blk in blocks
    ]
    results = Parallel(n_jobs=n_jobs)(tasks)
    out = np.empty((len(designs), len(theta), len(QUANTITIES)))
    i = 0
    for c in range(len(designs)):
        for blk in blocks:
            out[c, list(blk)] = results[i]
            i += 1
    return out


def score(errors: np.ndarray, objective: str) -> np.ndarray:
    """Median absolute error of the objective's quantity over truths; errors: (designs, truths, 4)."""
    return np.median(np.abs(errors[:, :, OBJECTIVES[objective]]), axis=1)


def precision_table(errors: np.ndarray) -> pd.DataFrame:
    """Median absolute error and the 80% range of the signed error of each quantity (errors: truths x 4)."""
    from .._intervals import percentile_interval

    rows = []
    for q, name in enumerate(QUANTITIES):
        e = errors[:, q]
        low, high = percentile_interval(e, 0.8, keep_infinite=True)
        rows.append(dict(quantity=name, median_abs_error=float(np.median(np.abs(e))), low=low, high=high,
                         failed=int(np.count_nonzero(~np.isfinite(e)))))
    return pd.DataFrame(rows)


def interval_width(errors: np.ndarray, objective: str) -> float:
    """Width of the 80% range of the signed error of the objective's quantity."""
    from .._intervals import percentile_interval

    low, high = percentile_interval(errors[:, OBJECTIVES[objective]], 0.8, keep_infinite=True)
    return float(high - low)


def next_candidates(prior: Any, existing: pd.DataFrame, budget_left: float, k: float, *,
                    min_params: float, max_params: float, seed: int) -> list[pd.DataFrame]:
    """Single runs one could train next: 5 sizes (+-4x) around the prior's optimum at budget_left, 1/3 and 1/10 of it.

    A run whose (n_params, n_tokens) is within 1% of a trained run is never proposed.
    """
    budgets = budget_left * np.array([1.0, 1 / 3, 1 / 10])
    centre = prior_optimum(prior, budgets, k, seed=seed)
    table = grid_runs(budgets, [5] * budgets.size, 4.0, centre, k)
    keep = (table["n_params"] >= min_params) & (table["n_params"] <= max_params)
    table = table.loc[keep].reset_index(drop=True)
    trained = existing[["n_params", "n_tokens"]].to_numpy(float)
    out = []
    for _, row in table.iterrows():
        near = np.all(np.abs(np.log(trained / row[["n_params", "n_tokens"]].to_numpy(float))) < 0.01, axis=1)
        if not near.any():
            out.append(row.to_frame().T.reset_index(drop=True).astype(float))
    return out
