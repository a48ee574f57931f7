"""Tests of scalefit.read_runs and Runs: formats, aliases, validation, curves, real data."""
from __future__ import annotations

import copy
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit import (
    DuplicateRowsWarning,
    ExcludedRowsWarning,
    InconsistentFlopsWarning,
    ScalefitInputError,
    UnitsWarning,
)
from scalefit.runs import Runs, read_runs


def _frame(n: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_params = np.round(10 ** rng.uniform(7, 9, n))
    n_tokens = np.round(10 ** rng.uniform(9, 11, n))
    return pd.DataFrame(
        {
            "n_params": n_params,
            "n_tokens": n_tokens,
            "flops": 6 * n_params * n_tokens,
            "loss": rng.uniform(2.0, 4.0, n),
            "family": [f"f{i % 2}" for i in range(n)],
        }
    )


@pytest.fixture
def quiet():
    """Fail on any warning: valid input must read without complaint."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------ formats
def _check_same(runs: Runs, df: pd.DataFrame) -> None:
    np.testing.assert_allclose(runs.n_params, df["n_params"])
    np.testing.assert_allclose(runs.n_tokens, df["n_tokens"])
    np.testing.assert_allclose(runs.flops, df["flops"])
    np.testing.assert_allclose(runs.loss, df["loss"])
    assert runs.table["row"].tolist() == list(range(len(df)))
    assert runs.table["family"].tolist() == df["family"].tolist()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl", ".parquet", ".csv.gz"])
def test_file_formats_round_trip(tmp_path, suffix, quiet):
    df = _frame()
    path = tmp_path / f"runs{suffix}"
    if suffix in (".csv", ".csv.gz"):
        df.to_csv(path, index=False)
    elif suffix == ".tsv":
        df.to_csv(path, sep="\t", index=False)
    elif suffix == ".json":
        df.to_json(path, orient="records", double_precision=15)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True, double_precision=15)
    else:
        df.to_parquet(path)
    runs = read_runs(path)
    _check_same(runs, df)
    assert runs.source == str(path)
    # and with str paths
    _check_same(read_runs(str(path)), df)


def test_json_columns_orient(tmp_path, quiet):
    df = _frame()
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({c: df[c].tolist() for c in df.columns}))
    _check_same(read_runs(path), df)


def test_dataframe_list_of_dicts_and_dict_of_columns(quiet):
    df = _frame()
    _check_same(read_runs(df), df)
    _check_same(read_runs(df.to_dict("records")), df)
    _check_same(read_runs({c: df[c].tolist() for c in df.columns}), df)


def test_runs_returned_as_is():
    runs = read_runs(_frame())
    assert read_runs(runs) is runs


def test_round_trip_through_canonical_table(tmp_path, quiet):
    runs = read_runs(_frame())
    path = tmp_path / "canonical.csv"
    runs.table.drop(columns="row").to_csv(path, index=False)
    again = read_runs(path)
    pd.testing.assert_frame_equal(again.table, runs.table)


def test_dataframe_with_odd_index_uses_positions(quiet):
    df = _frame().set_index(pd.Index([10, 5, 7, 1, 2, 3]))
    runs = read_runs(df)
    assert runs.table["row"].tolist() == list(range(6))


def test_caller_dataframe_not_mutated():
    df = _frame()
    df.loc[2, "loss"] = np.nan
    df["n_params"] = df["n_params"].astype(object)
    df.loc[0, "n_params"] = "70M"
    df.loc[0, "flops"] = 6 * 70e6 * df.loc[0, "n_tokens"]
    before = copy.deepcopy(df)
    with pytest.warns(ExcludedRowsWarning):
        runs = read_runs(df, nan_policy="omit", columns={"n_params": "n_params"})
    assert runs.n_params[0] == 70e6
    pd.testing.assert_frame_equal(df, before)
    assert runs.table is not df
    runs.table.loc[0, "loss"] = 99.0  # the table is a private copy
    pd.testing.assert_frame_equal(df, before)


def test_caller_list_not_mutated(quiet):
    records = _frame().to_dict("records")
    before = copy.deepcopy(records)
    read_runs(records)
    assert records == before


# ---------------------------------------------------------- source errors
def test_missing_file(tmp_path):
    with pytest.raises(ScalefitInputError, match=r"no such file: .*nope\.csv"):
        read_runs(tmp_path / "nope.csv")


def test_unknown_suffix_lists_supported(tmp_path):
    path = tmp_path / "runs.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(ScalefitInputError, match=r"supported suffixes are \.csv, \.tsv, \.tab, \.json, \.jsonl"):
        read_runs(path)


def test_empty_inputs(tmp_path):
    with pytest.raises(ScalefitInputError, match=r"DataFrame is empty \(0 rows"):
        read_runs(pd.DataFrame({"n_params": [], "loss": []}))
    with pytest.raises(ScalefitInputError, match="list of dicts is empty"):
        read_runs([])
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ScalefitInputError, match="empty.csv' is empty"):
        read_runs(path)
    path.write_text("n_params,n_tokens,loss\n")
    with pytest.raises(ScalefitInputError, match=r"is empty \(0 rows, 3 columns\)"):
        read_runs(path)


def test_bad_source_types(tmp_path):
    with pytest.raises(ScalefitInputError, match="cannot read runs from a int"):
        read_runs(3)
    with pytest.raises(ScalefitInputError, match="item 1 of the list is a int, not a dict"):
        read_runs([{"n_params": 1}, 2])
    with pytest.raises(ScalefitInputError, match="unequal|equal-length"):
        read_runs({"n_params": [1, 2], "loss": [1]})
    with pytest.raises(ScalefitInputError, match="MultiIndex"):
        read_runs(pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("c", "d")])))


def test_malformed_files(tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(ScalefitInputError, match="is not valid JSON"):
        read_runs(bad_json)
    scalar_json = tmp_path / "scalar.json"
    scalar_json.write_text("3")
    with pytest.raises(ScalefitInputError, match="unsupported shape"):
        read_runs(scalar_json)
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text('{"loss": 1}\n[1, 2]\n')
    with pytest.raises(ScalefitInputError, match="line 2 is a JSON list"):
        read_runs(bad_lines)
    bad_lines.write_text('{"loss": 1}\n\n{oops\n')
    with pytest.raises(ScalefitInputError, match="line 3 is not valid JSON"):
        read_runs(bad_lines)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text('a,b\n1,2\n"3,4\n5,6,7,8\n')
    with pytest.raises(ScalefitInputError, match="could not read .* as CSV"):
        read_runs(bad_csv)


def test_repeated_column_names():
    df = pd.DataFrame([[1e8, 1e9, 3.0, 2.0]], columns=["n_params", "n_tokens", "loss", "loss"])
    with pytest.raises(ScalefitInputError, match="repeated column names 'loss'"):
        read_runs(df)


# --------------------------------------------------------------- options
def test_invalid_options():
    df = _frame()
    with pytest.raises(ScalefitInputError, match="nan_policy='propagate' is not supported; use one of 'raise', 'omit'"):
        read_runs(df, nan_policy="propagate")
    with pytest.raises(ScalefitInputError, match="loss_unit='perplexity' is not supported; use one of 'nats', 'bits'"):
        read_runs(df, loss_unit="perplexity")
    with pytest.raises(ScalefitInputError, match="flops_per_param_token must be a finite number > 0"):
        read_runs(df, flops_per_param_token=0)


# --------------------------------------------------------------- aliases
@pytest.mark.parametrize(
    "names",
    [
        ("Model Size", "Training Tokens", "Training FLOP", "loss"),
        ("params", "tokens", "compute", "val_loss"),
        ("N", "D", "C", "eval/loss"),
        ("num_params", "num_tokens", "FLOPs", "eval_loss"),
        ("parameters", "n_tokens", "flops", "validation_loss"),
        ("model_size", "D", "C", "train/loss"),
        ("n", "TOKENS", "Flops", "Loss"),
        ("MODEL-SIZE", "training_tokens", "training flop", "Eval Loss"),
    ],
)
def test_aliases(names, quiet):
    df = _frame()[["n_params", "n_tokens", "flops", "loss"]]
    df.columns = names
    runs = read_runs(df)
    assert runs.column_map == dict(zip(names, ("n_params", "n_tokens", "flops", "loss")))
    np.testing.assert_allclose(runs.loss, df[names[3]])
    assert list(runs.table.columns) == ["row", "n_params", "n_tokens", "flops", "loss"]


def test_alias_priority_recorded_without_error(quiet):
    df = _frame()[["n_params", "n_tokens", "flops", "loss"]]
    df["N"] = df["n_params"] * 2  # lower-priority alias for the same quantity
    df["train/loss"] = df["loss"] + 1
    runs = read_runs(df)
    assert runs.column_map["n_params"] == "n_params" and runs.column_map["loss"] == "loss"
    assert "N" in runs.table.columns and "train/loss" in runs.table.columns  # kept, not dropped
    assert any("n_params: used column 'n_params'; also matched 'N'" in n for n in runs.notes)
    assert any("also matched 'train/loss'" in n for n in runs.notes)


def test_tokens_at_checkpoint_win_over_train_tokens(quiet):
    # Li et al. (2025): D is tokens seen at the checkpoint; train_tokens is not an alias
    df = pd.DataFrame({"N": [1e8, 1e8], "D": [1e9, 2e9], "train_tokens": [2e9, 2e9], "loss": [3.0, 2.9]})
    runs = read_runs(df)
    assert runs.n_tokens.tolist() == [1e9, 2e9]
    assert runs.table["train_tokens"].tolist() == [2e9, 2e9]


def test_explicit_columns_win(quiet):
    df = _frame()[["n_params", "n_tokens", "loss"]]
    df["size_m"] = df["n_params"] / 1e6
    df["ppl"] = np.exp(df["loss"])
    df["my_loss"] = df["loss"] / 2
    runs = read_runs(df, columns={"my_loss": "loss"})
    np.testing.assert_allclose(runs.loss, df["my_loss"])
    assert "loss_input" in runs.table.columns  # the aliased 'loss' column is kept under a free name
    assert any("'loss' renamed 'loss_input'" in n for n in runs.notes)


def test_explicit_column_errors():
    df = _frame()
    with pytest.raises(ScalefitInputError, match=r"no column 'size'\. Available columns: 'n_params', 'n_tokens', 'flops', 'loss', 'family'"):
        read_runs(df, columns={"size": "n_params"})
    with pytest.raises(ScalefitInputError, match="'family' to 'group', which is not a canonical column"):
        read_runs(df, columns={"family": "group"})


def test_missing_loss_lists_available():
    df = _frame().drop(columns="loss")
    with pytest.raises(ScalefitInputError, match=r"no loss column found .*Available columns: 'n_params', 'n_tokens', 'flops', 'family'"):
        read_runs(df)


def test_two_missing_of_n_d_c_lists_available():
    df = _frame()[["n_params", "loss", "family"]]
    with pytest.raises(ScalefitInputError, match=r"found no column for n_tokens and flops.*Available columns: 'n_params', 'loss', 'family'"):
        read_runs(df)


def test_use_non_embedding(quiet):
    df = pd.DataFrame({"N": [2e8, 4e8], "N_no_emb": [1e8, 3e8], "D": [1e9, 2e9], "C_no_emb": [6e17, 3.6e18], "loss": [3.0, 2.8]})
    runs = read_runs(df, use_non_embedding=True)
    assert runs.n_params.tolist() == [1e8, 3e8]
    assert runs.column_map["N_no_emb"] == "n_params" and runs.column_map["C_no_emb"] == "flops"
    assert runs.table["N"].tolist() == [2e8, 4e8]
    assert read_runs(df.drop(columns="C_no_emb")).n_params.tolist() == [2e8, 4e8]
    with pytest.raises(ScalefitInputError, match="use_non_embedding=True but no non-embedding parameter column"):
        read_runs(df.drop(columns="N_no_emb"), use_non_embedding=True)


# ------------------------------------------------------- derived quantity
@pytest.mark.parametrize("drop", ["n_params", "n_tokens", "flops"])
def test_derive_the_one_missing(drop, quiet):
    df = _frame()
    runs = read_runs(df.drop(columns=drop))
    assert runs.derived == (drop,)
    np.testing.assert_allclose(runs.table[drop], df[drop], rtol=1e-12)


def test_derive_with_other_k(quiet):
    df = pd.DataFrame({"n_params": [1e8], "n_tokens": [1e9], "loss": [3.0]})
    runs = read_runs(df, flops_per_param_token=8)
    assert runs.flops.tolist() == [8e17] and runs.flops_per_param_token == 8.0


def test_inconsistent_flops_warns():
    df = _frame(8)
    df.loc[[2, 5], "flops"] *= 1.5
    with pytest.warns(InconsistentFlopsWarning, match=r"more than 10% in 2 of 8 rows \(rows 2 and 5"):
        runs = read_runs(df)
    assert len(runs) == 8 and runs.derived == ()
    df.loc[[2, 5], "flops"] /= 1.5 / 1.09  # within 10%: quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_runs(df)


# --------------------------------------------------------- number strings
def test_number_strings(quiet):
    df = pd.DataFrame(
        {"params": ["70M", "1.3B", "12K", "1,000,000"], "tokens": ["1.4T", "300B", "1.2e9", "20b"], "loss": ["3.1", 2.9, "4", 3]}
    )
    runs = read_runs(df.assign(params=["70M", "1.3B", "120K", "1,000,000"]))
    assert runs.n_params.tolist() == [70e6, 1.3e9, 120e3, 1e6]
    assert runs.n_tokens.tolist() == [1.4e12, 300e9, 1.2e9, 20e9]
    assert runs.loss.tolist() == [3.1, 2.9, 4.0, 3.0]


def test_unparseable_number_names_column_rows_values():
    df = pd.DataFrame({"params": ["70M", "lots", "1.3B", "??"], "tokens": [1e9] * 4, "loss": [3.0] * 4})
    with pytest.raises(ScalefitInputError, match=r"column 'params' \(used as n_params\).*rows 1 and 3.*2 non-numeric.*values found: 'lots', '\?\?'") as info:
        read_runs(df)
    assert info.value.column == "params" and info.value.rows == [1, 3]


# ------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "column, value, kind",
    [
        ("n_params", np.nan, "missing"),
        ("n_tokens", np.inf, "infinite"),
        ("flops", -1.0, "zero or negative"),
        ("loss", 0.0, "zero or negative"),
        ("loss", "abc", "non-numeric"),
        ("n_params", None, "missing"),
    ],
)
def test_invalid_values_raise(column, value, kind):
    df = _frame().astype({column: object})
    df.loc[3, column] = value
    with pytest.raises(ScalefitInputError, match=rf"column '{column}' must hold finite numbers > 0, but row 3 do(es)? not \(1 {kind}") as info:
        read_runs(df)
    assert info.value.column == column and info.value.rows == [3]
    assert "nan_policy='omit'" in str(info.value)


def test_many_invalid_rows_listed_with_count():
    df = _frame(30)
    df.loc[5:, "loss"] = np.nan
    with pytest.raises(ScalefitInputError, match=r"rows 5, 6, .*, 14, \.\.\. \(25 rows in all\)"):
        read_runs(df)


def test_omit_excludes_and_records_every_row():
    df = _frame(8)
    df["loss"] = df["loss"].astype(object)
    df.loc[1, "loss"] = np.nan
    df.loc[4, "n_params"] = -5
    df.loc[6, "loss"] = "junk"
    df.loc[6, "n_tokens"] = np.inf
    with pytest.warns(ExcludedRowsWarning, match=r"excluded 3 row\(s\) \(rows 1, 4 and 6\)"):
        runs = read_runs(df, nan_policy="omit")
    assert runs.table["row"].tolist() == [0, 2, 3, 5, 7]
    ex = runs.excluded
    assert ex["row"].tolist() == [1, 4, 6]
    assert ex["reason"].tolist() == [
        "loss is missing (NaN)",
        "n_params is not positive",
        "n_tokens is infinite; loss is not a number",
    ]
    assert ex.loc[2, "loss"] == "junk" and ex.loc[1, "n_params"] == -5  # original values kept
    assert ex.loc[0, "family"] == "f1"
    assert {"row": 6, "reason": "n_tokens is infinite; loss is not a number"} in runs.summary().to_dict()["excluded"]


def test_omit_everything_invalid_is_an_error():
    df = _frame(3).assign(loss=np.nan)
    with pytest.raises(ScalefitInputError, match="every one of the 3 rows .* is invalid"):
        read_runs(df, nan_policy="omit")


def test_derived_value_overflow_is_caught():
    df = pd.DataFrame({"n_params": [1e200, 1e8], "n_tokens": [1e200, 1e9], "loss": [3.0, 3.0]})
    with pytest.raises(ScalefitInputError, match="derived column 'flops'.*1 infinite"):
        read_runs(df)
    with pytest.warns(ExcludedRowsWarning, match="derived flops"):
        runs = read_runs(df, nan_policy="omit")
    assert runs.excluded["row"].tolist() == [0]


# ------------------------------------------------------------- duplicates
def test_duplicates_kept_and_reported():
    df = pd.concat([_frame(4), _frame(4).iloc[[1]], _frame(4).iloc[[1]]], ignore_index=True)
    with pytest.warns(DuplicateRowsWarning, match=r"2 row\(s\) exactly duplicate an earlier row \(row 4 = row 1, row 5 = row 1\); they are kept"):
        runs = read_runs(df)
    assert len(runs) == 6
    assert runs.duplicate_rows == (4, 5)
    assert runs.duplicates.to_dict("list") == {"row": [4, 5], "duplicate_of": [1, 1]}
    assert "duplicates: 2 exact duplicate row(s): row 4 = row 1, row 5 = row 1" in str(runs.summary())


def test_drop_duplicates_moves_them_to_excluded():
    df = pd.concat([_frame(4), _frame(4).iloc[[2]]], ignore_index=True)
    with pytest.warns(DuplicateRowsWarning, match="were excluded"), pytest.warns(ExcludedRowsWarning):
        runs = read_runs(df, drop_duplicates=True)
    assert len(runs) == 4
    assert runs.excluded[["row", "reason"]].to_dict("records") == [{"row": 4, "reason": "exact duplicate of row 2"}]
    assert runs.duplicate_rows == (4,)


def test_near_duplicates_are_not_duplicates(quiet):
    df = pd.concat([_frame(3), _frame(3).iloc[[0]].assign(family="other")], ignore_index=True)
    assert read_runs(df).duplicate_rows == ()


# ------------------------------------------------------------- heuristics
def test_units_warnings():
    df = _frame().assign(n_params=lambda d: d["n_params"] / 1e6, flops=None).drop(columns="flops")
    with pytest.warns(UnitsWarning, match="were params given in millions"):
        read_runs(df)
    with pytest.warns(UnitsWarning, match="perplexity"):
        read_runs(_frame().assign(loss=lambda d: np.exp(d["loss"]) * 2))


def test_bits_converted_to_nats(quiet):
    df = _frame()
    runs = read_runs(df, loss_unit="bits")
    np.testing.assert_allclose(runs.loss, df["loss"] * math.log(2))
    assert "loss converted from bits to nats (multiplied by ln 2)" in runs.notes


# -------------------------------------------------------- training curves
def _curves() -> pd.DataFrame:
    rows = []
    for model, n in (("s", 1e8), ("m", 3e8)):
        for lr in (1e-3, 2e-3):
            for step in (100, 200, 300):
                rows.append({"model": model, "lr": lr, "N": n, "D": step * 1e6, "iteration": step, "loss": 4 - step / 1000 - n / 1e9})
    return pd.DataFrame(rows)


def test_run_id_list_makes_string_key_and_keeps_columns(quiet):
    runs = read_runs(_curves(), run_id=["model", "lr"])
    assert runs.has_curves and runs.n_runs == 4
    assert runs.table["run"].iloc[0] == "s|0.001"
    assert {"model", "lr"} <= set(runs.table.columns)
    assert runs.table["step"].tolist()[:3] == [100, 200, 300]
    assert runs.column_map["iteration"] == "step"
    assert runs.run_id == ("model", "lr")


def test_step_from_token_order_when_absent(quiet):
    df = _curves().drop(columns="iteration").iloc[::-1].reset_index(drop=True)
    runs = read_runs(df, run_id="model")  # one id column: runs 's' and 'm'
    assert runs.n_runs == 2
    first = runs.table[runs.table["run"] == "m"]
    order = np.argsort(first["n_tokens"].to_numpy(), kind="stable")
    assert first["step"].to_numpy()[order].tolist() == [0, 1, 2, 3, 4, 5]


def test_step_argument(quiet):
    df = _curves().rename(columns={"iteration": "ckpt"})
    runs = read_runs(df, run_id=["model", "lr"], step="ckpt")
    assert runs.column_map["ckpt"] == "step"
    with pytest.raises(ScalefitInputError, match=r"step names column\(s\) 'nope'"):
        read_runs(df, step="nope")
    with pytest.raises(ScalefitInputError, match="disagree"):
        read_runs(df, step="ckpt", columns={"lr": "step"})


def test_run_id_errors():
    with pytest.raises(ScalefitInputError, match=r"run_id names column\(s\) 'seed' that the input does not have\. Available columns: 'model'"):
        read_runs(_curves(), run_id=["model", "seed"])
    with pytest.raises(ScalefitInputError, match="run_id is empty"):
        read_runs(_curves(), run_id=[])
    df = _curves().astype({"model": object})
    df.loc[2, "model"] = None
    with pytest.raises(ScalefitInputError, match=r"column 'model, lr' \(used as run\) must hold non-missing"):
        read_runs(df, run_id=["model", "lr"])
    with pytest.warns(ExcludedRowsWarning, match="run id"):
        assert len(read_runs(df, run_id=["model", "lr"], nan_policy="omit")) == 11


def test_negative_step_refused():
    df = _curves()
    df.loc[0, "iteration"] = -1
    with pytest.raises(ScalefitInputError, match=r"column 'iteration' \(used as step\) must hold finite numbers >= 0"):
        read_runs(df, run_id=["model", "lr"])


def test_final_keeps_last_checkpoint(quiet):
    df = _curves()
    # a tie on step is broken by n_tokens
    df = pd.concat([df, df.iloc[[2]].assign(D=301e6, loss=1.0)], ignore_index=True)
    runs = read_runs(df, run_id=["model", "lr"])
    final = runs.final()
    assert final.n_runs == 4 and len(final) == 4 and final.has_curves
    assert final.table["step"].tolist() == [300] * 4
    assert final.table["row"].tolist() == [5, 8, 11, 12]
    assert final.final().table.equals(final.table)


def test_final_without_curves_is_self(quiet):
    runs = read_runs(_frame())
    assert runs.final() is runs and not runs.has_curves and runs.n_runs == 6


def test_run_column_alias(quiet):
    df = _curves().assign(run=lambda d: d["model"] + "-" + d["lr"].astype(str))
    runs = read_runs(df)
    assert runs.n_runs == 4 and runs.run_id == ("run",)
    assert "run_input" not in runs.table.columns


def test_step_without_run_id_is_kept(quiet):
    with pytest.warns(scalefit.CurvesWarning, match="no run id was given"):
        runs = read_runs(_curves())
    assert "step" in runs.table.columns and not runs.has_curves


# ------------------------------------------------------ Runs API contract
def test_subset_and_replace_keep_metadata():
    df = pd.concat([_frame(4), _frame(4).iloc[[1]]], ignore_index=True)
    with pytest.warns(DuplicateRowsWarning):
        runs = read_runs(df.drop(columns="flops"))
    sub = runs.subset(runs.table["row"] != 4)
    assert len(sub) == 4 and sub.derived == ("flops",) and sub.duplicate_rows == () and sub.duplicate_of == {}
    assert sub.column_map == runs.column_map and sub.source == runs.source
    with pytest.raises(ScalefitInputError, match="mask has shape"):
        runs.subset([True])


def test_summary_text_and_dict(quiet):
    runs = read_runs(_frame().rename(columns={"n_params": "Model Size"}).drop(columns="n_tokens"))
    summary = runs.summary()
    text = str(summary)
    assert "6 rows, 6 runs" in text and "'Model Size' -> n_params" in text
    assert "derived: n_tokens (from flops = 6 * n_params * n_tokens)" in text
    assert "excluded: none" in text and "duplicates: none" in text
    d = summary.to_dict()
    assert {"n_rows", "n_runs", "columns", "excluded", "derived", "duplicates", "ranges"} <= set(d)
    assert d["n_rows"] == 6 and d["derived"] == ["n_tokens"] and d["columns"]["Model Size"] == "n_params"
    assert d["ranges"]["n_params"]["min"] == pytest.approx(runs.n_params.min())
    json.dumps(d)  # plain JSON types
    assert runs.to_dict() == d
    assert repr(runs).startswith("Runs(n_rows=6")


def test_public_import():
    assert scalefit.read_runs is read_runs and scalefit.Runs is Runs


# ----------------------------------------------------------- real datasets
def test_chinchilla_replication(chinchilla_csv, quiet):
    # Besiroglu et al. (2024), epoch-research/analyzing-chinchilla@9225883: 245 rows, D = C / (6 N)
    runs = read_runs(chinchilla_csv)
    assert len(runs) == 245 and runs.derived == ("n_tokens",)
    assert runs.column_map == {"Model Size": "n_params", "Training FLOP": "flops", "loss": "loss"}
    np.testing.assert_allclose(runs.n_tokens, runs.flops / (6 * runs.n_params))
    assert runs.duplicate_rows == () and len(runs.excluded) == 0


def test_porian_isoflop_points(porian_dir, quiet):
    # Porian et al. (2024), formll/resolving-scaling-law-discrepancies@0dc60d9: 1,745 rows, C = 6 N D
    runs = read_runs(porian_dir / "isoflop_points.csv")
    assert len(runs) == 1745 and runs.derived == ()
    assert runs.column_map == {"n_params": "n_params", "tokens": "n_tokens", "flops": "flops", "loss": "loss"}
    assert {"dataset", "hparams", "warmup", "decay", "param_count", "loss_split"} <= set(runs.table.columns)


def test_li_curves(li_csv):
    # Li, Kudugunta and Zettlemoyer (2025), hadasah/scaling_laws@1f3708c: 4,852 checkpoints, 240 runs, 2 duplicates
    with pytest.warns(DuplicateRowsWarning, match=r"2 row\(s\) exactly duplicate") as record:
        runs = read_runs(li_csv, run_id=["model", "peak_lr", "sweep", "total_steps"])
        # this run id leaves out total_epochs, so runs of 2 and 10 epochs share a key: the same
        # checkpoint (step and tokens) appears twice with different losses, which is said
    assert {w.category for w in record} == {DuplicateRowsWarning, scalefit.RepeatedStepsWarning}
    # those runs repeat even their first checkpoint, which a resumed run never does: the message names the run id
    assert any("59 of 4850 rows repeat a step within their run (15 run(s)" in str(w.message)
               and "the run id joins several runs" in str(w.message) for w in record)
    assert len(runs) == 4852 and runs.n_runs == 240
    assert len(runs.duplicate_rows) == 2 and len(runs.excluded) == 0
    assert "2 exact duplicate row(s)" in str(runs.summary())
    assert len(runs.summary().to_dict()["duplicates"]) == 2
    assert runs.column_map == {"N": "n_params", "D": "n_tokens", "C": "flops", "loss": "loss", "current_steps": "step"}
    assert runs.table["run"].iloc[0].startswith("misfitting_35m|0.002|")
    final = runs.final()
    assert len(final) == 240
    np.testing.assert_allclose(final.table["portion_steps_elapsed"], 1.0, atol=0.03)


def test_experiment_tracker_prefixes():
    # MLflow's runs export names logged values metrics.<name> / params.<name>
    df = pd.DataFrame({"params.num_params": [1e8, 2e8, 4e8], "params.tokens": [2e9, 4e9, 8e9],
                       "metrics.val_loss": [3.1, 2.9, 2.7]})
    runs = read_runs(df)
    assert runs.column_map == {"params.num_params": "n_params", "params.tokens": "n_tokens", "metrics.val_loss": "loss"}
    np.testing.assert_allclose(runs.loss, [3.1, 2.9, 2.7])
    # a column matching an alias directly wins over a tracker-prefixed one
    df = pd.DataFrame({"loss": [3.1, 2.9, 2.7], "metrics.val_loss": [3.0, 3.0, 3.0], "N": [1e8, 2e8, 4e8], "D": [2e9, 4e9, 8e9]})
    runs = read_runs(df)
    assert runs.column_map["loss"] == "loss"
    assert "metrics.val_loss" in runs.table.columns  # kept as an ordinary column


def test_step_column_without_run_id_warns():
    # a W&B history export: several runs' checkpoints, with a step column but no run id given
    df = pd.DataFrame({"Name": ["a"] * 3 + ["b"] * 3, "_step": [1, 2, 3] * 2, "config.n_params": [1e8] * 3 + [2e8] * 3,
                       "tokens_seen": [1e9, 2e9, 3e9] * 2, "eval/loss": [3.5, 3.3, 3.2, 3.4, 3.2, 3.1]})
    with pytest.warns(scalefit.CurvesWarning, match="no run id was given"):
        runs = read_runs(df, columns={"tokens_seen": "n_tokens"})
    assert runs.n_runs == 6  # nothing changed silently: each row is still its own run
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.CurvesWarning)
        assert read_runs(df, columns={"tokens_seen": "n_tokens"}, run_id="Name").n_runs == 2


def test_bundled_synthetic_data_by_name(quiet):
    runs = read_runs("synthetic:isoflop")
    assert len(runs) == 72 and runs.source == "synthetic:isoflop"
    assert read_runs(scalefit.datasets.synthetic_path("isoflop")).table["loss"].equals(runs.table["loss"])
    curves = read_runs("synthetic:curves")
    assert curves.n_runs == 30 and len(curves) == 900
    with pytest.raises(ScalefitInputError, match=r"unknown bundled data set 'synthetic:nope'; use one of "
                                                 r"'synthetic:isoflop', 'synthetic:curves'") as info:
        read_runs("synthetic:nope")
    assert info.value.values == ["synthetic:nope"]


def test_missing_column_errors_suggest_a_columns_option():
    from scalefit._errors import Option

    with pytest.raises(ScalefitInputError, match=r"Map yours with columns=\{'<name>': 'loss'\}") as info:
        read_runs([{"a": 1.0, "b": 2.0, "c": 3.0}])
    assert info.value.column == "loss"
    assert info.value.options == (Option("columns", "{'<name>': 'loss'}"),)
    with pytest.raises(ScalefitInputError, match="run_id repeats a column") as info:
        read_runs(_frame().assign(run="a"), run_id=["run", "run"])
    assert info.value.option == "run_id" and info.value.values == ["run"]


def test_summary_names_final_points_that_share_n_and_d_but_not_the_loss():
    """Two rows at one (N, D) with different losses are not exact duplicates: the summary still names them."""
    import pandas as pd

    runs = scalefit.read_runs(pd.DataFrame({"n_params": [1e8, 1e8, 2e8, 4e8], "n_tokens": [2e9, 2e9, 4e9, 8e9],
                                            "loss": [3.1, 3.3, 2.9, 2.7]}))
    summary = runs.summary()
    assert summary.repeated == [[0, 1]] and summary.to_dict()["repeated"] == [[0, 1]]
    assert "repeated (N, D): 1 configuration(s)" in str(summary) and "rows 0 and 1" in str(summary)
    same = scalefit.read_runs(pd.DataFrame({"n_params": [1e8, 2e8], "n_tokens": [2e9, 4e9], "loss": [3.1, 2.9]}))
    assert same.summary().repeated == [] and "repeated" not in str(same.summary())


def test_a_run_id_that_joins_runs_is_named_as_the_cause_of_repeated_steps():
    """A QA report: --run-id model,lr (leaving out the sweep) made most rows repeat a step, and the warning blamed
    resumed runs; a few repeats still read as a resumed run."""
    steps = np.arange(1, 11)
    one = pd.DataFrame({"model": "m", "seed": 0, "step": steps, "n_params": 1e8, "n_tokens": steps * 1e9,
                        "loss": 4.0 - 0.1 * steps})
    joined = pd.concat([one, one.assign(seed=1, loss=one["loss"] + 0.01)], ignore_index=True)
    with pytest.warns(scalefit.RepeatedStepsWarning, match=r"20 of 20 rows repeat .*repeat even their first step, so "
                                                           r"the run id joins several runs"):
        read_runs(joined, run_id=["model"])
    resumed = pd.concat([one, one.tail(1).assign(loss=3.05)], ignore_index=True)
    with pytest.warns(scalefit.RepeatedStepsWarning, match=r"2 rows repeat a step .* a resumed run logs"):
        read_runs(resumed, run_id=["model"])
