"""The CLI words library errors and warnings from their ``options``: flags on the command line, API words in Python."""
from __future__ import annotations

import json

import pytest

import scalefit
from scalefit import DuplicateRowsWarning, ScalefitInputError
from scalefit._errors import ExcludedRowsWarning, Option, warn
from scalefit.cli import _inspect, main
from scalefit.cli._messages import FLAGS, flag_for, render

# The option names library messages use (the layout brief's list); each needs a flag here.
API_OPTIONS = ("nan_policy", "drop_duplicates", "run_id", "final", "final_only", "best_per_size", "group_by", "budget",
               "fixed", "loss_unit", "exclude_flags", "columns", "overwrite", "bootstrap", "law")

MESSAGE = ("bad runs; pass nan_policy='omit', drop_duplicates=True, read_runs(..., run_id=[...]), "
           "columns={'Model Size': 'n_params'} or fixed={...}, or use runs.final().")
OPTIONS = [Option("nan_policy", "'omit'"), Option("drop_duplicates", "True"),
           Option("run_id", text="read_runs(..., run_id=[...])"), Option("columns", "{'Model Size': 'n_params'}"),
           Option("fixed", text="fixed={...}"), Option("final", text="runs.final()")]
CLI_MESSAGE = ("bad runs; pass --nan-policy omit, --drop-duplicates, --run-id COLS, --columns 'Model Size=n_params' "
               "or --fix NAME=VALUE, or use the final checkpoints (--final).")


def _run_inspect_with(monkeypatch, capsys, body):
    """Run `scalefit inspect x` with its work replaced by ``body`` (argparse binds `run` at registration)."""
    monkeypatch.setattr(_inspect, "run", lambda args: body() or 0)
    code = main(["inspect", "x"])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_option_name_has_a_flag():
    assert set(API_OPTIONS) <= set(FLAGS)
    for name in API_OPTIONS:
        assert flag_for(Option(name)).count("--") == 1


def test_flags_take_the_option_value():
    assert flag_for(Option("nan_policy", "'omit'")) == "--nan-policy omit"
    assert flag_for(Option("loss_unit", "'bits'")) == "--loss-unit bits"
    assert flag_for(Option("law", "'kaplan-n'")) == "--law kaplan-n"
    assert flag_for(Option("bootstrap")) == "--bootstrap N"
    assert flag_for(Option("columns", "{'a': 'loss', 'b': 'n_params'}")) == "--columns 'a=loss,b=n_params'"
    assert flag_for(Option("columns", text="columns={...}")) == "--columns 'OLD=NEW'"
    assert flag_for(Option("use_non_embedding", "True")) is None  # no flag: the Python words stay
    assert render("pass use_non_embedding=True", [Option("use_non_embedding", "True")]) == "pass use_non_embedding=True"


def test_error_with_options_reads_api_words_in_python_and_flags_in_the_cli(monkeypatch, capsys):
    error = ScalefitInputError(MESSAGE, column="loss", options=OPTIONS)
    assert str(error) == MESSAGE and error.options == tuple(OPTIONS)  # Python keeps the API wording

    def body():
        raise error

    code, _, err = _run_inspect_with(monkeypatch, capsys, body)
    assert code == 2
    assert err.strip() == f"scalefit inspect: error: {CLI_MESSAGE}"


def test_warning_with_options_reads_flags_in_the_cli(monkeypatch, capsys):
    with pytest.warns(ExcludedRowsWarning) as record:
        warn("pass drop_duplicates=True or loss_unit='bits'", ExcludedRowsWarning,
             options=[Option("drop_duplicates", "True"), Option("loss_unit", "'bits'")])
    assert str(record[0].message) == "pass drop_duplicates=True or loss_unit='bits'"

    def body():
        warn("pass drop_duplicates=True or loss_unit='bits'", ExcludedRowsWarning,
             options=[Option("drop_duplicates", "True"), Option("loss_unit", "'bits'")])

    code, _, err = _run_inspect_with(monkeypatch, capsys, body)
    assert code == 0
    assert "warning (ExcludedRowsWarning): pass --drop-duplicates or --loss-unit bits" in err


