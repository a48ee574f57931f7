"""Tests of scalefit.fit and FitResult (the Chinchilla engine and the generic engine)."""
from __future__ import annotations

import json
import warnings
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ConvergenceWarning, FitError, ScalefitInputError
from scalefit.laws import Law, Param, get_law

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reference  # noqa: E402  (the 4,500-start procedure, benchmarks/reference.py)

# Hoffmann et al. (2022) Approach 3, rounded (their eq. 10).
HOFFMANN = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def _design(seed=0, n=60):
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
    return N, D


def _noiseless(params=HOFFMANN, seed=0, n=60):
    N, D = _design(seed, n)
    L = get_law("chinchilla")(params, n_params=N, n_tokens=D)
    return pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))


def _replication(path):
    runs = scalefit.read_runs(path)
    keep = np.zeros(len(runs), bool)
    keep[np.argsort(runs.loss)[: len(runs) - 5]] = True  # Besiroglu et al. drop the 5 highest losses
    return runs.subset(keep)


# ----------------------------------------------------------------- recovery
@pytest.mark.parametrize("loss,space", [("huber", "log"), ("mse", "log"), ("mse", "linear"), ("huber", "linear")])
def test_noiseless_recovery(loss, space):
    res = scalefit.fit(_noiseless(), loss=loss, space=space, delta=1e-3 if space == "log" else 1e-2)
    assert res.success
    for k, v in HOFFMANN.items():
        np.testing.assert_allclose(res.params[k], v, rtol=1e-6, err_msg=k)
    assert res.objective < 1e-20


def test_noiseless_recovery_varied_laws():
    for seed, (al, be) in enumerate([(0.15, 0.8), (0.7, 0.2), (0.5, 0.5)]):
        true = dict(E=2.1, A=3.0 * 1e8**al, B=1.5 * 1e10**be, alpha=al, beta=be)
        res = scalefit.fit(_noiseless(true, seed=seed))
        for k, v in true.items():
            np.testing.assert_allclose(res.params[k], v, rtol=1e-6, err_msg=f"{k} seed {seed}")


def test_replication_matches_besiroglu(chinchilla_csv):
    # Besiroglu et al. (2024), epoch-research/analyzing-chinchilla@9225883: the best objective of the
    # 4,500-start procedure on the 240 runs is 0.0010182741 at A=477.84, B=2143.86, E=1.8172,
    # alpha=0.34731, beta=0.36718 (values recorded in ../shared/data/README.md).
    res = scalefit.fit(_replication(chinchilla_csv))
    assert res.n_runs == 240
    assert res.success
    assert res.objective <= 0.0010182741 * (1 + 1e-6)
    assert abs(res.params["E"] - 1.8172) <= 5e-4
    assert abs(res.params["alpha"] - 0.3473) <= 5e-4
    assert abs(res.params["beta"] - 0.3672) <= 5e-4
    assert res.params["A"] == pytest.approx(477.8, rel=0.02)
    assert res.params["B"] == pytest.approx(2144, rel=0.02)
    assert res.a == pytest.approx(0.513, abs=0.005)  # same source: a = beta/(alpha+beta) ~ 0.513


# Best objective of the competitor (benchmarks/reference.py: fit_reference with analytic gradients from
# 400 starts of the 4,500-point grid drawn by default_rng(seed)) on synthetic_dataset(100 + seed, 80),
# BLAS pinned to one thread. Recorded 2026-12-02 (numpy 2.4.6, scipy 1.17.1) with
#   python benchmarks/bench_fit.py --skip-speed --grid-check
# which runs this same check live; rerun it and update these if benchmarks/reference.py changes.
GRID_REFERENCE_OBJECTIVE = {0: 0.000805907119715522, 1: 0.000764511055320431, 2: 0.0008500603892434652}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_never_worse_than_grid_procedure(seed):
    """A smaller version of benchmarks/bench_fit.py --robustness: 400 random starts of the grid (recorded)."""
    N, D, L, _ = reference.synthetic_dataset(100 + seed, 80)
    f_ref = GRID_REFERENCE_OBJECTIVE[seed]
    res = scalefit.fit(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)))
    assert res.objective <= f_ref * (1 + 1e-6)


