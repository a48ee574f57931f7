"""Process hygiene: SIGTERM / SIGINT end `scalefit report --jobs 2` and every worker it started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc (Linux)")


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc: parent pid is field 4 of /proc/<pid>/stat)."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":
                parent_of[int(entry.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent_of.items() if pp in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_signal_ends_report_and_its_workers_within_2_s(tmp_path, sig, code):
    out = tmp_path / "report.html"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scalefit", "report", "synthetic:isoflop", "--out", str(out), "--jobs", "2",
         "--bootstrap", "100000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
            time.sleep(0.2)
            workers = _children(proc.pid)
        assert len(workers) >= 2, "the bootstrap never started its workers"
        time.sleep(0.5)
        workers |= _children(proc.pid)  # the workers and loky's resource tracker
        proc.send_signal(sig)
        assert proc.wait(10) == code
        time.sleep(2)
        left = {p for p in workers if _alive(p)}
        assert left == set(), f"processes left 2 s after the signal: {sorted(left)}"
        assert not out.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
