"""Exception and warning types used across scalefit.

Every error caused by the user's input is a :class:`ScalefitInputError`
(a ``ValueError``), so callers can catch one type.  Heuristic checks warn
with a subclass of :class:`ScalefitWarning` so they can be filtered by type.
"""
from __future__ import annotations

from typing import Any


class ScalefitInputError(ValueError):
    """Bad input: names what was wrong, where, what was found and how to fix it.

    Attributes
    ----------
    column : str or None
        The column at fault, when there is one.
    rows : list of int
        Row numbers (0-based, in the user's original table) at fault.
    """

    def __init__(self, message: str, *, column: str | None = None, rows: Any = None):
        super().__init__(message)
        self.column = column
        self.rows = [] if rows is None else [int(r) for r in rows]


class ScalefitWarning(UserWarning):
    """Base class of every warning scalefit raises."""


class UnitsWarning(ScalefitWarning):
    """The data look as if given in unexpected units (millions of params, perplexity, bits)."""


class DuplicateRowsWarning(ScalefitWarning):
    """The input holds exact duplicate rows (kept unless asked to drop them)."""


class InconsistentFlopsWarning(ScalefitWarning):
    """N, D and C are all given but C disagrees with k*N*D by more than the tolerance."""


class ExcludedRowsWarning(ScalefitWarning):
    """Rows were excluded (for instance under ``nan_policy='omit'``)."""


class ConvergenceWarning(ScalefitWarning):
    """An optimisation did not converge; the result has ``success=False``."""


class ExtrapolationWarning(ScalefitWarning):
    """A prediction or plan lies far outside the range of the data."""


class IdentifiabilityWarning(ScalefitWarning):
    """The data do not determine some parameters (one model size, one IsoFLOP line, a vanished term)."""


class CurvesWarning(ScalefitWarning):
    """A law is being fitted to every checkpoint of training curves rather than to final losses."""


class FitError(RuntimeError):
    """Raised by ``strict=True`` fits that fail; carries the partial result.

    Attributes
    ----------
    result : object
        The partial result (for instance a ``FitResult`` with ``success=False``).
    """

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result
