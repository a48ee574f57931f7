"""CLI hygiene: one spelling per option (old spellings still accepted, unlisted), --quiet, help text."""
from __future__ import annotations

import json

import pytest

from scalefit.cli import main


def _help(capsys, cmd):
    with pytest.raises(SystemExit) as exc:
        main([cmd, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("cmd", ["fit", "isoflop", "design"])
def test_jobs_is_the_one_spelling(capsys, cmd):
    out = _help(capsys, cmd)
    assert "--jobs" in out and "--n-jobs" not in out


def test_final_is_the_one_spelling(capsys):
    for cmd in ("envelope", "fit", "inspect", "compare"):
        out = _help(capsys, cmd)
        assert "--final " in out or "--final\n" in out or "[--final]" in out


def test_old_spellings_still_work(capsys, tmp_path):
    assert main(["isoflop", "synthetic:isoflop", "--n-jobs", "1", "--bootstrap", "0", "--json"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert main(["isoflop", "synthetic:isoflop", "--jobs", "1", "--bootstrap", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == old
    assert main(["envelope", "synthetic:curves", "--final-only", "--bootstrap", "0", "--json"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert main(["envelope", "synthetic:curves", "--final", "--bootstrap", "0", "--json"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert new == old and new["final_only"] is True


def test_fit_help_prints_single_percent_signs(capsys):
    out = _help(capsys, "fit")
    assert "80%/95%" in " ".join(out.split()) and "%%" not in out
    assert "%%" not in _help(capsys, "design")


def test_quiet(capsys, tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("n_params,n_tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n-1,8e9,2.7\n4e8,8e9,2.8\n")
    assert main(["inspect", str(path), "--nan-policy", "omit"]) == 0
    loud = capsys.readouterr()
    assert "excluded 1 row(s)" in loud.err and "warning (ExcludedRowsWarning)" in loud.err
    assert main(["inspect", str(path), "--nan-policy", "omit", "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.out == loud.out and quiet.err == ""


def test_quiet_still_prints_errors(capsys, tmp_path):
    assert main(["fit", str(tmp_path / "missing.csv"), "-q"]) == 2
    assert "error" in capsys.readouterr().err


def test_every_subcommand_has_quiet(capsys):
    from scalefit.cli import _SUBCOMMANDS

    for name in _SUBCOMMANDS:
        assert "--quiet" in _help(capsys, name.replace("_", "-"))
