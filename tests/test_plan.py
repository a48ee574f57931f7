"""Tests of scalefit.plan: allocation, inverses, inference- and data-aware plans, time and cost."""
from __future__ import annotations

import dataclasses
import math
import types
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import (
    Allocation,
    ExtrapolationWarning,
    ScalefitInputError,
    ScalefitWarning,
    UnitsWarning,
    budget_for_loss,
    compute_optimal,
    data_constrained_optimal,
    inference_optimal,
    optimal_tokens,
    training_cost,
    training_time,
)
from scalefit.laws import MUENNIGHOFF_2023, Law, chinchilla_params, get_law
from scalefit.plan import AllocationTable, InferencePlan, TrainingEstimate, gpu_presets

# Hoffmann et al. (2022), eq. 10 (rounded, as printed).
HOFFMANN_ROUNDED = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
# Hoffmann et al. (2022) unrounded estimates, as recovered by Besiroglu et al. (2024), sec. 3.
HOFFMANN_UNROUNDED = dict(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)
# Besiroglu et al. (2024), "Chinchilla Scaling: A replication attempt", eq. 4 (their refit).
BESIROGLU = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)

#: Chinchilla's training budget, 5.76e23 FLOPs (Hoffmann et al. 2022, sec. 4 / Table 3).
CHINCHILLA_FLOPS = 5.76e23


def _user_chinchilla(n_params, n_tokens, E, A, B, alpha, beta):
    return E + A / n_params**alpha + B / n_tokens**beta


#: The Chinchilla form as a user-defined law, so that it goes through the numerical path.
USER_LAW = Law("user-chinchilla", _user_chinchilla, chinchilla_params())


def numeric(params):
    """FitResult-like stand-in whose law has no closed form."""
    return types.SimpleNamespace(law=USER_LAW, params=dict(params))


def boot(params, n=200, seed=0, scale=0.02, law="chinchilla"):
    """BootstrapResult-like stand-in: .fit (point) and .samples (DataFrame), perturbed multiplicatively."""
    rng = np.random.default_rng(seed)
    samples = pd.DataFrame({k: v * np.exp(scale * rng.standard_normal(n)) for k, v in params.items()})
    return types.SimpleNamespace(fit=types.SimpleNamespace(law=law, params=dict(params)), samples=samples)


# ------------------------------------------------------------ reference values
@pytest.mark.parametrize(
    "params, n_opt, tokens_per_param",
    [
        # Reference values of issue 6 for the closed form (Hoffmann et al. 2022, eq. 4) at C = 5.76e23.
        (HOFFMANN_ROUNDED, 3.22e10, 92.7),
        (HOFFMANN_UNROUNDED, 4.04e10, 58.9),
        (BESIROGLU, 7.22e10, 18.4),
    ],
    ids=["hoffmann-rounded", "hoffmann-unrounded", "besiroglu"],
)
def test_published_coefficients_at_chinchilla_budget(params, n_opt, tokens_per_param):
    plan = compute_optimal(params, CHINCHILLA_FLOPS)
    assert plan.n_params == pytest.approx(n_opt, rel=0.01)
    assert plan.tokens_per_param == pytest.approx(tokens_per_param, rel=0.01)
    assert plan.flops == CHINCHILLA_FLOPS
    assert plan.n_params * plan.n_tokens * 6 == pytest.approx(CHINCHILLA_FLOPS, rel=1e-12)
    assert plan.intervals == {} and plan.level is None


def test_bundled_published_coefficients_are_the_sets_tested_here():
    from scalefit.datasets import published_coefficients

    table = published_coefficients()
    chin = table[table["law"] == "chinchilla"]
    sets = {s: dict(zip(g["parameter"], g["value"])) for s, g in chin.groupby("source")}
    assert sets["hoffmann2022_approach3"] == HOFFMANN_ROUNDED
    assert sets["hoffmann2022_approach3_unrounded"] == HOFFMANN_UNROUNDED
    assert sets["besiroglu2024"] == BESIROGLU


