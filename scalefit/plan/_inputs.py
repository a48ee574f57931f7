"""Input handling for the planners: fit-like objects, budgets, extra law inputs, extrapolation checks.

A planner's ``fit`` is read through public attributes only: ``law`` and
``params`` (a FitResult or a LoadedFit from JSON), ``samples`` and ``fit`` (a
BootstrapResult), ``runs`` (to warn when a plan extrapolates); or it is a plain
mapping of parameters (see :mod:`scalefit.plan`).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

import numpy as np

from .._errors import ExtrapolationWarning, FitCarriedWarning, Option, PlanRefusedError, ScalefitInputError, warn
from .._validation import check_positive_scalar
from ..laws import Law, chinchilla_values, get_law, is_chinchilla

#: Plans beyond this multiple of the largest run's compute warn (ExtrapolationWarning).
EXTRAPOLATION_FACTOR = 100.0


def _level(level: Any) -> float:
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (numbers.Real, np.floating)) or not 0 < float(level) < 1:
        raise ScalefitInputError(
            f"level must be a number strictly between 0 and 1 (the interval's coverage); found {level!r}. Use e.g. level=0.95."
        )
    return float(level)


def _k(value: Any, name: str = "flops_per_param_token") -> float:
    return check_positive_scalar(value, name, hint="It is the FLOPs per parameter per token, 6 for training (C = 6 N D).")


def _budgets(values: Any, name: str, hint: str) -> tuple[np.ndarray, bool]:
    """A scalar or 1-d array of finite numbers > 0 -> (1-d array, was_scalar)."""
    try:
        items = np.asarray(values, dtype=object).reshape(-1)
    except (TypeError, ValueError):
        items = np.array([values], dtype=object)
    if isinstance(values, (str, bytes)) or any(isinstance(v, (bool, np.bool_, str, bytes)) for v in items):
        raise ScalefitInputError(f"{name} must be numbers; found {values!r:.80}. {hint}")
    scalar = np.ndim(values) == 0
    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ScalefitInputError(f"{name} must be numbers; found {values!r:.80}. {hint}") from None
    if arr.size == 0:
        raise ScalefitInputError(f"{name} is empty; give at least one value. {hint}")
    if np.ndim(values) > 1:
        raise ScalefitInputError(f"{name} must be a number or a 1-d sequence; found shape {np.shape(values)}. {hint}")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        where = "" if scalar else f" at positions {', '.join(map(str, np.flatnonzero(bad)[:10]))}"
        found = ", ".join(repr(float(v)) for v in arr[bad][:5])
        raise ScalefitInputError(f"{name} must be finite and > 0; found {found}{where}. {hint}")
    return arr, scalar


def check_params(law: Law, values: Mapping[str, Any], where: str, *, purpose: str = "plan") -> dict[str, float]:
    """The law's parameters from ``values`` as floats; refuse missing or non-finite ones.

    The one check of parameter values given for planning or plotting a law:
    every parameter present and a finite number, and for the Chinchilla forms
    A, B, alpha, beta > 0 and E >= 0 (without them there is no compute-optimal
    ``purpose``).
    """
    missing = [p for p in law.param_names if p not in values]
    if missing:
        raise ScalefitInputError(
            f"{where}: law {law.name!r} needs parameters {list(law.param_names)}; missing {missing}. "
            f"Found keys {sorted(map(str, values))}."
        )
    out: dict[str, float] = {}
    for p in law.param_names:
        v = values[p]
        try:
            if isinstance(v, (bool, np.bool_, str, bytes)):
                raise TypeError
            f = float(v)
        except (TypeError, ValueError):
            raise ScalefitInputError(f"{where}: parameter {p} must be a number; found {v!r}.") from None
        if not math.isfinite(f):
            raise ScalefitInputError(f"{where}: parameter {p} must be finite; found {v!r}.")
        out[p] = f
    if is_chinchilla(law):
        E, A, B, alpha, beta = chinchilla_values(out)
        if min(A, B, alpha, beta) <= 0 or E < 0:
            raise ScalefitInputError(
                f"{where}: Chinchilla parameters need A, B, alpha, beta > 0 and E >= 0 for a compute-optimal {purpose}; "
                f"found E={E!r}, A={A!r}, B={B!r}, alpha={alpha!r}, beta={beta!r}. Check the fit (or the order of the values)."
            )
    return out


def mapping_law(values: Mapping[str, Any], where: str = "fit") -> Law:
    """The law a plain mapping of parameters means: Chinchilla, tied Chinchilla (no beta) or data-constrained.

    A key that is none of that law's parameters is refused: a misspelt ``beta`` (``Beta``) would otherwise
    turn the plan into the tied law's, silently.
    """
    keys = set(map(str, values))
    if {"R_D_star", "R_N_star"} <= keys:
        law = get_law("data-constrained")
    elif "beta" not in keys and {"E", "A", "B", "alpha"} <= keys:
        law = get_law("chinchilla-tied")
    else:
        law = get_law("chinchilla")
    unknown = sorted(keys - set(law.param_names))
    if unknown:
        known = sorted(set(get_law("chinchilla").param_names) | set(get_law("data-constrained").param_names))
        near = {k: n for k in unknown for n in known if k.lower() == n.lower()}
        hint = "".join(f" {k!r} is spelt {n!r}." for k, n in near.items())
        raise ScalefitInputError(
            f"{where}: parameter(s) {unknown} are not parameters of a Chinchilla law (E, A, B, alpha, beta; "
            f"without beta the tied law) or of the data-constrained law (also R_D_star, R_N_star).{hint}",
            option="params", values=unknown,
        )
    return law


def _sample_rows(samples: Any, law: Law, point: Mapping[str, float]) -> list[dict[str, float]]:
    """Bootstrap samples (DataFrame or sequence of mappings) -> list of parameter dicts."""
    if samples is None:
        return []
    if hasattr(samples, "to_dict") and hasattr(samples, "columns"):
        records = samples.to_dict("records")
    elif isinstance(samples, Mapping):
        raise ScalefitInputError(
            "bootstrap samples must be a table (one row per resample, one column per parameter), "
            "e.g. a pandas DataFrame or a list of dicts; found a single mapping."
        )
    else:
        records = list(samples)
    rows = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ScalefitInputError(
                f"bootstrap sample {i} must be a mapping parameter -> value; found {type(rec).__name__}."
            )
        full = dict(point)  # parameters held fixed in the fit may be absent from the samples
        full.update({k: rec[k] for k in law.param_names if k in rec})
        rows.append(full)
    return rows


def _as_law_params(fit: Any) -> tuple[Law, dict[str, float], list[dict[str, Any]] | None]:
    """Normalise any accepted ``fit`` to ``(law, params, samples_or_None)``.

    ``fit`` is a FitResult-like object (``.law`` and ``.params``), a
    bootstrap-result-like object (``.samples`` and ``.fit``), or a mapping of
    parameters (see the module docstring for which law a mapping means).
    """
    if fit is None:
        raise ScalefitInputError(
            "fit is None; pass a FitResult, a BootstrapResult or a mapping of Chinchilla parameters "
            "{'E': ..., 'A': ..., 'B': ..., 'alpha': ..., 'beta': ...}."
        )
    if isinstance(fit, Mapping):
        law = mapping_law(fit)
        return law, check_params(law, fit, "fit"), None
    raw_samples = getattr(fit, "samples", None)
    point = getattr(fit, "fit", fit) if hasattr(fit, "samples") else fit  # a bootstrap result holds its fit
    if not (hasattr(point, "law") and hasattr(point, "params")):
        raise ScalefitInputError(
            f"fit must be a FitResult (with .law and .params), a BootstrapResult (with .fit and .samples) "
            f"or a mapping of Chinchilla parameters {{E, A, B, alpha, beta}}; found {type(fit).__name__}."
        )
    law = get_law(point.law)
    params = check_params(law, dict(point.params), "fit.params")
    samples = _sample_rows(raw_samples, law, params) if raw_samples is not None else None
    return law, params, samples or None


def _run_flops_range(fit: Any) -> tuple[float, float] | None:
    """(smallest, largest) compute of the runs behind a fit that carries them (``fit.runs``), else None."""
    point = getattr(fit, "fit", fit) if hasattr(fit, "samples") else fit
    runs = getattr(point, "runs", None)
    if runs is None or isinstance(fit, Mapping):
        return None
    try:
        flops = np.asarray(runs.flops, dtype=float)
        if not np.isfinite(flops).any():
            flops = 6.0 * np.asarray(runs.n_params, dtype=float) * np.asarray(runs.n_tokens, dtype=float)
        smallest, largest = float(np.nanmin(flops)), float(np.nanmax(flops))
    except (AttributeError, TypeError, ValueError):
        return None
    if not (math.isfinite(largest) and largest > 0 and math.isfinite(smallest) and smallest > 0):
        return None
    return smallest, largest


def _warn_extrapolation(fit: Any, flops: float, lowest: float | None = None) -> None:
    span = _run_flops_range(fit)
    if span is None:
        return
    smallest, largest = span
    if flops > EXTRAPOLATION_FACTOR * largest:
        warn(
            f"the plan uses {flops:.3g} FLOPs, {flops / largest:,.0f}x the largest run ({largest:.3g} FLOPs); "
            "a law fitted that far below the plan can be badly off. Read the intervals (fit.bootstrap()) "
            "and treat the plan as an extrapolation.",
            ExtrapolationWarning,
            options=[Option("bootstrap", text="fit.bootstrap()")],
        )
    low = flops if lowest is None else lowest
    if low * EXTRAPOLATION_FACTOR < smallest:
        warn(
            f"the plan uses {low:.3g} FLOPs, {smallest / low:,.0f}x less than the smallest run ({smallest:.3g} "
            "FLOPs); the law was not fitted there, and small models often deviate from it.",
            ExtrapolationWarning,
        )


def _extra_inputs(law: Law, inputs: Mapping[str, Any] | None) -> dict[str, float]:
    """Check the law's inputs besides N and D are given (``flops`` is filled in as k N D)."""
    inputs = dict(inputs or {})
    if "n_params" not in law.inputs or "n_tokens" not in law.inputs:
        raise ScalefitInputError(
            f"law {law.name!r} takes inputs {list(law.inputs)}; planning needs a law of both n_params and "
            "n_tokens (for instance 'chinchilla', 'kaplan-nd' or 'data-constrained')."
        )
    unknown = [k for k in inputs if k not in law.inputs or k in ("n_params", "n_tokens", "flops")]
    if unknown:
        raise ScalefitInputError(
            f"inputs {unknown} are not extra inputs of law {law.name!r} (its inputs are {list(law.inputs)}; "
            "n_params, n_tokens and flops are set by the planner). Remove them."
        )
    needed = [k for k in law.inputs if k not in ("n_params", "n_tokens", "flops")]
    missing = [k for k in needed if k not in inputs]
    if missing:
        raise ScalefitInputError(
            f"law {law.name!r} also needs inputs {missing}; pass them as inputs={{...}}, "
            f"e.g. inputs={{'{missing[0]}': 25e9}}."
        )
    return {k: check_positive_scalar(inputs[k], k, hint="Give it as a plain number.") for k in needed}


