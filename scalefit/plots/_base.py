"""What every scalefit figure shares: the PlotDisplay, axes helpers, colour maps, tick formatters, labels.

It also reads what a plot needs from a result object: its runs
(:func:`_runs_of`) and its law, parameters and bootstrap draws
(:func:`_law_params`).  matplotlib is imported inside the helpers only.
"""
from __future__ import annotations

import contextlib
import math
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .._errors import ScalefitInputError
from .._format import format_number
from ..laws import Law, get_law
from ..plan._inputs import check_params, mapping_law
from ..runs import Runs, as_runs

# Axis labels, with units, shared by every figure.
LABEL_N = "Parameters N"
LABEL_D = "Tokens D"
LABEL_C = "Training compute C (FLOPs)"
LABEL_LOSS = "Loss (nats)"
_INSTALL = "pip install matplotlib"


# ===================================================================== display
@dataclass(frozen=True, eq=False, repr=False)
class PlotDisplay:
    """What a scalefit plot drew (after scikit-learn's Display objects).

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        The figure drawn on.
    ax_ : matplotlib.axes.Axes
        The main axes (the first of :attr:`axes_`).
    axes_ : tuple of matplotlib.axes.Axes
        Every axes drawn on, in the order the function documents.
    artists_ : mapping
        Name -> matplotlib artist (or tuple of artists, or None when that
        element was not drawn); each function lists its names.
    data_ : mapping
        Name -> numbers drawn (numpy arrays or floats), e.g. the frontier or
        the interval bands, so a figure can be checked or redrawn elsewhere.
    """

    figure_: Any
    ax_: Any
    axes_: tuple
    artists_: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    data_: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    kind: str = ""

    def savefig(self, path: Any, **kwargs: Any) -> None:
        """Save the figure (``figure_.savefig``; ``bbox_inches="tight"`` unless given)."""
        kwargs.setdefault("bbox_inches", "tight")
        self.figure_.savefig(path, **kwargs)

    def __repr__(self) -> str:
        return f"PlotDisplay(kind={self.kind!r}, axes={len(self.axes_)}, artists={sorted(self.artists_)})"


def _display(kind: str, axes: Sequence[Any], artists: Mapping[str, Any], data: Mapping[str, Any]) -> PlotDisplay:
    axes = tuple(axes)
    for ax in axes + tuple(a.ax for a in artists.values() if type(a).__name__ == "Colorbar"):
        _plain_log_labels(ax)
        if _FIXED_LAYOUT.get():
            _sparse_minor_ticks(ax)
    return PlotDisplay(
        figure_=axes[0].figure,
        ax_=axes[0],
        axes_=axes,
        artists_=MappingProxyType(dict(artists)),
        data_=MappingProxyType(dict(data)),
        kind=kind,
    )


# ===================================================================== helpers
def _pyplot() -> Any:
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"scalefit.plots needs matplotlib, which could not be imported ({exc}); install it with: {_INSTALL}"
        ) from exc
    return plt


#: Margins of a figure in inches: left, bottom, right, top, and the gaps between columns and between rows.
Margins = tuple[float, float, float, float, float, float]

#: Set by :func:`fixed_layout`: new figures get their fixed margins instead of the constrained layout.
_FIXED_LAYOUT: ContextVar[bool] = ContextVar("scalefit_fixed_layout", default=False)

#: Width of a colorbar and its gap to the axes in a fixed layout, in inches (what the constrained layout gives them).
_COLORBAR_WIDTH, _COLORBAR_GAP = 0.2, 0.23


@contextlib.contextmanager
def fixed_layout() -> Iterator[None]:
    """Within it, a new figure is laid out once with the fixed margins its plot declares (no layout engine).

    The constrained layout measures every tick label and title of a figure before it is drawn, and
    again on each draw; most of a report figure's drawing time went there (benchmarks/RESULTS.md,
    issue 12, "the report in under 2.5 s").  Each plot's margins were read from the constrained
    layout of the report's figures, with a little room to spare.  Figures drawn outside this
    context (the plotting API) keep the constrained layout.
    """
    import matplotlib

    token = _FIXED_LAYOUT.set(True)
    try:
        # titles sit at the top of their axes, where no tick label is: a title placed by rcParams'
        # default (axes.titley None) measures the axes' tick labels on every draw to find that out
        with matplotlib.rc_context({"axes.titley": 1.0}):
            yield
    finally:
        _FIXED_LAYOUT.reset(token)


