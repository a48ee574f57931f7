"""Experiment design: which runs to train, for the most precise forecast at a target budget.

:func:`design` chooses runs by simulation-based optimal design; :func:`isoflop_grid`
lays out the classical IsoFLOP grid; :func:`simulate` returns the losses planned
runs would reach under a law (a stand-in for a training service).  This package
sits after :mod:`scalefit.plan` in the data flow.  It is named ``experiments`` so that the
subpackage never shadows the function ``scalefit.design``.
"""
from __future__ import annotations

from ._design import design
from ._result import Design
from ._simulate import isoflop_grid, simulate

__all__ = ["design", "Design", "isoflop_grid", "simulate"]

