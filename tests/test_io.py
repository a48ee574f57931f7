"""Safe output (scalefit._io): atomic writes, no clobbering, no writing through links, marked files."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit._io import MARKER_KEY, OutputExistsError, write_json, write_text, written_by_scalefit
from scalefit.cli import main


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_text_refuses_existing_file_and_keeps_it(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("mine")
    with pytest.raises(OutputExistsError, match=r"exists; pass overwrite=True"):
        write_text(path, "theirs")
    assert path.read_text() == "mine"
    assert _leftovers(tmp_path) == []


def test_file_appearing_between_check_and_rename_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "out.json"
    real = os.fsync

    def someone_writes(fd):  # after scalefit's check, before its rename
        real(fd)
        path.write_text("theirs")

    monkeypatch.setattr(os, "fsync", someone_writes)
    with pytest.raises(OutputExistsError, match="appeared while scalefit worked"):
        write_text(path, "ours")
    assert path.read_text() == "theirs"
    assert _leftovers(tmp_path) == []


def test_failing_write_leaves_previous_file_whole(tmp_path):
    path = tmp_path / "report.html"
    write_text(path, "previous report")
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate cannot be encoded: fails inside the write
        write_text(path, "x" * 100_000 + "\ud800", replace="any")
    assert path.read_text() == "previous report"
    assert _leftovers(tmp_path) == []


def test_folder_and_missing_parent_are_refused(tmp_path):
    with pytest.raises(ScalefitInputError, match="is a folder"):
        write_text(tmp_path, "x")
    with pytest.raises(ScalefitInputError, match="does not exist; create it first"):
        write_text(tmp_path / "no" / "out.json", "x")


def test_symlink_is_refused_and_with_replace_the_link_not_its_target_is_replaced(tmp_path):
    target = tmp_path / "target.json"
    target.write_text("user data")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(OutputExistsError, match="is a symbolic link"):
        write_text(link, "x", replace="ours")
    write_text(link, "new", replace="any")
    assert not link.is_symlink() and link.read_text() == "new"
    assert target.read_text() == "user data"


def test_marker_is_checked_not_guessed(tmp_path):
    users = tmp_path / "fit.json"
    users.write_text(json.dumps({"law": "chinchilla", "params": {"E": 1.7}}))  # looks like a fit, is the user's
    assert not written_by_scalefit(users)
    with pytest.raises(OutputExistsError, match="was not written by scalefit"):
        write_json(users, {"law": "x"}, replace="ours")
    ours = tmp_path / "ours.json"
    write_json(ours, {"law": "chinchilla"})
    assert json.loads(ours.read_text())[MARKER_KEY] == f"scalefit {scalefit.__version__}"
    assert written_by_scalefit(ours)
    write_json(ours, {"law": "kaplan-n"}, replace="ours")
    assert json.loads(ours.read_text())["law"] == "kaplan-n"


def test_report_killed_mid_write_leaves_previous_file_intact(tmp_path):
    """SIGKILL a process while it writes a report over an older one: the older report stays whole."""
    path = tmp_path / "report.html"
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from scalefit.report import build_report
        rep = build_report("synthetic:isoflop", bootstrap=0, figures=False, n_jobs=1)
        rep.write({str(path)!r})
        print("first", flush=True)
        sys.stdin.readline()
        real = os.fsync
        def hang(fd):  # the new report is in the temporary file; hang before the rename
            real(fd)
            print("mid-write", flush=True)
            time.sleep(60)
        os.fsync = hang
        rep.write({str(path)!r}, overwrite=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "first"
        previous = path.read_bytes()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "mid-write"
        assert len(_leftovers(tmp_path)) == 1  # the half-done new report exists beside the old one
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert path.read_bytes() == previous
    assert written_by_scalefit(path)


def test_fit_out_created_during_the_run_is_untouched_without_force(tmp_path, monkeypatch, capsys):
    out = tmp_path / "fit.json"
    real_fit = scalefit.fit

    def fit_while_someone_writes(*args, **kwargs):
        out.write_text("someone else's file")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(scalefit, "fit", fit_while_someone_writes)
    code = main(["fit", "synthetic:isoflop", "--out", str(out)])
    assert code == 2
    assert out.read_text() == "someone else's file"
    err = capsys.readouterr().err
    assert "fit.json exists; pass --force" in err
    assert _leftovers(tmp_path) == []


def test_report_out_created_during_the_run_is_untouched_without_force(tmp_path, monkeypatch, capsys):
    import scalefit.report as report_module

    out = tmp_path / "report.html"
    real_build = report_module.build_report

    def build_while_someone_writes(*args, **kwargs):
        out.write_text("someone else's report")
        return real_build(*args, **{**kwargs, "figures": False})

    monkeypatch.setattr(report_module, "build_report", build_while_someone_writes)
    code = main(["report", "synthetic:isoflop", "--out", str(out), "--bootstrap", "0", "--jobs", "1"])
    assert code == 2
    assert out.read_text() == "someone else's report"
    assert "--force" in capsys.readouterr().err


def test_symlink_at_out(tmp_path, capsys):
    target = tmp_path / "elsewhere.json"
    link = tmp_path / "fit.json"
    link.symlink_to(target)  # dangling: scalefit must not create its target
    assert main(["fit", "synthetic:isoflop", "--out", str(link)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert link.is_symlink() and not target.exists()

    target.write_text("user data")
    assert main(["fit", "synthetic:isoflop", "--out", str(link), "--force"]) == 0
    assert not link.is_symlink() and written_by_scalefit(link)
    assert target.read_text() == "user data"  # --force replaces the link, never what it points to


def test_demo_keeps_a_users_fit_json(tmp_path, monkeypatch, capsys):
    import scalefit.report as report_module

    def no_work(*args, **kwargs):
        raise AssertionError("the demo must refuse before any work")

    monkeypatch.setattr(report_module, "build_report", no_work)
    user = tmp_path / "fit.json"
    content = json.dumps({"law": "chinchilla", "params": {"E": 1.69, "A": 406.4}})
    user.write_text(content)
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert "was not written by scalefit" in capsys.readouterr().err
    assert user.read_text() == content


def test_saved_fit_with_marker_reads_back(tmp_path):
    res = scalefit.fit("synthetic:isoflop")
    path = tmp_path / "fit.json"
    res.to_json(path)
    assert written_by_scalefit(path)
    loaded = scalefit.load_fit(path)
    assert loaded.params == pytest.approx(res.params)
    assert os.stat(path).st_mode & 0o777 != 0o600  # not left with mkstemp's private mode