# ----------------------------------------------- closed form vs numerical path
@pytest.mark.parametrize("params", [HOFFMANN_ROUNDED, BESIROGLU], ids=["hoffmann", "besiroglu"])
@pytest.mark.parametrize("flops", [1e18, 5.76e23, 1e28])
def test_numeric_optimum_matches_closed_form(params, flops):
    closed = compute_optimal(params, flops)
    num = compute_optimal(numeric(params), flops)
    assert num.law == "user-chinchilla" and closed.law == "chinchilla"
    assert num.n_params == pytest.approx(closed.n_params, rel=1e-6)
    assert num.n_tokens == pytest.approx(closed.n_tokens, rel=1e-6)
    assert num.loss == pytest.approx(closed.loss, rel=1e-12)


def test_numeric_inverses_match_closed_form():
    p = BESIROGLU
    assert budget_for_loss(numeric(p), 2.1).flops == pytest.approx(budget_for_loss(p, 2.1).flops, rel=1e-6)
    assert optimal_tokens(numeric(p), 175e9).n_tokens == pytest.approx(optimal_tokens(p, 175e9).n_tokens, rel=1e-6)
    assert optimal_tokens(numeric(p), 175e9, loss=2.1).n_tokens == pytest.approx(
        optimal_tokens(p, 175e9, loss=2.1).n_tokens, rel=1e-9
    )
    a, b = inference_optimal(p, loss=2.1, inference_tokens=1e13), inference_optimal(numeric(p), loss=2.1, inference_tokens=1e13)
    assert b.n_params == pytest.approx(a.n_params, rel=1e-6)
    assert b.saving_fraction == pytest.approx(a.saving_fraction, rel=1e-6)


def test_tied_chinchilla_mapping_without_beta():
    tied = dict(E=1.7, A=400.0, B=400.0, alpha=0.3)
    plan = compute_optimal(tied, 1e22)
    assert plan.law == "chinchilla-tied"
    # alpha == beta and A == B: G = 1, so N* = D* = sqrt(C/6)
    assert plan.n_params == pytest.approx(math.sqrt(1e22 / 6), rel=1e-12)
    assert plan.tokens_per_param == pytest.approx(1.0)


def test_flops_per_param_token():
    plan = compute_optimal(HOFFMANN_ROUNDED, 1e23, flops_per_param_token=8.0)
    assert plan.n_params * plan.n_tokens * 8 == pytest.approx(1e23)
    assert plan.flops_per_param_token == 8.0


# ------------------------------------------------------------------ inverses
@pytest.mark.parametrize("fit", [HOFFMANN_UNROUNDED, numeric(HOFFMANN_UNROUNDED)], ids=["closed", "numeric"])
@pytest.mark.parametrize("flops", [1e20, 5.76e23, 1e26])
def test_round_trips(fit, flops):
    plan = compute_optimal(fit, flops)
    back = budget_for_loss(fit, plan.loss)
    assert back.flops == pytest.approx(flops, rel=1e-6)
    assert back.n_params == pytest.approx(plan.n_params, rel=1e-6)
    # the compute-optimal tokens for N*(C) are D*(C)
    assert optimal_tokens(fit, plan.n_params).n_tokens == pytest.approx(plan.n_tokens, rel=1e-6)
    # at N*(C), reaching L*(C) needs D*(C) tokens
    assert optimal_tokens(fit, plan.n_params, loss=plan.loss).n_tokens == pytest.approx(plan.n_tokens, rel=1e-6)
    # a fixed budget at N*(C) buys D*(C) and gives L*(C)
    same = optimal_tokens(fit, plan.n_params, flops=flops)
    assert same.n_tokens == pytest.approx(plan.n_tokens, rel=1e-12)
    assert same.loss == pytest.approx(plan.loss, rel=1e-12)


def test_optimal_tokens_with_flops_is_plain_arithmetic():
    plan = optimal_tokens(HOFFMANN_ROUNDED, 70e9, flops=5.76e23)
    assert plan.n_tokens == pytest.approx(5.76e23 / (6 * 70e9))
    assert plan.loss == pytest.approx(1.69 + 406.4 / 70e9**0.34 + 410.7 / plan.n_tokens**0.28)


def test_compute_optimal_loss_falls_with_budget():
    table = compute_optimal(BESIROGLU, np.logspace(18, 26, 9))
    losses = table.to_frame()["loss"].to_numpy()
    assert np.all(np.diff(losses) < 0)


