"""Fit a scaling law to runs: the problem, the engines, the result, the bootstrap and comparisons.

- :func:`fit` (:mod:`._fit`) validates the options, builds a :class:`~._problem.Problem`
  and runs an engine: :mod:`._chinchilla` (variable projection + batched Newton)
  for the Chinchilla forms, :mod:`._generic` (multi-start least squares) for any
  other law.  Each engine returns a :class:`~._problem.Solution`.
- :class:`FitResult`, :class:`Diagnostics`, :class:`LoadedFit` and
  :func:`load_fit` live in :mod:`._result`.
- :class:`BootstrapResult` and :func:`.bootstrap.bootstrap` resample runs and refit
  (:mod:`.bootstrap`; the submodule keeps the name, so the function is not re-exported here); :func:`compare` / :class:`CompareResult` check
  extrapolation between laws (:mod:`.comparison`).
- :func:`.backtest.backtest` / :class:`BacktestResult` forecast larger runs from
  smaller ones at rolling origins (:mod:`.backtest`; the function keeps the
  submodule's name, so it is not re-exported here); ``fit(runs, law="auto")``
  chooses by such a backtest (:mod:`._auto`); prediction intervals live in
  :mod:`._predictive`.
"""
from __future__ import annotations

from ._fit import fit
from ._loaded import LoadedFit, load_fit
from ._result import Diagnostics, FitResult
from .backtest import BacktestResult
from .bootstrap import BootstrapResult
from .comparison import CompareResult, compare

__all__ = [
    "fit",
    "FitResult",
    "LoadedFit",
    "load_fit",
    "Diagnostics",
    "BootstrapResult",
    "compare",
    "CompareResult",
    "BacktestResult",
]
