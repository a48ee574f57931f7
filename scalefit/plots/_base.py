"""Figures of scaling-law results, after Hoffmann et al. (2022).

Every function takes result objects, draws on the axes it is given (or on a
new figure when ``ax``/``axes`` is None) and returns a frozen
:class:`PlotDisplay` holding the figure, the axes, the main artists and the
numbers drawn.  matplotlib is imported inside the functions only, so
``import scalefit.plots`` stays fast and needs no display.

=========================  ==========================================  ==========================
function                   draws                                       Hoffmann et al. (2022)
=========================  ==========================================  ==========================
plot_isoflop_profiles      loss against N per FLOP budget, fitted      Figure 3, left
                           curves and their minima
plot_optimal_scaling       N*(C) and D*(C) with power-law fits and     Figure 3, centre and right
                           bootstrap bands (Approaches 1 and 2)        (Figure 2 for Approach 1)
plot_envelope              training curves, loss against FLOPs, and    Figure 2, left
                           their lower envelope
plot_loss_contours         fitted loss over (C, N), the efficient      Figure 4, left
                           frontier and the runs
plot_fit                   predicted against observed loss, and        --
                           residuals against N, D and C
plot_extrapolation         L*(C) along the compute-optimal frontier    --
                           with bootstrap bands beyond the data
plot_bootstrap             histograms of bootstrap draws with the      --
                           point estimate and interval
plot_training_cost         days and money (or GPU-hours) of            --
                           compute-optimal runs on given hardware
=========================  ==========================================  ==========================

Units on every axis: parameters N and tokens D are counts, compute C is in
FLOPs (C = k N D with k = 6 by default), loss is in nats.

References
----------
Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
arXiv:2203.15556.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

import numpy as np

from ._errors import ScalefitInputError
from ._validation import check_level

if TYPE_CHECKING:  # pragma: no cover - typing only; matplotlib is imported lazily
    from matplotlib.axes import Axes

__all__ = [
    "PlotDisplay",
    "plot_isoflop_profiles",
    "plot_optimal_scaling",
    "plot_envelope",
    "plot_loss_contours",
    "plot_fit",
    "plot_extrapolation",
    "plot_bootstrap",
    "plot_training_cost",
]

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
    return PlotDisplay(
        figure_=axes[0].figure,
        ax_=axes[0],
        axes_=axes,
        artists_=MappingProxyType(dict(artists)),
        data_=MappingProxyType(dict(data)),
        kind=kind,
    )


# ===================================================================== helpers
def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"scalefit.plots needs matplotlib, which could not be imported ({exc}); install it with: {_INSTALL}"
        ) from exc
    return plt


def _new_axes(fn: str, ax: Any, *, figsize: tuple[float, float]):
    """The axes to draw on: ``ax`` checked, or one new axes on a new figure."""
    plt = _pyplot()
    from matplotlib.axes import Axes

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise ScalefitInputError(
            f"{fn}: ax must be a matplotlib Axes or None (for a new figure); got {type(ax).__name__}. "
            "Create one with fig, ax = plt.subplots()."
        )
    return ax


def _new_axes_grid(fn: str, axes: Any, n: int, *, ncols: int, panel: tuple[float, float]) -> list:
    """``n`` axes to draw on: ``axes`` checked (a sequence of at least ``n``), or a new grid."""
    plt = _pyplot()
    from matplotlib.axes import Axes

    if axes is None:
        ncols = min(ncols, n)
        nrows = math.ceil(n / ncols)
        _, grid = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained", squeeze=False)
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


def _as_runs(fn: str, runs: Any, result: Any = None, *, needed_for: str):
    """Runs given, else the result's own ``runs``; refuse when neither exists."""
    if runs is None:
        runs = getattr(result, "runs", None)
    if runs is None:
        raise ScalefitInputError(
            f"{fn}: needs the runs {needed_for}, and the {type(result).__name__} does not keep them; "
            "pass runs=... (the same runs the analysis was given)."
        )
    from .runs import Runs, read_runs

    return runs if isinstance(runs, Runs) else read_runs(runs)


def _law_params(fn: str, result: Any):
    """(law, params, bootstrap parameter draws or None, point-estimate result) of a fit or bootstrap."""
    from .plan import _as_law_params

    if not (hasattr(result, "params") or hasattr(result, "samples") or isinstance(result, Mapping)):
        raise ScalefitInputError(
            f"{fn}: expected a FitResult (scalefit.fit), a BootstrapResult (FitResult.bootstrap) or a mapping "
            f"of Chinchilla parameters; got {type(result).__name__}."
        )
    try:
        law, params, samples = _as_law_params(result)
    except ScalefitInputError as exc:
        raise ScalefitInputError(f"{fn}: {exc}") from None
    point = getattr(result, "fit", result) if hasattr(result, "samples") else result
    return law, params, samples, point


def _law_loss(fn: str, law: Any, params: Mapping[str, float], n_params: np.ndarray, n_tokens: np.ndarray, k: float) -> np.ndarray:
    """The law's loss at (N, D); refuse laws with inputs other than N, D and C."""
    inputs = {"n_params": n_params, "n_tokens": n_tokens, "flops": k * n_params * n_tokens}
    other = [i for i in law.inputs if i not in inputs]
    if other:
        raise ScalefitInputError(
            f"{fn}: law {law.name!r} also needs {other}; this plot evaluates the law over model size and tokens "
            "only, so it cannot draw it. Plot a law of n_params and n_tokens (e.g. 'chinchilla')."
        )
    return np.asarray(law(params, **{i: inputs[i] for i in law.inputs}), dtype=float)


def _frontier(fn: str, law: Any, params: Mapping[str, float], flops: np.ndarray, k: float):
    from .plan import frontier

    return frontier(law, params, flops, flops_per_param_token=k, where=fn)


def _frontier_draws(fn: str, law: Any, samples: Sequence[Mapping[str, float]], flops: np.ndarray, k: float) -> np.ndarray:
    """L*(C) for every bootstrap draw, shape (draws, budgets)."""
    from .plan import frontier_draws

    return frontier_draws(law, samples, flops, flops_per_param_token=k, where=fn)


def _flops_per_param_token(runs: Any) -> float:
    return float(getattr(runs, "flops_per_param_token", 6.0) or 6.0)


def _pow10_label(value: float) -> str:
    """1e21 -> '$10^{21}$', 3e21 -> '$3{\\times}10^{21}$'."""
    exp = int(math.floor(math.log10(value)))
    mant = value / 10.0**exp
    if abs(mant - round(mant)) < 0.05:
        mant = round(mant)
        return f"$10^{{{exp}}}$" if mant == 1 else f"${mant:g}{{\\times}}10^{{{exp}}}$"
    return f"${mant:.3g}{{\\times}}10^{{{exp}}}$"


def _short(value: float) -> str:
    """1.3e9 -> '1.3B', 7e7 -> '70M' (the plan tables' format)."""
    from .plan import _human

    return _human(value)