#: In a fixed layout, a log axis spanning more than this many decades gets minor ticks at 2 and 5 only.
_SPARSE_MINOR_DECADES = 3.0


def _sparse_minor_ticks(ax: Any) -> None:
    """Minor ticks at 2 and 5 times each power of ten (not 2 to 9) on log axes spanning over three decades.

    Every tick is a matplotlib object of two lines, a grid line and two labels, and a report's
    wide log axes held about 900 unlabelled minor ticks: a third of its figures' drawing time
    (benchmarks/RESULTS.md, issue 12, "the report in under 2.5 s").  Such axes label no minor
    tick, so only the number of small marks changes; shorter axes keep every minor tick.
    """
    from matplotlib.ticker import LogLocator

    for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        lo, hi = sorted((lo, hi))
        if (axis.get_scale() == "log" and axis.isDefault_minloc and lo > 0
                and math.log10(hi / lo) > _SPARSE_MINOR_DECADES):
            axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))


def _gridspec(figsize: tuple[float, float], margins: Margins, nrows: int, ncols: int) -> dict[str, float]:
    """``subplots`` gridspec keywords that place an ``nrows`` x ``ncols`` grid with ``margins`` (inches)."""
    width, height = figsize
    left, bottom, right, top, wgap, hgap = margins
    panel_w = (width - left - right - (ncols - 1) * wgap) / ncols
    panel_h = (height - bottom - top - (nrows - 1) * hgap) / nrows
    return dict(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                wspace=wgap / panel_w, hspace=hgap / panel_h)


def _layout(figsize: tuple[float, float], margins: Margins | None, nrows: int = 1, ncols: int = 1) -> dict[str, Any]:
    """``subplots`` keywords: the fixed margins inside :func:`fixed_layout`, else the constrained layout."""
    if margins is not None and _FIXED_LAYOUT.get():
        return dict(layout=None, gridspec_kw=_gridspec(figsize, margins, nrows, ncols))
    return dict(layout="constrained")


def _fixed(fig: Any) -> bool:
    """True for a figure laid out with fixed margins (:func:`fixed_layout`, no layout engine)."""
    return fig.get_layout_engine() is None and _FIXED_LAYOUT.get()


def _colorbar_place(ax: Any) -> dict[str, Any]:
    """Where ``figure.colorbar`` puts the colorbar of ``ax``: beside it, as the constrained layout would, when the
    figure has no layout engine (:func:`fixed_layout`); otherwise ``ax=ax`` (the layout engine makes room)."""
    fig = ax.figure
    if not _fixed(fig):
        return dict(ax=ax)
    width, _ = fig.get_size_inches()
    box = ax.get_position()
    return dict(cax=fig.add_axes((box.x1 + _COLORBAR_GAP / width, box.y0, _COLORBAR_WIDTH / width, box.height)))


def _new_axes(fn: str, ax: Any, *, figsize: tuple[float, float], margins: Margins | None = None):
    """The axes to draw on: ``ax`` checked, or one new axes on a new figure (``margins``: see :func:`fixed_layout`)."""
    plt = _pyplot()
    from matplotlib.axes import Axes

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, **_layout(figsize, margins))
        return ax
    if not isinstance(ax, Axes):
        raise ScalefitInputError(
            f"{fn}: ax must be a matplotlib Axes or None (for a new figure); got {type(ax).__name__}. "
            "Create one with fig, ax = plt.subplots()."
        )
    return ax


def _new_axes_grid(fn: str, axes: Any, n: int, *, ncols: int, panel: tuple[float, float],
                   margins: Margins | None = None) -> list:
    """``n`` axes to draw on: ``axes`` checked (a sequence of at least ``n``), or a new grid (``margins``: see :func:`fixed_layout`)."""
    plt = _pyplot()
    from matplotlib.axes import Axes

    if axes is None:
        ncols = min(ncols, n)
        nrows = math.ceil(n / ncols)
        figsize = (panel[0] * ncols, panel[1] * nrows)
        _, grid = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **_layout(figsize, margins, nrows, ncols))
        flat = list(grid.ravel())
        for extra in flat[n:]:
            extra.remove()
        return flat[:n]
    if isinstance(axes, Axes):
        axes = [axes]
    try:
        flat = list(np.ravel(np.asarray(axes, dtype=object)))
    except TypeError:
        flat = []
    if len(flat) < n or not all(isinstance(a, Axes) for a in flat):
        raise ScalefitInputError(
            f"{fn}: axes must be None (for a new figure) or a sequence of {n} matplotlib Axes; got "
            f"{type(axes).__name__} holding {len(flat)} item(s). Create them with fig, axes = plt.subplots(1, {n})."
        )
    return flat[:n]


