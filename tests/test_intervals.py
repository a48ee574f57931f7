"""The one interval function: bias-corrected percentile intervals that contain their estimate, or warn (issue 11)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from scalefit import IntervalWarning
from scalefit._intervals import percentile_interval


def _lopsided(seed=0):
    """A bootstrap whose draws mostly lie above the estimate (1.5% below), so a 95% percentile interval excludes it."""
    rng = np.random.default_rng(seed)
    draws = rng.normal(0.40, 0.02, 2000)
    return draws, float(np.quantile(draws, 0.015))


def test_plain_percentile_interval_of_a_lopsided_bootstrap_excludes_its_estimate():
    draws, est = _lopsided()
    lo, hi = percentile_interval(draws, 0.95)
    assert not lo <= est <= hi  # the failure issue 11 reports: the estimate outside its own 95% interval


def test_corrected_interval_contains_the_estimate_and_warns():
    draws, est = _lopsided()
    plain = percentile_interval(draws, 0.95)
    with pytest.warns(IntervalWarning, match=r"a = 0\.35\d* lies in the outer 5% of its own bootstrap draws \(1\.5%"):
        lo, hi = percentile_interval(draws, 0.95, estimate=est, what="a")
    assert lo <= est <= hi
    assert lo <= plain[0] and hi >= plain[1]  # never narrower than the plain interval


def test_centred_bootstrap_gives_the_plain_interval_without_warning():
    rng = np.random.default_rng(1)
    draws = rng.normal(0.5, 0.02, 4000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntervalWarning)
        lo, hi = percentile_interval(draws, 0.9, estimate=0.5, what="a")
    plain = percentile_interval(draws, 0.9)
    assert lo == pytest.approx(plain[0], abs=2e-3) and hi == pytest.approx(plain[1], abs=2e-3)


def test_columns_are_corrected_one_by_one():
    draws, est = _lopsided()
    table = np.column_stack([draws, draws])
    with pytest.warns(IntervalWarning, match="second"):
        lo, hi = percentile_interval(table, 0.95, estimate=[0.40, est], what=["first", "second"])
    assert lo[1] <= est <= hi[1] and lo[0] <= 0.40 <= hi[0]


def test_plan_intervals_use_the_correction():
    import pandas as pd

    import scalefit

    point = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    rng = np.random.default_rng(2)
    samples = pd.DataFrame([{**point, "alpha": a} for a in rng.normal(0.3495, 0.005, 300)])  # draws lopsided in alpha
    boot = type("Boot", (), {"samples": samples, "fit": type("Fit", (), {"law": "chinchilla", "params": point})()})()
    with pytest.warns(IntervalWarning, match="n_params"):
        plan = scalefit.compute_optimal(boot, 1e23)
    lo, hi = plan.intervals["n_params"]
    assert lo <= plan.n_params <= hi
