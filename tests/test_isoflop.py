"""Tests of scalefit.isoflop (Approach 2) and scalefit.compare_approaches.

Synthetic sweeps come from the Chinchilla law with the parameters of
Hoffmann et al. (2022, eq. 10): E=1.69, A=406.4, B=410.7, alpha=0.34,
beta=0.28, whose compute-optimal exponent is a = beta/(alpha+beta) = 0.4516.
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
from scalefit._errors import Option
from scalefit.approaches import GroupedIsoFLOPResult, IsoFLOPResult, IsoFLOPWarning, compare_approaches, isoflop

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
A_TRUE = BETA / (ALPHA + BETA)
G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
BUDGETS = np.logspace(18, 22, 9)


def chinchilla_loss(n, d):
    return E + A / n**ALPHA + B / d**BETA


def n_opt(c):
    return G * (c / 6) ** A_TRUE


def sweep(seed=0, *, budgets=BUDGETS, n_points=9, span=1.0, offset=None, noise=0.005, flops_jitter=0.0):
    """One IsoFLOP sweep per budget: n_points sizes over +-span decades around N*(C) (+ offset decades)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, c in enumerate(budgets):
        shift = 0.0 if offset is None else offset.get(i, 0.0)
        logn = np.log10(n_opt(c)) + shift + np.linspace(-span, span, n_points) + rng.normal(0, 0.03, n_points)
        n = 10**logn
        cc = c * np.exp(rng.normal(0, flops_jitter, n_points)) if flops_jitter else np.full(n_points, c)
        d = cc / (6 * n)
        loss = chinchilla_loss(n, d) + rng.normal(0, noise, n_points)
        rows += [{"n_params": ni, "n_tokens": di, "flops": ci, "loss": li, "nominal": c} for ni, di, ci, li in zip(n, d, cc, loss)]
    return pd.DataFrame(rows)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalefit.ScalefitWarning)
        return fn(*args, **kwargs)


# --------------------------------------------------------------- recovery
@pytest.mark.parametrize("method", ["profile", "nearest", "parabola", "cubic"])
def test_recovers_chinchilla_exponent_when_sampling_is_centred(method):
    res = isoflop(sweep(0), method=method, bootstrap=200)
    assert abs(res.a - A_TRUE) < 0.02
    assert abs(res.b - (1 - A_TRUE)) < 0.02
    assert res.a + res.b == pytest.approx(1.0)  # D* = C / (6 N*)
    lo, hi = res.interval("a")
    assert lo < res.a < hi
    assert res.success and res.optima["used"].all()
    assert res.optima["flags"].map(len).eq(0).all()
    # N* at each budget close to the truth (log10 within 0.1)
    assert np.abs(np.log10(res.optima["n_params"] / n_opt(res.optima["flops"]))).max() < 0.1


def test_nearest_and_parabola_equal_on_short_sweeps():
    df = sweep(1, n_points=6)
    a = isoflop(df, method="nearest", bootstrap=0)
    b = isoflop(df, method="parabola", bootstrap=0)
    assert a.method == "nearest" and a.n_nearest == 6
    assert a.a == pytest.approx(b.a, abs=1e-12)
    # the default is the Chinchilla profile (issue 11: chosen by benchmarks/bench_isoflop_estimators.py)
    assert isoflop(df, bootstrap=0).method == "profile"


def test_predict_optimal_follows_the_power_laws():
    res = isoflop(sweep(2), bootstrap=100)
    alloc = res.predict_optimal([1e21, 1e23])
    np.testing.assert_allclose(alloc.n_params, res.k_n * np.array([1e21, 1e23]) ** res.a)
    np.testing.assert_allclose(alloc.n_tokens, res.k_d * np.array([1e21, 1e23]) ** res.b)
    np.testing.assert_allclose(alloc.n_params * alloc.n_tokens * 6, [1e21, 1e23], rtol=1e-9)
    lo, hi = alloc.intervals["n_params"][0.95]
    assert np.all(lo < alloc.n_params) and np.all(alloc.n_params < hi)
    assert list(alloc.to_frame().columns[:3]) == ["flops", "n_params", "n_tokens"]
    assert abs(np.log10(alloc.n_params[0] / n_opt(1e21))) < 0.05


