"""Runs read back from TensorBoard event files the test writes (scalefit/runs/_tensorboard.py, _tracked.py).

Event files are written with the tensorboard package's own EventFileWriter and summary protos (what
PyTorch's SummaryWriter and tensorboardX write: ``simple_value`` scalars and hparams-plugin summaries),
plus one run in the TF2 layout (scalars as tensors).  Losses come from the Chinchilla law with Hoffmann
et al. (2022) Approach 3 parameters (E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28; their Eq. 10).
TensorBoard stores ``simple_value`` as a 32-bit float and hparams as 64-bit, so what comes back must equal
``float32(logged)`` for scalars, and the logged float64 for hparams and float64 tensors.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalefit
from scalefit.cli import main

pytest.importorskip("tensorboard", reason="tensorboard is not installed (pip install 'scalefit[tensorboard]')")
from tensorboard.compat.proto.event_pb2 import Event  # noqa: E402
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata  # noqa: E402
from tensorboard.plugins.hparams import summary_v2 as hparams_summary  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
SIZES = np.round(np.geomspace(5e7, 2e9, 8))
STEPS = np.arange(100, 1001, 100)


def chinchilla(n, d):
    return E + A / np.asarray(n, float) ** ALPHA + B / np.asarray(d, float) ** BETA


def _scalars(step, wall, **values):
    return Event(wall_time=wall, step=int(step),
                 summary=Summary(value=[Summary.Value(tag=t.replace("__", "/"), simple_value=float(v)) for t, v in values.items()]))


def write_sweep(logdir):
    """8 runs sweep/n<i>: hparams n_params and lr; train/loss every 50 steps, eval/loss and tokens every 100."""
    rng = np.random.default_rng(3)
    logged = {}
    for i, n in enumerate(SIZES):
        name = f"sweep/n{i}"
        writer = EventFileWriter(str(logdir / name))
        writer.add_event(Event(wall_time=1.7e9, step=0, summary=hparams_summary.hparams_pb({"n_params": float(n), "lr": 3e-4})))
        tokens_per_step = n * 20 / 1000 * (0.7 + 0.1 * i)
        eval_loss = []
        for step in range(50, 1001, 50):
            values = {"train__loss": chinchilla(n, step * tokens_per_step) + 0.05}
            if step % 100 == 0:
                eval_loss.append(chinchilla(n, step * tokens_per_step) + rng.normal(0, 0.003))
                values.update(eval__loss=eval_loss[-1], tokens=step * tokens_per_step)
            writer.add_event(_scalars(step, 1.7e9 + step, **values))
        writer.close()
        logged[name] = {"n": n, "tokens": STEPS * tokens_per_step, "loss": np.array(eval_loss)}
    return logged


def write_tf2_run(folder, n=3e8):
    """TF2 / Keras layout: tf.summary.scalar writes a tensor with the "scalars" plugin's metadata (here float64)."""
    writer = EventFileWriter(str(folder))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    writer.add_event(Event(wall_time=1.7e9, step=0, summary=hparams_summary.hparams_pb({"n_params": n})))
    for step in STEPS:
        tokens = float(step) * 6e6
        summary = Summary(value=[
            Summary.Value(tag="epoch_loss", metadata=meta, tensor=tensor_util.make_tensor_proto(np.float64(chinchilla(n, tokens)))),
            Summary.Value(tag="tokens", metadata=meta, tensor=tensor_util.make_tensor_proto(np.float64(tokens))),
        ])
        writer.add_event(Event(wall_time=1.7e9 + float(step), step=int(step), summary=summary))
    writer.close()
    return {"n": n, "tokens": STEPS * 6e6, "loss": chinchilla(n, STEPS * 6e6)}


