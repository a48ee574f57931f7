"""The default Approach 2 estimator: the exact Chinchilla IsoFLOP profile per budget (issue 11).

Reference values are the closed-form compute-optimal allocation of the Chinchilla law
(Hoffmann et al. 2022, eq. 4; ``scalefit.laws.chinchilla_compute_optimal``) under the published
E = 1.69, A = 406.4, B = 410.7 (Hoffmann et al. 2022, eq. 10) with the exponents each test names.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.approaches import isoflop
from scalefit.approaches._isoflop import curve_values
from scalefit.cli import main
from scalefit.laws import chinchilla_compute_optimal, get_law

BUDGETS = np.logspace(18, 22, 5)


def _sweep(alpha, beta, shift=lambda i: 0.0, span=8.0, noise=0.0, seed=0):
    """15 sizes per budget on a +-span log grid around the true N*(C), shifted by shift(i) decades."""
    p = dict(E=1.69, A=406.4, B=410.7, alpha=alpha, beta=beta)
    rng = np.random.default_rng(seed)
    rows = []
    for i, c in enumerate(BUDGETS):
        n_star = float(chinchilla_compute_optimal(p, c)[0])
        n = 10 ** (np.log10(n_star) + shift(i) + np.linspace(-np.log10(span), np.log10(span), 15))
        d = c / (6 * n)
        loss = get_law("chinchilla")(p, n_params=n, n_tokens=d) * np.exp(rng.normal(0, noise, n.size))
        rows.append(pd.DataFrame(dict(n_params=n, n_tokens=d, flops=c, loss=loss)))
    return pd.concat(rows, ignore_index=True), p


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalefit.ScalefitWarning)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("alpha, beta, shift", [
    (0.465, 0.155, lambda i: np.log10(3.0) * (i / 2 - 1)),  # alpha/beta = 3, centres drifting from N*/3 to 3 N*
    (0.155, 0.465, lambda i: np.log10(3.0)),                 # alpha/beta = 1/3, every grid centred on 3 N*
])
def test_profile_is_exact_where_a_parabola_is_biased(alpha, beta, shift):
    data, p = _sweep(alpha, beta, shift, span=16.0)
    a_true = beta / (alpha + beta)
    prof = isoflop(data, bootstrap=0)
    assert prof.method == "profile"
    parabola = _quiet(isoflop, data, method="parabola", bootstrap=0)
    assert abs(parabola.a - a_true) > 0.005 or np.max(np.abs(np.log10(
        parabola.optima["n_params"] / chinchilla_compute_optimal(p, parabola.optima["flops"].to_numpy())[0]))) > 0.01
    # noise-free: every budget's N*, D* and L* and the exponent are the law's own, to rounding
    n_star, d_star, l_star = chinchilla_compute_optimal(p, prof.optima["flops"].to_numpy())
    np.testing.assert_allclose(prof.optima["n_params"], n_star, rtol=1e-6)
    np.testing.assert_allclose(prof.optima["n_tokens"], d_star, rtol=1e-6)
    np.testing.assert_allclose(prof.optima["loss"], l_star, rtol=1e-9)
    assert prof.a == pytest.approx(a_true, abs=1e-7)
    # the shared exponents of the fitted profiles are the law's
    c0, c1, c2, a_fit, b_fit = prof.optima["curve"][0]
    assert (a_fit, b_fit) == (pytest.approx(alpha, rel=1e-5), pytest.approx(beta, rel=1e-5))
    assert prof.bias_warning == "" and abs(prof.bias_check["difference"]) < 1e-6


def test_the_loss_window_drops_far_runs_without_biasing_the_optimum():
    data, p = _sweep(0.34, 0.28, lambda i: np.log10(3.0), span=16.0)
    windowed = isoflop(data, bootstrap=0)                       # default: runs within 30% of each budget's lowest loss
    every = isoflop(data, bootstrap=0, max_excess_loss=None)
    loss = data["loss"].to_numpy()
    budget = np.searchsorted(BUDGETS, data["flops"].to_numpy())
    lowest = pd.Series(loss).groupby(budget).transform("min").to_numpy()
    far = set(np.flatnonzero(loss > 1.3 * lowest).tolist())
    assert far  # this grid reaches past the window
    used = {r for rows in windowed.optima["rows_used"] for r in rows}
    assert used == set(range(len(data))) - far
    assert {r for rows in every.optima["rows_used"] for r in rows} == set(range(len(data)))
    np.testing.assert_allclose(windowed.optima["n_params"], every.optima["n_params"], rtol=1e-6)
    np.testing.assert_allclose(windowed.optima["n_params"], chinchilla_compute_optimal(p, BUDGETS)[0], rtol=1e-6)


def test_curve_values_redraw_the_fitted_profile():
    data, p = _sweep(0.34, 0.28, noise=0.003, seed=1)
    res = _quiet(isoflop, data, bootstrap=0)
    for g, row in res.optima.iterrows():
        x_opt = np.log10(row["n_params"]) - row["centre"]
        assert curve_values("profile", row["curve"], x_opt) == pytest.approx(row["loss"], rel=1e-12)
        xs = x_opt + np.linspace(-0.3, 0.3, 61)
        assert np.argmin(curve_values("profile", row["curve"], xs)) == 30  # the optimum is the curve's minimum
    # with noise the fitted curves follow the runs to about the noise
    table = res.runs.table
    g0 = res.optima.iloc[0]
    rows = table[table["row"].isin(g0["rows_used"])]
    fitted = curve_values("profile", g0["curve"], np.log10(rows["n_params"].to_numpy()) - g0["centre"])
    assert np.median(np.abs(np.log(fitted / rows["loss"].to_numpy()))) < 0.006


def test_profile_bootstrap_is_deterministic_and_brackets_the_truth():
    data, p = _sweep(0.34, 0.28, noise=0.01, seed=3)
    a_true = 0.28 / 0.62
    r1 = _quiet(isoflop, data, bootstrap=100, seed=5)
    r2 = _quiet(isoflop, data, bootstrap=100, seed=5)
    pd.testing.assert_frame_equal(r1.bootstrap_samples, r2.bootstrap_samples)
    lo, hi = r1.interval("a")
    assert lo <= r1.a <= hi and lo < a_true < hi
    assert r1.n_bootstrap_valid >= 95


def test_cli_isoflop_profile_options(capsys):
    assert main(["isoflop", "synthetic:isoflop", "--bootstrap", "0", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["method"] == "profile" and payload["max_excess_loss"] == 0.3
    assert main(["isoflop", "synthetic:isoflop", "--bootstrap", "0", "--json", "--max-excess-loss", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["max_excess_loss"] is None
    assert main(["isoflop", "synthetic:isoflop", "--bootstrap", "0", "--max-excess-loss", "0"]) == 2
    assert "max_excess_loss must be a finite number > 0" in capsys.readouterr().err


# ------------------------------------------------------------- issue 12: the resamples' refinement
@pytest.mark.parametrize("alpha, beta", [(0.34, 0.28), (0.5, 0.25)])
def test_resample_refinement_is_no_worse_than_the_pattern_search(alpha, beta):
    """Every resample's residual sum of squares after the refinement is at most the former pattern search's.

    Exponents from Hoffmann et al. (2022, eq. 10: 0.34, 0.28) and an unequal pair; 1% noise.
    """
    from scalefit.approaches._isoflop import bootstrap_counts
    from scalefit.approaches._profile import LN10, _pattern_search, _solve, fit_exponents

    df, _ = _sweep(alpha, beta, noise=0.01, seed=5)
    X = np.stack([np.log10(g["n_params"].to_numpy()) - np.log10(g["n_params"].to_numpy()).mean()
                  for _, g in df.groupby("flops")])
    Y = np.stack([g["loss"].to_numpy() for _, g in df.groupby("flops")])
    W = bootstrap_counts(np.random.default_rng(0), np.full(len(X), X.shape[1]), X.shape[1], 150)
    ok = np.ones(W.shape[:2], dtype=bool)
    U = LN10 * X
    a, b = fit_exponents(U, Y, W, ok)
    _, rss = _solve(U, Y, W, ok, a, b)
    _, _, ref = _pattern_search(U, Y, W[1:], ok[1:], np.full(150, np.log(a[0])), np.full(150, np.log(b[0])))
    assert np.all(rss[1:] <= ref * (1 + 1e-9))
    assert np.isfinite(rss).all()


def _sweep_arrays(alpha, beta, n_boot, seed=5):
    """Padded kernel inputs (U, Y, W, ok) of :func:`_sweep` with 1% noise, uneven budgets and ``n_boot`` resamples."""
    from scalefit.approaches._isoflop import bootstrap_counts
    from scalefit.approaches._profile import LN10

    df, _ = _sweep(alpha, beta, noise=0.01, seed=seed)
    groups = [g.iloc[: 15 - i] for i, (_, g) in enumerate(df.groupby("flops"))]  # 15, 14, ... points: padding
    P = max(len(g) for g in groups)
    X, Y = np.zeros((len(groups), P)), np.zeros((len(groups), P))
    for i, g in enumerate(groups):
        x = np.log10(g["n_params"].to_numpy())
        X[i, : len(g)], Y[i, : len(g)] = x - x.mean(), g["loss"].to_numpy()
    W = bootstrap_counts(np.random.default_rng(0), np.array([len(g) for g in groups]), P, n_boot)
    return LN10 * X, Y, W, np.ones(W.shape[:2], dtype=bool)


@pytest.mark.parametrize("alpha, beta", [(0.02, 0.3), (0.4, 0.02), (0.34, 0.28), (3.0, 1.1), (0.05, 2.5)])
def test_moment_kernel_matches_the_direct_least_squares(alpha, beta):
    """The moments' RSS is the direct weighted least squares' (same basis span), and q is minus half its gradient.

    Identities, no external reference: {1, exp(-a u), exp(b u)} and {1, expm1(-a u)/a, expm1(b u)/b} span the same
    curves, and the variable-projection gradient of RSS/2 in (log a, log b) is -D'Wr (Golub and Pereyra 1973;
    Kaufman 1975).  Exponent pairs at and near both bounds of the box (0.02, 3).
    """
    from scalefit.approaches._profile import _solve
    from scalefit.approaches._profile_refine import Moments

    U, Y, W, ok = _sweep_arrays(0.34, 0.28, 40)
    ok[3, 2] = False  # a budget left out of one replicate's sum
    mom = Moments(U, Y, W, ok)
    rows = np.arange(W.shape[0])
    a, b = np.full(len(rows), alpha), np.full(len(rows), beta)
    rss, H, q = mom.evaluate(rows, a, b, grad=True)
    _, direct = _solve(U, Y, W, ok, a, b)
    np.testing.assert_allclose(rss, direct, rtol=1e-8)
    np.testing.assert_allclose(mom.grid(np.array([alpha]), np.array([beta]))[:, 0], direct, rtol=1e-8)
    h = 1e-5
    for k, (da, db) in enumerate([(h, 0.0), (0.0, h)]):
        up = _solve(U, Y, W, ok, a * np.exp(da), b * np.exp(db))[1]
        down = _solve(U, Y, W, ok, a * np.exp(-da), b * np.exp(-db))[1]
        np.testing.assert_allclose(-2.0 * q[:, k], (up - down) / (2 * h), rtol=1e-4, atol=1e-9 * direct.max())
    assert np.all(np.linalg.eigvalsh(H) >= -1e-12 * np.abs(H).max())  # a Gauss-Newton matrix is semi-definite


@pytest.mark.parametrize("alpha, beta", [(0.34, 0.28), (0.5, 0.25)])
def test_refinement_is_the_same_in_any_batch(alpha, beta):
    """A resample's exponents do not depend on the other resamples refined with it (batches of 1, 7 and all)."""
    from scalefit.approaches._profile import fit_exponents

    U, Y, W, ok = _sweep_arrays(alpha, beta, 21)
    a, b = fit_exponents(U, Y, W, ok)
    for size in (1, 7):
        for i in range(1, W.shape[0], size):
            rows = np.r_[0, np.arange(i, min(i + size, W.shape[0]))]
            ai, bi = fit_exponents(U, Y, W[rows], ok[rows], start=(a[0], b[0]))
            assert np.array_equal(ai[1:], a[rows[1:]]) and np.array_equal(bi[1:], b[rows[1:]])