# --------------------------------------------------------------- flags
def test_off_centre_sampling_is_flagged_and_left_out():
    # budgets 0 and 8 sampled entirely above / below the optimum
    df = sweep(3, offset={0: 1.6, 8: -1.6})
    with pytest.warns(IsoFLOPWarning, match="left out of the power-law fit"):
        res = isoflop(df, bootstrap=100)
    flags = dict(zip(res.optima["flops"], res.optima["flags"]))
    assert "edge" in flags[BUDGETS[0]] and "edge" in flags[BUDGETS[8]]
    assert not res.optima.loc[[0, 8], "used"].any()
    assert res.optima.loc[1:7, "used"].all()
    ex = res.excluded_budgets
    assert list(ex["flops"]) == [BUDGETS[0], BUDGETS[8]]
    assert ex["reason"].str.contains("not bracketed").all()
    assert abs(res.a - A_TRUE) < 0.02  # the remaining budgets still recover a


def test_off_center_flag_when_vertex_falls_outside_sampled_range():
    # a parabola through points all on one side puts the vertex outside the range
    df = sweep(4, offset={4: 1.3}, noise=0.0)
    res = quiet(isoflop, df, method="parabola", bootstrap=0)
    assert res.optima.loc[4, "flags"] == ("edge", "off_center")
    kept = quiet(isoflop, df, method="parabola", bootstrap=0, exclude_flags=("non_convex",))
    assert kept.optima["used"].all()


def test_non_convex_budget_is_flagged():
    df = sweep(5, noise=0.0)
    budget = df["nominal"] == BUDGETS[3]
    df.loc[budget, "loss"] = 3.0 - 0.2 * (np.log10(df.loc[budget, "n_params"]) - 8.5) ** 2  # concave
    with pytest.warns(IsoFLOPWarning, match="non_convex"):
        res = isoflop(df, method="parabola", bootstrap=0)
    assert "non_convex" in res.optima.loc[3, "flags"]
    assert not res.optima.loc[3, "used"]
    # a concave curve has no optimum: its stationary point (a maximum) is not reported as N*
    assert np.isnan(res.optima.loc[3, ["n_params", "n_tokens", "loss"]].astype(float)).all()
    assert np.isfinite(res.optima.loc[2, "n_params"])
    # non-convex budgets are never used, even when the user keeps flagged ones
    res2 = quiet(isoflop, df, method="parabola", bootstrap=0, exclude_flags=())
    assert not res2.optima.loc[3, "used"]


def test_too_few_usable_budgets_gives_unsuccessful_result_with_warning():
    df = sweep(6, budgets=BUDGETS[:2], offset={0: 1.6, 1: 1.6})
    with pytest.warns(IsoFLOPWarning, match="fewer than 2 usable budgets"):
        res = isoflop(df, bootstrap=10)
    assert not res.success and np.isnan(res.a)
    assert "fewer than 2 usable budgets" in res.message


# --------------------------------------------------------------- sweeps of other hyperparameters
def _lr_sweep(seed):
    """Each (budget, size) run three times, e.g. at three learning rates; only one is well tuned."""
    df = sweep(seed)
    worse = [df.assign(loss=df["loss"] + pen, lr=lr) for lr, pen in ((1e-3, 0.0), (3e-3, 0.04), (3e-4, 0.09))]
    return df, pd.concat(worse, ignore_index=True)


def test_best_per_size_keeps_the_best_run_of_each_size_and_reports_the_rest():
    clean, swept = _lr_sweep(30)
    res = isoflop(swept, best_per_size=True, bootstrap=50)
    assert res.a == pytest.approx(isoflop(clean, bootstrap=50).a, abs=1e-12)
    assert len(res.unassigned) == 2 * len(clean)
    assert res.unassigned["reason"].str.contains("not the lowest-loss run of its model size").all()
    assert res.best_per_size and res.to_dict()["best_per_size"] is True


