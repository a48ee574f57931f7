"""Row filters: Runs.exclude and read_runs(..., exclude=, drop_highest=) and their CLI flags (issue 11)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.cli import main


def _frame() -> pd.DataFrame:
    return pd.DataFrame(dict(
        n_params=[1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9],
        n_tokens=[2e9, 4e9, 8e9, 1.6e10, 3.2e10, 6.4e10],
        loss=[3.5, 3.2, 9.0, 2.8, 2.6, 2.5],
        qc=["ok", "ok", "bad", "ok", "diverged", "ok"],
    ))


def test_exclude_by_column_value_lists_each_row_with_its_reason():
    runs = scalefit.read_runs(_frame()).exclude({"qc": ["bad", "diverged"]})
    assert list(runs.table["row"]) == [0, 1, 3, 5]
    assert list(runs.excluded["row"]) == [2, 4]
    assert list(runs.excluded["reason"]) == ["excluded: qc = 'bad'", "excluded: qc = 'diverged'"]
    assert list(runs.excluded["loss"]) == [9.0, 2.6]  # the excluded values are kept


def test_exclude_by_expression_and_highest_losses_combine():
    runs = scalefit.read_runs(_frame(), exclude="n_params > 3e9", drop_highest=1)
    assert list(runs.table["row"]) == [0, 1, 3, 4]
    reasons = dict(zip(runs.excluded["row"], runs.excluded["reason"]))
    assert reasons[5] == "excluded by 'n_params > 3e9'"
    assert reasons[2] == "one of the 1 highest losses (loss 9)"


def test_exclusions_add_to_earlier_ones_and_the_user_frame_is_untouched():
    frame = _frame()
    frame.loc[0, "loss"] = np.nan
    before = frame.copy()
    with pytest.warns(scalefit.ExcludedRowsWarning):
        runs = scalefit.read_runs(frame, nan_policy="omit", exclude=[{"qc": "bad"}, "loss < 2.55"])
    assert list(runs.excluded["row"]) == [0, 2, 5]
    pd.testing.assert_frame_equal(frame, before)


def test_highest_loss_matches_the_replication_procedure(chinchilla_csv):
    # Besiroglu et al. (2024), epoch-research/analyzing-chinchilla@9225883: drop the 5 highest losses -> 240 rows.
    runs = scalefit.read_runs(chinchilla_csv)
    kept = runs.exclude(highest_loss=5)
    assert len(kept) == 240
    assert set(kept.excluded["row"]) == set(np.argsort(runs.loss)[-5:])


@pytest.mark.parametrize("kwargs,match", [
    (dict(where={"nope": 1}), "column 'nope' not found"),
    (dict(where="loss >"), "cannot be evaluated"),
    (dict(where="loss + 1"), "must give True or False per row"),
    (dict(where=3), "must be an expression"),
    (dict(highest_loss=-1), "non-negative whole number"),
    (dict(highest_loss=True), "non-negative whole number"),
    (dict(where="loss > 0"), "leave no rows"),
])
def test_bad_exclusions_are_refused(kwargs, match):
    with pytest.raises(ScalefitInputError, match=match):
        scalefit.read_runs(_frame()).exclude(**kwargs)


def test_cli_exclude_flags(tmp_path, capsys):
    csv = tmp_path / "runs.csv"
    _frame().to_csv(csv, index=False)
    assert main(["inspect", str(csv), "--exclude-value", "qc=bad,diverged", "--exclude", "loss > 3.4"]) == 0
    err = capsys.readouterr().err
    assert "excluded 3 row(s)" in err
    for line in ("data row 0 (file line 2): excluded by 'loss > 3.4'", "data row 2 (file line 4): excluded by 'loss > 3.4'",
                 "data row 4 (file line 6): excluded: qc = 'diverged'"):
        assert line in err
    assert main(["inspect", str(csv), "--exclude-value", "qc"]) == 2
    assert "has no '='" in capsys.readouterr().err
