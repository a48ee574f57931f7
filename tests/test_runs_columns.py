"""Conflicting column mappings: a source mapped twice is refused; a choice among aliases is explained."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalefit import ScalefitInputError
from scalefit.runs import read_runs


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"Model Size": [1e8, 2e8, 4e8], "params": [1.1e8, 2.2e8, 4.4e8],
                         "tokens": [2e9, 4e9, 8e9], "P": [1e8, 2e8, 4e8], "loss": [3.0, 2.8, 2.6]})


def _read(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_runs(source, **kw)


def test_a_source_mapped_to_two_names_is_refused():
    # what the CLI's --columns "P=n_params,P=n_tokens" means; a dict cannot hold it, so pairs are given
    with pytest.raises(ScalefitInputError, match=r"columns maps 'P' to both 'n_params' and 'n_tokens'") as info:
        read_runs(_frame(), columns=[("P", "n_params"), ("P", "n_tokens")])
    assert info.value.column == "P" and info.value.option == "columns"
    assert info.value.values == ["n_params", "n_tokens"]


def test_pairs_read_as_the_same_dict():
    pairs = _read(_frame(), columns=[("P", "n_params"), ("P", "n_params")])  # a repeat that agrees is harmless
    mapped = _read(_frame(), columns={"P": "n_params"})
    assert pairs.column_map == mapped.column_map
    np.testing.assert_array_equal(pairs.n_params, mapped.n_params)


def test_columns_neither_dict_nor_pairs_is_refused():
    with pytest.raises(ScalefitInputError, match=r"or a list of \(source, canonical\) pairs\); found list"):
        read_runs(_frame(), columns=["P", "n_params"])


def test_a_choice_between_columns_that_differ_names_both_and_the_fix():
    runs = _read(_frame().drop(columns="P"))
    assert runs.column_map["Model Size"] == "n_params"
    note = ("n_params: used column 'Model Size'; also matched 'params' (values differ on 3 of 3 rows); kept as "
            "ordinary column: to use 'params' instead pass columns={'params': 'n_params'}")
    assert note in runs.notes
    assert f"note: {note}" in str(runs.summary())
    # the fix the note gives picks the other column
    other = _read(_frame().drop(columns="P"), columns={"params": "n_params"})
    np.testing.assert_array_equal(other.n_params, [1.1e8, 2.2e8, 4.4e8])


def test_a_choice_between_equal_columns_says_so():
    frame = _frame().drop(columns="P").assign(params=["100M", "200M", "400M"])  # the same sizes, written with suffixes
    assert any("also matched 'params' (same values)" in n for n in _read(frame).notes)
