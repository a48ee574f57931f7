"""Plans refuse fits with a fatal diagnostic and carry the fit's other warnings (issue 11)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import FitCarriedWarning, IdentifiabilityWarning, PlanRefusedError
from scalefit.cli import main


def _loss_rises_with_n() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e9), 40))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e11), 40))
    return pd.DataFrame(dict(n_params=N, n_tokens=D, loss=2.0 + 0.05 * np.log(N / 1e7) + 400 / D**0.3))


def _fatal_fit():
    with pytest.warns(IdentifiabilityWarning, match="do not plan from this fit"):
        return scalefit.fit(_loss_rises_with_n())


def test_fit_records_a_fatal_warning_when_loss_rises_with_n():
    res = _fatal_fit()
    assert any(w["fatal"] and w["category"] == "IdentifiabilityWarning" for w in res.warnings)
    assert res.to_dict()["warnings"] == [dict(w) for w in res.warnings]


@pytest.mark.parametrize("planner", [
    lambda f, **kw: scalefit.compute_optimal(f, 1e22, **kw),
    lambda f, **kw: scalefit.budget_for_loss(f, 2.5, **kw),
    lambda f, **kw: scalefit.optimal_tokens(f, 1e9, **kw),
])
def test_plan_refuses_a_fatal_fit_unless_forced(planner):
    res = _fatal_fit()
    with pytest.raises(PlanRefusedError, match="refusing to plan from this fit.*force=True") as info:
        planner(res)
    assert info.value.reasons and "vanished" in info.value.reasons[0]
    assert info.value.option == "force"
    with pytest.warns(FitCarriedWarning, match="FORCED PAST A FATAL DIAGNOSTIC"):
        plan = planner(res, force=True)
    assert any("FORCED" in w for w in plan.warnings)


def test_plan_refusal_survives_json(tmp_path):
    res = _fatal_fit()
    path = tmp_path / "fit.json"
    res.to_json(path)
    with pytest.raises(PlanRefusedError):
        scalefit.compute_optimal(scalefit.load_fit(path), 1e22)


def test_plan_from_a_clean_fit_carries_no_warning():
    data = pd.DataFrame(dict(n_params=[1e8, 3e8, 1e9, 3e9] * 3, n_tokens=np.repeat([2e9, 2e10, 2e11], 4)))
    data["loss"] = scalefit.get_law("chinchilla")(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28), **data)
    res = scalefit.fit(data)
    assert res.warnings == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitCarriedWarning)
        plan = scalefit.compute_optimal(res, [data.eval("6 * n_params * n_tokens").max() / 2])
    assert plan.warnings == ()
    assert "Warning" not in str(plan)


def test_cli_plan_refuses_and_forces(tmp_path, capsys):
    csv = tmp_path / "rising.csv"
    _loss_rises_with_n().to_csv(csv, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(csv), "--out", str(out)]) == 0
    assert "IdentifiabilityWarning" in capsys.readouterr().err
    assert main(["plan", "--fit", str(out), "--flops", "1e22"]) == 2
    err = capsys.readouterr().err
    assert "refusing to plan" in err and "--force-plan" in err
    assert main(["plan", "--fit", str(out), "--flops", "1e22", "--force-plan"]) == 0
    captured = capsys.readouterr()
    assert "FORCED PAST A FATAL DIAGNOSTIC" in captured.out
    assert "FitCarriedWarning" in captured.err


def test_cli_raw_replication_plan_carries_the_outlier_warning(chinchilla_csv, tmp_path, capsys):
    # The raw 245-row file of Besiroglu et al. (2024), epoch-research/analyzing-chinchilla@9225883, keeps 5 bad rows:
    # the fit flags outlying runs, and the plan (text and JSON) must say so.
    out = tmp_path / "fit.json"
    assert main(["fit", str(chinchilla_csv), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["plan", "--fit", str(out), "--flops", "1e24"]) == 0
    captured = capsys.readouterr()
    assert "FitCarriedWarning" in captured.err
    text = captured.out
    assert "Warning: 14 run(s) have residuals beyond 3 robust standard deviations" in text
    assert "extrapolation: the plan's 1e+24 FLOPs are 77.2x the largest run" in text
    assert main(["plan", "--fit", str(out), "--flops", "1e24", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert any("robust standard deviations" in w for w in payload["warnings"])


def test_cli_drop_highest_gives_the_replication_plan(chinchilla_csv, tmp_path, capsys):
    # Dropping the 5 highest losses, as Besiroglu et al. (2024) do, gives about 17.6 tokens per parameter at 1e24
    # FLOPs (the figure issue 11 quotes for the cleaned data), not the 6.35 of the raw file.
    out = tmp_path / "fit.json"
    assert main(["fit", str(chinchilla_csv), "--drop-highest", "5", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "excluded 5 row(s)" in err and "one of the 5 highest losses" in err
    assert main(["plan", "--fit", str(out), "--flops", "1e24", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["tokens_per_param"] == pytest.approx(17.6, abs=0.1)


def test_inference_optimal_refuses_a_fatal_fit_unless_forced():
    res = _fatal_fit()
    with pytest.raises(PlanRefusedError, match="refusing to plan from this fit.*force=True") as info:
        scalefit.inference_optimal(res, loss=3.0, inference_tokens=1e12)
    assert info.value.option == "force" and "vanished" in info.value.reasons[0]
    with pytest.warns(FitCarriedWarning, match="FORCED PAST A FATAL DIAGNOSTIC"):
        plan = scalefit.inference_optimal(res, loss=3.0, inference_tokens=1e12, force=True)
    assert any("FORCED" in w for w in plan.chinchilla.warnings)


def test_data_constrained_optimal_refuses_a_fatal_fit_unless_forced():
    # the refusal reads the fit's recorded warnings, whatever its law: the fatal record of a real fit, on a fit of
    # the data-constrained law with Muennighoff et al.'s (2023) published parameters (fitting that law to
    # the rising-loss data takes ~20 s and records the same kind of fatal IdentifiabilityWarning)
    import dataclasses

    from scalefit.laws import MUENNIGHOFF_2023

    fatal = dataclasses.replace(_fatal_fit(), law=scalefit.get_law("data-constrained"), params=dict(MUENNIGHOFF_2023))
    with pytest.raises(PlanRefusedError, match="refusing to plan from this fit.*force=True"):
        scalefit.data_constrained_optimal(fatal, 1e22, unique_tokens=25e9)
    with pytest.warns(FitCarriedWarning, match="FORCED PAST A FATAL DIAGNOSTIC"):
        plan = scalefit.data_constrained_optimal(fatal, 1e22, unique_tokens=25e9, force=True)
    assert any("FORCED" in w for w in plan.warnings)
    # the published parameters themselves (fit=None, a plain mapping) carry no diagnostic and plan as before
    assert scalefit.data_constrained_optimal(flops=1e22, unique_tokens=25e9).warnings == ()


def test_a_plan_at_the_largest_runs_scale_carries_no_extrapolation_note():
    """A budget within 5% of the largest run is the data's own scale ("1x the largest run" said nothing)."""
    import scalefit

    fit = scalefit.fit(scalefit.read_runs("synthetic:isoflop"))
    top = float(fit.runs.flops.max())
    at_top = scalefit.compute_optimal(fit, top * 1.01, force=True)
    beyond = scalefit.compute_optimal(fit, top * 3, force=True)
    assert not any(w.startswith("extrapolation:") for w in at_top.warnings)
    assert any(w.startswith("extrapolation: the plan's") and "3x the largest run's" in w for w in beyond.warnings)


