"""Tests of ``scalefit plan`` and ``scalefit train-time``."""
from __future__ import annotations

import json

import numpy as np
import pytest

from scalefit import compute_optimal
from scalefit.cli import main

HOFFMANN = "E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28"
BESIROGLU = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    out, _ = capsys.readouterr()
    return json.loads(out)


def run_error(capsys, *argv):
    assert main(list(argv)) == 2
    _, err = capsys.readouterr()
    return err


# -------------------------------------------------------------------- train-time
def test_train_time_gpt3(capsys):
    # Narayanan et al. (2021), sec. 5.1 / eq. 4: 175B params, 300B tokens, 1,024 A100s at 140 TFLOP/s -> 34 days.
    d = run_json(capsys, "train-time", "--n-params", "175e9", "--n-tokens", "300e9", "--gpus", "1024",
                 "--flops-per-gpu", "140e12")
    assert round(d["days"], 1) == 33.9
    assert set(d) >= {"n_params", "n_tokens", "flops", "days", "gpu_hours"}
    assert "cost" not in d


def test_train_time_1t(capsys):
    # Narayanan et al. (2021), sec. 5.1: 1T model (1.008e12), 450B tokens, 3,072 A100s at 163 TFLOP/s -> 84 days.
    d = run_json(capsys, "train-time", "--n-params", "1.008e12", "--n-tokens", "450B", "--gpus", "3,072",
                 "--flops-per-gpu", "163e12")
    assert round(d["days"], 1) == 83.9


def test_train_time_text_preset_and_cost(capsys):
    assert main(["train-time", "--n-params", "175B", "--n-tokens", "300B", "--gpus", "1024", "--gpu", "A100",
                 "--mfu", "0.45", "--no-recompute", "--price-per-gpu-hour", "2"]) == 0
    out, _ = capsys.readouterr()
    assert "days" in out and "A100-SXM" in out and "6*N*D" in out and "$" in out
    d = run_json(capsys, "train-time", "--n-params", "175B", "--n-tokens", "300B", "--gpus", "1024",
                 "--gpu", "A100", "--mfu", "0.45", "--price-per-gpu-hour", "2")
    assert d["cost"] == pytest.approx(2 * d["gpu_hours"])
    assert d["flops_per_gpu"] == pytest.approx(0.45 * 312e12)


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--gpu", "H300", "--mfu", "0.4"], "unknown GPU 'H300'; known presets are"),
        (["--gpu", "A100", "--mfu", "1.2"], r"mfu must be a fraction in \(0, 1\]"),
        (["--gpu", "A100"], "--gpu A100 needs --mfu M"),  # the library's message says gpu='A100' needs mfu=
        ([], "exactly one of --flops-per-gpu X"),
        (["--flops-per-gpu", "fast"], "--flops-per-gpu: 'fast' is not a number"),
        (["--flops-per-gpu", "0"], "--flops-per-gpu must be a finite number > 0"),
    ],
)
def test_train_time_errors(capsys, extra, match):
    err = run_error(capsys, "train-time", "--n-params", "1B", "--n-tokens", "20B", "--gpus", "8", *extra)
    assert "scalefit train-time: error:" in err
    assert pytest.importorskip("re").search(match, err), err


def test_train_time_bad_gpu_count(capsys):
    err = run_error(capsys, "train-time", "--n-params", "1B", "--n-tokens", "20B", "--gpus", "0", "--flops-per-gpu", "1e14")
    assert "n_gpus must be a whole number >= 1" in err


# ------------------------------------------------------------------------ plan
def test_plan_flops_single(capsys):
    d = run_json(capsys, "plan", "--params", HOFFMANN, "--flops", "5.76e23")
    # closed form at Chinchilla's budget, Hoffmann rounded coefficients: N* = 3.22e10, 92.7 tokens/param (issue 6)
    assert d["n_params"] == pytest.approx(3.22e10, rel=0.01)
    assert d["tokens_per_param"] == pytest.approx(92.7, rel=0.01)
    assert set(d) >= {"n_params", "n_tokens", "flops", "loss", "tokens_per_param"}


def test_plan_text_table_like_hoffmann_table3(capsys):
    assert main(["plan", "--params", HOFFMANN, "--n-params", "400M,1B,10B,67B,175B"]) == 0
    out, _ = capsys.readouterr()
    header = out.splitlines()[1]
    for col in ("Parameters", "FLOPs", "Tokens", "Tokens/param", "Loss"):
        assert col in header
    assert "175B" in out and len(out.splitlines()) == 7


def test_plan_flops_list(capsys):
    d = run_json(capsys, "plan", "--params", HOFFMANN, "--flops", "1e21,1e22,1e23")
    assert [a["flops"] for a in d["allocations"]] == [1e21, 1e22, 1e23]


