"""Runs read back from a real MLflow tracking server (scalefit/runs/_mlflow.py, _tracked.py).

The module starts ``mlflow server`` on 127.0.0.1 (a free port) with a SQLite store in a temporary folder,
logs 20 runs with training curves through MlflowClient, reads them back with ``read_runs`` /
``read_mlflow`` / the CLI, and stops the server (its own process group only).  The losses come from the
Chinchilla law with Hoffmann et al. (2022) Approach 3 parameters (E=1.69, A=406.4, B=410.7, alpha=0.34,
beta=0.28; their Eq. 10) plus seeded noise; MLflow stores metrics as 64-bit floats and params as text,
so the numbers read back must equal those logged exactly.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import scalefit
from scalefit.cli import main

try:  # the server needs the full mlflow distribution (mlflow-skinny is only the client)
    importlib.metadata.version("mlflow")
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient
except (importlib.metadata.PackageNotFoundError, ImportError):
    pytest.skip("the MLflow server is not installed (pip install mlflow; the test extra of scalefit has it)",
                allow_module_level=True)

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
START_TIMEOUT = 300.0  # s: measured 33 s at load 6 and 110 s at load 28 on the 2-core dev machine (bench_trackers.py)
N_RUNS = 20


def chinchilla(n, d):
    return E + A / np.asarray(n, float) ** ALPHA + B / np.asarray(d, float) ** BETA


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # the server and its uvicorn worker: the group we started
    try:
        proc.wait(timeout=5)  # a throwaway server on a temporary store: no need for a long graceful stop
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def mlflow_server(folder):
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    log = open(folder / "server.log", "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--default-artifact-root", str(folder / "artifacts")],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}:\n"
                            + (folder / "server.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"mlflow server did not answer within {START_TIMEOUT:.0f} s:\n"
                            + (folder / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.25)
        startup = time.monotonic() - started
        print(f"mlflow server answered after {startup:.1f} s")
        yield uri, port, _log_sweep(uri)
    finally:
        _stop(proc)
        log.close()


def _log_sweep(uri: str) -> dict:
    """20 runs: params num_params; metrics train/loss every 10 steps, tokens every 10, eval/loss every 100."""
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("chinchilla-sweep")
    rng = np.random.default_rng(17)
    logged = {}
    t0 = 1_700_000_000_000
    for i, n in enumerate(np.geomspace(5e7, 2e9, N_RUNS)):
        n = float(np.round(n))
        tokens_per_step = float(np.round(n * 20 / 1000 * (0.6 + 0.05 * i)))
        run = client.create_run(exp, run_name=f"chinchilla-{i:02d}", start_time=t0 + i)
        steps = np.arange(10, 1001, 10)
        tokens = steps * tokens_per_step
        train = chinchilla(n, tokens) + 0.05 + rng.normal(0, 0.01, len(steps))
        eval_steps = steps[steps % 100 == 0]
        eval_loss = chinchilla(n, eval_steps * tokens_per_step) + rng.normal(0, 0.003, len(eval_steps))
        metrics = [Metric("train/loss", float(v), t0 + int(s), int(s)) for s, v in zip(steps, train)]
        metrics += [Metric("tokens", float(v), t0 + int(s), int(s)) for s, v in zip(steps, tokens)]
        metrics += [Metric("eval/loss", float(v), t0 + int(s), int(s)) for s, v in zip(eval_steps, eval_loss)]
        client.log_batch(run.info.run_id, metrics=metrics,
                         params=[Param("num_params", repr(n)), Param("lr", "0.0003"), Param("total_tokens", repr(tokens[-1]))])
        client.set_terminated(run.info.run_id)
        logged[run.info.run_id] = {"n": n, "steps": eval_steps, "tokens": eval_steps * tokens_per_step, "loss": eval_loss}
    # a second experiment whose runs log no loss at all
    other = client.create_experiment("accuracy-only")
    run = client.create_run(other, run_name="classifier")
    client.log_batch(run.info.run_id, metrics=[Metric("accuracy", 0.9, t0, 1)], params=[Param("num_params", "1e8")])
    client.set_terminated(run.info.run_id)
    # a third whose token count is only a run parameter while the loss has a curve
    third = client.create_experiment("tokens-as-param")
    run = client.create_run(third, run_name="curve")
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 3.0 - s / 100, t0 + s, s) for s in range(5)],
                     params=[Param("num_params", "1e8"), Param("tokens", "2e9")])
    client.set_terminated(run.info.run_id)
    return logged


def _twenty_runs_with_curves_read_back_with_the_same_numbers(server):
    uri, port, logged = server
    runs = scalefit.read_runs(f"mlflow://127.0.0.1:{port}/chinchilla-sweep")
    assert runs.column_map == {"params.num_params": "n_params", "metrics.tokens": "n_tokens",
                               "metrics.eval/loss": "loss", "step": "step"}
    assert runs.run_id == ("run_id",)
    assert runs.derived == ("flops",)
    table = runs.table
    assert table["run"].nunique() == N_RUNS and len(table) == N_RUNS * 10
    assert set(table["run"]) == set(logged)
    for run_id, want in logged.items():
        got = table[table["run"] == run_id].sort_values("step")
        np.testing.assert_array_equal(got["step"].to_numpy(), want["steps"])
        np.testing.assert_array_equal(got["loss"].to_numpy(), want["loss"])  # float64 in, float64 out
        np.testing.assert_array_equal(got["n_tokens"].to_numpy(), want["tokens"])
        np.testing.assert_array_equal(got["n_params"].to_numpy(), np.full(10, want["n"]))
        assert set(got["run_name"]) == {f"chinchilla-{list(logged).index(run_id):02d}"}
        assert set(got["status"]) == {"FINISHED"}
    assert any("not read" in n and "train/loss" in n for n in runs.notes)
    # the same through read_mlflow, with a filter MLflow evaluates on the server
    five = scalefit.read_mlflow(uri, "chinchilla-sweep", filter_string="attributes.run_name LIKE 'chinchilla-0%'")
    assert five.table["run"].nunique() == 10
    fit = scalefit.fit(runs.final())  # the last checkpoint of each curve
    assert fit.n_runs == N_RUNS


def _history_false_reads_one_row_per_run(server):
    uri, port, logged = server
    runs = scalefit.read_mlflow(uri, "chinchilla-sweep", history=False)
    assert len(runs.table) == N_RUNS
    last = {rid: (w["loss"][-1], w["tokens"][-1]) for rid, w in logged.items()}
    for _, row in runs.table.iterrows():
        assert (row["loss"], row["n_tokens"]) == last[row["run_id"]]
    same = scalefit.read_runs(f"mlflow://127.0.0.1:{port}/chinchilla-sweep?history=false")
    np.testing.assert_array_equal(same.table["loss"].to_numpy(), runs.table["loss"].to_numpy())


def _cli_reads_an_mlflow_address(server, capsys):
    uri, port, _ = server
    assert main(["inspect", f"mlflow://127.0.0.1:{port}/chinchilla-sweep"]) == 0
    out = capsys.readouterr().out
    assert "200" in out


def _missing_experiment_lists_those_that_exist(server):
    uri, port, _ = server
    with pytest.raises(scalefit.ScalefitInputError, match="no experiment named 'chinchila-sweep'.*'chinchilla-sweep'"):
        scalefit.read_runs(f"mlflow://127.0.0.1:{port}/chinchila-sweep")


def _no_loss_metric_names_what_was_found(server):
    uri, port, _ = server
    with pytest.raises(scalefit.ScalefitInputError,
                       match=r"looks like the loss.*found metrics 'accuracy' and params 'num_params'.*"
                             r"columns=\{'metrics.<name>': 'loss'\}"):
        scalefit.read_mlflow(uri, "accuracy-only")


def _tokens_as_a_run_parameter_under_a_curve_is_refused(server):
    uri, _, _ = server
    with pytest.raises(scalefit.ScalefitInputError, match="n_tokens comes from 'params.tokens', one value per run"):
        scalefit.read_mlflow(uri, "tokens-as-param")


def test_a_real_mlflow_server_round_trip(tmp_path, capsys):
    """One server for every check (a module fixture would start one per xdist worker)."""
    with mlflow_server(tmp_path) as server:
        _twenty_runs_with_curves_read_back_with_the_same_numbers(server)
        _history_false_reads_one_row_per_run(server)
        _cli_reads_an_mlflow_address(server, capsys)
        _missing_experiment_lists_those_that_exist(server)
        _no_loss_metric_names_what_was_found(server)
        _tokens_as_a_run_parameter_under_a_curve_is_refused(server)


def test_unreachable_server_is_refused_quickly():
    port = _free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(scalefit.ScalefitInputError, match=f"could not reach the MLflow tracking server at http://127.0.0.1:{port}"):
        scalefit.read_runs(f"mlflow://127.0.0.1:{port}/anything")
    assert time.monotonic() - started < 15