def test_nearest_counts_model_sizes_not_rows():
    # with three runs per size, nearest must still span n_nearest distinct sizes
    _, swept = _lr_sweep(31)
    with pytest.warns(IsoFLOPWarning, match="several runs of the same model size.*best_per_size=True"):
        res = isoflop(swept, bootstrap=0)
    assert res.success and res.optima["used"].all()
    assert abs(res.a - A_TRUE) < 0.03


# --------------------------------------------------------------- budgets
def test_budget_clustering_on_noisy_flops():
    df = sweep(7, flops_jitter=0.03)
    res = isoflop(df, bootstrap=0)
    assert len(res.optima) == len(BUDGETS)
    assert (res.optima["n_points"] == 9).all()
    np.testing.assert_allclose(res.optima["flops"], BUDGETS, rtol=0.05)
    assert len(res.unassigned) == 0
    assert abs(res.a - A_TRUE) < 0.02


def test_budget_column_matches_clustering_on_exact_budgets():
    df = sweep(8)
    by_col = isoflop(df, budget="nominal", bootstrap=50)
    clustered = isoflop(df, bootstrap=50)
    assert by_col.a == pytest.approx(clustered.a)
    assert by_col.budget == "nominal"


def test_small_cluster_is_reported_unassigned_never_dropped_silently():
    df = sweep(9)
    stray = pd.DataFrame({"n_params": [1e8, 2e8], "n_tokens": [1.5e10, 0.75e10], "flops": [9e18, 9e18],
                          "loss": [3.0, 3.1], "nominal": [9e18, 9e18]})
    df = pd.concat([df, stray], ignore_index=True)
    with pytest.warns(IsoFLOPWarning, match="joined no usable budget"):
        res = isoflop(df, bootstrap=0)
    assert list(res.unassigned["row"]) == [len(df) - 2, len(df) - 1]
    assert res.unassigned["reason"].str.contains("fewer than min_points=3").all()
    assert len(res.optima) == len(BUDGETS)


def test_budget_with_too_few_distinct_sizes_is_unassigned():
    df = sweep(10)
    same = pd.DataFrame({"n_params": [1e8] * 4, "n_tokens": [1e12] * 4, "flops": [6e20] * 4,
                         "loss": [2.5, 2.51, 2.49, 2.52], "nominal": [6e20] * 4})
    df = pd.concat([df, same], ignore_index=True)
    with pytest.warns(IsoFLOPWarning):
        res = isoflop(df, bootstrap=0)
    assert res.unassigned["reason"].str.contains("distinct model size").all()
    assert len(res.unassigned) == 4


def test_chained_clusters_warn():
    df = sweep(11, budgets=np.array([1e19, 1.08e19, 1.16e19, 1.25e19, 1e21]), n_points=5)
    with pytest.warns(IsoFLOPWarning, match="chained clustering"):
        isoflop(df, bootstrap=0, exclude_flags=())


# --------------------------------------------------------------- bootstrap
def test_bootstrap_is_deterministic_for_a_seed():
    df = sweep(12)
    r1 = isoflop(df, bootstrap=300, seed=3)
    r2 = isoflop(df, bootstrap=300, seed=3)
    r3 = isoflop(df, bootstrap=300, seed=4)
    pd.testing.assert_frame_equal(r1.bootstrap_samples, r2.bootstrap_samples)
    assert r1.intervals["a"][0.95] == r2.intervals["a"][0.95]
    assert r1.intervals["a"][0.95] != r3.intervals["a"][0.95]
    assert r1.a == r3.a  # the point estimate does not depend on the seed
    assert r1.n_bootstrap == 300 and r1.n_bootstrap_valid <= 300


def test_bootstrap_zero_and_several_levels():
    df = sweep(13)
    r0 = isoflop(df, bootstrap=0)
    assert len(r0.bootstrap_samples) == 0 and np.isnan(r0.interval("a")[0])
    r = isoflop(df, bootstrap=400, level=(0.5, 0.95))
    lo50, hi50 = r.interval("a", 0.5)
    lo95, hi95 = r.interval("a", 0.95)
    assert lo95 <= lo50 < hi50 <= hi95
    assert r.interval("a") == (lo50, hi50)  # default: the first level


