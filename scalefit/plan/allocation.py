"""Plan compute: model size and tokens for a budget or a loss, time and cost.

Every planner takes as ``fit`` either

* a fitted result: anything with ``.law`` (a :class:`~scalefit.laws.Law` or
  a law name) and ``.params`` (natural-scale floats), such as a
  :class:`scalefit.FitResult`;
* a bootstrap result: anything with ``.samples`` (one row per resample, one
  column per parameter) and ``.fit`` (the point estimate), such as a
  :class:`scalefit.BootstrapResult`.  Every estimated number then carries a
  percentile interval;
* a plain mapping of parameters, e.g. ``{"E": 1.69, "A": 406.4, "B": 410.7,
  "alpha": 0.34, "beta": 0.28}``: the Chinchilla law (Hoffmann et al.
  2022), its tied form when ``beta`` is absent, or the data-constrained law
  (Muennighoff et al. 2023) when ``R_D_star`` and ``R_N_star`` are present.

Training compute is ``C = k * N * D`` with ``k = flops_per_param_token``
(6 by default, Kaplan et al. 2020).  For the Chinchilla law the optimum has a
closed form (Hoffmann et al. 2022, eq. 4, with G = (alpha*A/(beta*B))^(1/(alpha+beta))):
``N* = G (C/k)^(beta/(alpha+beta))`` and ``D* = (C/k)^(alpha/(alpha+beta)) / G``.
Any other law, including user-defined ones, is minimised numerically along
``C = k N D``.

Functions
---------
compute_optimal          N*, D* and the loss for a compute budget.
budget_for_loss          least compute that reaches a target loss.
optimal_tokens           best tokens for a fixed model size.
inference_optimal        plan that minimises training plus inference FLOPs (Sardana et al. 2023).
data_constrained_optimal compute-optimal plan with limited unique data (Muennighoff et al. 2023).
training_time            wall-clock days on a GPU cluster (Narayanan et al. 2021, eq. 4).
training_cost            GPU-hours and money.
gpu_presets              the GPU table behind ``gpu=``.
"""
from __future__ import annotations

import csv
import functools
import io
import math
import numbers
import warnings
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Iterator, Mapping, Sequence, Union

import numpy as np

from .._errors import ExtrapolationWarning, ScalefitInputError, ScalefitWarning, UnitsWarning
from ..laws import MUENNIGHOFF_2023, Law, chinchilla_compute_optimal, chinchilla_values, get_law, is_chinchilla
from .._validation import check_positive_scalar

__all__ = [
    "Allocation",
    "AllocationTable",
    "InferencePlan",
    "TrainingEstimate",
    "compute_optimal",
    "budget_for_loss",
    "optimal_tokens",
    "inference_optimal",
    "data_constrained_optimal",
    "training_time",
    "training_cost",
    "gpu_presets",
]

#: Training FLOPs per parameter per token, C = 6 N D (Kaplan et al. 2020, sec. 2.1).
FLOPS_PER_PARAM_TOKEN = 6.0
#: Inference FLOPs per parameter per token, 2 N (forward pass only; Sardana et al. 2023).
FLOPS_PER_INFERENCE_TOKEN = 2.0
SECONDS_PER_DAY = 86400.0
#: Days in a (Julian) year, used for ``gpu_years``.
DAYS_PER_YEAR = 365.25

#: A fit-like object: FitResult, BootstrapResult or a mapping of parameters.
FitLike = Union[Mapping[str, float], Any]

# Numerical search ranges (natural logs).  Tokens and compute are searched up
# to 1e60, far past any physical budget, so "not reached" means "not reachable".
_LOG_MAX = math.log(1e60)
_GRID = 513
_MARGIN = 12.0  # extra e-folds on each side of the N*D = C/k line
_STEP = math.log(100.0)  # bracket expansion step: two decades
#: Plans beyond this multiple of the largest run's compute warn (ExtrapolationWarning).
EXTRAPOLATION_FACTOR = 100.0


# =============================================================== input handling
def _stacklevel() -> int:
    """``stacklevel`` that points a warning at the first caller outside scalefit."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


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


def _warn_small(value: float, name: str, unit: str, example: str) -> None:
    """Heuristic: a parameter or token count below 10,000 was probably given in millions or billions."""
    if value < 1e4:
        warnings.warn(
            f"{name}={value:g} is tiny for a {unit} count; it looks as if given in millions or billions. "
            f"Give the raw count, e.g. {example}.",
            UnitsWarning,
            stacklevel=_stacklevel(),
        )


def _params_of(law: Law, values: Mapping[str, Any], where: str) -> dict[str, float]:
    """The law's parameters from ``values`` as floats; refuse missing or non-finite ones."""
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
        bad = {k: v for k, v in (("A", A), ("B", B), ("alpha", alpha), ("beta", beta)) if v <= 0}
        if bad or E < 0:
            found = ", ".join(f"{k}={v!r}" for k, v in bad.items()) or f"E={E!r}"
            raise ScalefitInputError(
                f"{where}: Chinchilla parameters need A, B, alpha, beta > 0 and E >= 0 for a compute-optimal plan; "
                f"found {found}. Check the fit (or the order of the values)."
            )
    return out


def _mapping_law(values: Mapping[str, Any]) -> Law:
    keys = set(values)
    if {"R_D_star", "R_N_star"} <= keys:
        return get_law("data-constrained")
    if "beta" not in keys and {"E", "A", "B", "alpha"} <= keys:
        return get_law("chinchilla-tied")
    return get_law("chinchilla")


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
        law = _mapping_law(fit)
        return law, _params_of(law, fit, "fit"), None
    raw_samples = getattr(fit, "samples", None)
    point = getattr(fit, "fit", fit) if hasattr(fit, "samples") else fit  # a bootstrap result holds its fit
    if not (hasattr(point, "law") and hasattr(point, "params")):
        raise ScalefitInputError(
            f"fit must be a FitResult (with .law and .params), a BootstrapResult (with .fit and .samples) "
            f"or a mapping of Chinchilla parameters {{E, A, B, alpha, beta}}; found {type(fit).__name__}."
        )
    law = get_law(point.law)
    params = _params_of(law, dict(point.params), "fit.params")
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
        warnings.warn(
            f"the plan uses {flops:.3g} FLOPs, {flops / largest:,.0f}x the largest run ({largest:.3g} FLOPs); "
            "a law fitted that far below the plan can be badly off. Read the intervals (fit.bootstrap()) "
            "and treat the plan as an extrapolation.",
            ExtrapolationWarning,
            stacklevel=_stacklevel(),
        )
    low = flops if lowest is None else lowest
    if low * EXTRAPOLATION_FACTOR < smallest:
        warnings.warn(
            f"the plan uses {low:.3g} FLOPs, {smallest / low:,.0f}x less than the smallest run ({smallest:.3g} "
            "FLOPs); the law was not fitted there, and small models often deviate from it.",
            ExtrapolationWarning,
            stacklevel=_stacklevel(),
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


# ================================================================= the loss
class _Model:
    """A law with fixed parameters, evaluated along the planning variables."""

    def __init__(self, law: Law, params: Mapping[str, float], inputs: Mapping[str, float], k: float):
        self.law, self.params, self.inputs, self.k = law, dict(params), dict(inputs), k
        self.closed = is_chinchilla(law) and not inputs
        if self.closed:
            self.E, self.A, self.B, self.alpha, self.beta = chinchilla_values(params)
            self.G = (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))
            self.a = self.beta / (self.alpha + self.beta)

    def loss(self, n_params: Any, n_tokens: Any) -> np.ndarray:
        kw: dict[str, Any] = {}
        for name in self.law.inputs:
            if name == "n_params":
                kw[name] = n_params
            elif name == "n_tokens":
                kw[name] = n_tokens
            elif name == "flops":
                kw[name] = self.k * np.asarray(n_params) * np.asarray(n_tokens)
            elif name == "unique_tokens":
                # Unique tokens *available*: a run of D < U tokens sees only D of them
                # (Muennighoff et al.'s allocation code uses U = min(U_BASE, D)).
                kw[name] = np.minimum(self.inputs[name], n_tokens)
            else:
                kw[name] = self.inputs[name]
        return self.law(self.params, **kw)

    def irreducible(self) -> float | None:
        return self.params.get("E")


