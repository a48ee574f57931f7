"""The HTML report: self-contained, complete, and rendered by a real browser."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import scalefit
from scalefit import ScalefitInputError
from scalefit.cli import main
from scalefit.report import build_report

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def report():
    runs = scalefit.read_runs(scalefit.datasets.synthetic_path("isoflop"))
    curves = scalefit.datasets.load_synthetic_curves()
    return build_report(runs, curves=curves, bootstrap=60, n_jobs=1, progress=False)


def test_report_holds_every_section(report, tmp_path):
    path = report.write(tmp_path / "r.html")
    text = path.read_text()
    for heading in ("Data", "Parametric fit (Approach 3)", "Three approaches side by side", "Compute-optimal plan", "Figures"):
        assert heading in text
    assert {"envelope", "isoflop", "parametric"} <= set(report.approaches.table().index)
    titles = [f.title for f in report.figures]
    for t in ("IsoFLOP profiles", "Training-curve envelope (Approach 1)", "Loss contours and efficient frontier",
              "Fit against data", "Extrapolation", "Bootstrap distributions", "Training time and cost"):
        assert t in titles
    assert all(f.png for f in report.figures), [f.error for f in report.figures if not f.png]
    assert text.count("<img ") == len(report.figures)


def test_report_is_self_contained(report, tmp_path):
    text = report.to_html()
    # every image is inlined; nothing is fetched: no scripts, stylesheets, fonts or remote URLs
    srcs = re.findall(r"src='([^']*)'", text)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", text)


def test_report_lists_excluded_rows(tmp_path):
    import pandas as pd

    df = pd.read_csv(scalefit.datasets.synthetic_path("isoflop"))
    df.loc[[3, 10], "loss"] = float("nan")
    with pytest.warns(scalefit.ExcludedRowsWarning):
        runs = scalefit.read_runs(df, nan_policy="omit")
    rep = build_report(runs, bootstrap=0, figures=False)
    html = rep.to_html()
    assert "2 row(s) were excluded" in html
    assert "Approach 1 (training-curve envelope)" in rep.skipped


def test_write_refuses_to_overwrite(report, tmp_path):
    path = tmp_path / "r.html"
    path.write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite"):
        report.write(path)
    assert path.read_text() == "mine"


def test_bad_report_arguments():
    runs = scalefit.datasets.load_synthetic()
    with pytest.raises(ScalefitInputError, match="at least 2 resamples"):
        build_report(runs, bootstrap=1)
    with pytest.raises(ScalefitInputError, match="training curves"):
        build_report(runs, curves=runs, bootstrap=0)


def test_cli_report_and_demo(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "synthetic:isoflop", "--out", str(out), "--bootstrap", "20", "--jobs", "1"]) == 0
    assert out.exists()
    assert main(["report", "synthetic:isoflop", "--out", str(out)]) == 2  # exists, no --force
    assert "--force" in capsys.readouterr().err
    demo = tmp_path / "demo"
    assert main(["demo", "--out", str(demo), "--bootstrap", "20", "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert (demo / "report.html").exists() and (demo / "fit.json").exists()
    assert "wrote" in printed and "parametric a =" in printed
    # a second run may replace the demo's own files, never a file scalefit did not write
    assert main(["demo", "--out", str(demo), "--bootstrap", "20", "--jobs", "1"]) == 0
    (demo / "report.html").write_text("my notes")
    assert main(["demo", "--out", str(demo), "--bootstrap", "20", "--jobs", "1"]) == 2
    assert (demo / "report.html").read_text() == "my notes"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium package)")


_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# Added to a copy of the report only, for the test: after load, record how many images decoded.
_PROBE = """<script>window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});</script></body>"""


def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    path = report.write(tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", _PROBE))
    common = [browser, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert m, f"Chromium did not report images; stderr: {dom.stderr[-2000:]}"
    loaded, total = int(m.group(1)), int(m.group(2))
    assert total == len(report.figures) and loaded == total
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    if shot.exists():
        shot.unlink()
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,4000", path.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


# Added to a copy of the report only: after load, record the page's widths (Chromium at 1400 px).
_WIDTH_PROBE = """<script>window.addEventListener('load', function () {
  var b = document.body, d = document.documentElement;
  b.setAttribute('data-widths', b.scrollWidth + '/' + b.clientWidth + '/' + d.scrollWidth + '/' + window.innerWidth);
});</script></body>"""


def test_report_has_no_horizontal_overflow_at_1400px(report, tmp_path):
    browser = _chromium()
    path = report.write(tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", _WIDTH_PROBE))
    common = [browser, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--window-size=1400,900"]
    dom = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-widths="(\d+)/(\d+)/(\d+)/(\d+)"', dom.stdout)
    assert m, f"Chromium did not report widths; stderr: {dom.stderr[-2000:]}"
    body_scroll, body_client, doc_scroll, window = map(int, m.groups())
    assert body_scroll <= body_client and doc_scroll <= window, m.group(0)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-1400.png"
    if shot.exists():
        shot.unlink()
    subprocess.run([*common[:-1], f"--screenshot={shot}", "--window-size=1400,6000", path.as_uri()], capture_output=True, timeout=120)
    assert shot.exists()


def test_report_summary_units_and_wording(report):
    text = report.to_html()
    top = text[text.index("<h2 style='margin-top:.4em'>Summary</h2>"):text.index("id='s0'")]
    for a in report.plan:  # every planned budget has its recommendation in the summary, N* in human units
        assert scalefit._format.format_number(a.n_params, "human") in top
    assert "95% bootstrap intervals" in top and "Warnings that matter" in top
    assert "Warning:" not in top  # the summary words warnings for a reader, without their Python class names
    assert "$" in text and "Cost (US$)" in text
    assert "6·N·D / (n_gpus · peak · MFU)" in text and "8·N·D" not in text  # the caption matches mfu=0.4
    for api in ("bootstrap()", ".unassigned", "budget='", "result.diagnostics", "read_runs(", "Runs.exclude"):
        assert api not in text, api
    plan_html = text[text.index("id='s3'"):]
    plan_html = plan_html[plan_html.index("<table"):plan_html.index("</table>")]
    assert "n_params" not in plan_html and "e+" not in plan_html  # readable headers, no raw scientific cells


def test_report_refuses_several_groups():
    runs = scalefit.read_runs(scalefit.datasets.synthetic_path("isoflop"))
    with pytest.raises(ScalefitInputError, match="configurations") as err:
        build_report(runs, bootstrap=0, figures=False, group_by="flops")
    assert err.value.option == "group_by"


def test_cli_report_analysis_options_and_figures(tmp_path, capsys):
    out, figs = tmp_path / "r.html", tmp_path / "figs"
    argv = ["report", "synthetic:isoflop", "--out", str(out), "--bootstrap", "0", "--jobs", "1", "--flops", "1e22,5.76e23",
            "--method", "parabola", "--loss", "mse", "--exclude", "loss > 3.9", "--figures-dir", str(figs), "--dpi", "60"]
    assert main(argv) == 0
    text = out.read_text()
    assert "5.76e23 FLOPs" in text and "1e22 FLOPs" in text and "3e24 FLOPs" not in text
    assert "row(s) were excluded" in text
    names = sorted(p.name for p in figs.iterdir())
    assert {n.rsplit(".", 1)[1] for n in names} == {"png", "svg", "pdf"}
    assert (figs / "01-isoflop-profiles.svg").read_text().lstrip().startswith("<?xml")
    assert (figs / "01-isoflop-profiles.pdf").read_bytes()[:4] == b"%PDF"
    capsys.readouterr()
    assert main(argv) == 2  # the report exists: refused without --force, and no figure was replaced
    assert main([*argv, "--force"]) == 0
    assert main(["report", "synthetic:isoflop", "--out", str(tmp_path / "x.html"), "--flops", "big"]) == 2
    assert "--flops" in capsys.readouterr().err
    # figures that would be replaced: refused before the report is written (no half-done output)
    other = tmp_path / "other.html"
    assert main(["report", "synthetic:isoflop", "--out", str(other), "--bootstrap", "0", "--jobs", "1",
                 "--figures-dir", str(figs)]) == 2
    assert not other.exists() and "--force" in capsys.readouterr().err
    # a named budget column that is missing, and a dpi of 0, are errors, not sections quietly left out
    assert main(["report", "synthetic:isoflop", "--out", str(other), "--budget-col", "nosuch"]) == 2
    assert "--budget-col nosuch: no such column" in capsys.readouterr().err
    assert main(["report", "synthetic:isoflop", "--out", str(other), "--dpi", "0"]) == 2
    assert "--dpi 0" in capsys.readouterr().err and not other.exists()
    # the sections left out and the warnings that matter are said on the terminal too, not only inside the HTML
    assert main(["report", "synthetic:isoflop", "--out", str(other), "--bootstrap", "0", "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "note: left out of the report: Approach 1 (training-curve envelope)" in err
    assert "warning: extrapolation" in err


def test_report_shows_the_sensitivity_to_the_objective(report, tmp_path):
    """Issue 11: the report states how a, N* and D* move across objectives."""
    assert report.sensitivity is not None and len(report.sensitivity.table) == 3
    text = report.write(tmp_path / "s.html").read_text()
    assert "Sensitivity to the objective" in text and "least squares on loss" in text
    assert report.sensitivity.message in text or report.sensitivity.message.replace("'", "&#x27;") in text


def _pixels(png: bytes):
    import io

    import matplotlib.image as mimage

    return mimage.imread(io.BytesIO(png))


def test_report_figures_have_the_pixels_savefig_gives(report):
    """Issue 12: the report draws each figure once (not savefig's dry draw and real draw): the same pixels."""
    import io

    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np

    from scalefit._errors import collect_warnings
    from scalefit._report_figures import _PNG_RC

    assert len(report.figures) >= 9
    for f in report.figures:
        with collect_warnings(), matplotlib.rc_context(_PNG_RC):  # the report's settings (unhinted text)
            fig = f.draw().figure_
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)  # how the report rendered them before issue 12
        plt.close(fig)
        assert np.array_equal(_pixels(f.png), _pixels(buf.getvalue())), f.title


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="figures are rendered in forked processes on Linux only")
def test_report_figures_rendered_in_workers_are_the_same(monkeypatch):
    """Issue 12: figures rendered by two forked workers equal those drawn in the process, with the same warnings."""
    from scalefit import _report_figures as figures_module

    monkeypatch.setattr(figures_module, "_workers", lambda n_jobs, n_tasks: 1 if n_jobs == 1 else 2)
    runs = scalefit.read_runs(scalefit.datasets.synthetic_path("isoflop"))
    serial = build_report(runs, bootstrap=20, n_jobs=1, progress=False)
    forked = build_report(runs, bootstrap=20, n_jobs=2, progress=False)
    assert [f.title for f in forked.figures] == [f.title for f in serial.figures]
    assert [f.png for f in forked.figures] == [f.png for f in serial.figures]
    assert forked.warnings == serial.warnings and forked.skipped == serial.skipped