def test_bootstrap_interval_covers_truth_reasonably():
    # across seeds, the 90% interval should cover the truth most of the time
    cover = []
    for s in range(8):
        r = isoflop(sweep(100 + s, noise=0.01), bootstrap=300, level=0.9, seed=s)
        lo, hi = r.interval("a")
        cover.append(lo <= A_TRUE <= hi)
    assert sum(cover) >= 5


# --------------------------------------------------------------- group_by
def _two_configs():
    a = sweep(14).assign(config="x", size="s")
    b = sweep(15).assign(config="y", size="s")
    b["loss"] = b["loss"] + 0.1
    return pd.concat([a, b], ignore_index=True)


def test_group_by_runs_the_whole_analysis_per_group():
    df = _two_configs()
    res = isoflop(df, group_by=["config", "size"], bootstrap=100)
    assert set(res.groups) == {("x", "s"), ("y", "s")}
    assert np.isnan(res.a)
    tab = res.table()
    assert list(tab["config"]) == ["x", "y"]
    assert np.all(np.abs(tab["a"] - A_TRUE) < 0.02)
    one = isoflop(df[df["config"] == "x"], bootstrap=100)
    assert res.groups[("x", "s")].a == pytest.approx(one.a)
    assert res.groups[("x", "s")].key == ("x", "s")
    # a single column name works too and keys are still tuples
    assert set(isoflop(df, group_by="config", bootstrap=0).groups) == {("x",), ("y",)}


def test_group_by_parallel_equals_serial():
    df = _two_configs()
    r1 = isoflop(df, group_by="config", bootstrap=100, n_jobs=1)
    r2 = isoflop(df, group_by="config", bootstrap=100, n_jobs=2)
    for k in r1.groups:
        pd.testing.assert_frame_equal(r1.groups[k].bootstrap_samples, r2.groups[k].bootstrap_samples)


# --------------------------------------------------------------- outputs
def test_to_dict_is_json_safe_with_required_keys():
    res = quiet(isoflop, sweep(16, offset={0: 1.6}), bootstrap=50)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    for key in ("a", "b", "k_n", "k_d", "intervals", "optima"):
        assert key in d
    assert set(d["optima"][0]) >= {"flops", "n_params", "n_tokens", "loss", "flags"}
    assert d["optima"][0]["flags"][0] == "edge" and d["optima"][1]["flags"] == []
    assert d["intervals"]["a"]["0.95"][0] < d["a"]
    assert json.loads(text)["excluded_budgets"][0]["flops"] == BUDGETS[0]


def test_grouped_to_dict_holds_groups_with_keys():
    d = isoflop(_two_configs(), group_by="config", bootstrap=20).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["a"] is None and d["group_by"] == ["config"]
    assert [g["key"] for g in d["groups"]] == [{"config": "x"}, {"config": "y"}]
    assert all({"a", "b", "k_n", "k_d", "intervals", "optima"} <= set(g) for g in d["groups"])


def test_summary_renders_text_and_html():
    res = quiet(isoflop, sweep(17, offset={0: 1.6}), bootstrap=50)
    text = str(res.summary())
    assert "IsoFLOP analysis" in text and "Per-budget optima" in text and "left out" in text
    assert "<table" in res.summary()._repr_html_()
    assert "IsoFLOPResult(a=" in repr(res)
    grouped = isoflop(_two_configs(), group_by="config", bootstrap=0)
    assert "Per group" in str(grouped.summary())


def test_result_is_frozen_and_input_untouched():
    df = sweep(18)
    before = df.copy()
    res = isoflop(df, bootstrap=10)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.a = 0.5
    assert isinstance(res, IsoFLOPResult)


def test_public_export_is_callable_repeatedly():
    df = sweep(19)
    r1 = scalefit.isoflop(df, bootstrap=0)
    r2 = scalefit.isoflop(df, bootstrap=0)
    assert r1.a == r2.a
    assert scalefit.IsoFLOPResult is IsoFLOPResult