# ------------------------------------------------------------- constraints
def test_fixed_parameter_is_held():
    df = _noiseless()
    res = scalefit.fit(df, fixed={"E": 1.5})
    assert res.params["E"] == 1.5
    assert np.isnan(res.stderr["E"])
    assert "E" not in res.covariance.columns
    assert res.objective > 0


def test_tie_alpha_beta_equals_tied_law():
    N, D = _design(3)
    true = dict(E=1.8, A=500.0, B=2000.0, alpha=0.35, beta=0.35)
    df = pd.DataFrame(dict(n_params=N, n_tokens=D, loss=get_law("chinchilla")(true, n_params=N, n_tokens=D)))
    tied = scalefit.fit(df, tie=[("alpha", "beta")])
    law_tied = scalefit.fit(df, "chinchilla-tied")
    assert tied.params["alpha"] == tied.params["beta"]
    np.testing.assert_allclose(tied.params["alpha"], 0.35, rtol=1e-6)
    np.testing.assert_allclose(law_tied.params["alpha"], 0.35, rtol=1e-6)
    assert tied.objective == pytest.approx(law_tied.objective, abs=1e-20)


def test_tie_string_form_and_lmfit_expr():
    res = scalefit.fit(_noiseless(), tie="alpha=beta")
    pars = res.to_lmfit()
    assert pars["beta"].expr == "alpha"
    assert res.params["alpha"] == res.params["beta"]


def test_bounds_respected_and_reported():
    res = scalefit.fit(_noiseless(), bounds={"alpha": (0.0, 0.3)})
    assert res.params["alpha"] <= 0.3 + 1e-12
    assert res.diagnostics.at_bound.get("alpha") == "upper"
    assert "at upper bound" in str(res.summary())


def test_weights_zero_excludes_run_from_objective():
    df = _noiseless()
    df.loc[0, "loss"] *= 1.5  # a gross outlier
    w = np.ones(len(df))
    w[0] = 0.0
    res = scalefit.fit(df, weights=w)
    np.testing.assert_allclose(res.params["alpha"], HOFFMANN["alpha"], rtol=1e-6)
    assert res.n_runs == len(df) - 1


# ------------------------------------------------------------ result object
def test_result_is_frozen_and_predicts_with_broadcasting():
    res = scalefit.fit(_noiseless())
    with pytest.raises(Exception):
        res.objective = 0.0  # frozen dataclass
    pred = res.predict(n_params=np.array([1e9, 1e10])[:, None], n_tokens=np.array([1e10, 1e11, 1e12]))
    assert pred.shape == (2, 3)
    expect = get_law("chinchilla")(HOFFMANN, n_params=1e10, n_tokens=1e11)
    assert pred[1, 1] == pytest.approx(float(expect), rel=1e-6)
    assert np.ndim(res.predict(n_params=1e9, n_tokens=2e10)) == 0
    with pytest.raises(ScalefitInputError, match="n_tokens"):
        res.predict(n_params=1e9)
    with pytest.raises(ScalefitInputError, match="positive"):
        res.predict(n_params=-1.0, n_tokens=1e9)


def test_to_dict_is_json_and_round_trips(tmp_path):
    res = scalefit.fit(_noiseless())
    d = res.to_dict()
    text = json.dumps(d)
    for key in ("law", "params", "objective", "success", "n_runs", "n_starts", "diagnostics"):
        assert key in d
    assert set(d["params"]) == {"E", "A", "B", "alpha", "beta"}
    loaded = scalefit.fitting.FitResult.from_dict(json.loads(text))
    assert loaded.params == pytest.approx(res.params)
    assert loaded.predict(n_params=1e9, n_tokens=1e10) == pytest.approx(res.predict(n_params=1e9, n_tokens=1e10))
    path = tmp_path / "fit.json"
    res.to_json(path)
    with pytest.raises(FileExistsError, match="overwrite"):
        res.to_json(path)
    assert scalefit.fitting.load_fit(path).params == pytest.approx(res.params)