def test_report_renders_the_point_fits_figures_while_the_analyses_run(monkeypatch):
    """Figures go to workers as soon as what they draw is ready: the point fit's before the bootstrap starts."""
    from scalefit import _report_figures as figures_module
    from scalefit.fitting._result import FitResult

    monkeypatch.setattr(figures_module, "_workers", lambda n_jobs, n_tasks: 2)
    events = []
    real_submit, real_boot = figures_module._Renderer.submit, FitResult.bootstrap

    def submit(self, draws, processes=None):
        events.append(("submit", len(draws), processes))
        return real_submit(self, draws, processes)

    def boot(self, *args, **kwargs):
        events.append(("bootstrap",))
        return real_boot(self, *args, **kwargs)

    monkeypatch.setattr(figures_module._Renderer, "submit", submit)
    monkeypatch.setattr(FitResult, "bootstrap", boot)
    runs = scalefit.read_runs(scalefit.datasets.synthetic_path("isoflop"))
    rep = build_report(runs, bootstrap=20, n_jobs=2, progress=False)
    # contours, fit against data, training time and cost: one worker, before the bootstrap; then the extrapolation
    # and the bootstrap's distributions in another, before the approaches; the last three after the approaches
    assert events[:3] == [("submit", 3, 1), ("bootstrap",), ("submit", 2, 1)]
    assert ("submit", 3, None) in events[3:]
    assert all(f.png for f in rep.figures) and len(rep.figures) == 8


