"""Bootstrap of fits: determinism, agreement with published standard errors, derived quantities."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.laws import get_law

HOFFMANN = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. (2022) eq. 10


def _noisy(seed=0, n=80, sigma=0.01):
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
    L = get_law("chinchilla")(HOFFMANN, n_params=N, n_tokens=D) * np.exp(rng.normal(0, sigma, n))
    return pd.DataFrame(dict(n_params=N, n_tokens=D, loss=L))


def test_deterministic_across_n_jobs():
    res = scalefit.fit(_noisy())
    b1 = res.bootstrap(300, seed=3, n_jobs=1, progress=False)
    b2 = res.bootstrap(300, seed=3, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(b1.samples, b2.samples)
    b3 = res.bootstrap(300, seed=4, n_jobs=1, progress=False)
    assert not np.allclose(b1.samples["alpha"], b3.samples["alpha"])


def test_bootstrap_recovers_truth_within_intervals():
    res = scalefit.fit(_noisy(1, n=120))
    boot = res.bootstrap(200, seed=0, n_jobs=1, progress=False)
    iv = boot.interval(0.99)
    for k in ("alpha", "beta", "E"):
        assert iv.loc[k, "low"] < HOFFMANN[k] < iv.loc[k, "high"], k
    assert set(boot.intervals()["alpha"]) == {"0.8", "0.95"}
    assert boot.converged.mean() > 0.95
    s = boot.stderr
    assert all(np.isfinite(v) and v > 0 for v in s.values())


def test_derived_quantities():
    res = scalefit.fit(_noisy(2))
    boot = res.bootstrap(100, seed=0, n_jobs=1, progress=False)
    d = boot.derived(flops=[1e21, 1e24], n_params=1e9, n_tokens=2e10)
    assert {"a", "b", "n_opt@1e+21", "d_opt@1e+24", "loss_opt@1e+24", "loss@1e+09,2e+10"} <= set(d.columns)
    np.testing.assert_allclose(d["a"] + d["b"], 1.0)
    # compute constraint holds for every draw
    np.testing.assert_allclose(6 * d["n_opt@1e+24"] * d["d_opt@1e+24"], 1e24, rtol=1e-9)
    q = boot.derived_interval(0.9, flops=1e24)
    assert q.loc["n_opt@1e+24", "low"] < q.loc["n_opt@1e+24", "high"]
    assert "stderr" in q.columns
    assert "Nonparametric bootstrap" in str(boot.summary())
    assert boot.to_dict()["n"] == 100


def test_replication_bootstrap_matches_published_standard_errors(chinchilla_csv):
    # Besiroglu et al. (2024), Table 1 / epoch-research/analyzing-chinchilla@9225883: bootstrap SEs
    # E 0.026, A 124.5, B 1293, alpha 0.0154, beta 0.0206 (issue 4); a = beta/(alpha+beta) has SE ~0.02.
    runs = scalefit.read_runs(chinchilla_csv)
    keep = np.zeros(len(runs), bool)
    keep[np.argsort(runs.loss)[:240]] = True
    res = scalefit.fit(runs.subset(keep))
    boot = res.bootstrap(1000, seed=0, progress=False)
    se = boot.stderr
    published = dict(E=0.026, A=124.5, B=1293.0, alpha=0.0154, beta=0.0206)
    for k, v in published.items():
        assert se[k] == pytest.approx(v, rel=0.25), (k, se[k], v)
    a_se = boot.derived()["a"].std(ddof=1)
    assert a_se == pytest.approx(0.02, rel=0.25)


def test_bootstrap_generic_law():
    df = _noisy(4, n=50)
    res = scalefit.fit(df, "kaplan-n-e")
    boot = res.bootstrap(8, seed=0, n_jobs=1, progress=False)
    assert list(boot.samples.columns) == ["E", "N_c", "alpha_N"]
    assert np.all(np.isfinite(boot.samples.to_numpy()))


def test_bad_bootstrap_args():
    res = scalefit.fit(_noisy())
    with pytest.raises(ScalefitInputError, match="at least 2"):
        res.bootstrap(1)
    with pytest.raises(ScalefitInputError, match="positive integer"):
        res.bootstrap("many")
    boot = res.bootstrap(20, n_jobs=1, progress=False)
    with pytest.raises(ScalefitInputError, match="strictly between 0 and 1"):
        boot.interval(1.5)
    with pytest.raises(ScalefitInputError, match="positive and finite"):
        boot.derived(flops=-1)
    with pytest.raises(ScalefitInputError, match="both n_params and n_tokens"):
        boot.derived(n_params=1e9)


@pytest.mark.parametrize("law", ["chinchilla", "kaplan-c-e", "kaplan-n-e"])
def test_derived_losses_match_predict_for_every_law(law):
    # one evaluator (scalefit.laws.evaluate) serves predict and bootstrap draws, FLOPs-only laws included
    from scalefit.fitting import LoadedFit

    res = scalefit.fit(_noisy(5, n=50), law)
    boot = res.bootstrap(4, seed=0, n_jobs=1, progress=False)
    N, D = np.array([1e9, 3e10]), np.array([2e10, 6e11])
    d = boot.derived(n_params=N, n_tokens=D)
    columns = [f"loss@{n:.3g},{t:.3g}" for n, t in zip(N, D)]
    for i in range(len(boot.samples)):
        draw = {k: float(v) for k, v in boot.samples.iloc[i].items()}
        want = LoadedFit(get_law(law), draw).predict(n_params=N, n_tokens=D)
        np.testing.assert_array_equal(d[columns].iloc[i].to_numpy(), want)
    with_flops = get_law(law)(res.params, n_params=N, n_tokens=D, flops=6.0 * N * D)
    np.testing.assert_array_equal(res.predict(n_params=N, n_tokens=D), with_flops)


def test_a_loaded_fit_predicts_with_a_confidence_interval_from_its_saved_samples(tmp_path):
    """A fit read back from JSON gives the same confidence interval as the bootstrap it saved; no prediction interval."""
    import scalefit
    from scalefit.fitting import LoadedFit

    fit = scalefit.fit(scalefit.read_runs("synthetic:isoflop"))
    boot = fit.bootstrap(50, seed=0, n_jobs=1, progress=False)
    path = tmp_path / "fit.json"
    boot.to_json(path)
    loaded = scalefit.load(path)
    assert isinstance(loaded, LoadedFit)
    got = loaded.predict(n_params=7e10, n_tokens=1.4e12, interval="confidence")
    want = fit.predict(n_params=7e10, n_tokens=1.4e12, interval="confidence", bootstrap=boot)
    np.testing.assert_allclose(got[["prediction", "low", "high"]].to_numpy(), want[["prediction", "low", "high"]].to_numpy(),
                               rtol=1e-12)
    with pytest.raises(scalefit.ScalefitInputError, match="keeps no residuals"):
        loaded.predict(n_params=7e10, n_tokens=1.4e12, interval="prediction")
    assert float(loaded.predict(n_params=7e10, n_tokens=1.4e12)) == pytest.approx(float(want["prediction"].iloc[0]), rel=1e-12)