def test_load_fit_bad_inputs(tmp_path):
    with pytest.raises(ScalefitInputError, match="does not exist"):
        scalefit.fitting.load_fit(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ScalefitInputError, match="not valid JSON"):
        scalefit.fitting.load_fit(bad)
    bad.write_text(json.dumps({"params": {}}))
    with pytest.raises(ScalefitInputError, match="'law' and 'params'"):
        scalefit.fitting.load_fit(bad)
    bad.write_text(json.dumps({"law": "chinchilla", "params": {"E": 1.0}}))
    with pytest.raises(ScalefitInputError, match="lacks parameters"):
        scalefit.fitting.load_fit(bad)


def test_summary_text_html_and_lmfit(chinchilla_csv):
    res = scalefit.fit(_replication(chinchilla_csv))
    text = str(res.summary())
    assert "alpha" in text and "std err" in text and "Standard errors: asymptotic" in text
    assert "<table>" in res.summary()._repr_html_()
    pars = res.to_lmfit()
    assert pars["alpha"].value == pytest.approx(res.params["alpha"])
    assert pars["alpha"].stderr == pytest.approx(res.stderr["alpha"])
    assert "[[Variables]]" in res.fit_report()
    assert res.n_local_minima >= 1
    assert res.diagnostics.condition_number > 1
    # the replication data hold several visible outliers (residual > 3 robust SD)
    assert len(res.diagnostics.outliers) > 0
    assert set(res.diagnostics.outliers.columns) == {"row", "residual"}


# --------------------------------------------------------- convergence paths
def test_nonconvergence_warns_and_strict_raises(monkeypatch):
    from scalefit.fitting import _chinchilla as _engine

    real = _engine.polish

    def crippled(*args, **kwargs):
        kwargs["max_iter"] = 1
        return real(*args, **kwargs)

    monkeypatch.setattr(_engine, "polish", crippled)
    N, D, L, _ = reference.synthetic_dataset(7, 60)
    df = pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = scalefit.fit(df)
    assert res.success is False
    with pytest.raises(FitError, match="did not converge") as info:
        scalefit.fit(df, strict=True)
    assert info.value.result is not None and info.value.result.success is False


# ------------------------------------------------------------ generic laws
def test_user_defined_law_recovers_parameters():
    law = Law(
        "n-only",
        lambda n_params, E, A, alpha: E + A / n_params**alpha,
        params=[
            Param("E", 1.5, min=0, log=True, grid=(1, 2)),
            Param("A", 100, min=0, log=True, grid=(10, 1000)),
            Param("alpha", 0.3, min=0, max=2, grid=(0.2, 0.5)),
        ],
    )
    N, D = _design(5)
    L = law(dict(E=2.0, A=300.0, alpha=0.3), n_params=N)
    res = scalefit.fit(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)), law)
    assert res.success
    np.testing.assert_allclose([res.params["E"], res.params["A"], res.params["alpha"]], [2.0, 300.0, 0.3], rtol=1e-6)
    fixed = scalefit.fit(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)), law, fixed={"E": 2.0})
    np.testing.assert_allclose(fixed.params["alpha"], 0.3, rtol=1e-6)


