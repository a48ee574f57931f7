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
#: matplotlib settings of the report's PNGs.  Text unhinted: FreeType's hinting made each glyph's rendering about
#: twice as slow, a quarter of the report's drawing time, for text that looks the same at the report's size
#: (benchmarks/RESULTS.md, issue 12, "the report in under 2.5 s", session 23).
_PNG_RC: Any = {"text.hinting": "none"}


def _png(draw: Callable[[], Any], dpi: int = 100) -> bytes:
    """The figure ``draw()`` makes, as PNG bytes at ``dpi``.

    The same pixels as ``figure.savefig(format="png", dpi=dpi)`` under :data:`_PNG_RC` (checked
    figure by figure in tests/test_report.py), drawn once: savefig lays out and draws a figure that has a layout
    engine twice (a dry draw, then the real one), and the constrained layout is most of the time a
    figure takes.  The figure is drawn by its own Agg canvas and the pixels are encoded as
    savefig's Agg backend encodes them.
    """
    import matplotlib
    import matplotlib.image as mimage
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with matplotlib.rc_context(_PNG_RC):
        fig = draw().figure_
        try:
            fig.set_dpi(dpi)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            buf = io.BytesIO()
            # zlib level 1: the same pixels, encoded in about half the time of the default level 6, for files
            # about 3% larger (benchmarks/RESULTS.md, issue 12, "the report in under 2.5 s", session 22)
            mimage.imsave(buf, np.asarray(canvas.buffer_rgba()), format="png", origin="upper", dpi=dpi,
                          pil_kwargs={"compress_level": 1})
        finally:
            plt.close(fig)
    return buf.getvalue()


#: A drawing of the report: title, caption and the function that draws it.
Spec = tuple[str, str, Callable[[], Any]]


def _fit_specs(result, hw) -> list[Spec]:
    """The figures that need only the point fit: rendered while the bootstrap and the approaches run."""
    from . import plots

    kw = {k: hw[k] for k in ("gpu", "mfu", "flops_per_gpu", "price_per_gpu_hour") if hw.get(k) is not None}
    specs: list[Spec] = [
        ("Loss contours and efficient frontier", "The fitted loss over compute and model size (labelled contours), the compute-optimal frontier, and the runs as white markers (Fig. 4).",
         lambda: plots.plot_loss_contours(result)),
        ("Fit against data", "Predicted against observed loss, and residuals against N, D and C.",
         lambda: plots.plot_fit(result)),
        # the point fit: this figure draws no interval (time depends on N* D* = C/k only), so the 31 budgets x every
        # bootstrap draw that the bootstrap result would plan are skipped; the lines are the same (the plan's point
        # estimate is the fit's)
        ("Training time and cost", f"Compute-optimal runs on {hw.get('n_gpus')} x {hw.get('gpu', 'GPU')} at {hw.get('mfu', '')} MFU.",
         lambda: plots.plot_training_cost(result, n_gpus=hw["n_gpus"], **kw)),
    ]
    return _laid_out_specs(specs)


def _boot_specs(result, boot, *, budgets: Sequence[float]) -> list[Spec]:
    """The figures that need only the fit and its bootstrap: rendered while the approaches run."""
    from . import plots

    specs: list[Spec] = [("Extrapolation", "Loss along the compute-optimal frontier with bootstrap bands beyond the data, "
                          "to the planned budgets (each marked with its loss and interval).",
                          lambda: plots.plot_extrapolation(boot if boot is not None else result, flops=list(budgets) or None))]
    if boot is not None:
        specs.append(("Bootstrap distributions", "Bootstrap draws of each parameter and of a = beta/(alpha+beta).",
                      lambda: plots.plot_bootstrap(boot)))
    return _laid_out_specs(specs)


def _specs(result, iso, env, fit_specs: Sequence[Spec], boot_specs: Sequence[Spec], *, boot,
           budgets: Sequence[float]) -> list[Spec]:
    """Every figure of the report, in its order: those of the approaches, then ``fit_specs`` (:func:`_fit_specs`)
    and ``boot_specs`` (:func:`_boot_specs`) in their places."""
    from . import plots

    specs: list[Spec] = []
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
    return _laid_out_specs(specs) + list(fit_specs[:2]) + list(boot_specs) + list(fit_specs[2:])


def _figures(specs: Sequence[Spec], renderer: "_Renderer", skipped: dict) -> list:
    """The report's figures from ``specs``: those already submitted to ``renderer`` are not drawn again."""
    out = []
    for (title, caption, draw), (png, error, raised) in zip(specs, renderer.results([d for _, _, d in specs])):
        for category, message, options in raised:  # into the report's warnings, in figure order as when drawn here
            warn(message, category, options=options)
        out.append(Figure(title, caption, png, error, draw=draw if png is not None else None))
        if error is not None:
            skipped[f"Figure: {title}"] = error
    return out


