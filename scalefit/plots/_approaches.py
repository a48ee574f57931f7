"""Figures of Approaches 1 and 2 (Hoffmann et al. 2022, Figures 2 and 3): IsoFLOP profiles, N*(C) and D*(C), envelope.

Each takes an IsoFLOPResult or EnvelopeResult and draws from it alone: the
runs come from the result (``result.runs``); ``runs=`` overrides them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._errors import ScalefitInputError
from .._validation import check_level
from ..approaches._isoflop import curve_values
from ._base import (
    LABEL_C,
    LABEL_D,
    LABEL_LOSS,
    LABEL_N,
    PlotDisplay,
    _budget_palette,
    _cmap,
    _colorbar,
    _display,
    _expect,
    _log_norm,
    _new_axes,
    _new_axes_grid,
    _plain_log_ticks,
    _positive_array,
    _pyplot,
    _runs_of,
    _short,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; matplotlib is imported lazily
    from matplotlib.axes import Axes


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
    """The curve the analysis fitted to budget ``g`` (its ``optima["curve"]``, in log10 N - centre),
    the log10 N of the runs it was fitted to, and the centre."""
    opt = result.optima.iloc[g]
    coef = np.asarray(opt["curve"], dtype=float)
    used = set(opt["rows_used"])
    mask = np.array([int(r) in used for r in table["row"].to_numpy()])
    x_used = np.log10(table["n_params"].to_numpy(dtype=float)[mask])
    if not np.all(np.isfinite(coef)) or x_used.size == 0:
        return None, x_used, float(opt["centre"])
    return coef, x_used, float(opt["centre"])


# =============================================================== Approach 2
def plot_isoflop_profiles(
    isoflop_result: Any,
    runs: Any = None,
    *,
    ax: Axes | None = None,
    cmap: Any = None,
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
        Overrides the runs the result keeps (``isoflop_result.runs``); needed
        only for a result that keeps none.  Training curves are reduced to
        final checkpoints, as the analysis does.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    cmap : str or Colormap, optional
        Colours of the budgets on a log scale of C; default (None): one
        discrete colour per budget, dark blue to green (no pale yellow on
        white), with each budget labelled on the colorbar.
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
        If ``isoflop_result`` is not an ungrouped IsoFLOPResult, or its runs
        (or ``runs``) are missing or do not match the result.
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
    runs = _runs_of(fn, runs, isoflop_result, needed_for="to draw each budget's points")
    if runs.has_curves:
        runs = runs.final()
    table = runs.table
    ax = _new_axes(fn, ax, figsize=(6.4, 4.8), margins=(0.68, 0.5, 1.25, 0.28, 0, 0))
    budgets = optima["flops"].to_numpy(dtype=float)
    if cmap is None:  # one discrete, labelled colour per budget
        cm, norm, ticks = _budget_palette(budgets)
    else:
        cm, norm, ticks = _cmap(fn, cmap), _log_norm(budgets), None
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
        ys = curve_values(isoflop_result.method, coef, xs - centre)
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
    cbar = _colorbar(ax, norm, cm, "FLOP budget C (FLOPs)", ticks=ticks) if colorbar else None
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
        intervals), ``target_values`` (the values written beside the planned
        budgets, in the result's colour; a result drawn on axes that already
        hold one writes its values a line further out, so they never overlap).  ``data_``: ``flops`` (the line's grid), ``n_opt``,
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
    ax_n, ax_d = _new_axes_grid(fn, axes, 2, ncols=2, panel=(4.8, 4.2), margins=(0.68, 0.5, 0.2, 0.12, 0.75, 0))
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
    marks, values_text = [], []
    if targets is not None:
        at = result.predict_optimal(targets)
        for ax, values, name in ((ax_n, at.n_params, "n_params"), (ax_d, at.n_tokens, "n_tokens")):
            # results drawn earlier on these axes: each later one writes its values one line further out
            earlier = sum(1 for c in ax.collections if c.get_gid() == _TARGETS_GID)
            colour = artists[f"{name[0]}_line"].get_color()
            lo_t, hi_t = at.intervals.get(name, {}).get(level, (None, None))
            if lo_t is not None and np.all(np.isfinite(lo_t)) and np.all(np.isfinite(hi_t)):
                ax.errorbar(targets, values, yerr=[values - np.asarray(lo_t), np.asarray(hi_t) - values], fmt="none",
                            ecolor="black", elinewidth=1.2, capsize=3, zorder=5)
            star = ax.scatter(targets, values, marker="*", s=110, color="black", zorder=5,
                              label=f"planned budgets ({level:.0%} interval)" if not earlier else "_nolegend_")
            star.set_gid(_TARGETS_GID)
            marks.append(star)
            # a second result writes on the other side of the star, so close values cannot meet; a third one line out
            shift = 11 * (earlier // 2)
            for i, (cv, v) in enumerate(zip(targets, values)):  # neighbours alternate up and down: no overlap
                up = bool(i % 2)
                left = up != bool(earlier % 2)
                values_text.append(ax.annotate(  # the value, in the result's colour; C is on the axis
                    _short(v), (cv, v), textcoords="offset points", color=colour,
                    xytext=(-8 if left else 8, 4 + shift if up else -4 - shift), ha="right" if left else "left",
                    va="bottom" if up else "top", fontsize="x-small"))
    for ax in (ax_n, ax_d):  # after the planned budgets, so that their stars are in the legend too
        ax.legend(loc="lower right", fontsize="x-small", frameon=False)
    artists["targets"] = tuple(marks) or None
    artists["target_values"] = tuple(values_text) or None
    return _display("optimal_scaling", [ax_n, ax_d], artists, data)


#: gid of the planned-budget stars of :func:`plot_optimal_scaling`, to count the results already on an axes.
_TARGETS_GID = "scalefit-planned-budgets"


# =============================================================== Approach 1
def plot_envelope(
    envelope_result: Any,
    runs: Any = None,
    *,
    ax: Axes | None = None,
    cmap: Any = None,
    colorbar: bool = True,
) -> PlotDisplay:
    """Training curves (loss against FLOPs) coloured by model size, with their lower envelope.

    Hoffmann et al. (2022), Figure 2 (left): every run's loss against the
    FLOPs spent so far, on log-log axes, one discrete colour per model size
    (the palette of the IsoFLOP figure: dark blue to green, each size
    labelled on the colorbar); the envelope (``envelope_result.frontier``) dashed black,
    with dots on the points that entered the power-law fit (points flagged
    ``"edge"`` are left out).

    Parameters
    ----------
    envelope_result : EnvelopeResult
        From :func:`scalefit.envelope`.
    runs : Runs or anything :func:`scalefit.read_runs` accepts, optional
        Overrides the training curves the result keeps
        (``envelope_result.runs``); needed only for a result that keeps none.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    cmap : str or Colormap, optional
        Colours of the model sizes on a log scale; default (None): one
        discrete colour per model size with good contrast on white, each
        size labelled on the colorbar (every k-th beyond 12 sizes).
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
        If ``envelope_result`` is not an EnvelopeResult, or it keeps no runs
        and ``runs`` is not given.
    ImportError
        If matplotlib is not installed.
    """
    fn = "plot_envelope"
    _pyplot()
    _expect(envelope_result, fn, ("frontier",), "an EnvelopeResult from scalefit.envelope(runs)",
            "For an IsoFLOPResult use plot_isoflop_profiles.")
    runs = _runs_of(fn, runs, envelope_result, needed_for="to draw the training curves")
    ax = _new_axes(fn, ax, figsize=(6.4, 4.8), margins=(0.68, 0.5, 1.2, 0.28, 0, 0))
    table = runs.table
    sizes = table["n_params"].to_numpy(dtype=float)
    if cmap is None:  # one discrete, labelled colour per model size, as the IsoFLOP figure's budgets
        cm, norm, ticks = _budget_palette(sizes)
    else:
        cm, norm, ticks = _cmap(fn, cmap), _log_norm(sizes), None
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
    cbar = _colorbar(ax, norm, cm, LABEL_N, counts=True, ticks=ticks) if colorbar else None
    _plain_log_ticks(ax.yaxis)
    return _display(
        "envelope", [ax],
        {"curves": tuple(curves), "envelope": env, "fitted": fitted, "excluded": excluded, "colorbar": cbar},
        {"flops": f, "loss": l_env, "n_params": fr["n_params"].to_numpy(dtype=float), "used": used},
    )
