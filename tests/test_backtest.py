"""Backtests, law="auto" and prediction intervals on synthetic runs whose true law is known."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.cli import main
from scalefit.laws import evaluate

TRUE_CHINCHILLA = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. (2022), eq. 10
TRUE_SATURATING = {"E": 1.8, "C_c": 2.0e11, "alpha_C": 0.15}


def _sweep(law: str, params: dict, *, noise: float = 0.002, seed: int = 1) -> pd.DataFrame:
    """IsoFLOP-style sweep: 5 budgets 1e17..1e21, 6 sizes each, multiplicative noise on the loss."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in np.logspace(17, 21, 5):
        n_opt = 0.1 * np.sqrt(c / 6)
        for n in n_opt * np.logspace(-0.8, 0.8, 6):
            d = c / (6 * n)
            loss = float(evaluate(law, params, n_params=n, n_tokens=d))
            rows.append(dict(n_params=n, n_tokens=d, flops=c, loss=loss * np.exp(noise * rng.standard_normal())))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("law,params", [("chinchilla", TRUE_CHINCHILLA), ("kaplan-c-e", TRUE_SATURATING)])
def test_auto_chooses_the_true_law(law, params):
    runs = scalefit.read_runs(_sweep(law, params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.fit(runs, "auto")
    auto = res.options["auto"]
    assert res.law.name == law == auto["chosen"]
    assert auto["runner_up"] is not None and auto["runner_up"]["mean_error"] >= auto["scores"][0]["mean_error"]
    text = str(res.summary())
    assert "law='auto' chose" in text and "runner-up" in text


def test_auto_refuses_options_of_one_law():
    runs = scalefit.read_runs(_sweep("chinchilla", TRUE_CHINCHILLA))
    with pytest.raises(scalefit.ScalefitInputError, match="fixed"):
        scalefit.fit(runs, "auto", fixed={"E": 1.69})


def _poison(runs_df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    out = runs_df.copy()
    out.loc[mask, "loss"] = out.loc[mask, "loss"] * 3.0
    return out


def test_poisoned_held_out_rows_do_not_move_the_forecast():
    df = _sweep("chinchilla", TRUE_CHINCHILLA)
    origin = 1e20  # fit below 1e20 FLOPs, forecast the 1e20 and 1e21 budgets
    kw = dict(by="flops", origins=[origin], horizon=None, n_boot=20, seed=3)
    clean = scalefit.backtest(scalefit.read_runs(df), ["chinchilla", "auto"], **kw)
    bad = scalefit.backtest(scalefit.read_runs(_poison(df, df["flops"].to_numpy() >= origin)), ["chinchilla", "auto"], **kw)
    assert len(clean.rows) == 2 * 12
    np.testing.assert_array_equal(clean.rows["prediction"], bad.rows["prediction"])
    np.testing.assert_array_equal(clean.rows["low_0.95"], bad.rows["low_0.95"])
    assert list(clean.rows["chosen"]) == list(bad.rows["chosen"])
    np.testing.assert_allclose(bad.rows["truth"], clean.rows["truth"] * 3.0)
    # the clean forecast of the true law is close; the poisoned truth is far and not covered
    assert clean.laws.set_index("law").loc["chinchilla", "max_error"] < 2.0
    assert not bad.rows["covered_0.95"].any()


@pytest.mark.filterwarnings("ignore::scalefit.CurvesWarning")
def test_no_checkpoint_of_a_held_out_curve_enters_a_fit():
    curves = scalefit.datasets.load_synthetic_curves()
    table = curves.table
    final_flops = table.groupby("run")["flops"].transform("max").to_numpy()
    top = np.sort(np.unique(final_flops))[-1]
    kw = dict(by="flops", origins=[top], n_boot=10, intervals=True)
    clean = scalefit.backtest(curves, ["chinchilla"], **kw)
    # poison every checkpoint of the held-out curves, early ones (with small FLOPs) included
    poisoned = curves.subset(np.ones(len(table), bool))
    poisoned.table.loc[final_flops >= top, "loss"] *= 3.0
    bad = scalefit.backtest(poisoned, ["chinchilla"], **kw)
    assert (table["flops"].to_numpy()[final_flops >= top] < top).any()  # the test has early checkpoints to leak
    np.testing.assert_array_equal(clean.rows["prediction"], bad.rows["prediction"])
    assert clean.rows["run"].nunique() == len(clean.rows)  # one row per held-out run (its final checkpoint)


def test_rolling_origins_rows_and_summaries():
    runs = scalefit.read_runs(_sweep("chinchilla", TRUE_CHINCHILLA))
    res = scalefit.backtest(runs, ["chinchilla", "chinchilla-tied"], by="flops", min_train=2, n_boot=20)
    assert sorted(res.rows["origin"].unique()) == [2, 3, 4]
    assert (res.rows["ratio"] > 1).all()
    assert (res.rows["scale"] > res.rows["train_max"]).all()
    g = res.rows[res.rows["law"] == "chinchilla"]
    row = res.laws.set_index("law").loc["chinchilla"]
    assert row["n"] == 18
    assert row["mean_error"] == pytest.approx(g["abs_error"].mean())
    assert row["max_error"] == pytest.approx(g["abs_error"].max())
    assert row["bias"] == pytest.approx(g["error"].mean())
    assert row["coverage_0.8"] == pytest.approx(g["covered_0.8"].mean())
    assert (g["low_0.95"] <= g["low_0.8"]).all() and (g["high_0.8"] <= g["high_0.95"]).all()
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert len(d["rows"]) == len(res.rows)
    assert "chinchilla" in str(res.summary())


def test_backtest_input_errors():
    runs = scalefit.read_runs(_sweep("chinchilla", TRUE_CHINCHILLA))
    with pytest.raises(scalefit.ScalefitInputError, match="no such column"):
        scalefit.backtest(runs, by="nope")
    with pytest.raises(scalefit.ScalefitInputError, match="leaves no run"):
        scalefit.backtest(runs, origins=[1e30])
    with pytest.raises(scalefit.ScalefitInputError, match="laws is empty"):
        scalefit.backtest(runs, [])
    with pytest.raises(scalefit.ScalefitInputError, match="level"):
        scalefit.backtest(runs, levels=[1.5])


def test_prediction_interval_is_wider_than_confidence_interval():
    runs = scalefit.read_runs(_sweep("chinchilla", TRUE_CHINCHILLA, noise=0.01))
    res = scalefit.fit(runs)
    boot = res.bootstrap(50, seed=0, n_jobs=1, progress=False)
    kw = dict(n_params=[1e9, 1e10], n_tokens=[2e10, 2e11], bootstrap=boot, level=0.9)
    conf = res.predict(interval="confidence", **kw)
    pred = res.predict(interval="prediction", **kw)
    np.testing.assert_allclose(pred["prediction"], res.predict(n_params=[1e9, 1e10], n_tokens=[2e10, 2e11]))
    assert ((pred["high"] - pred["low"]) > (conf["high"] - conf["low"])).all()
    assert ((pred["low"] < pred["prediction"]) & (pred["prediction"] < pred["high"])).all()
    # the noise term is the residual scale: about 1% here
    width = np.log(pred["high"] / pred["low"]).to_numpy()
    assert 2 * 1.645 * 0.007 < width.min() < 2 * 1.645 * 0.02
    with pytest.raises(scalefit.ScalefitInputError, match="interval"):
        res.predict(n_params=1e9, n_tokens=2e10, interval="credible", bootstrap=boot)


def test_cli_backtest_json_has_every_row(capsys):
    code = main(["backtest", "synthetic:isoflop", "--laws", "chinchilla", "--n-boot", "10", "--horizon", "all",
                 "--max-origins", "1", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["options"]["extrapolation"] is True and all(r["per_decade"] >= 0 for r in d["rows"])
    assert main(["backtest", "synthetic:isoflop", "--laws", "chinchilla", "--n-boot", "10", "--horizon", "all",
                 "--max-origins", "1", "--json", "--no-extrapolation"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["options"]["extrapolation"] is False
    assert [r["prediction"] for r in plain["rows"]] == [r["prediction"] for r in d["rows"]]
    assert all(r["per_decade"] is None for r in plain["rows"])  # no term measured; its widening: tests/test_predictive.py
    assert d["laws"][0]["law"] == "chinchilla"
    assert len(d["rows"]) == d["laws"][0]["n"] > 0
    assert {"prediction", "truth", "error", "low_0.95", "high_0.95", "covered_0.95", "ratio"} <= set(d["rows"][0])


def test_cli_fit_law_auto(capsys):
    code = main(["fit", "synthetic:isoflop", "--law", "auto", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["options"]["auto"]["chosen"] == d["law"]


def test_cli_backtest_bad_by(capsys):
    assert main(["backtest", "synthetic:isoflop", "--by", "nope", "--no-intervals"]) == 2
    assert "nope" in capsys.readouterr().err


def test_auto_keeps_the_default_when_there_is_nothing_to_hold_out():
    df = _sweep("kaplan-c-e", TRUE_SATURATING)
    df = df[df["flops"] <= 1e18].reset_index(drop=True)  # two budgets: no inner origin has 3 levels below it
    res = scalefit.fit(scalefit.read_runs(df), "auto")
    assert res.law.name == "chinchilla"
    assert "too few distinct flops levels" in res.options["auto"]["why"]
    assert res.options["auto"]["runner_up"] is None


def test_inner_origins_sit_on_the_log_range():
    from scalefit.fitting._auto import inner_origins

    scale = np.logspace(0, 10, 11)  # levels 1, 10, ..., 1e10
    assert inner_origins(scale) == [1e6, 1e7, 1e8]
    assert inner_origins(np.array([1.0, 2.0, 4.0])) == []


def test_cli_compare_fixed_training_rows_and_space(capsys):
    code = main(["compare", "synthetic:isoflop", "--laws", "chinchilla", "--train-rows", "0-59", "--space", "linear", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["holdout"]["n_holdout"] == 12 == len(d["rows"])
    assert {r["row"] for r in d["rows"]} == set(range(60, 72))


def test_fold_fits_warn_once_and_their_flags_travel_in_the_rows(porian_dir):
    """A fold's fit is not the user's: a fold fit at a bound is said once, in the rows and one summary warning.

    Data: Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9 (``isoflop_points.csv``), the
    rw/tuned/short/const/standard/val configuration below 3.2e18 FLOPs, where some fold fits put B at its bound
    while the full fit does not.
    """
    import warnings

    from scalefit._errors import BoundWarning, FitCarriedWarning

    table = pd.read_csv(porian_dir / "isoflop_points.csv")
    keep = ((table["dataset"] == "rw") & (table["hparams"] == "tuned") & (table["warmup"] == "short")
            & (table["decay"] == "const") & (table["param_count"] == "standard") & (table["loss_split"] == "val")
            & (table["flops"] < 3.2e18))
    runs = scalefit.read_runs(table[keep].drop(columns=["source_file"]))
    fit = scalefit.fit(runs)
    assert fit.trustworthy
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit.predict(n_params=1e9, n_tokens=2e10, interval="prediction")  # its calibration refits below origins
        bt = scalefit.backtest(runs, ["chinchilla"], n_boot=20)
    kinds = [type(w.message) for w in caught]
    assert BoundWarning not in kinds  # not one per fold fit, and none from predict's inner fits
    assert kinds.count(FitCarriedWarning) == 1
    assert not bt.rows["trustworthy"].all() and bt.rows["trustworthy"].any()


def test_summary_says_how_far_the_forecasts_reach_and_shows_no_empty_interval_columns():
    runs = scalefit.read_runs("synthetic:isoflop")
    text = str(scalefit.backtest(runs, ["chinchilla"], intervals=False).summary())
    assert "extrapolation" in text and "x the largest training scale" in text
    assert "cover 95%" not in text and "intervals: prediction intervals" not in text


def test_progress_counts_every_fit_on_stderr(capsys):
    runs = scalefit.read_runs("synthetic:isoflop")
    scalefit.backtest(runs, ["chinchilla", "kaplan-nd"], intervals=False, progress=True)
    err = capsys.readouterr().err
    assert "backtest" in err and "8/8" in err  # 4 origins x 2 laws, each counted when its fit is done