def test_a_worker_forked_again_later_still_finds_its_own_drawings(monkeypatch):
    """A pool replaces a worker that died by forking again: the drawings of its submission must still be there."""
    from scalefit import _report_figures as figures_module
    from scalefit._errors import ScalefitInputError as Refused

    monkeypatch.setattr(figures_module, "_workers", lambda n_jobs, n_tasks: 2)

    def first():
        raise Refused("the first submission's drawing")

    def second():
        raise Refused("the second submission's drawing")

    with figures_module._Renderer(50, 2) as renderer:
        assert renderer.forking
        renderer.submit([first], processes=1)
        renderer.submit([second], processes=1)
        # what a worker forked now for the first pool would render, as its task (0, 0) says
        assert figures_module._render_one((0, 0))[1] == "the first submission's drawing"
        assert [r[1] for r in renderer.results([first, second])] == ["the first submission's drawing",
                                                                     "the second submission's drawing"]
    assert figures_module._PENDING == {}


def test_report_figure_warnings_and_errors_come_back_from_workers(monkeypatch):
    """A drawing's warning and a drawing's error reach the report from a forked worker, as from a drawing in the process."""
    from scalefit import _report_figures as figures_module
    from scalefit._errors import ScalefitWarning, collect_warnings, warn

    def warns():
        warn("drawn with a caveat", ScalefitWarning)
        raise ScalefitInputError("nothing to draw")

    for workers in (1, 2):
        monkeypatch.setattr(figures_module, "_workers", lambda n_jobs, n_tasks, w=workers: w)
        with collect_warnings() as box:
            got = figures_module._render_figures([warns, warns], 50, -1)
        assert [(png, error) for png, error, _ in got] == [(None, "nothing to draw")] * 2
        assert [str(w) for w in box] == []  # not yet warned: _figures warns them, in figure order
        assert [(c, m) for _, _, raised in got for c, m, _ in raised] == [(ScalefitWarning, "drawn with a caveat")] * 2


