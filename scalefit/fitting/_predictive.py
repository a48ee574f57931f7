"""Confidence and prediction intervals of a fit's forecast.

A *confidence* interval of the loss at new inputs reflects parameter
uncertainty only: the law is evaluated at every bootstrap draw of the
parameters (:func:`scalefit.laws.evaluate`, the one evaluator) and the
percentile interval is read off (:func:`scalefit._intervals.percentile_interval`).

A *prediction* interval is for the loss a new run will actually reach.  It adds
to each bootstrap draw of the prediction (20 draws per resample)

- the run-to-run noise the fit's residuals show, ``sigma * z``, in the space
  the law was fitted in: ``L * exp(sigma z)`` for ``space="log"``,
  ``L + sigma z`` for ``space="linear"``.  ``sigma`` is the residuals' root mean
  square with a degrees-of-freedom correction, ``sqrt(sum w r^2 / (sum w - p))``
  over runs of positive weight, with ``p`` the number of free parameters;
- the error of extrapolating, which neither the bootstrap nor the residuals
  see (a law that is slightly wrong fits the small runs well and drifts as the
  jump grows): ``L * exp(k d z')``, with ``d`` the decades the point lies
  beyond the fit's largest run (0 inside the data) and ``k`` the error per
  decade measured on the fit's own runs by :func:`extrapolation_calibration`.

``z`` and ``z'`` are independent standard normals drawn from
``default_rng([seed, 1])``, so intervals are reproducible.

The calibration is an inner rolling-origin backtest of the same law and
objective on the fit's runs only (origins at 60%, 70% and 80% of their
log-scale range, each forecasting every run above it; the origins of
``law="auto"``): with ``e_i = log(truth_i / forecast_i)`` and ``d_i`` the
decades forecast ``i`` lies beyond its inner training runs,
``k^2 = max(0, sum(e_i^2 - s^2) / sum(d_i^2))``, the least-squares slope of the
squared error against the squared distance once the noise variance ``s^2``
(``sigma`` in log terms) is taken off.  Runs a calibration is judged on never
enter it: in :func:`scalefit.backtest` it is computed from each origin's
training runs.  Too few scale levels for an inner origin (3 below one, 1 above)
leave ``k`` undefined and the interval without the extrapolation term; the
calibration says so.
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError, ScalefitWarning
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


def _log_sigma(fit_result: Any) -> float:
    """``residual_sigma`` as a relative (log) scale: divided by the median loss for linear-space fits."""
    s = residual_sigma(fit_result)
    if fit_result.options.get("space", "log") != "log":
        s = s / float(np.median(np.asarray(fit_result.problem.loss, float)))
    return s


def per_decade(log_errors: Any, decades: Any, noise: float) -> float:
    """Extrapolation error per decade ``k`` from inner forecasts: ``sqrt(max(0, sum(e^2 - s^2) / sum(d^2)))``."""
    e = np.asarray(log_errors, float)
    d = np.asarray(decades, float)
    ok = np.isfinite(e) & np.isfinite(d) & (d > 0)
    if not ok.any():
        return float("nan")
    s2 = noise ** 2 if np.isfinite(noise) else 0.0
    return float(np.sqrt(max(0.0, float(np.sum(e[ok] ** 2 - s2)) / float(np.sum(d[ok] ** 2)))))


def calibration_from_rows(fit_result: Any, rows: pd.DataFrame, *, by: str, origins: list) -> dict:
    """The calibration record (see :func:`extrapolation_calibration`) from an inner backtest's per-run rows."""
    from .backtest import run_units

    noise = _log_sigma(fit_result)
    _, scale = run_units(fit_result.runs, by)
    rec: dict[str, Any] = dict(by=by, train_max=float(np.max(scale)), noise=noise, origins=[float(o) for o in origins])
    if len(rows):
        e = np.log(rows["truth"].to_numpy(float) / rows["prediction"].to_numpy(float))
        d = np.log10(rows["ratio"].to_numpy(float))
        rec.update(per_decade=per_decade(e, d, noise), n=int(len(rows)), rms_log_error=float(np.sqrt(np.mean(e ** 2))),
                   mean_decades=float(np.mean(d)), why="inner backtest on the fit's own runs")
    else:
        rec.update(per_decade=float("nan"), n=0, rms_log_error=float("nan"), mean_decades=float("nan"),
                   why=f"too few distinct {by} levels for an inner origin (3 below, 1 above) or the law could not be "
                       "fitted below one: the interval has no extrapolation term")
    return rec


