"""The one interval function: equal-tailed percentile intervals of draws."""
from __future__ import annotations

from typing import Any

import numpy as np


def percentile_interval(samples: Any, level: float, *, axis: int = 0, keep_infinite: bool = False) -> tuple[Any, Any]:
    """Equal-tailed ``level`` percentile interval of the finite draws along ``axis``.

    Parameters
    ----------
    samples : array-like
        Draws (for instance bootstrap estimates); non-finite draws are ignored.
    level : float
        Coverage in (0, 1), e.g. 0.95.  Callers validate it
        (:func:`scalefit._validation.check_level`).
    axis : int
        Axis along which the draws run.
    keep_infinite : bool
        Count infinite draws instead of ignoring them (a draw that needs
        unbounded compute widens the interval rather than vanishing); the
        quantiles are then read off the empirical distribution
        (``method="inverted_cdf"``).  NaN draws are always ignored.

    Returns
    -------
    (low, high)
        Floats for 1-D input, arrays otherwise; NaN where fewer than two draws
        are finite.
    """
    s = np.asarray(samples, dtype=float)
    q = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]
    if s.ndim <= 1:
        s = s[~np.isnan(s)] if keep_infinite else s[np.isfinite(s)]
        if s.size < 2:
            return float("nan"), float("nan")
        if keep_infinite and np.isinf(s).any():
            lo, hi = np.quantile(s, q, method="inverted_cdf")
        else:
            lo, hi = np.quantile(s, q)
        return float(lo), float(hi)
    s = np.moveaxis(s, axis, 0)
    finite = np.isfinite(s)
    with np.errstate(all="ignore"):
        if finite.all():
            lo, hi = np.quantile(s, q, axis=0)
        else:
            lo, hi = np.nanquantile(np.where(finite, s, np.nan), q, axis=0)
    few = finite.sum(axis=0) < 2
    return np.where(few, np.nan, lo), np.where(few, np.nan, hi)