class _NoSolution(Exception):
    """A numerical search hit the edge of its range (caller turns it into a clear error)."""

    def __init__(self, x: float, value: float):
        super().__init__(x, value)
        self.x, self.value = x, value


def _argmin_1d(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float) -> float:
    """Minimise a vectorised f on [lo, hi]: grid, interior check, then polish.

    The polish finds the zero of a central-difference derivative with brentq,
    which resolves the minimiser to ~1e-9 (minimising f directly is limited to
    ~sqrt(machine eps) by the flatness at the minimum).  Kinks fall back to
    bounded Brent minimisation.
    """
    from scipy.optimize import brentq, minimize_scalar

    x = np.linspace(lo, hi, _GRID)
    y = np.asarray(f(x), dtype=float)
    y = np.where(np.isfinite(y), y, np.inf)
    i = int(np.argmin(y))
    if not np.isfinite(y[i]):
        raise _NoSolution(float(x[i]), float(y[i]))
    if i == 0 or i == _GRID - 1:
        raise _NoSolution(float(x[i]), float(y[i]))
    a, b = float(x[i - 1]), float(x[i + 1])
    h = 1e-6

    def slope(t: float) -> float:
        return float((f(np.array(t + h)) - f(np.array(t - h))) / (2 * h))

    sa, sb = slope(a), slope(b)
    if sa < 0 < sb:
        return float(brentq(slope, a, b, xtol=1e-13, rtol=4 * np.finfo(float).eps))
    res = minimize_scalar(lambda t: float(f(np.array(t))), bounds=(a, b), method="bounded", options={"xatol": 1e-12})
    return float(res.x)


def _solve_monotone(g: Callable[[float], float], x0: float, lo: float, hi: float, *, increasing: bool) -> float:
    """Root of a monotone g in [lo, hi], expanding a bracket from x0 by two decades at a time."""
    from scipy.optimize import brentq

    x0 = min(max(x0, lo), hi)
    g0 = g(x0)
    if not math.isfinite(g0):
        raise _NoSolution(x0, g0)
    if g0 == 0:
        return x0
    right = (g0 < 0) == increasing
    a, ga = x0, g0
    while True:
        b = min(a + _STEP, hi) if right else max(a - _STEP, lo)
        if b == a:
            raise _NoSolution(a, ga)
        gb = g(b)
        if not math.isfinite(gb):
            raise _NoSolution(b, gb)
        if gb == 0:
            return b
        if (gb > 0) != (g0 > 0):
            break
        a, ga = b, gb
    lo_, hi_ = sorted((a, b))
    return float(brentq(g, lo_, hi_, xtol=1e-13, rtol=4 * np.finfo(float).eps))


def _row(
    m: _Model, n_params: float, n_tokens: float, *, loss: float | None = None, flops: float | None = None
) -> dict[str, float]:
    """One plan as a dict.  ``loss`` and ``flops`` given by the caller are kept exactly (no round-off),
    so numbers the caller fixed stay identical across bootstrap samples."""
    if not (n_params >= 1 and n_tokens >= 1):
        raise ScalefitInputError(
            f"the law's plan is a model of {n_params:.3g} parameters trained on {n_tokens:.3g} tokens, which is "
            "not a model: the fit is degenerate (read its diagnostics: a term may have vanished) or the budget "
            "is far too small."
        )
    if loss is None:
        loss = float(m.loss(n_params, n_tokens))
    return {
        "n_params": float(n_params),
        "n_tokens": float(n_tokens),
        "flops": m.k * float(n_params) * float(n_tokens) if flops is None else float(flops),
        "loss": float(loss),
        "tokens_per_param": float(n_tokens) / float(n_params),
    }


# --------------------------------------------------------- core computations
def _optimum(m: _Model, flops: float) -> dict[str, float]:
    """Compute-optimal N, D for one budget (closed form or numerical)."""
    if m.closed:
        n, d, loss = chinchilla_compute_optimal(m.params, flops, flops_per_param_token=m.k)
        return _row(m, float(n), float(d), loss=float(loss), flops=flops)
    S = flops / m.k  # N * D
    ln_s = math.log(S)
    centre, half = 0.5 * ln_s, 0.5 * abs(ln_s) + _MARGIN

    def f(x: np.ndarray) -> np.ndarray:
        return m.loss(np.exp(x), np.exp(ln_s - x))

    try:
        x = _argmin_1d(f, centre - half, centre + half)
    except _NoSolution as exc:
        raise ScalefitInputError(
            f"law {m.law.name!r} has no compute-optimal allocation at flops={flops:.4g}: along C = "
            f"{m.k:g}*N*D the loss keeps falling to the edge of the search range (n_params={math.exp(exc.x):.3g}). "
            "Check that the law's exponents are positive and that it depends on both n_params and n_tokens."
        ) from None
    return _row(m, math.exp(x), math.exp(ln_s - x), flops=flops)


def _check_target(m: _Model, loss: float) -> None:
    E = m.irreducible()
    if E is not None and loss <= E:
        raise ScalefitInputError(
            f"target loss {loss:g} is at or below the irreducible loss E = {E:.6g} of this fit; no finite "
            f"compute reaches it. Choose a loss above E (e.g. {E + 0.05:.4g})."
        )


def _budget(m: _Model, loss: float) -> dict[str, float]:
    """Least compute whose compute-optimal loss equals ``loss``."""
    _check_target(m, loss)
    if m.closed:
        # L*(C) = E + K (C/k)^(-gamma), gamma = alpha*beta/(alpha+beta)
        K = m.A * m.G ** (-m.alpha) + m.B * m.G**m.beta
        gamma = m.alpha * m.beta / (m.alpha + m.beta)
        S = (K / (loss - m.E)) ** (1.0 / gamma)
        return {**_optimum(m, m.k * S), "loss": loss}

    def g(log_c: float) -> float:
        return _optimum(m, math.exp(log_c))["loss"] - loss

    try:
        log_c = _solve_monotone(g, math.log(1e21), math.log(m.k), _LOG_MAX, increasing=False)
    except _NoSolution as exc:
        raise ScalefitInputError(
            f"target loss {loss:g} is not reached by any compute budget up to 1e60 FLOPs under law "
            f"{m.law.name!r} (its compute-optimal loss there is {exc.value + loss:.6g}). Choose a higher loss."
        ) from None
    return {**_optimum(m, math.exp(log_c)), "loss": loss}


def _tokens_for_loss(m: _Model, n_params: np.ndarray, loss: float) -> np.ndarray:
    """Tokens D with L(N, D) = loss for each N (vectorised bisection in log D; NaN when unreachable)."""
    n_params = np.asarray(n_params, dtype=float)
    if m.closed:
        rest = loss - m.E - m.A / n_params**m.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(rest > 0, (m.B / np.where(rest > 0, rest, 1.0)) ** (1.0 / m.beta), np.nan)
        return d
    lo = np.zeros_like(n_params)
    hi = np.full_like(n_params, _LOG_MAX)
    reachable = np.asarray(m.loss(n_params, np.exp(hi)) <= loss)
    for _ in range(60):  # 138 / 2^60: far below float resolution
        mid = 0.5 * (lo + hi)
        below = np.asarray(m.loss(n_params, np.exp(mid)) <= loss)
        hi = np.where(below, mid, hi)
        lo = np.where(below, lo, mid)
    return np.where(reachable, np.exp(hi), np.nan)


