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