def test_curves_are_reduced_to_final_checkpoints():
    df = sweep(20)
    curves = pd.concat([df.assign(run=np.arange(len(df)), n_tokens=df["n_tokens"] / 2, flops=df["flops"] / 2, loss=df["loss"] + 0.5),
                        df.assign(run=np.arange(len(df)))], ignore_index=True)
    runs = scalefit.read_runs(curves, run_id="run")
    with pytest.warns(IsoFLOPWarning, match="final checkpoint"):
        res = isoflop(runs, bootstrap=0)
    assert res.a == pytest.approx(isoflop(df, bootstrap=0).a)


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "spline"}, "method must be one of"),
        ({"min_points": 2}, "min_points must be an integer >= 3"),
        ({"min_points": 3.5}, "min_points must be an integer"),
        ({"n_nearest": 2}, "n_nearest must be an integer >= 3"),
        ({"tolerance": 0}, "tolerance must be a finite number > 0"),
        ({"tolerance": float("nan")}, "tolerance must be a finite number"),
        ({"tolerance": "wide"}, "tolerance must be a finite number"),
        ({"bootstrap": -1}, "bootstrap must be an integer >= 0"),
        ({"bootstrap": True}, "bootstrap must be an integer"),
        ({"level": 1.5}, "level must lie strictly between 0 and 1"),
        ({"level": ()}, "level is empty"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"n_jobs": 0}, "n_jobs=0: give a positive integer or -1"),
        ({"best_per_size": "yes"}, "best_per_size must be True or False"),
        ({"exclude_flags": ("weird",)}, "unknown flag"),
        ({"group_by": "missing"}, r"group_by names column\(s\) \['missing'\]"),
        ({"group_by": 3}, "group_by must be a column name"),
        ({"budget": "missing"}, r"budget names column\(s\) \['missing'\]"),
        ({"budget": 1e20}, "budget must be the name of a column"),
        ({"flops_per_param_token": 0}, "flops_per_param_token must be a finite number > 0"),
        ({"max_excess_loss": 0}, "max_excess_loss must be a finite number > 0"),
        ({"max_excess_loss": "all"}, "max_excess_loss must be a finite number"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ScalefitInputError, match=match):
        isoflop(sweep(21), **kwargs)


def test_bad_budget_values_name_the_rows():
    df = sweep(22)
    df.loc[[3, 5], "nominal"] = [-1.0, np.nan]
    with pytest.raises(ScalefitInputError, match=r"budget column 'nominal' must hold positive finite FLOP counts; rows \[3, 5\]") as exc:
        isoflop(df, budget="nominal")
    assert exc.value.rows == [3, 5] and exc.value.column == "nominal"


def test_missing_group_values_name_the_rows():
    df = _two_configs()
    df["config"] = df["config"].astype(object)
    df.loc[4, "config"] = None
    with pytest.raises(ScalefitInputError, match=r"group_by column 'config' is missing a value in 1 row\(s\) \(rows \[4\]\)"):
        isoflop(df, group_by="config")


def test_a_single_budget_is_refused_with_a_fix():
    with pytest.raises(ScalefitInputError, match="found 1 usable FLOP budget.*at least 2.*tolerance"):
        isoflop(sweep(23, budgets=BUDGETS[:1]))


def test_group_with_a_single_budget_is_named():
    df = pd.concat([sweep(24).assign(config="ok"), sweep(25, budgets=BUDGETS[:1]).assign(config="bad")], ignore_index=True)
    with pytest.raises(ScalefitInputError, match=r"isoflop \[config=bad\]: found 1 usable"):
        isoflop(df, group_by="config")


def test_bad_predict_and_interval_requests():
    res = isoflop(sweep(26), bootstrap=20)
    with pytest.raises(ScalefitInputError, match="flops must be positive and finite"):
        res.predict_optimal([1e21, -1])
    with pytest.raises(ScalefitInputError, match="unknown quantity 'alpha'"):
        res.interval("alpha")
    with pytest.raises(ScalefitInputError, match="level 0.5 was not computed"):
        res.interval("a", 0.5)