def test_a_fit_not_trustworthy_says_so_in_its_plans_and_saved_json(tmp_path):
    """A QA report: `fit --bound beta=0:0.3` warned NOT TRUSTWORTHY, yet `plan --fit` printed a plan without a word."""
    data = pd.DataFrame(dict(n_params=np.tile([1e8, 3e8, 1e9, 3e9], 3), n_tokens=np.repeat([2e9, 2e10, 2e11], 4)))
    # Hoffmann et al. (2022), eq. 10: beta = 0.28, so a bound of 0.2 holds beta at its upper end
    data["loss"] = scalefit.get_law("chinchilla")(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28), **data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalefit.fit(data, bounds={"beta": (0.0, 0.2)})
    assert not res.trustworthy
    assert any("NOT TRUSTWORTHY" in w["message"] and not w["fatal"] for w in res.warnings)
    res.to_json(tmp_path / "fit.json")
    for fit in (res, scalefit.load_fit(tmp_path / "fit.json")):
        with pytest.warns(FitCarriedWarning, match="NOT TRUSTWORTHY"):
            plan = scalefit.compute_optimal(fit, 1e22)
        assert any("NOT TRUSTWORTHY" in w for w in plan.warnings)


@pytest.mark.parametrize("key, hint", [("Beta", "'Beta' is spelt 'beta'"), ("gamma", "R_N_star")])
def test_a_misspelt_parameter_is_refused_not_turned_into_another_law(key, hint, capsys):
    """A QA report: --params ...,Beta=0.28 planned with the tied law (40.2B parameters instead of 5.16B), silently."""
    # Hoffmann et al. (2022), eq. 10
    params = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    params[key] = params.pop("beta") if key == "Beta" else 1.0
    with pytest.raises(scalefit.ScalefitInputError, match=rf"\['{key}'\] are not parameters.*{hint}"):
        scalefit.compute_optimal(params, 1e22)
    with pytest.raises(scalefit.ScalefitInputError, match=rf"\['{key}'\]"):
        scalefit.plots.plot_loss_contours(params)
    assert main(["plan", "--params", ",".join(f"{k}={v}" for k, v in params.items()), "--flops", "1e22"]) == 2
    assert key in capsys.readouterr().err


def test_a_plan_outside_the_runs_tokens_per_parameter_says_so(tmp_path):
    """A QA report: on Li et al.'s runs (1.37 to 218 tokens per parameter) a plan of 0.0096 tokens per parameter
    came with a FLOPs warning only.  Runs of 200 to 400 tokens per parameter here; the plan is near 20."""
    n = np.geomspace(1e7, 1e9, 8)
    data = pd.DataFrame(dict(n_params=np.tile(n, 2), n_tokens=np.concatenate([200 * n, 400 * n])))
    # Hoffmann et al. (2022), eq. 10
    data["loss"] = scalefit.get_law("chinchilla")(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28), **data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalefit.fit(data)
    fit.to_json(tmp_path / "fit.json")
    for f in (fit, scalefit.load_fit(tmp_path / "fit.json")):
        with pytest.warns(scalefit.ExtrapolationWarning, match=r"tokens per parameter lie outside the fitted runs' 200 to 400"):
            plan = scalefit.compute_optimal(f, 1e20)
        assert plan.tokens_per_param < 100
        assert any("extrapolation in shape" in w for w in plan.warnings)
    data["n_tokens"] = np.concatenate([5 * n, 100 * n])  # runs of 5 to 100 tokens per parameter span the plan's
    data["loss"] = scalefit.get_law("chinchilla")(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28), **data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalefit.fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.ExtrapolationWarning)
        inside = scalefit.compute_optimal(fit, 1e20)
    assert 5 <= inside.tokens_per_param <= 100 and not any("shape" in w for w in inside.warnings)
