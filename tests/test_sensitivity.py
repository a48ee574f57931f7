"""The sensitivity table: how a, N* and D* move across objectives, and the warning when they disagree (issue 11)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalefit
from scalefit.cli import main
from scalefit.datasets import load_synthetic


def _with_outliers():
    df = load_synthetic().table[["n_params", "n_tokens", "loss"]].copy()
    idx = np.random.default_rng(0).choice(len(df), 6, replace=False)
    df.loc[idx, "loss"] *= 1.5  # six runs 50% above the law: Huber shrugs them off, least squares does not
    return df


def test_objectives_that_disagree_warn_and_say_by_how_much():
    fit = scalefit.fit(_with_outliers())
    with pytest.warns(scalefit.SensitivityWarning, match=r"The objective changes the answer: a = 0\.4\d\d .* apart"):
        sens = fit.sensitivity([1e22, 1e24])
    assert sens.disagree
    assert list(sens.table["objective"])[0].startswith("Huber on log-loss")
    assert sens.spread_a > 1.96 * sens.a_stderr
    text = str(sens.summary())
    assert "least squares on loss" in text and "N* at 1e+24" in text
    assert json.loads(json.dumps(sens.to_dict()))["disagree"] is True


def test_objectives_that_agree_do_not_warn():
    law = scalefit.get_law("chinchilla")
    n = np.repeat(np.geomspace(1e8, 1e10, 6), 4)
    d = np.tile([2e9, 8e9, 3e10, 1e11], 6)
    params = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. (2022), eq. 10
    import pandas as pd

    df = pd.DataFrame(dict(n_params=n, n_tokens=d, loss=law(params, n_params=n, n_tokens=d)))
    fit = scalefit.fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.SensitivityWarning)
        sens = fit.sensitivity([1e24])
    assert not sens.disagree
    np.testing.assert_allclose(sens.table["a"], 0.28 / 0.62, rtol=1e-5)


def test_a_within_its_noise_but_n_star_far_apart_is_not_called_agreement():
    """Far out, a move of a within its standard error still moves N* by more than 20%: that is said, and warned."""
    df = load_synthetic().table[["n_params", "n_tokens", "loss"]].copy()
    idx = np.random.default_rng(0).choice(len(df), 2, replace=False)
    df.loc[idx, "loss"] *= 1.14  # two runs 14% high: the objectives' a differ by ~1.5 standard errors
    fit = scalefit.fit(df)
    with pytest.warns(scalefit.SensitivityWarning, match=r"agree on a within its noise .* N\* at 1e\+28 FLOPs moves by up to"):
        sens = fit.sensitivity([1e28])
    assert not sens.disagree and sens.spread_a <= 1.96 * sens.a_stderr
    assert sens.spread_n_opt > 0.2
    assert not sens.message.startswith("The objectives agree:")


def test_cli_fit_json_and_plan_carry_the_sensitivity(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    _with_outliers().to_csv(path, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(path), "--out", str(out), "--sensitivity-flops", "1e24"]) == 0
    err = capsys.readouterr().err
    assert "SensitivityWarning" in err
    saved = json.loads(out.read_text())
    assert saved["sensitivity"]["disagree"] is True and saved["sensitivity"]["budgets"] == [1e24]
    assert main(["plan", "--fit", str(out), "--flops", "1e24", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["sensitivity"]["message"].startswith("The objective changes the answer")


def test_the_standard_error_of_a_comes_from_the_bootstrap_when_given():
    fit = scalefit.fit(load_synthetic())
    boot = fit.bootstrap(50, seed=0, n_jobs=1, progress=False)
    sens = fit.sensitivity([1e24], bootstrap=boot)
    a_draws = boot.samples["beta"] / (boot.samples["alpha"] + boot.samples["beta"])
    assert sens.a_stderr == pytest.approx(float(a_draws.std(ddof=1)), rel=1e-12)
