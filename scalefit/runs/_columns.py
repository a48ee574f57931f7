"""Which input column is which: the aliases of each canonical column and the run id, resolved for :func:`read_runs`.

An explicit ``columns=`` map wins; otherwise aliases are tried by priority, and a
choice among several matching columns is recorded in a note that names them all,
says whether their values differ and how to pick another.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import _validation as _v
from .._errors import Option, ScalefitInputError
from .._numbers import parse_column
from ._runs import CANONICAL

__all__ = ["ALIASES", "NON_EMBEDDING_ALIASES", "TRACKER_PREFIXES", "RUN_ALIASES", "TRACKER_RUN_ALIASES",
           "TARGETS", "resolve_columns", "resolve_run_id"]

#: Canonical column -> accepted source names, highest priority first.  Names
#: match case-insensitively, ignoring spaces, ``_``, ``-``, ``/`` and ``.``.
#: ``train_tokens`` is deliberately absent: in training-curve tables (Li et al.
#: 2025) it is a run's *total* tokens, not the tokens seen at a checkpoint.
ALIASES: dict[str, tuple[str, ...]] = {
    "n_params": ("n_params", "Model Size", "params", "N", "num_params", "parameters", "model_size"),
    "n_tokens": ("n_tokens", "tokens", "D", "Training Tokens", "num_tokens"),
    "flops": ("flops", "C", "Training FLOP", "Training FLOPs", "compute", "FLOPs", "compute_budget"),
    "loss": ("loss", "val_loss", "eval/loss", "eval_loss", "validation_loss", "final_loss", "train/loss"),
    "step": ("step", "_step", "global_step", "current_steps", "iteration"),
    # optional input of the data-constrained law (Muennighoff et al. 2023)
    "unique_tokens": ("unique_tokens", "U_D", "unique_data", "num_unique_tokens"),
    # token multiplier M = D / N of Gadre et al. (2024) ("tok_mult" in their data); with flops (or one of
    # n_params, n_tokens) it gives the other sizes: N = sqrt(C / (k M)), D = M N
    "tokens_per_param": ("tokens_per_param", "M", "tokens_per_parameter", "token_multiplier", "tok_mult"),
}
#: Preferred over :data:`ALIASES` when ``use_non_embedding=True``.
NON_EMBEDDING_ALIASES: dict[str, tuple[str, ...]] = {
    "n_params": ("N_no_emb", "n_params_no_emb", "non_embedding_params"),
    "flops": ("C_no_emb", "flops_no_emb", "non_embedding_flops"),
}
#: Prefixes that experiment trackers put before logged names (MLflow ``metrics.`` /
#: ``params.``, flattened W&B ``summary.`` / ``config.``, TensorBoard ``hparams/``).  A
#: column matches an alias through them only when no column matches it directly.
TRACKER_PREFIXES = ("metrics.", "params.", "summary.", "config.", "hparams.",
                    "metrics/", "params/", "summary/", "config/", "hparams/")

#: Columns taken as the run identifier when ``run_id`` is not given.
RUN_ALIASES = ("run", "run_id", "run_name")
#: Also taken as the run identifier in a W&B export (a run table or a history export), where
#: ``Name`` is the run's display name; elsewhere a ``Name`` column is an ordinary column.
TRACKER_RUN_ALIASES = ("Name",)

TARGETS = CANONICAL + ("step", "unique_tokens", "tokens_per_param")


def _norm(name: Any) -> str:
    text = str(name).lower()
    for ch in " _-/.":
        text = text.replace(ch, "")
    return text


def resolve_columns(
    available: list, columns: Any, *, step: str | None, use_non_embedding: bool, frame: pd.DataFrame | None = None
) -> tuple[dict, list[str]]:
    """Source column -> canonical name, explicit map first, then aliases by priority.

    When several columns match one canonical name, a note names the one used, the others, and (given the
    ``frame``) whether their values differ from it, with the ``columns=`` that picks another instead.
    """
    explicit = _v.check_column_map(columns, available, TARGETS)
    if step is not None:
        _v.check_columns_exist([step], available, "step")
        other = next((s for s, t in explicit.items() if t == "step"), None)
        if other is not None and other != step:
            raise ScalefitInputError(
                f"step={step!r} and columns={{{other!r}: 'step'}} disagree; give the step column once.",
                column=str(other),
                values=[step, other],
                option="step",
            )
        explicit[step] = "step"
    mapping = dict(explicit)
    notes: list[str] = []
    by_norm: dict[str, list] = {}
    by_stripped: dict[str, list] = {}
    for col in available:
        by_norm.setdefault(_norm(col), []).append(col)
        low = str(col).lower()
        for prefix in TRACKER_PREFIXES:
            if low.startswith(prefix) and len(low) > len(prefix):
                by_stripped.setdefault(_norm(low[len(prefix):]), []).append(col)
                break
    for target in TARGETS:
        if target in mapping.values():
            continue
        aliases = ALIASES[target]
        if use_non_embedding and target in NON_EMBEDDING_ALIASES:
            aliases = NON_EMBEDDING_ALIASES[target] + aliases
        candidates: list = []
        for index in (by_norm, by_stripped):  # tracker-prefixed names only when nothing matches directly
            for alias in aliases:
                for col in index.get(_norm(alias), []):
                    if col not in mapping and col not in candidates:
                        candidates.append(col)
            if candidates:
                break
        if not candidates:
            continue
        # within one alias, an exact spelling (or the canonical name) wins
        first_norm = _norm(candidates[0])
        same = [c for c in candidates if _norm(c) == first_norm] or candidates[:1]
        chosen = next((c for c in same if str(c) == target), next(
            (c for c in same if str(c) in aliases), same[0]))
        mapping[chosen] = target
        others = [c for c in candidates if c != chosen]
        if others:
            shown = ", ".join(f"{str(c)!r}{'' if frame is None else _compared(frame, chosen, c)}" for c in others)
            notes.append(
                f"{target}: used column {str(chosen)!r}; also matched {shown}; kept as ordinary "
                f"column{'s' if len(others) > 1 else ''}: to use {str(others[0])!r} instead pass "
                f"columns={{{str(others[0])!r}: {target!r}}}"
            )
    if use_non_embedding and "n_params" not in explicit.values():
        chosen = next(s for s, t in mapping.items() if t == "n_params") if "n_params" in mapping.values() else None
        non_emb = {_norm(a) for a in NON_EMBEDDING_ALIASES["n_params"]}
        if chosen is None or _norm(chosen) not in non_emb:
            raise _v.missing_columns_error(
                "use_non_embedding=True but no non-embedding parameter column was found (looked for "
                + ", ".join(repr(a) for a in NON_EMBEDDING_ALIASES["n_params"]) + ")",
                available,
                " Map yours with columns={'<name>': 'n_params'}.",
                column="n_params",
                option="use_non_embedding",
                options=[Option("columns", "{'<name>': 'n_params'}")],
            )
    # order by canonical target for a readable column_map
    order = {t: i for i, t in enumerate(TARGETS)}
    return dict(sorted(mapping.items(), key=lambda kv: order[kv[1]])), notes


def _compared(frame: pd.DataFrame, chosen: Any, other: Any) -> str:
    """``" (values differ on 3 of 3 rows)"`` or ``" (same values)"``: how a candidate column compares with the one used."""
    used, _ = parse_column(frame[chosen])
    alt, _ = parse_column(frame[other])
    same = np.isclose(used, alt, rtol=1e-9, atol=0.0) | (np.isnan(used) & np.isnan(alt))
    n_diff = int((~same).sum())
    return f" (values differ on {n_diff} of {len(same)} rows)" if n_diff else " (same values)"


def resolve_run_id(run_id: str | Sequence[str] | None, available: list, *, tracker: bool = False
                    ) -> tuple[list, str | None]:
    if run_id is None:
        for alias in RUN_ALIASES + (TRACKER_RUN_ALIASES if tracker else ()):
            for col in available:
                if _norm(col) == _norm(alias):
                    return [col], f"run: identified by column {str(col)!r}"
        return [], None
    cols = [run_id] if isinstance(run_id, str) else list(run_id)
    if not cols:
        raise ScalefitInputError(
            "run_id is empty; name the column(s) that identify a run, or pass None.", option="run_id"
        )
    if len(set(cols)) != len(cols):
        repeated = [c for i, c in enumerate(cols) if c in cols[:i]]
        raise ScalefitInputError(f"run_id repeats a column: {cols!r}.", option="run_id", values=repeated)
    return _v.check_columns_exist(cols, available, "run_id"), None
