"""The three approaches on one figure: N*(C) with intervals, and tokens per parameter against compute."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .._errors import ScalefitInputError
from ._base import LABEL_C, PlotDisplay, _display, _new_axes_grid, _positive_array, _pyplot

_NAMES = {"parametric": "Approach 3 (parametric fit)", "isoflop": "Approach 2 (IsoFLOP)", "envelope": "Approach 1 (envelope)"}
_COLOURS = {"parametric": "#d62728", "isoflop": "#1f77b4", "envelope": "#2ca02c"}


def _curves(fn: str, key: str, result: Any, grid: np.ndarray, level: float) -> dict[str, Any]:
    """N*, D*/N* and their intervals (NaN where there are none) of one approach on ``grid``."""
    nan = np.full(grid.shape, np.nan)
    if hasattr(result, "predict_optimal"):  # Approaches 1 and 2: their power laws
        alloc = result.predict_optimal(grid)
        n, d = np.asarray(alloc.n_params, float), np.asarray(alloc.n_tokens, float)
        per = alloc.intervals.get("n_params", {})
        lo, hi = per.get(level, per.get(next(iter(per), level), (nan, nan))) if per else (nan, nan)
        return dict(n=n, ratio=d / n, n_low=np.asarray(lo, float), n_high=np.asarray(hi, float), r_low=nan, r_high=nan)
    from .. import plan as _plan

    try:
        table = _plan.compute_optimal(result, grid, level=level)
    except (ScalefitInputError, TypeError) as exc:
        raise ScalefitInputError(f"{fn}: {key} gives no compute-optimal frontier ({exc}).") from None
    rows = list(table) if isinstance(table, _plan.AllocationTable) else [table]
    n = np.array([a.n_params for a in rows])
    ratio = np.array([a.tokens_per_param for a in rows])

    def iv(name: str) -> tuple[np.ndarray, np.ndarray]:
        if not all(name in a.intervals for a in rows):
            return nan, nan
        return np.array([a.intervals[name][0] for a in rows]), np.array([a.intervals[name][1] for a in rows])

    (n_low, n_high), (r_low, r_high) = iv("n_params"), iv("tokens_per_param")
    return dict(n=n, ratio=ratio, n_low=n_low, n_high=n_high, r_low=r_low, r_high=r_high)


def plot_approaches(
    results: Mapping[str, Any],
    *,
    flops: float | Sequence[float] | None = None,
    data_flops: Sequence[float] | None = None,
    level: float = 0.95,
    axes: Sequence[Any] | None = None,
) -> PlotDisplay:
    """The three approaches together: N*(C) with intervals (left) and tokens per parameter D*/N* against C (right).

    As Hoffmann et al. (2022), Figure 1 (the approaches' N*(C) on one axes,
    extended to the budgets that matter) and the tokens-per-parameter ratio
    their Table 3 reads off.  Each planned budget in ``flops`` is marked on each
    line, with the interval as an error bar where the approach has one.

    Parameters
    ----------
    results : mapping
        Name -> result: ``"parametric"`` (a FitResult or BootstrapResult),
        ``"isoflop"`` (IsoFLOPResult), ``"envelope"`` (EnvelopeResult); any
        subset, other names are drawn under their own name.
    flops : float or sequence of float, optional
        Planned budgets to extend the lines to and mark.
    data_flops : sequence of float, optional
        Compute of the runs; the lines start at its smallest value (default:
        the approaches' own budgets, or a thousandth of the smallest plan).
    level : float
        Interval level (that of the analyses and bootstrap).
    axes : two matplotlib Axes, optional

    Returns
    -------
    PlotDisplay
        ``artists_``: ``<name>_line``, ``<name>_band`` (None without
        intervals), ``<name>_ratio``, ``<name>_targets``.  ``data_``:
        ``flops`` (the grid), ``<name>_n``, ``<name>_ratio``, ``<name>_n_low``,
        ``<name>_n_high``.
    """
    fn = "plot_approaches"
    _pyplot()
    if not isinstance(results, Mapping) or not results:
        raise ScalefitInputError(f"{fn}: results must be a non-empty mapping of approach name -> result, "
                                 "e.g. {'parametric': fit, 'isoflop': iso}.")
    targets = None if flops is None else np.sort(_positive_array(fn, "flops", flops, "Give FLOP budgets such as 5.76e23."))
    lows = [float(np.min(r.optima["flops"])) for r in results.values() if hasattr(r, "optima") and len(r.optima)]
    if data_flops is not None:
        lows.append(float(np.min(_positive_array(fn, "data_flops", data_flops, "Give the runs' compute in FLOPs."))))
    highs = [float(np.max(r.optima["flops"])) for r in results.values() if hasattr(r, "optima") and len(r.optima)]
    if targets is not None:
        highs.append(float(targets.max()))
    if not highs:
        raise ScalefitInputError(f"{fn}: give flops (the planned budgets) or a result with budgets; nothing sets the range.")
    lo = min(lows) if lows else max(highs) / 1e3
    grid = np.geomspace(lo, max(highs) * 1.2, 48)  # straight lines and smooth bands on log axes: 48 points show them
    ax_n, ax_r = _new_axes_grid(fn, axes, 2, ncols=2, panel=(5.2, 4.2), margins=(0.68, 0.5, 0.2, 0.28, 0.85, 0))
    artists: dict[str, Any] = {}
    data: dict[str, Any] = {"flops": grid}
    for key, result in results.items():
        cur = _curves(fn, key, result, grid, level)
        colour, name = _COLOURS.get(key), _NAMES.get(key, key)
        (line,) = ax_n.plot(grid, cur["n"], color=colour, lw=1.8, label=name, zorder=3)
        colour = line.get_color()
        band = None
        if np.all(np.isfinite(cur["n_low"])) and np.all(np.isfinite(cur["n_high"])):
            band = ax_n.fill_between(grid, cur["n_low"], cur["n_high"], color=colour, alpha=0.15, lw=0, zorder=1)
        (ratio,) = ax_r.plot(grid, cur["ratio"], color=colour, lw=1.8, label=name, zorder=3)
        if np.all(np.isfinite(cur["r_low"])) and np.all(np.isfinite(cur["r_high"])):
            ax_r.fill_between(grid, cur["r_low"], cur["r_high"], color=colour, alpha=0.15, lw=0, zorder=1)
        marks = None
        if targets is not None:
            at = _curves(fn, key, result, targets, level)
            if np.all(np.isfinite(at["n_low"])):
                ax_n.errorbar(targets, at["n"], yerr=[at["n"] - at["n_low"], at["n_high"] - at["n"]], fmt="none",
                              ecolor=colour, elinewidth=1.2, capsize=3, zorder=4)
            marks = ax_n.scatter(targets, at["n"], marker="o", s=30, color=colour, edgecolors="black", linewidths=0.6, zorder=5)
            ax_r.scatter(targets, at["ratio"], marker="o", s=30, color=colour, edgecolors="black", linewidths=0.6, zorder=5)
        artists.update({f"{key}_line": line, f"{key}_band": band, f"{key}_ratio": ratio, f"{key}_targets": marks})
        data.update({f"{key}_n": cur["n"], f"{key}_ratio": cur["ratio"], f"{key}_n_low": cur["n_low"],
                     f"{key}_n_high": cur["n_high"]})
    if targets is not None:
        for ax in (ax_n, ax_r):
            for c in targets:
                ax.axvline(c, color="0.75", lw=0.8, ls=":", zorder=0)
        ax_n.set_title(f"N* by approach; bars: {level:.0%} intervals at the plan", fontsize="medium")
        ax_r.set_title("Tokens per parameter (dotted: planned budgets)", fontsize="medium")
    for ax, ylabel in ((ax_n, "Parameters N* (optimal)"), (ax_r, "Tokens per parameter D*/N*")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(LABEL_C)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
    ax_n.legend(loc="upper left", fontsize="x-small", frameon=False)
    ax_r.legend(loc="best", fontsize="x-small", frameon=False)
    return _display("approaches", [ax_n, ax_r], artists, data)
