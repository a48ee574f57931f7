"""Row accounting: final() says what it kept and left out; summaries name rows as the errors on reading do."""
from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from scalefit import DuplicateRowsWarning, ScalefitInputError
from scalefit.cli import main
from scalefit.runs import read_runs
from scalefit.runs._saved import runs_from_dict, runs_to_dict

LI_RUN = ["model", "peak_lr", "sweep", "total_steps"]  # a run of Li et al. (2025), per ../shared/data/README.md


def _quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_runs(*args, **kw)


def _curves() -> pd.DataFrame:
    return pd.DataFrame({"run": ["a", "a", "a", "b", "b"], "step": [1, 2, 3, 1, 2],
                         "n_params": [1e7] * 3 + [2e7] * 2, "n_tokens": [1e8, 2e8, 3e8, 1e8, 2e8],
                         "loss": [4.0, 3.8, 3.7, 3.9, 3.6]})


def test_final_says_how_many_checkpoints_it_kept_and_left_out():
    final = _quiet(_curves()).final()
    (selection,) = final.selected
    assert "kept the last checkpoint of each of the 2 runs and left out the other 3 checkpoint row(s) of 5" in selection
    text = str(final.summary())
    assert f"selected: {selection}" in text
    assert "excluded: none (rows left out by a selection are counted above)" in text
    assert final.summary().to_dict()["selected"] == [selection]
    assert len(final.excluded) == 0  # left out, not excluded for a reason: nothing listed row by row
    assert final.final().selected == final.selected  # nothing more left out, nothing more said


def test_runs_without_curves_have_no_selection():
    runs = _quiet(_curves().drop(columns=["run", "step"]))
    assert runs.final().selected == () and "selected:" not in str(runs.final().summary())


def test_li_curves_final_counts(li_csv):
    # Li, Kudugunta and Zettlemoyer (2025), hadasah/scaling_laws@1f3708c: 4,852 checkpoint rows of 240 runs
    # (../shared/data/README.md), so final() keeps 240 and leaves out 4,612
    final = _quiet(li_csv, run_id=LI_RUN).final()
    assert len(final) == 240
    assert "each of the 240 runs and left out the other 4,612 checkpoint row(s) of 4,852" in str(final.summary())


def test_cli_inspect_final_says_it_too(tmp_path, capsys):
    path = tmp_path / "curves.csv"
    _curves().to_csv(path, index=False)
    assert main(["inspect", str(path), "--final"]) == 0
    assert "left out the other 3 checkpoint row(s) of 5" in capsys.readouterr().out


def test_summary_names_excluded_and_duplicate_rows_by_file_line(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("n_params,n_tokens,loss\n1e8,2e9,3.0\n\n2e8,4e9,2.8\n2e8,4e9,2.8\n4e8,-1,2.6\n")
    # the blank line shifts the file lines: data row 1 is file line 4
    with pytest.raises(ScalefitInputError, match=r"data row 3 \(file line 6\)"):
        _quiet(path)
    with pytest.warns(DuplicateRowsWarning, match=r"data row 2 \(file line 5\) = data row 1 \(file line 4\)"):
        runs = read_runs(path, nan_policy="omit")
    text = str(runs.summary())
    assert "data row 3 (file line 6): n_tokens is not positive" in text
    assert "duplicates: 1 exact duplicate row(s): data row 2 (file line 5) = data row 1 (file line 4)" in text
    assert list(runs.excluded["row"]) == [3]  # still the 0-based row, which exclude= takes
    assert runs.format_rows([3]) == "data row 3 (file line 6)"
    assert runs.exclude("row == 0").summary().excluded[0]["row"] == 3
    dropped = _quiet(path, nan_policy="omit", drop_duplicates=True)
    assert "data row 2 (file line 5): exact duplicate of data row 1 (file line 4)" in str(dropped.summary())


def test_summary_names_excluded_rows_by_index_label():
    frame = pd.DataFrame({"n_params": [1e8, 2e8, 4e8], "n_tokens": [2e9, 4e9, 8e9], "loss": [3.0, 2.8, 2.6]},
                         index=["small", "medium", "large"])
    runs = _quiet(frame, exclude="loss < 2.7")
    assert "row 2 (index label 'large'): excluded by 'loss < 2.7'" in str(runs.summary())
    assert runs.subset([True, False]).format_rows([2]) == "row 2 (index label 'large')"  # kept by every copy


def test_rows_without_places_read_as_before():
    runs = _quiet([{"n_params": 1e8, "n_tokens": 2e9, "loss": 3.0}, {"n_params": 2e8, "n_tokens": 4e9, "loss": 2.8}])
    assert runs.row_places is None and runs.format_rows([1]) == "row 1"


@pytest.mark.parametrize("tag", ["x", '"a\nb"'])  # lines = row + 2 (saved as an offset), or a quoted newline (listed)
def test_saved_runs_keep_places_and_selections(tmp_path, tag):
    path = tmp_path / "runs.csv"
    path.write_text(f"run,n_params,n_tokens,loss,tag\na,1e8,1e9,3.2,{tag}\na,1e8,2e9,3.0,x\nb,2e8,4e9,2.8,x\n"
                    "c,4e8,8e9,2.6,x\n")
    runs = _quiet(path).final().exclude("loss < 2.7")
    assert runs.selected and len(runs.excluded) == 1
    back = runs_from_dict(json.loads(json.dumps(runs_to_dict(runs))))
    assert back.format_rows([3]) == runs.format_rows([3]) == f"data row 3 (file line {5 if tag == 'x' else 6})"
    assert back.selected == runs.selected
    assert str(back.summary()) == str(runs.summary())
