"""Input the CLI cannot use gives one clean line naming the file and the fix (exit 2), never an internal error."""
from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from scalefit.cli import main

# Hoffmann et al. (2022), eq. 10: a saved fit's parameters, edited by hand below.
HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def _one_error_line(err: str, command: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # no traceback
    assert lines[0].startswith(f"scalefit {command}: error: "), err
    return lines[0]


def test_parquet_without_its_engine_is_one_line_with_the_install_command(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pyarrow")
    path = tmp_path / "runs.parquet"
    pd.DataFrame({"n_params": [1e8, 2e8], "n_tokens": [2e9, 4e9], "loss": [3.1, 2.9]}).to_parquet(path)
    for name in ("pyarrow", "fastparquet"):  # as if neither were installed: importing them fails
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["inspect", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err, "inspect")
    assert str(path) in line
    assert "pip install 'scalefit[parquet]'" in line
    assert "internal error" not in line


def test_an_import_error_without_an_install_command_is_still_an_internal_error(monkeypatch, capsys):
    """Only a missing optional package the library names is the user's to fix; any other ImportError is a bug."""
    from scalefit.cli import _inspect

    def broken(args):
        raise ImportError("cannot import name 'x' from 'scalefit.runs'")

    monkeypatch.setattr(_inspect, "run", broken)
    assert main(["inspect", "x"]) == 1
    assert "internal error: ImportError" in capsys.readouterr().err


@pytest.mark.parametrize("params, found", [
    ({**HOFFMANN, "alpha": "0.3x"}, "parameter 'alpha' is '0.3x', not a number"),
    ({**HOFFMANN, "beta": None}, "parameter 'beta' is None, not a number"),
    ([1.69, 406.4], "'params' must map each parameter to a number"),
])
def test_a_hand_edited_fit_file_names_the_file_and_the_bad_value(tmp_path, capsys, params, found):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"law": "chinchilla", "params": params}))
    assert main(["plan", "--fit", str(path), "--flops", "1e22"]) == 2
    line = _one_error_line(capsys.readouterr().err, "plan")
    assert f"--fit {path}" in line
    assert found in line
    assert "scalefit fit RUNS --out FILE" in line


def test_a_column_mapped_twice_is_refused(tmp_path, capsys):
    """A QA report: --columns 'P=n_params,P=n_tokens' kept the last mapping, silently."""
    path = tmp_path / "runs.csv"
    pd.DataFrame({"P": [1e8, 2e8, 4e8], "T": [2e9, 4e9, 8e9], "loss": [3.0, 2.9, 2.8]}).to_csv(path, index=False)
    assert main(["inspect", str(path), "--columns", "P=n_params,P=n_tokens"]) == 2
    assert "'P' is given twice (P=n_params, P=n_tokens)" in capsys.readouterr().err


def test_excluded_rows_are_named_by_their_file_lines(tmp_path, capsys):
    """A QA report: errors named 'data row 4 (file line 6)' but the CLI's list of excluded rows said 'row 4'."""
    path = tmp_path / "runs.csv"
    n = [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9]
    pd.DataFrame({"n_params": n, "n_tokens": [20 * x for x in n], "loss": [3.0, 2.9, 9.0, 2.7, 2.6, 2.5]}).to_csv(
        path, index=False)
    assert main(["inspect", str(path), "--drop-highest", "1"]) == 0
    assert "data row 2 (file line 4): one of the 1 highest losses" in capsys.readouterr().err