def _fixed_n(m: _Model, n_params: float, flops: float | None, loss: float | None) -> dict[str, float]:
    """optimal_tokens for one N."""
    if flops is not None:
        return _row(m, n_params, flops / (m.k * n_params), flops=flops)
    if loss is not None:
        d = float(_tokens_for_loss(m, np.array([n_params]), loss)[0])
        if not math.isfinite(d):
            floor = float(m.loss(n_params, 1e60 if not m.closed else np.inf))
            what = "E + A/n_params^alpha" if m.closed else "the loss with 1e60 tokens"
            raise ScalefitInputError(
                f"loss {loss:g} is unreachable with n_params={n_params:.4g}: even unlimited data leaves "
                f"{what} = {floor:.6g}. Choose a loss above {floor:.6g} or a larger model."
            )
        if d <= 1.0 and not m.closed:
            raise ScalefitInputError(
                f"loss {loss:g} is reached with less than one token at n_params={n_params:.4g}; choose a lower loss."
            )
        return _row(m, n_params, d, loss=loss)
    if m.closed:
        S = (n_params / m.G) ** (1.0 / m.a)
        return _row(m, n_params, S / n_params)

    def g(log_c: float) -> float:
        return math.log(_optimum(m, math.exp(log_c))["n_params"]) - math.log(n_params)

    try:
        log_c = _solve_monotone(g, math.log(m.k * 20.0 * n_params**2), math.log(m.k), _LOG_MAX, increasing=True)
    except _NoSolution:
        raise ScalefitInputError(
            f"no compute budget up to 1e60 FLOPs makes n_params={n_params:.4g} compute-optimal under law "
            f"{m.law.name!r}; give flops= or loss= instead."
        ) from None
    out = _optimum(m, math.exp(log_c))
    return _row(m, n_params, out["flops"] / (m.k * n_params))


def _inference(m: _Model, loss: float, inference_tokens: float, k_inf: float) -> dict[str, float]:
    """Minimise k N D + k_inf N D_inf over the iso-loss curve L(N, D) = loss."""
    chin = _budget(m, loss)
    x_chin = math.log(chin["n_params"])
    # smallest N that can reach the loss at all (D -> infinity)
    if m.closed:
        x_min = math.log((m.A / (loss - m.E)) ** (1.0 / m.alpha))
    else:
        try:
            x_min = _solve_monotone(
                lambda x: float(m.loss(math.exp(x), 1e60)) - loss, x_chin, x_chin - 100.0, x_chin, increasing=False
            )
        except _NoSolution:
            x_min = x_chin - 100.0

    def total(y: np.ndarray) -> np.ndarray:
        n = np.exp(x_min + np.exp(y))
        d = _tokens_for_loss(m, n, loss)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(m.k * n * d + k_inf * n * inference_tokens)

    y_lo, y_hi = math.log(1e-12), math.log(x_chin + 1.0 - x_min)
    try:
        y = _argmin_1d(total, y_lo, y_hi)
    except _NoSolution as exc:  # pragma: no cover - total cost always has an interior minimum
        raise ScalefitInputError(
            f"could not find an inference-optimal plan for loss {loss:g} (search ended at n_params="
            f"{math.exp(x_min + math.exp(exc.x)):.3g})."
        ) from None
    n = math.exp(x_min + math.exp(y))
    d = float(_tokens_for_loss(m, np.array([n]), loss)[0])
    train, infer = m.k * n * d, k_inf * n * inference_tokens
    chin_total = chin["flops"] + k_inf * chin["n_params"] * inference_tokens
    return {
        "n_params": n,
        "n_tokens": d,
        "loss": loss,
        "tokens_per_param": d / n,
        "training_flops": train,
        "inference_flops": infer,
        "total_flops": train + infer,
        "chinchilla_n_params": chin["n_params"],
        "chinchilla_n_tokens": chin["n_tokens"],
        "chinchilla_flops": chin["flops"],
        "chinchilla_total_flops": chin_total,
        "saving_flops": chin_total - (train + infer),
        "saving_fraction": (chin_total - (train + infer)) / chin_total,
    }