def carried_warnings(fit: Any, *, force: bool) -> tuple[str, ...]:
    """The fit's warnings a plan carries; refuses (:class:`PlanRefusedError`) a fit with a fatal one unless forced.

    A fit records what it warned about in ``fit.warnings`` (saved in its JSON);
    a fatal one (such as a vanished N term: loss rising with N) means the law
    cannot allocate compute, so planning from it needs ``force=True``.
    """
    if fit is None or isinstance(fit, Mapping):
        return ()
    point = getattr(fit, "fit", fit) if hasattr(fit, "samples") else fit
    saved = getattr(point, "warnings", ()) or ()
    records = [w for w in saved if isinstance(w, Mapping)]
    fatal = [str(w.get("message", "")) for w in records if w.get("fatal")]
    if fatal and not force:
        raise PlanRefusedError(
            "refusing to plan from this fit: " + " ".join(fatal)
            + " Fix the data or the fit; pass force=True to plan from it anyway.",
            reasons=fatal, option="force", options=[Option("force", text="force=True")],
        )
    carried = tuple(("FORCED PAST A FATAL DIAGNOSTIC: " if w.get("fatal") else "") + str(w.get("message", "")) for w in records)
    for message in carried:
        warn(f"the fit behind this plan warned: {message}", FitCarriedWarning)
    return carried


