"""Deprecated alias of :mod:`scalefit.fitting.comparison` (kept for one release)."""
from .fitting.comparison import CompareResult, compare  # noqa: F401

__all__ = ["CompareResult", "compare"]
