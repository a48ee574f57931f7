"""Tests of scalefit.envelope (Approach 1 of Hoffmann et al., 2022).

Synthetic curves follow the Chinchilla law with Hoffmann et al.'s (2022, eq. 10)
parameters, whose compute-optimal exponent is a = beta/(alpha+beta) = 0.4516.
"""
from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.approaches import EnvelopeResult, IsoFLOPWarning, envelope

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
A_TRUE = BETA / (ALPHA + BETA)


SIZES = np.logspace(7, 9.5, 17)


def curves(seed=0, *, sizes=SIZES, tokens_per_param=(400,), n_ckpt=40, noise=0.002, start=0.5):
    """One run per (size, length); checkpoints log-spaced from start*N to length*N tokens."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, n in enumerate(sizes):
        for r in tokens_per_param:
            d = np.logspace(np.log10(start * n), np.log10(r * n), n_ckpt)
            loss = E + A / n**ALPHA + B / d**BETA + rng.normal(0, noise, n_ckpt)
            rows += [{"model": f"m{i}", "length": r, "step": j + 1, "n_params": n, "n_tokens": dj,
                      "flops": 6 * n * dj, "loss": lj} for j, (dj, lj) in enumerate(zip(d, loss))]
    return pd.DataFrame(rows)


def read(df, **kw):
    return scalefit.read_runs(df, run_id=["model", "length"], **kw)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalefit.ScalefitWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ recovery
def test_recovers_chinchilla_exponent_from_curves():
    res = quiet(envelope, read(curves()), bootstrap=200)
    assert abs(res.a - A_TRUE) < 0.02
    assert abs(res.b - (1 - A_TRUE)) < 0.02
    lo, hi = res.interval("a")
    assert lo < res.a < hi
    fr = res.frontier
    assert list(fr.columns[:4]) == ["flops", "n_params", "n_tokens", "loss"]
    assert fr["flops"].is_monotonic_increasing
    np.testing.assert_allclose(fr["flops"], 6 * fr["n_params"] * fr["n_tokens"], rtol=1e-6)
    # the envelope is the lowest loss: no run's checkpoint lies clearly below it
    assert res.success and res.n_runs == 17


def test_edge_points_are_flagged_and_left_out_by_default():
    runs = read(curves())
    res = quiet(envelope, runs, bootstrap=0)
    fr = res.frontier
    edge = fr["flags"].map(lambda f: "edge" in f)
    assert edge.any() and (~fr.loc[edge, "used"]).all() and fr.loc[~edge, "used"].all()
    # at the largest FLOPs only the largest model reaches: it wins and is an edge point
    assert fr["flags"].iloc[-1] == ("edge",) and fr["n_models"].iloc[-1] == 1
    kept = quiet(envelope, runs, bootstrap=0, exclude_flags=())
    assert kept.frontier["used"].all() and kept.a != res.a
    with pytest.warns(IsoFLOPWarning, match="frontier point"):
        envelope(runs, bootstrap=0)


def test_envelope_takes_best_run_of_each_size():
    # a second, worse run per size (e.g. a bad learning rate) never holds the envelope
    good = curves(1)
    bad = good.assign(length=-1, loss=good["loss"] + 0.05)
    res = quiet(envelope, read(pd.concat([good, bad], ignore_index=True)), bootstrap=0)
    assert not res.frontier["run"].astype(str).str.endswith("|-1").any()
    assert res.a == pytest.approx(quiet(envelope, read(good), bootstrap=0).a, abs=1e-9)


def test_final_only_uses_pareto_final_checkpoints():
    df = curves(2, sizes=np.logspace(7, 9.5, 11), tokens_per_param=(2, 5, 10, 20, 40, 80, 160))
    runs = read(df)
    res = quiet(envelope, runs, final_only=True, bootstrap=100)
    assert res.dropped["not_final"] == len(df) - runs.n_runs
    fr = res.frontier
    assert fr["flops"].is_monotonic_increasing and fr["loss"].is_monotonic_decreasing
    finals = runs.final().table
    for c, l in zip(finals["flops"], finals["loss"]):  # noqa: E741 - nothing with fewer FLOPs beats a frontier point
        assert not ((fr["flops"] >= c) & (fr["loss"] > l + 1e-12)).any()
    assert abs(res.a - A_TRUE) < 0.05
    assert res.final_only


def test_final_only_keeps_one_point_per_shared_budget():
    """Runs sharing a FLOP value (an IsoFLOP sweep) compete: the envelope holds each budget's lowest loss only,
    and only where it beats every smaller budget (a QA report: four points at one budget, a = 0.482 on Porian's)."""
    rng = np.random.default_rng(5)
    rows = []
    for c in np.geomspace(1e18, 1e21, 7):
        for n in np.geomspace(1e7, 1e10, 25):
            d = c / (6 * n)
            rows.append((n, d, c, E + A / n**ALPHA + B / d**BETA + rng.normal(0, 0.002)))
    df = pd.DataFrame(rows, columns=["n_params", "n_tokens", "flops", "loss"]).sample(frac=1, random_state=1)
    res = quiet(envelope, df.reset_index(drop=True), final_only=True, bootstrap=50)
    fr = res.frontier
    expected, best = [], np.inf
    for c, g in df.groupby("flops"):  # brute force: each budget's minimum, if below every smaller budget's
        if g["loss"].min() < best:
            best = g["loss"].min()
            expected.append((c, g.loc[g["loss"].idxmin(), "n_params"]))
    assert fr["flops"].is_unique
    np.testing.assert_allclose(fr[["flops", "n_params"]].to_numpy(float), np.array(expected, float), rtol=1e-12)
    assert abs(res.a - A_TRUE) < 0.05


def test_final_only_without_curves_treats_rows_as_runs():
    df = curves(3, sizes=np.logspace(7, 9.5, 11), tokens_per_param=(2, 5, 10, 20, 40, 80, 160))
    finals = read(df).final().table[["n_params", "n_tokens", "flops", "loss"]]
    res = quiet(envelope, finals, final_only=True, bootstrap=0)
    assert res.dropped["not_final"] == 0 and len(res.frontier) > 3


def test_warmup_filters_report_counts():
    df = curves(4)
    runs = read(df)
    with pytest.warns(IsoFLOPWarning, match=r"warmup filter dropped \d+ checkpoint\(s\) by min_tokens"):
        res = envelope(runs, min_tokens=1e9, bootstrap=0)
    assert res.dropped["min_tokens"] == int((df["n_tokens"] < 1e9).sum())
    res2 = quiet(envelope, runs, min_fraction=0.25, bootstrap=0)
    # step runs 1..40 in every run: steps below 0.25 * 40 = 10 are dropped
    assert res2.dropped["min_fraction"] == 17 * 9
    both = quiet(envelope, runs, min_tokens=1e9, min_fraction=0.25, bootstrap=0)
    assert both.dropped["min_tokens"] + both.dropped["min_fraction"] == int(
        ((df["n_tokens"] < 1e9) | (df["step"] < 10)).sum())


def test_single_checkpoint_runs_are_reported():
    df = curves(5)
    lone = df[df["model"] == "m3"].tail(1).assign(model="lone")
    res = quiet(envelope, read(pd.concat([df, lone], ignore_index=True)), bootstrap=0)
    ex = res.excluded_runs
    assert len(ex) == 1 and "only one checkpoint" in ex["reason"].iloc[0]


def test_bootstrap_is_deterministic():
    runs = read(curves(6))
    r1 = quiet(envelope, runs, bootstrap=200, seed=1)
    r2 = quiet(envelope, runs, bootstrap=200, seed=1)
    r3 = quiet(envelope, runs, bootstrap=200, seed=2)
    pd.testing.assert_frame_equal(r1.bootstrap_samples, r2.bootstrap_samples)
    assert r1.intervals["a"][0.95] != r3.intervals["a"][0.95]
    assert r1.n_bootstrap_valid > 150


def test_outputs_and_immutability():
    df = curves(7)
    before = df.copy()
    res = quiet(envelope, df.assign(run=df["model"] + "/" + df["length"].astype(str)).drop(columns=["model", "length"]).pipe(
        lambda d: scalefit.read_runs(d, run_id="run")), bootstrap=50)
    pd.testing.assert_frame_equal(df, before)
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    for key in ("a", "b", "k_n", "k_d", "intervals", "optima", "dropped"):
        assert key in d
    assert set(d["optima"][0]) >= {"flops", "n_params", "n_tokens", "loss", "flags"}
    text = str(res.summary())
    assert "Envelope analysis" in text and "runs" in text
    assert "<table" in res.summary()._repr_html_()
    assert "EnvelopeResult(a=" in repr(res)
    assert isinstance(res, EnvelopeResult) and res.optima is res.frontier
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.b = 0.1
    alloc = res.predict_optimal(1e21)
    assert alloc.n_params[0] == pytest.approx(res.k_n * 1e21**res.a)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_grid": 1}, "n_grid must be an integer >= 2"),
        ({"final_only": "yes"}, "final_only must be True or False"),
        ({"min_tokens": -5}, "min_tokens must be a finite number >= 0"),
        ({"min_fraction": 1.0}, "min_fraction must be below 1"),
        ({"min_fraction": -0.1}, "min_fraction must be a finite number >= 0"),
        ({"bootstrap": -2}, "bootstrap must be an integer >= 0"),
        ({"level": 0}, "level must lie strictly between 0 and 1"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"exclude_flags": ["off"]}, "unknown flag"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ScalefitInputError, match=match):
        envelope(read(curves(8)), **kwargs)


