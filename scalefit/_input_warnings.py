"""Heuristic checks of user input: they warn with a typed warning instead of failing.

Suspect units (tokens in billions, FLOPs in PF-days, parameters in millions,
perplexity for loss), duplicate and excluded rows, steps without a run id and
FLOPs that disagree with k*N*D.  The rows they name are formatted by
:func:`scalefit._validation.format_rows`, so a warning names a row as an error does.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import (
    DuplicateRowsWarning,
    ExcludedRowsWarning,
    InconsistentFlopsWarning,
    Option,
    UnitsWarning,
    warn,
)
from ._validation import MAX_LISTED_ROWS, format_rows

__all__ = [
    "warn_excluded",
    "warn_duplicates",
    "warn_units",
    "warn_step_without_run",
    "warn_inconsistent_flops",
]

#: Relative tolerance of the check C = k * N * D.
FLOPS_TOLERANCE = 0.1


# ------------------------------------------------------------------ warnings
def warn_excluded(rows: Sequence[int], reasons: Sequence[str]) -> None:
    """Warn that rows were excluded, naming them and the commonest reasons."""
    if len(rows) == 0:
        return
    counts: dict[str, int] = {}
    for r in reasons:
        for part in str(r).split("; "):
            counts[part] = counts.get(part, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    why = "; ".join(f"{reason} ({n}x)" for reason, n in top)
    warn(
        f"excluded {len(rows)} row(s) ({format_rows(rows)}): {why}. "
        "See Runs.excluded for each row and its values.",
        ExcludedRowsWarning,
    )


def warn_duplicates(duplicate_of: Mapping[int, int], *, dropped: bool) -> None:
    """Report exact duplicate rows (always; they are kept unless dropped)."""
    if not duplicate_of:
        return
    pairs = list(duplicate_of.items())
    shown = ", ".join(f"row {r} = row {f}" for r, f in pairs[:MAX_LISTED_ROWS])
    more = f", ... ({len(pairs)} in all)" if len(pairs) > MAX_LISTED_ROWS else ""
    action = (
        "they were excluded (drop_duplicates=True) and are listed in Runs.excluded"
        if dropped
        else "they are kept; pass drop_duplicates=True to exclude them"
    )
    warn(
        f"{len(pairs)} row(s) exactly duplicate an earlier row ({shown}{more}); {action}.",
        DuplicateRowsWarning,
        options=[Option("drop_duplicates", "True")],
    )


def warn_step_without_run(step_source: Any, steps: np.ndarray) -> None:
    """Warn when a step column varies but no run id was given: likely training curves read as separate runs."""
    from ._errors import CurvesWarning

    distinct = np.unique(np.asarray(steps)).size
    if distinct > 1:
        warn(
            f"column {str(step_source)!r} holds training steps ({distinct} distinct values) but "
            "no run id was given, so every row is read as a separate run. For training curves pass run_id=[...] "
            "naming the column(s) that identify a run.",
            CurvesWarning,
            options=[Option("run_id", "[...]")],
        )


def warn_units(n_params: np.ndarray, loss: np.ndarray) -> None:
    """Warn when parameters look like millions or the loss like perplexity."""
    median_n = float(np.median(n_params))
    if median_n < 1e4:
        warn(
            f"the median parameter count is {median_n:.4g}, below 1e4: were params given in "
            "millions or billions? Pass raw counts (e.g. '70M' or 7e7).",
            UnitsWarning,
        )
    tiny = loss < 1e-3
    if tiny.any():
        warn(
            f"{int(tiny.sum())} loss value(s) are below 1e-3 nats (min {float(loss.min()):.4g}): a language "
            "model's cross-entropy is rarely this small. Check the column (a loss in another unit, or a "
            "difference to a baseline?) before fitting.",
            UnitsWarning,
        )
    high = loss > 20
    if high.any():
        warn(
            f"{int(high.sum())} loss value(s) exceed 20 (max {float(loss.max()):.4g}): is this "
            "perplexity? scalefit expects cross-entropy in nats; pass log(perplexity).",
            UnitsWarning,
        )


def warn_inconsistent_flops(
    n_params: np.ndarray,
    n_tokens: np.ndarray,
    flops: np.ndarray,
    k: float,
    rows: np.ndarray,
) -> None:
    """Warn when C disagrees with k*N*D by more than 10% on any row."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = flops / (k * n_params * n_tokens)
    off = np.abs(ratio - 1.0) > FLOPS_TOLERANCE
    if off.any():
        warn(
            f"flops disagrees with {k:g}*n_params*n_tokens by more than "
            f"{FLOPS_TOLERANCE:.0%} in {int(off.sum())} of {len(ratio)} rows "
            f"({format_rows(rows[off], limit=5)}; C/({k:g}ND) ranges from "
            f"{np.nanmin(ratio[off]):.3g} to {np.nanmax(ratio[off]):.3g}). Check the units of "
            "each column, or set flops_per_param_token if your FLOP count uses another k.",
            InconsistentFlopsWarning,
        )