def test_lmfit_parameters_define_a_law():
    lmfit = pytest.importorskip("lmfit")
    pars = lmfit.Parameters()
    pars.add("N_c", value=1e13, min=0)
    pars.add("alpha_N", value=0.1, min=0, max=1)
    law = Law("lm", lambda n_params, N_c, alpha_N: (N_c / n_params) ** alpha_N, params=pars)
    assert law.param_names == ("N_c", "alpha_N")
    assert law.inputs == ("n_params",)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(law="nope"), "unknown law 'nope'"),
        (dict(loss="l1"), "loss must be one of"),
        (dict(space="log10"), "space must be one of"),
        (dict(delta=0.0), "delta must be a positive"),
        (dict(delta="x"), "delta must be a positive number"),
        (dict(bounds={"alpha": (1.0, 0.5)}), "strictly less than"),
        (dict(bounds={"alpha": 3}), "must be a pair"),
        (dict(bounds={"A": (-1, 10)}), "lower bound -1.0 is negative"),
        (dict(bounds={"gamma": (0, 1)}), "unknown parameter 'gamma'"),
        (dict(fixed={"gamma": 1.0}), "unknown parameter 'gamma'"),
        (dict(fixed={"E": -1.0}), "finite and positive"),
        (dict(fixed={"E": "x"}), "must be a number"),
        (dict(fixed={"alpha": 7.0}), "outside its bounds"),
        (dict(tie=[("alpha",)]), "fewer than two"),
        (dict(tie=[("alpha", "gamma")]), "unknown parameter 'gamma'"),
        (dict(tie=[("alpha", "A")]), "same kind"),
        (dict(tie=[("alpha", "beta")], fixed={"alpha": 0.3}), "both fixed and tied"),
        (dict(weights=np.ones(3)), "one value per run"),
        (dict(weights="w"), "weights column 'w' not found"),
        (dict(law=123), "law must be a name"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ScalefitInputError, match=match):
        scalefit.fit(_noiseless(), **kwargs)


def test_bad_weights_values():
    df = _noiseless()
    w = np.ones(len(df))
    w[2] = -1
    with pytest.raises(ScalefitInputError, match="finite and non-negative"):
        scalefit.fit(df, weights=w)
    with pytest.raises(ScalefitInputError, match="all zero"):
        scalefit.fit(df, weights=np.zeros(len(df)))


def test_too_few_runs():
    df = _noiseless().iloc[:4]
    with pytest.raises(ScalefitInputError, match="too few runs"):
        scalefit.fit(df)
    # fixing parameters lowers the requirement
    res = scalefit.fit(df, fixed={"E": 1.69, "alpha": 0.34})
    assert res.n_runs == 4


def test_law_needing_missing_column():
    with pytest.raises(ScalefitInputError, match="needs column 'unique_tokens'"):
        scalefit.fit(_noiseless(), "data-constrained")


def test_param_and_law_specs_refuse_bad_definitions():
    with pytest.raises(ScalefitInputError, match="strictly less than"):
        Param("x", 1.0, min=2.0, max=1.0)
    with pytest.raises(ScalefitInputError, match="log space"):
        Param("x", 1.0, min=-1.0, log=True)
    with pytest.raises(ScalefitInputError, match="not arguments of the function"):
        Law("bad", lambda n_params, a: a, params=[Param("b", 1.0)])
    with pytest.raises(ScalefitInputError, match="no inputs"):
        Law("bad", lambda a: a, params=[Param("a", 1.0)])
    with pytest.raises(ScalefitInputError, match="duplicate parameter"):
        Law("bad", lambda n_params, a: a, params=[Param("a", 1.0), Param("a", 2.0)])
    with pytest.raises(ScalefitInputError, match="callable"):
        Law("bad", 3, params=[Param("a", 1.0)])


def test_fitting_all_checkpoints_of_curves_warns():
    curves = scalefit.datasets.load_synthetic_curves()
    with pytest.warns(scalefit.CurvesWarning, match=r"runs.final\(\)"):
        scalefit.fit(curves)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.CurvesWarning)
        res = scalefit.fit(curves.final())
    assert res.n_runs == curves.n_runs


