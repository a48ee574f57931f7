"""Confidence and prediction intervals of a fit's forecast.

A *confidence* interval of the loss at new inputs reflects parameter
uncertainty only: the law is evaluated at every bootstrap draw of the
parameters (:func:`scalefit.laws.evaluate`, the one evaluator) and the
percentile interval is read off (:func:`scalefit._intervals.percentile_interval`).

A *prediction* interval is for the loss a new run will actually reach: it
adds the run-to-run noise the fit's residuals show.  Each bootstrap draw of
the prediction gets one independent noise draw ``sigma * z`` (``z`` standard
normal), in the space the law was fitted in: ``L * exp(sigma z)`` for
``space="log"``, ``L + sigma z`` for ``space="linear"``.  ``sigma`` is the
residuals' root mean square with a degrees-of-freedom correction,
``sqrt(sum w r^2 / (sum w - p))`` over runs of positive weight, with ``p`` the
number of free parameters.  The noise draws use ``default_rng([seed, 1])``, so
intervals are reproducible.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError
from .._intervals import percentile_interval
from .._validation import check_level
from ..laws import evaluate

_KINDS = ("confidence", "prediction")
#: Noise draws per parameter draw, so that the tails of a prediction interval are read off many draws.
_NOISE_PER_DRAW = 20


def residual_sigma(fit_result: Any) -> float:
    """Run-to-run noise of a fit: the weighted RMS residual in the fitted space, corrected for degrees of freedom."""
    r = np.asarray(fit_result.residuals, float)
    w = np.asarray(fit_result.problem.weights, float)
    ok = (w > 0) & np.isfinite(r)
    dof = float(np.sum(w[ok])) - fit_result.problem.spec.n_free
    if dof <= 0:
        return float("nan")
    return float(np.sqrt(np.sum(w[ok] * r[ok] ** 2) / dof))


def forecast_draws(fit_result: Any, boot: Any, inputs: Mapping[str, Any], *, interval: str, seed: int = 0) -> np.ndarray:
    """Draws of the loss at ``inputs``, shape (draws, points): one per resample, or 20 per resample with noise for ``"prediction"``."""
    if interval not in _KINDS:
        raise ScalefitInputError(f"interval must be one of {list(_KINDS)} or None; got {interval!r}.", option="interval")
    k = fit_result.runs.flops_per_param_token if fit_result.runs is not None else 6.0
    draws = {c: boot.samples[c].to_numpy(float)[:, None] for c in boot.samples.columns}
    flat = {n: np.atleast_1d(np.asarray(v, float)) for n, v in inputs.items() if v is not None}
    out = np.asarray(evaluate(fit_result.law, draws, flops_per_param_token=k, where="predict()", **flat), float)
    out = np.atleast_2d(out)
    if interval == "prediction":
        sigma = residual_sigma(fit_result)
        out = np.repeat(out, _NOISE_PER_DRAW, axis=0)
        z = np.random.default_rng([int(seed), 1]).standard_normal(out.shape)
        if fit_result.options.get("space", "log") == "log":
            out = out * np.exp(sigma * z)
        else:
            out = out + sigma * z
    return out


def interval_frame(fit_result: Any, inputs: Mapping[str, Any], *, interval: str, level: float = 0.95,
                   bootstrap: Any = None, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Point forecast and ``level`` interval at ``inputs``: columns ``prediction``, ``low``, ``high``.

    The bootstrap is run with ``n_boot`` resamples (``seed``) when none is given.
    """
    check_level(level)
    if bootstrap is None:
        bootstrap = fit_result.bootstrap(n_boot, seed=seed, n_jobs=1, progress=False)
    given = {n: v for n, v in inputs.items() if v is not None}
    k = fit_result.runs.flops_per_param_token if fit_result.runs is not None else 6.0
    point = np.atleast_1d(evaluate(fit_result.law, fit_result.params, flops_per_param_token=k, where="predict()", **given))
    draws = forecast_draws(fit_result, bootstrap, given, interval=interval, seed=seed)
    low, high = percentile_interval(draws, level, axis=0)
    frame = {n: np.broadcast_to(np.atleast_1d(np.asarray(v, float)), point.shape) for n, v in given.items()}
    frame.update(prediction=point, low=np.atleast_1d(low), high=np.atleast_1d(high))
    return pd.DataFrame(frame)