def test_real_messages_name_options_in_python_and_flags_in_the_cli(tmp_path, capsys):
    bad = tmp_path / "nan.csv"
    bad.write_text("params,tokens,loss\n1e8,2e9,\n2e8,4e9,3.1\n")
    with pytest.raises(ScalefitInputError, match="pass nan_policy='omit'") as info:
        scalefit.read_runs(bad)
    assert Option("nan_policy", "'omit'") in info.value.options
    assert info.value.column == "loss" and info.value.rows == [0]
    assert main(["inspect", str(bad)]) == 2
    assert "pass --nan-policy omit" in capsys.readouterr().err

    dup = tmp_path / "dup.csv"
    dup.write_text("params,tokens,loss\n1e8,2e9,3.2\n1e8,2e9,3.2\n2e8,4e9,3.1\n")
    with pytest.warns(DuplicateRowsWarning, match="pass drop_duplicates=True") as record:
        scalefit.read_runs(dup)
    assert Option("drop_duplicates", "True") in record[0].message.options
    assert main(["inspect", str(dup)]) == 0
    err = capsys.readouterr().err
    assert "pass --drop-duplicates to exclude them" in err and "drop_duplicates=" not in err


def test_library_messages_do_not_speak_of_the_cli(tmp_path):
    steps = tmp_path / "steps.csv"
    steps.write_text("params,tokens,loss,step\n1e8,2e9,3.2,1\n1e8,4e9,3.1,2\n")
    with pytest.warns(scalefit.CurvesWarning) as record:
        scalefit.read_runs(steps)
    text = str(record[0].message)
    assert "pass run_id=[...]" in text and "CLI" not in text and "--" not in text


def test_a_message_already_written_with_flags_is_left_whole():
    """The bare name `context` used to be replaced inside `--context S` itself: '----context S S'."""
    text = "add --vocab V --context S, e.g. --vocab 128256 --context 8192."
    assert render(text, [Option("vocab_size"), Option("context")]) == text


def test_plan_shape_without_vocab_names_each_flag_once(capsys):
    assert main(["plan", "--flops", "1e24", "--shape", "llama"]) == 2
    err = capsys.readouterr().err
    assert "add --vocab V --context S, e.g. --vocab 128256 --context 8192." in err
    assert "----" not in err and "S S" not in err


def _library_error(call) -> ScalefitInputError:
    with pytest.raises(ScalefitInputError) as info:
        call()
    return info.value


def test_library_messages_name_each_option_once_as_a_flag():
    """Real messages of the planner, rendered: `name=VALUE` and `name=` become the flag with its value or placeholder."""
    from scalefit.cli._messages import cli_message
    from scalefit.plan._memory import min_gpus

    shape = scalefit.shape(7e9, vocab_size=32000, context=4096, family="llama").best
    # batch larger than the tokens: Option("n_tokens"), Option("context") used to give "--context S=" and
    # "the token budget a larger --flops=1000"
    text = cli_message(_library_error(lambda: scalefit.training_recipe(shape, 1000)))
    assert "the token budget 1000 tokens (raise --flops): not even one step fits" in text
    assert "use a shorter --context S so that" in text
    assert "=" not in text
    # activations too large: Option("micro_batch") used to give "--micro-batch B="
    text = cli_message(_library_error(lambda: min_gpus(shape, gpu="V100", micro_batch=64, recompute="none")))
    assert "with --recompute none)" in text
    assert "use --recompute full, a smaller --micro-batch B or a larger GPU." in text
    # warmup longer than the run: the thousands separator of 2,000 is no part of a flag's value
    text = cli_message(_library_error(lambda: scalefit.training_recipe(shape, 1e9, warmup_steps=2000)))
    assert "do not outlast --warmup-steps 2000; give a shorter warmup, e.g. --warmup-steps 125." in text


def test_a_name_the_library_gives_with_its_own_text_is_not_replaced_where_it_only_describes():
    text = "with head_dim 128: lower width_multiple= or head_dim=."
    options = [Option("width_multiple", text="width_multiple="), Option("head_dim", text="head_dim=")]
    assert render(text, options) == "with head_dim 128: lower --width-multiple W or --head-dim H."