def test_runs_without_curves_are_refused_with_a_fix():
    finals = read(curves(9)).final().table[["n_params", "n_tokens", "flops", "loss"]]
    with pytest.raises(ScalefitInputError, match=r"needs training curves.*run_id=.*--run-id.*final_only=True"):
        envelope(finals)


def test_filtering_everything_is_refused():
    with pytest.raises(ScalefitInputError, match="no checkpoints left after filtering"):
        envelope(read(curves(10)), min_tokens=1e30)


def test_no_interpolable_curve_is_refused():
    df = curves(11).groupby(["model", "length"]).tail(1)
    with pytest.raises(ScalefitInputError, match="no run has two or more checkpoints"):
        quiet(envelope, read(df))


# ------------------------------------------------------------------ real data
def test_li_et_al_curves_end_to_end(li_csv):
    """Li, Kudugunta and Zettlemoyer (2025), hadasah/scaling_laws@1f3708c: 240 runs, several peak LRs per size."""
    runs = quiet(scalefit.read_runs, li_csv, run_id=["model", "peak_lr", "sweep", "total_steps"])
    assert runs.n_runs == 240
    res = quiet(envelope, runs, bootstrap=300)
    assert res.success and res.n_runs == 240
    for q in ("a", "b"):
        lo, hi = res.interval(q)
        assert lo < getattr(res, q) < hi
    assert 0.3 < res.a < 0.6 and res.a + res.b == pytest.approx(1.0, abs=1e-6)
    fin = quiet(envelope, runs, final_only=True, bootstrap=100)
    assert fin.success and fin.dropped["not_final"] == len(runs) - 240
    assert abs(fin.a - res.a) < 0.1


def test_result_keeps_its_runs_and_options():
    runs = read(curves(60))
    res = quiet(envelope, runs, bootstrap=10, seed=3, final_only=True)
    assert res.runs is runs
    assert res.options["final_only"] is True and res.options["seed"] == 3 and res.options["bootstrap"] == 10
    np.testing.assert_array_equal(res.budgets, res.frontier["flops"].to_numpy())
    assert "<table" in res._repr_html_()