def test_data_constrained_law_fits_a_mapped_unique_tokens_column():
    # Muennighoff et al. (2023) form; truth differs from the law's default starting values
    from scalefit.laws import MUENNIGHOFF_2023

    truth = dict(MUENNIGHOFF_2023, R_D_star=10.0, alpha=0.33, beta=0.36)
    rng = np.random.default_rng(0)
    N = np.exp(rng.uniform(np.log(1e8), np.log(1e10), 60))
    U = np.exp(rng.uniform(np.log(1e9), np.log(1e11), 60))
    D = U * rng.uniform(1, 40, 60)
    L = get_law("data-constrained")(truth, n_params=N, n_tokens=D, unique_tokens=U)
    runs = scalefit.read_runs(pd.DataFrame({"N": N, "D": D, "U": U, "loss": L}), columns={"U": "unique_tokens"})
    assert "unique_tokens" in runs.table.columns
    res = scalefit.fit(runs, "data-constrained")
    for k in ("E", "alpha", "beta", "R_D_star"):
        assert res.params[k] == pytest.approx(truth[k], rel=1e-4), k


def test_every_parameter_fixed_is_refused():
    with pytest.raises(ScalefitInputError, match="nothing to fit"):
        scalefit.fit(_noiseless(), fixed=HOFFMANN)


def test_single_model_size_is_refused_unless_its_term_is_fixed():
    D = np.geomspace(1e9, 1e11, 10)
    N = np.full(10, 1e8)
    df = pd.DataFrame(dict(n_params=N, n_tokens=D, loss=get_law("chinchilla")(HOFFMANN, n_params=N, n_tokens=D)))
    with pytest.raises(ScalefitInputError, match="same n_params.*cannot determine A and alpha"):
        scalefit.fit(df)
    res = scalefit.fit(df, fixed={"A": 406.4, "alpha": 0.34})
    np.testing.assert_allclose(res.params["beta"], 0.28, rtol=1e-6)
    assert res.stderr["beta"] == pytest.approx(0.0, abs=1e-9)  # a perfect fit has zero standard error, not NaN


def test_one_isoflop_line_warns_identifiability():
    N = np.geomspace(1e8, 3e9, 7)
    D = 1e19 / (6 * N)
    L = get_law("chinchilla")(HOFFMANN, n_params=N, n_tokens=D) * np.exp(np.random.default_rng(0).normal(0, 0.01, 7))
    with pytest.warns(scalefit.IdentifiabilityWarning, match="one IsoFLOP line"):
        scalefit.fit(pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L)))


def test_well_posed_fit_raises_no_identifiability_warning(chinchilla_csv):
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.IdentifiabilityWarning)
        scalefit.fit(_replication(chinchilla_csv))


def test_huber_likelihood_matches_besiroglu(chinchilla_csv):
    # Besiroglu et al. (2024), "Chinchilla Scaling: A replication attempt", their maximum-likelihood fit with a
    # Huber-shaped likelihood and a fitted scale on the 240 runs (epoch-research/analyzing-chinchilla@9225883):
    # A 482.01, B 2085.43, E 1.81686, alpha 0.34781, beta 0.36585, negative log-likelihood -879.7731.
    res = scalefit.fit(_replication(chinchilla_csv), loss="huber-likelihood")
    assert res.n_runs == 240
    assert res.success
    for name, ref in dict(A=482.01, B=2085.43, E=1.81686, alpha=0.34781, beta=0.36585).items():
        assert res.params[name] == pytest.approx(ref, rel=5e-4), name  # 3 significant figures and more
    assert res.objective == pytest.approx(-879.7731, abs=5e-3)
    assert res.options["scale"] > 0
    assert "likelihood" in str(res.summary())
    # the likelihood is not the Huber objective: the two optima differ (B 2085 against 2144, same source)
    assert abs(res.params["B"] - scalefit.fit(_replication(chinchilla_csv)).params["B"]) > 20


