"""Tests of scalefit.datasets: bundled synthetic data, published coefficients, fetcher."""
from __future__ import annotations

import hashlib
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from scalefit import ScalefitInputError, datasets
from scalefit.runs import Runs


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_synthetic_paths_exist():
    for name in ("isoflop", "curves"):
        path = datasets.synthetic_path(name)
        assert path.is_file() and path.stat().st_size < 300_000
    with pytest.raises(ScalefitInputError, match="name='x' is not supported; use one of 'isoflop', 'curves'"):
        datasets.synthetic_path("x")


def test_load_synthetic_isoflop(quiet):
    runs = datasets.load_synthetic()
    assert isinstance(runs, Runs) and len(runs) == 72 and runs.derived == ()
    assert runs.column_map == {"params": "n_params", "tokens": "n_tokens", "flops": "flops", "loss": "loss"}
    assert sorted(runs.table["budget"].unique()) == [1e18, 3e18, 1e19, 3e19, 1e20, 3e20, 1e21, 3e21]
    assert (runs.table.groupby("budget").size() == 9).all()
    assert int(runs.table["outlier"].sum()) == 2
    np.testing.assert_allclose(runs.flops, runs.table["budget"], rtol=1e-5)


def test_synthetic_isoflop_follows_the_law(quiet):
    # the data are the Hoffmann et al. (2022) Approach 3 law times ~0.7% noise
    runs = datasets.load_synthetic()
    p = datasets.SYNTHETIC_LAW
    law = p["E"] + p["A"] / runs.n_params ** p["alpha"] + p["B"] / runs.n_tokens ** p["beta"]
    rel = np.log(runs.loss / law)
    clean = ~runs.table["outlier"].to_numpy()
    assert np.std(rel[clean]) == pytest.approx(0.007, abs=0.003)
    assert np.abs(rel[clean]).max() < 0.03
    assert sorted(np.round(rel[~clean], 2)) == pytest.approx([-0.03, 0.04], abs=0.02)
    # each budget's smallest loss sits near the law's compute-optimal size
    for _, group in runs.table.groupby("budget"):
        best = group.loc[group["loss"].idxmin(), "n_params"]
        middle = np.sort(group["n_params"].to_numpy())[4]
        assert abs(math.log10(best / middle)) <= 0.5


def test_load_synthetic_curves(quiet):
    curves = datasets.load_synthetic_curves()
    assert len(curves) == 900 and curves.n_runs == 30 and curves.has_curves
    assert curves.derived == ("flops",)
    final = curves.final()
    assert len(final) == 30
    np.testing.assert_allclose(final.n_tokens, final.table["total_tokens"])
    same = datasets.load_synthetic("curves")
    pd.testing.assert_frame_equal(same.table, curves.table)
    # loss falls along each run, apart from noise
    for _, run in curves.table.groupby("run"):
        assert run["loss"].iloc[-1] < run["loss"].iloc[0]


def test_load_synthetic_passes_options():
    runs = datasets.load_synthetic(loss_unit="bits")
    assert "loss converted from bits to nats (multiplied by ln 2)" in runs.notes


def test_generator_reproduces_committed_files(tmp_path):
    from scalefit.datasets.data import make_synthetic

    make_synthetic.main(tmp_path)
    for name in ("isoflop", "curves"):
        fresh = pd.read_csv(tmp_path / datasets.SYNTHETIC_FILES[name])
        committed = pd.read_csv(datasets.synthetic_path(name))
        pd.testing.assert_frame_equal(fresh, committed, rtol=1e-9)
    assert make_synthetic.LAW == datasets.SYNTHETIC_LAW


