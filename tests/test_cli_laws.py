"""The forecasting laws and shared-exponent group fits from the command line (`scalefit fit`, `scalefit backtest`)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.cli import main
from scalefit.cli._fit import LAW_HELP, LAWS
from scalefit.laws import available_laws, get_law

from test_fit_groups import ALPHA, BETA, TRUTH, _sweep


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _listed() -> set[str]:
    """The law names LAWS lists, with 'm1-flops ... m4-n-params' expanded as its text says."""
    names: set[str] = set()
    for group, source in LAWS:
        names.update(n.strip() for n in group.split(","))
        if "m1-flops ... m4-n-params" in source:
            names.update(f"m{i}-{x}" for i in range(1, 5) for x in ("flops", "n-params"))
    return names


def test_law_help_names_every_built_in_law_and_its_source():
    assert _listed() == set(available_laws())
    for source in ("Gadre et al. 2024", "Caballero et al. 2022", "Alabdulmohsin et al. 2022", "Hoffmann et al. 2022"):
        assert source in LAW_HELP


@pytest.mark.parametrize("command, flag", [("fit", "--law"), ("backtest", "--laws")])
def test_help_of_fit_and_backtest_lists_the_new_laws(capsys, command, flag):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert flag in out
    for name in ("over-training", "bnsl", "saturating", "m4", "Gadre et al. 2024", "Alabdulmohsin et al. 2022"):
        assert name in out, name


def _over_training_csv(tmp_path):
    """Runs tabulated as compute and token multiplier, as Gadre et al. (2024) write them, from a known tied law."""
    tied = {"E": 1.9, "A": 300.0, "B": 2000.0, "alpha": 0.32}
    flops = np.repeat(np.geomspace(1e17, 1e20, 5), 3)
    M = np.tile([10.0, 40.0, 160.0], 5)
    N = np.sqrt(flops / (6 * M))
    loss = get_law("chinchilla-tied")(tied, n_params=N, n_tokens=M * N)
    path = tmp_path / "overtrained.csv"
    pd.DataFrame(dict(compute=flops, tokens_per_param=M, loss=loss)).to_csv(path, index=False)
    return path


def test_fit_cli_fits_the_over_training_law_as_the_api_does(capsys, tmp_path):
    path = _over_training_csv(tmp_path)
    code, out, _ = _run(capsys, "fit", str(path), "--law", "over-training", "--json", "--sensitivity-flops", "none")
    assert code == 0
    got = json.loads(out)
    api = scalefit.fit(scalefit.read_runs(path), "over-training")
    assert got["law"] == "over-training"
    for k, v in api.params.items():
        assert got["params"][k] == pytest.approx(v, rel=1e-12), k
    code, out, _ = _run(capsys, "fit", str(path), "--law", "gadre", "--sensitivity-flops", "none")  # its alias
    assert code == 0 and "over-training" in out


def test_backtest_cli_takes_the_new_laws(capsys, tmp_path):
    path = _over_training_csv(tmp_path)
    code, out, _ = _run(capsys, "backtest", str(path), "--laws", "over-training,saturating", "--no-intervals",
                        "--min-train", "3", "--json")
    assert code == 0
    d = json.loads(out)
    text = json.dumps(d)
    assert "over-training" in text and "saturating" in text


# ------------------------------------------------------------------ group fits
@pytest.fixture
def sweep_csv(tmp_path):
    path = tmp_path / "datasets.csv"
    _sweep(0.0).to_csv(path, index=False)
    return path


def test_group_by_and_shared_flags_fit_one_alpha_and_beta(capsys, sweep_csv):
    code, out, _ = _run(capsys, "fit", str(sweep_csv), "--group-by", "dataset", "--shared", "alpha,beta", "--json")
    assert code == 0
    d = json.loads(out)
    # the synthetic truth of test_fit_groups._sweep: one alpha and beta, per-dataset E, A, B
    assert d["shared"] == pytest.approx({"alpha": ALPHA, "beta": BETA}, rel=1e-6)
    assert d["group_by"] == ["dataset"] and list(d["groups"]) == list(TRUTH)
    for g, p in TRUTH.items():
        for k, v in p.items():
            assert d["groups"][g]["params"][k] == pytest.approx(v, rel=1e-5), (g, k)
    api = scalefit.fit(scalefit.read_runs(sweep_csv), "chinchilla", group_by="dataset", shared=("alpha", "beta"))
    assert d["objective"] == pytest.approx(api.objective, rel=1e-9)
    code, out, _ = _run(capsys, "fit", str(sweep_csv), "--group-by", "dataset")  # shared: the exponents
    assert code == 0 and "shared alpha, beta" in out and "books" in out


def test_shared_one_exponent_leaves_the_other_per_group(capsys, sweep_csv):
    code, out, _ = _run(capsys, "fit", str(sweep_csv), "--group-by", "dataset", "--shared", "alpha", "--json")
    assert code == 0
    d = json.loads(out)
    assert set(d["shared"]) == {"alpha"}
    betas = [d["groups"][g]["params"]["beta"] for g in TRUTH]
    assert betas == pytest.approx([BETA] * 3, rel=1e-4)  # fitted per group, each finds the common truth


@pytest.mark.parametrize("argv, match", [
    (["--group-by", "dataset", "--bootstrap", "10"], "--bootstrap and --out"),
    (["--shared", "alpha"], "--group-by"),
    (["--group-by", "dataset", "--shared", "gamma"], "gamma"),
    (["--group-by", "nope"], "nope"),
])
def test_group_flags_refuse_bad_combinations(capsys, sweep_csv, argv, match):
    code, _, err = _run(capsys, "fit", str(sweep_csv), *argv)
    assert code == 2 and match in err
