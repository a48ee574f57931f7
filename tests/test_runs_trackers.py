"""Runs from where they live: course-assignment JSON, W&B run tables, history and chart-panel exports,
pyarrow / polars tables, standard input, and repeated steps (scalefit/runs/_trackers.py, _read.py).

Every file here is written by the test in the layout the tool itself writes.  The losses come from the
Chinchilla law with Hoffmann et al. (2022) Approach 3 parameters (E=1.69, A=406.4, B=410.7,
alpha=0.34, beta=0.28; their Eq. 10), so the numbers read back can be checked exactly.
"""
from __future__ import annotations

import io
import json
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import scalefit
from scalefit.cli import main

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28


def chinchilla(n, d):
    return E + A / np.asarray(n, float) ** ALPHA + B / np.asarray(d, float) ** BETA


# --------------------------------------------------------------- course-assignment JSON
def course_records():
    """The format of data/isoflops_curves.json in the Stanford CS336 scaling-laws assignment:
    [{"parameters", "compute_budget", "final_loss"}], nine budgets 6e18 .. 3e21, several sizes each."""
    rng = np.random.default_rng(0)
    out = []
    for budget in (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21):
        for n in np.geomspace(budget ** 0.5 / 60, budget ** 0.5 / 3, 7):
            d = budget / (6 * n)
            out.append({"parameters": int(n), "compute_budget": budget,
                        "final_loss": float(chinchilla(n, d) + rng.normal(0, 0.003))})
    return out