def _log_norm(values: np.ndarray):
    """LogNorm spanning ``values`` (a factor of 2 either side when they are all equal)."""
    import matplotlib.colors as mcolors

    lo, hi = float(np.min(values)), float(np.max(values))
    return mcolors.LogNorm(vmin=lo / 1.01, vmax=hi * 1.01) if hi > lo else mcolors.LogNorm(vmin=lo / 2, vmax=lo * 2)


def _colorbar(ax: Any, norm: Any, cmap: Any, label: str, *, counts: bool = False):
    """A colorbar of ``norm`` and ``cmap`` beside ``ax``; ``counts`` labels ticks 20M, 1.3B."""
    from matplotlib.cm import ScalarMappable

    cbar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    cbar.set_label(label)
    if counts:
        _short_ticks(cbar.ax.yaxis)
    return cbar


def _plain_log_ticks(axis: Any) -> None:
    """Label a log axis spanning less than a decade with plain numbers (2.5, 3, 4) instead of 3x10^0."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lo, hi = sorted(axis.get_view_interval())
    if lo > 0 and hi / lo < 10:
        fmt = FuncFormatter(lambda v, _: f"{v:g}")
        axis.set_major_formatter(fmt)
        axis.set_minor_formatter(fmt if hi / lo > 1.5 else NullFormatter())


def _short_ticks(axis: Any) -> None:
    """Label an axis of counts as 20M, 1.3B instead of 2x10^7."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: _short(v) if str(_short(v))[0] in "125" else ""))


def _budget_of_runs(fn: str, result: Any, table: Any) -> np.ndarray:
    """Index into ``result.optima`` of each run's budget, -1 for runs in no analysed budget.

    The analysis records the rows of each budget (``optima["rows"]``), so runs
    are matched by their original row number, never re-clustered here.
    """
    if "row" not in table.columns:
        raise ScalefitInputError(f"{fn}: the runs have no 'row' column; pass the Runs the analysis was given.")
    where = {r: g for g, rows in enumerate(result.optima["rows"]) for r in rows}
    return np.array([where.get(int(r), -1) for r in table["row"].to_numpy()])


def _budget_curve(result: Any, g: int, table: Any) -> tuple[np.ndarray | None, np.ndarray, float]:
    """The polynomial the analysis fitted to budget ``g`` (polyval order, in log10 N - centre),
    the log10 N of the runs it was fitted to, and the centre."""
    opt = result.optima.iloc[g]
    coef = np.asarray(opt["curve"], dtype=float)
    used = set(opt["rows_used"])
    mask = np.array([int(r) in used for r in table["row"].to_numpy()])
    x_used = np.log10(table["n_params"].to_numpy(dtype=float)[mask])
    if not np.all(np.isfinite(coef)) or x_used.size == 0:
        return None, x_used, float(opt["centre"])
    return coef, x_used, float(opt["centre"])


def _interval_text(lo: float, hi: float, level: float, fmt: str = ".3f") -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    return f" [{lo:{fmt}}, {hi:{fmt}}] at {level:.0%}"


# =============================================================== Approach 2
def plot_isoflop_profiles(
    isoflop_result: Any,
    runs: Any = None,
    *,
    ax: Axes | None = None,
    cmap: Any = "viridis",
    colorbar: bool = True,
) -> PlotDisplay:
    """Loss against model size for each FLOP budget, with the fitted curves and their minima.

    Hoffmann et al. (2022), Figure 3 (left): one colour per budget; points are
    the runs, lines the curve :func:`scalefit.isoflop` fitted in log10 N
    (over the points it used), and diamonds the minima it found
    (``isoflop_result.optima``).  Budgets left out of the power-law fit are
    drawn dashed with hollow minima; budgets flagged ``"non_convex"`` have no
    minimum to mark.

    Parameters
    ----------
    isoflop_result : IsoFLOPResult
        From :func:`scalefit.isoflop` (ungrouped; for a grouped result plot
        one of ``isoflop_result.groups[key]``).
    runs : Runs or anything :func:`scalefit.read_runs` accepts, optional
        The runs the analysis was given (the result does not keep them).
        Training curves are reduced to final checkpoints, as the analysis does.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    cmap : str or Colormap, default "viridis"
        Colours of the budgets (log scale of C).
    colorbar : bool, default True
        Add a colorbar of the budgets.

    Returns
    -------
    PlotDisplay
        ``artists_``: ``points`` (one PathCollection per budget), ``curves``
        (one Line2D per budget with a fitted curve), ``minima`` (PathCollection
        of the minima of the budgets not flagged ``"non_convex"``),
        ``unassigned`` (runs in no analysed budget, or None), ``colorbar``.
        ``data_``: ``budgets``, ``n_opt`` and ``loss_opt`` (from the result),
        ``has_minimum`` (budgets whose minimum is marked), ``curve_n_opt``
        (where each curve, as redrawn here, is lowest).

    Raises
    ------
    ScalefitInputError
        If ``isoflop_result`` is not an ungrouped IsoFLOPResult, ``runs`` is
        missing or does not match the result.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import scalefit, scalefit.plots
    >>> from scalefit.datasets import load_synthetic
    >>> runs = load_synthetic()
    >>> res = scalefit.isoflop(runs, bootstrap=100)
    >>> disp = scalefit.plots.plot_isoflop_profiles(res, runs)   # doctest: +SKIP
    >>> disp.savefig("isoflop.png")                               # doctest: +SKIP
    """
    fn = "plot_isoflop_profiles"
    _pyplot()
    _expect(isoflop_result, fn, ("optima", "method", "n_nearest", "tolerance", "budget"),
            "an IsoFLOPResult from scalefit.isoflop(runs)",
            "For an EnvelopeResult use plot_envelope; for a FitResult use plot_fit or plot_loss_contours.")
    if getattr(isoflop_result, "groups", None):
        keys = list(isoflop_result.groups)
        raise ScalefitInputError(
            f"{fn}: this IsoFLOPResult is grouped by {list(isoflop_result.group_by)} ({len(keys)} groups); plot one "
            f"group at a time, e.g. {fn}(result.groups[{keys[0]!r}], runs)."
        )
    optima = isoflop_result.optima
    if not len(optima):
        raise ScalefitInputError(f"{fn}: the IsoFLOPResult holds no budgets (optima is empty); nothing to draw.")
    runs = _as_runs(fn, runs, isoflop_result, needed_for="to draw each budget's points")
    if runs.has_curves:
        runs = runs.final()
    table = runs.table
    ax = _new_axes(fn, ax, figsize=(6.4, 4.8))
    cm = _cmap(fn, cmap)
    budgets = optima["flops"].to_numpy(dtype=float)
    norm = _log_norm(budgets)
    which = _budget_of_runs(fn, isoflop_result, table)
    empty = [g for g in range(len(budgets)) if not np.any(which == g)]
    if empty:
        raise ScalefitInputError(
            f"{fn}: no run matches budget(s) C={', '.join(f'{budgets[g]:.3g}' for g in empty)} of the result; "
            "pass the runs the analysis was given."
        )
    log_n_all = np.log10(table["n_params"].to_numpy(dtype=float))
    loss_all = table["loss"].to_numpy(dtype=float)
    used = optima["used"].to_numpy(dtype=bool)
    n_opt = optima["n_params"].to_numpy(dtype=float)
    l_opt = optima["loss"].to_numpy(dtype=float)
    # a non-convex curve has no minimum: its stationary point is a maximum, not drawn
    has_min = np.isfinite(n_opt) & np.array(["non_convex" not in tuple(f) for f in optima["flags"]])
    points, curves, curve_n_opt = [], [], np.full(len(budgets), np.nan)
    for g, c in enumerate(budgets):
        idx = which == g
        colour = cm(norm(c))
        points.append(ax.scatter(10.0 ** log_n_all[idx], loss_all[idx], s=18, color=colour, alpha=0.85,
                                 edgecolors="none", zorder=2))
        coef, x_used, centre = _budget_curve(isoflop_result, g, table)
        if coef is None:
            continue
        lo_x, hi_x = x_used.min(), x_used.max()
        if has_min[g]:  # reach an off-centre minimum, but never more than a decade past the runs
            x_min = float(np.log10(n_opt[g]))
            lo_x, hi_x = max(min(lo_x, x_min), lo_x - 1.0), min(max(hi_x, x_min), hi_x + 1.0)
        xs = np.linspace(lo_x, hi_x, 200)
        ys = np.polyval(coef, xs - centre)
        curve_n_opt[g] = 10.0 ** xs[np.argmin(ys)]
        (line,) = ax.plot(10.0 ** xs, ys, color=colour, lw=1.6, ls="-" if used[g] else "--", zorder=3)
        curves.append(line)
    colours = [cm(norm(c)) for c in budgets]
    minima = ax.scatter(
        n_opt[has_min], l_opt[has_min], marker="D", s=42, zorder=4, linewidths=1.2,
        facecolors=[col if u else "white" for col, u in zip(np.array(colours)[has_min], used[has_min])],
        edgecolors="black",
        label="fitted minimum" + ("" if used.all() else " (hollow: left out of the fit)"),
    )
    unassigned = None
    if np.any(which < 0):
        unassigned = ax.scatter(10.0 ** log_n_all[which < 0], loss_all[which < 0], marker="x", s=18, color="0.6",
                                zorder=1, label="runs in no analysed budget")
    ax.set_xscale("log")
    ax.set_xlabel(LABEL_N)
    ax.set_ylabel(LABEL_LOSS)
    ax.set_title("IsoFLOP profiles")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    cbar = _colorbar(ax, norm, cm, "FLOP budget C (FLOPs)") if colorbar else None
    return _display(
        "isoflop_profiles", [ax],
        {"points": tuple(points), "curves": tuple(curves), "minima": minima, "unassigned": unassigned, "colorbar": cbar},
        {"budgets": budgets, "n_opt": n_opt, "loss_opt": l_opt, "has_minimum": has_min, "curve_n_opt": curve_n_opt},
    )