# ------------------------------------------------------------ result objects
def test_allocation_table():
    table = compute_optimal(HOFFMANN_ROUNDED, [1e21, 1e22, 1e23])
    assert isinstance(table, AllocationTable) and len(table) == 3
    assert [a.flops for a in table] == [1e21, 1e22, 1e23]
    assert isinstance(table[1], Allocation)
    frame = table.to_frame()
    assert list(frame.columns[:5]) == ["n_params", "n_tokens", "flops", "loss", "tokens_per_param"]
    assert table.to_dict()["allocations"][2]["flops"] == 1e23
    text = str(table)
    assert "Parameters" in text and "Tokens/param" in text and "1e+23" in text


def test_allocation_is_frozen():
    plan = compute_optimal(HOFFMANN_ROUNDED, 1e22)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.n_params = 1.0
    d = plan.to_dict()
    assert set(d) >= {"n_params", "n_tokens", "flops", "loss", "tokens_per_param"}


# -------------------------------------------------------- bootstrap intervals
def test_bootstrap_intervals_on_every_estimated_number():
    b = boot(BESIROGLU)
    plan = compute_optimal(b, CHINCHILLA_FLOPS, level=0.9)
    assert plan.n_params == compute_optimal(BESIROGLU, CHINCHILLA_FLOPS).n_params  # point = the fit
    assert set(plan.intervals) == {"n_params", "n_tokens", "loss", "tokens_per_param"}  # flops is fixed
    assert plan.level == 0.9
    for key, (lo, hi) in plan.intervals.items():
        assert lo < getattr(plan, key) < hi, key
    wide = compute_optimal(b, CHINCHILLA_FLOPS, level=0.99).intervals["n_params"]
    assert wide[0] < plan.intervals["n_params"][0] and wide[1] > plan.intervals["n_params"][1]
    budget = budget_for_loss(b, 2.1)
    assert "flops" in budget.intervals and "loss" not in budget.intervals
    frame = compute_optimal(b, [1e22, 1e23]).to_frame()
    assert {"n_params_low", "n_params_high"} <= set(frame.columns)
    assert "[" in str(plan) and "percentile" in str(plan)


def test_bootstrap_samples_as_list_of_dicts_and_fixed_params():
    rng = np.random.default_rng(1)
    # E held fixed in the fit: absent from the samples, taken from the point estimate
    samples = [{k: v * (1 + 0.02 * rng.standard_normal()) for k, v in BESIROGLU.items() if k != "E"} for _ in range(50)]
    b = types.SimpleNamespace(fit=types.SimpleNamespace(law="chinchilla", params=BESIROGLU), samples=samples)
    plan = compute_optimal(b, 1e23)
    assert "n_params" in plan.intervals


def test_bootstrap_samples_that_cannot_reach_the_loss_are_reported():
    b = boot(BESIROGLU, n=40, scale=0.0)
    b.samples.loc[0, "E"] = 2.5  # this resample's irreducible loss is above the target
    with pytest.warns(ScalefitWarning, match="1 of 40 bootstrap samples give no plan"):
        budget_for_loss(b, 2.1)


def test_unreachable_draws_open_the_interval_instead_of_narrowing_it():
    b = boot(BESIROGLU, n=40, scale=0.0)
    b.samples.loc[:4, "E"] = 2.5  # 5 of 40 draws (12.5% > 2.5%) cannot reach the target
    with pytest.warns(ScalefitWarning, match="counted as unbounded compute"):
        plan = budget_for_loss(b, 2.1, level=0.95)
    assert plan.intervals["flops"][1] == np.inf
    assert np.isfinite(plan.intervals["flops"][0])


