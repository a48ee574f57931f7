"""A self-contained HTML report: data, fits, the three approaches, a plan, and figures.

:func:`build_report` runs the analyses and returns a :class:`Report` holding
every result; :meth:`Report.write` writes one HTML file with the figures inlined
as PNG data URIs, inline CSS, and no scripts, fonts or links to fetch, so it
opens anywhere, offline.  Sections the data cannot support (no training curves,
no FLOP budgets) are listed with the reason rather than silently left out.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._errors import Option, PlanRefusedError, ScalefitInputError, collect_warnings
from ._format import MISSING_HTML, html_table
from ._report_html import CSS as _CSS
from ._report_html import _budget, approaches_table, plan_table, reader_text, summary_html, training_table, wrap
from ._io import html_marker, write_text
from ._report_figures import Figure as Figure  # noqa: F401 - a report's figures are scalefit.report.Figure
from ._report_figures import _boot_specs, _figures, _fit_specs, _Renderer, _specs

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where a table is built, so that argument errors stay quick
    import pandas as pd

#: Default hardware for the planning table: 1,024 H100 at 40% MFU, $2.50 per GPU-hour.
DEFAULT_HARDWARE = dict(n_gpus=1024, gpu="H100-SXM", mfu=0.4, price_per_gpu_hour=2.5)
#: Default architecture of the configuration table: Llama 2's blocks, vocabulary and context (Touvron et al. 2023).
DEFAULT_SHAPE = dict(family="llama", vocab_size=32000, context=4096)


@dataclass(frozen=True, eq=False)
class Report:
    """Everything a report shows.  Write it with :meth:`write` or get the HTML with :meth:`to_html`.

    Attributes
    ----------
    runs, curves : Runs
        The runs fitted (final points) and the training curves (or None).
    fit : FitResult
    bootstrap : BootstrapResult or None
    isoflop, envelope : results of Approaches 2 and 1, or None
    approaches : ApproachComparison or None
    plan : AllocationTable
    skipped : dict
        Section -> reason it could not be produced.
    figures : list of Figure
    warnings : list of str
        Warnings raised while building the report (shown in it).
    configurations : list of RunConfiguration
        The configuration to launch for each planned budget (those a shape reaches).
    """

    title: str
    runs: Any
    curves: Any
    fit: Any
    bootstrap: Any
    isoflop: Any
    envelope: Any
    approaches: Any
    plan: Any
    training: pd.DataFrame
    skipped: dict
    figures: list
    warnings: list = field(default_factory=list)
    configurations: list = field(default_factory=list)
    hardware: dict = field(default_factory=lambda: dict(DEFAULT_HARDWARE))
    sensitivity: Any = None

    def warnings_that_matter(self) -> list[str]:
        """The plan's warnings, then those whose kind changes how far to trust it (at most six), as the summary lists them."""
        from ._report_html import _warnings_that_matter

        return _warnings_that_matter(self)

    def to_html(self) -> str:
        return _render(self)

    def save_figures(self, folder: str | Path, *, formats: Sequence[str] = ("png", "svg", "pdf"), dpi: int = 200,
                     overwrite: bool = False) -> list[Path]:
        """Save every figure as PNG, SVG and PDF in ``folder`` (see :func:`save_figures`)."""
        return save_figures(self, folder, formats=formats, dpi=dpi, overwrite=overwrite)

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the HTML file atomically; refuses to replace an existing file or link unless ``overwrite=True``.

        Raises
        ------
        OutputExistsError
            ``path`` exists (checked when the file is renamed into place) and ``overwrite`` is False.
        """
        path = Path(path)
        text = self.to_html()  # before touching the file: a failure here leaves any previous file whole
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text(path, text, replace="any" if overwrite else "never")


_FIGURE_FORMATS = ("png", "svg", "pdf")


def _slug(title: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _check_dpi(dpi: Any, where: str) -> None:
    if not isinstance(dpi, (int, np.integer)) or isinstance(dpi, bool) or not 10 <= dpi <= 2400:
        raise ScalefitInputError(f"{where}: dpi={dpi!r}: give a whole number from 10 to 2400.", option="dpi", values=[dpi],
                                 options=(Option("dpi", repr(dpi)),))


def _figure_paths(report: Report, folder: Path, formats: Sequence[str]) -> list[Path]:
    """The files :func:`save_figures` writes: ``NN-<slug>.<format>`` for each figure that was drawn."""
    drawn = [f for f in report.figures if f.draw is not None and f.png is not None]
    return [folder / f"{i + 1:02d}-{_slug(f.title)}.{fmt}" for i, f in enumerate(drawn) for fmt in formats]


def check_figure_files(report: Report, folder: str | Path, *, formats: Sequence[str] = ("png", "svg", "pdf")) -> None:
    """Refuse, before anything is written, when :func:`save_figures` would replace a file in ``folder``."""
    from ._io import _refuse

    taken = [p for p in _figure_paths(report, Path(folder), formats) if p.exists() or p.is_symlink()]
    if taken:
        raise _refuse(taken[0], f"exists ({len(taken)} figure file(s) would be replaced)", "overwrite")


def save_figures(report: Report, folder: str | Path, *, formats: Sequence[str] = ("png", "svg", "pdf"),
                 dpi: int = 200, overwrite: bool = False) -> list[Path]:
    """Draw every figure of ``report`` again and save it in ``folder`` as ``<slug>.<format>`` for a paper.

    Parameters
    ----------
    report : Report
    folder : str or Path
        Created if missing.
    formats : sequence of {"png", "svg", "pdf"}
        SVG and PDF are vector; ``dpi`` sets the PNG resolution.
    dpi : int
    overwrite : bool
        Replace files that exist (refused by default, before anything is written).

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib.pyplot as plt

    bad = [f for f in formats if f not in _FIGURE_FORMATS]
    if bad or not formats:
        raise ScalefitInputError(f"save_figures: format(s) {bad or list(formats)} unknown; use png, svg or pdf.",
                                 option="formats", values=bad)
    _check_dpi(dpi, "save_figures")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ScalefitInputError(f"save_figures: {folder} is a file; give a folder.", option="folder")
    drawn = [f for f in report.figures if f.draw is not None and f.png is not None]
    if not overwrite:
        check_figure_files(report, folder, formats=formats)
    folder.mkdir(parents=True, exist_ok=True)
    paths = iter(_figure_paths(report, folder, formats))
    out = []
    for f in drawn:
        with collect_warnings():  # the report already lists what these drawings warn about
            fig = f.draw().figure_
        try:
            for fmt in formats:
                path = next(paths)
                fig.savefig(path, format=fmt, dpi=dpi)
                out.append(path)
        finally:
            plt.close(fig)
    return out