def _expect(obj: Any, fn: str, attrs: Sequence[str], what: str, hint: str = "") -> None:
    """Refuse ``obj`` unless it has every attribute in ``attrs`` (duck typing)."""
    missing = [a for a in attrs if not hasattr(obj, a)]
    if missing:
        raise ScalefitInputError(
            f"{fn}: expected {what}; got {type(obj).__name__} (it has no {missing[0]!r}).{' ' + hint if hint else ''}"
        )


def _positive_array(fn: str, name: str, values: Any, hint: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise ScalefitInputError(f"{fn}: {name} must be positive numbers; got {values!r}. {hint}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr) & (arr > 0)):
        raise ScalefitInputError(f"{fn}: {name} must be positive finite numbers; got {values!r}. {hint}")
    return arr


def _range(fn: str, name: str, values: Any, hint: str) -> tuple[float, float] | None:
    if values is None:
        return None
    arr = _positive_array(fn, name, values, hint)
    if arr.size != 2 or not arr[0] < arr[1]:
        raise ScalefitInputError(f"{fn}: {name} must be a (low, high) pair with low < high; got {values!r}. {hint}")
    return float(arr[0]), float(arr[1])


def _cmap(fn: str, cmap: Any):
    import matplotlib

    try:
        return matplotlib.colormaps.get_cmap(cmap)
    except (ValueError, KeyError, TypeError):
        raise ScalefitInputError(
            f"{fn}: unknown colormap {cmap!r}; pass a matplotlib colormap or its name, e.g. 'viridis'."
        ) from None


def _runs_of(fn: str, runs: Any, result: Any = None, *, needed_for: str) -> Runs:
    """The result's own ``runs`` (or ``runs`` when given, an override); refuse when neither exists."""
    if runs is None:
        runs = getattr(result, "runs", None)
    if runs is None:
        raise ScalefitInputError(
            f"{fn}: needs the runs {needed_for}, and the {type(result).__name__} does not keep them; "
            "pass runs=... (the same runs the analysis was given)."
        )
    return as_runs(runs)


def _law_params(fn: str, result: Any) -> tuple[Law, dict[str, float], list[dict[str, float]] | None, Any]:
    """(law, params, bootstrap parameter draws or None, point-estimate result) of what a plot was given.

    ``result`` is a FitResult or LoadedFit (``law``, ``params``), a
    BootstrapResult (``fit``, ``samples``: one row per resample, one column
    per fitted parameter; parameters held fixed take the point value) or a
    plain mapping of Chinchilla parameters.
    """
    if isinstance(result, Mapping):
        law, values, samples, point = mapping_law(result, fn), result, None, result
    elif hasattr(result, "samples") and hasattr(getattr(result, "fit", None), "params"):
        point, samples = result.fit, result.samples
        law, values = get_law(point.law), point.params
    elif hasattr(result, "law") and hasattr(result, "params"):
        law, values, samples, point = get_law(result.law), result.params, None, result
    else:
        raise ScalefitInputError(
            f"{fn}: expected a FitResult (scalefit.fit), a BootstrapResult (FitResult.bootstrap) or a mapping "
            f"of Chinchilla parameters; got {type(result).__name__}."
        )
    params = check_params(law, values, fn, purpose="frontier")
    draws = None
    if samples is not None and len(samples):
        draws = [{**params, **{p: rec[p] for p in law.param_names if p in rec}} for rec in samples.to_dict("records")]
    return law, params, draws, point


def _flops_per_param_token(runs: Any) -> float:
    """k in C = k N D of the runs (6 without runs)."""
    return float(getattr(runs, "flops_per_param_token", 6.0) or 6.0)


_SUPERSCRIPT = str.maketrans("0123456789-", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b")


def _power(base: str, exponent: int | str) -> str:
    """'10', 21 -> '10\u00b2\u00b9': a power in plain text with Unicode superscripts (DejaVu Sans has every glyph).

    Tick labels are drawn as plain text rather than mathtext: parsing a mathtext
    label costs about 10 ms the first time each string is seen, and a report's
    log axes label about a hundred distinct powers (benchmarks/RESULTS.md, issue 12,
    "the report in under 2.5 s").
    """
    return f"{base}{str(exponent).translate(_SUPERSCRIPT)}"


def _pow10_label(value: float) -> str:
    """1e21 -> '10\u00b2\u00b9', 3e21 -> '3\u00d710\u00b2\u00b9' (plain text, see :func:`_power`)."""
    exp = int(math.floor(math.log10(value)))
    mant = value / 10.0**exp
    if abs(mant - round(mant)) < 0.05:
        mant = round(mant)
        return _power("10", exp) if mant == 1 else f"{mant:g}\u00d7{_power('10', exp)}"
    return f"{mant:.3g}\u00d7{_power('10', exp)}"


def _log_tick_formatter(old: Any) -> Any:
    """A log axis formatter labelling as matplotlib's default does (10\u00b2\u00b9, 3\u00d710\u00b2\u00b9) in plain text.

    It keeps the default's choice of which ticks get a label (``labelOnlyBase``,
    ``minor_thresholds``); only the string changes from mathtext to Unicode.
    """
    from matplotlib.ticker import LogFormatterSciNotation

    class _PlainLogFormatter(LogFormatterSciNotation):
        def __call__(self, x: float, pos: Any = None) -> str:
            text = super().__call__(x, pos)
            return _plain_math(text)

    return _PlainLogFormatter(base=old._base, labelOnlyBase=old.labelOnlyBase, minor_thresholds=old.minor_thresholds,
                              linthresh=getattr(old, "_linthresh", None))


def _plain_math(text: str) -> str:
    r"""matplotlib's log label in mathtext (``$\mathdefault{3\times10^{21}}$``) as plain text (``3\u00d710\u00b2\u00b9``)."""
    import matplotlib

    prefix, suffix = "$\\mathdefault{", "}$"
    if not (text.startswith(prefix) and text.endswith(suffix)):
        return text
    inner = text[len(prefix):-len(suffix)].replace("\\times", "\u00d7")
    head, sep, exponent = inner.partition("^{")
    if sep:
        inner = _power(head, exponent.rstrip("}"))
    if matplotlib.rcParams["axes.unicode_minus"] and inner.startswith("-"):
        inner = "\u2212" + inner[1:]
    return inner


def _plain_log_labels(ax: Any) -> None:
    """Give every log axis of ``ax`` that still has matplotlib's default mathtext labels the plain-text ones."""
    from matplotlib.ticker import LogFormatterSciNotation

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() != "log":
            continue
        for fmt, setter in ((axis.get_major_formatter(), axis.set_major_formatter),
                            (axis.get_minor_formatter(), axis.set_minor_formatter)):
            if type(fmt) is LogFormatterSciNotation:  # the default, not one a plot or the user chose
                setter(_log_tick_formatter(fmt))


def _short(value: float) -> str:
    """1.3e9 -> '1.3B', 7e7 -> '70M' (the plan tables' format)."""
    return format_number(value, "human")


def _log_norm(values: np.ndarray):
    """LogNorm spanning ``values`` (a factor of 2 either side when they are all equal)."""
    import matplotlib.colors as mcolors

    lo, hi = float(np.min(values)), float(np.max(values))
    return mcolors.LogNorm(vmin=lo / 1.01, vmax=hi * 1.01) if hi > lo else mcolors.LogNorm(vmin=lo / 2, vmax=lo * 2)


def _budget_palette(values: np.ndarray):
    """A discrete palette of one colour per distinct value (FLOP budgets, model sizes) and its norm, for :func:`_colorbar`.

    Colours are viridis from 0 to 0.6 (dark purple to green): the top budget
    has a contrast of 3.0:1 on white (WCAG 2.1 relative luminance, the 3:1 asked
    of graphics), where viridis's pale-yellow end has 1.26:1.
    """
    import matplotlib
    import matplotlib.colors as mcolors

    v = np.unique(np.asarray(values, dtype=float))
    v = v[np.concatenate([[True], np.diff(np.log(v)) > 1e-9])] if len(v) else v  # 2e7 and 2e7 * (1 + 1e-16): one colour
    colours = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.6, max(len(v), 2)))[: len(v)]
    cmap = mcolors.ListedColormap(colours, name="scalefit-budgets")
    if len(v) == 1:
        return cmap, mcolors.BoundaryNorm([v[0] / 2, v[0] * 2], 1), v
    mids = np.sqrt(v[:-1] * v[1:])
    edges = np.concatenate([[v[0] ** 2 / mids[0]], mids, [v[-1] ** 2 / mids[-1]]])
    return cmap, mcolors.BoundaryNorm(edges, len(v)), v


def _colorbar(ax: Any, norm: Any, cmap: Any, label: str, *, counts: bool = False, ticks: Any = None):
    """A colorbar of ``norm`` and ``cmap`` beside ``ax``; ``counts`` labels ticks 20M, 1.3B."""
    from matplotlib.cm import ScalarMappable

    if ticks is not None:  # a discrete palette: one equal box per value, labelled (every k-th beyond 12 values)
        import matplotlib.colors as mcolors

        n = len(ticks)
        index = mcolors.BoundaryNorm(np.arange(n + 1) - 0.5, n)
        cbar = ax.figure.colorbar(ScalarMappable(norm=index, cmap=cmap), ticks=np.arange(n), **_colorbar_place(ax))
        step = -(-n // _MAX_COLORBAR_LABELS)
        text = _short if counts else _pow10_label
        cbar.ax.set_yticklabels([text(t) if i % step == 0 else "" for i, t in enumerate(ticks)], fontsize="small")
        cbar.ax.minorticks_off()
    else:
        cbar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), **_colorbar_place(ax))
        if counts:
            _short_ticks(cbar.ax.yaxis)
    cbar.set_label(label)
    _room_for_colorbar_labels(ax.figure, cbar)
    return cbar


