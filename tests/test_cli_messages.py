"""The CLI words library errors and warnings from their ``options``: flags on the command line, API words in Python."""
from __future__ import annotations

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