def test_design_bounds_read_as_flags(capsys):
    assert main(["design", "--target-flops", "1e24", "--experiment-flops", "1e21", "--min-params", "1e6",
                 "--max-params", "2e6", "--n-runs", "3"]) == 2
    err = capsys.readouterr().err
    assert "no candidate design is feasible with --min-params 1e+06, --max-params 2e+06, --n-runs 3:" in err
    assert "Widen --min-params/--max-params, change --n-runs," in err


TRAIN_TIME = ["train-time", "--n-params", "70e9", "--n-tokens", "1.4e12", "--gpus", "1024"]


@pytest.mark.parametrize("argv, cli_words, api_words", [
    # the library's train-time messages list no options; the subcommand's keywords are worded as its flags
    (TRAIN_TIME, "give exactly one of --flops-per-gpu X (achieved FLOP/s per GPU, e.g. 140e12) and --gpu NAME "
     "(a preset name, with --mfu M); found neither.", "flops_per_gpu="),
    ([*TRAIN_TIME, "--gpu", "A100", "--mfu", "45"], "Write 45% as --mfu 0.45.", "mfu=0.45"),
    ([*TRAIN_TIME, "--gpu", "A100"], "--gpu A100 needs --mfu M,", "gpu='A100'"),
    ([*TRAIN_TIME, "--gpu", "Z9", "--mfu", "0.4"], "For other hardware pass --flops-per-gpu X", "flops_per_gpu="),
    (["plan", "--params", "E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28", "--flops", "1e22", "--level", "1.5"],
     "Use e.g. --level 0.95.", "level=0.95"),
    (["plan", "--params", "E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28", "--flops", "1e22", "--unique-tokens", "1e10"],
     "or pass neither --fit nor --params for Muennighoff et al.'s published values.", "fit=None"),
    (["plan", "--flops", "1e17", "--shape", "llama", "--vocab", "128256", "--context", "8192"],
     "Widen --aspect-ratio LOW,HIGH, lower --width-multiple W or --head-dim H, or raise --tolerance F", "aspect_ratio="),
    (["plan", "--flops", "1e17", "--shape", "llama", "--vocab", "128256", "--context", "8192", "--tolerance", "2"],
     "error: --tolerance must be in (0, 1); found 2.0. E.g. --tolerance 0.02.", "tolerance="),
    (["report", "synthetic:isoflop", "--out", "never-written.html", "--mfu", "-1"], "Write 45% as --mfu 0.45.", "mfu=0.45"),
    (["design", "--target-flops", "1e24", "--experiment-flops", "1e21", "--n-sims", "2"],
     "error: --n-sims must be an integer of at least 4; got 2.", "design():"),
])
def test_messages_without_options_read_as_flags(capsys, argv, cli_words, api_words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert cli_words in err
    assert api_words not in err


def test_plan_shape_takes_the_aspect_ratio_and_tolerance_its_message_suggests(capsys):
    """The no-shape message says 'widen the aspect ratio or raise the tolerance'; the CLI now has both flags."""
    argv = ["plan", "--flops", "1e17", "--shape", "llama", "--vocab", "128256", "--context", "8192"]
    assert main(argv) == 2
    assert "the nearest is 1 layers x d_model 128 with 33,096,064 parameters (+16.2%)" in capsys.readouterr().err
    assert main([*argv, "--aspect-ratio", "1,200", "--tolerance", "0.2", "--json"]) == 0
    shape = json.loads(capsys.readouterr().out)["configurations"][0]["allocation"]["shape"]
    assert (shape["n_layers"], shape["d_model"], shape["n_params"]) == (1, 128, 33_096_064)  # within 20% now


def test_negative_seed_is_an_input_error_not_an_internal_error(capsys):
    # design() handed -1 to numpy's default_rng, whose ValueError surfaced as "internal error"
    assert main(["design", "--target-flops", "1e24", "--experiment-flops", "1e21", "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert "scalefit design: error: design: seed must be an integer >= 0; found -1" in err
    assert "Pass a whole number such as --seed 0." in err


def test_a_value_that_means_leave_the_flag_out_says_so():
    # scalefit/approaches/_isoflop.py words a bad budget column "(budget=None)"; it read "--budget-col None"
    text = render("Fix those values or let isoflop cluster the flops column (budget=None).", [Option("budget", "None")])
    assert text == "Fix those values or let isoflop cluster the flops column (no --budget-col)."
