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
from typing import Any

from ._errors import (
    ConvergenceWarning,
    CurvesWarning,
    IdentifiabilityWarning,
    DuplicateRowsWarning,
    ExcludedRowsWarning,
    ExtrapolationWarning,
    FitError,
    InconsistentFlopsWarning,
    ScalefitInputError,
    ScalefitWarning,
    UnitsWarning,
)

__version__ = "0.1.0"

# public name -> submodule that defines it
_LAZY = {
    "read_runs": "runs",
    "Runs": "runs",
    "Law": "laws",
    "get_law": "laws",
    "available_laws": "laws",
    "fit": "fitting",
    "FitResult": "fitting",
    "BootstrapResult": "bootstrap",
    "compare": "comparison",
    "CompareResult": "comparison",
    "isoflop": "approaches",
    "IsoFLOPResult": "approaches",
    "envelope": "approaches",
    "EnvelopeResult": "approaches",
    "compare_approaches": "approaches",
    "compute_optimal": "plan",
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
}
_SUBMODULES = {"datasets", "plots", "report", "laws", "runs", "fitting", "plan", "bootstrap", "comparison", "approaches"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        mod = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(mod, name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'scalefit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = sorted(
    set(_LAZY)
    | {
        "ConvergenceWarning",
        "CurvesWarning",
        "IdentifiabilityWarning",
        "DuplicateRowsWarning",
        "ExcludedRowsWarning",
        "ExtrapolationWarning",
        "FitError",
        "InconsistentFlopsWarning",
        "ScalefitInputError",
        "ScalefitWarning",
        "UnitsWarning",
    }
)
