"""Deprecated alias of :mod:`scalefit.fitting.bootstrap` (kept for one release)."""
from .fitting.bootstrap import BootstrapResult, bootstrap  # noqa: F401

__all__ = ["BootstrapResult", "bootstrap"]
