"""scalefit.compare: extrapolation checks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.laws import get_law

HOFFMANN = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. (2022) eq. 10


def _sweep(seed=0, sigma=0.005):
    """IsoFLOP-like sweep: 7 budgets x 9 sizes from the Chinchilla law with noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.geomspace(1e18, 1e22, 7):
        n_opt = 0.6 * (C / 6) ** 0.45
        for N in n_opt * np.geomspace(0.1, 10, 9):
            D = C / (6 * N)
            rows.append((N, D, C))
    N, D, C = map(np.array, zip(*rows))
    L = get_law("chinchilla")(HOFFMANN, n_params=N, n_tokens=D) * np.exp(rng.normal(0, sigma, N.size))
    return pd.DataFrame(dict(n_params=N, n_tokens=D, flops=C, loss=L))


def test_true_law_wins():
    res = scalefit.compare(_sweep(), ["kaplan-nd", "chinchilla", "kaplan-n"], holdout_flops=2e21)
    assert res.best == "chinchilla"
    t = res.table.set_index("law")
    assert t.loc["chinchilla", "mape"] < 1.0
    assert t.loc["chinchilla", "aic"] < t.loc["kaplan-nd", "aic"]
    assert res.holdout.sum() == 18  # budgets 2.15e21 and 1e22
    d = res.to_dict()
    assert d["best"] == "chinchilla" and len(d["laws"]) == 3
    assert "held out" in str(res.summary())


def test_holdout_rules():
    df = _sweep()
    r = scalefit.compare(df, ["chinchilla"], holdout_fraction=0.25)
    assert r.holdout.sum() == round(0.25 * len(df))
    assert df["flops"].to_numpy()[r.holdout].min() >= df["flops"].to_numpy()[~r.holdout].max()
    r = scalefit.compare(df, ["chinchilla"], holdout_params=df["n_params"].quantile(0.8))
    assert r.holdout.sum() > 0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(laws=[]), "laws is empty"),
        (dict(holdout_flops=1e30), "selects no run"),
        (dict(holdout_flops=1.0), "selects every run"),
        (dict(holdout_fraction=1.5), "strictly between 0 and 1"),
        (dict(holdout_flops=1e20, holdout_params=1e9), "one hold-out rule"),
    ],
)
def test_bad_compare_input(kwargs, match):
    kwargs.setdefault("laws", ["chinchilla"])
    with pytest.raises(ScalefitInputError, match=match):
        scalefit.compare(_sweep(), **kwargs)


def test_training_curves_are_held_out_whole():
    curves = scalefit.datasets.load_synthetic_curves()
    with pytest.warns(scalefit.CurvesWarning):
        res = scalefit.compare(curves, ["chinchilla"], holdout_fraction=0.2)
    table = curves.table
    held, kept = set(table["run"][res.holdout]), set(table["run"][~res.holdout])
    assert len(held) == 6 and not held & kept  # no run has checkpoints on both sides
    assert "whole training curves held out" in res.rule


def test_compare_per_run_rows_and_fixed_training_set():
    """A fixed training set (input row numbers) is fitted as given; every other row gets a per-run row."""
    runs = scalefit.read_runs(_sweep())
    small = runs.table.loc[runs.table["flops"] <= 2e21, "row"].tolist()
    fixed = scalefit.compare(runs, ["chinchilla"], train_rows=small)
    rule = scalefit.compare(runs, ["chinchilla"], holdout_flops=2e21)
    assert fixed.fits_train["chinchilla"].params == rule.fits_train["chinchilla"].params
    assert len(fixed.rows) == int(fixed.holdout.sum()) == int(rule.holdout.sum())
    np.testing.assert_allclose(fixed.rows["error"].abs().mean(), fixed.table["mape"].iloc[0])
    assert set(fixed.rows["row"]).isdisjoint(small)
    assert len(fixed.to_dict()["rows"]) == len(fixed.rows)
    with pytest.raises(scalefit.ScalefitInputError, match="train_rows names"):
        scalefit.compare(runs, ["chinchilla"], train_rows=[10_000])