def build_report(
    runs: Any,
    *,
    curves: Any = None,
    law: str = "chinchilla",
    bootstrap: int = 1000,
    seed: int = 0,
    budgets: Sequence[float] | None = None,
    hardware: dict | None = None,
    title: str | None = None,
    n_jobs: int = -1,
    progress: bool | None = None,
    figures: bool = True,
    shape: dict | None = None,
    budget: str | None = None,
    method: str = "profile",
    group_by: str | Sequence[str] | None = None,
    loss: str = "huber",
    delta: float = 1e-3,
    wording: Callable[[BaseException | Warning], str] | None = None,
    dpi: int = 100,
) -> Report:
    """Run the analyses a report shows.

    Parameters
    ----------
    runs : Runs or anything :func:`scalefit.read_runs` accepts
        The runs.  When they hold training curves, the fit and the IsoFLOP
        analysis use each run's final checkpoint and the envelope uses the curves.
    curves : Runs, optional
        Separate training curves for Approach 1 (e.g. the bundled synthetic curves).
    law : str
        Law for the parametric fit (Approach 3), default "chinchilla".
    bootstrap : int
        Resamples for every bootstrap (0 for none).
    seed : int
    budgets : sequence of float, optional
        FLOP budgets of the planning table; default: from the largest run's
        compute up 1,000-fold, plus Chinchilla's 5.76e23.
    hardware : dict, optional
        ``n_gpus``, ``gpu`` (or ``flops_per_gpu``), ``mfu``, ``price_per_gpu_hour``
        for the training time and cost columns; default :data:`DEFAULT_HARDWARE`.
    title : str, optional
    n_jobs : int
        Workers for the fit's bootstrap, and processes to render the figures
        with (forked, on Linux; -1: every core, and for the bootstrap as many
        as its amount of work pays for, ``FitResult.bootstrap(n_jobs=None)``).
    progress : bool, optional
        Progress bars (default: when stderr is a terminal).
    figures : bool
        Draw the figures (needs matplotlib).
    shape : dict, optional
        Options of :func:`scalefit.shape` for the configuration of each budget
        (layers, width, exact FLOPs, batch, learning rate, memory, GPUs); default
        :data:`DEFAULT_SHAPE`.
    budget : str, optional
        Column holding each run's FLOP budget for Approach 2 (default: cluster the flops column).
    method : {"profile", "nearest", "parabola", "cubic"}
        How Approach 2 finds each budget's minimum (see :func:`scalefit.isoflop`).
    group_by : str or sequence of str, optional
        Columns naming configurations.  A report covers one configuration: the
        runs must hold a single group (select one with ``exclude=`` when reading).
    loss : {"huber", "mse", "huber-likelihood"}
        Objective of the parametric fit; ``delta`` is its Huber threshold.
    delta : float
    wording : callable, optional
        How errors and warnings are worded in the report (the command line
        passes its flag wording); default: the Python wording with API names
        replaced for a reader.
    dpi : int
        Resolution of the figures embedded as PNG (default 100).

    Returns
    -------
    Report
    """
    import pandas as pd

    from . import approaches as _ap
    from . import plan as _plan
    from .fitting import fit as _fit
    from .runs import as_runs

    runs = as_runs(runs)
    _one_group(runs, group_by)
    if curves is not None:
        curves = as_runs(curves)
        if not curves.has_curves:
            raise ScalefitInputError("curves must hold training curves (a run column); read them with run_id=[...].")
    elif runs.has_curves:
        curves = runs
    finals = runs.final() if runs.has_curves else runs
    bootstrap, hw = check_options(law=law, seed=seed, n_jobs=n_jobs, bootstrap=bootstrap, hardware=hardware,
                                  dpi=dpi)  # before any work
    if budget is not None and budget not in runs.table.columns:  # named, so not a section to leave out quietly
        raise ScalefitInputError(f"budget={budget!r}: no such column in the runs (columns: {list(runs.table.columns)}). "
                                 "Name the column that holds each run's FLOP budget, or leave it out to cluster the "
                                 "flops column.", option="budget", column=budget, values=[budget],
                                 options=(Option("budget", repr(budget)),))
    word = wording or (lambda e: reader_text(str(e)))
    skipped: dict[str, str] = {}
    caught: list[str] = []
    # the figures of the point fit render in forked workers (n_jobs permitting) while the rest of the analyses run
    with _Renderer(dpi, n_jobs) as renderer, collect_warnings() as wlist:  # warnings: per call and thread
        # Approaches 2 and 1 need neither the fit nor its bootstrap: started now, on the second core when forking
        iso_job = renderer.call(lambda: _ap.isoflop(finals, bootstrap=bootstrap, seed=seed, budget=budget,
                                                    method=method))  # type: ignore[arg-type]
        env_job = (renderer.call(lambda: _ap.envelope(curves, bootstrap=bootstrap, seed=seed))
                   if curves is not None else None)
        result = _fit(finals, law, loss=loss, delta=delta)
        fit_specs = _fit_specs(result, hw) if figures else []
        renderer.submit([d for _, _, d in fit_specs], processes=1)
        # -1 lets the bootstrap choose (n_jobs=None): starting its workers took 1.77 s for 0.12 s of serial work on
        # the bundled runs (benchmarks/RESULTS.md, issue 12, "the report in under 2.5 s")
        boot = (result.bootstrap(bootstrap, seed=seed, n_jobs=None if n_jobs == -1 else n_jobs, progress=progress)
                if bootstrap else None)
        if budgets is None:
            top = float(np.max(finals.flops))
            budgets = sorted(set([float(f"{v:.2g}") for v in np.geomspace(top, top * 1000, 4)] + [5.76e23]))
        budgets = [float(b) for b in budgets]
        boot_specs = _boot_specs(result, boot, budgets=budgets) if figures else []
        renderer.submit([d for _, _, d in boot_specs], processes=1)  # while IsoFLOP and the envelope run
        iso = env = None
        try:
            iso = iso_job.result()
        except ScalefitInputError as exc:
            skipped["Approach 2 (IsoFLOP profiles)"] = word(exc)
        if env_job is not None:
            try:
                env = env_job.result()
            except ScalefitInputError as exc:
                skipped["Approach 1 (training-curve envelope)"] = word(exc)
        else:
            skipped["Approach 1 (training-curve envelope)"] = "the runs hold no training curves (give curves, or read runs with run_id=...)"
        given: dict[str, Any] = {"parametric": boot if boot is not None else result}
        if iso is not None and getattr(iso, "success", True):
            given["isoflop"] = iso
        if env is not None and getattr(env, "success", True):
            given["envelope"] = env
        try:
            approaches = _ap.compare_approaches(None, results=given, budgets=budgets[-2:])
        except ScalefitInputError as exc:
            approaches = None
            skipped["Approaches side by side"] = word(exc)
        sensitivity = result.sensitivity(budgets[-2:], bootstrap=boot)  # how the answer moves with the objective
        try:
            plan = _plan.compute_optimal(boot if boot is not None else result, budgets)
        except PlanRefusedError as exc:  # a fit with a fatal diagnostic gives no plan; the report says why
            plan = None
            skipped["Compute-optimal plan"] = word(exc)
        training = _training_table(plan, hw, skipped) if plan is not None else pd.DataFrame()
        configurations = (_configurations(boot if boot is not None else result, budgets, shape or DEFAULT_SHAPE, hw, skipped)
                          if plan is not None else [])
        figs = _figures(_specs(result, iso, env, fit_specs, boot_specs, boot=boot, budgets=budgets), renderer, skipped) if figures else []
    for w in wlist:
        caught.append(f"{type(w).__name__}: {word(w)}")
    return Report(
        title or f"scalefit report: {getattr(runs, 'source', 'runs')}", runs, curves, result, boot, iso, env, approaches,
        plan, training, skipped, figs, caught, configurations, hw, sensitivity,
    )


