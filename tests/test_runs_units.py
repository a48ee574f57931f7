"""Tokens and FLOPs written in the wrong unit (billions of tokens, PF-days) are caught by a typed warning.

The thresholds (a run sees at least 1e6 tokens and spends at least 1e12 FLOPs) are scalefit's own choice,
stated in ``scalefit._input_warnings``; the public data sets below must not trip them.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalefit import UnitsWarning
from scalefit.runs import read_runs


def _units_warnings(source, **kw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_runs(source, **kw)
    return [str(w.message) for w in caught if issubclass(w.category, UnitsWarning)]


def test_tokens_in_billions_warn_naming_column_file_lines_and_the_fix(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,tokens,loss\n1e8,0.2,3.0\n2e8,40,2.8\n4e8,500,2.6\n")
    (message,) = _units_warnings(path)
    assert "column 'tokens' (read as n_tokens)" in message
    assert "data rows 0, 1 and 2 (file lines 2, 3 and 4)" in message
    assert "found 0.2, 40.0, 500.0" in message
    assert "flops was derived from it" in message  # the derived column is not warned about a second time
    assert "multiply the column by 1e9" in message


def test_flops_in_pf_days_warn_naming_index_labels_and_the_fix():
    frame = pd.DataFrame({"N": [1e8, 2e8, 4e8], "PF-days": [1e-3, 0.5, 1e4], "loss": [3.0, 2.8, 2.6]},
                         index=["a", "b", "c"])
    (message,) = _units_warnings(frame, columns={"PF-days": "flops"})
    assert "column 'PF-days' (read as flops)" in message
    assert "rows 0, 1 and 2 (index labels 'a', 'b' and 'c')" in message
    assert "n_tokens was derived from it" in message
    assert "8.64e19" in message


def test_only_the_rows_below_the_threshold_are_named():
    frame = pd.DataFrame({"n_params": [1e8, 2e8, 4e8], "n_tokens": [2e9, 4e9, 8.0], "loss": [3.0, 2.8, 2.6]})
    (message,) = _units_warnings(frame)
    assert "1 value(s) below 1e6 tokens in row 2 (found 8.0)" in message


def test_real_counts_do_not_warn():
    frame = pd.DataFrame({"n_params": [1e6, 2e8], "n_tokens": [1e6, 4e9], "flops": [6e12, 4.8e18],
                          "loss": [5.0, 2.8]})
    assert _units_warnings(frame) == []


def test_curves_are_judged_by_each_runs_last_checkpoint():
    # a real run's first checkpoints may have seen fewer than 1e6 tokens (one small batch): no warning
    steps = np.arange(1, 6)
    curve = pd.DataFrame({"run": "a", "n_params": 1e7, "n_tokens": 2e5 * 10.0 ** (steps - 1),
                          "loss": 5.0 - 0.1 * steps})
    assert _units_warnings(curve) == []
    # a second run whose last checkpoint is below it (tokens in millions) is named, all its rows
    short = pd.DataFrame({"run": "b", "n_params": 1e7, "n_tokens": [10.0, 20.0], "loss": [4.0, 3.9]})
    (message,) = _units_warnings(pd.concat([curve, short], ignore_index=True))
    assert "rows 5 and 6" in message and "each run judged by its last checkpoint" in message


@pytest.mark.parametrize(("fixture", "name", "kw"), [
    # Besiroglu et al. (2024) replication data, epoch-research/analyzing-chinchilla@9225883
    ("chinchilla_csv", None, {}),
    # Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9
    ("porian_dir", "isoflop_points.csv", {}),
    ("porian_dir", "isoflop_optima.csv",
     {"columns": {"n_opt": "n_params", "tokens_opt": "n_tokens", "loss_opt": "loss"}, "nan_policy": "omit"}),
    # Li, Kudugunta and Zettlemoyer (2025), hadasah/scaling_laws@1f3708c: curves, as rows and as runs
    ("li_csv", None, {}),
    ("li_csv", None, {"run_id": ["model", "peak_lr", "sweep", "total_steps"]}),
    ("li_csv", None, {"use_non_embedding": True}),
])
def test_no_public_data_set_trips_the_unit_checks(request, fixture, name, kw):
    path = request.getfixturevalue(fixture)
    assert _units_warnings(path / name if name else path, **kw) == []


@pytest.mark.parametrize("source", ["synthetic:isoflop", "synthetic:curves"])
def test_the_bundled_examples_do_not_trip_the_unit_checks(source):
    assert _units_warnings(source) == []