# ====================================================== Approaches 1 and 2
def plot_optimal_scaling(
    result: Any,
    *,
    axes: Sequence[Axes] | None = None,
    level: float | None = None,
    flops: float | Sequence[float] | None = None,
    label: str | None = None,
    color: Any = None,
) -> PlotDisplay:
    """Optimal parameters N*(C) and tokens D*(C) with their power-law fits and bootstrap bands.

    Hoffmann et al. (2022), Figure 3 (centre and right) for Approach 2 and
    Figure 2 (centre and right) for Approach 1: the per-budget optima (or the
    envelope's points) as dots, hollow where left out of the fit; the fitted
    N* = k_n C^a and D* = k_d C^b as lines; their bootstrap percentile
    intervals as bands.  Call it again on the same ``axes`` with another
    result and ``label`` to compare approaches.

    Parameters
    ----------
    result : IsoFLOPResult or EnvelopeResult
        From :func:`scalefit.isoflop` or :func:`scalefit.envelope`.
    axes : two matplotlib Axes, optional
        Where to draw N* and D*; a new figure with two panels when None.
    level : float, optional
        Interval level of the bands; one the analysis was run with (default
        its first).
    flops : float or sequence of float, optional
        Budgets to extend the lines and bands to (e.g. 5.76e23); each is
        marked with its predicted N* and D*.
    label : str, optional
        Legend name of this result; default "IsoFLOP (Approach 2)" or
        "Envelope (Approach 1)".
    color : matplotlib colour, optional
        Colour of the fit and band.

    Returns
    -------
    PlotDisplay
        ``axes_`` is (N* axes, D* axes).  ``artists_``: ``n_points``,
        ``n_excluded``, ``n_line``, ``n_band``, ``d_points``, ``d_excluded``,
        ``d_line``, ``d_band``, ``targets`` (bands are None without bootstrap
        intervals).  ``data_``: ``flops`` (the line's grid), ``n_opt``,
        ``d_opt``, ``n_low``, ``n_high``, ``d_low``, ``d_high``.

    Raises
    ------
    ScalefitInputError
        If ``result`` is not an ungrouped IsoFLOPResult or EnvelopeResult,
        has no power-law fit, or ``level`` was not computed.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_optimal_scaling"
    _pyplot()
    _expect(result, fn, ("a", "b", "k_n", "k_d", "optima", "predict_optimal", "level"),
            "an IsoFLOPResult (scalefit.isoflop) or an EnvelopeResult (scalefit.envelope)",
            "For a parametric fit use plot_extrapolation or plot_loss_contours.")
    if getattr(result, "groups", None):
        raise ScalefitInputError(
            f"{fn}: this result is grouped by {list(result.group_by)}; plot one group at a time, "
            f"e.g. {fn}(result.groups[{next(iter(result.groups))!r}])."
        )
    if not (np.isfinite(result.a) and np.isfinite(result.b)):
        raise ScalefitInputError(f"{fn}: the result has no power-law fit ({result.message}); nothing to draw.")
    levels = tuple(result.level)
    level = levels[0] if level is None else check_level(level, where=fn)
    if level not in levels:
        raise ScalefitInputError(
            f"{fn}: level {level:g} was not computed; available levels are {', '.join(f'{v:g}' for v in levels)}. "
            "Pass level=... to the analysis to get others."
        )
    targets = None if flops is None else _positive_array(fn, "flops", flops, "Give FLOP budgets such as 5.76e23.")
    is_envelope = hasattr(result, "frontier")
    if label is None:
        label = "Envelope (Approach 1)" if is_envelope else "IsoFLOP (Approach 2)"
    ax_n, ax_d = _new_axes_grid(fn, axes, 2, ncols=2, panel=(4.8, 4.2))
    opt = result.optima
    c = opt["flops"].to_numpy(dtype=float)
    used = opt["used"].to_numpy(dtype=bool)
    span = np.concatenate([c, targets if targets is not None else []])
    grid = np.geomspace(span.min() / 1.5, span.max() * 1.5, 200)
    alloc = result.predict_optimal(grid)
    artists: dict[str, Any] = {}
    data: dict[str, Any] = {"flops": grid, "n_opt": alloc.n_params, "d_opt": alloc.n_tokens}
    dense = len(c) > 40
    size = 8 if dense else 28
    for key, ax, column, line_y, name, ylabel, exponent in (
        ("n", ax_n, "n_params", alloc.n_params, "n_params", LABEL_N + "*  (optimal)", "a"),
        ("d", ax_d, "n_tokens", alloc.n_tokens, "n_tokens", LABEL_D + "*  (optimal)", "b"),
    ):
        y = opt[column].to_numpy(dtype=float)
        lo_e, hi_e = result.intervals[exponent][level]
        sym = "N" if key == "n" else "D"
        text = f"{label}: ${sym}^* \\propto C^{{{getattr(result, exponent):.3f}}}$"
        if np.isfinite(lo_e) and np.isfinite(hi_e):
            text += f"\n{exponent} in [{lo_e:.3f}, {hi_e:.3f}], band: {level:.0%} bootstrap"
        (line,) = ax.plot(grid, line_y, color=color, lw=1.8, label=text, zorder=3)
        colour = line.get_color()
        band = None
        per_level = alloc.intervals.get(name, {})
        low, high = per_level.get(level, (np.full(grid.shape, np.nan), np.full(grid.shape, np.nan)))
        if np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
            band = ax.fill_between(grid, low, high, color=colour, alpha=0.2, lw=0, zorder=1)
        data[f"{key}_low"], data[f"{key}_high"] = low, high
        artists[f"{key}_line"], artists[f"{key}_band"] = line, band
        artists[f"{key}_points"] = ax.scatter(c[used], y[used], s=size, color=colour, zorder=4, edgecolors="white",
                                              linewidths=0 if dense else 0.5,
                                              label="envelope points" if is_envelope else "per-budget optima")
        artists[f"{key}_excluded"] = None
        if (~used).any():
            artists[f"{key}_excluded"] = ax.scatter(c[~used], y[~used], s=size, facecolors="none", edgecolors=colour,
                                                    linewidths=0.6, alpha=0.5 if dense else 1.0, zorder=4,
                                                    label="flagged, left out of the fit")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(LABEL_C)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower right", fontsize="x-small", frameon=False)
    marks = []
    if targets is not None:
        at = result.predict_optimal(targets)
        for ax, values in ((ax_n, at.n_params), (ax_d, at.n_tokens)):
            marks.append(ax.scatter(targets, values, marker="*", s=110, color="black", zorder=5))
            for cv, v in zip(targets, values):
                ax.annotate(f"{_short(v)} at C = {_pow10_label(cv)}", (cv, v), textcoords="offset points",
                            xytext=(-10, 0), ha="right", va="center", fontsize="x-small")
    artists["targets"] = tuple(marks) or None
    return _display("optimal_scaling", [ax_n, ax_d], artists, data)


# =============================================================== Approach 1
def plot_envelope(
    envelope_result: Any,
    runs: Any = None,
    *,
    ax: Axes | None = None,
    cmap: Any = "viridis",
    colorbar: bool = True,
) -> PlotDisplay:
    """Training curves (loss against FLOPs) coloured by model size, with their lower envelope.

    Hoffmann et al. (2022), Figure 2 (left): every run's loss against the
    FLOPs spent so far, on log-log axes, coloured by parameters on a log
    colour scale; the envelope (``envelope_result.frontier``) dashed black,
    with dots on the points that entered the power-law fit (points flagged
    ``"edge"`` are left out).

    Parameters
    ----------
    envelope_result : EnvelopeResult
        From :func:`scalefit.envelope`.
    runs : Runs or anything :func:`scalefit.read_runs` accepts, optional
        The training curves the analysis was given (the result does not
        keep them).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    cmap : str or Colormap, default "viridis"
        Colours of the model sizes.
    colorbar : bool, default True
        Add a colorbar of model sizes.

    Returns
    -------
    PlotDisplay
        ``artists_``: ``curves`` (one Line2D per run), ``envelope`` (Line2D),
        ``fitted`` (PathCollection of the envelope points in the power-law
        fit), ``excluded`` (hollow markers of points left out, drawn only for
        a short envelope such as ``final_only=True``; else None),
        ``colorbar``.  ``data_``: ``flops``, ``loss``, ``n_params``
        and ``used`` of the envelope.

    Raises
    ------
    ScalefitInputError
        If ``envelope_result`` is not an EnvelopeResult or ``runs`` is missing.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_envelope"
    _pyplot()
    _expect(envelope_result, fn, ("frontier",), "an EnvelopeResult from scalefit.envelope(runs)",
            "For an IsoFLOPResult use plot_isoflop_profiles.")
    runs = _as_runs(fn, runs, envelope_result, needed_for="to draw the training curves")
    ax = _new_axes(fn, ax, figsize=(6.4, 4.8))
    cm = _cmap(fn, cmap)
    table = runs.table
    sizes = table["n_params"].to_numpy(dtype=float)
    norm = _log_norm(sizes)
    curves = []
    if runs.has_curves:
        sort = [c for c in ("step", "n_tokens") if c in table.columns]
        for _, g in table.groupby("run", sort=False):
            g = g.sort_values(sort, kind="mergesort")
            n = float(g["n_params"].iloc[0])
            (line,) = ax.plot(g["flops"].to_numpy(float), g["loss"].to_numpy(float), color=cm(norm(n)), lw=1.0,
                              alpha=0.85, zorder=2, marker="o" if len(g) == 1 else None, ms=3)
            curves.append(line)
    else:
        colours = cm(norm(sizes))
        curves.append(ax.scatter(table["flops"].to_numpy(float), table["loss"].to_numpy(float), c=colours, s=16, zorder=2))
    fr = envelope_result.frontier
    f, l_env = fr["flops"].to_numpy(dtype=float), fr["loss"].to_numpy(dtype=float)
    used = fr["used"].to_numpy(dtype=bool)
    (env,) = ax.plot(f, l_env, color="black", lw=1.0, ls="--", alpha=0.8, zorder=3,
                     label="envelope: lowest loss at each C", marker="o" if len(f) < 30 else None, ms=3)
    fitted = ax.scatter(f[used], l_env[used], s=9, color="black", zorder=4, label="envelope points in the fit")
    excluded = None
    if (~used).any() and len(f) < 30:
        excluded = ax.scatter(f[~used], l_env[~used], s=14, facecolors="white", edgecolors="black", zorder=4,
                              label="left out of the fit (edge)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(LABEL_C)
    ax.set_ylabel(LABEL_LOSS)
    ax.set_title("Training curves and their envelope")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    cbar = _colorbar(ax, norm, cm, LABEL_N, counts=True) if colorbar else None
    _plain_log_ticks(ax.yaxis)
    return _display(
        "envelope", [ax],
        {"curves": tuple(curves), "envelope": env, "fitted": fitted, "excluded": excluded, "colorbar": cbar},
        {"flops": f, "loss": l_env, "n_params": fr["n_params"].to_numpy(dtype=float), "used": used},
    )


# ================================================================ parametric
def plot_loss_contours(
    fit_result: Any,
    *,
    ax: Axes | None = None,
    runs: Any = None,
    show_runs: bool = True,
    flops: tuple[float, float] | None = None,
    n_params: tuple[float, float] | None = None,
    levels: int = 14,
    cmap: Any = "viridis",
    colorbar: bool = True,
) -> PlotDisplay:
    """The fitted loss over compute and model size, with the efficient frontier and the runs.

    Hoffmann et al. (2022), Figure 4 (left): filled contours of
    L(N, D = C / (k N)) over log C and log N, the efficient frontier N*(C)
    (closed form for the Chinchilla law; otherwise the argmin of the law
    along each iso-FLOP line), and the runs as points coloured by their
    observed loss on the same colour scale.

    Parameters
    ----------
    fit_result : FitResult, BootstrapResult or mapping of parameters
        The fitted law (a BootstrapResult contributes its point estimate).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    runs : Runs or anything :func:`scalefit.read_runs` accepts, optional
        Runs to draw; default the runs of the fit.
    show_runs : bool, default True
        Draw the runs.
    flops, n_params : (low, high), optional
        Ranges of the axes; default the runs' range padded by half a decade
        (required when there are no runs).
    levels : int, default 14
        About how many contour levels.
    cmap : str or Colormap, default "viridis"
    colorbar : bool, default True

    Returns
    -------
    PlotDisplay
        ``artists_``: ``contours`` (filled), ``lines`` (contour lines),
        ``frontier`` (Line2D), ``runs`` (PathCollection or None), ``colorbar``.
        ``data_``: ``flops``, ``n_params`` (grid axes), ``loss`` (grid, shape
        (n_params, flops)), ``frontier_flops``, ``frontier_n_params``,
        ``levels``.

    Raises
    ------
    ScalefitInputError
        If ``fit_result`` is not a fit, the law needs inputs other than N and
        D, or the ranges are missing or bad.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_loss_contours"
    _pyplot()
    law, params, _samples, point = _law_params(fn, fit_result)
    if isinstance(levels, (bool, np.bool_)) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ScalefitInputError(f"{fn}: levels must be an integer >= 2 (about how many contours); got {levels!r}.")
    c_range = _range(fn, "flops", flops, "Give FLOPs such as (1e18, 1e24).")
    n_range = _range(fn, "n_params", n_params, "Give parameter counts such as (1e7, 1e11).")
    try:
        runs = _as_runs(fn, runs, point, needed_for="to draw them and to set the axis ranges")
    except ScalefitInputError:
        if c_range is None or n_range is None:
            raise ScalefitInputError(
                f"{fn}: without runs, give the ranges to draw: flops=(low, high) and n_params=(low, high)."
            ) from None
        runs = None
    k = _flops_per_param_token(runs)
    pad = 10.0**0.5
    if c_range is None:
        c_range = (runs.flops.min() / pad, runs.flops.max() * pad)
    if n_range is None:
        n_range = (runs.n_params.min() / pad, runs.n_params.max() * pad)
    ax = _new_axes(fn, ax, figsize=(6.4, 4.8))
    import matplotlib.colors as mcolors
    from matplotlib.ticker import MaxNLocator

    cm = _cmap(fn, cmap)
    c_grid = np.geomspace(*c_range, 160)
    n_grid = np.geomspace(*n_range, 160)
    C, N = np.meshgrid(c_grid, n_grid)
    L = _law_loss(fn, law, params, N, C / (k * N), k)
    finite = L[np.isfinite(L)]
    if finite.size == 0:
        raise ScalefitInputError(f"{fn}: the law gives no finite loss over these ranges; check the fit and the ranges.")
    top = float(np.percentile(finite, 85))
    if show_runs and runs is not None:
        top = max(top, float(np.percentile(runs.loss, 95)))
    bounds = MaxNLocator(nbins=levels).tick_values(float(finite.min()), top)
    norm = mcolors.Normalize(vmin=bounds[0], vmax=bounds[-1])
    masked = np.ma.masked_invalid(L)
    filled = ax.contourf(C, N, masked, levels=bounds, cmap=cm, norm=norm, extend="max")
    lines = ax.contour(C, N, masked, levels=bounds, colors="white", linewidths=0.5, alpha=0.6)
    fr_c = np.geomspace(*c_range, 120)
    fr_n, _, _ = _frontier(fn, law, params, fr_c, k)
    from .laws import is_chinchilla

    how = "closed form" if is_chinchilla(law) else "argmin along iso-FLOP lines"
    (frontier,) = ax.plot(fr_c, fr_n, color="tab:red", lw=2.0, label=f"efficient frontier $N^*(C)$ ({how})", zorder=3)
    scatter = None
    if show_runs and runs is not None:
        scatter = ax.scatter(runs.flops, runs.n_params, c=runs.loss, cmap=cm, norm=norm, s=22, edgecolors="black",
                             linewidths=0.6, zorder=4, label="runs (colour: observed loss)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*c_range)
    ax.set_ylim(*n_range)
    ax.set_xlabel(LABEL_C)
    ax.set_ylabel(LABEL_N)
    ax.set_title(f"Fitted loss ({law.name})")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.8)
    cbar = None
    if colorbar:
        cbar = ax.figure.colorbar(filled, ax=ax)
        cbar.set_label(LABEL_LOSS)
    return _display(
        "loss_contours", [ax],
        {"contours": filled, "lines": lines, "frontier": frontier, "runs": scatter, "colorbar": cbar},
        {"flops": c_grid, "n_params": n_grid, "loss": L, "frontier_flops": fr_c, "frontier_n_params": fr_n,
         "levels": bounds},
    )


def plot_fit(fit_result: Any, *, axes: Sequence[Axes] | None = None) -> PlotDisplay:
    """Fit diagnostics: predicted against observed loss, and residuals against N, D and C.

    Four panels: the law's prediction at each run against the observed loss
    with the line y = x; then the fit's residuals (in the space it was fitted
    in, ``fit_result.options["space"]``) against parameters, tokens and
    compute on log axes.  Outliers (``fit_result.diagnostics.outliers``,
    beyond 3 robust standard deviations) are drawn in red.

    Parameters
    ----------
    fit_result : FitResult
        From :func:`scalefit.fit`, with its runs.
    axes : four matplotlib Axes, optional
        Where to draw; a new 2 x 2 figure when None.

    Returns
    -------
    PlotDisplay
        ``axes_`` is (predicted-observed, residual-N, residual-D, residual-C).
        ``artists_``: ``observed`` (PathCollection), ``identity`` (Line2D),
        ``residuals`` (one PathCollection per residual panel), ``outliers``
        (PathCollections or None).  ``data_``: ``observed``, ``predicted``,
        ``residuals``, ``outlier``.

    Raises
    ------
    ScalefitInputError
        If ``fit_result`` is not a FitResult with its runs.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_fit"
    _pyplot()
    _expect(fit_result, fn, ("law", "params", "residuals", "fitted", "runs"), "a FitResult from scalefit.fit(runs)",
            "For a BootstrapResult pass its .fit.")
    runs = fit_result.runs
    if runs is None or getattr(fit_result, "_inputs", True) is None:
        raise ScalefitInputError(f"{fn}: this fit carries no runs (was it loaded from JSON?); refit with scalefit.fit to plot it.")
    observed = runs.loss
    predicted = np.asarray(fit_result.fitted, dtype=float)
    resid = np.asarray(fit_result.residuals, dtype=float)
    space = (getattr(fit_result, "options", None) or {}).get("space", "log")
    rows = runs.table["row"].to_numpy() if "row" in runs.table.columns else np.arange(len(runs))
    out_rows = getattr(getattr(fit_result, "diagnostics", None), "outliers", None)
    outlier = np.isin(rows, out_rows["row"].to_numpy()) if out_rows is not None and len(out_rows) else np.zeros(len(rows), bool)
    ax_pred, ax_n, ax_d, ax_c = _new_axes_grid(fn, axes, 4, ncols=2, panel=(4.4, 3.6))
    ok = ~outlier
    obs_pts = ax_pred.scatter(observed[ok], predicted[ok], s=16, alpha=0.75, color="tab:blue", edgecolors="none", label="runs")
    lims = [float(min(observed.min(), predicted.min())), float(max(observed.max(), predicted.max()))]
    padding = 0.03 * (lims[1] - lims[0] or 1.0)
    lims = [lims[0] - padding, lims[1] + padding]
    (identity,) = ax_pred.plot(lims, lims, color="black", lw=1.0, ls="--", label="y = x")
    ax_pred.set_xlim(lims)
    ax_pred.set_ylim(lims)
    ax_pred.set_aspect("equal", adjustable="box")
    ax_pred.set_xlabel("Observed " + LABEL_LOSS.lower())
    ax_pred.set_ylabel("Predicted " + LABEL_LOSS.lower())
    ax_pred.set_title(f"{fit_result.law.name} fit, {len(observed)} runs")
    rlabel = r"Residual  $\log\hat L - \log L$" if space == "log" else r"Residual  $\hat L - L$ (nats)"
    outlier_artists = []
    if outlier.any():
        outlier_artists.append(ax_pred.scatter(observed[outlier], predicted[outlier], s=22, color="tab:red",
                                               label="outlier (> 3 robust SD)"))
    residual_artists = []
    for ax, x, xlabel in ((ax_n, runs.n_params, LABEL_N), (ax_d, runs.n_tokens, LABEL_D), (ax_c, runs.flops, LABEL_C)):
        ax.axhline(0.0, color="black", lw=0.8)
        residual_artists.append(ax.scatter(x[ok], resid[ok], s=14, alpha=0.75, color="tab:blue", edgecolors="none"))
        if outlier.any():
            outlier_artists.append(ax.scatter(x[outlier], resid[outlier], s=20, color="tab:red"))
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(rlabel)
        ax.grid(True, alpha=0.3)
    ax_pred.legend(loc="upper left", fontsize="small", frameon=False)
    return _display(
        "fit", [ax_pred, ax_n, ax_d, ax_c],
        {"observed": obs_pts, "identity": identity, "residuals": tuple(residual_artists),
         "outliers": tuple(outlier_artists) or None},
        {"observed": observed, "predicted": predicted, "residuals": resid, "outlier": outlier},
    )


