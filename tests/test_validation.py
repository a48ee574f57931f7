"""Tests of scalefit._validation, the one module that checks user input."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from scalefit import (
    DuplicateRowsWarning,
    ExcludedRowsWarning,
    InconsistentFlopsWarning,
    ScalefitInputError,
    UnitsWarning,
)
from scalefit import _input_warnings as w
from scalefit import _validation as v
from scalefit.runs import read_runs


def test_format_rows():
    assert v.format_rows([]) == "no rows"
    assert v.format_rows([3]) == "row 3"
    assert v.format_rows([3, 7, 9]) == "rows 3, 7 and 9"
    text = v.format_rows(range(25))
    assert text.startswith("rows 0, 1, 2") and "(25 rows in all)" in text and ", 10," not in text


def test_format_values_distinct_in_order():
    assert v.format_values(["a", float("nan"), "a", -1.0]) == "'a', NaN, -1.0"
    assert "(7 distinct values)" in v.format_values(range(7))


def test_check_option():
    assert v.check_option("omit", "nan_policy", v.NAN_POLICIES) == "omit"
    with pytest.raises(ScalefitInputError, match=r"nan_policy='drop' is not supported; use one of 'raise', 'omit'"):
        v.check_option("drop", "nan_policy", v.NAN_POLICIES)
    with pytest.raises(ScalefitInputError, match="loss_unit=None"):
        v.check_option(None, "loss_unit", v.LOSS_UNITS)


@pytest.mark.parametrize("bad", [0, -6, float("nan"), float("inf"), "six", None, True])
def test_check_positive_scalar_refuses(bad):
    with pytest.raises(ScalefitInputError, match="flops_per_param_token must be"):
        v.check_positive_scalar(bad, "flops_per_param_token")


def test_check_positive_scalar_accepts():
    assert v.check_positive_scalar("6", "k") == 6.0
    assert v.check_positive_scalar(np.float32(2.5), "k") == 2.5


def test_check_positive_finite():
    out = v.check_positive_finite([1.0, 2e9], "n_params")
    assert out.dtype == float and out.tolist() == [1.0, 2e9]
    assert v.check_positive_finite(3, "n_params").shape == ()
    with pytest.raises(ScalefitInputError, match=r"n_params must be finite and > 0; found -1.0, NaN at positions 1, 2") as info:
        v.check_positive_finite([1.0, -1.0, np.nan], "n_params")
    assert info.value.rows == [1, 2]
    with pytest.raises(ScalefitInputError, match="n_tokens must be finite and > 0; found 0.0"):
        v.check_positive_finite(0.0, "n_tokens")
    with pytest.raises(ScalefitInputError, match="n_tokens must be numbers"):
        v.check_positive_finite(["a"], "n_tokens")
    with pytest.raises(ScalefitInputError, match="must be numbers"):
        v.check_positive_finite(np.array([True]), "x")


def test_check_min_runs():
    runs = read_runs([{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.0}, {"n_params": 2e8, "n_tokens": 4e9, "loss": 2.9}])
    v.check_min_runs(runs, 2, "law 'chinchilla'")
    with pytest.raises(ScalefitInputError, match=r"too few runs for law 'chinchilla' \(5 free parameters\): it needs at least 6, but 2 were given"):
        v.check_min_runs(runs, 6, "law 'chinchilla' (5 free parameters)")


def test_check_min_runs_mentions_exclusions():
    rows = [{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.0}, {"n_params": -1, "n_tokens": 4e9, "loss": 2.9}]
    with pytest.warns(ExcludedRowsWarning):
        runs = read_runs(rows, nan_policy="omit")
    with pytest.raises(ScalefitInputError, match=r"but 1 was given \(1 row\(s\) were excluded; see Runs.excluded\)"):
        v.check_min_runs(runs, 3, "a fit")


def test_check_source_path(tmp_path):
    assert v.check_source_path(_touch(tmp_path / "a.CSV")) == "csv"
    assert v.check_source_path(_touch(tmp_path / "a.tsv")) == "tsv"
    assert v.check_source_path(_touch(tmp_path / "a.csv.gz")) == "csv"
    assert v.check_source_path(_touch(tmp_path / "a.jsonl")) == "jsonl"
    assert v.check_source_path(_touch(tmp_path / "a.parquet")) == "parquet"
    with pytest.raises(ScalefitInputError, match=r"no such file: .*missing\.csv"):
        v.check_source_path(tmp_path / "missing.csv")
    with pytest.raises(ScalefitInputError, match="is a directory"):
        v.check_source_path(tmp_path)
    with pytest.raises(ScalefitInputError, match=r"suffix '\.xlsx'; supported suffixes are \.csv, \.tsv"):
        v.check_source_path(_touch(tmp_path / "a.xlsx"))
    with pytest.raises(ScalefitInputError, match="cannot tell the format"):
        v.check_source_path(_touch(tmp_path / "noext"))


def _touch(path: Path) -> Path:
    path.write_text("")
    return path


def test_check_column_map():
    avail = ["Model Size", "tokens", "loss"]
    assert v.check_column_map(None, avail, ("n_params", "loss")) == {}
    assert v.check_column_map({"Model Size": "n_params"}, avail, ("n_params",)) == {"Model Size": "n_params"}
    with pytest.raises(ScalefitInputError, match=r"no column 'size'\. Available columns: 'Model Size', 'tokens', 'loss'"):
        v.check_column_map({"size": "n_params"}, avail, ("n_params",))
    with pytest.raises(ScalefitInputError, match=r"'size_m', which is not a canonical column; targets must be one of 'n_params'"):
        v.check_column_map({"Model Size": "size_m"}, avail, ("n_params",))
    with pytest.raises(ScalefitInputError, match=r"did you mean \{'Model Size': 'n_params'\}"):
        v.check_column_map({"n_params": "Model Size"}, avail, ("n_params",))
    with pytest.raises(ScalefitInputError, match="maps both 'Model Size' and 'tokens' to 'n_params'"):
        v.check_column_map({"Model Size": "n_params", "tokens": "n_params"}, avail, ("n_params",))
    with pytest.raises(ScalefitInputError, match="columns must be a dict"):
        v.check_column_map("Model Size=n_params", avail, ("n_params",))
    # (source, canonical) pairs are read as the dict; a source given two names is refused
    assert v.check_column_map([("Model Size", "n_params")], avail, ("n_params",)) == {"Model Size": "n_params"}
    with pytest.raises(ScalefitInputError, match="maps 'Model Size' to both 'n_params' and 'n_tokens'"):
        v.check_column_map([("Model Size", "n_params"), ("Model Size", "n_tokens")], avail, ("n_params", "n_tokens"))


def test_check_columns_exist():
    with pytest.raises(ScalefitInputError, match=r"run_id names column\(s\) 'seed' that the input does not have\. Available columns: 'a'"):
        v.check_columns_exist(["seed"], ["a"], "run_id")


def test_check_unique_columns_and_not_empty():
    import pandas as pd

    with pytest.raises(ScalefitInputError, match="repeated column names 'loss'"):
        v.check_unique_columns(["loss", "N", "loss"], "x.csv")
    with pytest.raises(ScalefitInputError, match=r"x.csv is empty \(0 rows, 2 columns\)"):
        v.check_not_empty(pd.DataFrame(columns=["a", "b"]), "x.csv")


def test_row_problems():
    parsed = np.array([1.0, np.nan, np.inf, 0.0, -2.0, np.nan])
    bad = np.array([False, False, False, False, False, True])
    reasons = v.row_problems("n_params", parsed, bad)
    assert reasons.tolist() == [
        "",
        "n_params is missing (NaN)",
        "n_params is infinite",
        "n_params is not positive",
        "n_params is not positive",
        "n_params is not a number",
    ]
    steps = v.row_problems("step", np.array([0.0, -1.0]), np.zeros(2, bool), allow_zero=True)
    assert steps.tolist() == ["", "step is negative"]


def test_raise_for_problems_names_column_rows_values_and_fix():
    rows = np.arange(12) + 100
    parsed = np.ones(12)
    parsed[[1, 3]] = np.nan
    bad = np.zeros(12, bool)
    bad[3] = True
    raw = np.array(["1"] * 12, dtype=object)
    raw[1], raw[3] = None, "abc"
    problems = {"n_params": ("Model Size", v.row_problems("n_params", parsed, bad), raw),
                "loss": ("loss", np.array([""] * 11 + ["loss is infinite"], dtype=object), raw)}
    with pytest.raises(ScalefitInputError) as info:
        v.raise_for_problems(problems, rows)
    msg = str(info.value)
    assert "column 'Model Size' (used as n_params)" in msg
    assert "rows 101 and 103" in msg and "1 non-numeric, 1 missing (NaN)" in msg
    assert "values found: None, 'abc'" in msg
    assert "Column(s) 'loss' also have invalid values" in msg
    assert "nan_policy='omit'" in msg
    assert info.value.column == "Model Size" and info.value.rows == [101, 103]
    v.raise_for_problems({"loss": ("loss", np.array(["", ""], dtype=object), raw[:2])}, rows[:2])


def test_warn_units():
    with pytest.warns(UnitsWarning, match="were params given in millions"):
        w.warn_units(np.array([70.0, 1300.0]), np.array([3.0, 2.5]))
    with pytest.warns(UnitsWarning, match=r"1 loss value\(s\) exceed 20.*perplexity"):
        w.warn_units(np.array([7e7]), np.array([25.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.warn_units(np.array([7e7]), np.array([3.0]))


def test_warn_inconsistent_flops():
    n, d = np.array([1e8, 1e8, 1e8]), np.array([1e9, 1e9, 1e9])
    c = 6 * n * d * np.array([1.0, 1.05, 2.0])
    with pytest.warns(InconsistentFlopsWarning, match=r"more than 10% in 1 of 3 rows \(row 7; C/\(6ND\) ranges from 2 to 2\)"):
        w.warn_inconsistent_flops(n, d, c, 6.0, np.array([5, 6, 7]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.warn_inconsistent_flops(n, d, 6 * n * d, 6.0, np.arange(3))


def test_warn_duplicates_and_excluded():
    with pytest.warns(DuplicateRowsWarning, match=r"1 row\(s\) exactly duplicate an earlier row \(row 4 = row 2\); they are kept"):
        w.warn_duplicates({4: 2}, dropped=False)
    with pytest.warns(DuplicateRowsWarning, match="were excluded"):
        w.warn_duplicates({4: 2}, dropped=True)
    with pytest.warns(ExcludedRowsWarning, match=r"excluded 2 row\(s\) \(rows 1 and 5\): loss is infinite \(2x\)"):
        w.warn_excluded([1, 5], ["loss is infinite", "loss is infinite"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.warn_duplicates({}, dropped=False)
        w.warn_excluded([], [])


def test_errors_carry_their_fields():
    from scalefit._errors import Option

    with pytest.raises(ScalefitInputError) as info:
        v.check_option("drop", "nan_policy", v.NAN_POLICIES)
    assert info.value.option == "nan_policy" and info.value.values == ["drop"]
    with pytest.raises(ScalefitInputError) as info:
        v.check_positive_scalar(-1, "delta")
    assert info.value.option == "delta" and info.value.values == [-1]
    with pytest.raises(ScalefitInputError) as info:
        v.check_level(1.5)
    assert info.value.option == "level" and info.value.values == [1.5]
    with pytest.raises(ScalefitInputError) as info:
        v.check_positive_finite([1.0, -2.0, np.inf], "n_params")
    assert info.value.option == "n_params" and info.value.rows == [1, 2] and info.value.values == [-2.0, np.inf]
    with pytest.raises(ScalefitInputError) as info:
        v.check_columns_exist(["nope"], ["a", "b"], "group_by")
    assert info.value.option == "group_by" and info.value.column == "nope" and info.value.values == ["nope"]
    with pytest.raises(ScalefitInputError, match=r"did you mean \{'x': 'n_params'\}") as info:
        v.check_column_map({"n_params": "x"}, ["x", "n_params"], ("n_params", "loss"))
    assert info.value.option == "columns" and info.value.options == (Option("columns", "{'x': 'n_params'}", "{'x': 'n_params'}"),)
    with pytest.raises(ScalefitInputError, match=r"fix parameters \(fixed=\.\.\.\)") as info:
        v.check_min_runs(read_runs([{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.0}]), 3, "law 'chinchilla'")
    assert info.value.options == (Option("fixed", text="fixed=..."),)


def test_warnings_carry_the_options_they_suggest():
    from scalefit._errors import CurvesWarning, Option

    with pytest.warns(DuplicateRowsWarning) as record:
        w.warn_duplicates({4: 2}, dropped=False)
    assert record[0].message.options == (Option("drop_duplicates", "True"),)
    with pytest.warns(CurvesWarning, match=r"pass run_id=\[\.\.\.\] naming") as record:
        w.warn_step_without_run("step", np.array([1, 2]))
    assert record[0].message.options == (Option("run_id", "[...]"),)
    assert "CLI" not in str(record[0].message)
