"""Tests of scalefit.design: simulate, isoflop_grid, design and next-run suggestions.

The one law used as a truth is Hoffmann et al. (2022), Approach 3 (Eq. 10):
E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28 (also in scalefit/datasets/data/published_coefficients.csv).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.plan import frontier

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. (2022) Eq. 10
SMALL = dict(prior=HOFFMANN, budgets=[1e18, 3e18], n_runs=6, n_jobs=1)


def test_simulate_without_noise_is_the_law_and_seeded():
    grid = scalefit.isoflop_grid([1e18, 1e19], 4, prior=HOFFMANN)
    exact = scalefit.simulate("chinchilla", HOFFMANN, grid, noise=0.0)
    law = HOFFMANN["E"] + HOFFMANN["A"] / grid["n_params"] ** 0.34 + HOFFMANN["B"] / grid["n_tokens"] ** 0.28
    np.testing.assert_allclose(exact["loss"], law, rtol=1e-12)
    a = scalefit.simulate("chinchilla", HOFFMANN, grid, seed=3)
    b = scalefit.simulate("chinchilla", HOFFMANN, grid, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert "loss" not in grid.columns  # the caller's table is not changed
    ratio = np.log(a["loss"] / law)
    assert 0 < np.abs(ratio).max() < 0.05


def test_simulate_outliers_land_above_the_law():
    grid = scalefit.isoflop_grid(np.geomspace(1e18, 1e20, 10), 10, prior=HOFFMANN)
    sim = scalefit.simulate("chinchilla", HOFFMANN, grid, noise=0.0, outliers=0.3, seed=0)
    clean = scalefit.simulate("chinchilla", HOFFMANN, grid, noise=0.0)
    excess = sim["loss"] / clean["loss"] - 1
    assert 10 < sim["outlier"].sum() < 50
    assert np.all(excess[sim["outlier"]].between(0.05, 0.2)) and np.all(excess[~sim["outlier"]] == 0)


def test_simulate_bad_input():
    with pytest.raises(ScalefitInputError, match="n_tokens"):
        scalefit.simulate("chinchilla", HOFFMANN, pd.DataFrame({"n_params": [1e8]}))
    with pytest.raises(ScalefitInputError, match="outliers"):
        scalefit.simulate("chinchilla", HOFFMANN, {"n_params": [1e8], "n_tokens": [1e9]}, outliers=1.0)


def test_a_noise_given_as_a_percentage_is_refused():
    """A QA report: design --noise 1 (1% meant) ran with 100% noise, printing 26 numpy warnings and N* errors of 5.6."""
    grid = {"n_params": [1e8], "n_tokens": [1e9]}
    for call in (lambda: scalefit.simulate("chinchilla", HOFFMANN, grid, noise=1),
                 lambda: scalefit.design(1e22, 2e19, n_sims=4, noise=1, **SMALL)):
        with pytest.raises(ScalefitInputError, match=r"noise=1 is a relative standard deviation .* such as 0.01"):
            call()
    assert scalefit.simulate("chinchilla", HOFFMANN, grid, noise=0.5, seed=0)["loss"].notna().all()


def test_isoflop_grid_centres_on_the_prior_optimum():
    grid = scalefit.isoflop_grid([1e19, 1e21], 5, span=4.0, prior=HOFFMANN)
    n_opt = frontier("chinchilla", HOFFMANN, [1e19, 1e21])[0]
    for c, n in zip([1e19, 1e21], n_opt):
        line = grid.loc[grid["budget"] == c]
        np.testing.assert_allclose(6 * line["n_params"] * line["n_tokens"], c, rtol=1e-12)
        np.testing.assert_allclose(np.sort(line["n_params"]), n * np.geomspace(0.25, 4, 5), rtol=1e-9)
    with pytest.raises(ScalefitInputError, match="n_per_budget"):
        scalefit.isoflop_grid([1e19], 2)
    with pytest.raises(ScalefitInputError, match="span"):
        scalefit.isoflop_grid([1e19], 5, span=1.0)


def test_design_never_exceeds_its_budget_and_reports_precision():
    d = scalefit.design(1e22, 2e19, n_sims=4, **SMALL)
    assert d.total_flops <= 2e19 * (1 + 1e-12)
    assert float(d.runs["flops"].sum()) == pytest.approx(d.total_flops)
    assert (d.candidates["flops"] <= 2e19 * (1 + 1e-12)).all()
    assert d.n_runs == 6 and set(d.precision["quantity"]) == {"a", "n_opt", "d_opt", "loss"}
    assert "Experiment design" in str(d.summary())
    import json

    json.dumps(d.to_dict(), allow_nan=False)


def test_default_budgets_spend_the_budget_and_include_the_standard_grid():
    from scalefit.experiments._prior import make_prior
    from scalefit.experiments._search import grid_candidates

    found = grid_candidates(make_prior(None), 1e21, 6.0, n_runs=None, budgets=None, min_params=1e6,
                            max_params=np.inf, seed=0)
    assert all(c.cost <= 1e21 * (1 + 1e-9) for c in found)
    standard = [c for c in found if c.meta["counts"] == [8] * 5 and c.meta["span"] == 4.0]
    assert standard and any(np.allclose(np.diff(np.log(sorted(c.meta["budgets"]))), np.log(3)) for c in standard)


def _bootstrap_se_of_median(x: np.ndarray, rng: np.random.Generator) -> float:
    return float(np.std([np.median(rng.choice(x, x.size)) for _ in range(400)]))


def test_concentrated_prior_error_matches_a_direct_simulation():
    n = 16
    d = scalefit.design(1e22, 2e19, n_sims=n, seed=5, **SMALL)
    true_n = frontier("chinchilla", HOFFMANN, 1e22)[0]
    direct = []
    for s in range(n):
        runs = scalefit.simulate("chinchilla", HOFFMANN, d.runs, noise=0.01, seed=1000 + s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = scalefit.fit(runs[["n_params", "n_tokens", "loss"]])
        direct.append(abs(float(np.log(frontier("chinchilla", fitted.params, 1e22)[0] / true_n))))
    direct = np.array(direct)
    reported = np.abs(d.errors[:, 1])
    rng = np.random.default_rng(0)
    se = np.hypot(_bootstrap_se_of_median(direct, rng), _bootstrap_se_of_median(reported, rng))
    assert abs(np.median(direct) - d.error("n_opt")) <= 3 * se
    assert d.error("n_opt") == pytest.approx(np.median(reported))


def test_next_runs_never_repropose_a_trained_run():
    grid = scalefit.isoflop_grid([1e17, 1e18, 3e18], 5, prior=HOFFMANN)
    trained = scalefit.simulate("chinchilla", HOFFMANN, grid, seed=1)[["n_params", "n_tokens", "loss"]]
    new = pd.DataFrame({"n_params": [5e8, 2e8], "n_tokens": [3e9, 8e9]})
    pool = pd.concat([trained[["n_params", "n_tokens"]], new], ignore_index=True)  # trained runs offered again
    d = scalefit.design(1e22, 2e19, prior=trained, candidates=pool, n_runs=3, n_sims=4, n_jobs=1)
    assert d.kind == "next" and len(d.runs) == 2  # only the two untrained runs can be proposed
    proposed = set(map(tuple, d.runs[["n_params", "n_tokens"]].to_numpy()))
    assert proposed == set(map(tuple, new.to_numpy(float)))
    assert {"order", "shrink"} <= set(d.runs.columns) and np.isfinite(d.runs["shrink"]).all()
    assert d.total_flops <= 2e19


def test_bad_input_errors():
    with pytest.raises(ScalefitInputError, match="target_flops .* must be above experiment_flops") as e:
        scalefit.design(1e20, 1e21)
    assert e.value.option == "target_flops"
    with pytest.raises(ScalefitInputError, match="too small for the minimum of 6") as e:
        scalefit.design(1e24, 1e12)
    assert e.value.option == "experiment_flops"
    with pytest.raises(ScalefitInputError, match="no candidate design is feasible"):
        scalefit.design(1e24, 1e21, min_params=1e6, max_params=2e6, n_jobs=1)
    with pytest.raises(ScalefitInputError, match="min_params .* must be below max_params"):
        scalefit.design(1e24, 1e21, min_params=1e9, max_params=1e8)
    with pytest.raises(ScalefitInputError, match="objective"):
        scalefit.design(1e24, 1e21, objective="n")
    with pytest.raises(ScalefitInputError, match="missing"):
        scalefit.design(1e24, 1e21, prior={"E": 1.7})