def _one_group(runs: Any, group_by: str | Sequence[str] | None) -> None:
    """Refuse runs that hold several configurations: one report answers for one."""
    if group_by is None:
        return
    cols = [group_by] if isinstance(group_by, str) else list(group_by)
    missing = [c for c in cols if c not in runs.table.columns]
    if missing:
        raise ScalefitInputError(f"group_by: column(s) {missing} are not in the runs; columns: {list(runs.table.columns)}.",
                                 option="group_by", column=missing[0])
    groups = runs.table[cols].drop_duplicates()
    if len(groups) > 1:
        first = ", ".join(f"{c}={groups.iloc[0][c]}" for c in cols)
        shown = [tuple(g) for g in groups.itertuples(index=False)][:8]
        raise ScalefitInputError(
            f"group_by: the runs hold {len(groups)} configurations of {cols} ({shown}{' ...' if len(groups) > 8 else ''}); "
            f"a report covers one. Keep one group when reading the runs (e.g. exclude every row except {first}), "
            "or compare the groups with the isoflop or fit analyses, which take group_by.",
            option="group_by", column=cols[0], values=shown)


def check_options(*, law: Any = "chinchilla", seed: Any = 0, n_jobs: Any = -1, bootstrap: Any = 1000,
                  hardware: dict | None = None, dpi: Any = 100) -> tuple[int, dict]:
    """Refuse a bad law, seed, worker count, bootstrap count, hardware or dpi, as :func:`build_report` would.

    :func:`build_report` calls it before any fit; the command line calls it
    before reading the runs, so a mistyped option fails at once.  Only the
    hardware check reads the GPU table (and imports pandas for it).

    Returns
    -------
    (bootstrap, hardware) : tuple of int and dict
        The resample count as an int and the hardware (``DEFAULT_HARDWARE`` when None).

    Raises
    ------
    ScalefitInputError
        For the first bad option.
    """
    from . import plan as _plan
    from ._validation import check_n_jobs, check_seed
    from .laws import get_law

    try:
        bootstrap = int(bootstrap)
    except (TypeError, ValueError):
        raise ScalefitInputError(f"bootstrap must be a whole number of resamples; got {bootstrap!r}.") from None
    if bootstrap < 0 or bootstrap == 1:
        raise ScalefitInputError(f"bootstrap must be 0 (none) or at least 2 resamples; got {bootstrap}.")
    hw = dict(DEFAULT_HARDWARE if hardware is None else hardware)
    get_law(law)
    check_seed(seed, where="build_report")
    check_n_jobs(n_jobs, where="build_report")
    _check_dpi(dpi, "build_report")
    unknown = sorted(set(hw) - {"n_gpus", "gpu", "flops_per_gpu", "mfu", "price_per_gpu_hour"})
    if unknown:
        raise ScalefitInputError(f"build_report: hardware has unknown key(s) {unknown}; use n_gpus, gpu or "
                                 "flops_per_gpu, mfu, price_per_gpu_hour.", option="hardware", values=unknown)
    if "n_gpus" not in hw:
        raise ScalefitInputError("build_report: hardware needs n_gpus (the GPU count), e.g. hardware=dict(n_gpus=1024, "
                                 "gpu='H100-SXM', mfu=0.4).", option="hardware")
    kw = {k: hw[k] for k in ("gpu", "mfu", "flops_per_gpu") if hw.get(k) is not None}
    with collect_warnings():  # a trial estimate checks the hardware; its unit warnings come again with the table
        if hw.get("price_per_gpu_hour") is not None:
            _plan.training_cost(1e9, 2e10, n_gpus=hw["n_gpus"], price_per_gpu_hour=hw["price_per_gpu_hour"], **kw)
        else:
            _plan.training_time(1e9, 2e10, n_gpus=hw["n_gpus"], **kw)
    return bootstrap, hw


