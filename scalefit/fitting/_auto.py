"""``fit(runs, law="auto")``: choose the law and objective by a nested backtest on the runs given.

The runs given are the only data used.  Their largest scale levels are held
out in turn (:func:`scalefit.fitting.backtest.backtest` with ``horizon=None``:
each inner origin forecasts every level above it, from the last three origins
that leave at least three levels to train on), every candidate (law,
objective) is fitted below each inner origin, and the candidate with the
lowest mean absolute percentage error on the inner held-out runs wins.  It is
then refitted on all the runs.  A candidate that cannot be fitted at some
inner origin is not eligible.  With fewer than four scale levels there is
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
    if n_levels >= 4 and cands:
        for loss, delta, space in CANDIDATE_OBJECTIVES:
            bt = backtest(runs, cands, by=by, min_train=3, horizon=None, max_origins=3, loss=loss, delta=delta,
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
        why = (f"too few distinct {by} levels ({n_levels}; need 4) or no candidate could be fitted below the "
               "inner origins, so the default was kept")
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