def test_extrapolation_warns_only_far_beyond_the_runs():
    runs = types.SimpleNamespace(flops=np.array([1e19, 1e21]))
    fit = types.SimpleNamespace(law="chinchilla", params=HOFFMANN_ROUNDED, runs=runs)
    with pytest.warns(ExtrapolationWarning, match=r"576x the largest run \(1e\+21 FLOPs\)"):
        compute_optimal(fit, 5.76e23)
    with pytest.warns(ExtrapolationWarning):
        inference_optimal(fit, loss=1.9, inference_tokens=1e12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_optimal(fit, 5.76e22)  # 58x: within range
        compute_optimal(HOFFMANN_ROUNDED, 1e30)  # a plain mapping carries no runs


# ------------------------------------------------------------ inference-aware
def test_inference_optimal_without_inference_is_chinchilla():
    plan = inference_optimal(HOFFMANN_ROUNDED, loss=2.0, inference_tokens=0)
    assert isinstance(plan, InferencePlan)
    assert plan.n_params == pytest.approx(plan.chinchilla.n_params, rel=1e-6)
    assert abs(plan.saving_fraction) < 1e-9


@pytest.mark.parametrize("inference_tokens", [1e11, 1e13, 1e15])
def test_inference_optimal_trades_size_for_tokens(inference_tokens):
    p = BESIROGLU
    plan = inference_optimal(p, loss=2.1, inference_tokens=inference_tokens)
    chin = budget_for_loss(p, 2.1)
    assert plan.chinchilla.n_params == pytest.approx(chin.n_params)
    assert plan.n_params < chin.n_params and plan.n_tokens > chin.n_tokens
    assert 0 < plan.saving_fraction < 1
    assert plan.total_flops == pytest.approx(plan.training_flops + plan.inference_flops)
    assert plan.inference_flops == pytest.approx(2 * plan.n_params * inference_tokens)
    # the plan reaches the target loss
    reached = p["E"] + p["A"] / plan.n_params ** p["alpha"] + p["B"] / plan.n_tokens ** p["beta"]
    assert reached == pytest.approx(2.1, rel=1e-12)
    # and is a minimum along the iso-loss curve
    for factor in (0.98, 1.02):
        n = plan.n_params * factor
        d = optimal_tokens(p, n, loss=2.1).n_tokens
        assert 6 * n * d + 2 * n * inference_tokens > plan.total_flops
    assert "Sardana" in str(plan)
    assert plan.to_dict()["chinchilla"]["n_params"] == plan.chinchilla.n_params


def test_inference_saving_grows_with_inference_demand():
    savings = [inference_optimal(BESIROGLU, loss=2.1, inference_tokens=t).saving_fraction for t in (1e11, 1e13, 1e15)]
    assert savings == sorted(savings)


def test_inference_optimal_intervals():
    plan = inference_optimal(boot(BESIROGLU, n=50), loss=2.1, inference_tokens=1e13)
    assert {"n_params", "n_tokens", "saving_fraction"} <= set(plan.intervals)


# ------------------------------------------------------------ data-constrained
def test_data_constrained_matches_muennighoff_example():
    # Muennighoff et al. (2023), Scaling Data-Constrained Language Models; issue 6 quotes their
    # published example: 1e22 FLOPs and 25e9 unique tokens -> ~7.02e9 params, ~2.37e11 tokens, 9.49 epochs
    # (found by a coarse 500-step grid).  Continuous optimum here: 7.026e9, 2.372e11, 9.488.
    plan = data_constrained_optimal(flops=1e22, unique_tokens=25e9)
    assert plan.law == "data-constrained"
    assert plan.n_params == pytest.approx(7.02e9, rel=0.02)
    assert plan.n_tokens == pytest.approx(2.37e11, rel=0.02)
    assert plan.epochs == pytest.approx(9.49, rel=0.02)
    assert plan.to_dict()["unique_tokens"] == 25e9


def _readme_grid(n_base, d_base, u_base):
    """The grid search in the README of github.com/huggingface/datablations ("Parametric Fit")."""
    law, best = get_law("data-constrained"), (math.inf, None, None)
    for i in np.linspace(1.0001, 3, 500):
        for n, d in ((n_base / i, d_base * i), (n_base * i, d_base / i)):
            loss = float(law(MUENNIGHOFF_2023, n_params=n, n_tokens=d, unique_tokens=min(u_base, d)))
            if loss < best[0]:
                best = (loss, n, d)
    return best


def test_data_constrained_matches_datablations_readme_grid():
    # README of github.com/huggingface/datablations: optimal_allocation(8.67e9, 178e9, 25e9)
    # -> "227B tokens, 9.1 epochs, 6.8B parameters".
    flops = 6 * 8.67e9 * 178e9
    plan = data_constrained_optimal(flops=flops, unique_tokens=25e9)
    assert plan.n_params == pytest.approx(6.8e9, rel=0.02)
    assert plan.n_tokens == pytest.approx(227e9, rel=0.02)
    assert plan.epochs == pytest.approx(9.1, rel=0.02)
    grid_loss, grid_n, grid_d = _readme_grid(8.67e9, 178e9, 25e9)
    assert plan.loss <= grid_loss + 1e-12  # the continuous optimum is at least as good as the grid's
    assert plan.n_params == pytest.approx(grid_n, rel=0.01)


def test_data_constrained_with_plenty_of_data_is_chinchilla():
    # With unlimited unique data the law reduces to Chinchilla with the same E, A, B, alpha, beta.
    chin = {k: MUENNIGHOFF_2023[k] for k in ("E", "A", "B", "alpha", "beta")}
    plan = data_constrained_optimal(flops=1e22, unique_tokens=1e15)
    assert plan.n_params == pytest.approx(compute_optimal(chin, 1e22).n_params, rel=1e-4)


def test_data_constrained_accepts_a_fit_and_compute_optimal_inputs():
    fit = types.SimpleNamespace(law="data-constrained", params=dict(MUENNIGHOFF_2023))
    a = data_constrained_optimal(fit, 1e22, unique_tokens=25e9)
    b = compute_optimal(fit, 1e22, inputs={"unique_tokens": 25e9})
    c = data_constrained_optimal(dict(MUENNIGHOFF_2023), 1e22, unique_tokens=25e9)
    assert a.n_params == b.n_params == c.n_params
    assert len(data_constrained_optimal(flops=[1e21, 1e22], unique_tokens=25e9)) == 2


# --------------------------------------------------------- training time/cost
def test_training_time_gpt3_narayanan():
    # Narayanan et al. (2021), sec. 5.1 / eq. 4: GPT-3 (175B params, 300B tokens) on 1,024 A100s
    # at 140 TFLOP/s per GPU takes 8*T*P/(n*X) = 34 days (33.9).
    est = training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140e12)
    assert isinstance(est, TrainingEstimate)
    assert round(est.days, 1) == 33.9
    assert est.flops == pytest.approx(8 * 175e9 * 300e9)
    assert est.to_dict()["days"] == est.days