def _training_table(plan, hw: dict, skipped: dict) -> pd.DataFrame:
    import pandas as pd

    from . import plan as _plan

    rows = []
    try:
        for alloc in plan:
            kw = {k: hw[k] for k in ("gpu", "mfu", "flops_per_gpu") if hw.get(k) is not None}
            if hw.get("price_per_gpu_hour") is not None:
                est = _plan.training_cost(alloc.n_params, alloc.n_tokens, n_gpus=hw["n_gpus"], price_per_gpu_hour=hw["price_per_gpu_hour"], **kw)
            else:
                est = _plan.training_time(alloc.n_params, alloc.n_tokens, n_gpus=hw["n_gpus"], **kw)
            rows.append(dict(flops=alloc.flops, n_params=alloc.n_params, n_tokens=alloc.n_tokens, days=est.days,
                             gpu_hours=est.gpu_hours, cost=getattr(est, "cost", None)))
    except ScalefitInputError as exc:
        skipped["Training time and cost"] = str(exc)
    return pd.DataFrame(rows)


def _configurations(fit: Any, budgets: Sequence[float], spec: dict, hw: dict, skipped: dict) -> list:
    """One launchable configuration per budget a shape of ``spec`` reaches; the others are named in ``skipped``."""
    from . import plan as _plan

    out, failed = [], []
    values = [float(c) for c in budgets]
    plans: list = [None] * len(values)
    try:  # every budget in one call (the bootstrap draws are checked once); budget by budget if one fails
        table = _plan.compute_optimal(fit, values, shape=spec)
        plans = list(table) if isinstance(table, _plan.AllocationTable) else [table]
    except ScalefitInputError:
        pass
    gpu = hw.get("gpu")
    for c, alloc in zip(values, plans):
        try:
            alloc = alloc if alloc is not None else _plan.compute_optimal(fit, c, shape=spec)
            if not isinstance(alloc, _plan.Allocation):  # pragma: no cover - a scalar budget gives one row
                continue
            out.append(_plan.run_configuration(alloc, gpu=gpu, mfu=hw.get("mfu") if gpu else None))
        except ScalefitInputError as exc:
            failed.append(f"{c:.3g} FLOPs: {exc}")
    if failed:
        skipped["Run configuration"] = "; ".join(failed)
    return out