def plot_extrapolation(
    result: Any,
    *,
    ax: Axes | None = None,
    flops: float | Sequence[float] | None = None,
    level: float = 0.95,
    runs: Any = None,
    show_runs: bool = True,
) -> PlotDisplay:
    """Loss along the compute-optimal frontier, L*(C), extrapolated past the data with bootstrap bands.

    The line is L(N*(C), D*(C)) of the fitted law (closed form for the
    Chinchilla law, Hoffmann et al. 2022 eq. 4; a numeric argmin along
    C = k N D otherwise).  For a BootstrapResult the band is the
    percentile interval of L*(C) over the parameter draws, so it widens
    where the data end.  The runs are drawn as points (they lie on or above
    the frontier) and a dotted vertical line marks the largest run.

    Parameters
    ----------
    result : FitResult, BootstrapResult or mapping of parameters
        The fit; a BootstrapResult (``fit_result.bootstrap(n)``) adds the band.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    flops : float or sequence of float, optional
        Budget(s) to extrapolate to; each is marked with L* and its interval.
        The line runs from the smallest run to the largest of these (default
        100 times the largest run).
    level : float, default 0.95
        Coverage of the band.
    runs : Runs or anything :func:`scalefit.read_runs` accepts, optional
        Runs to draw; default the runs of the fit.
    show_runs : bool, default True
        Draw the runs.

    Returns
    -------
    PlotDisplay
        ``artists_``: ``line``, ``band`` (None without draws), ``runs``,
        ``data_end`` (the vertical line), ``targets`` (errorbar container) and
        ``target_text`` (their values), or None when not drawn.  ``data_``: ``flops``,
        ``loss_opt``, ``loss_low``, ``loss_high``, ``data_max_flops``,
        ``target_flops``, ``target_loss``, ``target_low``, ``target_high``.

    Raises
    ------
    ScalefitInputError
        If ``result`` is not a fit, ``level`` is outside (0, 1), or there are
        no runs and no ``flops``.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_extrapolation"
    _pyplot()
    level = check_level(level, where=fn)
    law, params, samples, point = _law_params(fn, result)
    targets = None if flops is None else _positive_array(fn, "flops", flops, "Give FLOP budgets such as 5.76e23.")
    try:
        runs = _as_runs(fn, runs, point, needed_for="to draw them and to mark where the data end")
    except ScalefitInputError:
        if targets is None:
            raise ScalefitInputError(
                f"{fn}: without runs, give the budgets to draw with flops=(...), e.g. flops=[1e21, 5.76e23]."
            ) from None
        runs = None
    k = _flops_per_param_token(runs)
    data_max = float(runs.flops.max()) if runs is not None else float("nan")
    lo_c = float(runs.flops.min()) if runs is not None else float(targets.min()) / 100
    hi_c = float(targets.max()) if targets is not None else data_max * 100
    hi_c = max(hi_c, data_max if runs is not None else hi_c) * 1.5
    grid = np.geomspace(lo_c, hi_c, 160)
    _, _, l_opt = _frontier(fn, law, params, grid, k)
    if not np.isfinite(l_opt).any():
        raise ScalefitInputError(
            f"{fn}: law {law.name!r} with these parameters has no interior compute-optimal point between "
            f"C = {grid[0]:.3g} and {grid[-1]:.3g} FLOPs (loss keeps falling towards ever larger or smaller models)."
        )
    ax = _new_axes(fn, ax, figsize=(6.4, 4.6))
    artists: dict[str, Any] = {"band": None, "runs": None, "data_end": None, "targets": None, "target_text": None}
    low = high = np.full(grid.shape, np.nan)
    draws = None
    if samples:
        draws = _frontier_draws(fn, law, samples, grid, k)
        with np.errstate(invalid="ignore"):
            low, high = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        artists["band"] = ax.fill_between(grid, low, high, color="tab:blue", alpha=0.22, lw=0,
                                          label=f"{level:.0%} bootstrap interval ({len(samples)} draws)")
    (line,) = ax.plot(grid, l_opt, color="tab:blue", lw=2.0, label=f"$L^*(C)$, compute-optimal loss ({law.name})")
    artists["line"] = line
    if runs is not None and show_runs:
        artists["runs"] = ax.scatter(runs.flops, runs.loss, s=12, color="0.35", alpha=0.7, zorder=3, label="runs")
    if runs is not None:
        artists["data_end"] = ax.axvline(data_max, color="0.3", ls=":", lw=1.2, label=f"largest run, C = {_pow10_label(data_max)}")
    t_loss = t_low = t_high = None
    if targets is not None:
        _, _, t_loss = _frontier(fn, law, params, targets, k)
        if samples:
            t_draws = _frontier_draws(fn, law, samples, targets, k)
            with np.errstate(invalid="ignore"):
                t_low, t_high = np.nanquantile(t_draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
            yerr = np.vstack([t_loss - t_low, t_high - t_loss])
        else:
            yerr = None
        artists["targets"] = ax.errorbar(targets, t_loss, yerr=yerr, fmt="*", ms=11, color="black", capsize=3, zorder=5)
        lines = [f"$L^*$ at C = {_pow10_label(cv)}: {lv:.3f}" + (f" [{t_low[i]:.3f}, {t_high[i]:.3f}]" if t_low is not None else "")
                 for i, (cv, lv) in enumerate(zip(targets, t_loss))]
        artists["target_text"] = ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top",
                                         fontsize="small", bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
    ax.set_xscale("log")
    ax.set_xlabel(LABEL_C)
    ax.set_ylabel("Compute-optimal " + LABEL_LOSS.lower())
    finite = l_opt[np.isfinite(l_opt)]
    if runs is not None and show_runs and finite.size:
        # keep the frontier readable: runs far above it (tiny models) would flatten it
        top = max(float(np.percentile(runs.loss, 90)), float(finite.max()))
        bottom = float(np.nanmin(low)) if np.isfinite(low).any() else float(finite.min())
        ax.set_ylim(bottom - 0.05 * (top - bottom), top + 0.05 * (top - bottom))
    ax.set_title("Extrapolation along the compute-optimal frontier")
    ax.legend(loc="lower left", fontsize="small", frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return _display(
        "extrapolation", [ax], artists,
        {"flops": grid, "loss_opt": l_opt, "loss_low": low, "loss_high": high, "data_max_flops": data_max,
         "target_flops": targets, "target_loss": t_loss, "target_low": t_low, "target_high": t_high},
    )


_SYMBOLS = {"alpha": r"$\alpha$", "beta": r"$\beta$", "a": r"$a = \beta/(\alpha+\beta)$", "b": r"$b = \alpha/(\alpha+\beta)$"}


def plot_bootstrap(
    bootstrap_result: Any,
    *,
    axes: Sequence[Axes] | None = None,
    level: float = 0.95,
    bins: int = 30,
) -> PlotDisplay:
    """Histograms of the bootstrap draws of each parameter and of a = beta/(alpha+beta).

    Each panel shows one quantity's draws, the point estimate of the full fit
    (solid line) and the percentile interval at ``level`` (shaded, dashed
    edges).  Quantities whose draws span more than a factor of 3 (often A and
    B) get a log x axis and log-spaced bins.

    Parameters
    ----------
    bootstrap_result : BootstrapResult
        From ``FitResult.bootstrap(n)``.
    axes : matplotlib Axes, optional
        One per quantity (parameters, then ``a`` for Chinchilla forms); a new
        figure with a grid of panels when None.
    level : float, default 0.95
        Interval level.
    bins : int, default 30
        Histogram bins.

    Returns
    -------
    PlotDisplay
        ``axes_``: one per quantity.  ``artists_``: ``hists`` (BarContainer
        per panel), ``estimates`` (Line2D per panel), ``intervals`` (Polygon
        per panel).  ``data_``: ``names``, ``estimate``, ``low``, ``high``
        (dicts by name).

    Raises
    ------
    ScalefitInputError
        If ``bootstrap_result`` is not a BootstrapResult, or ``level`` or
        ``bins`` is bad.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_bootstrap"
    _pyplot()
    _expect(bootstrap_result, fn, ("samples", "fit", "interval"), "a BootstrapResult from FitResult.bootstrap(n)",
            "Bootstrap a fit first: scalefit.fit(runs).bootstrap(1000).")
    level = check_level(level, where=fn)
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ScalefitInputError(f"{fn}: bins must be a positive integer; got {bins!r}.")
    from .laws import is_chinchilla

    fit = bootstrap_result.fit
    samples = bootstrap_result.samples
    names = list(samples.columns)
    values = {n: samples[n].to_numpy(dtype=float) for n in names}
    estimate = {n: float(fit.params[n]) for n in names}
    if is_chinchilla(fit.law):
        al = values["alpha"]
        be = values.get("beta", al)
        values["a"] = be / (al + be)
        estimate["a"] = float(fit.a)
        names.append("a")
    iv = bootstrap_result.interval(level)
    low = {n: float(iv.loc[n, "low"]) for n in names}
    high = {n: float(iv.loc[n, "high"]) for n in names}
    axes = _new_axes_grid(fn, axes, len(names), ncols=3, panel=(3.4, 2.8))
    hists, lines, spans = [], [], []
    for ax, name in zip(axes, names):
        v = values[name][np.isfinite(values[name])]
        log = bool(v.size and v.min() > 0 and v.max() / v.min() > 3)
        edges = np.geomspace(v.min(), v.max(), bins + 1) if log else bins
        if v.size:
            _, _, bars = ax.hist(v, bins=edges, color="tab:blue", alpha=0.6)
        else:
            bars = None
        hists.append(bars)
        spans.append(ax.axvspan(low[name], high[name], color="tab:orange", alpha=0.12, lw=0, zorder=0))
        for edge in (low[name], high[name]):
            ax.axvline(edge, color="tab:orange", ls="--", lw=1.0)
        lines.append(ax.axvline(estimate[name], color="black", lw=1.5))
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(_SYMBOLS.get(name, name))
        ax.set_ylabel("Bootstrap draws")
        ax.set_title(f"{estimate[name]:.4g}  [{low[name]:.4g}, {high[name]:.4g}]", fontsize="small")
    axes[0].figure.suptitle(
        f"Bootstrap of the {fit.law.name} fit: {len(samples)} resamples; line: estimate, band: {level:.0%} interval",
        fontsize="medium",
    )
    return _display(
        "bootstrap", axes, {"hists": tuple(hists), "estimates": tuple(lines), "intervals": tuple(spans)},
        {"names": tuple(names), "estimate": estimate, "low": low, "high": high},
    )