def _room_for_colorbar_labels(fig: Any, cbar: Any) -> None:
    """In a fixed layout, widen the figure on the right when the colorbar's tick labels and label would not fit.

    The fixed margins were read from round budgets (10^19); budgets such as 9.13x10^17 made the labels wider
    and pushed the colorbar's label off the figure (a QA report).  The labels' widths come from the font's
    metrics (no drawing); every axes keeps its place in inches.
    """
    if not _fixed(fig):
        return
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    labels = [t.get_text() for t in cbar.ax.get_yticklabels() if t.get_text()]
    if not labels:
        return
    size = cbar.ax.get_yticklabels()[0].get_fontsize()
    measure = TextToPath()
    widest = max(measure.get_text_width_height_descent(t, FontProperties(size=size), ismath=False)[0] for t in labels)
    label_size = cbar.ax.yaxis.label.get_fontsize()
    # tick (3.5 pt), its pad (3.5 pt), the widest label, the label's pad (4 pt) and the label's own height
    needed = (3.5 + 3.5 + widest + 4.0 + 1.25 * label_size) / 72.0
    width, height = fig.get_size_inches()
    free = width * (1.0 - cbar.ax.get_position().x1)
    if needed <= free:
        return
    extra = needed - free + 0.05
    boxes = [(a, a.get_position()) for a in fig.axes]
    fig.set_size_inches(width + extra, height)
    for a, b in boxes:  # the same place in inches
        a.set_position((b.x0 * width / (width + extra), b.y0, b.width * width / (width + extra), b.height))