# ------------------------------------------------------------------- render


def _table(df: pd.DataFrame) -> str:
    return wrap(html_table([str(c) for c in df.columns], list(df.itertuples(index=False)), missing=MISSING_HTML))


def _html_of(obj: Any) -> str:
    if obj is None:
        return ""
    if hasattr(obj, "_repr_html_"):
        text = obj._repr_html_()
    elif hasattr(obj, "summary"):
        summ = obj.summary()
        text = summ._repr_html_() if hasattr(summ, "_repr_html_") else f"<pre>{html.escape(str(summ))}</pre>"
    else:
        text = f"<pre>{html.escape(str(obj))}</pre>"
    # result summaries are written for a Python caller: their tables scroll in a box, their hints are reworded
    return wrap(reader_text(text))


def _time_caption(hw: dict) -> str:
    """The formula the training-time table used (that of :func:`scalefit.training_time` with these options)."""
    peak = f"the {hw['gpu']} peak" if hw.get("gpu") else "the peak FLOP/s per GPU"
    price = ("; cost = GPU-hours × price per GPU-hour, read as US dollars" if hw.get("price_per_gpu_hour") is not None else "")
    if hw.get("mfu") is not None:
        return (f"Training time = 6·N·D / (n_gpus · peak · MFU), with n_gpus = {hw['n_gpus']}, {peak} and MFU = "
                f"{hw['mfu']:g} (MFU counts model FLOPs only, so recomputation is inside it){price}.")
    return (f"Training time = 8·N·D / (n_gpus · peak), with n_gpus = {hw['n_gpus']} and {peak}: Narayanan et al. (2021) "
            f"eq. 4, full activation recomputation{price}.")