def test_refinement_finds_the_bound_basins_on_porian_data(porian_dir):
    """Porian et al.'s configurations whose exponent sits at the 0.02 bound: never worse than the pattern search.

    Data: formll/resolving-scaling-law-discrepancies@0dc60d9 (``isoflop_points.csv``); the pattern search
    (``_profile._pattern_search``, this module's former refinement) is the reference, resample by resample.
    """
    from scalefit.approaches import _profile

    runs = scalefit.read_runs(porian_dir / "isoflop_points.csv")
    keys = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
    calls = []
    keep = _profile.fit_exponents

    def spy(U, Y, W, ok, *, start=None):
        a, b = keep(U, Y, W, ok, start=start)
        calls.append((U, Y, W, ok, a, b))
        return a, b

    _profile.fit_exponents = spy
    try:
        _quiet(isoflop, runs, group_by=keys, bootstrap=60, seed=3)
    finally:
        _profile.fit_exponents = keep
    at_bound = 0
    for U, Y, W, ok, a, b in calls:
        at_bound += min(a[0], b[0]) <= 0.0201
        _, rss = _profile._solve(U, Y, W[1:], ok[1:], a[1:], b[1:])
        n = len(rss)
        _, _, ref = _profile._pattern_search(U, Y, W[1:], ok[1:], np.full(n, np.log(a[0])), np.full(n, np.log(b[0])))
        assert np.all(rss <= ref * (1 + 1e-9))
    assert len(calls) == 15 and at_bound >= 5  # the case this refinement is for is present


def test_moments_in_small_blocks_equal_one_block(monkeypatch):
    """Cutting the points and replicates into small blocks (bounded memory) leaves every moment sum unchanged."""
    from scalefit.approaches import _profile_refine
    from scalefit.approaches._profile_refine import Moments

    U, Y, W, ok = _sweep_arrays(0.34, 0.28, 30)
    rows = np.arange(W.shape[0])
    a, b = np.linspace(0.02, 3.0, len(rows)), np.linspace(3.0, 0.05, len(rows))
    whole = Moments(U, Y, W, ok)
    ref = whole.evaluate(rows, a, b, grad=True)
    ref_grid = whole.grid(a[:5], b[:5])
    monkeypatch.setattr(_profile_refine, "CELLS", 90)  # 5 points of one product per block; budgets cut in pieces
    small = Moments(U, Y, W, ok)
    assert any(len(blk[3]) == 1 and blk[1] - blk[0] < 14 for blk in small.blocks(5))
    for x, y in zip(ref, small.evaluate(rows, a, b, grad=True)):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12 * np.abs(x).max())
    np.testing.assert_allclose(small.grid(a[:5], b[:5]), ref_grid, rtol=1e-9)