# --------------------------------------------------------------- real data
def test_porian_exponents_match_their_fits(porian_dir):
    """Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9: n_exponent per configuration."""
    keys = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
    runs = scalefit.read_runs(porian_dir / "isoflop_points.csv")
    assert len(runs) == 1745
    res = quiet(isoflop, runs, group_by=keys, bootstrap=200)
    ref = pd.read_csv(porian_dir / "fit_results_basic.csv")
    tab = res.table().merge(ref[keys + ["n_exponent", "t_exponent"]], on=keys, validate="one_to_one")
    assert len(tab) == 15
    diff = (tab["a"] - tab["n_exponent"]).abs()
    assert diff.max() <= 0.03, tab.loc[diff.idxmax(), keys + ["a", "n_exponent"]]
    assert diff.mean() <= 0.015
    assert ((tab["b"] - tab["t_exponent"]).abs() <= 0.03).all()
    assert (tab["a_low"] < tab["a"]).all() and (tab["a"] < tab["a_high"]).all()
    # their per-budget optima (isoflop_optima.csv) agree to within a factor ~1.5 in N*
    opt = pd.read_csv(porian_dir / "isoflop_optima.csv").dropna(subset=["n_opt"])
    ours = pd.concat([g.optima.assign(**dict(zip(keys, k))) for k, g in res.groups.items()])
    both = ours[ours["used"]].merge(opt, on=keys + ["flops"])
    assert np.median(np.abs(np.log10(both["n_params"] / both["n_opt"]))) < 0.05


# --------------------------------------------------------------- compare
CHINCHILLA_SIZES = np.logspace(7.5, 9.5, 9)


