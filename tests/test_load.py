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


def test_load_refuses_what_it_does_not_know(tmp_path):
    with pytest.raises(scalefit.ScalefitInputError, match="does not exist"):
        scalefit.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(scalefit.ScalefitInputError, match="is not valid JSON"):
        scalefit.load(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"allocations": []}))
    with pytest.raises(scalefit.ScalefitInputError, match=r"not marked as written by scalefit\) holds no saved fit"):
        scalefit.load(other)