def test_plan_target_loss_and_fixed_size(capsys):
    d = run_json(capsys, "plan", "--params", HOFFMANN, "--target-loss", "2.0")
    assert d["loss"] == 2.0 and d["flops"] > 0
    d2 = run_json(capsys, "plan", "--params", HOFFMANN, "--n-params", "70B", "--flops", "5.76e23")
    assert d2["n_tokens"] == pytest.approx(5.76e23 / (6 * 70e9))
    d3 = run_json(capsys, "plan", "--params", HOFFMANN, "--n-params", "70B", "--target-loss", "1.95")
    assert d3["loss"] == 1.95


def test_plan_inference(capsys):
    d = run_json(capsys, "plan", "--params", HOFFMANN, "--target-loss", "2.0", "--inference-tokens", "2T")
    assert d["n_params"] < d["chinchilla"]["n_params"]
    assert 0 < d["saving_fraction"] < 1
    assert main(["plan", "--params", HOFFMANN, "--target-loss", "2.0", "--inference-tokens", "2T"]) == 0
    assert "Chinchilla-optimal" in capsys.readouterr()[0]


def test_plan_unique_tokens_defaults_to_muennighoff(capsys):
    # Muennighoff et al. (2023): 1e22 FLOPs and 25B unique tokens -> ~7.02e9 params, 2.37e11 tokens (issue 6).
    d = run_json(capsys, "plan", "--flops", "1e22", "--unique-tokens", "25B")
    assert d["n_params"] == pytest.approx(7.02e9, rel=0.02)
    assert d["epochs"] == pytest.approx(9.49, rel=0.02)


def test_plan_fit_json_with_and_without_bootstrap(tmp_path, capsys):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"law": "chinchilla", "params": BESIROGLU}))
    d = run_json(capsys, "plan", "--fit", str(path), "--flops", "5.76e23")
    # Besiroglu et al. (2024) coefficients at C = 5.76e23: N* = 7.22e10, 18.4 tokens/param (issue 6)
    assert d["n_params"] == pytest.approx(7.22e10, rel=0.01)
    assert "intervals" not in d
    rng = np.random.default_rng(0)
    samples = [{k: v * float(np.exp(0.02 * rng.standard_normal())) for k, v in BESIROGLU.items()} for _ in range(100)]
    path.write_text(json.dumps({"law": "chinchilla", "params": BESIROGLU, "bootstrap": {"n": 100, "samples": samples}}))
    d = run_json(capsys, "plan", "--fit", str(path), "--flops", "5.76e23")
    lo, hi = d["intervals"]["n_params"]
    assert lo < d["n_params"] < hi and d["level"] == 0.95
    assert main(["plan", "--fit", str(path), "--flops", "5.76e23"]) == 0
    assert "percentile" in capsys.readouterr()[0]


def test_plan_with_real_fit_result(tmp_path, capsys):
    """Integration: a FitResult from scalefit.fit, used directly and through `scalefit plan --fit`."""
    import pandas as pd

    import scalefit

    n = np.repeat(np.logspace(7.5, 9.5, 6), 5)
    d = np.tile(np.logspace(9, 11, 5), 6)
    truth = BESIROGLU
    loss = truth["E"] + truth["A"] / n ** truth["alpha"] + truth["B"] / d ** truth["beta"]
    loss = loss * np.exp(0.003 * np.random.default_rng(0).standard_normal(loss.size))
    runs = pd.DataFrame({"n_params": n, "n_tokens": d, "loss": loss})
    result = scalefit.fit(runs)
    with pytest.warns(scalefit.ExtrapolationWarning, match="the largest run"):  # runs reach 1.9e21 FLOPs
        plan = compute_optimal(result, 5.76e23)
    assert plan.n_params == pytest.approx(compute_optimal(result.params, 5.76e23).n_params, rel=1e-12)
    assert plan.n_params == pytest.approx(7.22e10, rel=0.3)  # near Besiroglu's optimum, the law behind the data
    path = tmp_path / "fit.json"
    result.to_json(path)
    out = run_json(capsys, "plan", "--fit", str(path), "--flops", "5.76e23")
    assert out["n_params"] == pytest.approx(plan.n_params, rel=1e-6)
    boot = result.bootstrap(20, seed=0) if hasattr(result, "bootstrap") else None
    if boot is not None:
        with pytest.warns(scalefit.ExtrapolationWarning):
            with_iv = compute_optimal(boot, 5.76e23)
        assert with_iv.n_params == plan.n_params
        lo, hi = with_iv.intervals["n_params"]
        assert lo < plan.n_params < hi and "flops" not in with_iv.intervals


