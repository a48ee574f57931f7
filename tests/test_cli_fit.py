"""`scalefit fit` and `scalefit compare` from the command line."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scalefit.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_text_summary(capsys):
    code, out, err = _run(capsys, "fit", "synthetic:isoflop")
    assert code == 0
    assert "scalefit fit: chinchilla" in out and "alpha" in out


def test_fit_json_keys_and_bootstrap(capsys, tmp_path):
    out_path = tmp_path / "fit.json"
    code, out, err = _run(capsys, "fit", "synthetic:isoflop", "--json", "--bootstrap", "60", "--seed", "1", "--jobs", "1", "--out", str(out_path))
    assert code == 0
    d = json.loads(out)
    for key in ("law", "params", "objective", "success", "n_runs", "n_starts", "diagnostics", "stderr", "intervals"):
        assert key in d, key
    assert set(d["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert set(d["intervals"]["alpha"]) == {"0.8", "0.95"}
    lo, hi = d["intervals"]["alpha"]["0.95"]
    assert lo < d["params"]["alpha"] < hi
    assert "a" in d["derived"] and "b" in d["derived"]
    saved = json.loads(out_path.read_text())
    assert len(saved["bootstrap"]["samples"]) == 60
    # refuses to overwrite without --force
    code, out, err = _run(capsys, "fit", "synthetic:isoflop", "--out", str(out_path))
    assert code == 2 and "--force" in err


def test_fit_fix_tie_and_bounds(capsys):
    code, out, _ = _run(capsys, "fit", "synthetic:isoflop", "--fix", "E=1.69", "--tie", "alpha=beta", "--json")
    d = json.loads(out)
    assert d["params"]["E"] == 1.69
    assert d["params"]["alpha"] == d["params"]["beta"]
    code, out, _ = _run(capsys, "fit", "synthetic:isoflop", "--bound", "alpha=0:0.3", "--json")
    assert json.loads(out)["params"]["alpha"] <= 0.3 + 1e-12


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--fix", "E=abc"], "not a number"),
        (["--fix", "E"], "has no '='"),
        (["--bound", "alpha=0-1"], "LO:HI"),
        (["--bound", "alpha=a:b"], "must be numbers"),
        (["--law", "nope"], "unknown law"),
        (["--delta", "-1"], "delta must be a positive"),
    ],
)
def test_fit_bad_input_exit_2(capsys, argv, match):
    code, out, err = _run(capsys, "fit", "synthetic:isoflop", *argv)
    assert code == 2
    assert match in err


def test_fit_missing_file_exit_2(capsys, tmp_path):
    code, out, err = _run(capsys, "fit", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err


def test_compare_json(capsys):
    code, out, err = _run(capsys, "compare", "synthetic:isoflop", "--laws", "chinchilla,kaplan-n", "--holdout-flops", "1e21", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["best"] == "chinchilla"
    assert {l["law"] for l in d["laws"]} == {"chinchilla", "kaplan-n"}


def test_every_subcommand_has_help():
    from scalefit.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        r = subprocess.run([sys.executable, "-m", "scalefit", name, "--help"], capture_output=True, text=True)
        assert r.returncode == 0, name
        assert "usage: scalefit" in r.stdout


def test_bad_out_paths_are_refused_before_fitting(capsys, tmp_path):
    code, _, err = _run(capsys, "fit", "synthetic:isoflop", "--out", str(tmp_path / "missing" / "f.json"))
    assert code == 2 and "does not exist" in err
    code, _, err = _run(capsys, "fit", "synthetic:isoflop", "--out", str(tmp_path), "--force")
    assert code == 2 and "is a folder" in err
    code, _, err = _run(capsys, "report", "synthetic:isoflop", "--out", str(tmp_path / "nope" / "r.html"))
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "nope").exists()  # nothing created on the way
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = _run(capsys, "demo", "--out", str(afile))
    assert code == 2 and "is a file" in err


def test_cli_messages_name_flags_not_api_options(capsys, tmp_path):
    bad = tmp_path / "nan.csv"
    bad.write_text("params,tokens,loss\n1e8,2e9,\n2e8,4e9,3.1\n")
    code, _, err = _run(capsys, "fit", str(bad))
    assert code == 2 and "--nan-policy omit" in err and "nan_policy=" not in err
    other = tmp_path / "cols.csv"
    other.write_text("a,b,c\n1,2,3\n")
    code, _, err = _run(capsys, "fit", str(other))
    assert code == 2 and "--columns '<name>=loss'" in err


def test_fit_takes_the_asymmetric_objective_and_refuses_an_unknown_one(capsys):
    code, out, err = _run(capsys, "fit", "synthetic:isoflop", "--loss", "huber-asymmetric:4", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["options"]["loss"] == "huber-asymmetric:4"
    with pytest.raises(SystemExit) as info:
        main(["fit", "synthetic:isoflop", "--loss", "mse:4"])
    assert info.value.code == 2
    assert "huber-asymmetric[:K]" in capsys.readouterr().err
