"""Plan compute: model size and tokens for a budget or a loss, time and cost.

Every planner takes as ``fit`` either

* a fitted result: anything with ``.law`` (a :class:`~scalefit.laws.Law` or
  a law name) and ``.params`` (natural-scale floats), such as a
  :class:`scalefit.FitResult` or a fit loaded from JSON;
* a bootstrap result: anything with ``.samples`` (one row per resample, one
  column per parameter) and ``.fit`` (the point estimate), such as a
  :class:`scalefit.BootstrapResult`.  Every estimated number then carries a
  bias-corrected percentile interval (see :mod:`scalefit._intervals`);
* a plain mapping of parameters, e.g. ``{"E": 1.69, "A": 406.4, "B": 410.7,
  "alpha": 0.34, "beta": 0.28}``: the Chinchilla law (Hoffmann et al.
  2022), its tied form when ``beta`` is absent, or the data-constrained law
  (Muennighoff et al. 2023) when ``R_D_star`` and ``R_N_star`` are present.

Modules
-------
allocation   compute_optimal, budget_for_loss, optimal_tokens, inference_optimal,
             data_constrained_optimal.
hardware     training_time, training_cost, gpu_presets (knows nothing of laws).
_shape       Shape (exact parameters and FLOPs per token) and shape(), shapes near a size.
_recipe      training_recipe: batch, learning rate, steps, warmup (DeepSeek LLM, Bi et al. 2024, or the
             Step Law, Li et al. 2025).
_memory      training_memory, min_gpus: bytes per GPU and the least GPU count (ZeRO, Korthikanti et al. 2022).
_config      run_configuration: the launchable configuration of a shaped plan.
_frontier    the one compute-optimal solver (N*, D*, L* for any law), also
             behind ``frontier`` / ``frontier_draws`` and the plots.
"""
from __future__ import annotations

from ._frontier import frontier, frontier_draws
from ._inputs import EXTRAPOLATION_FACTOR, check_params
from ._results import FLOPS_PER_INFERENCE_TOKEN, FLOPS_PER_PARAM_TOKEN, Allocation, AllocationTable, InferencePlan
from .allocation import (
    FitLike,
    budget_for_loss,
    compute_optimal,
    data_constrained_optimal,
    inference_optimal,
    optimal_tokens,
)
from ._config import RunConfiguration, run_configuration
from ._memory import MemoryEstimate, min_gpus, training_memory
from ._recipe import Recipe, training_recipe
from ._shape import Shape, ShapeCandidates, shape
from .hardware import DAYS_PER_YEAR, SECONDS_PER_DAY, TrainingEstimate, gpu_presets, training_cost, training_time

__all__ = [
    "check_params",
    "Allocation",
    "AllocationTable",
    "InferencePlan",
    "TrainingEstimate",
    "compute_optimal",
    "budget_for_loss",
    "optimal_tokens",
    "inference_optimal",
    "data_constrained_optimal",
    "training_time",
    "training_cost",
    "gpu_presets",
    "frontier",
    "frontier_draws",
    "FitLike",
    "FLOPS_PER_PARAM_TOKEN",
    "FLOPS_PER_INFERENCE_TOKEN",
    "SECONDS_PER_DAY",
    "DAYS_PER_YEAR",
    "EXTRAPOLATION_FACTOR",
    "Shape",
    "ShapeCandidates",
    "shape",
    "Recipe",
    "training_recipe",
    "MemoryEstimate",
    "training_memory",
    "min_gpus",
    "RunConfiguration",
    "run_configuration",
]
