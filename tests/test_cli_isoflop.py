"""Tests of ``scalefit isoflop`` and ``scalefit envelope`` (the CLI calls only the public API)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalefit.cli import main

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
A_TRUE = BETA / (ALPHA + BETA)
G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))


def loss(n, d):
    return E + A / n**ALPHA + B / d**BETA


@pytest.fixture
def sweeps_csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for config, shift in (("x", 0.0), ("y", 0.05)):
        for c in np.logspace(18, 22, 7):
            n = G * (c / 6) ** A_TRUE * 10 ** np.linspace(-1, 1, 9)
            d = c / (6 * n)
            for ni, di, li in zip(n, d, loss(n, d) + shift + rng.normal(0, 0.004, 9)):
                rows.append({"config": config, "budget": c, "N": ni, "D": di, "C": c, "loss": li})
    path = tmp_path / "sweeps.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def curves_csv(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for i, n in enumerate(np.logspace(7, 9.5, 13)):
        d = np.logspace(np.log10(n), np.log10(300 * n), 30)
        for j, (dj, lj) in enumerate(zip(d, loss(n, d) + rng.normal(0, 0.002, 30))):
            rows.append({"model": f"m{i}", "lr": 1e-3, "step": j + 1, "N": n, "D": dj, "C": 6 * n * dj, "loss": lj})
    path = tmp_path / "curves.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def run_json(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def test_isoflop_json(capsys, sweeps_csv):
    d, _ = run_json(capsys, ["isoflop", str(sweeps_csv), "--bootstrap", "100", "--seed", "1", "--json", "--group-by", "config"])
    assert d["group_by"] == ["config"]
    assert [g["key"] for g in d["groups"]] == [{"config": "x"}, {"config": "y"}]
    for g in d["groups"]:
        assert {"a", "b", "k_n", "k_d", "intervals", "optima"} <= set(g)
        assert abs(g["a"] - A_TRUE) < 0.02
        assert set(g["optima"][0]) >= {"flops", "n_params", "n_tokens", "loss", "flags"}
        assert g["seed"] == 1 and g["n_bootstrap"] == 100


def test_isoflop_budget_col_and_text(capsys, sweeps_csv):
    code = main(["isoflop", str(sweeps_csv), "--budget-col", "budget", "--group-by", "config", "--bootstrap", "0"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "IsoFLOP analysis" in out and "Per group" in out and "Per-budget optima" in out


def test_isoflop_ungrouped_json_has_top_level_law(capsys, sweeps_csv, tmp_path):
    one = pd.read_csv(sweeps_csv).query("config == 'x'")
    path = tmp_path / "one.csv"
    one.to_csv(path, index=False)
    d, _ = run_json(capsys, ["isoflop", str(path), "--bootstrap", "50", "--method", "parabola", "--json"])
    assert abs(d["a"] - A_TRUE) < 0.02 and d["method"] == "parabola"
    assert d["intervals"]["a"]["0.95"][0] < d["a"] < d["intervals"]["a"]["0.95"][1]
    assert "groups" not in d


def test_isoflop_bad_column_exits_2(capsys, sweeps_csv):
    code = main(["isoflop", str(sweeps_csv), "--group-by", "nope"])
    _, err = capsys.readouterr()
    assert code == 2 and "--group-by names column(s) ['nope']" in err


def test_isoflop_flagged_budgets_are_printed(capsys, sweeps_csv, tmp_path):
    df = pd.read_csv(sweeps_csv).query("config == 'x'")
    df = df[~((df["C"] == df["C"].min()) & (df["N"] < df.loc[df["C"] == df["C"].min(), "N"].median()))]  # lose the left half
    path = tmp_path / "cut.csv"
    df.to_csv(path, index=False)
    code = main(["isoflop", str(path), "--bootstrap", "0"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "IsoFLOPWarning" in err and "left out of the power-law fit" in err
    assert "edge" in out


def test_envelope_json(capsys, curves_csv):
    d, _ = run_json(capsys, ["envelope", str(curves_csv), "--run-id", "model,lr", "--bootstrap", "100", "--json"])
    assert {"a", "b", "k_n", "k_d", "intervals", "optima", "dropped"} <= set(d)
    assert abs(d["a"] - A_TRUE) < 0.04
    assert set(d["optima"][0]) >= {"flops", "n_params", "n_tokens", "loss", "flags"}


def test_envelope_final_only_and_min_tokens(capsys, curves_csv):
    d, err = run_json(capsys, ["envelope", str(curves_csv), "--run-id", "model,lr", "--min-tokens", "1B", "--bootstrap", "0", "--json"])
    assert d["dropped"]["min_tokens"] > 0 and d["min_tokens"] == 1e9
    assert "warmup filter dropped" in err
    d, _ = run_json(capsys, ["envelope", str(curves_csv), "--run-id", "model,lr", "--final-only", "--bootstrap", "0", "--json"])
    assert d["final_only"] and d["dropped"]["not_final"] == 13 * 29


def test_envelope_text_and_missing_run_id(capsys, curves_csv):
    code = main(["envelope", str(curves_csv), "--run-id", "model,lr", "--bootstrap", "0"])
    out, _ = capsys.readouterr()
    assert code == 0 and "Envelope analysis" in out
    code = main(["envelope", str(curves_csv)])
    _, err = capsys.readouterr()
    assert code == 2 and "--run-id" in err


def test_envelope_bad_number_is_an_argparse_error(capsys, curves_csv):
    with pytest.raises(SystemExit) as exc:
        main(["envelope", str(curves_csv), "--run-id", "model", "--min-tokens", "lots"])
    assert exc.value.code == 2
    assert "not a number" in capsys.readouterr().err


def test_isoflop_best_per_size(capsys, sweeps_csv):
    d, _ = run_json(capsys, ["isoflop", str(sweeps_csv), "--best-per-size", "--bootstrap", "0", "--json"])
    # the two configurations share budgets and sizes: the worse (config y, +0.05) run of each size is set aside
    assert d["best_per_size"] is True and len(d["unassigned"]) == 63
    assert abs(d["a"] - A_TRUE) < 0.03


@pytest.mark.parametrize("cmd, words", [("isoflop", ["--group-by", "--budget-col", "--bootstrap", "--seed", "--json"]),
                                        ("envelope", ["--run-id", "--final-only", "--min-tokens", "--json"])])
def test_help(capsys, cmd, words):
    with pytest.raises(SystemExit) as exc:
        main([cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for w in words:
        assert w in out
