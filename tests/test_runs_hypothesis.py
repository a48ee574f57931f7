"""Property tests of read_runs: valid tables round-trip; corrupted ones fail cleanly.

Whatever the corruption (NaN, inf, negative, zero, junk text) in whichever
canonical column, read_runs raises ScalefitInputError naming that column, never
another exception type.  The same holds for damaged files (compressed, truncated,
mis-encoded, mis-delimited) and for command-line options: nothing but
ScalefitInputError (exit 2) escapes.  The number of examples comes from the
profile in conftest.py (500 per strategy with CI=true).
"""
from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalefit import ScalefitInputError
from scalefit._numbers import parse_number
from scalefit.runs import read_runs

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # max_examples: conftest profile

NAMES = {
    "n_params": ["n_params", "Model Size", "params", "N", "num_params", "parameters"],
    "n_tokens": ["n_tokens", "tokens", "D", "Training Tokens", "num_tokens"],
    "flops": ["flops", "C", "Training FLOP", "compute", "FLOPs"],
    "loss": ["loss", "val_loss", "eval/loss", "eval_loss", "validation_loss", "train/loss"],
}


def _not_a_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return True
    return False


@st.composite
def valid_tables(draw):
    n = draw(st.integers(1, 12))
    log_n = draw(st.lists(st.floats(5, 12), min_size=n, max_size=n))
    log_d = draw(st.lists(st.floats(6, 13), min_size=n, max_size=n))
    loss = draw(st.lists(st.floats(0.5, 15, allow_nan=False), min_size=n, max_size=n))
    jitter = draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n))
    n_params, n_tokens = 10.0 ** np.array(log_n), 10.0 ** np.array(log_d)
    values = {
        "n_params": n_params,
        "n_tokens": n_tokens,
        "flops": 6.0 * n_params * n_tokens * (1 + np.array(jitter)),
        "loss": np.array(loss),
    }
    drop = draw(st.sampled_from([None, "n_params", "n_tokens", "flops"]))
    names = {c: draw(st.sampled_from(NAMES[c])) for c in values if c != drop}
    df = pd.DataFrame({names[c]: values[c] for c in names})
    if draw(st.booleans()):
        df["group"] = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    return df, names, values, drop


def _read_quietly(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicates may be drawn; they are reported, not errors
        return read_runs(source, **kw)


@SETTINGS
@given(valid_tables(), st.sampled_from(["frame", "records", "csv", "jsonl"]))
def test_valid_tables_round_trip(table, how):
    df, names, values, drop = table
    before = df.copy(deep=True)
    with tempfile.TemporaryDirectory() as tmp:
        if how == "frame":
            source = df
        elif how == "records":
            source = df.to_dict("records")
        else:
            source = Path(tmp) / f"runs.{how}"
            if how == "csv":
                df.to_csv(source, index=False, float_format="%.17g")
            else:
                df.to_json(source, orient="records", lines=True, double_precision=15)
        runs = _read_quietly(source)
    pd.testing.assert_frame_equal(df, before)
    assert len(runs) == len(df) and runs.table["row"].tolist() == list(range(len(df)))
    assert runs.derived == (() if drop is None else (drop,))
    for canonical, src in names.items():
        assert runs.column_map[src] == canonical
        np.testing.assert_allclose(runs.table[canonical], values[canonical], rtol=1e-12)
    if drop is not None:
        np.testing.assert_allclose(runs.flops, 6.0 * runs.n_params * runs.n_tokens, rtol=1e-12)
    if "group" in df:
        assert runs.table["group"].tolist() == df["group"].tolist()
    assert len(runs.excluded) == 0


corruptions = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0, -3e9, None, "", "nan", "-inf", "-70M", "0"]),
    st.text(min_size=1, max_size=12).filter(_not_a_number),
)


@SETTINGS
@given(valid_tables(), st.data(), corruptions)
def test_corrupted_tables_raise_naming_the_column(table, data, bad_value):
    df, names, _, _ = table
    canonical = data.draw(st.sampled_from(sorted(names)))
    src = names[canonical]
    row = data.draw(st.integers(0, len(df) - 1))
    df = df.astype({src: object})
    df.iloc[row, df.columns.get_loc(src)] = bad_value
    with pytest.raises(ScalefitInputError) as info:
        _read_quietly(df)
    assert info.value.column == src
    assert repr(src) in str(info.value)
    assert row in info.value.rows


@SETTINGS
@given(valid_tables(), st.data(), corruptions)
def test_corrupted_rows_are_excluded_under_omit(table, data, bad_value):
    df, names, _, _ = table
    if len(df) < 2:
        return
    canonical = data.draw(st.sampled_from(sorted(names)))
    src = names[canonical]
    row = data.draw(st.integers(0, len(df) - 1))
    df = df.astype({src: object})
    df.iloc[row, df.columns.get_loc(src)] = bad_value
    runs = _read_quietly(df, nan_policy="omit")
    assert runs.excluded["row"].tolist() == [row]
    assert canonical in runs.excluded["reason"].iloc[0]
    assert len(runs) == len(df) - 1 and row not in set(runs.table["row"])


@SETTINGS
@given(
    st.floats(1e-3, 1e15, allow_nan=False),
    st.sampled_from([("", 1.0), ("K", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12), ("g", 1e9), ("k", 1e3)]),
)
def test_number_strings_round_trip(value, suffix):
    text, scale = suffix
    assert parse_number(f"{value!r}{text}") == pytest.approx(value * scale, rel=1e-12)
    if value >= 1000 and value.is_integer() and value < 1e15:
        assert parse_number(f"{int(value):,}") == value
