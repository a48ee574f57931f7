"""Tests of scalefit._numbers: human-written numbers such as '1.3B' and '1,000'."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scalefit._numbers import parse_column, parse_number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.3B", 1.3e9),
        ("300B", 300e9),
        ("300b", 300e9),
        ("70M", 70e6),
        ("70m", 70e6),
        ("1.4T", 1.4e12),
        ("12K", 12e3),
        ("12k", 12e3),
        ("2G", 2e9),
        ("1.2e9", 1.2e9),
        ("1.2E+9", 1.2e9),
        ("1,000,000", 1e6),
        ("1,000.5", 1000.5),
        ("1_000", 1e3),
        (" 7 ", 7.0),
        ("1.3 B", 1.3e9),
        (".5k", 500.0),
        ("-3", -3.0),
        (42, 42.0),
        (np.int64(5), 5.0),
        (2.5, 2.5),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text", ["", "nan", "NaN", None])
def test_missing_values_parse_to_nan(text):
    assert math.isnan(parse_number(text))


def test_infinity_and_huge_values():
    assert parse_number("inf") == math.inf
    assert parse_number("-inf") == -math.inf
    assert parse_number("1e400") == math.inf
    assert parse_number(10**400) == math.inf


@pytest.mark.parametrize("text", ["abc", "1.3X", "1,00", "1.2.3", "B", "12 KB", True, [1], 1j])
def test_unparseable(text):
    with pytest.raises(ValueError, match="not a number|boolean"):
        parse_number(text)


def test_parse_column_flags_only_unparseable_values():
    values, bad = parse_column(pd.Series(["70M", "junk", None, "inf", 3], dtype=object))
    assert values[0] == 70e6 and np.isnan(values[1]) and np.isnan(values[2])
    assert values[3] == math.inf and values[4] == 3.0
    assert bad.tolist() == [False, True, False, False, False]


def test_parse_column_numeric_fast_path():
    values, bad = parse_column(pd.Series([1.0, np.nan, 3.0]))
    assert np.isnan(values[1]) and not bad.any()
    values, bad = parse_column(pd.Series([1, None], dtype="Int64"))
    assert values[0] == 1.0 and np.isnan(values[1]) and not bad.any()


def test_parse_column_refuses_booleans():
    _, bad = parse_column(pd.Series([True, False]))
    assert bad.all()


def test_parse_column_big_python_ints():
    # Li et al. (2025) FLOP counts exceed int64 and arrive as Python ints
    values, bad = parse_column(pd.Series([75650815224446976, 10**20], dtype=object))
    assert values.tolist() == [75650815224446976.0, 1e20] and not bad.any()