@pytest.mark.parametrize(
    "argv, match",
    [
        (["plan", "--params", HOFFMANN], "say what to plan for"),
        (["plan", "--flops", "1e22"], "give the law's parameters"),
        (["plan", "--params", HOFFMANN, "--flops", "0"], "flops must be finite and > 0"),
        (["plan", "--params", HOFFMANN, "--flops=-1e22"], "flops must be finite and > 0"),
        (["plan", "--params", HOFFMANN, "--target-loss", "1.6"], "irreducible loss E = 1.69"),
        (["plan", "--params", HOFFMANN, "--flops", "1e22", "--target-loss", "2"], "not both"),
        (["plan", "--params", HOFFMANN, "--flops", "1e22", "--inference-tokens", "1T"], "--inference-tokens plans for one target loss"),
        (["plan", "--params", HOFFMANN, "--target-loss", "2", "--unique-tokens", "1T"], "--unique-tokens plans for compute budgets"),
        (["plan", "--params", HOFFMANN, "--flops", "1e22", "--unique-tokens", "1T"], "unique_tokens input"),
        (["plan", "--params", "E=1.69,A=406.4", "--flops", "1e22"], "missing"),
        (["plan", "--params", "E=abc", "--flops", "1e22"], "--params E: 'abc' is not a number"),
        (["plan", "--params", HOFFMANN, "--n-params", "1e8", "--target-loss", "2.0"], "unreachable with n_params"),
        (["plan", "--fit", "/nonexistent/fit.json", "--flops", "1e22"], "does not exist"),
    ],
)
def test_plan_errors(capsys, argv, match):
    err = run_error(capsys, *argv)
    assert "scalefit plan: error:" in err and match in err, err


def test_fit_out_then_plan_end_to_end(tmp_path, capsys):
    """`scalefit fit --bootstrap N --out` writes bootstrap.samples; `scalefit plan --fit` turns them into intervals."""
    path = tmp_path / "fit.json"
    assert main(["fit", "synthetic:isoflop", "--bootstrap", "20", "--jobs", "1", "--out", str(path), "--json"]) == 0
    capsys.readouterr()
    d = run_json(capsys, "plan", "--fit", str(path), "--flops", "1e22")
    lo, hi = d["intervals"]["n_params"]
    assert lo < d["n_params"] < hi and "flops" not in d["intervals"]


def test_plan_from_saved_fit_warns_when_extrapolating(tmp_path, capsys):
    from scalefit.cli import main

    path = tmp_path / "fit.json"
    assert main(["fit", "synthetic:isoflop", "--out", str(path)]) == 0
    capsys.readouterr()
    assert main(["plan", "--fit", str(path), "--flops", "1e26"]) == 0
    assert "ExtrapolationWarning" in capsys.readouterr().err
    assert main(["plan", "--fit", str(path), "--flops", "1e10"]) == 0
    assert "less than the smallest run" in capsys.readouterr().err


@pytest.mark.parametrize("extra, named", [
    (["--gpu", "H100", "--mfu", "0.4"], "--gpu, --mfu describe"),
    (["--vocab", "128256"], "--vocab describes"),
    (["--recipe", "step-law"], "--recipe describes"),
    (["--warmup-steps", "100", "--head-dim", "64"], "--head-dim, --warmup-steps describe"),
])
def test_plan_refuses_run_configuration_options_without_shape(capsys, extra, named):
    """They did nothing without --shape and the plan exited 0: the user believed a GPU or recipe was taken into account."""
    err = run_error(capsys, "plan", "--params", HOFFMANN, "--flops", "1e24", *extra)
    assert f"error: {named} the run configuration, which only --shape plans: add --shape gpt or --shape llama" in err


@pytest.mark.parametrize("extra", [["--mfu", "0.4"], ["--micro-batch", "4"], ["--recompute", "none"]])
def test_plan_shape_refuses_gpu_options_without_gpu(capsys, extra):
    err = run_error(capsys, "plan", "--flops", "1e24", "--shape", "llama", "--vocab", "128256", "--context", "8192", *extra)
    assert f"error: {extra[0]} needs --gpu NAME" in err


def test_plan_shape_defaults_are_those_help_states(capsys):
    """No --head-dim, --recipe, ... given: head_dim 128, width multiple 128, DeepSeek LLM, 2,000 warmup steps (--help)."""
    out = run_json(capsys, "plan", "--flops", "1e24", "--shape", "llama", "--vocab", "128256", "--context", "8192")
    explicit = run_json(capsys, "plan", "--flops", "1e24", "--shape", "llama", "--vocab", "128256", "--context", "8192",
                        "--head-dim", "128", "--width-multiple", "128", "--recipe", "deepseek", "--warmup-steps", "2000")
    assert out == explicit
