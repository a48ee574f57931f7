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
plot_approaches            the three approaches' N*(C) with intervals  Figure 1; Table 3
                           to the plan, and tokens per parameter
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
plot_design                a design's runs on the (N, D) plane over    --
                           the prior's loss contours and IsoFLOP lines
plot_design_value          expected error at the target against        --
                           experiment compute
=========================  ==========================================  ==========================

The package holds one module per family, after statsmodels' ``graphics``:
``_base`` (PlotDisplay, axes helpers, colour maps, tick formatters, labels),
``_approaches`` (Approaches 1 and 2), ``_fit`` (parametric fits), ``_cost``
(plans on hardware) and ``_design`` (experiment designs).  Every plot works from its result object alone: the
runs come from the result (``fit.runs``, ``isoflop_result.runs``,
``envelope_result.runs``), and ``runs=`` is only an override.

Units on every axis: parameters N and tokens D are counts, compute C is in
FLOPs (C = k N D with k = 6 by default), loss is in nats.

References
----------
Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
arXiv:2203.15556.
"""
from ._approaches import plot_envelope, plot_isoflop_profiles, plot_optimal_scaling
from ._compare import plot_approaches
from ._base import PlotDisplay
from ._cost import plot_training_cost
from ._design import plot_design, plot_design_value
from ._fit import plot_bootstrap, plot_extrapolation, plot_fit, plot_loss_contours

__all__ = [
    "PlotDisplay",
    "plot_isoflop_profiles",
    "plot_optimal_scaling",
    "plot_approaches",
    "plot_envelope",
    "plot_loss_contours",
    "plot_fit",
    "plot_extrapolation",
    "plot_bootstrap",
    "plot_training_cost",
    "plot_design",
    "plot_design_value",
]
