"""Ingest and hold training runs.

:func:`read_runs` reads a file, a DataFrame or records into :class:`Runs`,
the validated canonical table (``n_params``, ``n_tokens``, ``flops``,
``loss`` and, for training curves, ``run`` and ``step``; ``row`` points back
at the user's input).  :func:`as_runs` is the one conversion analyses use.
"""
from __future__ import annotations

from ._read import ALIASES, SYNTHETIC_PREFIX, as_runs, read_runs
from ._runs import CANONICAL, Runs, RunsSummary
from ._tracked import read_mlflow, read_tensorboard

__all__ = ["Runs", "RunsSummary", "read_runs", "read_mlflow", "read_tensorboard", "as_runs", "CANONICAL", "ALIASES", "SYNTHETIC_PREFIX"]