def test_published_coefficients():
    table = datasets.published_coefficients()
    assert {"source", "law", "parameter", "symbol", "value", "std_error", "unit", "citation", "note"} <= set(table.columns)
    assert (table["citation"].str.len() > 20).all()
    assert set(table["source"]) == {
        "hoffmann2022_approach3", "hoffmann2022_approach3_unrounded", "besiroglu2024", "kaplan2020", "muennighoff2023",
    }
    # Hoffmann et al. (2022) Approach 3, rounded
    assert datasets.published_params("hoffmann2022_approach3") == {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    # unrounded values from Epoch's replication notebook
    assert datasets.published_params("hoffmann2022_approach3_unrounded") == {
        "E": 1.69337, "A": 406.401, "B": 410.723, "alpha": 0.33917084, "beta": 0.2849083,
    }
    # Besiroglu et al. (2024), estimates and bootstrap SEs
    b = datasets.published_coefficients("besiroglu2024").set_index("parameter")
    assert b["value"].to_dict() == {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
    assert b["std_error"].to_dict() == {"E": 0.03, "A": 124.58, "B": 1293.23, "alpha": 0.02, "beta": 0.02}
    # Kaplan et al. (2020), C_c in PF-days
    k = datasets.published_coefficients("kaplan2020").set_index("parameter")
    assert k.loc["C_c", "value"] == 3.1e8 and k.loc["C_c", "unit"] == "PF-days"
    assert datasets.published_params("kaplan2020", law="kaplan-n") == {"alpha_N": 0.076, "N_c": 8.8e13}
    assert datasets.published_params("kaplan2020", law="kaplan-d") == {"alpha_D": 0.095, "D_c": 5.4e13}
    # Muennighoff et al. (2023): A = exp(a) etc.
    m = datasets.published_params("muennighoff2023")
    assert m["A"] == pytest.approx(math.exp(m["a"]), rel=1e-12)
    assert m["B"] == pytest.approx(math.exp(m["b"]), rel=1e-12)
    assert m["E"] == pytest.approx(math.exp(m["e"]), rel=1e-12)
    assert (m["alpha"], m["beta"], m["R_D_star"], m["R_N_star"]) == (0.3526596, 0.3526596, 15.387756, 5.309743)
    with pytest.raises(ScalefitInputError, match="source='nope' is not supported"):
        datasets.published_coefficients("nope")
    with pytest.raises(ScalefitInputError, match="law='chinchilla' is not supported"):
        datasets.published_params("kaplan2020", law="chinchilla")


def test_published_laws_are_known_laws():
    laws = pytest.importorskip("scalefit.laws")
    for name in set(datasets.published_coefficients()["law"]):
        assert laws.get_law(name).name == name


# ------------------------------------------------------------------ fetcher
def test_fetch_from_path_and_file_url(chinchilla_csv, tmp_path, quiet):
    cache = tmp_path / "cache"
    path = datasets.fetch_chinchilla_replication(cache, url=chinchilla_csv)
    assert path.parent == cache and path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == datasets.CHINCHILLA_REPLICATION_SHA256
    assert list(cache.iterdir()) == [path]
    # cached: the url is not touched again
    assert datasets.fetch_chinchilla_replication(cache, url=tmp_path / "absent.csv") == path
    # force and a file:// URL
    again = datasets.fetch_chinchilla_replication(cache, url=chinchilla_csv.resolve().as_uri(), force=True)
    assert again == path
    runs = datasets.load_chinchilla_replication(cache)
    assert len(runs) == 245 and runs.derived == ("n_tokens",)


def test_fetch_default_cache_from_env(chinchilla_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("SCALEFIT_CACHE", str(tmp_path / "env-cache"))
    path = datasets.fetch_chinchilla_replication(url=chinchilla_csv)
    assert path.parent == tmp_path / "env-cache"


def test_fetch_bad_hash_leaves_no_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Model Size,Training FLOP,loss\n1,2,3\n")
    cache = tmp_path / "cache"
    with pytest.raises(ScalefitInputError, match=r"has SHA-256 [0-9a-f]{64}, but 193478df.* was expected; it was not cached"):
        datasets.fetch_chinchilla_replication(cache, url=bad)
    assert list(cache.iterdir()) == []
    with pytest.raises(ScalefitInputError, match="SHA-256"):
        datasets.fetch_chinchilla_replication(cache, url=bad.as_uri())
    assert list(cache.iterdir()) == []


def test_fetch_replaces_corrupt_cache(chinchilla_csv, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "chinchilla_svg_extracted_data.csv").write_text("corrupt")
    path = datasets.fetch_chinchilla_replication(cache, url=chinchilla_csv)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == datasets.CHINCHILLA_REPLICATION_SHA256


def test_fetch_missing_sources(tmp_path):
    with pytest.raises(ScalefitInputError, match="no such file"):
        datasets.fetch_chinchilla_replication(tmp_path / "c", url=tmp_path / "absent.csv")
    with pytest.raises(ScalefitInputError, match="could not download"):
        datasets.fetch_chinchilla_replication(tmp_path / "c", url=(tmp_path / "absent.csv").as_uri())
    assert list((tmp_path / "c").iterdir()) == []