def test_event_files_read_back_with_the_same_numbers(tmp_path, capsys):
    logged = write_sweep(tmp_path / "logs")
    runs = scalefit.read_runs(tmp_path / "logs")
    assert runs.column_map == {"hparams/n_params": "n_params", "tokens": "n_tokens", "eval/loss": "loss", "step": "step"}
    assert runs.run_id == ("run",)
    assert sorted(set(runs.table["run"])) == sorted(logged)
    for name, want in logged.items():
        got = runs.table[runs.table["run"] == name].sort_values("step")
        np.testing.assert_array_equal(got["step"].to_numpy(), STEPS)
        np.testing.assert_array_equal(got["loss"].to_numpy(), want["loss"].astype(np.float32).astype(float))
        np.testing.assert_array_equal(got["n_tokens"].to_numpy(), want["tokens"].astype(np.float32).astype(float))
        np.testing.assert_array_equal(got["n_params"].to_numpy(), np.full(len(STEPS), want["n"]))  # hparams: float64
        np.testing.assert_array_equal(got["hparams/lr"].to_numpy(), np.full(len(STEPS), 3e-4))
        # train/loss is logged every 50 steps: the rows keep its value at each eval step
        np.testing.assert_array_equal(got["train/loss"].to_numpy(),
                                      (chinchilla(want["n"], want["tokens"]) + 0.05).astype(np.float32).astype(float))
    same = scalefit.read_tensorboard(str(tmp_path / "logs"))
    np.testing.assert_array_equal(same.table["loss"].to_numpy(), runs.table["loss"].to_numpy())
    assert main(["inspect", str(tmp_path / "logs")]) == 0
    assert "80" in capsys.readouterr().out  # 8 runs x 10 eval steps


def test_tf2_tensor_scalars_are_read_exactly(tmp_path):
    want = write_tf2_run(tmp_path / "tf2")
    runs = scalefit.read_tensorboard(tmp_path / "tf2", columns={"epoch_loss": "loss"})
    assert set(runs.table["run"]) == {"tf2"}
    np.testing.assert_array_equal(runs.table["step"].to_numpy(), STEPS)
    np.testing.assert_array_equal(runs.table["loss"].to_numpy(), want["loss"])  # float64 tensors: exact
    np.testing.assert_array_equal(runs.table["n_tokens"].to_numpy(), want["tokens"])
    np.testing.assert_array_equal(runs.table["n_params"].to_numpy(), np.full(len(STEPS), 3e8))


def test_a_run_that_never_logged_the_loss_is_refused_or_listed(tmp_path):
    write_sweep(tmp_path / "logs")
    write_tf2_run(tmp_path / "logs" / "keras")  # logs 'epoch_loss', which no alias names
    with pytest.raises(scalefit.ScalefitInputError, match=r"1 of the 9 runs of TensorBoard logs .* never logged the loss 'eval/loss' \('keras'; 'keras' logs 'epoch_loss', 'tokens'\)"):
        scalefit.read_runs(tmp_path / "logs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalefit.ExcludedRowsWarning)
        runs = scalefit.read_runs(tmp_path / "logs", nan_policy="omit")
    assert list(runs.excluded["run"]) == ["keras"]
    assert any("never logged 'eval/loss' ('keras')" in n for n in runs.notes)


def test_resumed_run_keeps_both_copies_and_warns(tmp_path):
    folder = tmp_path / "logs" / "resumed"
    first = EventFileWriter(str(folder), filename_suffix=".a")
    first.add_event(Event(wall_time=1.7e9, step=0, summary=hparams_summary.hparams_pb({"n_params": 1e8})))
    for step in (100, 200, 300):
        first.add_event(_scalars(step, 1.7e9 + step, loss=3.0 - step / 1000, tokens=step * 1e6))
    first.close()
    second = EventFileWriter(str(folder), filename_suffix=".b")  # restarted from the step-200 checkpoint
    for step in (200, 300, 400):
        second.add_event(_scalars(step, 1.8e9 + step, loss=3.0 - step / 1000 + 0.001, tokens=step * 1e6))
    second.close()
    with pytest.warns(scalefit.RepeatedStepsWarning, match="repeat a step within their run"):
        runs = scalefit.read_runs(tmp_path / "logs")
    assert list(runs.table["step"]) == [100, 200, 200, 300, 300, 400]


def test_no_loss_tag_names_the_tags_found(tmp_path):
    writer = EventFileWriter(str(tmp_path / "logs" / "a"))
    writer.add_event(_scalars(1, 1.7e9, accuracy=0.5, tokens=1e6))
    writer.close()
    with pytest.raises(scalefit.ScalefitInputError,
                       match=r"looks like the loss.*found scalars 'accuracy', 'tokens' in 1 run.*columns=\{'<tag>': 'loss'\}"):
        scalefit.read_runs(tmp_path / "logs")


def test_folder_without_event_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(scalefit.ScalefitInputError, match="holds no TensorBoard event files"):
        scalefit.read_tensorboard(tmp_path / "empty")
    with pytest.raises(scalefit.ScalefitInputError, match="is a directory"):
        scalefit.read_runs(tmp_path / "empty")