def test_training_time_1t_narayanan():
    # Narayanan et al. (2021), sec. 5.1: a 1T-parameter model (1.008e12) on 450B tokens with 3,072 A100s
    # at 163 TFLOP/s per GPU takes ~84 days (83.9).
    assert round(training_time(1.008e12, 450e9, n_gpus=3072, flops_per_gpu=163e12).days, 1) == 83.9


def test_training_time_options():
    with_rc = training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140e12)
    without = training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140e12, recompute=False)
    assert without.days == pytest.approx(with_rc.days * 6 / 8)
    # MFU counts the model's 6*N*D FLOPs against peak (Chowdhery et al. 2022): 140 TFLOP/s of
    # hardware throughput with recomputation is 140 * 6/8 = 105 TFLOP/s of model FLOPs, MFU 105/312
    preset = training_time(175e9, 300e9, n_gpus=1024, gpu="a100 80gb", mfu=105 / 312)
    assert preset.gpu == "A100-SXM" and preset.days == pytest.approx(with_rc.days)
    assert preset.flops_per_param_token == 6.0
    # recompute has no effect with mfu: MFU already excludes the recomputed FLOPs
    assert training_time(175e9, 300e9, n_gpus=1024, gpu="A100", mfu=0.4, recompute=False).days == pytest.approx(
        training_time(175e9, 300e9, n_gpus=1024, gpu="A100", mfu=0.4).days)
    assert "Narayanan" in str(preset) or "MFU" in str(preset)


def test_training_cost_gpt3_v100():
    # Lambda Labs (2020) estimate: GPT-3's 3.14e23 FLOPs on V100s at 28 TFLOP/s take 355 GPU-years,
    # $4.6M at $1.50 per GPU-hour.  6*N*D with N = 175e9, D = 300e9 is 3.15e23.
    est = training_cost(175e9, 300e9, n_gpus=1, flops_per_gpu=28e12, recompute=False, price_per_gpu_hour=1.5)
    assert est.gpu_years == pytest.approx(355, rel=0.01)
    assert est.cost == pytest.approx(4.6e6, rel=0.02)
    assert est.cost == pytest.approx(est.gpu_hours * 1.5)
    assert training_cost(175e9, 300e9, n_gpus=8, flops_per_gpu=28e12, price_per_gpu_hour=1.5).gpu_hours == pytest.approx(
        training_cost(175e9, 300e9, n_gpus=1, flops_per_gpu=28e12, price_per_gpu_hour=1.5).gpu_hours
    )


