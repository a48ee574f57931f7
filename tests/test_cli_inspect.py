"""Tests of ``scalefit inspect``."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalefit.cli import main


def _write(tmp_path, df, name="runs.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def runs_csv(tmp_path):
    df = pd.DataFrame(
        {"Model Size": [7e7, 1.3e8, 3e8, 3e8], "Training FLOP": [4.2e18, 7.8e18, 1.8e19, 1.8e19], "loss": [3.2, 3.0, 2.8, 2.8]}
    )
    return _write(tmp_path, df)


def test_text_summary(runs_csv, capsys):
    assert main(["inspect", runs_csv]) == 0
    out, err = capsys.readouterr()
    assert "4 rows, 4 runs" in out
    assert "'Model Size' -> n_params" in out and "'Training FLOP' -> flops" in out
    assert "derived: n_tokens" in out
    assert "n_params" in out and "7e+07 .. 3e+08" in out
    assert "1 exact duplicate row(s): data row 3 (file line 5) = data row 2 (file line 4)" in out
    assert "DuplicateRowsWarning" in err


def test_json_summary(runs_csv, capsys):
    assert main(["inspect", runs_csv, "--json"]) == 0
    out, _ = capsys.readouterr()
    data = json.loads(out)
    assert {"n_rows", "n_runs", "columns", "excluded", "derived", "duplicates", "ranges"} <= set(data)
    assert data["n_rows"] == 4 and data["n_runs"] == 4 and data["derived"] == ["n_tokens"]
    assert data["duplicates"] == [{"row": 3, "duplicate_of": 2}]
    assert data["ranges"]["loss"] == {"min": 2.8, "max": 3.2}
    assert data["excluded"] == []


def test_excluded_rows_printed(tmp_path, capsys):
    df = pd.DataFrame({"N": [7e7, 1.3e8, -1, 3e8], "D": [1e9, 2e9, 3e9, np.nan], "loss": [3.2, 3.0, 2.8, 2.7]})
    path = _write(tmp_path, df)
    assert main(["inspect", path, "--nan-policy", "omit", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["n_rows"] == 2
    assert data["excluded"] == [
        {"row": 2, "reason": "n_params ('N') is not positive"},
        {"row": 3, "reason": "n_tokens ('D') is missing (NaN)"},
    ]
    assert "excluded 2 row(s):" in err and "data row 2 (file line 4): n_params ('N') is not positive" in err
    assert "ExcludedRowsWarning" in err


def test_bad_input_exit_2(tmp_path, capsys):
    df = pd.DataFrame({"N": [7e7, "lots"], "D": [1e9, 2e9], "loss": [3.2, 3.0]})
    assert main(["inspect", _write(tmp_path, df)]) == 2
    _, err = capsys.readouterr()
    assert "scalefit inspect: error: column 'N' (used as n_params)" in err and "'lots'" in err
    assert main(["inspect", str(tmp_path / "absent.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["inspect", _write(tmp_path, df), "--columns", "nope"]) == 2
    assert "has no '='" in capsys.readouterr().err


def test_columns_and_run_id(tmp_path, capsys):
    df = pd.DataFrame(
        {"model": ["a", "a", "b", "b"], "seed": [1, 1, 1, 1], "size": [1e8, 1e8, 2e8, 2e8], "toks": [1e9, 2e9, 1e9, 2e9], "loss": [3.2, 3.0, 3.1, 2.9]}
    )
    path = _write(tmp_path, df)
    assert main(["inspect", path, "--columns", "size=n_params,toks=n_tokens", "--run-id", "model,seed", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_runs"] == 2 and data["run_id"] == ["model", "seed"]
    assert data["columns"] == {"size": "n_params", "toks": "n_tokens", "loss": "loss"}
    assert main(["inspect", path, "--columns", "size=n_params,toks=n_tokens", "--run-id", "model,seed", "--final", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 2


def test_synthetic_shortcut(capsys):
    assert main(["inspect", "synthetic:isoflop"]) == 0
    assert "72 rows" in capsys.readouterr().out
    assert main(["inspect", "synthetic:curves", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_rows"] == 900 and data["n_runs"] == 30
    assert main(["inspect", "synthetic:nope"]) == 2


def test_real_li_curves(li_csv, capsys):
    assert main(["inspect", str(li_csv), "--run-id", "model,peak_lr,sweep,total_steps", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["n_rows"] == 4852 and data["n_runs"] == 240 and len(data["duplicates"]) == 2
    assert "DuplicateRowsWarning" in err


def test_help_lists_inspect(capsys):
    with pytest.raises(SystemExit) as info:
        main(["inspect", "--help"])
    assert info.value.code == 0
    assert "--json" in capsys.readouterr().out
