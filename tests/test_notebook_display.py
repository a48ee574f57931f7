"""Notebooks: every result has a short repr, an HTML repr and to_frame(); a bootstrap in a Jupyter kernel
shows a progress bar by default (scalefit/_summary.py DictDisplay, fitting/bootstrap.py _attached)."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

import scalefit


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = scalefit.read_runs("synthetic:isoflop")
        fit = scalefit.fit(runs)
        boot = fit.bootstrap(10, seed=0, n_jobs=1, progress=False)
        plan = scalefit.compute_optimal(boot, [1e22, 1e23])
        shape = scalefit.shape(7e10, vocab_size=32000, context=4096)
        return {
            "Runs": runs, "FitResult": fit, "BootstrapResult": boot,
            "CompareResult": scalefit.compare(runs, laws=["chinchilla", "kaplan-nd"], holdout_flops=1e21),
            "IsoFLOPResult": scalefit.isoflop(runs),
            "EnvelopeResult": scalefit.envelope("synthetic:curves"),
            "AllocationTable": plan, "Allocation": plan[0],
            "TrainingEstimate": scalefit.training_time(7e10, 1.4e12, n_gpus=1024, gpu="A100", mfu=0.4),
            "Shape": shape,
        }


@pytest.mark.parametrize("name", ["Runs", "FitResult", "BootstrapResult", "CompareResult", "IsoFLOPResult",
                                  "EnvelopeResult", "AllocationTable", "Allocation", "TrainingEstimate", "Shape"])
def test_every_result_displays(results, name):
    res = results[name]
    text = repr(res)
    if name == "AllocationTable":  # its repr is the plan table (Hoffmann et al. 2022, Table A3 style), by design
        text = text.splitlines()[0]
    assert len(text) < 600 and "DataFrame" not in text and "\n\n" not in text, text
    page = res._repr_html_()
    assert "<table" in page or "<pre>" in page
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) >= 1


def test_training_estimate_repr_uses_human_units(results):
    text = repr(results["TrainingEstimate"])
    assert text.startswith("TrainingEstimate(n_params=70B, n_tokens=1.4T") and "days=53.3" in text


def test_progress_bar_in_a_notebook(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbmake (test extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient comes with nbmake (test extra)")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import warnings, scalefit\nwarnings.simplefilter('ignore')\n"
        "fit = scalefit.fit('synthetic:isoflop')\nboot = fit.bootstrap(12, seed=0, n_jobs=1)\nboot"),
        nbformat.v4.new_code_cell("fit.bootstrap(12, seed=0, n_jobs=1, progress=False)")]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    first, second = nb.cells[0].outputs, nb.cells[1].outputs
    shown = " ".join(o.get("text", "") for o in first if o["output_type"] == "stream")
    widgets = [o for o in first if o["output_type"] == "display_data"
               and "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert "bootstrap" in shown and "12/12" in shown or widgets, first  # the text bar, or tqdm's widget
    html = [o for o in first if o["output_type"] == "execute_result"][0]["data"]["text/html"]
    assert "scalefit bootstrap" in html and "<table" in html
    assert not [o for o in second if o["output_type"] == "stream" and "bootstrap" in o.get("text", "")]
