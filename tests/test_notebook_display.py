"""Notebooks: every result has a short repr, an HTML repr and to_frame(); a bootstrap in a Jupyter kernel
shows a progress bar by default (scalefit/_summary.py DictDisplay, fitting/bootstrap.py _attached)."""
from __future__ import annotations

import warnings
from pathlib import Path

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


NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "results_in_a_notebook.ipynb"


def _html(cell) -> str:
    """The text/html of a cell's result (its last expression), or ''."""
    results = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    return results[0]["data"].get("text/html", "") if results else ""


def test_notebook_run_by_nbmake_shows_a_progress_bar_and_html_tables():
    """nbmake runs notebooks/results_in_a_notebook.ipynb (its NotebookRun, what the pytest plugin's items call)
    and the executed outputs hold tqdm's bar for the default bootstrap and an HTML table for each result."""
    nb_run = pytest.importorskip("nbmake.nb_run", reason="nbmake is a test extra")
    result = nb_run.NotebookRun(NOTEBOOK, 600).execute()
    assert result.error is None, result.error.trace if result.error else ""
    boot = next(c for c in result.nb.cells if c.cell_type == "code" and c.source.startswith("boot ="))
    # the bar: tqdm's text bar on stderr (tqdm.auto without ipywidgets), or its widget when ipywidgets is installed
    streams = " ".join(o.get("text", "") for o in boot.outputs if o["output_type"] == "stream")
    widgets = [o for o in boot.outputs if o["output_type"] == "display_data"
               and "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert ("bootstrap" in streams and "20/20" in streams and "100%" in streams) or widgets, boot.outputs
    # the results as HTML tables
    assert "scalefit bootstrap" in _html(boot) and "<table" in _html(boot)
    fit = next(c for c in result.nb.cells if c.cell_type == "code" and c.source.rstrip().endswith("\nfit"))
    assert "<table" in _html(fit) and "chinchilla" in _html(fit)
    iso, loaded = (next(c for c in result.nb.cells if c.cell_type == "code" and c.source.rstrip().endswith(f"\n{name}"))
                   for name in ("iso", "loaded"))
    assert "IsoFLOP analysis" in _html(iso) and "<table" in _html(iso)
    assert _html(loaded) == _html(iso)  # loaded back from JSON, the same table
    plan = next(c for c in result.nb.cells if c.cell_type == "code" and c.source.rstrip().endswith("\nplan"))
    assert "Parameters" in _html(plan) and "Tokens" in _html(plan)
    # progress=False: no bar in the same kernel
    quiet = next(c for c in result.nb.cells if c.cell_type == "code" and c.source.startswith("quiet ="))
    assert not [o for o in quiet.outputs if o["output_type"] == "stream" and "bootstrap" in o.get("text", "")]
    assert not [o for o in quiet.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