def test_gpu_presets_have_sources():
    table = gpu_presets().set_index("name")
    # peak dense BF16/FP16 tensor FLOP/s from the vendor datasheets (data/gpus.md)
    assert table.loc["V100-SXM2", "peak_flops"] == 125e12
    assert table.loc["A100-SXM", "peak_flops"] == 312e12
    assert table.loc["H100-SXM", "peak_flops"] == pytest.approx(989e12, rel=1e-3)
    assert table.loc["H200-SXM", "peak_flops"] == pytest.approx(989e12, rel=1e-3)
    assert table.loc["B200", "peak_flops"] == 2.25e15
    assert table["source"].str.contains("atasheet").all()
    for alias in ("V100", "A100", "a100-40gb", "H100", "h100 sxm", "H200", "mi300x"):
        assert training_time(1e9, 1e9, n_gpus=1, gpu=alias, mfu=0.5).gpu is not None


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [0, -1e22, float("nan"), float("inf"), [1e22, 0], [], "1e22", True])
def test_bad_budget(bad):
    with pytest.raises(ScalefitInputError, match="flops"):
        compute_optimal(HOFFMANN_ROUNDED, bad)


def test_target_loss_at_or_below_irreducible():
    for target in (1.69, 1.5):
        with pytest.raises(ScalefitInputError, match=r"irreducible loss E = 1\.69"):
            budget_for_loss(HOFFMANN_ROUNDED, target)
    with pytest.raises(ScalefitInputError, match="irreducible loss E"):
        budget_for_loss(numeric(HOFFMANN_ROUNDED), 1.6)
    with pytest.raises(ScalefitInputError, match="irreducible loss E"):
        inference_optimal(HOFFMANN_ROUNDED, loss=1.6, inference_tokens=1e12)
    with pytest.raises(ScalefitInputError, match="irreducible loss E"):
        optimal_tokens(HOFFMANN_ROUNDED, 70e9, loss=1.6)


def test_loss_unreachable_at_fixed_size():
    floor = 1.69 + 406.4 / 1e8**0.34  # E + A/N^alpha for N = 1e8
    with pytest.raises(ScalefitInputError, match=r"unreachable with n_params=1e\+08.*E \+ A/n_params\^alpha"):
        optimal_tokens(HOFFMANN_ROUNDED, 1e8, loss=floor - 1e-3)
    with pytest.raises(ScalefitInputError, match="unreachable"):
        optimal_tokens(numeric(HOFFMANN_ROUNDED), 1e8, loss=floor - 1e-3)


def test_optimal_tokens_refuses_both_targets():
    with pytest.raises(ScalefitInputError, match="not both"):
        optimal_tokens(HOFFMANN_ROUNDED, 70e9, flops=1e23, loss=2.0)
    with pytest.raises(ScalefitInputError, match="n_params"):
        optimal_tokens(HOFFMANN_ROUNDED, -70e9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gpu="H300", mfu=0.4), r"unknown GPU 'H300'; known presets are .*A100-SXM.*H100-SXM"),
        (dict(gpu="A100", mfu=0.0), r"mfu must be a fraction in \(0, 1\]"),
        (dict(gpu="A100", mfu=1.5), r"mfu must be a fraction in \(0, 1\]"),
        (dict(gpu="A100", mfu=-0.2), r"mfu must be a fraction"),
        (dict(gpu="A100"), "needs mfu="),
        (dict(gpu="A100", mfu=0.4, flops_per_gpu=1e14), "exactly one of flops_per_gpu"),
        (dict(), "exactly one of flops_per_gpu"),
        (dict(flops_per_gpu=1e14, mfu=0.4), "mfu= applies to a gpu= preset"),
        (dict(flops_per_gpu=0), "flops_per_gpu must be a finite number > 0"),
        (dict(flops_per_gpu=1e14, n_gpus=0), "n_gpus must be a whole number >= 1"),
        (dict(flops_per_gpu=1e14, n_gpus=2.5), "n_gpus must be a whole number >= 1"),
    ],
)
def test_training_time_bad_input(kwargs, match):
    kwargs.setdefault("n_gpus", 8)
    with pytest.raises(ScalefitInputError, match=match):
        training_time(1e9, 1e10, **kwargs)


