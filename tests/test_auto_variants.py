"""The statistics of benchmarks/bench_auto_variants.py (candidate choice rules for law="auto", scored offline).

The numbers are constructed here (no published values); each case states the paired differences it builds and the
value a rule's statistic must give, by the definitions in that file's docstring.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_auto_folds as baf  # noqa: E402
import bench_auto_variants as bav  # noqa: E402

import scalefit  # noqa: E402


def _inner(per_fold: dict[str, list[list[float]]], scales: list[list[float]]) -> pd.DataFrame:
    """Inner rows in the saved format: per candidate, abs_error per forecast, fold by fold (origins 5, 6, ...)."""
    rows = []
    for cand, folds in per_fold.items():
        law, loss = cand.split("/")
        for k, errs in enumerate(folds):
            for j, e in enumerate(errs):
                rows.append(dict(cand=cand, law=law, objective=f"{loss}/log", origin=5 + k, run=str(j),
                                 scale=scales[k][j], train_max=2.0 ** (k + 1), ratio=scales[k][j] / 2.0 ** (k + 1),
                                 abs_error=float(e)))
    return pd.DataFrame(rows)


BASE = [[10.0, 11.0, 9.0, 10.0], [10.0, 11.0, 9.0, 10.0]]
SCALES = [[4.0, 4.0, 8.0, 8.0], [8.0, 8.0, 16.0, 16.0]]


def test_cluster_se_treats_each_held_out_level_of_a_fold_as_one_cluster():
    # d = -1, -1, -3, -3 at fold 1 (levels 4 and 8) and -2, -2, -2, -2 at fold 2: mean -2; centred cluster sums
    # (+2, -2, 0, 0); G = 4: se = sqrt(4/3 * 8) / 8
    cand = [[9.0, 10.0, 6.0, 7.0], [8.0, 9.0, 7.0, 8.0]]
    ev = bav._evidence(_inner({baf.DEFAULT: BASE, "chinchilla-tied/huber": cand}, SCALES))
    m, se, ok = bav._cluster_se(ev["chinchilla-tied/huber"], {})
    assert m == pytest.approx(-2.0) and ok
    assert se == pytest.approx(np.sqrt(4 / 3 * 8) / 8)


def test_random_effects_adds_the_between_fold_variance():
    # fold means -3 and -1, each with paired SE s (the same +-0.5 wobble): DerSimonian-Laird tau^2 = Q - 1 scaled,
    # Q = sum w (y - ybar)^2 = 2/s^2 with w = 1/s^2; tau^2 = (Q - 1) / (2w - 2w^2/(2w)) = (Q - 1) s^2
    wob = [0.5, -0.5, 0.5, -0.5]
    cand = [[b - 3 + w for b, w in zip(BASE[0], wob)], [b - 1 + w for b, w in zip(BASE[1], wob)]]
    ev = bav._evidence(_inner({baf.DEFAULT: BASE, "chinchilla-tied/huber": cand}, SCALES))
    s2 = np.var(wob, ddof=1) / 4
    tau2 = (2 / s2 - 1) * s2
    m, se, _ = bav._random_effects(ev["chinchilla-tied/huber"], {})
    assert m == pytest.approx(-2.0)
    assert se == pytest.approx(np.sqrt((s2 + tau2) / 2))


def test_veto_last_refuses_a_larger_worst_error_at_the_last_fold_only():
    cand = [[8.0, 9.0, 7.0, 8.0], [8.0, 11.5, 7.0, 8.0]]  # -2 everywhere except one forecast of the last fold
    # the default's worst error is 12 at the first fold and 11 at the last: the pooled rule (worst 11.5 <= 12) takes
    # the candidate, the last-fold veto (11.5 > 11) refuses it
    inn = _inner({baf.DEFAULT: [[10.0, 12.0, 9.0, 10.0], BASE[1]], "chinchilla-tied/huber": cand}, SCALES)
    out = inn.assign(ratio=2.0)
    for rule in ("pooled", "pooled (replica of _auto's)"):
        assert bav.pick(inn, out, rule) == "chinchilla-tied/huber"
    assert bav.pick(inn, out, "veto-last") == baf.DEFAULT


@pytest.mark.parametrize("rule", [r for r in bav.RULES if r != "outer"])
def test_every_variant_but_outer_chooses_the_true_law_of_the_test_sweep(rule):
    # seed 1 of benchmarks/bench_auto_folds.py's saturating sweep: its 5 budgets are those of
    # tests/test_backtest.py::test_auto_chooses_the_true_law[kaplan-c-e] (same noise draws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = _SAT.get("rows")
        if t is None:
            runs = scalefit.read_runs(baf.synthetic_sweep("kaplan-c-e", 1))
            t = _SAT["rows"] = baf.task_rows("sat", runs, dict(by="flops", origins=[1e22], horizon=None))
    inn, out = t[t["fold"] == "inner"], t[t["fold"] == "outer"]
    assert bav.pick(inn, out, rule).startswith("kaplan-c-e/")


_SAT: dict = {}