def test_huber_likelihood_recovery_and_bootstrap():
    data = _noiseless(n=40)
    data["loss"] *= np.exp(np.random.default_rng(3).normal(0.0, 0.002, len(data)))
    res = scalefit.fit(data, loss="huber-likelihood")
    assert res.success
    for k in ("E", "alpha", "beta"):
        assert res.params[k] == pytest.approx(HOFFMANN[k], rel=0.05), k
    # the fitted scale is the Laplace-like scale of 0.2% noise: delta * s is about delta * mean|r|
    assert 1e-7 < res.options["scale"] < 1e-5
    boot = res.bootstrap(2, n_jobs=1)
    assert list(boot.samples.columns) == list(res.law.param_names)
    assert np.isfinite(boot.samples.to_numpy()).all()


def test_result_frames_built_on_use_match_their_arrays():
    # FitResult.covariance, .excluded and diagnostics.outliers are built on first use from what the
    # fit stored; they must be the frames the fit used to build eagerly, and copies
    N, D, L, _ = reference.synthetic_dataset(21, 90)
    df = pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))
    runs = scalefit.read_runs(df, exclude="loss > 100")  # no row matches: an empty exclusion list
    res = scalefit.fit(runs, fixed={"E": 1.5})
    cov = res.covariance
    assert list(cov.columns) == list(cov.index) == ["A", "B", "alpha", "beta"]
    np.testing.assert_array_equal(cov.to_numpy(), res.covariance_matrix)
    assert res.covariance is cov  # built once
    for name in ("A", "B", "alpha", "beta"):
        assert res.stderr[name] == pytest.approx(float(np.sqrt(cov.loc[name, name])))
    out = res.diagnostics.outliers
    assert list(out.columns) == ["row", "residual"]
    np.testing.assert_array_equal(out["row"].to_numpy(), res.diagnostics.outlier_rows)
    resid = res.residuals
    mad = 1.4826 * np.median(np.abs(resid - np.median(resid)))
    np.testing.assert_array_equal(np.sort(out["row"].to_numpy()),
                                  np.flatnonzero(np.abs(resid - np.median(resid)) > 3 * mad))
    ex = res.excluded
    assert len(ex) == len(runs.excluded) and ex is not runs.excluded
    dropped = scalefit.fit(runs.exclude("loss > 3.5") if (L > 3.5).any() else runs)
    assert len(dropped.excluded) == len(dropped.runs.excluded)


def test_condition_number_does_not_depend_on_a_parameters_units():
    """A QA report: the Chinchilla law written as a user Law with A and B on a linear scale reached the built-in
    fit's optimum, yet its Hessian's condition number read 3.4e13, so it was called unidentifiable and refused a
    plan.  Synthetic runs from Hoffmann et al. (2022) eq. 10."""
    rng = np.random.default_rng(0)
    n = np.exp(rng.uniform(np.log(1e7), np.log(1e10), 60))
    d = n * np.exp(rng.uniform(np.log(2), np.log(200), 60))
    loss = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 0.01, 60))
    data = pd.DataFrame(dict(n_params=n, n_tokens=d, loss=loss))
    plain = Law("plain-chinchilla", lambda n_params, n_tokens, E, A, B, alpha, beta: E + A / n_params**alpha + B / n_tokens**beta,
                params=dict(E=dict(value=2.0, min=0), A=dict(value=400.0, min=0), B=dict(value=400.0, min=0),
                            alpha=dict(value=0.3, min=0), beta=dict(value=0.3, min=0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = scalefit.fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.IdentifiabilityWarning)
        user = scalefit.fit(data, law=plain)
    assert user.objective == pytest.approx(built.objective, rel=1e-6)
    assert user.diagnostics.condition_number == pytest.approx(built.diagnostics.condition_number, rel=0.05)
    assert not any(w["fatal"] for w in user.warnings)
