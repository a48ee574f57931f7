"""Figures of a parametric fit: loss contours, fit diagnostics, extrapolation along the frontier, bootstrap draws.

Each takes a FitResult (or a BootstrapResult, a LoadedFit or a mapping of
Chinchilla parameters where it says so) and draws from it alone: the runs
come from the fit (``fit.runs``); ``runs=`` overrides them.  The frontier is
:func:`scalefit.plan.frontier`, the law is evaluated by
:func:`scalefit.laws.evaluate` and intervals are
:func:`scalefit._intervals.percentile_interval`.
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Sequence, cast

import numpy as np

from .._errors import IntervalWarning, ScalefitInputError
from .._intervals import percentile_interval
from .._validation import check_level
from ..laws import chinchilla_exponents, evaluate, is_chinchilla
from ..plan import frontier, frontier_draws
from ._base import (
    LABEL_C,
    LABEL_D,
    LABEL_LOSS,
    LABEL_N,
    PlotDisplay,
    _cmap,
    _display,
    _expect,
    _flops_per_param_token,
    _law_params,
    _colorbar_place,
    _new_axes,
    _new_axes_grid,
    _positive_array,
    _pow10_label,
    _pyplot,
    _range,
    _readable_ticks,
    _runs_of,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; matplotlib is imported lazily
    from matplotlib.axes import Axes


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
    along each iso-FLOP line), and the runs as
    white markers with black edges (visible on every colour of the map).

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
        runs = _runs_of(fn, runs, point, needed_for="to draw them and to set the axis ranges")
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
    # the frontier solver also refuses laws with inputs other than N, D and C, before anything is drawn
    fr_c = np.geomspace(*c_range, 120)
    fr_n, _, _ = frontier(law, params, fr_c, flops_per_param_token=k, where=fn)
    ax = _new_axes(fn, ax, figsize=(6.4, 4.8), margins=(0.66, 0.5, 1.05, 0.28, 0, 0))
    import matplotlib.colors as mcolors
    from matplotlib.ticker import MaxNLocator

    cm = _cmap(fn, cmap)
    c_grid = np.geomspace(*c_range, 160)
    n_grid = np.geomspace(*n_range, 160)
    C, N = np.meshgrid(c_grid, n_grid)
    L = np.asarray(evaluate(law, params, flops_per_param_token=k, where=fn, n_params=N, n_tokens=C / (k * N)), dtype=float)
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
    lines = ax.contour(C, N, masked, levels=bounds, colors="white", linewidths=0.6, alpha=0.8)
    ax.clabel(lines, bounds[::2], inline=True, fontsize="x-small", fmt="%.2f", colors="white")  # every other level
    how = "closed form" if is_chinchilla(law) else "argmin along iso-FLOP lines"
    (frontier_line,) = ax.plot(fr_c, fr_n, color="tab:red", lw=2.0, label=f"efficient frontier N*(C) ({how})", zorder=3)
    scatter = None
    if show_runs and runs is not None:
        # white with a black edge: visible on every colour of the map (the fill already shows the loss)
        scatter = ax.scatter(runs.flops, runs.n_params, s=22, facecolors="white", edgecolors="black",
                             linewidths=0.8, zorder=4, label="runs")
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
        cbar = ax.figure.colorbar(filled, **_colorbar_place(ax))
        cbar.set_label(LABEL_LOSS)
    return _display(
        "loss_contours", [ax],
        {"contours": filled, "lines": lines, "frontier": frontier_line, "runs": scatter, "colorbar": cbar},
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
    if runs is None:
        raise ScalefitInputError(f"{fn}: this fit carries no runs (was it loaded from JSON?); refit with scalefit.fit to plot it.")
    observed = runs.loss
    predicted = np.asarray(fit_result.fitted, dtype=float)
    resid = np.asarray(fit_result.residuals, dtype=float)
    space = (getattr(fit_result, "options", None) or {}).get("space", "log")
    rows = runs.table["row"].to_numpy() if "row" in runs.table.columns else np.arange(len(runs))
    out_rows = getattr(getattr(fit_result, "diagnostics", None), "outliers", None)
    outlier = np.isin(rows, out_rows["row"].to_numpy()) if out_rows is not None and len(out_rows) else np.zeros(len(rows), bool)
    ax_pred, ax_n, ax_d, ax_c = _new_axes_grid(fn, axes, 4, ncols=2, panel=(4.4, 3.6), margins=(0.85, 0.5, 0.1, 0.28, 0.88, 0.55))
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
    C = k N D otherwise).  For a BootstrapResult two bands are drawn: the
    confidence interval of L*(C) over the parameter draws (bias-corrected
    percentile interval, so it contains the line; it widens where the data
    end), and, lighter and wider, the prediction interval of the loss a new
    compute-optimal run reaches: the same draws with the run-to-run noise of
    the residuals and the calibrated extrapolation term added, as
    :meth:`FitResult.predict` adds them with ``interval="prediction"`` (not
    drawn for a fit loaded from JSON, which keeps no residuals).  The runs are
    drawn as points (they lie on or above the frontier) and a dotted vertical
    line marks the largest run.  Every run is shown unless that would squeeze
    the line into less than a third of the height; then the runs above the
    top are drawn as triangles on the top edge and counted in the legend.

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
        ``artists_``: ``line``, ``band`` (confidence; None without draws),
        ``prediction_band`` (None without draws or residuals), ``runs``,
        ``clipped`` (runs above the top edge, or None), ``data_end`` (the
        vertical line), ``targets`` (errorbar container) and ``target_text``
        (their values), or None when not drawn.  ``data_``: ``flops``,
        ``loss_opt``, ``loss_low``, ``loss_high``, ``prediction_low``,
        ``prediction_high``, ``data_max_flops``, ``n_clipped``,
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
        runs = _runs_of(fn, runs, point, needed_for="to draw them and to mark where the data end")
    except ScalefitInputError:
        if targets is None:
            raise ScalefitInputError(
                f"{fn}: without runs, give the budgets to draw with flops=(...), e.g. flops=[1e21, 5.76e23]."
            ) from None
        runs = None
    k = _flops_per_param_token(runs)
    data_max = float(runs.flops.max()) if runs is not None else float("nan")
    lo_c = float(runs.flops.min()) if runs is not None else float(cast(np.ndarray, targets).min()) / 100  # given (above)
    hi_c = float(targets.max()) if targets is not None else data_max * 100
    hi_c = max(hi_c, data_max if runs is not None else hi_c) * 1.5
    grid = np.geomspace(lo_c, hi_c, 80)  # smooth on a log axis; each point of the bands costs 20,000 draws
    _, _, l_opt = frontier(law, params, grid, flops_per_param_token=k, where=fn)
    if not np.isfinite(l_opt).any():
        raise ScalefitInputError(
            f"{fn}: law {law.name!r} with these parameters has no interior compute-optimal point between "
            f"C = {grid[0]:.3g} and {grid[-1]:.3g} FLOPs (loss keeps falling towards ever larger or smaller models)."
        )
    ax = _new_axes(fn, ax, figsize=(6.4, 4.6), margins=(0.6, 1.2, 0.1, 0.28, 0, 0))
    artists: dict[str, Any] = {"band": None, "prediction_band": None, "runs": None, "clipped": None, "data_end": None,
                               "targets": None, "target_text": None}
    low = high = p_low = p_high = np.full(grid.shape, np.nan)
    if samples:
        draws = frontier_draws(law, samples, grid, flops_per_param_token=k, where=fn)
        with warnings.catch_warnings():  # a band of 80 points: the plan's own intervals warn where it matters
            warnings.simplefilter("ignore", IntervalWarning)
            low, high = percentile_interval(draws, level, axis=0, estimate=l_opt)  # contains the line
        p_low, p_high = _prediction_band(point, law, params, grid, draws, l_opt, k, level, fn)
        if np.isfinite(p_low).any():
            artists["prediction_band"] = ax.fill_between(
                grid, p_low, p_high, color="tab:orange", alpha=0.22, lw=0,
                label=f"{level:.0%} prediction interval (a new compute-optimal run)")
        artists["band"] = ax.fill_between(grid, low, high, color="tab:blue", alpha=0.3, lw=0,
                                          label=f"{level:.0%} confidence interval of L* ({len(samples)} draws)")
    (line,) = ax.plot(grid, l_opt, color="tab:blue", lw=2.0, label=f"L*(C), compute-optimal loss ({law.name})")
    artists["line"] = line
    y_lo, y_hi, clipped = _extrapolation_limits(l_opt, (low, high, p_low, p_high),
                                                runs.loss if runs is not None and show_runs else None)
    if runs is not None and show_runs:
        shown = ~clipped
        artists["runs"] = ax.scatter(runs.flops[shown], runs.loss[shown], s=12, color="0.35", alpha=0.7, zorder=3,
                                     label="runs")
        if clipped.any():  # said, not hidden: a triangle at the top edge for each run above it
            artists["clipped"] = ax.scatter(runs.flops[clipped], np.full(int(clipped.sum()), y_hi), marker="^", s=22,
                                            color="0.35", zorder=3, clip_on=False,
                                            label=f"{int(clipped.sum())} runs above {y_hi:.2f} nats (drawn at the top edge)")
    if runs is not None:
        artists["data_end"] = ax.axvline(data_max, color="0.3", ls=":", lw=1.2, label=f"largest run, C = {_pow10_label(data_max)}")
    t_loss = t_low = t_high = None
    if targets is not None:
        _, _, t_loss = frontier(law, params, targets, flops_per_param_token=k, where=fn)
        if samples:
            t_draws = frontier_draws(law, samples, targets, flops_per_param_token=k, where=fn)
            t_low, t_high = percentile_interval(t_draws, level, axis=0, estimate=t_loss,  # as the band: contains L*
                                                what=[f"L* at {c:.3g} FLOPs" for c in targets])
            yerr = np.vstack([t_loss - t_low, t_high - t_loss])
        else:
            yerr = None
        artists["targets"] = ax.errorbar(targets, t_loss, yerr=yerr, fmt="*", ms=11, color="black", capsize=3, zorder=5)
        bounds = ([f" [{lo:.3f}, {hi:.3f}]" for lo, hi in zip(t_low, t_high)] if t_low is not None and t_high is not None
                  else [""] * len(targets))
        lines = [f"L* at C = {_pow10_label(cv)}: {lv:.3f}" + bound for cv, lv, bound in zip(targets, t_loss, bounds)]
        artists["target_text"] = ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top",
                                         fontsize="small", bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
    ax.set_xscale("log")
    ax.set_xlabel(LABEL_C)
    ax.set_ylabel("Compute-optimal " + LABEL_LOSS.lower())
    ax.set_ylim(y_lo, y_hi)
    ax.set_title("Extrapolation along the compute-optimal frontier")
    # below the axes: inside, it covered runs and the bands
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small", frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return _display(
        "extrapolation", [ax], artists,
        {"flops": grid, "loss_opt": l_opt, "loss_low": low, "loss_high": high, "prediction_low": p_low,
         "prediction_high": p_high, "data_max_flops": data_max, "n_clipped": int(clipped.sum()),
         "target_flops": targets, "target_loss": t_loss, "target_low": t_low, "target_high": t_high},
    )


def _prediction_band(point: Any, law: Any, params: Any, grid: np.ndarray, draws: np.ndarray, l_opt: np.ndarray, k: float,
                     level: float, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` prediction interval of the loss a new compute-optimal run at C reaches (NaN when the fit keeps
    no residuals, e.g. one loaded from JSON): the confidence band's draws of L*(C) (``draws``) with the residuals'
    run-to-run noise and the calibrated extrapolation term added, as :meth:`FitResult.predict` adds them with
    ``interval="prediction"``, and the same bias-corrected percentile interval, so the prediction band holds the
    confidence band (it had measured the loss at the point fit's N*, D* instead: narrower at the top on Li et
    al.'s runs, a QA report)."""
    from ..fitting._predictive import _point_scale, extrapolation_calibration, stored_calibration, with_run_noise

    nan = np.full(grid.shape, np.nan)
    if not (hasattr(point, "predict") and hasattr(point, "problem") and hasattr(point, "residuals")):
        return nan, nan
    n_opt, d_opt, _ = frontier(law, params, grid, flops_per_param_token=k, where=fn)
    by = (point.options.get("auto") or {}).get("by", "flops")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the calibration's inner fits: the fit already said what it had to
        calibration: dict | None = stored_calibration(point, by) or extrapolation_calibration(point, by=by)
    try:
        scale = _point_scale(point, {"flops": grid, "n_params": n_opt, "n_tokens": d_opt}, str(by))
    except ScalefitInputError:  # a scale the frontier does not give: the noise alone
        calibration, scale = None, None
    noisy = with_run_noise(point, draws, calibration=calibration, scale=scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntervalWarning)
        low, high = percentile_interval(noisy, level, axis=0, estimate=l_opt)
    return np.asarray(low, float), np.asarray(high, float)