def test_training_counts_and_price_must_be_positive():
    with pytest.raises(ScalefitInputError, match="n_params must be a finite number > 0"):
        training_time(0, 1e10, n_gpus=1, flops_per_gpu=1e14)
    with pytest.raises(ScalefitInputError, match="n_tokens"):
        training_time(1e9, -1, n_gpus=1, flops_per_gpu=1e14)
    with pytest.raises(ScalefitInputError, match="price_per_gpu_hour"):
        training_cost(1e9, 1e10, n_gpus=1, flops_per_gpu=1e14, price_per_gpu_hour=0)


def test_units_heuristics_warn():
    with pytest.warns(UnitsWarning, match="looks like TFLOP/s"):
        training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140)
    with pytest.warns(UnitsWarning, match="millions or billions"):
        training_time(175, 300e9, n_gpus=1024, flops_per_gpu=140e12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140e12)


@pytest.mark.parametrize(
    "fit, match",
    [
        (None, "fit is None"),
        (42, "fit must be a FitResult"),
        ({"E": 1.69, "A": 406.4, "B": 410.7}, r"missing \['alpha'"),
        ({**HOFFMANN_ROUNDED, "alpha": -0.3}, "A, B, alpha, beta > 0"),
        ({**HOFFMANN_ROUNDED, "A": float("nan")}, "parameter A must be finite"),
        ({**HOFFMANN_ROUNDED, "A": "big"}, "parameter A must be a number"),
        (types.SimpleNamespace(law="no-such-law", params={}), "unknown law"),
    ],
)
def test_bad_fit(fit, match):
    with pytest.raises(ScalefitInputError, match=match):
        compute_optimal(fit, 1e22)


def test_bad_level():
    for level in (0, 1, 95, -0.5):
        with pytest.raises(ScalefitInputError, match="level must be a number strictly between 0 and 1"):
            compute_optimal(HOFFMANN_ROUNDED, 1e22, level=level)


def test_law_inputs_are_checked():
    dc = types.SimpleNamespace(law="data-constrained", params=dict(MUENNIGHOFF_2023))
    with pytest.raises(ScalefitInputError, match=r"also needs inputs \['unique_tokens'\]"):
        compute_optimal(dc, 1e22)
    with pytest.raises(ScalefitInputError, match="not extra inputs"):
        compute_optimal(HOFFMANN_ROUNDED, 1e22, inputs={"unique_tokens": 1e9})
    kaplan = types.SimpleNamespace(law="kaplan-n", params={"N_c": 8.8e13, "alpha_N": 0.076})
    with pytest.raises(ScalefitInputError, match="needs a law of both n_params and n_tokens"):
        compute_optimal(kaplan, 1e22)


def test_law_without_interior_optimum():
    law = Law(
        "n-only",
        lambda n_params, n_tokens, E, A, alpha: E + A / n_params**alpha + 0.0 * n_tokens,
        params=chinchilla_params()[:2] + [chinchilla_params()[3]],
    )
    fit = types.SimpleNamespace(law=law, params={"E": 1.7, "A": 400.0, "alpha": 0.3})
    with pytest.raises(ScalefitInputError, match="no compute-optimal allocation"):
        compute_optimal(fit, 1e22)


def test_data_constrained_bad_input():
    with pytest.raises(ScalefitInputError, match="needs flops="):
        data_constrained_optimal(unique_tokens=25e9)
    with pytest.raises(ScalefitInputError, match="unique_tokens must be a finite number > 0"):
        data_constrained_optimal(flops=1e22, unique_tokens=0)
    with pytest.raises(ScalefitInputError, match="needs a law with an unique_tokens input"):
        data_constrained_optimal(HOFFMANN_ROUNDED, 1e22, unique_tokens=25e9)


def test_inference_bad_input():
    with pytest.raises(ScalefitInputError, match="inference_tokens must be a finite number >= 0"):
        inference_optimal(HOFFMANN_ROUNDED, loss=2.0, inference_tokens=-1)


def test_public_exports():
    for name in ("compute_optimal", "Allocation", "budget_for_loss", "optimal_tokens", "inference_optimal",
                 "data_constrained_optimal", "training_time", "training_cost"):
        assert getattr(scalefit, name) is getattr(scalefit.plan, name)


def test_a_plan_of_less_than_one_parameter_is_refused():
    # a degenerate fit (the N term vanished) puts the optimum at a fraction of a parameter
    degenerate = dict(E=1.69, A=1e-12, B=410.7, alpha=2.17, beta=0.28)
    with pytest.raises(ScalefitInputError, match="not a model"):
        compute_optimal(degenerate, 1e20)
