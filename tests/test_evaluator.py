"""One law evaluator serves every path: predict, bootstrap draws, planning and plotting.

For every built-in law (the FLOPs-only ones included), the same parameters give
identical numbers through ``FitResult.predict``, ``LoadedFit.predict``,
``BootstrapResult.derived``, ``compute_optimal`` and ``plot_loss_contours`` as
through :func:`scalefit.laws.evaluate`.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.fitting import BootstrapResult, LoadedFit
from scalefit.laws import available_laws, evaluate, get_law

N = np.array([3e7, 1e8, 4e8, 1e9, 3e9, 1e10])
D = np.array([6e8, 3e9, 1e10, 2e10, 9e10, 2e11])
U = 5e9  # unique tokens, for the data-constrained law


def _inputs(law):
    extra = {"unique_tokens": np.full(N.shape, U)} if "unique_tokens" in law.inputs else {}
    return dict(n_params=N, n_tokens=D, **extra)


def _point(law):
    return {p.name: float(p.value) for p in law.params}


@functools.lru_cache(maxsize=None)
def _fit_of(name):
    """A real FitResult of the law, fitted to losses the law itself generates (with a little noise)."""
    law = get_law(name)
    rng = np.random.default_rng(0)
    n = np.geomspace(3e7, 1e10, 6).repeat(4)
    d = np.tile([1e9, 5e9, 2e10, 1e11], 6) * (1 + 0.1 * rng.random(24))
    df = pd.DataFrame(dict(n_params=n, n_tokens=d))
    if "unique_tokens" in law.inputs:
        df["unique_tokens"] = U
    truth = evaluate(law, _point(law), **{c: df[c].to_numpy() for c in df.columns})
    df["loss"] = truth * np.exp(0.002 * rng.standard_normal(len(df)))
    return scalefit.fit(df, law, max_starts=4)  # the paths under test need a real fit, not a precise one


@pytest.mark.parametrize("name", available_laws())
def test_predict_and_loaded_fit_use_the_evaluator(name):
    law = get_law(name)
    params = _point(law)
    expected = evaluate(law, params, **_inputs(law))
    loaded = LoadedFit(law, params)
    np.testing.assert_array_equal(loaded.predict(**_inputs(law)), expected)
    res = _fit_of(name)
    np.testing.assert_array_equal(res.predict(**_inputs(law)), evaluate(law, res.params, **_inputs(law)))


# BootstrapResult.derived predicts at (n_params, n_tokens) pairs: the data-constrained law also needs unique_tokens
@pytest.mark.parametrize("name", [n for n in available_laws() if "unique_tokens" not in get_law(n).inputs])
def test_bootstrap_draws_use_the_evaluator(name):
    law = get_law(name)
    res = _fit_of(name)
    rng = np.random.default_rng(1)
    draws = pd.DataFrame([{k: v * (1 + 0.01 * rng.standard_normal()) for k, v in res.params.items()} for _ in range(5)])
    boot = BootstrapResult(res, draws, np.zeros(5), np.ones(5, bool), 5, 0)
    derived = boot.derived(n_params=N, n_tokens=D)
    cols = [c for c in derived.columns if c.startswith("loss@")]
    assert len(cols) == len(N)
    for i, row in draws.iterrows():
        expected = evaluate(law, row.to_dict(), n_params=N, n_tokens=D)
        np.testing.assert_array_equal(derived.loc[i, cols].to_numpy(dtype=float), expected)


@pytest.mark.parametrize("name", [n for n in available_laws() if "flops" in get_law(n).inputs
                                  or {"n_params", "n_tokens"} <= set(get_law(n).inputs)])
def test_planning_uses_the_evaluator(name):
    law = get_law(name)
    params = _point(law)
    budgets = np.array([1e21, 1e22])
    if tuple(law.inputs) == ("flops",):
        # L(C) has no split of compute to choose: the frontier's loss is the law at C
        _, _, loss = scalefit.plan.frontier(law, params, budgets)
        np.testing.assert_array_equal(loss, evaluate(law, params, flops=budgets))
        return
    if "unique_tokens" in law.inputs:
        plan = scalefit.data_constrained_optimal(LoadedFit(law, params), budgets, unique_tokens=U)
        for alloc in plan:
            expected = evaluate(law, params, n_params=alloc.n_params, n_tokens=alloc.n_tokens,
                                unique_tokens=min(U, alloc.n_tokens))
            assert alloc.loss == pytest.approx(float(expected), rel=1e-12)
        return
    plan = scalefit.compute_optimal(LoadedFit(law, params), budgets)
    n_opt, d_opt, l_opt = scalefit.plan.frontier(law, params, budgets)
    for j, alloc in enumerate(plan):
        expected = evaluate(law, params, n_params=alloc.n_params, n_tokens=alloc.n_tokens)
        assert alloc.loss == pytest.approx(float(expected), rel=1e-12)
        # one solver: the plan and the frontier the plots draw agree
        assert alloc.n_params == pytest.approx(float(n_opt[j]), rel=1e-6)
        assert alloc.loss == pytest.approx(float(l_opt[j]), rel=1e-9)


# the contour plot draws laws of (N, D) or of C (a single-input law has no frontier to draw)
@pytest.mark.parametrize("name", [n for n in available_laws() if set(get_law(n).inputs) <= {"n_params", "n_tokens", "flops"}
                                  and len(get_law(n).inputs) != 1 or get_law(n).inputs == ("flops",)])
def test_plotting_uses_the_evaluator(name):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalefit import plots

    law = get_law(name)
    res = _fit_of(name)
    disp = plots.plot_loss_contours(res, show_runs=False, colorbar=False)
    try:
        d = disp.data_
        k = res.runs.flops_per_param_token
        n_grid, c_grid = np.meshgrid(d["n_params"], d["flops"], indexing="ij")
        expected = evaluate(law, res.params, n_params=n_grid, n_tokens=c_grid / (k * n_grid), flops_per_param_token=k)
        np.testing.assert_array_equal(d["loss"], expected)
    finally:
        plt.close(disp.figure_)