# ===================================================================== plan
def plot_training_cost(
    fit: Any,
    *,
    n_gpus: int,
    flops: Sequence[float] | None = None,
    gpu: str | None = None,
    mfu: float | None = None,
    flops_per_gpu: float | None = None,
    price_per_gpu_hour: float | None = None,
    recompute: bool = True,
    x: Literal["flops", "n_params"] = "flops",
    axes: Sequence[Axes] | None = None,
) -> PlotDisplay:
    """Wall-clock days and cost (or GPU-hours) of compute-optimal training runs on given hardware.

    For each budget C, :func:`scalefit.compute_optimal` gives N* and D*, and
    :func:`scalefit.training_time` / :func:`scalefit.training_cost` the days
    and money on ``n_gpus`` GPUs (Narayanan et al. 2021, eq. 4: 8 N D FLOPs
    with activation recomputation, 6 N D without).  The time depends on N*
    and D* only through N* D* = C / k, so it carries no bootstrap interval
    along the budget axis.

    Parameters
    ----------
    fit : FitResult, BootstrapResult, mapping of parameters, or AllocationTable
        The law to plan with (anything :func:`scalefit.compute_optimal`
        accepts), or its ready output.
    n_gpus : int
        Number of GPUs.
    flops : sequence of float, optional
        Budgets (default 31 budgets from 1e20 to 1e25 FLOPs).  Not allowed
        with an AllocationTable.
    gpu, mfu, flops_per_gpu, recompute
        Hardware, as in :func:`scalefit.training_time` (give ``gpu`` with
        ``mfu``, or ``flops_per_gpu``).
    price_per_gpu_hour : float, optional
        With a price the second panel shows money; without, GPU-hours.
    x : {"flops", "n_params"}, default "flops"
        Horizontal axis: the budget C or the compute-optimal model size N*.
    axes : two matplotlib Axes, optional
        Where to draw (days, cost); a new figure with two panels when None.

    Returns
    -------
    PlotDisplay
        ``axes_`` is (days axes, cost axes).  ``artists_``: ``days``,
        ``cost`` (Line2D).  ``data_``: ``flops``, ``n_params``, ``n_tokens``,
        ``days``, ``cost`` (money, or GPU-hours without a price).

    Raises
    ------
    ScalefitInputError
        For bad hardware options (see :func:`scalefit.training_time`), a bad
        ``x``, or budgets with an AllocationTable.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_training_cost"
    _pyplot()
    from .plan import compute_optimal, training_cost, training_time

    if x not in ("flops", "n_params"):
        raise ScalefitInputError(f"{fn}: x must be 'flops' (the budget) or 'n_params' (the optimal model size); got {x!r}.")
    if hasattr(fit, "allocations"):
        if flops is not None:
            raise ScalefitInputError(f"{fn}: flops= cannot be combined with an AllocationTable, which fixes its budgets.")
        allocations = list(fit.allocations)
    else:
        if not (hasattr(fit, "params") or hasattr(fit, "samples") or isinstance(fit, Mapping)):
            raise ScalefitInputError(
                f"{fn}: expected a FitResult, a BootstrapResult, a mapping of Chinchilla parameters or an "
                f"AllocationTable (scalefit.compute_optimal); got {type(fit).__name__}."
            )
        budgets = np.geomspace(1e20, 1e25, 31) if flops is None else _positive_array(
            fn, "flops", flops, "Give FLOP budgets such as [1e21, 1e23].")
        try:
            table = compute_optimal(fit, list(map(float, budgets)))
        except ScalefitInputError as exc:
            raise ScalefitInputError(f"{fn}: {exc}") from None
        allocations = list(table)
    hardware = dict(n_gpus=n_gpus, gpu=gpu, mfu=mfu, flops_per_gpu=flops_per_gpu, recompute=recompute)
    estimates = []
    try:
        for a in allocations:
            if price_per_gpu_hour is None:
                estimates.append(training_time(a.n_params, a.n_tokens, **hardware))
            else:
                estimates.append(training_cost(a.n_params, a.n_tokens, price_per_gpu_hour=price_per_gpu_hour, **hardware))
    except ScalefitInputError as exc:
        raise ScalefitInputError(f"{fn}: {exc}") from None
    c = np.array([a.flops for a in allocations])
    n = np.array([a.n_params for a in allocations])
    d = np.array([a.n_tokens for a in allocations])
    days = np.array([e.days for e in estimates])
    cost = np.array([e.cost if price_per_gpu_hour is not None else e.gpu_hours for e in estimates])
    order = np.argsort(c if x == "flops" else n)
    xs = (c if x == "flops" else n)[order]
    ax_t, ax_c = _new_axes_grid(fn, axes, 2, ncols=2, panel=(4.6, 3.8))
    first = estimates[0]
    per_gpu = (f"{first.gpu} at {first.mfu:.0%} MFU" if first.gpu is not None
               else f"{first.flops_per_gpu / 1e12:.3g} TFLOP/s per GPU")
    (line_t,) = ax_t.plot(xs, days[order], color="tab:blue", lw=2.0, marker="o", ms=3)
    (line_c,) = ax_c.plot(xs, cost[order], color="tab:green", lw=2.0, marker="o", ms=3)
    xlabel = LABEL_C if x == "flops" else LABEL_N + "*  (compute-optimal)"
    for ax in (ax_t, ax_c):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.3)
    ax_t.set_ylabel("Training time (days)")
    for ref, name in ((1, "1 day"), (30, "1 month"), (365.25, "1 year")):
        if days.min() <= ref <= days.max():
            ax_t.axhline(ref, color="0.6", lw=0.8, ls=":")
            ax_t.annotate(name, (xs[0], ref), textcoords="offset points", xytext=(2, 2), fontsize="x-small", color="0.4")
    ax_c.set_ylabel("Cost (currency of price_per_gpu_hour)" if price_per_gpu_hour is not None else "GPU-hours")
    if price_per_gpu_hour is not None:
        ax_c.set_title(f"at {price_per_gpu_hour:g} per GPU-hour", fontsize="small")
    ax_t.set_title(f"{first.n_gpus:,} GPUs, {per_gpu}" + ("" if recompute else ", no recomputation"), fontsize="small")
    return _display(
        "training_cost", [ax_t, ax_c], {"days": line_t, "cost": line_c},
        {"flops": c[order], "n_params": n[order], "n_tokens": d[order], "days": days[order], "cost": cost[order]},
    )
