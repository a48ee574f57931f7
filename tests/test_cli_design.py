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