def _chinchilla_curves(seed=0, sizes=CHINCHILLA_SIZES, tokens_per_param=(5, 20, 80), n_ckpt=30, noise=0.002):
    """Training curves following the Chinchilla law: every size trained to several lengths."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, n in enumerate(sizes):
        for r in tokens_per_param:
            d = np.logspace(8.5, np.log10(r * n), n_ckpt)
            loss = chinchilla_loss(n, d) + rng.normal(0, noise, n_ckpt)
            rows += [{"run": f"n{i}-r{r}", "step": j + 1, "n_params": n, "n_tokens": dj, "flops": 6 * n * dj, "loss": lj}
                     for j, (dj, lj) in enumerate(zip(d, loss))]
    return pd.DataFrame(rows)


def test_compare_approaches_envelope_and_parametric():
    runs = scalefit.read_runs(_chinchilla_curves(), run_id="run")
    cmp = quiet(compare_approaches, runs, budgets=(1e21,), bootstrap=0)
    tab = cmp.table()
    assert "envelope" in tab.index and "parametric" in tab.index
    assert "isoflop" in cmp.skipped  # final checkpoints do not form IsoFLOP budgets here
    for col in ("a", "a_low", "a_high", "b", "b_low", "b_high", "n_params@1e+21", "n_tokens@1e+21"):
        assert col in tab.columns
    assert tab.loc["parametric", "a"] == pytest.approx(A_TRUE, abs=0.02)
    assert tab.loc["envelope", "a"] == pytest.approx(A_TRUE, abs=0.1)
    n_star = G * (1e21 / 6) ** A_TRUE
    assert tab.loc["parametric", "n_params@1e+21"] == pytest.approx(n_star, rel=0.2)
    json.dumps(cmp.to_dict(), allow_nan=False)
    assert "approaches compared" in str(cmp)


def test_compare_approaches_isoflop_only_and_bad_input():
    df = sweep(27)
    cmp = compare_approaches(df, approaches=["isoflop"], budgets=[1e21], bootstrap=50)
    assert list(cmp.table().index) == ["isoflop"]
    assert cmp.table().loc["isoflop", "a"] == pytest.approx(A_TRUE, abs=0.02)
    with pytest.raises(ScalefitInputError, match="unknown approach"):
        compare_approaches(df, approaches=["magic"])
    with pytest.raises(ScalefitInputError, match="budgets must be positive FLOP counts"):
        compare_approaches(df, budgets=[0])
    with pytest.raises(ScalefitInputError, match="needs training curves"):
        compare_approaches(df, approaches=["envelope"])


def test_compare_approaches_lists_an_approach_that_ran_without_a_fit_as_skipped():
    df = sweep(29, budgets=BUDGETS[:3], offset={0: 1.6, 1: 1.6, 2: -1.6})
    cmp = quiet(compare_approaches, df, budgets=[1e21], bootstrap=0)
    assert "isoflop" in cmp.skipped and "could not fit" in cmp.skipped["isoflop"]
    assert list(cmp.table().index) == ["parametric"]
    with pytest.raises(ScalefitInputError, match="approach 'isoflop' ran but could not fit"):
        quiet(compare_approaches, df, approaches=["isoflop"], bootstrap=0)


def test_compare_approaches_parametric_with_bootstrap_intervals():
    df = sweep(28, noise=0.003)
    cmp = quiet(compare_approaches, df, approaches=("isoflop", "parametric"), budgets=(5.76e23,), bootstrap=40)
    tab = cmp.table()
    assert tab.loc["parametric", "a_low"] < tab.loc["parametric", "a"] < tab.loc["parametric", "a_high"]
    assert abs(tab.loc["parametric", "a"] - tab.loc["isoflop", "a"]) < 0.03


# --------------------------------------------------------------- self-contained results
def test_result_keeps_its_runs_and_options():
    df = sweep(40)
    res = isoflop(df, bootstrap=20, seed=4)
    assert isinstance(res.runs, scalefit.Runs) and len(res.runs) == len(df)
    assert res.options["method"] == "profile" and res.options["max_excess_loss"] == 0.3 and res.options["seed"] == 4 and res.options["bootstrap"] == 20
    np.testing.assert_array_equal(res.budgets, res.optima["flops"].to_numpy())
    # budgets are matched to runs by the recorded row numbers
    which = res.budget_index()
    rows = res.runs.table["row"].to_numpy()
    for g, budget_rows in enumerate(res.optima["rows"]):
        assert set(rows[which == g]) == set(budget_rows)


def test_grouped_result_is_a_mapping_of_results_with_their_own_rows():
    df = _two_configs()
    res = isoflop(df, group_by="config", bootstrap=20)
    assert isinstance(res, GroupedIsoFLOPResult) and not isinstance(res, IsoFLOPResult)
    assert res.groups is res and len(res) == 2 and list(res) == [("x",), ("y",)]
    for key, one in res.items():
        assert isinstance(one, IsoFLOPResult)
        assert set(one.runs.table["config"]) == set(key)
        assert len(one.runs) == int((df["config"] == key[0]).sum())
    assert len(res.runs) == len(df)
    frame = res.to_frame()
    assert list(frame["config"]) == ["x", "y"] and len(frame) == 2
    json.dumps(res.to_dict(), allow_nan=False)
    assert set(res.optima["config"]) == {"x", "y"}
    assert set(res.predict_optimal(1e21)) == {("x",), ("y",)}
    assert "GroupedIsoFLOPResult(groups=2" in repr(res) and "<table" in res._repr_html_()
    with pytest.raises(TypeError):
        res[("z",)] = res[("x",)]  # read-only


def test_warnings_and_errors_carry_the_options_they_suggest():
    _, swept = _lr_sweep(41)
    with pytest.warns(IsoFLOPWarning) as record:
        isoflop(swept, bootstrap=0)
    names = {o.name for w in record for o in w.message.options}
    assert {"group_by", "best_per_size"} <= names
    assert all(o.api() in str(w.message) for w in record for o in w.message.options)
    assert "CLI" not in " ".join(str(w.message) for w in record)
    with pytest.raises(ScalefitInputError) as exc:
        isoflop(sweep(42, budgets=BUDGETS[:1]))
    assert Option("budget", "'<column>'") in exc.value.options


def test_compare_approaches_refuses_a_grouped_result():
    grouped = isoflop(_two_configs(), group_by="config", bootstrap=0)
    with pytest.raises(ScalefitInputError, match="grouped by.*pass one group"):
        compare_approaches(None, results={"isoflop": grouped}, approaches=("isoflop",))


# ------------------------------------------------------------ bias check (issue 11)
def _exact_sweep(alpha, beta, shift_per_budget, span=16.0):
    """Noise-free Chinchilla IsoFLOP sweep (E, A, B of Hoffmann et al. 2022, eq. 10), 15 sizes per budget."""
    from scalefit.laws import chinchilla_compute_optimal, get_law

    p = dict(E=1.69, A=406.4, B=410.7, alpha=alpha, beta=beta)
    rows = []
    for i, c in enumerate(np.logspace(18, 22, 5)):
        n_star = float(chinchilla_compute_optimal(p, c)[0])
        n = 10 ** (np.log10(n_star) + shift_per_budget(i) + np.linspace(-np.log10(span), np.log10(span), 15))
        d = c / (6 * n)
        rows.append(pd.DataFrame(dict(n_params=n, n_tokens=d, flops=c, loss=get_law("chinchilla")(p, n_params=n, n_tokens=d))))
    return pd.concat(rows, ignore_index=True), beta / (alpha + beta)


def test_bias_warning_fires_on_a_drifting_grid_and_states_the_bias():
    data, a_true = _exact_sweep(0.465, 0.155, lambda i: np.log10(3.0) * (i / 2 - 1))  # alpha/beta = 3, centres drift 9x
    with pytest.warns(scalefit.IsoFLOPBiasWarning, match=r"biased high by about 0\.01"):
        res = isoflop(data, method="parabola")
    assert res.a - a_true > 0.01
    # on noise-free data the gap to Approach 3 is the bias itself
    assert res.bias_check["difference"] == pytest.approx(res.a - a_true, abs=1e-4)
    assert res.to_dict()["bias_check"]["a_parametric"] == pytest.approx(a_true, abs=1e-4)


def test_no_bias_warning_on_a_centred_balanced_grid():
    data, a_true = _exact_sweep(0.31, 0.31, lambda i: 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.IsoFLOPBiasWarning)
        res = isoflop(data, method="parabola")
    assert abs(res.bias_check["difference"]) < 1e-6
    assert res.bias_warning == ""


# ---------------------------------------------------------------- issue 12: bounded memory
def test_bootstrap_chunks_reproduce_one_draw():
    """Consecutive batches of resamples are the resamples of one draw (numpy fills C-order arrays in sequence)."""
    from scalefit.approaches._isoflop import bootstrap_count_chunks, bootstrap_counts

    sizes = np.array([5, 9, 7])
    whole = bootstrap_counts(np.random.default_rng(3), sizes, 9, 23)
    for chunk in (1, 4, 7, 23, 50):
        parts = list(bootstrap_count_chunks(np.random.default_rng(3), sizes, 9, 23, chunk=chunk))
        assert all(np.array_equal(p[0], whole[0]) for p in parts)  # every batch leads with the data
        assert np.array_equal(np.concatenate([parts[0]] + [p[1:] for p in parts[1:]]), whole)
    # each budget's resample holds exactly its own number of points
    assert np.array_equal(whole[1:].sum(-1), np.broadcast_to(sizes, (23, 3)))


@pytest.mark.parametrize("method", ["profile", "nearest"])
def test_batched_bootstrap_gives_the_same_result(method):
    """Analysing resamples in small batches changes nothing: same seed, same intervals and draws."""
    from scalefit.approaches import _isoflop as iso

    df = sweep(seed=4)
    one = quiet(isoflop, df, bootstrap=40, seed=1, method=method)
    old = iso.CHUNK_CELLS
    try:
        iso.CHUNK_CELLS = 1  # one resample per batch
        many = quiet(isoflop, df, bootstrap=40, seed=1, method=method)
    finally:
        iso.CHUNK_CELLS = old
    assert np.array_equal(one.bootstrap_samples.to_numpy(), many.bootstrap_samples.to_numpy(), equal_nan=True)
    assert one.intervals == many.intervals
