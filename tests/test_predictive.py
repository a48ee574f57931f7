"""Prediction intervals widened by the extrapolation error measured on the fit's own runs, and auto's choice rule."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.fitting import _auto
from scalefit.fitting._predictive import extrapolation_calibration, per_decade
from scalefit.laws import evaluate

TRUE_CHINCHILLA = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. (2022), eq. 10


def _sweep(noise: float = 0.003, seed: int = 1) -> pd.DataFrame:
    """IsoFLOP sweep of the Chinchilla law: 6 budgets 1e17..1e20, 6 sizes each, multiplicative noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in np.logspace(17, 20, 6):
        n_opt = 0.1 * np.sqrt(c / 6)
        for n in n_opt * np.logspace(-0.8, 0.8, 6):
            d = c / (6 * n)
            loss = float(evaluate("chinchilla", TRUE_CHINCHILLA, n_params=n, n_tokens=d))
            rows.append(dict(n_params=n, n_tokens=d, flops=c, loss=loss * np.exp(noise * rng.standard_normal())))
    return pd.DataFrame(rows)


def test_per_decade_is_the_slope_of_squared_error_on_squared_distance():
    # hand computation of the docstring's formula: k^2 = ((0.02^2 - 0.01^2) + (0.04^2 - 0.01^2)) / (1^2 + 2^2)
    assert per_decade([0.02, -0.04], [1.0, 2.0], 0.01) == pytest.approx(np.sqrt((3e-4 + 1.5e-3) / 5))
    assert per_decade([0.005, -0.004], [1.0, 2.0], 0.01) == 0.0  # errors within the noise: no extrapolation term
    assert np.isnan(per_decade([0.01], [0.0], 0.01))  # no forecast beyond its training runs: nothing measured


@pytest.fixture(scope="module")
def fits():
    runs = scalefit.read_runs(_sweep())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalefit.fit(runs, "chinchilla"), scalefit.fit(runs, "kaplan-n-e")


def test_a_wrong_law_measures_a_larger_extrapolation_error(fits):
    right, wrong = fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal_right, cal_wrong = extrapolation_calibration(right), extrapolation_calibration(wrong)
    assert cal_right["n"] == cal_wrong["n"] > 0
    assert cal_right["train_max"] == pytest.approx(1e20)
    # kaplan-n-e ignores the tokens, so at a fixed size it cannot follow the sweep: it errs far more as it extrapolates
    assert cal_wrong["per_decade"] > 5 * cal_right["per_decade"]
    assert cal_wrong["per_decade"] > 0.01


def test_prediction_interval_widens_with_the_jump(fits):
    _, wrong = fits
    boot = wrong.bootstrap(30, seed=0, n_jobs=1, progress=False)
    n = np.array([1e8, 1e10])  # 1.2e18 FLOPs, inside the data; 1.2e22, 2.08 decades beyond its largest run (1e20)
    kw = dict(n_params=n, n_tokens=20 * n, bootstrap=boot, level=0.95)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wide = wrong.predict(interval="prediction", **kw)
        plain = wrong.predict(interval="prediction", extrapolation=False, **kw)
    w, w0 = np.log(wide["high"] / wide["low"]).to_numpy(), np.log(plain["high"] / plain["low"]).to_numpy()
    assert w[0] == w0[0]  # no extrapolation term inside the data
    k = wide.attrs["calibration"]["per_decade"]
    assert k > 0 and wide.attrs["calibration"]["by"] == "flops"
    # independent normal terms in log space add in quadrature: the 95% width grows to sqrt(w0^2 + (2 z k d)^2)
    d = np.log10(6 * 1e10 * 2e11 / 1e20)
    assert w[1] == pytest.approx(np.hypot(w0[1], 2 * 1.96 * k * d), rel=0.05)
    assert w[1] > 1.5 * w0[1]


def test_auto_reuses_the_calibration_of_its_own_inner_backtest():
    runs = scalefit.read_runs(_sweep())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.fit(runs, "auto")
        stored = res.options["auto"]["calibration"]
        again = extrapolation_calibration(res, by="flops")
    assert stored["n"] == again["n"] > 0
    assert stored["per_decade"] == pytest.approx(again["per_decade"], rel=1e-9, abs=1e-12)


def _inner(errors: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"abs_error": errors})


def _score(law, loss, errors):
    e = np.asarray(errors, float)
    return dict(law=law, loss=loss, delta=1e-3, space="log", mean_error=float(e.mean()), max_error=float(e.max()),
                n=e.size, origins=3)


@pytest.mark.parametrize("default,cand,chosen", [
    # better on every inner forecast (paired SE 0) and a smaller worst error: the candidate
    ([2.0] * 6, [1.0] * 6, "chinchilla-tied"),
    # far better on average but a larger worst error (2.5 > 2.0): the default
    ([2.0] * 6, [0.5] * 5 + [2.5], "chinchilla"),
    # lower mean (paired difference -0.033) but by less than one paired standard error (0.042): the default
    ([2.0, 1.9, 2.1, 2.0, 2.0, 2.0], [1.8, 2.0, 2.0, 2.0, 2.0, 2.0], "chinchilla"),
])
def test_choice_rule(default, cand, chosen):
    assert _auto.MARGIN_SE == 1.0
    scores = sorted([_score("chinchilla", "huber", default), _score("chinchilla-tied", "huber", cand)],
                    key=lambda s: s["mean_error"])
    inner = {("chinchilla", "huber", 1e-3, "log"): _inner(default), ("chinchilla-tied", "huber", 1e-3, "log"): _inner(cand)}
    choice, why, runner = _auto._choose(scores, inner, "flops")
    assert choice[0] == chosen
    assert runner is not None and runner["law"] != chosen
    assert why.startswith("the default") == (chosen == "chinchilla")
