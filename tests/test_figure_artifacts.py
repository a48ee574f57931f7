"""Every figure of the demo report, saved where CI keeps it, and the report as a reader sees it at 1400 px.

The report of ``scalefit report synthetic:isoflop`` with the training curves
(so the envelope figures are drawn too) is screenshotted in headless
Chromium at 1400 px into ``test-artifacts/report-figures-1400.png``, and each
figure is saved as ``test-artifacts/figures/<nn>-<title>.png``, so a reviewer
can look at each one (issue 17: "every figure passes a look").  The test
checks what can be checked without eyes: no horizontal overflow (body
``scrollWidth``), every figure decoded by the browser, and each PNG of a
sensible size with ink on it and no blank panel.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import scalefit
from scalefit.report import build_report

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
# Added to a copy of the report only: after load, the page's widths and how many images decoded.
_PROBE = """<script>window.addEventListener('load', function () {
  var b = document.body, d = document.documentElement, imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  b.setAttribute('data-probe', b.scrollWidth + '/' + b.clientWidth + '/' + d.scrollWidth + '/' + window.innerWidth
                 + '/' + ok + '/' + imgs.length);
});</script></body>"""


@pytest.fixture(scope="module")
def report():
    runs = scalefit.read_runs("synthetic:isoflop")
    curves = scalefit.datasets.load_synthetic_curves()
    return build_report(runs, curves=curves, bootstrap=40, n_jobs=1, progress=False)


def test_every_figure_is_saved_for_a_look(report):
    folder = ARTIFACTS / "figures"
    if folder.exists():
        shutil.rmtree(folder)
    paths = report.save_figures(folder, formats=("png",), dpi=110)
    assert len(paths) == len(report.figures) >= 9  # the envelope figures are there: the curves were given
    import matplotlib.image as mpimg

    for path in paths:
        image = mpimg.imread(path)[..., :3]
        height, width = image.shape[:2]
        assert 400 <= width <= 2600 and 250 <= height <= 2600, (path.name, width, height)
        ink = (image < 0.9).any(axis=2)  # anything darker than near-white
        assert 0.01 < ink.mean() < 0.8, (path.name, ink.mean())
        # no blank band: each horizontal third of the figure carries ink
        for part in np.array_split(ink, 3, axis=0):
            assert part.mean() > 0.002, path.name


def test_report_at_1400px_has_no_overflow_and_is_saved(report, tmp_path):
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if browser is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium package)")
    path = report.write(tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", _PROBE))
    common = [browser, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--window-size=1400,900", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=180)
    m = re.search(r'data-probe="(\d+)/(\d+)/(\d+)/(\d+)/(\d+)/(\d+)"', dom.stdout)
    assert m, f"Chromium did not report; stderr: {dom.stderr[-2000:]}"
    body_scroll, body_client, doc_scroll, window, loaded, total = map(int, m.groups())
    assert body_scroll <= body_client and doc_scroll <= window <= 1400, m.group(0)
    assert loaded == total == len(report.figures)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-figures-1400.png"
    if shot.exists():
        shot.unlink()
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1400,9000", path.as_uri()],
                   capture_output=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 50_000