def _laid_out_specs(specs: Sequence[Spec]) -> list[Spec]:
    """``specs`` with each drawing wrapped in :func:`_laid_out`."""
    return [(title, caption, _laid_out(draw)) for title, caption, draw in specs]


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
#: Keyed by submission, and kept until the report is done: a worker the pool forks again later (to replace
#: one that died) must still find its own submission's drawings.
_PENDING: dict[int, list[tuple[Callable[[], Any], int]]] = {}
#: One report at a time renders through forked workers (held while _PENDING is set); others render in their thread.
_FORKING = threading.Lock()


def _render_one(task: tuple[int, int]) -> tuple[bytes | None, str | None, list[tuple[type, str, tuple]]]:
    """Render pending figure ``i`` (in a forked worker)."""
    key, i = task
    return _render_draw(*_PENDING[key][i])


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


class _Renderer:
    """Renders drawings as they become ready: in forked workers when ``n_jobs`` allows more than one, else here.

    It also owns the report's other forked work: :meth:`call` starts an analysis in a forked process
    (:class:`scalefit._forked.ForkedCall`), ended with the pools when the ``with`` block is left.

    :meth:`submit` starts rendering some drawings now (the report submits the figures of the point fit
    while its bootstrap and approaches run); :meth:`results` renders the rest and returns every result in
    the order asked.  Drawing is pure Python (matplotlib's layout holds the GIL), so threads would not
    help; forked workers inherit the drawings and the analyses they draw from, and send back PNG bytes
    only.  Where ``fork`` is unavailable or unsafe (not Linux), or another thread's report is rendering
    through workers, every drawing is rendered here, one by one, in :meth:`results`.  Leaving the
    ``with`` block terminates every pool, so no worker outlives the report (SIGTERM and Ctrl-C included).
    """

    def __init__(self, dpi: int, n_jobs: int) -> None:
        self.dpi, self.workers = dpi, _workers(n_jobs, 1 << 30)
        self.forking = False
        self.started: dict[int, Any] = {}  # id(drawing) -> its pending result (AsyncResult and position)
        self.pools: list[Any] = []
        self.calls: list[Any] = []

    def __enter__(self) -> "_Renderer":
        self.forking = (self.workers >= 2 and sys.platform.startswith("linux")
                        and _FORKING.acquire(blocking=False))
        return self

    def __exit__(self, *exc: Any) -> None:
        global _PENDING
        for call in self.calls:
            call.close()
        self.calls = []
        for pool in self.pools:
            pool.terminate()
            pool.join()
        self.pools = []
        if self.forking:
            _PENDING = {}
            self.forking = False
            _FORKING.release()

    def call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` started now in a forked process when forking, else run at ``.result()`` (:class:`scalefit._forked.ForkedCall`)."""
        from ._forked import ForkedCall

        job = ForkedCall(fn, fork=self.forking)
        self.calls.append(job)
        return job

    def submit(self, draws: Sequence[Callable[[], Any]], processes: int | None = None) -> None:
        """Start rendering ``draws`` in ``processes`` forked workers (default: all); nothing happens when not forking."""
        if not self.forking or not draws:
            return
        import multiprocessing
        import warnings

        import matplotlib.backends.backend_agg  # noqa: F401 - imported once here, inherited by every worker
        import matplotlib.image  # noqa: F401
        import matplotlib.pyplot  # noqa: F401

        key = len(self.pools)
        _PENDING[key] = [(d, self.dpi) for d in draws]  # what this pool's workers inherit
        with warnings.catch_warnings():
            # Python >= 3.12 warns that forking a process with threads (loky's, the GUI's) may deadlock;
            # the workers only draw with matplotlib and numpy, which hold no lock across a fork
            warnings.simplefilter("ignore", DeprecationWarning)
            pool = multiprocessing.get_context("fork").Pool(min(processes or self.workers, self.workers, len(draws)),
                                                            initializer=_worker_signals)
        self.pools.append(pool)
        pending = pool.map_async(_render_one, [(key, i) for i in range(len(draws))], chunksize=1)
        for i, d in enumerate(draws):
            self.started[id(d)] = (pending, i)

    def results(self, draws: Sequence[Callable[[], Any]]) -> list:
        """Each drawing's :func:`_render_draw` result, in order (those not yet submitted are submitted now)."""
        self.submit([d for d in draws if id(d) not in self.started])
        return [self.started[id(d)][0].get()[self.started[id(d)][1]] if id(d) in self.started
                else _render_draw(d, self.dpi) for d in draws]


def _render_figures(draws: Sequence[Callable[[], Any]], dpi: int, n_jobs: int) -> list:
    """Render every drawing (see :func:`_render_draw`), in forked processes when ``n_jobs`` allows more than one."""
    with _Renderer(dpi, n_jobs) as renderer:
        return renderer.results(draws)
