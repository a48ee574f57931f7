"""Figures of an experiment design: the runs on the (N, D) plane, and the value of more experiment compute."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._errors import ScalefitInputError
from ..laws import evaluate
from ..plan import frontier
from ._base import LABEL_D, LABEL_N, PlotDisplay, _display, _expect, _new_axes

if TYPE_CHECKING:  # pragma: no cover - typing only; matplotlib is imported lazily
    from matplotlib.axes import Axes

_QUANTITIES = {"a": "a = beta/(alpha+beta)", "n_opt": "N*", "d_opt": "D*", "loss": "L*"}


def plot_design(design: Any, *, ax: Axes | None = None, levels: int = 12) -> PlotDisplay:
    """The design's runs on the (N, D) plane, over the prior's loss contours and IsoFLOP lines.

    Parameters
    ----------
    design : Design
        A result of :func:`scalefit.design`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    levels : int, default 12
        Number of loss contours of the prior's central law.

    Returns
    -------
    PlotDisplay
        ``artists_``: ``contours``, ``runs`` (and ``trained`` with trained
        runs), ``frontier``.  ``data_``: ``n_params``, ``n_tokens`` (the
        runs), ``budgets`` (the IsoFLOP lines drawn).

    Raises
    ------
    ScalefitInputError
        If ``design`` is not a Design.
    """
    fn = "plot_design"
    _expect(design, fn, ("runs", "prior_centre", "target_flops"), "a Design from scalefit.design()")
    ax = _new_axes(fn, ax, figsize=(6.0, 4.8))
    runs = design.runs
    k = float(design.flops_per_param_token)
    n_all = runs["n_params"].to_numpy(float)
    d_all = runs["n_tokens"].to_numpy(float)
    if design.existing is not None:
        n_all = np.concatenate([n_all, design.existing["n_params"].to_numpy(float)])
        d_all = np.concatenate([d_all, design.existing["n_tokens"].to_numpy(float)])
    n_grid = np.geomspace(n_all.min() / 4, n_all.max() * 4, 120)
    d_grid = np.geomspace(d_all.min() / 4, d_all.max() * 4, 120)
    nn, dd = np.meshgrid(n_grid, d_grid)
    loss = np.asarray(evaluate("chinchilla", design.prior_centre, n_params=nn, n_tokens=dd), dtype=float)
    contours = ax.contour(nn, dd, loss, levels=levels, cmap="viridis", linewidths=0.8)
    ax.clabel(contours, fontsize=7, fmt="%.2f")
    budgets = np.unique(runs["budget"].to_numpy(float))
    for c in budgets:
        ax.plot(n_grid, c / (k * n_grid), color="0.6", lw=0.8, ls="--")
    flops_line = np.geomspace(k * n_grid.min() * d_grid.min(), k * n_grid.max() * d_grid.max(), 60)
    n_opt, d_opt, _ = frontier("chinchilla", design.prior_centre, flops_line, flops_per_param_token=k)
    (front,) = ax.plot(n_opt, d_opt, color="k", lw=1.2, label="prior's compute-optimal frontier")
    artists: dict[str, Any] = {"contours": contours, "frontier": front}
    if design.existing is not None:
        artists["trained"] = ax.scatter(design.existing["n_params"], design.existing["n_tokens"], marker="x",
                                        color="0.3", label="trained", zorder=3)
    artists["runs"] = ax.scatter(runs["n_params"], runs["n_tokens"], color="tab:red", edgecolor="k", zorder=4,
                                 label="runs to train")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_grid[0], n_grid[-1])
    ax.set_ylim(d_grid[0], d_grid[-1])
    ax.set_xlabel(LABEL_N)
    ax.set_ylabel(LABEL_D)
    ax.set_title(f"{design.n_runs} runs, {design.total_flops:.2g} FLOPs (dashed: IsoFLOP lines)", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    return _display("design", [ax], artists, {"n_params": runs["n_params"].to_numpy(float),
                                              "n_tokens": runs["n_tokens"].to_numpy(float), "budgets": budgets})


def plot_design_value(designs: Sequence[Any], *, quantity: str | None = None, ax: Axes | None = None) -> PlotDisplay:
    """Expected error at the target against experiment compute: the value of a larger experiment budget.

    Parameters
    ----------
    designs : sequence of Design
        Designs for the same target at different ``experiment_flops`` (e.g.
        ``[scalefit.design(1e24, c) for c in (1e20, 3e20, 1e21)]``).
    quantity : {"n_opt", "d_opt", "loss", "a"}, optional
        Default: the designs' objective.
    ax : matplotlib Axes, optional

    Returns
    -------
    PlotDisplay
        ``artists_``: ``median``, ``range`` (the 80% range of the absolute
        error).  ``data_``: ``experiment_flops``, ``median``, ``low``, ``high``.

    Raises
    ------
    ScalefitInputError
        No designs, something that is not a Design, or an unknown quantity.
    """
    fn = "plot_design_value"
    designs = list(designs)
    if not designs:
        raise ScalefitInputError(f"{fn}: give at least one Design, e.g. [scalefit.design(1e24, c) for c in budgets].")
    for d in designs:
        _expect(d, fn, ("errors", "experiment_flops", "objective"), "a Design from scalefit.design()")
    quantity = quantity or designs[0].objective
    if quantity not in _QUANTITIES:
        raise ScalefitInputError(f"{fn}: quantity must be one of {list(_QUANTITIES)}; got {quantity!r}.",
                                 option="quantity", values=[quantity])
    col = list(_QUANTITIES).index(quantity)
    order = np.argsort([d.experiment_flops for d in designs])
    x = np.array([designs[i].experiment_flops for i in order])
    abs_err = [np.abs(designs[i].errors[:, col]) for i in order]
    med = np.array([np.median(e) for e in abs_err])
    low = np.array([np.quantile(e, 0.1) for e in abs_err])
    high = np.array([np.quantile(e, 0.9) for e in abs_err])
    ax = _new_axes(fn, ax, figsize=(5.5, 4.0))
    band = ax.fill_between(x, low, high, alpha=0.25, color="tab:blue", label="80% range")
    (line,) = ax.plot(x, med, "o-", color="tab:blue", label="median")
    ax.set_xscale("log")
    ax.set_xlabel("Experiment compute (FLOPs)")
    unit = "absolute error" if quantity == "a" else "|ln(estimate / truth)|"
    ax.set_ylabel(f"Error of {_QUANTITIES[quantity]} at {designs[0].target_flops:.2g} FLOPs ({unit})")
    ax.legend(fontsize=8)
    return _display("design_value", [ax], {"median": line, "range": band},
                    {"experiment_flops": x, "median": med, "low": low, "high": high})
