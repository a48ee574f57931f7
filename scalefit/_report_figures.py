"""The report's figures: which ones a report shows, and their PNGs, rendered in forked workers where that pays.

:func:`scalefit.report.build_report` calls :func:`_figures` with the analyses'
results; each :class:`Figure` keeps its drawing (``draw``) so that
:func:`scalefit.report.save_figures` can draw it again for a paper.
"""
from __future__ import annotations

import io
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ._errors import ScalefitInputError, collect_warnings, warn


@dataclass(frozen=True)
class Figure:
    title: str
    caption: str
    png: bytes | None
    error: str | None = None
    draw: Callable[[], Any] | None = field(default=None, repr=False, compare=False)


# ------------------------------------------------------------------ figures
def _png(draw: Callable[[], Any], dpi: int = 100) -> bytes:
    """The figure ``draw()`` makes, as PNG bytes at ``dpi``.

    The same pixels as ``figure.savefig(format="png", dpi=dpi)`` (checked figure by figure in
    tests/test_report.py), drawn once: savefig lays out and draws a figure that has a layout
    engine twice (a dry draw, then the real one), and the constrained layout is most of the time a
    figure takes.  The figure is drawn by its own Agg canvas and the pixels are encoded as
    savefig's Agg backend encodes them.
    """
    import matplotlib.image as mimage
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = draw().figure_
    try:
        fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        buf = io.BytesIO()
        mimage.imsave(buf, np.asarray(canvas.buffer_rgba()), format="png", origin="upper", dpi=dpi)
    finally:
        plt.close(fig)
    return buf.getvalue()


def _figures(result, boot, iso, env, hw, skipped, *, budgets: Sequence[float] = (), dpi: int = 100, n_jobs: int = 1) -> list:
    try:
        # the figures are rendered to PNG with savefig; the user's backend is left as it is
        from . import plots
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        skipped["Figures"] = f"matplotlib is not available ({exc})"
        return []
    specs: list[tuple[str, str, Callable[[], Any]]] = []
    if iso is not None:
        specs.append(("IsoFLOP profiles", "Loss against model size for each FLOP budget, with the fitted curves and their minima (Hoffmann et al. 2022, Fig. 3 left).",
                      lambda: plots.plot_isoflop_profiles(iso)))
        specs.append(("Optimal N and D (Approach 2)", "Per-budget optima (hollow: left out of the fit) with power-law fits and "
                      "bootstrap bands, extended to the planned budgets (stars, with their intervals) (Fig. 3 centre and right).",
                      lambda: plots.plot_optimal_scaling(iso, flops=budgets)))
    if env is not None:
        specs.append(("Training-curve envelope (Approach 1)", "Training curves coloured by model size, with their lower envelope (Fig. 2).",
                      lambda: plots.plot_envelope(env)))
        specs.append(("Optimal N and D (Approach 1)", "Envelope points (hollow: left out of the fit) with power-law fits and "
                      "bootstrap bands, extended to the planned budgets (stars, with their intervals).",
                      lambda: plots.plot_optimal_scaling(env, flops=budgets)))
    given = {"parametric": boot if boot is not None else result}
    given.update({k: v for k, v in (("isoflop", iso), ("envelope", env)) if v is not None and getattr(v, "success", True)})
    specs.append(("The three approaches and tokens per parameter",
                  "N* against compute for each approach that ran, extended to the planned budgets (dotted lines), with "
                  "95% bootstrap bands and interval bars at the plan (Hoffmann et al. 2022, Fig. 1); right: the tokens per "
                  "parameter D*/N* each approach gives as compute grows.",
                  lambda: plots.plot_approaches(given, flops=budgets, data_flops=result.runs.flops)))
    specs.append(("Loss contours and efficient frontier", "The fitted loss over compute and model size (labelled contours), the compute-optimal frontier, and the runs as white markers (Fig. 4).",
                  lambda: plots.plot_loss_contours(result)))
    specs.append(("Fit against data", "Predicted against observed loss, and residuals against N, D and C.",
                  lambda: plots.plot_fit(result)))
    specs.append(("Extrapolation", "Loss along the compute-optimal frontier with bootstrap bands beyond the data, "
                  "to the planned budgets (each marked with its loss and interval).",
                  lambda: plots.plot_extrapolation(boot if boot is not None else result, flops=list(budgets) or None)))
    if boot is not None:
        specs.append(("Bootstrap distributions", "Bootstrap draws of each parameter and of a = beta/(alpha+beta).",
                      lambda: plots.plot_bootstrap(boot)))
    kw = {k: hw[k] for k in ("gpu", "mfu", "flops_per_gpu", "price_per_gpu_hour") if hw.get(k) is not None}
    # the point fit: this figure draws no interval (time depends on N* D* = C/k only), so the 31 budgets x every
    # bootstrap draw that the bootstrap result would plan are skipped; the lines are the same (the plan's point
    # estimate is the fit's)
    specs.append(("Training time and cost", f"Compute-optimal runs on {hw.get('n_gpus')} x {hw.get('gpu', 'GPU')} at {hw.get('mfu', '')} MFU.",
                  lambda: plots.plot_training_cost(result, n_gpus=hw["n_gpus"], **kw)))
    specs = [(title, caption, _laid_out(draw)) for title, caption, draw in specs]
    out = []
    for (title, caption, draw), (png, error, raised) in zip(specs, _render_figures([d for _, _, d in specs], dpi, n_jobs)):
        for category, message, options in raised:  # into the report's warnings, in figure order as when drawn here
            warn(message, category, options=options)
        out.append(Figure(title, caption, png, error, draw=draw if png is not None else None))
        if error is not None:
            skipped[f"Figure: {title}"] = error
    return out


