"""`scalefit ... | head -1`: a reader that closes standard output early ends the command quietly (exit 141)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import scalefit

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")

ROOT = Path(scalefit.__file__).resolve().parent.parent


@pytest.mark.parametrize("argv", [
    ["inspect", "synthetic:isoflop"],
    ["inspect", "synthetic:isoflop", "--json"],
    ["train-time", "--n-params", "70e9", "--n-tokens", "1.4e12", "--gpus", "1024", "--gpu", "A100", "--mfu", "0.4"],
])
def test_a_closed_stdout_ends_the_command_quietly(argv):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "scalefit", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    proc.stdout.close()  # the reader is gone before the command writes (it is still importing): every write fails
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert code == 141, err  # 128 + SIGPIPE, as a shell reports `yes | head -1`
    assert err == ""  # no "internal error", no traceback, no "Exception ignored" at exit


def test_a_broken_pipe_elsewhere_is_still_an_internal_error(monkeypatch, capsys):
    """Only standard output's reader going away is quiet; a broken pipe to anything else is a bug to report."""
    from scalefit.cli import _inspect, main

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(_inspect, "run", broken)
    assert main(["inspect", "x"]) == 1  # capsys's stdout is no pipe, and nothing closed it
    assert "internal error: BrokenPipeError" in capsys.readouterr().err