def extrapolation_calibration(fit_result: Any, *, by: str = "flops") -> dict:
    """Measure how a fit's law errs as it extrapolates, on the fit's own runs only.

    Parameters
    ----------
    fit_result : FitResult
        A fit with its runs; the same law and objective (``loss``, ``delta``,
        ``space``, ``fixed``, ``tie``, ``bounds``) are refitted below each inner origin.
    by : str, default "flops"
        The scale distances are measured along (``"flops"``, ``"n_params"`` or a column).

    Returns
    -------
    dict
        ``by``, ``train_max`` (the largest scale fitted), ``per_decade`` (``k``,
        log-loss error per decade of extrapolation; NaN when it cannot be
        measured), ``noise`` (the residual scale ``s``), ``n`` (inner
        forecasts), ``origins``, ``rms_log_error``, ``mean_decades`` and ``why``.
    """
    from .backtest import backtest, run_units
    from ._auto import inner_origins

    if fit_result.runs is None:
        raise ScalefitInputError("this fit has no runs (a loaded fit?), so its extrapolation error cannot be measured; "
                                 "pass extrapolation=False.", option="extrapolation")
    o = fit_result.options
    _, scale = run_units(fit_result.runs, by)
    origins = inner_origins(scale)
    rows = pd.DataFrame()
    if origins:
        extra = {k: o[k] for k in ("fixed", "tie", "bounds") if o.get(k)}
        with warnings.catch_warnings():  # the inner fits are not the user's fit: their warnings would mislead
            warnings.simplefilter("ignore", ScalefitWarning)
            bt = backtest(fit_result.runs, [fit_result.law], by=by, origins=origins, horizon=None,
                          loss=o.get("loss", "huber"), delta=o.get("delta", 1e-3), space=o.get("space", "log"),
                          intervals=False, fit_options=extra)
        rows = bt.rows
    return calibration_from_rows(fit_result, rows, by=by, origins=origins)


def _point_scale(fit_result: Any, inputs: Mapping[str, np.ndarray], by: str) -> np.ndarray:
    """The ``by`` scale of each forecast point (flops from ``k N D`` when not given)."""
    if by in inputs:
        return np.asarray(inputs[by], float)
    if by == "flops" and "n_params" in inputs and "n_tokens" in inputs:
        k = fit_result.runs.flops_per_param_token if fit_result.runs is not None else 6.0
        return k * np.asarray(inputs["n_params"], float) * np.asarray(inputs["n_tokens"], float)
    raise ScalefitInputError(
        f"the extrapolation term measures distance in {by!r}, which these inputs do not give ({sorted(inputs)}); "
        f"pass {by}=... or extrapolation=False.", option="extrapolation", values=[by],
    )


def forecast_draws(fit_result: Any, boot: Any, inputs: Mapping[str, Any], *, interval: str, seed: int = 0,
                   calibration: Mapping[str, Any] | None = None, scale: Any = None) -> np.ndarray:
    """Draws of the loss at ``inputs``, shape (draws, points).

    One per resample for ``"confidence"``; 20 per resample for ``"prediction"``,
    each with residual noise and, when ``calibration`` (from
    :func:`extrapolation_calibration`) is given, the extrapolation term, whose
    distance uses ``scale`` (each point's scale along ``calibration["by"]``;
    by default read or derived from ``inputs``).
    """
    if interval not in _KINDS:
        raise ScalefitInputError(f"interval must be one of {list(_KINDS)} or None; got {interval!r}.", option="interval")
    k = fit_result.runs.flops_per_param_token if fit_result.runs is not None else 6.0
    draws = {c: boot.samples[c].to_numpy(float)[:, None] for c in boot.samples.columns}
    flat = {n: np.atleast_1d(np.asarray(v, float)) for n, v in inputs.items() if v is not None}
    out = np.asarray(evaluate(fit_result.law, draws, flops_per_param_token=k, where="predict()", **flat), float)
    out = np.atleast_2d(out)
    if interval == "prediction":
        if calibration is not None and scale is None:
            scale = _point_scale(fit_result, flat, calibration["by"])
        out = with_run_noise(fit_result, out, seed=seed, calibration=calibration, scale=scale)
    return out


