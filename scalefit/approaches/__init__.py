"""Compute-optimal allocation from training runs: Approaches 1 and 2 of Hoffmann et al. (2022).

* :func:`isoflop` (Approach 2): group runs into FLOP budgets, find the loss
  minimum over model size within each budget, and fit N* = k_n C^a and
  D* = k_d C^b through the minima.  With ``group_by`` the result is a
  :class:`GroupedIsoFLOPResult`, a mapping from group to :class:`IsoFLOPResult`.
* :func:`envelope` (Approach 1): from training curves, take the lowest loss
  reached at each FLOP value over all runs and fit the same power laws to the
  model sizes on that envelope.
* :func:`compare_approaches`: Approaches 1, 2 and 3 (a parametric
  Chinchilla fit) side by side, as in Table 2 of Hoffmann et al. (2022).

Intervals come from a nonparametric bootstrap (runs resampled within each
budget for Approach 2, whole runs for Approach 1), computed for all resamples
at once in numpy and deterministic for a given ``seed``.  Every result keeps
the runs it was computed from (``result.runs``) and its options
(``result.options``), so plots and reports need nothing else.

Modules: ``_isoflop`` (Approach 2 and its padded-array kernels),
``_isoflop_result``, ``_envelope`` (Approach 1 and its kernels),
``_envelope_result``, ``_powerlaw`` (the N* ~ C^a fits both share),
``_compare`` (the side-by-side table) and ``_checks`` (their input checks).

References
----------
Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
arXiv 2203.15556.  Porian et al. (2024), "Resolving Discrepancies in
Compute-Optimal Scaling of Language Models", arXiv 2406.19146.
"""
from __future__ import annotations

from .._errors import IsoFLOPBiasWarning, IsoFLOPWarning
from ._compare import ApproachComparison, compare_approaches
from ._envelope import envelope
from ._envelope_result import EnvelopeResult
from ._isoflop import isoflop
from ._isoflop_result import GroupedIsoFLOPResult, IsoFLOPResult
from ._powerlaw import OptimalAllocation

__all__ = [
    "isoflop",
    "IsoFLOPResult",
    "GroupedIsoFLOPResult",
    "envelope",
    "EnvelopeResult",
    "compare_approaches",
    "ApproachComparison",
    "OptimalAllocation",
    "IsoFLOPWarning",
    "IsoFLOPBiasWarning",
]