#: A plan's tokens per parameter this many times outside the fitted runs' range is noted as an extrapolation.
RATIO_FACTOR = 2.0


def _run_ratio_range(fit: Any) -> tuple[float, float] | None:
    """(smallest, largest) tokens per parameter of the runs behind a fit (``fit.runs``; a loaded fit's saved range)."""
    point = getattr(fit, "fit", fit) if hasattr(fit, "samples") else fit
    runs: Any = getattr(point, "runs", None)
    if runs is None or isinstance(fit, Mapping):
        return None
    try:
        ratio = (np.asarray(runs.tokens_per_param, dtype=float) if hasattr(runs, "tokens_per_param")
                 else np.asarray(runs.n_tokens, dtype=float) / np.asarray(runs.n_params, dtype=float))
        lo, hi = float(np.nanmin(ratio)), float(np.nanmax(ratio))
    except (AttributeError, TypeError, ValueError):
        return None
    return (lo, hi) if 0 < lo <= hi < math.inf else None


def ratio_note(fit: Any, tokens_per_param: float, span: tuple[float, float] | None = None) -> str | None:
    """A note when a plan's tokens per parameter lies beyond the fitted runs' range (``span``, default the fit's)
    by more than :data:`RATIO_FACTOR`."""
    span = span or _run_ratio_range(fit)
    if span is None or not math.isfinite(tokens_per_param):
        return None
    lo, hi = span
    if lo / RATIO_FACTOR <= tokens_per_param <= hi * RATIO_FACTOR:
        return None
    return (f"extrapolation in shape: the plan's {tokens_per_param:.3g} tokens per parameter lie outside the fitted "
            f"runs' {lo:.3g} to {hi:.3g}; the law's trade-off between N and D is untested there.")


def extrapolation_note(fit: Any, flops: float) -> str | None:
    """How far the largest budget lies beyond the largest run behind the fit ("77x the largest run"), or None."""
    span = _run_flops_range(fit)
    if span is None or not flops > 1.05 * span[1]:  # within 5% of the largest run: the data's own scale
        return None
    return (f"extrapolation: the plan's {flops:.3g} FLOPs are {flops / span[1]:,.3g}x the largest run's "
            f"{span[1]:.3g} FLOPs.")