def test_report_of_a_law_that_names_a_parameter_a():
    """The over-training law (Gadre et al. 2024) has a parameter named "a": the bootstrap table is not the Chinchilla
    exponent's (it raised "Chinchilla parameters need E, A, B ..." while writing the HTML)."""
    runs = scalefit.read_runs(scalefit.datasets.synthetic_path("isoflop"))
    rep = build_report(runs, law="over-training", bootstrap=20, n_jobs=1, progress=False, figures=False)
    html = rep.to_html()
    assert "over-training" in html and "eta" in html


def test_warnings_that_matter_say_each_per_budget_note_once():
    """A QA report: five budgets' extrapolation notes filled the summary's six warnings, crowding out the rest
    (the approaches' disagreement among them)."""
    from scalefit._report_html import _one_per_kind

    notes = ["14 run(s) have residuals beyond 3 robust standard deviations",
             "extrapolation: the plan's 1.5e+21 FLOPs are 10.1x the largest run's 1.49e+20 FLOPs.",
             "extrapolation in shape: the plan's 0.416 tokens per parameter lie outside the fitted runs' 1.37 to 218.",
             "extrapolation: the plan's 5.76e+23 FLOPs are 3.87e+03x the largest run's 1.49e+20 FLOPs.",
             "extrapolation in shape: the plan's 0.248 tokens per parameter lie outside the fitted runs' 1.37 to 218."]
    assert _one_per_kind(notes) == [
        notes[0],
        "extrapolation: the plans reach 5.76e+23 FLOPs, 3.87e+03x the largest run's 1.49e+20 FLOPs (the furthest of "
        "2 budgets beyond it).",
        "extrapolation in shape: the plan's 0.416 tokens per parameter lie outside the fitted runs' 1.37 to 218 "
        "(2 budgets).",
    ]
    assert _one_per_kind(notes[:2]) == notes[:2]


def test_warnings_that_matter_put_the_methods_before_repeated_extrapolation():
    """A QA report: the approaches' disagreement sat in the details while the summary repeated extrapolation
    warnings, once from the plan's notes and again from its planners, for budgets the user never asked for."""
    import types

    from scalefit._report_html import _warnings_that_matter

    plan = types.SimpleNamespace(warnings=("extrapolation: the plan's 3e+23 FLOPs are 77x the largest run's 3.9e+21 FLOPs.",))
    collected = ["ExtrapolationWarning: the plan uses 6.91e+23 FLOPs, 177x the largest run",
                 "SensitivityWarning: The objectives agree on a within its noise, but N* moves by up to 83%",
                 "ApproachesDisagreeWarning: The approaches disagree: envelope gives a = 0.41 and parametric a = 0.69"]
    got = _warnings_that_matter(types.SimpleNamespace(plan=plan, warnings=collected))
    assert got[0] == plan.warnings[0]
    assert got[1].startswith("The approaches disagree") and got[2].startswith("The objectives agree")
    assert not any("6.91e+23" in w for w in got)
