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
from ._validation import MAX_LISTED_ROWS, format_rows, format_values

__all__ = [
    "warn_excluded",
    "warn_duplicates",
    "warn_units",
    "warn_magnitudes",
    "warn_step_without_run",
    "warn_inconsistent_flops",
]

#: Relative tolerance of the check C = k * N * D.
FLOPS_TOLERANCE = 0.1

#: Fewest tokens a real language-model run sees: 1e6 is one batch of 512 sequences of about 2,000 tokens
#: (GPT-3's smallest batch was 0.5M tokens, Brown et al. 2020 Table 2.1), so a *run* that ends below it was
#: not trained at all.  Tokens written in millions or billions (0.2 ... 500) fall far below it.
MIN_RUN_TOKENS = 1e6
#: Fewest FLOPs a real run spends: 6 N D for a 1M-parameter model on 1e6 tokens is 6e12, so 1e12 is below
#: the smallest model on a single batch.  FLOPs written in PF-days (1 PF-day = 8.64e19 FLOPs; Kaplan et al.
#: 2020 Sec. 1.3) or in units of 1e18 (typically 1e-3 ... 1e4) fall far below it.
MIN_RUN_FLOPS = 1e12
#: Column -> (threshold, what the values were probably written in, the factor that fixes it, how to write it).
_MAGNITUDES = {
    "n_tokens": (MIN_RUN_TOKENS, "tokens", "millions or billions of tokens",
                 "multiply the column by 1e9 if it holds billions (1e6 if millions), or write '200B'"),
    "flops": (MIN_RUN_FLOPS, "FLOPs", "PF-days or units of 1e18 FLOPs",
              "multiply the column by 8.64e19 if it holds PF-days (1e18 if units of 1e18 FLOPs)"),
}


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
    shown = ", ".join(f"{format_rows([r])} = {format_rows([f])}" for r, f in pairs[:MAX_LISTED_ROWS])
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


def warn_magnitudes(
    name: str,
    source: Any,
    values: np.ndarray,
    rows: np.ndarray,
    *,
    runs: np.ndarray | None = None,
    derived: Sequence[str] = (),
) -> None:
    """Warn when a run's tokens or FLOPs are too few to be real counts (tokens in billions, FLOPs in PF-days).

    Parameters
    ----------
    name : {"n_tokens", "flops"}
        The canonical column.
    source : str
        The user's column it was read from.
    values : numpy.ndarray
        Its values (finite, > 0).
    rows : numpy.ndarray of int
        The 0-based input row of each value, named through :func:`format_rows`.
    runs : numpy.ndarray, optional
        Run key of each row (training curves): a run is judged by its largest
        value, since early checkpoints of a real run may have seen fewer than
        :data:`MIN_RUN_TOKENS` tokens.
    derived : sequence of str
        Canonical columns derived from this one; the message says they inherit the unit.
    """
    threshold, word, unit, fix = _MAGNITUDES[name]
    values = np.asarray(values, dtype=float)
    if not len(values) or values.min() >= threshold:  # the usual case: no run to judge
        return
    judged = values
    if runs is not None and len(values):
        import pandas as pd

        judged = pd.Series(values).groupby(np.asarray(runs), sort=False).transform("max").to_numpy()
    low = judged < threshold
    if not low.any():
        return
    label = f"column {str(source)!r}" + ("" if str(source) == name else f" (read as {name})")
    also = f"; {' and '.join(derived)} {'was' if len(derived) == 1 else 'were'} derived from it" if derived else ""
    real = "sees fewer than 1e6 tokens" if name == "n_tokens" else "spends fewer than 1e12 FLOPs"
    judged_by = " (each run judged by its last checkpoint)" if runs is not None else ""
    warn(
        f"{label} holds {int(low.sum())} value(s) below 1e{int(np.log10(threshold))} {word} in {format_rows(rows[low])} "
        f"(found {format_values(values[low])}){also}: no real language-model run {real}{judged_by}. "
        f"Were they written in {unit}? scalefit reads raw counts: {fix}.",
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
