"""Figure of a plan: days and money (or GPU-hours) of compute-optimal training runs on given hardware."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

import numpy as np

from .._errors import ScalefitInputError
from ..plan import compute_optimal, training_cost, training_time
from ._base import LABEL_C, LABEL_N, PlotDisplay, _display, _new_axes_grid, _positive_array, _pyplot

if TYPE_CHECKING:  # pragma: no cover - typing only; matplotlib is imported lazily
    from matplotlib.axes import Axes


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
            table: Any = compute_optimal(fit, list(map(float, budgets)))  # an AllocationTable: budgets is a list
        except ScalefitInputError as exc:
            raise ScalefitInputError(f"{fn}: {exc}") from None
        allocations = list(table)
    hardware: dict[str, Any] = dict(n_gpus=n_gpus, gpu=gpu, mfu=mfu, flops_per_gpu=flops_per_gpu, recompute=recompute)
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
    ax_t, ax_c = _new_axes_grid(fn, axes, 2, ncols=2, panel=(4.6, 3.8), margins=(0.68, 0.5, 0.1, 0.26, 0.66, 0))
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
    ax_c.set_ylabel("Cost (US$)" if price_per_gpu_hour is not None else "GPU-hours")  # as the report reads the price
    if price_per_gpu_hour is not None:
        ax_c.set_title(f"at ${price_per_gpu_hour:g} per GPU-hour", fontsize="small")
    ax_t.set_title(f"{first.n_gpus:,} GPUs, {per_gpu}" + ("" if recompute else ", no recomputation"), fontsize="small")
    return _display(
        "training_cost", [ax_t, ax_c], {"days": line_t, "cost": line_c},
        {"flops": c[order], "n_params": n[order], "n_tokens": d[order], "days": days[order], "cost": cost[order]},
    )

