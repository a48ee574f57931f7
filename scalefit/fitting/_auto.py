"""``fit(runs, law="auto")``: choose the law and objective by a nested backtest on the runs given.

The runs given are the only data used.  Their largest scales are held out in
turn (:func:`scalefit.fitting.backtest.backtest` with ``horizon=None``): inner
origins sit at 60%, 70% and 80% of the runs' log-scale range (each with at
least three scale levels below it), each forecasts every run above it, and
every candidate (law, objective) is fitted below each inner origin.  A
candidate that cannot be fitted at some inner origin is not eligible.

The default (``chinchilla``, Huber in log space) is kept unless a candidate
beats it on the inner forecasts in a way the inner backtest can resolve:

- its mean absolute percentage error is lower than the default's by more than
  two standard errors of the paired difference (the same inner forecasts,
  candidate minus default), and
- its worst inner error is no larger than the default's (a law that forecasts
  better on average but fails worse at the far end is not preferred).

Among the candidates that pass, the lowest mean error wins.  The choice is then
refitted on all the runs.  When no inner origin has three levels below it
there is nothing to hold out and the default is fitted, saying so.  The inner
forecasts of the chosen candidate also calibrate its extrapolation error per
decade (:func:`scalefit.fitting._predictive.calibration_from_rows`), kept in
``options["auto"]["calibration"]`` for prediction intervals.

Because a backtest that itself contains ``"auto"`` calls this on each outer
origin's training runs only, the choice never sees the runs it is judged on.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..laws import get_law

#: Candidate laws; those whose inputs the runs lack are left out.
CANDIDATE_LAWS = ("chinchilla", "chinchilla-tied", "kaplan-c-e", "kaplan-n-e")
#: Candidate objectives: (loss, delta, space).
CANDIDATE_OBJECTIVES = (("huber", 1e-3, "log"), ("mse", 1e-3, "log"))
DEFAULT = ("chinchilla", "huber", 1e-3, "log")
#: Where the inner origins sit, as fractions of the log-scale range of the runs given.
INNER_FRACTIONS = (0.6, 0.7, 0.8)
#: Standard errors of the paired mean difference a candidate must beat the default by.
MARGIN_SE = 1.0


def fit_auto(runs: Any, *, by: str = "flops", seed: int = 0, laws: Sequence[str] | None = None,
             **fit_kw: Any) -> Any:
    """Fit the (law, objective) that forecast the runs' own largest scales best; see the module docstring."""
    from ._fit import fit
    from ._predictive import calibration_from_rows
    from .backtest import backtest, run_units, scale_levels

    cands = [get_law(n) for n in (laws or CANDIDATE_LAWS)]
    cands = [law for law in cands if all(k in runs.table.columns for k in law.inputs)]
    _, scale = run_units(runs, by)
    n_levels = scale_levels(scale).size
    scores: list[dict] = []
    inner: dict[tuple, pd.DataFrame] = {}
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
                inner[(r["law"], loss, delta, space)] = bt.rows[bt.rows["law"] == r["law"]].reset_index(drop=True)
                scores.append(dict(law=r["law"], loss=loss, delta=delta, space=space, mean_error=r["mean_error"],
                                   max_error=r["max_error"], n=r["n"], origins=n_origins))
    runner = None
    if scores:
        scores.sort(key=lambda s: s["mean_error"])
        choice, why, runner = _choose(scores, inner, by)
    else:
        why = (f"too few distinct {by} levels ({n_levels}; need 3 below an inner origin and 1 above) or no "
               "candidate could be fitted below the inner origins, so the default was kept")
        choice = DEFAULT
    law, loss, delta, space = choice
    result = fit(runs, law, loss=loss, delta=delta, space=space, seed=seed, **fit_kw)
    rows = inner.get(choice, pd.DataFrame())
    auto = dict(
        chosen=law, objective=f"{loss}/{space}", why=why,
        runner_up=None if runner is None else dict(law=runner["law"], objective=f"{runner['loss']}/{runner['space']}",
                                                   mean_error=runner["mean_error"]),
        scores=scores, by=by,
        calibration=calibration_from_rows(result, rows, by=by, origins=origins),
    )
    return dataclasses.replace(result, options={**result.options, "auto": auto})


def _key(s: dict) -> tuple:
    return (s["law"], s["loss"], s["delta"], s["space"])


def _choose(scores: list[dict], inner: dict[tuple, pd.DataFrame], by: str) -> tuple[tuple, str, dict | None]:
    """Apply the rule of the module docstring to the scored candidates (sorted by mean error)."""
    base = next((s for s in scores if _key(s) == DEFAULT), None)
    evidence = f"{scores[0]['n']} forecasts of the runs' own largest {by} levels from {scores[0]['origins']} inner origins"
    if base is None:  # the default could not be fitted below every inner origin
        best = scores[0]
        return (_key(best), f"the default could not be fitted at every inner origin; lowest mean error, "
                f"{best['mean_error']:.3g}% ({evidence})", scores[1] if len(scores) > 1 else None)
    d_err = inner[DEFAULT]["abs_error"].to_numpy(float)
    for s in scores:
        diff = inner[_key(s)]["abs_error"].to_numpy(float) - d_err
        s["paired_diff"] = float(np.mean(diff))
        s["paired_se"] = float(np.std(diff, ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else float("inf")
    passing = [s for s in scores if _key(s) != DEFAULT and s["max_error"] <= base["max_error"]
               and s["paired_diff"] + MARGIN_SE * s["paired_se"] < 0]
    if passing:
        best = passing[0]
        why = (f"mean error {best['mean_error']:.3g}% against the default's {base['mean_error']:.3g}% (paired difference "
               f"{best['paired_diff']:+.3g} points, standard error {best['paired_se']:.2g}), worst {best['max_error']:.3g}% "
               f"against {base['max_error']:.3g}% ({evidence})")
        return _key(best), why, base
    others = [s for s in scores if _key(s) != DEFAULT]
    runner: dict | None = others[0] if others else None
    why = (f"the default, {base['mean_error']:.3g}% mean and {base['max_error']:.3g}% worst error: no candidate was "
           f"better by more than {MARGIN_SE:g} standard errors of the paired difference without a larger worst error "
           f"({evidence})")
    return DEFAULT, why, runner


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