def _extrapolation_limits(line: np.ndarray, bands: Sequence[np.ndarray],
                          loss: np.ndarray | None) -> tuple[float, float, np.ndarray]:
    """y limits that show the line, its bands and every run, and which runs lie above the top.

    Runs are clipped only when showing them all would squeeze the line and
    bands into less than a third of the height (tiny models far above the
    frontier); the caller marks the clipped ones at the top edge.
    """
    values = np.concatenate([np.ravel(b) for b in (line, *bands)])
    values = values[np.isfinite(values)]
    bottom, top = float(values.min()), float(values.max())
    clipped = np.zeros(0 if loss is None else len(loss), dtype=bool)
    if loss is not None and len(loss):
        finite = np.asarray(loss, float)[np.isfinite(loss)]
        bottom = min(bottom, float(finite.min()))
        span = top - bottom
        if float(finite.max()) - bottom <= 3.0 * span or span <= 0:
            top = max(top, float(finite.max()))
        else:  # show every run within three times the line's span; clip (and mark) only those beyond
            top = max(top, float(finite[finite <= bottom + 3.0 * span].max()))
            clipped = np.asarray(loss, float) > top + 0.05 * (top - bottom)
    pad = 0.05 * (top - bottom or 1.0)
    return bottom - pad, top + pad, clipped


# plain text, not mathtext: each distinct mathtext label costs a parse in a fresh process (issue 12, the quick report)
_SYMBOLS = {"alpha": "α", "beta": "β", "a": "a = β/(α+β)", "b": "b = α/(α+β)"}


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
    fit = bootstrap_result.fit
    samples = bootstrap_result.samples
    names = list(samples.columns)
    values = {n: samples[n].to_numpy(dtype=float) for n in names}
    estimate = {n: float(fit.params[n]) for n in names}
    if is_chinchilla(fit.law):
        al = values["alpha"]
        be = values.get("beta", al)
        values["a"] = chinchilla_exponents(al, be)[0]
        estimate["a"] = float(fit.a)
        names.append("a")
    iv = bootstrap_result.interval(level)
    low = {n: float(iv.loc[n, "low"]) for n in names}
    high = {n: float(iv.loc[n, "high"]) for n in names}
    axes = _new_axes_grid(fn, axes, len(names), ncols=3, panel=(3.4, 2.8), margins=(0.55, 0.5, 0.1, 0.46, 0.58, 0.7))
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
        _readable_ticks(ax.xaxis)
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