def _render(r: Report) -> str:
    import pandas as pd

    from . import __version__

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>" + html_marker(),
        f"<title>{html.escape(r.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(r.title)}</h1>",
        f"<p class='muted'>Written by scalefit {__version__} on {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}. "
        "This file is self-contained: images are inlined and nothing is fetched.</p>",
    ]
    parts.append(summary_html(r, hw=r.hardware))
    toc = ["Data", "Parametric fit (Approach 3)", "Three approaches side by side", "Compute-optimal plan", "Figures"]
    parts.append("<p>" + " · ".join(f"<a href='#s{i}'>{t}</a>" for i, t in enumerate(toc)) + "</p>")
    # data
    parts.append("<h2 id='s0'>Data</h2>")
    parts.append(f"<pre>{html.escape(str(r.runs.summary()))}</pre>")
    ex = r.runs.excluded
    if ex is not None and len(ex):
        parts.append(f"<div class='note'>{len(ex)} row(s) were excluded from the input:</div>")
        parts.append(_table(ex[["row", "reason"]]))
    else:
        parts.append("<p>No row of the input was excluded.</p>")
    if r.curves is not None and r.curves is not r.runs:
        parts.append("<h3>Training curves</h3>")
        parts.append(f"<pre>{html.escape(str(r.curves.summary()))}</pre>")
    # fit
    parts.append("<h2 id='s1'>Parametric fit (Approach 3)</h2>")
    parts.append(_html_of(r.fit))
    if r.bootstrap is not None:
        parts.append(_html_of(r.bootstrap))
    if r.sensitivity is not None:
        parts.append(_html_of(r.sensitivity))
    # approaches
    parts.append("<h2 id='s2'>Three approaches side by side</h2>")
    parts.append("<p>As Table 2 of Hoffmann et al. (2022): N* ∝ C<sup>a</sup> and D* ∝ C<sup>b</sup>, with bias-corrected percentile intervals.</p>")
    if r.approaches is not None:
        parts.append(approaches_table(r.approaches))
    for name in ("isoflop", "envelope"):
        res = getattr(r, name)
        if res is not None:
            parts.append(f"<details><summary>{'Approach 2 (IsoFLOP)' if name == 'isoflop' else 'Approach 1 (envelope)'} details</summary>{_html_of(res)}</details>")
    # plan
    parts.append("<h2 id='s3'>Compute-optimal plan</h2>")
    parts.append("<p>From the parametric fit (closed form), as Table A3 of Hoffmann et al. (2022); intervals from the bootstrap where available.</p>")
    if r.plan is None:
        parts.append(f"<p class='warn'>No plan: {html.escape(r.skipped.get('Compute-optimal plan', ''))}</p>")
    else:
        parts.append(plan_table(r.plan))
        parts.append("<p class='muted'>N* and D* in parameters and tokens (K, M, B, T: thousand, million, billion, "
                     "trillion); budgets in FLOPs with C = 6·N·D; ranges in parentheses are bootstrap intervals.</p>")
        for w in r.plan.warnings:
            parts.append(f"<p class='warn'>Warning: {html.escape(reader_text(w))}</p>")
    if len(r.training):
        parts.append("<h3>Training time and cost</h3>")
        parts.append(f"<p class='muted'>{html.escape(_time_caption(r.hardware))}</p>")
        parts.append(training_table(r.training))
    if r.configurations:
        parts.append("<h3>Configuration for each budget</h3>")
        parts.append("<p class='muted'>A shape near N* (exact parameter count), tokens from its exact FLOPs per token "
                     "(Kaplan et al. 2020, Table 1, plus the output head), batch and learning rate from DeepSeek LLM "
                     "(Bi et al. 2024), 16 bytes per parameter of mixed-precision Adam state fully sharded, "
                     "activations per Korthikanti et al. (2022), and the least GPU count that holds it.</p>")
        names = [name for name, _ in r.configurations[0].rows()]
        frame = pd.DataFrame({f"{_budget(c.allocation.flops)} FLOPs": [v for _, v in c.rows()] for c in r.configurations},
                             index=names)
        conf = frame.rename_axis("").reset_index()  # long cells wrap, so every budget's column stays on the page
        parts.append(wrap(html_table([str(c) for c in conf.columns], list(conf.itertuples(index=False)), missing=MISSING_HTML,
                                     css_class="prose")))
    # figures
    parts.append("<h2 id='s4'>Figures</h2>")
    for f in r.figures:
        if f.png is None:
            parts.append(f"<div class='note'>Figure “{html.escape(f.title)}” could not be drawn: {html.escape(f.error or '')}</div>")
            continue
        b64 = base64.b64encode(f.png).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(f.title)}' src='data:image/png;base64,{b64}'>"
                     f"<figcaption><b>{html.escape(f.title)}.</b> {html.escape(f.caption)}</figcaption></figure>")
    if r.skipped:
        parts.append("<h2>Not shown, and why</h2><ul>")
        parts += [f"<li><b>{html.escape(k)}</b>: {html.escape(reader_text(v))}</li>" for k, v in r.skipped.items()]
        parts.append("</ul>")
    if r.warnings:
        parts.append("<h2>Warnings raised</h2><ul>")
        parts += [f"<li>{html.escape(reader_text(w))}</li>" for w in dict.fromkeys(r.warnings)]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