# ------------------------------------------------------------- uncertainty
def _estimate(
    compute: Callable[[_Model], dict[str, float]],
    law: Law,
    params: Mapping[str, float],
    samples: list[dict[str, Any]] | None,
    inputs: Mapping[str, float],
    k: float,
    level: float,
    fixed: Sequence[str] = (),
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Point result and percentile intervals over the bootstrap samples.

    Keys in ``fixed`` (the numbers the caller chose) get no interval; every
    other key does.  Samples that give no plan are left out, with a warning.
    """
    point = compute(_Model(law, params, inputs, k))
    if not samples:
        return point, {}
    rows, failures, skipped = [], [], 0
    for s in samples:
        try:
            ps = _params_of(law, s, "bootstrap sample")
        except ScalefitInputError:
            skipped += 1
            continue
        try:
            rows.append(compute(_Model(law, ps, inputs, k)))
        except ScalefitInputError as exc:
            failures.append(str(exc))
    n = len(samples)
    if skipped or failures:
        first = f" The first said: {failures[0]}" if failures else ""
        warnings.warn(
            f"{skipped + len(failures)} of {n} bootstrap samples give no plan: {skipped} with missing or "
            f"non-finite parameters (left out) and {len(failures)} that cannot reach it (counted as unbounded "
            f"compute, so intervals may be open-ended).{first}",
            ScalefitWarning,
            stacklevel=_stacklevel(),
        )
    if len(rows) < 2:
        warnings.warn(
            f"only {len(rows)} usable bootstrap sample(s) of {n}; no intervals reported.",
            ScalefitWarning,
            stacklevel=_stacklevel(),
        )
        return point, {}
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    intervals = {}
    for key in point:
        if key in fixed:
            continue
        values = np.array([r[key] for r in rows], dtype=float)
        if failures and key != "tokens_per_param":
            # a draw that gives no plan needs unbounded compute (the target is out of its reach):
            # count it as +inf rather than drop it, so an interval never looks narrower than it is
            values = np.concatenate([values, np.full(len(failures), np.inf)])
            lo, hi = np.percentile(values, q, method="inverted_cdf")
        else:
            lo, hi = np.percentile(values, q)
        intervals[key] = (float(lo), float(hi))
    return point, intervals


# ================================================================ frontier
def _grid_loss(fn: str, law: Any, params: Mapping[str, Any], n_params: np.ndarray, n_tokens: np.ndarray, k: float) -> np.ndarray:
    """The law's loss at (N, D); refuse laws with inputs other than N, D and C."""
    inputs = {"n_params": n_params, "n_tokens": n_tokens, "flops": k * n_params * n_tokens}
    other = [i for i in law.inputs if i not in inputs]
    if other:
        raise ScalefitInputError(
            f"{fn}: law {law.name!r} also needs {other}; this plot evaluates the law over model size and tokens "
            "only, so it cannot draw it. Plot a law of n_params and n_tokens (e.g. 'chinchilla')."
        )
    return np.asarray(law(params, **{i: inputs[i] for i in law.inputs}), dtype=float)


_SPAN_DECADES = 6.0  # numeric frontier: N searched within +-6 decades of N = D
_STEPS_PER_DECADE = 100


def frontier(law: Any, params: Mapping[str, Any], flops: Any, *, flops_per_param_token: float = 6.0,
             where: str = "frontier()", steps_per_decade: int = _STEPS_PER_DECADE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute-optimal (N*, D*, L*) at each budget: closed form for Chinchilla, else argmin along C = k N D.

    The numeric argmin searches a log grid of N around N = D and refines the
    best grid point by a parabola in log N; budgets whose minimum falls on the
    grid's edge (no interior optimum) give NaN.
    """
    fn, k = where, float(flops_per_param_token)
    law = get_law(law)
    flops = np.asarray(flops, dtype=float)
    if is_chinchilla(law):
        return chinchilla_compute_optimal(params, flops, flops_per_param_token=k)
    nan = np.full(flops.shape, np.nan)
    if tuple(law.inputs) == ("flops",):  # L(C) itself: there is no allocation to choose
        return nan, nan, np.asarray(law(params, flops=flops), dtype=float)
    if not {"n_params", "n_tokens"} <= set(law.inputs) and "flops" not in law.inputs:
        raise ScalefitInputError(
            f"{fn}: law {law.name!r} depends on {list(law.inputs)} only, so it has no compute-optimal split of "
            "compute between parameters and tokens; fit a law of both n_params and n_tokens (e.g. 'chinchilla')."
        )
    step = 1.0 / steps_per_decade
    offsets = np.arange(-_SPAN_DECADES, _SPAN_DECADES + step / 2, step)
    log_n = 0.5 * np.log10(flops / k)[:, None] + offsets[None, :]
    n = 10.0 ** log_n
    loss = _grid_loss(fn, law, params, n, flops[:, None] / (k * n), k)
    loss = np.where(np.isfinite(loss), loss, np.inf)
    j = np.argmin(loss, axis=1)
    rows = np.arange(len(flops))
    interior = (j > 0) & (j < len(offsets) - 1) & np.isfinite(loss[rows, j])
    jj = np.clip(j, 1, len(offsets) - 2)
    y0, y1, y2 = loss[rows, jj - 1], loss[rows, jj], loss[rows, jj + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        curv = y0 - 2.0 * y1 + y2
        shift = np.where(np.isfinite(curv) & (curv > 0), 0.5 * (y0 - y2) / curv, 0.0)
    n_opt = 10.0 ** (log_n[rows, jj] + np.clip(shift, -1, 1) * step)
    d_opt = flops / (k * n_opt)
    l_opt = _grid_loss(fn, law, params, n_opt, d_opt, k)
    bad = ~interior
    return np.where(bad, np.nan, n_opt), np.where(bad, np.nan, d_opt), np.where(bad, np.nan, l_opt)


def frontier_draws(law: Any, samples: Sequence[Mapping[str, float]], flops: Any, *, flops_per_param_token: float = 6.0,
                   where: str = "frontier_draws()") -> np.ndarray:
    """L*(C) for every bootstrap draw, shape (draws, budgets)."""
    k = float(flops_per_param_token)
    law = get_law(law)
    flops = np.asarray(flops, dtype=float)
    if is_chinchilla(law):
        names = law.param_names
        arrays = {p: np.array([float(s[p]) for s in samples])[:, None] for p in names}
        return chinchilla_compute_optimal(arrays, flops[None, :], flops_per_param_token=k)[2]
    return np.array([frontier(law, s, flops, flops_per_param_token=k, where=where, steps_per_decade=25)[2] for s in samples])



# ================================================================ results
def _human(x: float) -> str:
    """70e9 -> '70B', 1.4e12 -> '1.4T'; beyond 1e15 scientific notation."""
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e15:
        return f"{x:.3g}"
    for value, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if ax >= value:
            return f"{x / value:.3g}{suffix}"
    return f"{x:.3g}"


_COLUMNS = (
    ("n_params", "Parameters", _human),
    ("flops", "FLOPs", lambda v: f"{v:.3g}"),
    ("n_tokens", "Tokens", _human),
    ("tokens_per_param", "Tokens/param", lambda v: f"{v:.3g}"),
    ("loss", "Loss", lambda v: f"{v:.4f}"),
    ("epochs", "Epochs", lambda v: f"{v:.3g}"),
)


def _table(rows: Sequence["Allocation"]) -> str:
    """Plain-text table like Hoffmann et al. (2022), Table 3, with intervals in brackets."""
    cols = [c for c in _COLUMNS if c[0] != "epochs" or any(r.epochs is not None for r in rows)]
    cells = []
    for r in rows:
        line = []
        for key, _, fmt in cols:
            value = getattr(r, key)
            text = fmt(value) if value is not None else ""
            if key in r.intervals:
                lo, hi = r.intervals[key]
                text += f" [{fmt(lo)}, {fmt(hi)}]"
            line.append(text)
        cells.append(line)
    header = [c[1] for c in cols]
    widths = [max(len(h), *(len(line[j]) for line in cells)) for j, h in enumerate(header)]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in cells]
    levels = {r.level for r in rows if r.intervals}
    if levels:
        out.append(f"[brackets: {100 * levels.pop():g}% bootstrap percentile intervals]")
    return "\n".join(out)


@dataclass(frozen=True)
class Allocation:
    """A compute plan: model size, tokens, compute and predicted loss.

    Attributes
    ----------
    n_params, n_tokens : float
        Parameters N and training tokens D.
    flops : float
        Training compute, ``flops_per_param_token * n_params * n_tokens``.
    loss : float
        The law's predicted loss at (N, D).
    tokens_per_param : float
        ``n_tokens / n_params``.
    intervals : dict
        Name -> ``(low, high)`` percentile interval over bootstrap samples, for
        every estimated number; empty without bootstrap samples.  Numbers the
        caller fixed (e.g. ``flops`` in :func:`compute_optimal`) have none.
    level : float or None
        Coverage of ``intervals``.
    law : str
        Name of the law.
    inputs : dict
        Extra law inputs, e.g. ``{"unique_tokens": 25e9}``.
    flops_per_param_token : float
        The k in C = k N D.
    """

    n_params: float
    n_tokens: float
    flops: float
    loss: float
    tokens_per_param: float
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    level: float | None = None
    law: str = "chinchilla"
    inputs: Mapping[str, float] = field(default_factory=dict)
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN

    @property
    def epochs(self) -> float | None:
        """Passes over the unique data, ``n_tokens / unique_tokens`` (None without ``unique_tokens``)."""
        u = self.inputs.get("unique_tokens")
        return None if u is None else self.n_tokens / u

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (intervals as ``[low, high]`` lists)."""
        out: dict[str, Any] = {
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.flops,
            "loss": self.loss,
            "tokens_per_param": self.tokens_per_param,
        }
        out.update(self.inputs)
        if self.epochs is not None:
            out["epochs"] = self.epochs
        out["law"] = self.law
        out["flops_per_param_token"] = self.flops_per_param_token
        if self.intervals:
            out["level"] = self.level
            out["intervals"] = {k: [lo, hi] for k, (lo, hi) in self.intervals.items()}
        return out

    def __str__(self) -> str:
        return _table([self])

    def __repr__(self) -> str:
        return _table([self])


@dataclass(frozen=True)
class AllocationTable:
    """Several :class:`Allocation` rows, one per requested value.

    Iterate over it, index it, or turn it into a DataFrame with
    :meth:`to_frame`.  ``str(table)`` is a text table like Table 3 of
    Hoffmann et al. (2022).
    """

    allocations: tuple[Allocation, ...]

    def __len__(self) -> int:
        return len(self.allocations)

    def __iter__(self) -> Iterator[Allocation]:
        return iter(self.allocations)

    def __getitem__(self, i: int) -> Allocation:
        return self.allocations[i]

    def to_frame(self):
        """pandas DataFrame, one row per allocation; intervals as ``<name>_low`` / ``<name>_high``."""
        import pandas as pd

        records = []
        for a in self.allocations:
            rec = {k: v for k, v in a.to_dict().items() if k not in ("intervals", "level")}
            for key, (lo, hi) in a.intervals.items():
                rec[f"{key}_low"], rec[f"{key}_high"] = lo, hi
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def to_dict(self) -> dict[str, Any]:
        """``{"allocations": [row.to_dict(), ...]}``."""
        return {"allocations": [a.to_dict() for a in self.allocations]}

    def __str__(self) -> str:
        return _table(self.allocations)

    def __repr__(self) -> str:
        return _table(self.allocations)

    def _repr_html_(self) -> str:
        return f"<pre>{__import__('html').escape(_table(self.allocations))}</pre>"


@dataclass(frozen=True)
class InferencePlan:
    """Plan minimising training plus inference FLOPs at a target loss (Sardana et al. 2023).

    Attributes
    ----------
    n_params, n_tokens : float
        The inference-aware model size and training tokens.
    loss : float
        The target loss (reached by both plans).
    inference_tokens : float
        Tokens the model will process at inference over its lifetime.
    training_flops, inference_flops, total_flops : float
        ``k N D``, ``k_inf N D_inf`` and their sum.
    chinchilla : Allocation
        The training-compute-optimal plan for the same loss (:func:`budget_for_loss`).
    chinchilla_total_flops : float
        Its training plus inference FLOPs for the same ``inference_tokens``.
    saving_flops, saving_fraction : float
        ``chinchilla_total_flops - total_flops`` and that as a fraction of
        ``chinchilla_total_flops`` (>= 0).
    intervals, level, law, flops_per_param_token, flops_per_inference_token
        As in :class:`Allocation`.
    """

    n_params: float
    n_tokens: float
    loss: float
    inference_tokens: float
    training_flops: float
    inference_flops: float
    total_flops: float
    chinchilla: Allocation
    chinchilla_total_flops: float
    saving_flops: float
    saving_fraction: float
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    level: float | None = None
    law: str = "chinchilla"
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN
    flops_per_inference_token: float = FLOPS_PER_INFERENCE_TOKEN

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params

    @property
    def flops(self) -> float:
        """Training FLOPs (same as ``training_flops``), for symmetry with :class:`Allocation`."""
        return self.training_flops

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.training_flops,
            "loss": self.loss,
            "tokens_per_param": self.tokens_per_param,
            "inference_tokens": self.inference_tokens,
            "training_flops": self.training_flops,
            "inference_flops": self.inference_flops,
            "total_flops": self.total_flops,
            "chinchilla": self.chinchilla.to_dict(),
            "chinchilla_total_flops": self.chinchilla_total_flops,
            "saving_flops": self.saving_flops,
            "saving_fraction": self.saving_fraction,
            "law": self.law,
            "flops_per_param_token": self.flops_per_param_token,
            "flops_per_inference_token": self.flops_per_inference_token,
        }
        if self.intervals:
            out["level"] = self.level
            out["intervals"] = {k: [lo, hi] for k, (lo, hi) in self.intervals.items()}
        return out

    def __str__(self) -> str:
        def iv(key: str, fmt: Callable[[float], str]) -> str:
            if key not in self.intervals:
                return ""
            lo, hi = self.intervals[key]
            return f" [{fmt(lo)}, {fmt(hi)}]"

        e = lambda v: f"{v:.3g}"  # noqa: E731
        lines = [
            f"Inference-aware plan for loss {self.loss:.4f} and {_human(self.inference_tokens)} inference tokens "
            f"(Sardana et al. 2023; training {self.flops_per_param_token:g}*N*D, inference "
            f"{self.flops_per_inference_token:g}*N per token)",
            # each interval sits beside the inference-aware value it belongs to
            f"  {'':<22}{'inference-aware':>34}{'Chinchilla-optimal':>22}",
            f"  {'parameters':<22}{_human(self.n_params) + iv('n_params', _human):>34}{_human(self.chinchilla.n_params):>22}",
            f"  {'training tokens':<22}{_human(self.n_tokens) + iv('n_tokens', _human):>34}{_human(self.chinchilla.n_tokens):>22}",
            f"  {'tokens/param':<22}{e(self.tokens_per_param):>34}{e(self.chinchilla.tokens_per_param):>22}",
            f"  {'training FLOPs':<22}{e(self.training_flops):>34}{e(self.chinchilla.flops):>22}",
            f"  {'total FLOPs':<22}{e(self.total_flops):>34}{e(self.chinchilla_total_flops):>22}",
            f"  saving: {self.saving_flops:.3g} FLOPs ({100 * self.saving_fraction:.1f}% of the Chinchilla-optimal total)"
            + iv("saving_fraction", lambda v: f"{100 * v:.1f}%"),
        ]
        return "\n".join(lines)


def _allocation(row: Mapping[str, float], intervals: Mapping[str, Any], level: float, m_law: Law, k: float,
                inputs: Mapping[str, float]) -> Allocation:
    return Allocation(
        n_params=row["n_params"],
        n_tokens=row["n_tokens"],
        flops=row["flops"],
        loss=row["loss"],
        tokens_per_param=row["tokens_per_param"],
        intervals=dict(intervals),
        level=level if intervals else None,
        law=m_law.name,
        inputs=dict(inputs),
        flops_per_param_token=k,
    )


def _plan_each(
    fit: Any,
    values: Any,
    name: str,
    hint: str,
    compute: Callable[[_Model, float], dict[str, float]],
    *,
    level: float,
    k: float,
    inputs: Mapping[str, Any] | None,
    fixed: Sequence[str],
) -> "Allocation | AllocationTable":
    """Shared driver: normalise fit and inputs, loop over values, attach intervals."""
    level, k = _level(level), _k(k)
    arr, scalar = _budgets(values, name, hint)
    law, params, samples = _as_law_params(fit)
    extra = _extra_inputs(law, inputs)
    out = []
    for v in arr:
        row, intervals = _estimate(lambda m, v=float(v): compute(m, v), law, params, samples, extra, k, level, fixed)
        out.append(_allocation(row, intervals, level, law, k, extra))
    _warn_extrapolation(fit, max(a.flops for a in out), min(a.flops for a in out))
    return out[0] if scalar else AllocationTable(tuple(out))


# =============================================================== planners
def compute_optimal(
    fit: FitLike,
    flops: float | Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    inputs: Mapping[str, float] | None = None,
) -> Allocation | AllocationTable:
    """Compute-optimal model size and tokens for a compute budget.

    For the Chinchilla law (Hoffmann et al. 2022) the closed form
    ``N* = G (C/k)^(beta/(alpha+beta))``, ``D* = (C/k)^(alpha/(alpha+beta)) / G``
    with ``G = (alpha A / (beta B))^(1/(alpha+beta))``.  Any other law is
    minimised numerically over log N along ``C = k N D`` (a grid over a wide
    range, a check that the minimum is interior, then a polish to ~1e-9).

    Parameters
    ----------
    fit : FitResult, BootstrapResult or mapping
        The fitted law (see the module docstring).  Bootstrap samples give
        percentile intervals on every estimated number.
    flops : float or sequence of float
        Training compute budget(s) C in FLOPs.
    level : float, default 0.95
        Coverage of the bootstrap intervals.
    flops_per_param_token : float, default 6
        k in ``C = k N D``.
    inputs : mapping, optional
        Extra inputs of the law besides N and D, e.g.
        ``{"unique_tokens": 25e9}`` for the data-constrained law.

    Returns
    -------
    Allocation
        For a scalar ``flops``.
    AllocationTable
        For a sequence of budgets, one row each.

    Raises
    ------
    ScalefitInputError
        If a budget is not a finite number > 0, the fit is not usable, or the
        law has no interior optimum.

    Examples
    --------
    Chinchilla's budget under Hoffmann et al.'s rounded coefficients:

    >>> from scalefit import compute_optimal
    >>> hoffmann = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    >>> plan = compute_optimal(hoffmann, 5.76e23)
    >>> round(plan.n_params / 1e9, 1), round(plan.tokens_per_param, 1)
    (32.2, 92.6)
    >>> print(compute_optimal(hoffmann, [1e21, 1e23]))  # doctest: +NORMALIZE_WHITESPACE
    Parameters  FLOPs  Tokens  Tokens/param    Loss
         1.82B  1e+21   91.4B          50.1  2.3289
         14.6B  1e+23   1.14T          78.2  2.0050
    """
    return _plan_each(
        fit, flops, "flops", "Give the training compute budget in FLOPs, e.g. 5.76e23.",
        _optimum, level=level, k=flops_per_param_token, inputs=inputs, fixed=("flops",),
    )


def budget_for_loss(
    fit: FitLike,
    loss: float | Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    inputs: Mapping[str, float] | None = None,
) -> Allocation | AllocationTable:
    """Least training compute that reaches a target loss, with its N* and D*.

    The compute-optimal loss L*(C) falls monotonically with C, so the budget
    is its inverse: in closed form for the Chinchilla law,
    ``C/k = (K / (L - E))^((alpha+beta)/(alpha*beta))`` with
    ``K = A G^-alpha + B G^beta``; by root finding on log C otherwise.

    Parameters
    ----------
    fit : FitResult, BootstrapResult or mapping
        The fitted law.
    loss : float or sequence of float
        Target loss(es), in the fit's units (nats).
    level, flops_per_param_token, inputs
        As in :func:`compute_optimal`.

    Returns
    -------
    Allocation or AllocationTable
        ``flops`` is the budget; ``n_params`` and ``n_tokens`` its optimal split.

    Raises
    ------
    ScalefitInputError
        If the target is at or below the irreducible loss E (no finite compute
        reaches it), or is not reached by any budget up to 1e60 FLOPs.

    Examples
    --------
    >>> from scalefit import budget_for_loss
    >>> hoffmann = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    >>> plan = budget_for_loss(hoffmann, 2.0)
    >>> f"{plan.flops:.3g}"
    '1.11e+23'
    """
    return _plan_each(
        fit, loss, "loss", "Give the target loss in nats, above the fit's irreducible loss E.",
        _budget, level=level, k=flops_per_param_token, inputs=inputs, fixed=("loss",),
    )


def optimal_tokens(
    fit: FitLike,
    n_params: float | Sequence[float] | np.ndarray,
    *,
    flops: float | None = None,
    loss: float | None = None,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    inputs: Mapping[str, float] | None = None,
) -> Allocation | AllocationTable:
    """Training tokens for a model whose size is already fixed.

    Three questions, chosen by which keyword is given:

    * ``flops=C``: the tokens a budget buys, ``D = C / (k N)``, and the loss
      they give.  Nothing is optimised.
    * ``loss=L``: the tokens needed to reach ``L`` at this N, solving
      ``L(N, D) = L``.  For the Chinchilla law
      ``D = (B / (L - E - A/N^alpha))^(1/beta)``; unreachable when
      ``L <= E + A/N^alpha`` (even infinite data is not enough).
    * neither: the tokens for which N is compute-optimal, i.e. the inverse of
      ``N*(C)`` (for the Chinchilla law ``C/k = (N/G)^((alpha+beta)/beta)``).
      This is Table 3 of Hoffmann et al. (2022) read by parameters.

    Parameters
    ----------
    fit : FitResult, BootstrapResult or mapping
        The fitted law.
    n_params : float or sequence of float
        Model size(s) N.
    flops : float, optional
        Compute budget in FLOPs (exclusive with ``loss``).
    loss : float, optional
        Target loss (exclusive with ``flops``).
    level, flops_per_param_token, inputs
        As in :func:`compute_optimal`.

    Returns
    -------
    Allocation or AllocationTable

    Raises
    ------
    ScalefitInputError
        If both ``flops`` and ``loss`` are given, a value is not a finite
        number > 0, or the loss is unreachable at this N.

    Examples
    --------
    >>> from scalefit import optimal_tokens
    >>> besiroglu = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
    >>> f"{optimal_tokens(besiroglu, 175e9).n_tokens:.3g}"
    '3.08e+12'
    >>> f"{optimal_tokens(besiroglu, 175e9, flops=3.15e23).n_tokens:.3g}"
    '3e+11'
    """
    if flops is not None and loss is not None:
        raise ScalefitInputError(
            "optimal_tokens takes flops= or loss=, not both: a fixed N and a budget already fix D. "
            "Drop one of them."
        )
    if flops is not None:
        flops = check_positive_scalar(flops, "flops", hint="Give the training compute budget in FLOPs, e.g. 5.76e23.")
    if loss is not None:
        loss = check_positive_scalar(loss, "loss", hint="Give the target loss in nats.")

    def compute(m: _Model, n: float) -> dict[str, float]:
        if loss is not None:
            _check_target(m, loss)
        return _fixed_n(m, n, flops, loss)

    return _plan_each(
        fit, n_params, "n_params", "Give the model size as a raw parameter count, e.g. 70e9.",
        compute, level=level, k=flops_per_param_token, inputs=inputs,
        fixed=("n_params", "flops", "n_tokens", "tokens_per_param") if flops is not None
        else ("n_params", "loss") if loss is not None else ("n_params",),
    )


def inference_optimal(
    fit: FitLike,
    *,
    loss: float,
    inference_tokens: float,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    flops_per_inference_token: float = FLOPS_PER_INFERENCE_TOKEN,
    inputs: Mapping[str, float] | None = None,
) -> InferencePlan:
    """Model size and tokens minimising training plus inference compute at a target loss.

    Following Sardana et al. (2023), "Beyond Chinchilla-Optimal", minimise
    ``k N D + k_inf N D_inf`` subject to ``L(N, D) = loss``, where ``D_inf``
    is the number of tokens processed at inference over the model's life.
    The result is a smaller model trained on more tokens than the
    Chinchilla-optimal plan for the same loss; the saving is reported
    against that plan serving the same ``D_inf`` tokens.

    Parameters
    ----------
    fit : FitResult, BootstrapResult or mapping
        The fitted law.
    loss : float
        Target loss (above the irreducible loss E).
    inference_tokens : float
        Lifetime inference tokens D_inf (>= 0; 0 gives the Chinchilla plan).
    level, flops_per_param_token, inputs
        As in :func:`compute_optimal`.
    flops_per_inference_token : float, default 2
        FLOPs per parameter per inference token (forward pass only).

    Returns
    -------
    InferencePlan

    Raises
    ------
    ScalefitInputError
        If the loss is at or below E, or an argument is out of range.

    Examples
    --------
    >>> from scalefit import inference_optimal
    >>> hoffmann = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    >>> plan = inference_optimal(hoffmann, loss=2.0, inference_tokens=2e12)
    >>> plan.n_params < plan.chinchilla.n_params, plan.saving_fraction > 0
    (True, True)
    """
    level, k = _level(level), _k(flops_per_param_token)
    k_inf = _k(flops_per_inference_token, "flops_per_inference_token")
    loss = check_positive_scalar(loss, "loss", hint="Give the target loss in nats, above the fit's irreducible loss E.")
    d_inf = check_positive_scalar(
        inference_tokens, "inference_tokens", allow_zero=True,
        hint="Give the lifetime inference tokens as a raw count, e.g. 2e12.",
    )
    law, params, samples = _as_law_params(fit)
    extra = _extra_inputs(law, inputs)
    row, intervals = _estimate(
        lambda m: _inference(m, loss, d_inf, k_inf), law, params, samples, extra, k, level, fixed=("loss",)
    )
    chin = _allocation(
        _row(_Model(law, params, extra, k), row["chinchilla_n_params"], row["chinchilla_n_tokens"], loss=loss),
        {}, level, law, k, extra,
    )
    _warn_extrapolation(fit, max(row["training_flops"], chin.flops))
    return InferencePlan(
        n_params=row["n_params"],
        n_tokens=row["n_tokens"],
        loss=loss,
        inference_tokens=d_inf,
        training_flops=row["training_flops"],
        inference_flops=row["inference_flops"],
        total_flops=row["total_flops"],
        chinchilla=chin,
        chinchilla_total_flops=row["chinchilla_total_flops"],
        saving_flops=row["saving_flops"],
        saving_fraction=row["saving_fraction"],
        intervals=dict(intervals),
        level=level if intervals else None,
        law=law.name,
        flops_per_param_token=k,
        flops_per_inference_token=k_inf,
    )


def data_constrained_optimal(
    fit: FitLike | None = None,
    flops: float | Sequence[float] | np.ndarray | None = None,
    *,
    unique_tokens: float,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
) -> Allocation | AllocationTable:
    """Compute-optimal plan when unique data are limited and may be repeated.

    Minimises the data-constrained law of Muennighoff et al. (2023) along
    ``C = k N D``, where repeated tokens and excess parameters are worth
    less than fresh ones.  ``unique_tokens`` is the unique data *available*; a
    plan training on fewer tokens sees only that many (as in the authors'
    allocation code).  Their grid search, in the README of
    github.com/huggingface/datablations, gives 6.8B parameters and 227B tokens
    (9.1 epochs) for 6 x 8.67e9 x 178e9 FLOPs and 25B unique tokens; this
    continuous optimum agrees to 0.1%.

    Parameters
    ----------
    fit : FitResult, BootstrapResult, mapping or None
        A fit of the ``"data-constrained"`` law (or any law with an
        ``unique_tokens`` input).  None uses the published parameters
        :data:`scalefit.laws.MUENNIGHOFF_2023`.
    flops : float or sequence of float
        Compute budget(s) in FLOPs (required).
    unique_tokens : float
        Unique tokens available.
    level, flops_per_param_token
        As in :func:`compute_optimal`.

    Returns
    -------
    Allocation or AllocationTable
        With ``inputs={"unique_tokens": ...}`` and ``epochs``.

    Raises
    ------
    ScalefitInputError
        If ``flops`` is missing or not positive, ``unique_tokens`` is not
        positive, or the fit's law has no ``unique_tokens`` input.

    Examples
    --------
    >>> from scalefit import data_constrained_optimal
    >>> plan = data_constrained_optimal(flops=1e22, unique_tokens=25e9)
    >>> round(plan.n_params / 1e9, 2), round(plan.n_tokens / 1e9), round(plan.epochs, 2)
    (7.03, 237, 9.49)
    """
    if flops is None:
        raise ScalefitInputError(
            "data_constrained_optimal needs flops=, the compute budget in FLOPs, e.g. flops=1e22."
        )
    unique = check_positive_scalar(unique_tokens, "unique_tokens", hint="Give the unique tokens available as a raw count, e.g. 25e9.")
    law = get_law("data-constrained") if fit is None else _as_law_params(fit)[0]
    if "unique_tokens" not in law.inputs:
        raise ScalefitInputError(
            f"data_constrained_optimal needs a law with an unique_tokens input; the fit's law is {law.name!r} "
            f"(inputs {list(law.inputs)}). Fit the 'data-constrained' law, pass its parameters "
            "(E, A, B, alpha, beta, R_D_star, R_N_star), or pass fit=None for Muennighoff et al.'s published values."
        )
    return compute_optimal(
        dict(MUENNIGHOFF_2023) if fit is None else fit,
        flops,
        level=level,
        flops_per_param_token=flops_per_param_token,
        inputs={"unique_tokens": unique},
    )


# ======================================================== time and cost
@functools.lru_cache(maxsize=1)
def _gpu_rows() -> tuple[dict[str, str], ...]:
    text = (resources.files("scalefit.datasets.data") / "gpus.csv").read_text(encoding="utf-8")
    return tuple(dict(r) for r in csv.DictReader(io.StringIO(text)))


def _gpu_key(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch not in " -_")


def gpu_presets():
    """The GPU presets behind ``gpu=``: peak dense BF16/FP16 tensor FLOP/s per GPU, with sources.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``aliases``, ``peak_flops`` (FLOP/s), ``precision``
        and ``source`` (the vendor datasheet).  See ``scalefit/datasets/data/gpus.md``.

    Examples
    --------
    >>> from scalefit.plan import gpu_presets
    >>> gpu_presets().set_index("name").loc["A100-SXM", "peak_flops"]
    np.float64(312000000000000.0)
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(list(_gpu_rows()))
    frame["peak_flops"] = frame["peak_flops"].astype(float)
    return frame


def _gpu(name: Any) -> tuple[str, float]:
    if not isinstance(name, str) or not name.strip():
        raise ScalefitInputError(f"gpu must be a preset name such as 'A100' or 'H100-SXM'; found {name!r}.")
    key = _gpu_key(name)
    for row in _gpu_rows():
        names = [row["name"]] + [a for a in (row.get("aliases") or "").split(";") if a]
        if key in {_gpu_key(n) for n in names}:
            return row["name"], float(row["peak_flops"])
    known = ", ".join(r["name"] for r in _gpu_rows())
    raise ScalefitInputError(
        f"unknown GPU {name!r}; known presets are {known} (aliases such as 'A100' and 'H100' also work). "
        "For other hardware pass flops_per_gpu= (achieved FLOP/s per GPU) instead."
    )


@dataclass(frozen=True)
class TrainingEstimate:
    """Wall-clock time (and cost) of a training run, after Narayanan et al. (2021), eq. 4.

    ``seconds = f * n_tokens * n_params / (n_gpus * flops_per_gpu)`` with
    ``f = 8`` (forward, backward and activation recomputation) or ``f = 6``
    (no recomputation).

    Attributes
    ----------
    n_params, n_tokens : float
        Model size and training tokens.
    n_gpus : int
        Number of GPUs.
    flops_per_gpu : float
        Achieved FLOP/s per GPU (``peak_flops_per_gpu * mfu`` for a preset).
    flops_per_param_token : float
        f above: 8 with recomputation, 6 without.
    flops : float
        FLOPs executed, ``f * n_params * n_tokens``.
    seconds : float
        Wall-clock training time.
    gpu, peak_flops_per_gpu, mfu : str, float, float or None
        The preset used, its peak and the utilisation (None with ``flops_per_gpu``).
    price_per_gpu_hour : float or None
        Price used for :attr:`cost`.
    """

    n_params: float
    n_tokens: float
    n_gpus: int
    flops_per_gpu: float
    flops_per_param_token: float
    flops: float
    seconds: float
    gpu: str | None = None
    peak_flops_per_gpu: float | None = None
    mfu: float | None = None
    price_per_gpu_hour: float | None = None

    @property
    def days(self) -> float:
        """Wall-clock days."""
        return self.seconds / SECONDS_PER_DAY

    @property
    def gpu_hours(self) -> float:
        """GPU-hours, ``n_gpus * seconds / 3600``."""
        return self.n_gpus * self.seconds / 3600.0

    @property
    def gpu_years(self) -> float:
        """GPU-years (365.25-day years)."""
        return self.gpu_hours / (24.0 * DAYS_PER_YEAR)

    @property
    def cost(self) -> float | None:
        """``gpu_hours * price_per_gpu_hour`` (None without a price)."""
        return None if self.price_per_gpu_hour is None else self.gpu_hours * self.price_per_gpu_hour

    def to_dict(self) -> dict[str, Any]:
        out = {
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.flops,
            "days": self.days,
            "gpu_hours": self.gpu_hours,
            "n_gpus": self.n_gpus,
            "flops_per_gpu": self.flops_per_gpu,
            "flops_per_param_token": self.flops_per_param_token,
            "recompute": self.flops_per_param_token == 8.0 if self.mfu is None else None,
        }
        if self.gpu is not None:
            out.update(gpu=self.gpu, peak_flops_per_gpu=self.peak_flops_per_gpu, mfu=self.mfu)
        if self.price_per_gpu_hour is not None:
            out.update(price_per_gpu_hour=self.price_per_gpu_hour, cost=self.cost)
        return out

    def __str__(self) -> str:
        how = "with activation recomputation" if self.flops_per_param_token == 8.0 else "without recomputation"
        per_gpu = f"{self.flops_per_gpu / 1e12:.4g} TFLOP/s achieved"
        title = f"Training time (Narayanan et al. 2021, eq. 4: {self.flops_per_param_token:g}*N*D FLOPs, {how})"
        if self.gpu is not None:
            per_gpu = (f"{self.flops_per_gpu / 1e12:.4g} TFLOP/s of model FLOPs ({self.gpu}: "
                       f"{self.peak_flops_per_gpu / 1e12:.4g} TFLOP/s peak x MFU {self.mfu:g})")
            title = ("Training time (6*N*D model FLOPs at the given MFU, Chowdhery et al. 2022; recomputation is "
                     "extra hardware work that MFU excludes)")
        lines = [
            title,
            f"  parameters   {_human(self.n_params)}",
            f"  tokens       {_human(self.n_tokens)}",
            f"  FLOPs        {self.flops:.3g}",
            f"  GPUs         {self.n_gpus:,} x {per_gpu}",
            f"  time         {self.days:,.1f} days ({self.days / DAYS_PER_YEAR:,.2f} years)",
            f"  GPU-hours    {self.gpu_hours:,.0f} ({self.gpu_years:,.1f} GPU-years)",
        ]
        if self.cost is not None:
            lines.append(f"  cost         ${self.cost:,.0f} at ${self.price_per_gpu_hour:g} per GPU-hour")
        return "\n".join(lines)


def _n_gpus(value: Any) -> int:
    ok = isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not ok or not math.isfinite(float(value)) or float(value) < 1 or float(value) != int(value):
        raise ScalefitInputError(f"n_gpus must be a whole number >= 1; found {value!r}. Give the GPU count, e.g. 1024.")
    return int(value)


def training_time(
    n_params: float,
    n_tokens: float,
    *,
    n_gpus: int,
    flops_per_gpu: float | None = None,
    gpu: str | None = None,
    mfu: float | None = None,
    recompute: bool = True,
) -> TrainingEstimate:
    """Wall-clock training time on a GPU cluster (Narayanan et al. 2021, eq. 4).

    ``time = 8 T P / (n X)`` with activation recomputation (forward, backward
    and a second forward pass) and ``6 T P / (n X)`` without, for ``P``
    parameters, ``T`` tokens, ``n`` GPUs and ``X`` achieved FLOP/s per GPU.

    Parameters
    ----------
    n_params, n_tokens : float
        Model size P and training tokens T (raw counts).
    n_gpus : int
        Number of GPUs n.
    flops_per_gpu : float, optional
        Achieved throughput X per GPU in FLOP/s (e.g. 140e12).  Exclusive with ``gpu``.
    gpu : str, optional
        A preset from :func:`gpu_presets` (peak dense BF16/FP16 FLOP/s); then
        ``X = peak * mfu``.  Unknown names list the known ones.
    mfu : float, optional
        Model FLOPs utilisation in (0, 1], required with ``gpu``.
    recompute : bool, default True
        With ``flops_per_gpu``: count activation recomputation (8 T P) or not
        (6 T P), as Narayanan et al. (2021).  With ``mfu``, it has no effect:
        MFU counts only the model's 6 T P FLOPs, so the time is
        6 T P / (n * peak * mfu) either way.

    Returns
    -------
    TrainingEstimate
        A frozen result; ``.days`` is the answer, with ``.gpu_hours``,
        ``.gpu_years`` and ``.flops`` alongside.

    Raises
    ------
    ScalefitInputError
        If a count is not positive, both or neither of ``flops_per_gpu`` and
        ``gpu`` are given, ``mfu`` is missing or outside (0, 1], or the GPU is unknown.

    Warns
    -----
    UnitsWarning
        When ``flops_per_gpu`` looks like TFLOP/s, or a count looks like billions.

    Examples
    --------
    GPT-3 on 1,024 A100s at 140 TFLOP/s (Narayanan et al. 2021, sec. 5.1):

    >>> from scalefit import training_time
    >>> round(training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140e12).days, 1)
    33.9
    With a preset and MFU (model FLOPs utilisation, 6*N*D against peak, as Chowdhery et al. 2022
    define it), GPT-3 at 45% MFU on 1,024 A100s:

    >>> round(training_time(175e9, 300e9, n_gpus=1024, gpu="A100", mfu=0.45).days, 1)
    25.4
    """
    p = check_positive_scalar(n_params, "n_params", hint="Give the parameter count, e.g. 175e9.")
    t = check_positive_scalar(n_tokens, "n_tokens", hint="Give the training tokens, e.g. 300e9.")
    _warn_small(p, "n_params", "parameter", "175e9")
    _warn_small(t, "n_tokens", "token", "300e9")
    n = _n_gpus(n_gpus)
    if (flops_per_gpu is None) == (gpu is None):
        raise ScalefitInputError(
            "give exactly one of flops_per_gpu= (achieved FLOP/s per GPU, e.g. 140e12) and gpu= (a preset "
            f"name, with mfu=); found {'both' if gpu is not None else 'neither'}."
        )
    name = peak = None
    if gpu is not None:
        name, peak = _gpu(gpu)
        if mfu is None:
            raise ScalefitInputError(
                f"gpu={gpu!r} needs mfu=, the fraction of the {peak / 1e12:g} TFLOP/s peak that training "
                "achieves, in (0, 1]; e.g. mfu=0.4."
            )
        if isinstance(mfu, (bool, np.bool_)) or not isinstance(mfu, (numbers.Real, np.floating)) or not 0 < float(mfu) <= 1:
            raise ScalefitInputError(
                f"mfu must be a fraction in (0, 1] (model FLOPs utilisation); found {mfu!r}. "
                "Write 45% as mfu=0.45."
            )
        mfu = float(mfu)
        x = peak * mfu
    else:
        if mfu is not None:
            raise ScalefitInputError(
                "mfu= applies to a gpu= preset's peak; flops_per_gpu= is already the achieved throughput. "
                "Drop mfu, or pass gpu= with mfu= instead."
            )
        x = check_positive_scalar(flops_per_gpu, "flops_per_gpu", hint="Give achieved FLOP/s per GPU, e.g. 140e12.")
        if x < 1e9:
            warnings.warn(
                f"flops_per_gpu={x:g} is tiny for FLOP/s; it looks like TFLOP/s. Give FLOP/s, e.g. {x:g}e12.",
                UnitsWarning,
                stacklevel=_stacklevel(),
            )
    # Narayanan et al. (2021) eq. 4 divides the hardware's work, 8*T*P with recomputation (6*T*P
    # without), by the *achieved* throughput X.  MFU (Chowdhery et al. 2022) instead counts only the
    # model's 6*T*P FLOPs against peak, recomputation excluded, so with mfu= the time is
    # 6*T*P / (n * peak * mfu) whether or not activations are recomputed.
    f = 6.0 if (mfu is not None or not recompute) else 8.0
    flops = f * p * t
    return TrainingEstimate(
        n_params=p, n_tokens=t, n_gpus=n, flops_per_gpu=x, flops_per_param_token=f, flops=flops,
        seconds=flops / (n * x), gpu=name, peak_flops_per_gpu=peak, mfu=mfu,
    )


def training_cost(
    n_params: float,
    n_tokens: float,
    *,
    n_gpus: int,
    price_per_gpu_hour: float,
    flops_per_gpu: float | None = None,
    gpu: str | None = None,
    mfu: float | None = None,
    recompute: bool = True,
) -> TrainingEstimate:
    """GPU-hours and money for a training run: :func:`training_time` times a price.

    ``cost = gpu_hours * price_per_gpu_hour`` with
    ``gpu_hours = f T P / X / 3600`` (independent of ``n_gpus`` under the
    perfect-scaling assumption of eq. 4; ``n_gpus`` sets the wall-clock days).

    Parameters
    ----------
    n_params, n_tokens, n_gpus, flops_per_gpu, gpu, mfu, recompute
        As in :func:`training_time`.
    price_per_gpu_hour : float
        Price of one GPU-hour (any currency).

    Returns
    -------
    TrainingEstimate
        With ``.cost``, ``.gpu_hours``, ``.gpu_years`` and ``.days``.

    Raises
    ------
    ScalefitInputError
        As :func:`training_time`, and if the price is not a finite number > 0.

    Examples
    --------
    GPT-3's 3.14e23 FLOPs (6 N D) on V100s at 28 TFLOP/s and $1.50 per GPU-hour:

    >>> from scalefit import training_cost
    >>> est = training_cost(175e9, 300e9, n_gpus=1, flops_per_gpu=28e12, recompute=False, price_per_gpu_hour=1.5)
    >>> round(est.gpu_years), round(est.cost / 1e6, 2)
    (356, 4.69)
    """
    price = check_positive_scalar(price_per_gpu_hour, "price_per_gpu_hour", hint="Give the price of one GPU-hour, e.g. 2.0.")
    est = training_time(
        n_params, n_tokens, n_gpus=n_gpus, flops_per_gpu=flops_per_gpu, gpu=gpu, mfu=mfu, recompute=recompute
    )
    return TrainingEstimate(**{**est.__dict__, "price_per_gpu_hour": price})
