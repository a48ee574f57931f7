"""Tests of scalefit.plots: every figure is drawn with the Agg backend and its content checked.

Data: the bundled SYNTHETIC runs (scalefit.datasets, generated from the
Chinchilla law of Hoffmann et al. 2022, E=1.69, A=406.4, B=410.7,
alpha=0.34, beta=0.28) and a small sweep drawn here from the same law with
np.random.default_rng(seed).  Bootstraps use 50 resamples to keep the file fast.
"""
from __future__ import annotations

import copy
import subprocess
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection

import scalefit
from scalefit import ScalefitInputError
from scalefit import plots
from scalefit.datasets import SYNTHETIC_LAW, load_synthetic, load_synthetic_curves
from scalefit.laws import Law, Param, chinchilla_compute_optimal

N_BOOT = 50


# ------------------------------------------------------------------ fixtures
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def runs():
    return load_synthetic()


@pytest.fixture(scope="module")
def curves():
    return load_synthetic_curves()


@pytest.fixture(scope="module")
def iso(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalefit.isoflop(runs, bootstrap=N_BOOT, seed=0)


@pytest.fixture(scope="module")
def env(curves):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalefit.envelope(curves, bootstrap=N_BOOT, seed=0)


@pytest.fixture(scope="module")
def fit(runs):
    return scalefit.fit(runs)


@pytest.fixture(scope="module")
def boot(fit):
    return fit.bootstrap(N_BOOT, seed=0, n_jobs=1)


def _sweep(seed: int = 0) -> pd.DataFrame:
    """Small IsoFLOP sweep from the Chinchilla law with 1% multiplicative noise."""
    rng = np.random.default_rng(seed)
    p = SYNTHETIC_LAW
    rows = []
    for c in (1e18, 1e19, 1e20):
        for n in np.geomspace(np.sqrt(c / 6) / 30, np.sqrt(c / 6) * 3, 7):
            d = c / (6 * n)
            loss = p["E"] + p["A"] / n ** p["alpha"] + p["B"] / d ** p["beta"]
            rows.append({"n_params": n, "n_tokens": d, "flops": c, "loss": loss * np.exp(rng.normal(0, 0.01))})
    return pd.DataFrame(rows)


def _carrying(result, runs):
    """A copy of ``result`` that keeps ``runs`` (None: a result that truly carries none)."""
    out = copy.copy(result)
    object.__setattr__(out, "runs", runs)
    return out


# ------------------------------------------------------------------ import
def test_all_is_every_plot():
    assert sorted(plots.__all__) == sorted(["PlotDisplay"] + [n for n in dir(plots) if n.startswith("plot_")])


def test_import_does_not_load_pyplot():
    code = (
        "import sys, scalefit, scalefit.plots; "
        "print('matplotlib.pyplot' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_matplotlib_raises_clear_importerror(monkeypatch, fit):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"scalefit\.plots needs matplotlib.*pip install matplotlib"):
        plots.plot_fit(fit)


# ------------------------------------------------------------- Approach 2
def test_isoflop_profiles(iso, runs):
    disp = plots.plot_isoflop_profiles(iso, runs)
    ax = disp.ax_
    n_budgets = len(iso.optima)
    assert isinstance(disp, plots.PlotDisplay) and disp.figure_ is ax.figure
    assert len(disp.artists_["points"]) == n_budgets
    assert sum(len(p.get_offsets()) for p in disp.artists_["points"]) == len(runs)
    assert len(disp.artists_["curves"]) == n_budgets
    assert len(ax.lines) == n_budgets
    assert len(disp.artists_["minima"].get_offsets()) == n_budgets
    np.testing.assert_allclose(disp.artists_["minima"].get_offsets()[:, 0], iso.optima["n_params"])
    # the curves drawn are the ones the analysis fitted: their minima sit on its optima
    np.testing.assert_allclose(np.log10(disp.data_["curve_n_opt"]), np.log10(iso.optima["n_params"]), atol=0.02)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Parameters N" and ax.get_ylabel() == "Loss (nats)"
    assert disp.artists_["colorbar"].ax.get_ylabel() == "FLOP budget C (FLOPs)"
    with pytest.raises(AttributeError):
        disp.ax_ = None  # frozen


@pytest.mark.parametrize("options", [dict(method="parabola"), dict(method="cubic"), dict(method="nearest", n_nearest=4)])
def test_isoflop_profiles_follow_the_method(options):
    sweep = _sweep()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.isoflop(sweep, bootstrap=0, **options)
    disp = plots.plot_isoflop_profiles(res, sweep)
    ok = np.isfinite(res.optima["n_params"]).to_numpy()
    np.testing.assert_allclose(np.log10(disp.data_["curve_n_opt"][ok]), np.log10(res.optima["n_params"][ok]), atol=0.02)


def test_isoflop_profiles_marks_no_minimum_for_a_non_convex_budget():
    sweep = _sweep()
    first = sweep["flops"] == 1e18
    x = np.log10(sweep.loc[first, "n_params"].to_numpy())
    sweep.loc[first, "loss"] = 4.0 - 0.5 * (x - x.mean()) ** 2  # concave: the parabola's vertex is a maximum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.isoflop(sweep, bootstrap=0, method="parabola")
    assert "non_convex" in res.optima["flags"].iloc[0]
    disp = plots.plot_isoflop_profiles(res, sweep)
    assert disp.data_["has_minimum"].tolist() == [False, True, True]
    assert len(disp.artists_["minima"].get_offsets()) == 2
    assert disp.ax_.get_xlim()[1] < 10 * sweep["n_params"].max()  # the axis is not stretched to the maximum


def test_isoflop_profiles_needs_runs(iso):
    with pytest.raises(ScalefitInputError, match=r"plot_isoflop_profiles: needs the runs.*pass runs="):
        plots.plot_isoflop_profiles(_carrying(iso, None))


def test_isoflop_profiles_from_the_result_alone(iso, runs):
    given = plots.plot_isoflop_profiles(iso, runs)
    alone = plots.plot_isoflop_profiles(_carrying(iso, runs))
    for a, b in zip(given.artists_["points"], alone.artists_["points"]):
        np.testing.assert_array_equal(a.get_offsets(), b.get_offsets())
    np.testing.assert_array_equal(given.data_["curve_n_opt"], alone.data_["curve_n_opt"])


def test_isoflop_profiles_refuses_other_runs(iso):
    with pytest.raises(ScalefitInputError, match="no run matches budget"):
        plots.plot_isoflop_profiles(iso, _sweep())


# ------------------------------------------------------ Approaches 1 and 2
def test_optimal_scaling_isoflop(iso):
    disp = plots.plot_optimal_scaling(iso, flops=5.76e23)
    ax_n, ax_d = disp.axes_
    for ax in (ax_n, ax_d):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlabel() == "Training compute C (FLOPs)"
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1  # the bootstrap band
    assert ax_n.get_ylabel().startswith("Parameters N*") and ax_d.get_ylabel().startswith("Tokens D*")
    grid = disp.data_["flops"]
    assert grid.max() >= 5.76e23
    np.testing.assert_allclose(disp.artists_["n_line"].get_ydata(), iso.k_n * grid ** iso.a)
    np.testing.assert_allclose(disp.artists_["d_line"].get_ydata(), iso.k_d * grid ** iso.b)
    assert np.all(disp.data_["n_low"] <= disp.data_["n_opt"]) and np.all(disp.data_["n_opt"] <= disp.data_["n_high"])
    assert len(disp.artists_["n_points"].get_offsets()) == int(iso.optima["used"].sum())
    assert "0.4" in disp.artists_["n_line"].get_label()  # the exponent a is in the legend


def test_optimal_scaling_envelope_on_same_axes(iso, env):
    first = plots.plot_optimal_scaling(iso)
    second = plots.plot_optimal_scaling(env, axes=first.axes_)
    assert second.figure_ is first.figure_
    assert len(first.ax_.get_lines()) == 2  # one fit line per approach
    assert second.artists_["n_line"].get_label().startswith("Envelope (Approach 1)")
    assert second.artists_["n_excluded"] is not None  # edge points are shown, hollow


def test_optimal_scaling_bad_level(iso):
    with pytest.raises(ScalefitInputError, match=r"level 0\.8 was not computed; available levels are 0\.95"):
        plots.plot_optimal_scaling(iso, level=0.8)


# --------------------------------------------------------------- Approach 1
def test_envelope(env, curves):
    disp = plots.plot_envelope(env, curves)
    ax = disp.ax_
    assert len(disp.artists_["curves"]) == curves.n_runs
    assert len(ax.lines) == curves.n_runs + 1  # runs + envelope
    np.testing.assert_allclose(disp.artists_["envelope"].get_xdata(), env.frontier["flops"])
    np.testing.assert_allclose(disp.artists_["envelope"].get_ydata(), env.frontier["loss"])
    assert len(disp.artists_["fitted"].get_offsets()) == int(env.frontier["used"].sum())
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "Training compute C (FLOPs)" and ax.get_ylabel() == "Loss (nats)"
    assert disp.artists_["colorbar"].ax.get_ylabel() == "Parameters N"


def test_envelope_from_the_result_alone(env, curves):
    given = plots.plot_envelope(env, curves)
    alone = plots.plot_envelope(_carrying(env, curves))
    assert len(alone.artists_["curves"]) == len(given.artists_["curves"]) == curves.n_runs
    for a, b in zip(given.artists_["curves"], alone.artists_["curves"]):
        np.testing.assert_array_equal(a.get_xydata(), b.get_xydata())
    with pytest.raises(ScalefitInputError, match=r"plot_envelope: needs the runs.*pass runs="):
        plots.plot_envelope(_carrying(env, None))


def test_envelope_final_only(curves):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.envelope(curves, final_only=True, bootstrap=0)
    disp = plots.plot_envelope(res, curves)
    assert len(disp.data_["flops"]) == len(res.frontier)


# --------------------------------------------------------------- parametric
def test_loss_contours_chinchilla(fit, runs):
    disp = plots.plot_loss_contours(fit)
    ax = disp.ax_
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "Training compute C (FLOPs)" and ax.get_ylabel() == "Parameters N"
    assert len(disp.artists_["runs"].get_offsets()) == len(runs)
    assert len(disp.data_["levels"]) >= 5
    n_closed, _, _ = chinchilla_compute_optimal(fit.params, disp.data_["frontier_flops"])
    np.testing.assert_allclose(disp.artists_["frontier"].get_ydata(), n_closed)
    assert disp.artists_["colorbar"].ax.get_ylabel() == "Loss (nats)"


def _unregistered_chinchilla() -> Law:
    """The Chinchilla law under another name, so scalefit must find its frontier numerically."""
    return Law(
        "chinchilla-copy",
        lambda n_params, n_tokens, E, A, B, alpha, beta: E + A / n_params**alpha + B / n_tokens**beta,
        params=[Param("E", 1.7, min=0, log=True, grid=(1.5, 2.0)), Param("A", 400, min=0, log=True, grid=(100, 1000)),
                Param("B", 400, min=0, log=True, grid=(100, 1000)), Param("alpha", 0.3, min=0.01, max=2, grid=(0.2, 0.5)),
                Param("beta", 0.3, min=0.01, max=2, grid=(0.2, 0.5))],
    )


def test_loss_contours_numeric_frontier_matches_closed_form():
    fake = type("Fit", (), {"law": _unregistered_chinchilla(), "params": dict(SYNTHETIC_LAW), "runs": None})()
    disp = plots.plot_loss_contours(fake, flops=(1e18, 1e24), n_params=(1e7, 1e12))
    n_closed, _, _ = chinchilla_compute_optimal(SYNTHETIC_LAW, disp.data_["frontier_flops"])
    np.testing.assert_allclose(disp.data_["frontier_n_params"], n_closed, rtol=2e-3)
    assert disp.artists_["runs"] is None


def _fake_fit(law_name: str, runs=None):
    law = scalefit.get_law(law_name)
    return type("Fit", (), {"law": law, "params": {p.name: p.value for p in law.params}, "runs": runs})()


def test_extrapolation_of_a_compute_only_law_is_the_law_itself(runs):
    fake = _fake_fit("kaplan-c", runs)  # Kaplan et al. (2020) L(C) = (C_c / C)^alpha_C
    disp = plots.plot_extrapolation(fake)
    grid = disp.data_["flops"]
    np.testing.assert_allclose(disp.data_["loss_opt"], (2.6784e28 / grid) ** 0.05)


def test_law_without_both_n_and_d_has_no_frontier(runs):
    with pytest.raises(ScalefitInputError, match=r"law 'kaplan-n' depends on \['n_params'\] only.*no compute-optimal"):
        plots.plot_extrapolation(_fake_fit("kaplan-n", runs))


def test_loss_contours_refuse_a_law_with_other_inputs(runs):
    with pytest.raises(ScalefitInputError, match=r"plot_loss_contours: law 'data-constrained' .*unique_tokens"):
        plots.plot_loss_contours(_fake_fit("data-constrained", runs))


def test_loss_contours_evaluate_the_law_through_laws_evaluate(fit):
    disp = plots.plot_loss_contours(fit)
    n_grid, c_grid = np.meshgrid(disp.data_["n_params"], disp.data_["flops"], indexing="ij")
    expected = scalefit.laws.evaluate(fit.law, fit.params, n_params=n_grid, n_tokens=c_grid / (6.0 * n_grid))
    np.testing.assert_array_equal(disp.data_["loss"], expected)


def test_refuses_non_finite_or_negative_parameters():
    with pytest.raises(ScalefitInputError, match=r"plot_extrapolation: parameter E must be finite"):
        plots.plot_extrapolation({**SYNTHETIC_LAW, "E": float("nan")}, flops=[1e21])
    with pytest.raises(ScalefitInputError, match=r"plot_extrapolation: Chinchilla parameters need A, B, alpha, beta > 0"):
        plots.plot_extrapolation({**SYNTHETIC_LAW, "alpha": -0.3}, flops=[1e21])


def test_loss_contours_without_runs_needs_ranges():
    with pytest.raises(ScalefitInputError, match=r"without runs, give the ranges"):
        plots.plot_loss_contours(dict(SYNTHETIC_LAW))


def test_plot_fit(fit, runs):
    disp = plots.plot_fit(fit)
    assert len(disp.axes_) == 4
    pred_ax, *resid_axes = disp.axes_
    n_points = sum(len(c.get_offsets()) for c in pred_ax.collections if isinstance(c, PathCollection))
    assert n_points == len(runs)
    assert disp.artists_["identity"].get_xdata()[0] == disp.artists_["identity"].get_ydata()[0]  # y = x
    assert pred_ax.get_xlabel() == "Observed loss (nats)" and pred_ax.get_ylabel() == "Predicted loss (nats)"
    assert [a.get_xlabel() for a in resid_axes] == ["Parameters N", "Tokens D", "Training compute C (FLOPs)"]
    assert all(a.get_xscale() == "log" for a in resid_axes)
    assert "log" in resid_axes[0].get_ylabel()  # residuals in the space the fit used
    assert disp.data_["outlier"].sum() == len(fit.diagnostics.outliers)
    np.testing.assert_allclose(disp.data_["residuals"], fit.residuals)


def test_extrapolation_with_bootstrap(boot, runs):
    disp = plots.plot_extrapolation(boot, flops=[1e23, 5.76e23])
    ax = disp.ax_
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Training compute C (FLOPs)"
    assert "loss (nats)" in ax.get_ylabel()
    grid, low, high = disp.data_["flops"], disp.data_["loss_low"], disp.data_["loss_high"]
    assert grid.min() == pytest.approx(runs.flops.min()) and grid.max() >= 5.76e23
    assert isinstance(disp.artists_["band"], PolyCollection)
    # the band widens beyond the data
    width = high - low
    inside = grid <= runs.flops.max()
    assert width[~inside].max() > width[inside].max()
    assert disp.artists_["data_end"].get_xdata()[0] == pytest.approx(runs.flops.max())
    _, _, l_closed = chinchilla_compute_optimal(boot.fit.params, grid)
    np.testing.assert_allclose(disp.data_["loss_opt"], l_closed)
    assert np.all(disp.data_["target_low"] <= disp.data_["target_high"])
    assert len(disp.artists_["runs"].get_offsets()) == len(runs)


def test_extrapolation_without_bootstrap_has_no_band(fit):
    disp = plots.plot_extrapolation(fit)
    assert disp.artists_["band"] is None
    assert disp.data_["flops"].max() >= 100 * fit.runs.flops.max()


def test_plot_bootstrap(boot):
    disp = plots.plot_bootstrap(boot)
    names = disp.data_["names"]
    assert names == ("E", "A", "B", "alpha", "beta", "a")
    assert len(disp.axes_) == 6
    for ax, name, bars, line in zip(disp.axes_, names, disp.artists_["hists"], disp.artists_["estimates"]):
        assert sum(b.get_height() for b in bars) == N_BOOT
        assert ax.get_ylabel() == "Bootstrap draws"
        expected = boot.fit.a if name == "a" else boot.fit.params[name]
        assert line.get_xdata()[0] == pytest.approx(expected)
    assert disp.axes_[5].get_xlabel().startswith("a = ")  # plain text (issue 12: no mathtext parse), a = β/(α+β)
    iv = boot.interval(0.95)
    assert disp.data_["low"]["alpha"] == pytest.approx(iv.loc["alpha", "low"])


def test_training_cost(fit):
    budgets = [1e20, 1e21, 1e22]
    disp = plots.plot_training_cost(fit, flops=budgets, n_gpus=256, gpu="A100", mfu=0.4, price_per_gpu_hour=2.0)
    ax_t, ax_c = disp.axes_
    alloc = scalefit.compute_optimal(fit, budgets)
    for i, a in enumerate(alloc):
        est = scalefit.training_cost(a.n_params, a.n_tokens, n_gpus=256, gpu="A100", mfu=0.4, price_per_gpu_hour=2.0)
        assert disp.data_["days"][i] == pytest.approx(est.days)
        assert disp.data_["cost"][i] == pytest.approx(est.cost)
    for ax in (ax_t, ax_c):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax_t.get_ylabel() == "Training time (days)" and ax_c.get_ylabel().startswith("Cost")


def test_training_cost_by_model_size_without_price(fit):
    alloc = scalefit.compute_optimal(fit, [1e19, 1e20, 1e21])
    disp = plots.plot_training_cost(alloc, n_gpus=8, flops_per_gpu=150e12, x="n_params")
    assert disp.ax_.get_xlabel().startswith("Parameters N*")
    assert disp.axes_[1].get_ylabel() == "GPU-hours"
    np.testing.assert_allclose(disp.artists_["days"].get_xdata(), sorted(a.n_params for a in alloc))


# ------------------------------------------------------------------ drawing on given axes
def test_draws_on_given_axes(fit):
    fig, ax = plt.subplots()
    disp = plots.plot_extrapolation(fit, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig and disp.axes_ == (ax,)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("func", "make", "match"),
    [
        (plots.plot_isoflop_profiles, lambda r: r["fit"], r"plot_isoflop_profiles: expected an IsoFLOPResult.*got FitResult"),
        (plots.plot_optimal_scaling, lambda r: r["fit"], r"plot_optimal_scaling: expected an IsoFLOPResult .* or an EnvelopeResult"),
        (plots.plot_envelope, lambda r: r["iso"], r"plot_envelope: expected an EnvelopeResult.*got IsoFLOPResult"),
        (plots.plot_loss_contours, lambda r: r["iso"], r"plot_loss_contours: expected a FitResult.*got IsoFLOPResult"),
        (plots.plot_fit, lambda r: r["boot"], r"plot_fit: expected a FitResult.*got BootstrapResult.*pass its \.fit"),
        (plots.plot_extrapolation, lambda r: "runs.csv", r"plot_extrapolation: expected a FitResult.*got str"),
        (plots.plot_bootstrap, lambda r: r["fit"], r"plot_bootstrap: expected a BootstrapResult.*got FitResult"),
    ],
)
def test_wrong_result_type(func, make, match, fit, boot, iso):
    objects = {"fit": fit, "boot": boot, "iso": iso}
    with pytest.raises(ScalefitInputError, match=match):
        func(make(objects))


def test_training_cost_wrong_type():
    with pytest.raises(ScalefitInputError, match=r"plot_training_cost: expected a FitResult.*got list"):
        plots.plot_training_cost([1, 2], n_gpus=8, flops_per_gpu=1e14)


def test_training_cost_bad_hardware(fit):
    with pytest.raises(ScalefitInputError, match=r"plot_training_cost: .*mfu"):
        plots.plot_training_cost(fit, flops=[1e21], n_gpus=8, gpu="A100")


def test_bad_ax(fit):
    with pytest.raises(ScalefitInputError, match=r"ax must be a matplotlib Axes or None.*got str"):
        plots.plot_extrapolation(fit, ax="left")


def test_bad_axes_count(fit, boot):
    _, ax = plt.subplots()
    with pytest.raises(ScalefitInputError, match=r"plot_fit: axes must be None .* a sequence of 4 matplotlib Axes"):
        plots.plot_fit(fit, axes=[ax])


@pytest.mark.parametrize("level", [0, 1, 1.5, "high"])
def test_bad_level(boot, level):
    with pytest.raises(ScalefitInputError, match="level must lie strictly between 0 and 1"):
        plots.plot_extrapolation(boot, level=level)


def test_bad_options(fit, boot, runs):
    with pytest.raises(ScalefitInputError, match="unknown colormap 'nope'"):
        plots.plot_loss_contours(fit, cmap="nope")
    with pytest.raises(ScalefitInputError, match=r"flops must be a \(low, high\) pair"):
        plots.plot_loss_contours(fit, flops=(1e21, 1e18))
    with pytest.raises(ScalefitInputError, match="bins must be a positive integer"):
        plots.plot_bootstrap(boot, bins=0)
    with pytest.raises(ScalefitInputError, match="x must be 'flops'"):
        plots.plot_training_cost(fit, n_gpus=8, flops_per_gpu=1e14, x="days")
    with pytest.raises(ScalefitInputError, match="flops must be positive finite numbers"):
        plots.plot_extrapolation(fit, flops=[-1.0])


def test_grouped_isoflop_refused(runs):
    table = runs.table.copy()
    table["lab"] = np.where(np.arange(len(table)) % 2 == 0, "x", "y")
    grouped_runs = scalefit.read_runs(table[["n_params", "n_tokens", "flops", "loss", "lab"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.isoflop(grouped_runs, group_by="lab", bootstrap=0)
    with pytest.raises(ScalefitInputError, match=r"grouped by \['lab'\].*result\.groups\["):
        plots.plot_isoflop_profiles(res, grouped_runs)
    with pytest.raises(ScalefitInputError, match=r"grouped by \['lab'\]"):
        plots.plot_optimal_scaling(res)


def _contrast_on_white(rgba) -> float:
    """WCAG 2.1 contrast ratio of a colour against white (relative luminance, sRGB)."""
    def lin(x):
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(v) for v in rgba[:3])
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_isoflop_budget_palette_is_discrete_labelled_and_contrasts_at_the_top():
    iso = scalefit.isoflop(scalefit.datasets.load_synthetic(), bootstrap=0)
    disp = plots.plot_isoflop_profiles(iso)
    colours = [tuple(p.get_facecolor()[0]) for p in disp.artists_["points"]]
    assert len(set(colours)) == len(colours) == len(iso.optima)  # one colour per budget
    assert min(_contrast_on_white(c) for c in colours) >= 2.95  # WCAG's 3:1 for graphics, top budget included
    labels = [t.get_text() for t in disp.artists_["colorbar"].ax.get_yticklabels()]
    # powers of ten in plain text with Unicode superscripts (issue 12: no mathtext to parse), e.g. 3×10¹⁸
    assert len(labels) == len(iso.optima) and all("10" in t and t[-1] in "⁰¹²³⁴⁵⁶⁷⁸⁹" for t in labels)
    plt.close(disp.figure_)


def test_optimal_scaling_marks_planned_budgets_with_intervals():
    iso = scalefit.isoflop(scalefit.datasets.load_synthetic(), bootstrap=40, seed=0)
    disp = plots.plot_optimal_scaling(iso, flops=[5.76e23, 1e25])
    ax_n = disp.axes_[0]
    assert disp.data_["flops"].max() >= 1e25  # the line reaches the plan
    legend = [t.get_text() for t in ax_n.get_legend().get_texts()]
    assert "planned budgets (95% interval)" in legend  # the look found the stars missing from the legend
    bars = [c for c in ax_n.containers if c.__class__.__name__ == "ErrorbarContainer"]
    assert bars, "no interval drawn at the planned budgets"
    segs = bars[0].lines[2][0].get_segments()
    lo, hi = iso.predict_optimal([5.76e23, 1e25]).intervals["n_params"][iso.level[0]]
    assert [s[0][1] for s in segs] == pytest.approx(list(lo)) and [s[1][1] for s in segs] == pytest.approx(list(hi))
    plt.close(disp.figure_)


def test_plot_approaches_draws_every_approach_to_the_plan():
    runs = scalefit.datasets.load_synthetic()
    fit = scalefit.fit(runs)
    iso = scalefit.isoflop(runs, bootstrap=30, seed=0)
    budgets = [5.76e23, 1e25]
    disp = plots.plot_approaches({"parametric": fit, "isoflop": iso}, flops=budgets, data_flops=runs.flops)
    grid = disp.data_["flops"]
    assert grid.min() == pytest.approx(runs.flops.min()) and grid.max() >= 1e25
    # the lines are the approaches' own answers: the plan's N* for the fit, the power law for IsoFLOP
    plan = scalefit.compute_optimal(fit, list(grid))
    assert disp.data_["parametric_n"] == pytest.approx([a.n_params for a in plan], rel=1e-9)
    assert disp.data_["isoflop_n"] == pytest.approx(iso.predict_optimal(grid).n_params, rel=1e-9)
    assert disp.data_["isoflop_ratio"] == pytest.approx(iso.predict_optimal(grid).n_tokens / iso.predict_optimal(grid).n_params)
    assert disp.artists_["isoflop_band"] is not None and disp.artists_["parametric_band"] is None  # no bootstrap, no band
    assert len(disp.artists_["isoflop_targets"].get_offsets()) == len(budgets)
    plt.close(disp.figure_)
    with pytest.raises(scalefit.ScalefitInputError, match="non-empty mapping"):
        plots.plot_approaches({})


# ------------------------------------------------------------------ what the look at each figure found (issue 17)
def _overlaps(texts, renderer) -> list[tuple[str, str]]:
    """Pairs of drawn, non-empty texts whose boxes overlap on the canvas."""
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text()]
    return [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:] if box_a.overlaps(box_b)]


def _drawn_ticklabels(axis, renderer):
    """The tick labels matplotlib actually draws on ``axis`` (inside the view), major and minor."""
    lo, hi = sorted(axis.get_view_interval())
    ticks = list(axis.get_major_ticks()) + list(axis.get_minor_ticks())
    locs = list(axis.get_majorticklocs()) + list(axis.get_minorticklocs())
    return [t.label1 for t, v in zip(ticks, locs) if lo <= v <= hi and t.label1.get_visible() and t.label1.get_text()]


def test_envelope_palette_is_the_discrete_labelled_budget_palette(env, curves):
    disp = plots.plot_envelope(env)
    sizes = np.unique(curves.table["n_params"].to_numpy(float))
    colours = {tuple(line.get_color()) for line in disp.artists_["curves"]}
    assert len(colours) == len(sizes)  # one colour per model size, as the IsoFLOP figure has one per budget
    assert min(_contrast_on_white(c) for c in colours) >= 2.95  # the largest model no longer pale yellow on white
    labels = [t.get_text() for t in disp.artists_["colorbar"].ax.get_yticklabels()]
    assert len(labels) == len(sizes) and labels[0] == "20M" and all(t[-1] in "MB" for t in labels)
    fig = disp.figure_
    fig.canvas.draw()
    assert not _overlaps(disp.artists_["colorbar"].ax.get_yticklabels(), fig.canvas.get_renderer())


def test_extrapolation_draws_both_bands_and_the_confidence_band_holds_the_line(boot, runs):
    disp = plots.plot_extrapolation(boot, flops=[5.76e23])
    d = disp.data_
    line, low, high, p_low, p_high = d["loss_opt"], d["loss_low"], d["loss_high"], d["prediction_low"], d["prediction_high"]
    assert disp.artists_["band"] is not None and disp.artists_["prediction_band"] is not None
    assert np.all((low <= line) & (line <= high))  # on the demo the band sat below the line beyond the data
    assert np.all((p_low <= line) & (line <= p_high))
    assert np.mean(p_high - p_low) > np.mean(high - low)  # a new run scatters around L*: wider than L*'s own interval
    assert np.all((p_low <= low) & (high <= p_high))  # and holds it everywhere
    # at the data's scale the band is FitResult.predict(..., interval="prediction") at the frontier's N*, D* to within
    # the difference of each draw's own N* (the same noise and extrapolation term)
    n_opt, d_opt, _ = chinchilla_compute_optimal(boot.fit.params, d["flops"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = boot.fit.predict(n_params=n_opt, n_tokens=d_opt, interval="prediction", bootstrap=boot)
    inside = d["flops"] <= d["data_max_flops"]
    np.testing.assert_allclose(p_low[inside], frame["low"][inside], rtol=0.01)
    np.testing.assert_allclose(p_high[inside], frame["high"][inside], rtol=0.01)
    assert d["target_low"][0] <= d["target_loss"][0] <= d["target_high"][0]
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert any("prediction interval" in t for t in labels) and any("confidence interval" in t for t in labels)


def test_extrapolation_shows_every_run_or_says_which_it_clipped(boot, runs):
    disp = plots.plot_extrapolation(boot)
    bottom, top = disp.ax_.get_ylim()
    assert disp.data_["n_clipped"] == 0 and disp.artists_["clipped"] is None
    assert bottom <= runs.loss.min() and runs.loss.max() <= top  # the demo clipped every run above about 3.7 nats
    assert len(disp.artists_["runs"].get_offsets()) == len(runs)
    # a tiny model far above the frontier: clipped, but drawn on the top edge and counted in the legend
    table = runs.to_frame().drop(columns=["row"])
    tiny = pd.DataFrame({"n_params": [1e5, 2e5], "n_tokens": [1e18 / 6e5, 1e18 / 12e5], "flops": [1e18, 1e18],
                         "loss": [9.0, 8.5]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wide = scalefit.read_runs(pd.concat([table, tiny], ignore_index=True))
    disp = plots.plot_extrapolation(boot, runs=wide)
    bottom, top = disp.ax_.get_ylim()
    clipped = disp.artists_["clipped"]
    assert disp.data_["n_clipped"] == 2 and len(clipped.get_offsets()) == 2
    assert np.all(clipped.get_offsets()[:, 1] == top) and clipped.get_label().startswith("2 runs above")
    shown = disp.artists_["runs"].get_offsets()[:, 1]
    assert len(shown) == len(wide) - 2 and np.all((bottom <= shown) & (shown <= top))


def test_bootstrap_tick_labels_do_not_overlap():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wide = scalefit.fit(_sweep(0)).bootstrap(N_BOOT, seed=0, n_jobs=1, progress=False)  # A, B span decades
    disp = plots.plot_bootstrap(wide)
    assert [ax.get_xscale() for ax in disp.axes_].count("log") >= 2  # the case that overlapped: short log axes
    fig = disp.figure_
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in disp.axes_:
        labels = _drawn_ticklabels(ax.xaxis, renderer)
        assert len(labels) >= 2, ax.get_xlabel()
        assert not _overlaps(labels, renderer), (ax.get_xlabel(), [t.get_text() for t in labels])
        assert all("times" not in t.get_text() for t in labels)  # plain numbers, not 4x10^2


def test_overlaid_results_write_their_values_apart(iso, env):
    first = plots.plot_optimal_scaling(iso, flops=[1e23, 1e24])
    second = plots.plot_optimal_scaling(env, axes=first.axes_, flops=[1e23, 1e24])
    fig = first.figure_
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in first.axes_:
        assert not _overlaps([t for t in ax.texts], renderer), [t.get_text() for t in ax.texts]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert sum(t.startswith("planned budgets") for t in legend) == 1  # once, not once per result
    # each value in its result's colour
    assert second.artists_["target_values"][0].get_color() == second.artists_["n_line"].get_color()
    assert first.artists_["target_values"][0].get_color() == first.artists_["n_line"].get_color()


def test_extrapolation_prediction_band_holds_the_confidence_band_on_li_runs(li_csv):
    """A QA report: on Li et al.'s final checkpoints the prediction band's top fell below the confidence band's
    beyond about 5e21 FLOPs (2.633 vs 2.646 at 6.8e21): they measured different things (the loss at the point
    fit's N*, D* against each draw's own L*)."""
    import pandas as pd

    df = pd.read_csv(li_csv)
    final = df[df["portion_steps_elapsed"] == 1].drop_duplicates()
    best = final.loc[final.groupby(["model", "total_steps"])["loss"].idxmin()]
    runs = scalefit.read_runs(best[["N", "D", "loss"]].reset_index(drop=True), columns={"N": "n_params", "D": "n_tokens"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = scalefit.fit(runs).bootstrap(200, seed=0, n_jobs=1, progress=False)
        d = plots.plot_extrapolation(boot, flops=[1e23]).data_
    assert np.all(d["prediction_low"] <= d["loss_low"]) and np.all(d["loss_high"] <= d["prediction_high"])


def test_fixed_layout_makes_room_for_long_colorbar_labels():
    """A QA report: on Li et al.'s budgets (9.13x10^17, ...) the IsoFLOP colorbar's label ran off the figure in the
    report and in --figures-dir files; the fixed margins had been read from round budgets (10^19)."""
    from scalefit.plots._base import fixed_layout

    rows = []
    for c in np.geomspace(1.23e17, 1.07e19, 12):  # budgets whose labels need three significant digits
        for n in np.geomspace(1e7, 1e9, 7):
            d = c / (6 * n)
            rows.append((n, d, c, 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28))  # Hoffmann et al. (2022) eq. 10
    runs = scalefit.read_runs(pd.DataFrame(rows, columns=["n_params", "n_tokens", "flops", "loss"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iso = scalefit.isoflop(runs, bootstrap=0)
    for layout in (fixed_layout, None):
        if layout is None:
            disp = plots.plot_isoflop_profiles(iso)
        else:
            with layout():
                disp = plots.plot_isoflop_profiles(iso)
        fig = disp.figure_
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        label = disp.artists_["colorbar"].ax.yaxis.label.get_window_extent(renderer)
        assert label.x1 <= fig.bbox.x1 + 0.5, (layout, label.x1, fig.bbox.x1)
        ticks = max(t.get_window_extent(renderer).x1 for t in disp.artists_["colorbar"].ax.get_yticklabels())
        assert ticks < label.x0  # the label clears the tick labels
        plt.close(fig)
