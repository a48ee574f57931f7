"""scalefit.load: a fit saved with its bootstrap comes back whole (scalefit/_load.py, LoadedFit.bootstrap)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.cli import main


@pytest.fixture(scope="module")
def boot():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalefit.fit("synthetic:isoflop")
        return fit.bootstrap(40, seed=3, n_jobs=1, progress=False)


def test_fit_and_bootstrap_round_trip_keep_every_number(tmp_path, boot):
    path = tmp_path / "fit.json"
    boot.to_json(path)
    assert json.loads(path.read_text())["written_by"].startswith("scalefit ")
    loaded = scalefit.load(path)
    assert loaded.params == boot.fit.params  # exact: JSON floats round-trip
    assert loaded.bootstrap is not None and loaded.bootstrap.fit is loaded
    pd.testing.assert_frame_equal(loaded.bootstrap.samples, boot.samples.astype(float), check_exact=True)
    np.testing.assert_array_equal(loaded.bootstrap.objective, boot.objective)
    np.testing.assert_array_equal(loaded.bootstrap.converged, boot.converged)
    pd.testing.assert_frame_equal(loaded.interval(0.8), boot.interval(0.8), check_exact=True)
    assert loaded.a == pytest.approx(boot.fit.a, rel=1e-15) and loaded.b == pytest.approx(boot.fit.b, rel=1e-15)
    # saved again, the file holds the same numbers
    again = tmp_path / "again.json"
    loaded.bootstrap.to_json(again)
    first, second = json.loads(path.read_text()), json.loads(again.read_text())
    assert first["bootstrap"] == second["bootstrap"] and first["params"] == second["params"]
    assert first["intervals"] == second["intervals"]


def test_plan_intervals_are_the_same_after_loading(tmp_path, boot):
    path = tmp_path / "fit.json"
    boot.to_json(path)
    loaded = scalefit.load(path)
    flops = [1e22, 1e23, 1e24]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = scalefit.compute_optimal(boot, flops).to_frame()
        after = scalefit.compute_optimal(loaded.bootstrap, flops).to_frame()
    assert {"n_params_low", "n_params_high", "loss_low", "loss_high"} <= set(before.columns)
    assert before["n_params_low"].notna().all()
    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_cli_fit_out_loads_with_its_bootstrap(tmp_path, capsys):
    path = tmp_path / "fit.json"
    assert main(["fit", "synthetic:isoflop", "--bootstrap", "20", "--jobs", "1", "--out", str(path)]) == 0
    loaded = scalefit.load(path)
    assert loaded.bootstrap is not None and loaded.bootstrap.n == 20 and len(loaded.bootstrap.samples) == 20
    assert "95% low" in str(loaded.summary()) and "<table" in loaded._repr_html_()
    assert repr(loaded).startswith("LoadedFit(law='chinchilla'") and "bootstrap=20" in repr(loaded)
    assert list(loaded.to_frame().columns) == ["value", "stderr", "low", "high"]


def test_fit_without_bootstrap(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalefit.fit("synthetic:isoflop")
    path = tmp_path / "fit.json"
    fit.to_json(path)
    loaded = scalefit.load(path)
    assert loaded.bootstrap is None and loaded.params == fit.params
    with pytest.raises(scalefit.ScalefitInputError, match="holds no bootstrap samples"):
        loaded.interval()


def test_a_user_law_fit_loads_back_given_its_law(tmp_path):
    """A QA report: a fit of a user-defined law saved fine but could not be loaded (the file names the law only)."""
    law = scalefit.Law("my-power", lambda n_params, E, A, alpha: E + A / n_params**alpha,
                       params=[scalefit.Param("E", 1.0, min=0), scalefit.Param("A", 100.0, min=0, log=True),
                               scalefit.Param("alpha", 0.3, min=0.01, max=2)])
    n = np.geomspace(1e7, 1e10, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Hoffmann et al. (2022) eq. 10's N term: E + A/N^alpha with E = 1.69, A = 406.4, alpha = 0.34
        fit = scalefit.fit(pd.DataFrame(dict(n_params=n, n_tokens=20 * n, loss=1.69 + 406.4 / n**0.34)), law=law)
    path = tmp_path / "fit.json"
    fit.to_json(path)
    with pytest.raises(scalefit.ScalefitInputError, match=r"unknown law 'my-power'.*load\(path, law=my_law\)"):
        scalefit.load(path)
    for loaded in (scalefit.load(path, law=law), scalefit.load_fit(path, law=law)):
        assert loaded.law is law and loaded.params == fit.params and loaded.trustworthy
        assert np.allclose(loaded.predict(n_params=[1e11]), fit.predict(n_params=[1e11]))
    other = scalefit.Law("other", law.function, params=law.params)
    with pytest.raises(scalefit.ScalefitInputError, match="law 'my-power', but law='other'"):
        scalefit.load(path, law=other)


def test_a_loaded_fit_keeps_its_verdict_and_diagnostics(tmp_path):
    """A QA report: the loaded fit had no .trustworthy and its summary dropped the objective, success, condition
    number, a and b, and the NOT TRUSTWORTHY note."""
    data = pd.DataFrame(dict(n_params=np.tile([1e8, 3e8, 1e9, 3e9], 3), n_tokens=np.repeat([2e9, 2e10, 2e11], 4)))
    # Hoffmann et al. (2022), eq. 10 parameters; beta = 0.28 is held at a bound of 0.2
    data["loss"] = scalefit.get_law("chinchilla")(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28), **data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalefit.fit(data, bounds={"beta": (0.0, 0.2)})
    path = tmp_path / "fit.json"
    fit.to_json(path)
    loaded = scalefit.load(path)
    assert loaded.trustworthy is False is fit.trustworthy
    text = str(loaded.summary())
    for piece in ("objective", "success", "condition number", "a = beta/(alpha+beta)", "NOT TRUSTWORTHY"):
        assert piece in text, piece
    d = json.loads(path.read_text())
    d["warnings"] = []  # a file written before the verdict was saved as a warning record
    d.pop("trustworthy", None)
    old = scalefit.fitting.LoadedFit.from_dict(d)
    assert old.trustworthy is False and "NOT TRUSTWORTHY: exponent beta = 0.2 sits at its upper bound" in str(old.summary())


def test_load_refuses_what_it_does_not_know(tmp_path):
    with pytest.raises(scalefit.ScalefitInputError, match="does not exist"):
        scalefit.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(scalefit.ScalefitInputError, match="is not valid JSON"):
        scalefit.load(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"rows": []}))
    with pytest.raises(scalefit.ScalefitInputError, match=r"not marked as written by scalefit\) holds nothing scalefit.load reads"):
        scalefit.load(other)
    old = tmp_path / "old.json"  # an analysis saved without its state (an older scalefit, or edited by hand)
    old.write_text(json.dumps({"approach": "isoflop", "a": 0.5, "optima": []}))
    with pytest.raises(scalefit.ScalefitInputError, match="has no 'saved' block"):
        scalefit.load(old)


# ------------------------------------------------------------------ IsoFLOP, envelope and plans
def _same_power_law_result(loaded, original, frames):
    """Every number of an Approach 1/2 result is equal after a round trip (exact: JSON floats round-trip)."""
    assert type(loaded) is type(original)
    for name in frames + ("bootstrap_samples",):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(original, name), check_exact=True)
    pd.testing.assert_frame_equal(loaded.runs.table, original.runs.table, check_exact=True)
    pd.testing.assert_frame_equal(loaded.runs.excluded, original.runs.excluded, check_exact=True)
    for q in ("a", "b", "k_n", "k_d"):
        assert getattr(loaded, q) == getattr(original, q)
    assert {q: dict(v) for q, v in loaded.intervals.items()} == {q: dict(v) for q, v in original.intervals.items()}
    assert dict(loaded.options) == dict(original.options)
    assert (loaded.level, loaded.n_bootstrap, loaded.n_bootstrap_valid, loaded.seed, loaded.success, loaded.message) == (
        original.level, original.n_bootstrap, original.n_bootstrap_valid, original.seed, original.success, original.message)
    pd.testing.assert_frame_equal(loaded.to_frame(), original.to_frame(), check_exact=True)
    assert str(loaded.summary()) == str(original.summary())
    assert loaded._repr_html_() == original._repr_html_() and repr(loaded) == repr(original)
    flops = [1e22, 1e24]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IntervalWarning on small bootstraps: the same before and after
        pd.testing.assert_frame_equal(loaded.predict_optimal(flops).to_frame(),
                                      original.predict_optimal(flops).to_frame(), check_exact=True)


@pytest.fixture(scope="module")
def iso():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalefit.isoflop("synthetic:isoflop", bootstrap=40, seed=1)


def test_isoflop_round_trip_keeps_every_number_and_draws_the_same_figure(tmp_path, iso):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import scalefit.plots as plots

    path = tmp_path / "isoflop.json"
    iso.to_json(path)
    assert json.loads(path.read_text())["written_by"].startswith("scalefit ")
    loaded = scalefit.load(path)
    _same_power_law_result(loaded, iso, ("optima", "unassigned"))
    assert dict(loaded.bias_check) == dict(iso.bias_check) and loaded.bias_warning == iso.bias_warning
    # the loaded result carries what the figures need: each budget's curve and rows, and the runs
    before, after = plots.plot_isoflop_profiles(iso), plots.plot_isoflop_profiles(loaded)
    for key in ("budgets", "n_opt", "loss_opt", "curve_n_opt"):
        np.testing.assert_array_equal(after.data_[key], before.data_[key])
    before, after = plots.plot_optimal_scaling(iso, flops=[1e24]), plots.plot_optimal_scaling(loaded, flops=[1e24])
    for key in ("n_opt", "n_low", "n_high", "d_low", "d_high"):
        np.testing.assert_array_equal(after.data_[key], before.data_[key])
    plt.close("all")
    # saved again, the file holds the same numbers
    again = tmp_path / "again.json"
    loaded.to_json(again)
    first, second = json.loads(path.read_text()), json.loads(again.read_text())
    assert first == second


def test_cli_isoflop_json_loads_back(tmp_path, capsys, iso):
    assert main(["isoflop", "synthetic:isoflop", "--bootstrap", "40", "--seed", "1", "--json"]) == 0
    path = tmp_path / "isoflop.json"
    path.write_text(capsys.readouterr().out)  # the --json output saved as it is
    loaded = scalefit.load(path)
    _same_power_law_result(loaded, iso, ("optima", "unassigned"))


def test_cli_isoflop_and_envelope_out_write_what_load_reads(tmp_path, capsys, iso, env):
    path = tmp_path / "isoflop.json"
    assert main(["isoflop", "synthetic:isoflop", "--bootstrap", "40", "--seed", "1", "--out", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().err
    assert json.loads(path.read_text())["written_by"].startswith("scalefit ")
    _same_power_law_result(scalefit.load(path), iso, ("optima", "unassigned"))
    assert main(["isoflop", "synthetic:isoflop", "--bootstrap", "0", "--out", str(path)]) == 2  # exists: refused first
    assert "pass --force" in capsys.readouterr().err
    env_path = tmp_path / "envelope.json"
    assert main(["envelope", "synthetic:curves", "--bootstrap", "30", "--seed", "4", "--out", str(env_path)]) == 0
    _same_power_law_result(scalefit.load(env_path), env, ("frontier", "excluded_runs"))


def test_grouped_isoflop_round_trip(tmp_path):
    table = scalefit.read_runs("synthetic:isoflop").to_frame()
    other = table.assign(loss=table["loss"] * 1.02)
    both = pd.concat([table.assign(dataset="web"), other.assign(dataset="code")], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = scalefit.read_runs(both.drop(columns=["row"]))
        grouped = scalefit.isoflop(runs, group_by="dataset", bootstrap=20, seed=2)
    path = tmp_path / "grouped.json"
    grouped.to_json(path)
    loaded = scalefit.load(path)
    assert type(loaded) is type(grouped) and list(loaded) == list(grouped) == [("code",), ("web",)]
    for key in grouped:
        _same_power_law_result(loaded[key], grouped[key], ("optima", "unassigned"))
        assert loaded[key].key == grouped[key].key
    pd.testing.assert_frame_equal(loaded.to_frame(), grouped.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(loaded.runs.table, grouped.runs.table, check_exact=True)
    assert str(loaded.summary()) == str(grouped.summary()) and loaded.group_by == grouped.group_by == ("dataset",)
    assert dict(loaded.options) == dict(grouped.options)


@pytest.fixture(scope="module")
def env():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalefit.envelope("synthetic:curves", bootstrap=30, seed=4)


def test_envelope_round_trip_keeps_every_number_and_its_curves(tmp_path, env, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import scalefit.plots as plots

    path = tmp_path / "envelope.json"
    env.to_json(path)
    loaded = scalefit.load(path)
    _same_power_law_result(loaded, env, ("frontier", "excluded_runs"))
    assert dict(loaded.dropped) == dict(env.dropped) and loaded.n_runs == env.n_runs
    assert loaded.runs.has_curves and loaded.runs.n_runs == env.runs.n_runs == 30
    before, after = plots.plot_envelope(env), plots.plot_envelope(loaded)
    assert len(after.artists_["curves"]) == len(before.artists_["curves"]) == 30
    np.testing.assert_array_equal(after.data_["loss"], before.data_["loss"])
    plt.close("all")
    # and the CLI's --json output
    assert main(["envelope", "synthetic:curves", "--bootstrap", "30", "--seed", "4", "--json"]) == 0
    cli = tmp_path / "cli.json"
    cli.write_text(capsys.readouterr().out)
    _same_power_law_result(scalefit.load(cli), env, ("frontier", "excluded_runs"))


def test_plan_round_trip_keeps_intervals_shape_and_warnings(tmp_path, boot):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = scalefit.compute_optimal(boot, [1e22, 1e23, 1e24])
        shaped = scalefit.compute_optimal(boot, 1e24, shape={"family": "llama", "vocab_size": 128256, "context": 8192})
    assert plan[0].intervals and plan.warnings  # the plan extrapolates: its warning travels too
    path = tmp_path / "plan.json"
    plan.to_json(path)
    loaded = scalefit.load(path)
    assert type(loaded) is type(plan) and loaded == plan  # frozen dataclasses: every field equal
    pd.testing.assert_frame_equal(loaded.to_frame(), plan.to_frame(), check_exact=True)
    assert str(loaded) == str(plan) and loaded._repr_html_() == plan._repr_html_()
    one = tmp_path / "one.json"
    shaped.to_json(one)
    back = scalefit.load(one)
    assert back == shaped and back.shape == shaped.shape and back.unshaped == shaped.unshaped
    assert back.six_nd_gap == shaped.six_nd_gap


def test_cli_plan_json_loads_back(tmp_path, capsys, boot):
    fit_path = tmp_path / "fit.json"
    boot.to_json(fit_path)
    assert main(["plan", "--fit", str(fit_path), "--flops", "1e22,1e24", "--json"]) == 0
    path = tmp_path / "plan.json"
    path.write_text(capsys.readouterr().out)
    loaded = scalefit.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = scalefit.compute_optimal(scalefit.load(fit_path).bootstrap, [1e22, 1e24])
    assert len(loaded) == 2
    pd.testing.assert_frame_equal(loaded.to_frame(), direct.to_frame(), check_exact=True)
    # one budget, with the data-constrained law's extra input (Muennighoff et al.'s published values)
    assert main(["plan", "--flops", "1e22", "--unique-tokens", "25e9", "--json"]) == 0
    single = tmp_path / "single.json"
    single.write_text(capsys.readouterr().out)
    one = scalefit.load(single)
    saved = json.loads(single.read_text())
    assert (one.n_params, one.n_tokens, one.loss) == (saved["n_params"], saved["n_tokens"], saved["loss"])
    assert one.inputs == {"unique_tokens": 25e9} and one.epochs == saved["epochs"]


def test_figures_of_a_loaded_fit(tmp_path, boot):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import scalefit.plots as plots

    path = tmp_path / "fit.json"
    boot.to_json(path)
    loaded = scalefit.load(path).bootstrap
    before = plots.plot_extrapolation(boot, flops=[1e24])
    after = plots.plot_extrapolation(loaded, runs="synthetic:isoflop", flops=[1e24])
    for key in ("loss_opt", "loss_low", "loss_high", "target_low", "target_high"):
        np.testing.assert_array_equal(after.data_[key], before.data_[key])
    # a loaded fit keeps no residuals: the confidence band only, and the figure does not pretend otherwise
    assert after.artists_["prediction_band"] is None and before.artists_["prediction_band"] is not None
    shown = plots.plot_bootstrap(loaded)
    assert shown.data_["low"] == plots.plot_bootstrap(boot).data_["low"]
    plt.close("all")
