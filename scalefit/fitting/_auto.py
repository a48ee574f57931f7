"""``fit(runs, law="auto")``: choose the law and objective by a nested backtest on the runs given.

The runs given are the only data used.  Their largest scales are held out in
turn (:func:`scalefit.fitting.backtest.backtest` with ``horizon=None``): inner
origins sit at 60%, 70% and 80% of the runs' log-scale range (each with at
least three scale levels below it), each forecasts every run above it, every
candidate (law, objective) is fitted below each inner origin, and the candidate with the
lowest mean absolute percentage error on the inner held-out runs wins.  It is
then refitted on all the runs.  A candidate that cannot be fitted at some
inner origin is not eligible.  When no inner origin has three levels below it there is
nothing to hold out and the default (``chinchilla``, Huber in log space) is
fitted, saying so.

Because a backtest that itself contains ``"auto"`` calls this on each outer
origin's training runs only, the choice never sees the runs it is judged on.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from ..laws import get_law

#: Candidate laws; those whose inputs the runs lack are left out.
CANDIDATE_LAWS = ("chinchilla", "chinchilla-tied", "kaplan-c-e", "kaplan-n-e")
#: Candidate objectives: (loss, delta, space).
CANDIDATE_OBJECTIVES = (("huber", 1e-3, "log"), ("mse", 1e-3, "log"))
DEFAULT = ("chinchilla", "huber", 1e-3, "log")
#: Where the inner origins sit, as fractions of the log-scale range of the runs given.
INNER_FRACTIONS = (0.6, 0.7, 0.8)


def fit_auto(runs: Any, *, by: str = "flops", seed: int = 0, laws: Sequence[str] | None = None,
             **fit_kw: Any) -> Any:
    """Fit the (law, objective) that forecast the runs' own largest scales best; see the module docstring."""
    from ._fit import fit
    from .backtest import backtest, run_units, scale_levels

    cands = [get_law(n) for n in (laws or CANDIDATE_LAWS)]
    cands = [law for law in cands if all(k in runs.table.columns for k in law.inputs)]
    _, scale = run_units(runs, by)
    n_levels = scale_levels(scale).size
    scores: list[dict] = []
    origins = inner_origins(scale)
    if origins and cands:
        for loss, delta, space in CANDIDATE_OBJECTIVES:
            bt = backtest(runs, cands, by=by, origins=origins, horizon=None, loss=loss, delta=delta,
                          space=space, seed=seed, intervals=False)
            failed = set(bt.skipped["law"])
            n_origins = len(bt.options["origins"])
            for r in bt.laws.to_dict(orient="records"):
                if r["law"] in failed or not np.isfinite(r["mean_error"]):
                    continue
                scores.append(dict(law=r["law"], loss=loss, delta=delta, space=space, mean_error=r["mean_error"],
                                   max_error=r["max_error"], n=r["n"], origins=n_origins))
    if scores:
        scores.sort(key=lambda s: s["mean_error"])
        best = scores[0]
        runner = scores[1] if len(scores) > 1 else None
        why = (f"lowest mean absolute error, {best['mean_error']:.3g}%, forecasting the runs' own largest "
               f"{by} levels ({best['n']} forecasts from {best['origins']} inner origins, fitted below each)")
        choice = (best["law"], best["loss"], best["delta"], best["space"])
    else:
        runner = None
        why = (f"too few distinct {by} levels ({n_levels}; need 3 below an inner origin and 1 above) or no "
               "candidate could be fitted below the inner origins, so the default was kept")
        choice = DEFAULT
    law, loss, delta, space = choice
    result = fit(runs, law, loss=loss, delta=delta, space=space, seed=seed, **fit_kw)
    auto = dict(
        chosen=law, objective=f"{loss}/{space}", why=why,
        runner_up=None if runner is None else dict(law=runner["law"], objective=f"{runner['loss']}/{runner['space']}",
                                                   mean_error=runner["mean_error"]),
        scores=scores, by=by,
    )
    return dataclasses.replace(result, options={**result.options, "auto": auto})


def inner_origins(scale: np.ndarray) -> list[float]:
    """Inner origins at 60%, 70% and 80% of the runs' log-scale range, each with 3 levels below and 1 above.

    Placing them on the log range (not at the last few distinct levels) makes each inner forecast an
    extrapolation over a fixed share of the range, however many distinct scales the runs have.
    """
    from .backtest import scale_levels

    lev = scale_levels(scale)
    lo, hi = np.log(lev[0]), np.log(lev[-1])
    out: list[float] = []
    seen: set[int] = set()
    for frac in INNER_FRACTIONS:
        t = float(np.exp(lo + frac * (hi - lo)))
        start = int(np.searchsorted(lev, t * (1 - 1e-9), side="left"))  # first level at or above t
        if start < 3 or start >= lev.size or start in seen:
            continue
        seen.add(start)
        out.append(float(lev[start]))
    return out
