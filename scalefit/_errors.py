"""Exception and warning types used across scalefit.

Every error caused by the user's input is a :class:`ScalefitInputError`
(a ``ValueError``), so callers can catch one type.  Heuristic checks warn
with a subclass of :class:`ScalefitWarning` so they can be filtered by type.
"""
from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any, Iterator, Sequence


@dataclass(frozen=True)
class Option:
    """An option a message refers to, so each front end can word it its own way.

    The library's message names the option as a Python caller writes it
    (:meth:`api`, e.g. ``nan_policy='omit'``); the command line replaces that
    text with its flag (``--nan-policy omit``), looked up by :attr:`name`.

    Attributes
    ----------
    name : str
        The keyword argument, e.g. ``"nan_policy"``.
    value : str
        The value as written in the message, e.g. ``"'omit'"``; empty when the
        message names the option alone.
    text : str
        The exact text of the message that names the option; defaults to
        ``name=value`` (or ``name``).
    """

    name: str
    value: str = ""
    text: str = ""

    def api(self) -> str:
        """The option as the message writes it."""
        if self.text:
            return self.text
        return f"{self.name}={self.value}" if self.value else self.name


class ScalefitInputError(ValueError):
    """Bad input: names what was wrong, where, what was found and how to fix it.

    Attributes
    ----------
    column : str or None
        The column at fault, when there is one.
    rows : list of int
        Row numbers (0-based, in the user's original table) at fault.
    values : list
        The offending values, when they help (at most a few).
    option : str or None
        The name of the option (keyword argument) at fault, when there is one.
    options : tuple of Option
        Options the message suggests as a fix; front ends word them their way.
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rows: Any = None,
        values: Any = None,
        option: str | None = None,
        options: Sequence[Option] = (),
    ):
        super().__init__(message)
        self.message = message
        self.column = column
        self.rows = [] if rows is None else [int(r) for r in rows]
        self.values = [] if values is None else list(values)
        self.option = option
        self.options = tuple(options)


class ScalefitWarning(UserWarning):
    """Base class of every warning scalefit raises.

    ``options`` (a tuple of :class:`Option`) lists the options the message
    suggests, as on :class:`ScalefitInputError`.
    """

    def __init__(self, *args: Any, options: Sequence[Option] = ()):
        super().__init__(*args)
        self.options = tuple(options)


class UnitsWarning(ScalefitWarning):
    """The data look as if given in unexpected units (millions of params, perplexity, bits)."""


class DuplicateRowsWarning(ScalefitWarning):
    """The input holds exact duplicate rows (kept unless asked to drop them)."""


class InconsistentFlopsWarning(ScalefitWarning):
    """N, D and C are all given but C disagrees with k*N*D by more than the tolerance."""


class ExcludedRowsWarning(ScalefitWarning):
    """Rows were excluded (for instance under ``nan_policy='omit'``)."""


class RepeatedStepsWarning(ScalefitWarning):
    """A run logs the same step more than once (typically a resumed run)."""


class ConvergenceWarning(ScalefitWarning):
    """An optimisation did not converge; the result has ``success=False``."""


class ExtrapolationWarning(ScalefitWarning):
    """A prediction or plan lies far outside the range of the data."""


class IdentifiabilityWarning(ScalefitWarning):
    """The data do not determine some parameters (one model size, one IsoFLOP line, a vanished term)."""


class BoundWarning(ScalefitWarning):
    """A fitted parameter ended at a bound; the result flags it (``diagnostics.at_bound``, ``trustworthy``)."""


class CurvesWarning(ScalefitWarning):
    """A law is being fitted to every checkpoint of training curves rather than to final losses."""


class IsoFLOPWarning(ScalefitWarning):
    """An IsoFLOP or envelope analysis left budgets, rows or resamples out (the result says which)."""


class FitCarriedWarning(ScalefitWarning):
    """A plan carries a warning of the fit it was made from (outliers, non-convergence, a forced fatal one)."""


class IntervalWarning(ScalefitWarning):
    """A point estimate lies outside, or at the edge of, its own bootstrap interval."""


class PlanRefusedError(ScalefitInputError):
    """A plan was asked of a fit with a fatal diagnostic (e.g. loss rising with N); ``force=True`` overrides.

    Attributes
    ----------
    reasons : tuple of str
        The fit's fatal diagnostics.
    """

    def __init__(self, message: str, *, reasons: Sequence[str] = (), **kwargs: Any):
        super().__init__(message, **kwargs)
        self.reasons = tuple(reasons)


class SensitivityWarning(ScalefitWarning):
    """Reasonable objectives (Huber or least squares, log or linear loss) give materially different answers."""


class ApproachesDisagreeWarning(ScalefitWarning):
    """Two of Chinchilla's approaches give compute-optimal exponents whose intervals do not overlap."""


class IsoFLOPBiasWarning(IsoFLOPWarning):
    """Approach 2's per-budget estimate disagrees with Approach 3 on the same runs: the grid or alpha != beta biases it."""


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


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _stacklevel() -> int:
    """``stacklevel`` that points a warning at the first caller outside scalefit."""
    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


_COLLECTED: ContextVar[list | None] = ContextVar("scalefit_collected_warnings", default=None)


@contextmanager
def collect_warnings() -> Iterator[list]:
    """Collect the scalefit warnings raised in this thread (context) instead of showing them.

    Unlike ``warnings.catch_warnings``, which swaps process-wide state, this is
    per thread: reports built in parallel threads each keep their own warnings.

    Yields
    ------
    list of ScalefitWarning
    """
    box: list = []
    token = _COLLECTED.set(box)
    try:
        yield box
    finally:
        _COLLECTED.reset(token)


def warn(message: str, category: type[ScalefitWarning] = ScalefitWarning, *, options: Sequence[Option] = ()) -> None:
    """Warn with ``category``, pointing at the first caller outside scalefit.

    Every warning scalefit raises goes through here, so its stack level is
    right wherever the call sits, and the options it suggests travel with it.
    Inside :func:`collect_warnings` the warning is collected instead.
    """
    box = _COLLECTED.get()
    if box is not None:
        box.append(category(message, options=options))
        return
    warnings.warn(category(message, options=options), stacklevel=_stacklevel())
