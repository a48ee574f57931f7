"""compare_approaches says when Chinchilla's approaches disagree beyond their intervals (a QA report: on Li et al.'s
curves the envelope gave a = 0.389 [0.349, 0.413] and the parametric fit 0.734 [0.55, 0.89], without a word)."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

import scalefit
from scalefit.approaches._compare import ApproachComparison


def _row(name, a, low, high):
    return {"approach": name, "a": a, "a_low": low, "a_high": high, "b": 1 - a, "b_low": 1 - high, "b_high": 1 - low}


def test_disagreement_is_named_only_where_intervals_do_not_overlap():
    rows = (_row("envelope", 0.41, 0.37, 0.44), _row("isoflop", 0.33, 0.11, 0.70), _row("parametric", 0.69, 0.54, 0.88))
    cmp = ApproachComparison(results={}, budgets=(), skipped={}, level=0.95, rows=rows)
    (only,) = cmp.disagreements  # isoflop's wide interval overlaps both
    assert "envelope gives a = 0.41" in only and "parametric a = 0.69" in only and "95% intervals do not overlap" in only
    assert only in str(cmp.summary())
    agree = ApproachComparison(results={}, budgets=(), skipped={}, level=0.95, rows=rows[:2])
    assert agree.disagreements == ()


def test_compare_approaches_warns_on_li_curves(li_csv):
    runs = scalefit.read_runs(pd.read_csv(li_csv), run_id=["model", "peak_lr", "sweep", "total_steps"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", scalefit.ApproachesDisagreeWarning)
        with pytest.warns(scalefit.ApproachesDisagreeWarning, match="envelope gives a = .* and parametric"):
            scalefit.compare_approaches(runs, bootstrap=50, approaches=("envelope", "parametric"))