def with_run_noise(fit_result: Any, out: np.ndarray, *, seed: int = 0, calibration: Mapping[str, Any] | None = None,
                   scale: Any = None) -> np.ndarray:
    """Draws of the mean loss (draws, points) -> draws of a new run's loss: each repeated :data:`_NOISE_PER_DRAW`
    times with the residuals' run-to-run noise and, with ``calibration``, the extrapolation term at ``scale``
    (each point's scale along ``calibration["by"]``)."""
    sigma = residual_sigma(fit_result)
    out = np.repeat(np.atleast_2d(out), _NOISE_PER_DRAW, axis=0)
    rng = np.random.default_rng([int(seed), 1])
    z = rng.standard_normal(out.shape)
    if fit_result.options.get("space", "log") == "log":
        out = out * np.exp(sigma * z)
    else:
        out = out + sigma * z
    if calibration is not None and np.isfinite(calibration.get("per_decade", np.nan)):
        dec = np.maximum(0.0, np.log10(np.broadcast_to(scale, out.shape[1:]) / calibration["train_max"]))
        out = out * np.exp(calibration["per_decade"] * dec * rng.standard_normal(out.shape))
    return out


def interval_frame(fit_result: Any, inputs: Mapping[str, Any], *, interval: str, level: float = 0.95,
                   bootstrap: Any = None, n_boot: int = 200, seed: int = 0, extrapolation: bool = True,
                   by: str | None = None) -> pd.DataFrame:
    """Point forecast and ``level`` interval at ``inputs``: columns ``prediction``, ``low``, ``high``.

    The bootstrap is run with ``n_boot`` resamples (``seed``) when none is given.
    With ``interval="prediction"`` and ``extrapolation``, the extrapolation term
    is calibrated on the fit's runs along ``by`` (default: the scale a ``law="auto"``
    fit chose along, else ``"flops"``; :func:`extrapolation_calibration`; a
    ``law="auto"`` fit reuses the calibration its choice measured); the frame's
    ``attrs["calibration"]`` holds it.
    """
    check_level(level)
    by = by or (fit_result.options.get("auto") or {}).get("by", "flops")
    if bootstrap is None:
        bootstrap = fit_result.bootstrap(n_boot, seed=seed, n_jobs=1, progress=False)
    given = {n: v for n, v in inputs.items() if v is not None}
    k = fit_result.runs.flops_per_param_token if fit_result.runs is not None else 6.0
    point = np.atleast_1d(evaluate(fit_result.law, fit_result.params, flops_per_param_token=k, where="predict()", **given))
    calibration = None
    if interval == "prediction" and extrapolation:
        calibration = stored_calibration(fit_result, by) or extrapolation_calibration(fit_result, by=by)
    draws = forecast_draws(fit_result, bootstrap, given, interval=interval, seed=seed, calibration=calibration)
    low, high = percentile_interval(draws, level, axis=0)
    frame = {n: np.broadcast_to(np.atleast_1d(np.asarray(v, float)), point.shape) for n, v in given.items()}
    frame.update(prediction=point, low=np.atleast_1d(low), high=np.atleast_1d(high))
    out = pd.DataFrame(frame)
    if calibration is not None:
        out.attrs["calibration"] = dict(calibration)
    return out


def stored_calibration(fit_result: Any, by: str) -> dict | None:
    """The calibration a ``law="auto"`` fit measured while choosing (same law, objective and runs), if along ``by``."""
    cal = (fit_result.options.get("auto") or {}).get("calibration")
    return dict(cal) if cal and cal.get("by") == by else None