#: Most labels on a discrete colorbar; beyond it every k-th box is labelled.
_MAX_COLORBAR_LABELS = 12


def _plain_log_ticks(axis: Any) -> None:
    """Label a log axis spanning less than a decade with plain numbers (2.5, 3, 4) instead of 3x10^0."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lo, hi = sorted(axis.get_view_interval())
    if lo > 0 and hi / lo < 10:
        fmt = FuncFormatter(lambda v, _: f"{v:g}")
        axis.set_major_formatter(fmt)
        axis.set_minor_formatter(fmt if hi / lo > 1.5 else NullFormatter())


def _readable_ticks(axis: Any) -> None:
    """At most about five plain, non-overlapping tick labels on a histogram's value axis.

    A log axis gets major ticks at 1, 2, 5 (within about a decade), 1, 3 (up
    to three decades) or 1 times powers of ten, labelled as plain numbers
    (500, 1000, 2000), and no minor labels: matplotlib's default labels every
    minor tick of a short log axis (4x10^2, 6x10^2, ...), which overlap.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    if axis.get_scale() == "log":
        lo, hi = sorted(axis.get_view_interval())
        decades = math.log10(hi / lo) if lo > 0 and hi > lo else 1.0
        subs = (1.0, 2.0, 5.0) if decades <= 1.2 else (1.0, 3.0) if decades <= 3 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=5))


def _short_ticks(axis: Any) -> None:
    """Label an axis of counts as 20M, 1.3B instead of 2x10^7."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: _short(v) if str(_short(v))[0] in "125" else ""))


