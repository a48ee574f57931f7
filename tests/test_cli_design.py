"""Tests of ``scalefit design``."""
from __future__ import annotations

import json

import pandas as pd

from scalefit.cli import main

HOFFMANN = "E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28"  # Hoffmann et al. (2022), Eq. 10


def test_design_cli_end_to_end(capsys, tmp_path):
    out = tmp_path / "runs.csv"
    argv = ["design", "--target-flops", "1e22", "--experiment-flops", "2e19", "--params", HOFFMANN,
            "--budgets", "1e18,3e18", "--n-runs", "6", "--n-sims", "4", "--n-jobs", "1", "--out", str(out), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total_flops"] <= 2e19 and len(result["runs"]) == 6
    assert len(pd.read_csv(out)) == 6
    assert main(argv) == 2  # the file exists now: never overwritten without --force
    assert "--force" in capsys.readouterr().err


def test_design_cli_words_errors_with_flags(capsys):
    assert main(["design", "--target-flops", "1e20", "--experiment-flops", "1e21"]) == 2
    err = capsys.readouterr().err
    assert "--target-flops (1e+20) must be above --experiment-flops" in err
    assert main(["design", "--target-flops", "1e24", "--experiment-flops", "1e12"]) == 2
    assert "Raise --experiment-flops, or lower --min-params" in capsys.readouterr().err


def _runs_needing_columns(tmp_path):
    """Runs whose columns no alias recognises (P, C, L): they need --columns, as fit and inspect read them."""
    from scalefit.datasets import synthetic_path

    runs = pd.read_csv(synthetic_path("isoflop"))
    path = tmp_path / "odd.csv"
    pd.DataFrame({"P": runs["params"], "D": runs["tokens"], "L": runs["loss"]}).to_csv(path, index=False)
    return path


def test_design_reads_runs_with_the_ingestion_options_fit_has(capsys, tmp_path):
    """design --runs said 'Map yours with --columns' but had no --columns: it could not read such a file at all."""
    path = _runs_needing_columns(tmp_path)
    base = ["design", "--target-flops", "1e22", "--experiment-flops", "1e20", "--runs", str(path), "--n-sims", "4",
            "--jobs", "1", "--json"]
    assert main(base) == 2
    assert "--columns '<name>=loss'" in capsys.readouterr().err
    assert main([*base, "--columns", "P=n_params,D=n_tokens,L=loss", "--drop-highest", "2"]) == 0
    out, err = capsys.readouterr()
    n_rows = len(pd.read_csv(path))
    assert json.loads(out)["prior"] == f"{n_rows - 2} trained runs (fit and 200 bootstrap draws)"
    assert "excluded 2 row(s):" in err and "one of the 2 highest losses" in err  # listed, as fit lists them


def test_design_refuses_ingestion_options_without_runs(capsys):
    assert main(["design", "--target-flops", "1e24", "--experiment-flops", "1e21", "--columns", "P=n_params"]) == 2
    assert "--columns says how to read --runs; give --runs FILE" in capsys.readouterr().err


def test_design_shares_the_ingestion_options_of_fit():
    """One helper adds them (cli/_common.py), so design's list cannot drift from fit's."""
    from scalefit.cli import build_parser

    def options(command):
        sub = build_parser()._subparsers._group_actions[0].choices[command]
        return {o for a in sub._actions for o in a.option_strings}

    ingestion = {"--columns", "--run-id", "--nan-policy", "--loss-unit", "--drop-duplicates", "--exclude",
                 "--exclude-value", "--drop-highest"}
    assert ingestion <= options("fit")
    assert ingestion <= options("design")
