"""Input that used to be misread silently (issue 13): refused with the fix, warned about, or noted."""
from __future__ import annotations

import numpy as np
import pytest

import scalefit
from scalefit import ScalefitInputError, UnitsWarning
from scalefit._numbers import parse_number

ROWS = "1e8,2e9,3.1\n2e8,4e9,2.9\n4e8,8e9,2.7\n8e8,1.6e10,2.5\n"


def _csv(tmp_path, text, name="runs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_repeated_csv_header_is_refused(tmp_path):
    path = _csv(tmp_path, "n_params,loss,loss\n1e8,3.1,9\n2e8,2.9,9\n")  # pandas alone would read 'loss' and 'loss.1'
    with pytest.raises(ScalefitInputError, match=r"header of .* has repeated column names 'loss'"):
        scalefit.read_runs(path)


@pytest.mark.parametrize("name, text", [
    ("runs.json", '[{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.1, "loss": 9.0}]'),
    ("runs.jsonl", '{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.1}\n{"n_params": 2e8, "n_tokens": 4e9, "loss": 2.9, "loss": 9}\n'),
])
def test_repeated_json_key_is_refused(tmp_path, name, text):
    with pytest.raises(ScalefitInputError, match=r"repeats the key\(s\) \['loss'\]"):
        scalefit.read_runs(_csv(tmp_path, text, name))


@pytest.mark.parametrize("value, kind", [('"2,268"', "decimal comma"), ('"3,1"', "decimal comma"),
                                         ('"1.234,5"', "locale grouping"), ('"2 268"', "locale grouping")])
def test_decimal_comma_and_locale_numbers_in_the_loss_are_refused(tmp_path, value, kind):
    path = _csv(tmp_path, f"n_params,n_tokens,loss\n1e8,2e9,{value}\n2e8,4e9,2.9\n")
    with pytest.raises(ScalefitInputError, match=rf"column 'loss' holds number\(s\) written with a {kind} \(data row 0 \(file line 2\)"):
        scalefit.read_runs(path)


def test_thousands_separators_in_sizes_still_read():
    runs = scalefit.read_runs([{"n_params": "1,000,000", "n_tokens": "20,000,000", "loss": 3.1},
                               {"n_params": "2,000,000", "n_tokens": "40,000,000", "loss": 2.9}])
    assert list(runs.n_params) == [1e6, 2e6]


def test_exponent_and_suffix_together_are_refused():
    with pytest.raises(ValueError, match="both an exponent and a scale suffix"):
        parse_number("1.3e9B")
    with pytest.raises(ScalefitInputError, match=r"'n_params' must hold .*'1.3e9B'"):
        scalefit.read_runs([{"n_params": "1.3e9B", "n_tokens": 2e9, "loss": 3.1},
                            {"n_params": "2B", "n_tokens": 4e9, "loss": 2.9}])


@pytest.mark.parametrize("sep, shown", [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
def test_other_delimiter_in_a_csv_is_detected_and_noted(tmp_path, sep, shown):
    text = "n_params,n_tokens,loss\n".replace(",", sep) + ROWS.replace(",", sep)
    runs = scalefit.read_runs(_csv(tmp_path, text))
    assert np.allclose(runs.loss, [3.1, 2.9, 2.7, 2.5])
    assert any(f"is {shown}-separated" in n for n in runs.notes)


def test_loss_below_1e_3_warns():
    with pytest.warns(UnitsWarning, match=r"1 loss value\(s\) are below 1e-3 nats \(min 1e-300\)"):
        scalefit.read_runs([{"n_params": 1e8, "n_tokens": 2e9, "loss": 1e-300},
                            {"n_params": 2e8, "n_tokens": 4e9, "loss": 2.9}])


def test_alias_choice_is_shown_in_fit_summary_and_json():
    rows = [{"N": n, "params": n / 1000, "n_tokens": 20 * n, "loss": 1.7 + 400 / n ** 0.34 + 410 / (20 * n) ** 0.28}
            for n in (1e7, 3e7, 1e8, 3e8, 1e9, 3e9)]
    result = scalefit.fit(rows, "kaplan-n", max_starts=2)
    info = result.to_dict()["input"]
    assert info["columns"]["params"] == "n_params"
    assert any("used column 'params'; also matched 'N'" in n for n in info["notes"])
    assert "input: n_params: used column 'params'; also matched 'N'" in str(result.summary())


def test_file_messages_give_data_row_and_file_line(tmp_path):
    """A NaN on the third line of a 3-row CSV: data row 1, file line 3 (the header is line 1)."""
    path = _csv(tmp_path, "n_params,n_tokens,loss\n1e8,2e9,3.1\n2e8,4e9,nan\n4e8,8e9,2.7\n")
    with pytest.raises(ScalefitInputError, match=r"data row 1 \(file line 3\) does not") as info:
        scalefit.read_runs(path)
    assert info.value.rows == [1]


def test_quoted_newlines_and_blank_lines_are_counted(tmp_path):
    path = _csv(tmp_path, 'n_params,n_tokens,note,loss\n1e8,2e9,"two\nlines",3.1\n2e8,4e9,x,2.9\n\n4e8,8e9,y,-1\n')
    with pytest.raises(ScalefitInputError, match=r"data row 2 \(file line 6\)"):
        scalefit.read_runs(path)


def test_jsonl_messages_give_the_line(tmp_path):
    text = '{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.1}\n\n{"n_params": 2e8, "n_tokens": 4e9, "loss": -2}\n'
    with pytest.raises(ScalefitInputError, match=r"data row 1 \(file line 3\)"):
        scalefit.read_runs(_csv(tmp_path, text, "runs.jsonl"))


def test_dataframe_messages_give_the_index_label():
    import pandas as pd

    frame = pd.DataFrame({"n_params": [1e8, 2e8], "n_tokens": [2e9, 4e9], "loss": [3.1, None]}, index=["a", "b"])
    with pytest.raises(ScalefitInputError, match=r"row 1 \(index label 'b'\) does not"):
        scalefit.read_runs(frame)