def test_course_assignment_json_needs_no_columns(tmp_path, capsys):
    path = tmp_path / "isoflops_curves.json"
    path.write_text(json.dumps(course_records(), indent=2))
    runs = scalefit.read_runs(path)
    assert runs.column_map == {"parameters": "n_params", "compute_budget": "flops", "final_loss": "loss"}
    assert runs.derived == ("n_tokens",)
    assert main(["isoflop", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    text = json.dumps(out)
    assert "exponent" in text or "a" in out  # an IsoFLOP result, not an error
    res = scalefit.isoflop(runs)
    # N* ~ C^a with a = beta / (alpha + beta) = 0.4516 for these parameters (Hoffmann et al. 2022, Eq. 4)
    assert abs(res.a - BETA / (ALPHA + BETA)) < 0.05


# --------------------------------------------------------------- W&B run table
def run_table() -> pd.DataFrame:
    """A W&B "Export as CSV" of the runs table: Name/State/... then config and summary keys, with a
    nested config value as a JSON string, plus the API-script style 'config'/'summary' dict columns."""
    rows = []
    for i, n in enumerate(np.geomspace(7e7, 2.8e9, 12)):
        d = 20 * n * (1.3 if i % 2 else 0.7)
        summary = {"eval/loss": float(chinchilla(n, d)), "_step": int(d // 2e6), "_runtime": 3600.0 * (i + 1)}
        config = {"model": {"d_model": 512 * (i + 1), "n_layers": 8}, "num_params": float(n),
                  "tokens": float(d), "lr": {"value": 3e-4}}
        rows.append({"Name": f"chinchilla-{i:02d}", "State": "finished", "Notes": "-", "User": "ana",
                     "Tags": "sweep", "Created": "2024-05-01T10:00:00.000Z", "Runtime": 3600 * (i + 1),
                     "Sweep": "", "summary": repr(summary), "config": json.dumps(config)})
    return pd.DataFrame(rows)


def test_wandb_run_table_csv_flattens_json_columns(tmp_path):
    path = tmp_path / "wandb_export_2024-05-01.csv"
    table = run_table()
    table.to_csv(path, index=False)
    runs = scalefit.read_runs(path)
    assert runs.column_map == {"config.num_params": "n_params", "config.tokens": "n_tokens",
                               "summary.eval/loss": "loss", "summary._step": "step"}
    assert runs.run_id == ("Name",)
    assert any("flattened" in n for n in runs.notes)
    assert "config.model.d_model" in runs.table.columns and "config.lr" in runs.table.columns
    n = np.geomspace(7e7, 2.8e9, 12)
    np.testing.assert_allclose(runs.table["n_params"], n, rtol=1e-12)
    d = runs.table["n_tokens"].to_numpy()
    np.testing.assert_allclose(runs.table["loss"], chinchilla(n, d), rtol=1e-12)
    fit = scalefit.fit(runs.final())
    assert fit.n_runs == 12


# --------------------------------------------------------------- W&B history export
def history_export() -> pd.DataFrame:
    """``pd.concat(run.history() for run in runs)`` written to CSV: train/loss every 10 steps, eval/loss
    every 100 (the rows between carry no eval loss), tokens and the parameter count logged each row."""
    rows = []
    for i, n in enumerate((7e7, 1.6e8, 4e8)):
        for step in range(0, 1001, 10):
            tokens = (step + 1) * 5e5 * (i + 1)
            row = {"Name": f"run-{i}", "_step": step, "_runtime": step * 1.5, "_timestamp": 1.7e9 + step,
                   "train/loss": float(chinchilla(n, tokens) + 0.05), "tokens": tokens, "parameters": n,
                   "eval/loss": float(chinchilla(n, tokens)) if step % 100 == 0 else np.nan}
            rows.append(row)
    return pd.DataFrame(rows)


def test_wandb_history_keeps_the_rows_with_loss_and_stays_quiet(tmp_path, capsys):
    path = tmp_path / "history.csv"
    frame = history_export()
    frame.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = scalefit.read_runs(path)
    assert runs.column_map["eval/loss"] == "loss" and runs.column_map["_step"] == "step"
    assert len(runs.table) == 3 * 11  # steps 0, 100, ..., 1000 of each run carry eval/loss
    assert len(runs.excluded) == len(frame) - 33
    assert set(runs.excluded["reason"]) == {"no loss logged on this row (W&B history: other metrics at this step)"}
    assert any("W&B history export" in n for n in runs.notes)
    assert not [w for w in caught if issubclass(w.category, scalefit.ExcludedRowsWarning)]
    kept = frame[frame["eval/loss"].notna()]
    np.testing.assert_array_equal(runs.table["loss"].to_numpy(), kept["eval/loss"].to_numpy())
    np.testing.assert_array_equal(runs.table["row"].to_numpy(), kept.index.to_numpy())
    assert main(["inspect", str(path)]) == 0
    err = capsys.readouterr().err
    assert len(err.splitlines()) < 10, err


def test_history_with_no_loss_at_all_is_refused(tmp_path):
    frame = history_export().drop(columns=["eval/loss", "train/loss"]).assign(loss=np.nan)
    path = tmp_path / "history.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(scalefit.ScalefitInputError, match="logs no value of the loss column 'loss'"):
        scalefit.read_runs(path)


# --------------------------------------------------------------- W&B chart-panel CSV
def chart_panel() -> pd.DataFrame:
    """W&B "Export panel data" CSV of a panel plotting eval/loss, tokens and params of three runs:
    Step, then "<run> - <metric>" with "__MIN" / "__MAX" smoothing bands; shorter runs end in empty cells."""
    out: dict = {"Step": np.arange(0, 1001, 100)}
    for i, n in enumerate((7e7, 1.6e8, 4e8)):
        name = f"chinchilla-{int(n / 1e6)}m"
        last = 1000 - 300 * i
        tokens = (out["Step"] + 1) * 1e6
        loss = np.where(out["Step"] <= last, chinchilla(n, tokens), np.nan)
        out[f"{name} - eval/loss"] = loss
        out[f"{name} - eval/loss__MIN"] = loss - 0.01
        out[f"{name} - eval/loss__MAX"] = loss + 0.01
        out[f"{name} - tokens"] = np.where(out["Step"] <= last, tokens, np.nan)
        out[f"{name} - params"] = np.where(out["Step"] <= last, n, np.nan)
    return pd.DataFrame(out)


def test_chart_panel_csv_is_melted(tmp_path):
    path = tmp_path / "panel.csv"
    chart_panel().to_csv(path, index=False)
    runs = scalefit.read_runs(path)
    assert set(runs.table["run"]) == {"chinchilla-70m", "chinchilla-160m", "chinchilla-400m"}
    assert len(runs.table) == 11 + 8 + 5
    assert runs.column_map == {"params": "n_params", "tokens": "n_tokens", "eval/loss": "loss", "Step": "step"}
    assert any("chart panel" in n and "band columns" in n for n in runs.notes)
    one = runs.table[runs.table["run"] == "chinchilla-160m"].sort_values("step")
    np.testing.assert_allclose(one["loss"], chinchilla(1.6e8, (np.arange(0, 701, 100) + 1) * 1e6), rtol=1e-12)
    env = scalefit.envelope(runs)
    assert env is not None


# --------------------------------------------------------------- tables from other libraries
def small_table() -> dict:
    n = np.geomspace(1e8, 1e9, 6)
    d = 20 * n
    return {"n_params": n, "n_tokens": d, "loss": chinchilla(n, d)}


def test_pyarrow_table():
    pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra; absent here")
    data = small_table()
    runs = scalefit.read_runs(pa.table(data))
    np.testing.assert_array_equal(runs.table["loss"].to_numpy(), data["loss"])
    assert runs.source == "pyarrow Table"


def test_polars_frame():
    pl = pytest.importorskip("polars", reason="polars is optional and not installed")
    data = small_table()
    runs = scalefit.read_runs(pl.DataFrame(data))
    np.testing.assert_array_equal(runs.table["loss"].to_numpy(), data["loss"])
    assert runs.source == "polars DataFrame"


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_stdin(monkeypatch, capsys, fmt):
    frame = pd.DataFrame(small_table())
    records = frame.to_dict(orient="records")
    text = {"csv": frame.to_csv(index=False), "json": json.dumps(records),
            "jsonl": "\n".join(json.dumps(r) for r in records) + "\n"}[fmt]
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    runs = scalefit.read_runs("-")
    np.testing.assert_allclose(runs.table["loss"].to_numpy(), frame["loss"].to_numpy(), rtol=1e-12)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["inspect", "-"]) == 0
    assert "6" in capsys.readouterr().out


def test_empty_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))
    with pytest.raises(scalefit.ScalefitInputError, match="standard input is empty"):
        scalefit.read_runs("-")


# --------------------------------------------------------------- repeated steps
def test_repeated_steps_within_a_run_warn():
    rows = []
    for step in (0, 100, 200, 300):
        rows.append({"run": "a", "step": step, "n_params": 1e8, "n_tokens": (step + 1) * 1e6,
                     "loss": float(chinchilla(1e8, (step + 1) * 1e6))})
    # resumed from step 200: steps 200 and 300 logged again with slightly different losses
    for step in (200, 300):
        rows.append({"run": "a", "step": step, "n_params": 1e8, "n_tokens": (step + 1) * 1e6,
                     "loss": float(chinchilla(1e8, (step + 1) * 1e6)) + 0.01})
    with pytest.warns(scalefit.RepeatedStepsWarning, match=r"4 rows repeat a step within their run .*run 'a' step 200 \(rows 2 and 4\)"):
        runs = scalefit.read_runs(rows)
    assert len(runs.table) == 6  # warned, never dropped


def test_distinct_steps_do_not_warn():
    rows = [{"run": "a", "step": s, "n_params": 1e8, "n_tokens": (s + 1) * 1e6, "loss": 3.0 - s / 1e4}
            for s in (0, 1, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalefit.RepeatedStepsWarning)
        scalefit.read_runs(rows)


# --------------------------------------------------------------- MLflow / TensorBoard without their extras
# (the readers themselves: tests/test_runs_mlflow.py and tests/test_runs_tensorboard.py)
@pytest.mark.parametrize("text, match", [
    ("mlflow://127.0.0.1:5000", "names no experiment"),
    ("mlflow:///sweep", "names no server"),
    ("mlflow://127.0.0.1:5000/sweep?filtr=x", "unknown query key"),
    ("mlflow://127.0.0.1:5000/sweep?history=maybe", "history=true or history=false"),
])
def test_malformed_addresses(text, match):
    with pytest.raises(scalefit.ScalefitInputError, match=match):
        scalefit.read_runs(text)


def test_mlflow_address_without_the_client_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(scalefit.ScalefitInputError, match=r"pip install 'scalefit\[mlflow\]'"):
        scalefit.read_runs("mlflow://127.0.0.1:5000/sweep")


def test_tensorboard_folder_without_the_package_says_how_to_install(monkeypatch, tmp_path):
    (tmp_path / "logs" / "run-a").mkdir(parents=True)
    (tmp_path / "logs" / "run-a" / "events.out.tfevents.1700000000.host").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing", None)
    with pytest.raises(scalefit.ScalefitInputError, match=r"pip install 'scalefit\[tensorboard\]'"):
        scalefit.read_runs(tmp_path / "logs")