def _laid_out(draw: Callable[[], Any]) -> Callable[[], Any]:
    """``draw`` with fixed margins instead of the constrained layout (:func:`scalefit.plots._base.fixed_layout`).

    A report figure is drawn this way wherever it is drawn (the report's PNG, ``save_figures``),
    so the same drawing gives the same picture.
    """
    def laid_out() -> Any:
        from .plots._base import fixed_layout

        with fixed_layout():
            return draw()

    return laid_out


#: The drawings being rendered by forked workers: set just before the pool forks, so each worker inherits them.
_PENDING: list[tuple[Callable[[], Any], int]] = []
#: One report at a time renders through forked workers (held while _PENDING is set); others render in their thread.
_FORKING = threading.Lock()


def _render_one(i: int) -> tuple[bytes | None, str | None, list[tuple[type, str, tuple]]]:
    """Render pending figure ``i`` (in a forked worker)."""
    return _render_draw(*_PENDING[i])


def _render_draw(draw: Callable[[], Any], dpi: int) -> tuple[bytes | None, str | None, list[tuple[type, str, tuple]]]:
    """A figure's PNG (or None and the error) and the warnings its drawing raised."""
    png, error = None, None
    with collect_warnings() as box:
        try:
            png = _png(draw, dpi)
        except (ScalefitInputError, ValueError) as exc:
            error = str(exc)
    return png, error, [(type(w), str(w), tuple(getattr(w, "options", ()))) for w in box]


def _workers(n_jobs: int, n_tasks: int) -> int:
    """Processes to render ``n_tasks`` figures with, as joblib counts ``n_jobs`` (-1: every core this process may use)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    wanted = n_jobs if n_jobs > 0 else max(cores + 1 + n_jobs, 1)
    return max(1, min(wanted, cores, n_tasks))


def _worker_signals() -> None:
    """A render worker dies on SIGTERM and leaves Ctrl-C to the parent, which terminates the pool."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _render_figures(draws: Sequence[Callable[[], Any]], dpi: int, n_jobs: int) -> list:
    """Render every drawing (see :func:`_render_draw`), in forked processes when ``n_jobs`` allows more than one.

    Drawing is pure Python (matplotlib's layout holds the GIL), so threads would not help; forked
    workers inherit the drawings and the analyses they draw from, and send back PNG bytes only.
    Where ``fork`` is unavailable or unsafe (not Linux), or another thread's report is rendering
    through workers, the figures are rendered here, one by one.
    The pool is terminated on the way out, so no worker outlives the report (SIGTERM and Ctrl-C
    included).
    """
    global _PENDING
    workers = _workers(n_jobs, len(draws))
    if workers < 2 or not sys.platform.startswith("linux") or not _FORKING.acquire(blocking=False):
        return [_render_draw(d, dpi) for d in draws]
    _PENDING = [(d, dpi) for d in draws]
    try:
        import multiprocessing
        import warnings

        import matplotlib.backends.backend_agg  # noqa: F401 - imported once here, inherited by every worker
        import matplotlib.image  # noqa: F401
        import matplotlib.pyplot  # noqa: F401

        with warnings.catch_warnings():
            # Python >= 3.12 warns that forking a process with threads (loky's, the GUI's) may deadlock;
            # the workers only draw with matplotlib and numpy, which hold no lock across a fork
            warnings.simplefilter("ignore", DeprecationWarning)
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_signals)
        try:
            return pool.map(_render_one, range(len(draws)), chunksize=1)
        finally:
            pool.terminate()
            pool.join()
    finally:
        _PENDING = []
        _FORKING.release()
