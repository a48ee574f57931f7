"""Experiment design: which runs to train, for the most precise forecast at a target budget.

:func:`design` chooses runs by simulation-based optimal design; :func:`isoflop_grid`
lays out the classical IsoFLOP grid; :func:`simulate` returns the losses planned
runs would reach under a law (a stand-in for a training service).  This package
sits after :mod:`scalefit.plan` in the data flow.
"""
from __future__ import annotations

import sys as _sys
import types as _types
from typing import Any

from ._design import design
from ._result import Design
from ._simulate import isoflop_grid, simulate

__all__ = ["design", "Design", "isoflop_grid", "simulate"]


class _CallableModule(_types.ModuleType):
    """``scalefit.design`` is both this package and the function: calling the package calls :func:`design`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Design:
        return design(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
