"""scalefit: empirical neural scaling laws.

Ingest runs (:func:`read_runs`), fit laws (:func:`fit`), reproduce
Chinchilla's three approaches (:func:`envelope`, :func:`isoflop`,
:func:`compare_approaches`), plan compute (:func:`compute_optimal`,
:func:`training_time`) and report (``scalefit report``).

Submodules are imported lazily so that ``import scalefit`` stays fast and never
imports matplotlib.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    ApproachesDisagreeWarning,
    BoundWarning,
    ConvergenceWarning,
    CurvesWarning,
    DuplicateRowsWarning,
    ExcludedRowsWarning,
    ExtrapolationWarning,
    FitCarriedWarning,
    FitError,
    IdentifiabilityWarning,
    InconsistentFlopsWarning,
    IntervalWarning,
    IsoFLOPBiasWarning,
    IsoFLOPWarning,
    PlanRefusedError,
    RepeatedStepsWarning,
    ScalefitInputError,
    ScalefitWarning,
    SensitivityWarning,
    UnitsWarning,
)

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first use)
_LAZY = {
    "read_runs": "runs",
    "read_mlflow": "runs",
    "read_tensorboard": "runs",
    "Runs": "runs",
    "Law": "laws",
    "Param": "laws",
    "get_law": "laws",
    "available_laws": "laws",
    "evaluate": "laws",
    "learning_curve_law": "laws",
    "fit": "fitting",
    "GroupFitResult": "fitting._groups",
    "FitResult": "fitting",
    "LoadedFit": "fitting",
    "load_fit": "fitting",
    "load": "_load",
    "BootstrapResult": "fitting",
    "compare": "fitting",
    "CompareResult": "fitting",
    "backtest": "fitting.backtest",
    "BacktestResult": "fitting.backtest",
    "isoflop": "approaches",
    "IsoFLOPResult": "approaches",
    "GroupedIsoFLOPResult": "approaches",
    "envelope": "approaches",
    "EnvelopeResult": "approaches",
    "compare_approaches": "approaches",
    "ApproachComparison": "approaches",
    "compute_optimal": "plan",
    "frontier": "plan",
    "Allocation": "plan",
    "AllocationTable": "plan",
    "InferencePlan": "plan",
    "TrainingEstimate": "plan",
    "gpu_presets": "plan",
    "budget_for_loss": "plan",
    "optimal_tokens": "plan",
    "inference_optimal": "plan",
    "data_constrained_optimal": "plan",
    "training_time": "plan",
    "training_cost": "plan",
    "Shape": "plan",
    "ShapeCandidates": "plan",
    "shape": "plan",
    "Recipe": "plan",
    "training_recipe": "plan",
    "MemoryEstimate": "plan",
    "training_memory": "plan",
    "min_gpus": "plan",
    "RunConfiguration": "plan",
    "run_configuration": "plan",
    "design": "experiments",
    "Design": "experiments",
    "isoflop_grid": "experiments",
    "simulate": "experiments",
}
_SUBMODULES = frozenset(
    {"runs", "laws", "fitting", "bootstrap", "comparison", "approaches", "plan", "experiments", "plots", "report", "datasets"}
)

__all__ = [
    # ingest
    "read_runs",
    "read_mlflow",
    "read_tensorboard",
    "Runs",
    # laws
    "Law",
    "Param",
    "get_law",
    "available_laws",
    "evaluate",
    "learning_curve_law",
    # fit
    "fit",
    "FitResult",
    "GroupFitResult",
    "LoadedFit",
    "load_fit",
    "load",
    "BootstrapResult",
    "compare",
    "CompareResult",
    "backtest",
    "BacktestResult",
    # approaches
    "isoflop",
    "IsoFLOPResult",
    "GroupedIsoFLOPResult",
    "envelope",
    "EnvelopeResult",
    "compare_approaches",
    "ApproachComparison",
    # plan
    "compute_optimal",
    "frontier",
    "budget_for_loss",
    "optimal_tokens",
    "inference_optimal",
    "data_constrained_optimal",
    "Allocation",
    "AllocationTable",
    "InferencePlan",
    "training_time",
    "training_cost",
    "TrainingEstimate",
    "gpu_presets",
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
    # experiment design
    "design",
    "Design",
    "isoflop_grid",
    "simulate",
    # errors and warnings
    "ScalefitInputError",
    "FitError",
    "PlanRefusedError",
    "ScalefitWarning",
    "BoundWarning",
    "FitCarriedWarning",
    "IntervalWarning",
    "ConvergenceWarning",
    "CurvesWarning",
    "DuplicateRowsWarning",
    "ExcludedRowsWarning",
    "ExtrapolationWarning",
    "IdentifiabilityWarning",
    "InconsistentFlopsWarning",
    "IsoFLOPWarning",
    "IsoFLOPBiasWarning",
    "ApproachesDisagreeWarning",
    "SensitivityWarning",
    "RepeatedStepsWarning",
    "UnitsWarning",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .approaches import (
        ApproachComparison,
        EnvelopeResult,
        GroupedIsoFLOPResult,
        IsoFLOPResult,
        compare_approaches,
        envelope,
        isoflop,
    )
    from .experiments import Design, design, isoflop_grid, simulate
    from ._load import load
    from .fitting import BacktestResult, BootstrapResult, CompareResult, FitResult, LoadedFit, compare, fit, load_fit
    from .fitting._groups import GroupFitResult
    from .fitting.backtest import backtest
    from .laws import Law, Param, available_laws, evaluate, get_law, learning_curve_law
    from .plan import (
        Allocation,
        AllocationTable,
        InferencePlan,
        TrainingEstimate,
        budget_for_loss,
        compute_optimal,
        data_constrained_optimal,
        frontier,
        gpu_presets,
        inference_optimal,
        optimal_tokens,
        training_cost,
        training_time,
        Shape,
        ShapeCandidates,
        shape,
        Recipe,
        training_recipe,
        MemoryEstimate,
        training_memory,
        min_gpus,
        RunConfiguration,
        run_configuration,
    )
    from .runs import Runs, read_runs


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'scalefit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
