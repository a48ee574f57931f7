"""How long reading runs from MLflow and TensorBoard takes, against the plain client loops people write today.

MLflow: starts ``mlflow server`` on 127.0.0.1 (a free port, SQLite store in a temporary folder), times its
start-up (until /health answers), logs N runs with curves (100 train/loss and tokens points, 10 eval/loss
points each), then times ``read_runs("mlflow://...")`` against the loop a user writes with MlflowClient
(search_runs, then get_metric_history of the two metrics of every run, one after the other, into a
DataFrame), and ``read_mlflow(..., history=False)`` against ``mlflow.search_runs`` (a DataFrame of last
values).  TensorBoard: writes N runs of event files and times ``read_tensorboard`` against an
EventAccumulator loop.  BLAS threads are pinned to 1 on every side (threadpoolctl); medians of --repeats.

    python benchmarks/bench_trackers.py --runs 20 --repeats 5

Needs the test extra (mlflow, tensorboard).  Results in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import scalefit

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28  # Hoffmann et al. (2022) Eq. 10


def chinchilla(n, d):
    return E + A / np.asarray(n, float) ** ALPHA + B / np.asarray(d, float) ** BETA


def paired_times(ours, theirs, repeats):
    """Median seconds of each, the two alternating within every repeat (the machine's load changes under both alike)."""
    ours(), theirs()  # warm up: imports, connections
    times: tuple[list, list] = ([], [])
    outs = [None, None]
    for _ in range(repeats):
        for k, fn in enumerate((ours, theirs)):
            t = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - t)
    return statistics.median(times[0]), statistics.median(times[1]), outs[0], outs[1]


def start_server(folder: Path) -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--default-artifact-root", str(folder / "art")],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while time.perf_counter() - started < 300:
        if proc.poll() is not None:
            raise SystemExit(f"mlflow server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(uri + "/health", timeout=2):
                return proc, uri, time.perf_counter() - started
        except OSError:
            time.sleep(0.25)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("mlflow server did not answer within 300 s")


def log_runs(uri: str, n_runs: int) -> float:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    t = time.perf_counter()
    exp = client.create_experiment("sweep")
    for i, n in enumerate(np.geomspace(5e7, 2e9, n_runs)):
        run = client.create_run(exp, run_name=f"run-{i}")
        steps = np.arange(10, 1001, 10)
        tokens = steps * n * 0.02
        metrics = [Metric("train/loss", float(chinchilla(n, d) + 0.05), int(s), int(s)) for s, d in zip(steps, tokens)]
        metrics += [Metric("tokens", float(d), int(s), int(s)) for s, d in zip(steps, tokens)]
        metrics += [Metric("eval/loss", float(chinchilla(n, d)), int(s), int(s)) for s, d in zip(steps, tokens) if s % 100 == 0]
        client.log_batch(run.info.run_id, metrics=metrics, params=[Param("num_params", repr(float(n)))])
        client.set_terminated(run.info.run_id)
    return time.perf_counter() - t


def client_loop(uri: str) -> pd.DataFrame:
    """What a user writes today: search the runs, then fetch each curve one request at a time."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("sweep")
    rows = []
    for run in client.search_runs([exp.experiment_id]):
        loss = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "eval/loss")}
        tokens = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "tokens")}
        n = float(run.data.params["num_params"])
        rows += [{"run": run.info.run_id, "step": s, "n_params": n, "n_tokens": tokens[s], "loss": v} for s, v in loss.items()]
    return pd.DataFrame(rows)


def write_tensorboard(logdir: Path, n_runs: int) -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for i, n in enumerate(np.geomspace(5e7, 2e9, n_runs)):
        w = EventFileWriter(str(logdir / f"run-{i}"))
        w.add_event(Event(wall_time=1.7e9, step=0, summary=summary_v2.hparams_pb({"n_params": float(n)})))
        for s in range(10, 1001, 10):
            d = s * n * 0.02
            vals = [Summary.Value(tag="train/loss", simple_value=float(chinchilla(n, d) + 0.05)),
                    Summary.Value(tag="tokens", simple_value=float(d))]
            if s % 100 == 0:
                vals.append(Summary.Value(tag="eval/loss", simple_value=float(chinchilla(n, d))))
            w.add_event(Event(wall_time=1.7e9 + s, step=s, summary=Summary(value=vals)))
        w.close()


def accumulator_loop(logdir: Path) -> pd.DataFrame:
    from tensorboard.backend.event_processing import event_accumulator as ea

    rows = []
    for folder in sorted(p for p in logdir.iterdir() if p.is_dir()):
        acc = ea.EventAccumulator(str(folder), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
        acc.Reload()
        tokens = {e.step: e.value for e in acc.Scalars("tokens")}
        rows += [{"run": folder.name, "step": e.step, "n_tokens": tokens[e.step], "loss": e.value} for e in acc.Scalars("eval/loss")]
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-mlflow", action="store_true")
    args = ap.parse_args()
    threadpool_limits(1)
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        logdir = folder / "tb"
        write_tensorboard(logdir, args.runs)
        t_ours, t_loop, ours, loop = paired_times(lambda: scalefit.read_tensorboard(logdir),
                                                  lambda: accumulator_loop(logdir), args.repeats)
        assert len(ours.table) == len(loop) == 10 * args.runs
        print(f"TensorBoard, {args.runs} runs x 100 steps: read_tensorboard {t_ours:.3f} s, "
              f"EventAccumulator loop {t_loop:.3f} s (ratio {t_ours / t_loop:.2f})")
        if args.skip_mlflow:
            return
        proc, uri, startup = start_server(folder)
        try:
            print(f"mlflow server start-up (to /health): {startup:.1f} s")
            print(f"logging {args.runs} runs (210 metric values each, one log_batch per run): {log_runs(uri, args.runs):.1f} s")
            address = uri.replace("http://", "mlflow://") + "/sweep"
            t_ours, t_loop, ours, loop = paired_times(lambda: scalefit.read_runs(address), lambda: client_loop(uri),
                                                      args.repeats)
            assert len(ours.table) == len(loop) == 10 * args.runs
            pd.testing.assert_series_equal(ours.table.sort_values(["run", "step"])["loss"].reset_index(drop=True),
                                           loop.sort_values(["run", "step"])["loss"].reset_index(drop=True))
            print(f"MLflow curves: read_runs {t_ours:.3f} s, client loop {t_loop:.3f} s (ratio {t_ours / t_loop:.2f})")
            import mlflow

            mlflow.set_tracking_uri(uri)
            t_ours, t_loop, _, _ = paired_times(lambda: scalefit.read_mlflow(uri, "sweep", history=False),
                                                lambda: mlflow.search_runs(experiment_names=["sweep"]), args.repeats)
            print(f"MLflow last values: read_mlflow(history=False) {t_ours:.3f} s, mlflow.search_runs {t_loop:.3f} s "
                  f"(ratio {t_ours / t_loop:.2f})")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
