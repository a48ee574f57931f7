"""The fitting problem and the solution every engine returns.

A :class:`Problem` holds everything an engine needs: the law, how its
parameters map to the optimiser's free variables (:class:`Spec`: bounds, ties,
fixed values), the prepared inputs, the observed losses, the weights and the
objective's options.  Every engine (:mod:`._chinchilla`, :mod:`._generic`)
returns a typed :class:`Solution`, which the result and the bootstrap read by
name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._errors import Option, ScalefitInputError
from ..laws import Law


# ================================================================ objectives
#: Multiplier on over-predictions in ``loss="huber-asymmetric"``: the value OLMo's ladder fitter
#: suggests for fitting the lower bound of the achievable loss (allenai/OLMo-core,
#: src/olmo_core/model_ladder/analysis/scaling_laws.py @ 11d0555, ``overestimate_penalty``).
OVERESTIMATE_PENALTY = 10.0
#: Objectives the Chinchilla engine's own ``_rho`` computes; others go through the generic engine.
CHINCHILLA_ENGINE_LOSSES = ("huber", "mse")


def asymmetry(kind: str) -> float:
    """Over-prediction multiplier of a loss name: ``"huber-asymmetric[:K]"`` gives K (default 10), others 1."""
    if not kind.startswith("huber-asymmetric"):
        return 1.0
    _, _, k = kind.partition(":")
    return float(k) if k else OVERESTIMATE_PENALTY


def rho(r: np.ndarray, kind: str, delta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss per residual, its first and its second derivative: the one definition of every objective.

    ``"huber"``: ``r**2/2`` inside ``+-delta``, ``delta*|r| - delta**2/2`` outside (Hoffmann et al. 2022).
    ``"mse"``: ``r**2/2``.  ``"huber-asymmetric"`` (or ``"huber-asymmetric:K"``): the Huber loss
    multiplied by K (default :data:`OVERESTIMATE_PENALTY`) where the law over-predicts (``r > 0``,
    as residuals are predicted minus observed), as OLMo's ladder fitter does (allenai/OLMo-core,
    src/olmo_core/model_ladder/analysis/scaling_laws.py @ 11d0555: ``_huber_loss(..., asymmetry)``
    weights the residuals ``log L - log L_hat < 0``).
    """
    if kind == "mse":
        return 0.5 * r * r, r, np.ones_like(r)
    d1 = np.minimum(np.maximum(r, -delta), delta)
    val = d1 * (r - 0.5 * d1)
    d2 = (np.abs(r) <= delta).astype(float)
    k = asymmetry(kind)
    if k != 1.0:
        scale = np.where(r > 0, k, 1.0)
        val, d1, d2 = val * scale, d1 * scale, d2 * scale
    return val, d1, d2


def loss_label(kind: str, delta: float) -> str:
    """How summaries name an objective's ``rho`` (the likelihood fit is named by its result)."""
    if kind == "mse":
        return "r^2/2"
    if kind.startswith("huber-asymmetric"):
        return (f"asymmetric Huber(delta={delta}), over-predictions x{asymmetry(kind):g} "
                "(OLMo ladder's overestimate_penalty)")
    return f"Huber(delta={delta})"


# ====================================================================== spec
@dataclass(frozen=True)
class Spec:
    """How law parameters map to the optimiser's free variables."""

    law: Law
    names: tuple  # law parameter names
    log: np.ndarray  # (p,) bool
    T: np.ndarray  # (p, m) law-internal = T z + c
    c: np.ndarray  # (p,)
    lower: np.ndarray  # (m,) bounds on z
    upper: np.ndarray
    groups: tuple  # tuple of tuples of names per free variable
    fixed: dict  # name -> natural value
    bounds: dict  # name -> (lo, hi) natural, effective

    @property
    def n_free(self) -> int:
        return self.T.shape[1]

    def internal(self, z: np.ndarray) -> np.ndarray:
        return z @ self.T.T + self.c

    def natural(self, internal: np.ndarray) -> dict:
        vals = np.where(self.log, np.exp(internal), internal)
        return {n: float(v) for n, v in zip(self.names, vals)}


def build_spec(law: Law, fixed: Mapping[str, float] | None, tie: Any, bounds: Mapping[str, Any] | None) -> Spec:
    names = law.param_names
    fixed = dict(fixed or {})
    bounds = dict(bounds or {})
    for n in list(fixed) + list(bounds):
        if n not in names:
            raise ScalefitInputError(
                f"unknown parameter {n!r} for law {law.name!r}; its parameters are {list(names)}."
            )
    eff: dict[str, tuple[float, float]] = {}
    for p in law.params:
        lo, hi = p.min, p.max
        if p.name in bounds:
            b = bounds[p.name]
            try:
                lo, hi = (float(b[0]) if b[0] is not None else -math.inf), (float(b[1]) if b[1] is not None else math.inf)
            except (TypeError, IndexError, ValueError):
                raise ScalefitInputError(
                    f"bounds[{p.name!r}] must be a pair (lower, upper); got {b!r}."
                ) from None
            if not lo < hi:
                raise ScalefitInputError(
                    f"bounds[{p.name!r}] = ({lo!r}, {hi!r}): each lower bound must be strictly less than "
                    "each upper bound. Swap or widen them."
                )
            if p.log and lo < 0:
                raise ScalefitInputError(
                    f"bounds[{p.name!r}] lower bound {lo!r} is negative, but {p.name} is a positive scale "
                    "parameter fitted in log space; use a lower bound >= 0."
                )
        eff[p.name] = (lo, hi)
    for n, v in fixed.items():
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ScalefitInputError(f"fixed[{n!r}] must be a number; got {v!r}.") from None
        lo, hi = eff[n]
        p = law.param(n)
        if not math.isfinite(v) or (p.log and v <= 0):
            raise ScalefitInputError(
                f"fixed[{n!r}] = {v!r} is not allowed: {n} must be finite" + (" and positive." if p.log else ".")
            )
        if not lo <= v <= hi:
            raise ScalefitInputError(f"fixed[{n!r}] = {v!r} lies outside its bounds [{lo}, {hi}].")
        fixed[n] = v
    # ties
    groups: list[list[str]] = []
    tie_list = normalise_tie(tie)
    for grp in tie_list:
        for n in grp:
            if n not in names:
                raise ScalefitInputError(
                    f"tie names unknown parameter {n!r} for law {law.name!r}; its parameters are {list(names)}."
                )
            if n in fixed:
                raise ScalefitInputError(f"parameter {n!r} is both fixed and tied; fix all of its group or none.")
        logs = {law.param(n).log for n in grp}
        if len(logs) > 1:
            raise ScalefitInputError(
                f"cannot tie {list(grp)}: some are positive scale parameters fitted in log space and "
                "some are not; tie parameters of the same kind (e.g. alpha and beta, or A and B)."
            )
        # merge overlapping groups
        merged = [g for g in groups if set(g) & set(grp)]
        new = sorted(set(grp).union(*[set(g) for g in merged]), key=names.index)
        groups = [g for g in groups if g not in merged] + [new]
    grouped = {n for g in groups for n in g}
    free_groups: list[tuple[str, ...]] = []
    for n in names:
        if n in fixed:
            continue
        if n in grouped:
            g = next(g for g in groups if n in g)
            if g[0] == n:
                free_groups.append(tuple(g))
        else:
            free_groups.append((n,))
    p_, m_ = len(names), len(free_groups)
    T = np.zeros((p_, m_))
    c = np.zeros(p_)
    log = np.array([law.param(n).log for n in names])
    lower = np.full(m_, -math.inf)
    upper = np.full(m_, math.inf)
    for j, members in enumerate(free_groups):
        for n in members:
            T[names.index(n), j] = 1.0
            prm = law.param(n)
            lo, hi = eff[n]
            ilo = (math.log(lo) if lo > 0 else -math.inf) if prm.log else lo
            ihi = (math.log(hi) if math.isfinite(hi) else math.inf) if prm.log else hi
            lower[j] = max(lower[j], ilo)
            upper[j] = min(upper[j], ihi)
        if not lower[j] < upper[j]:
            raise ScalefitInputError(f"tied parameters {list(members)} have bounds with an empty intersection.")
    for n, v in fixed.items():
        c[names.index(n)] = math.log(v) if law.param(n).log else v
    return Spec(law, names, log, T, c, lower, upper, tuple(free_groups), fixed, eff)


def normalise_tie(tie: Any) -> list[tuple[str, ...]]:
    if tie is None:
        return []
    if isinstance(tie, str):
        tie = [tie]
    out = []
    for item in tie:
        if isinstance(item, str):
            parts = [s.strip() for s in item.replace("==", "=").split("=") if s.strip()]
        else:
            parts = [str(s) for s in item]
        if len(parts) < 2:
            raise ScalefitInputError(
                f"tie item {item!r} names fewer than two parameters; write tie=[('alpha', 'beta')]."
            )
        out.append(tuple(parts))
    return out


# =================================================================== problem
@dataclass(frozen=True, eq=False)
class Problem:
    """One fitting problem: minimise ``sum(weights * rho(residual))`` over the free parameters.

    Attributes
    ----------
    law : Law
    spec : Spec
        Parameter map: bounds, ties and fixed values.
    inputs : dict
        The law's inputs per run (``{"n_params": array, ...}``), validated.
    observed : numpy.ndarray
        Observed loss per run.
    weights : numpy.ndarray
        Non-negative weight per run.
    loss : {"huber", "mse", "huber-asymmetric"}
        The name :func:`rho` reads (``"huber-asymmetric:K"`` for another multiplier).
    delta : float
        Huber threshold.
    space : {"log", "linear"}
    """

    law: Law
    spec: Spec
    inputs: dict
    observed: np.ndarray
    weights: np.ndarray
    loss: str
    delta: float
    space: str

    def with_weights(self, weights: np.ndarray) -> "Problem":
        """The same problem with other weights (a bootstrap resample)."""
        return replace(self, weights=weights)

    def residuals(self, params: Mapping[str, float]) -> np.ndarray:
        """Residuals of the law at ``params``, in the fitted space."""
        pred = self.law(params, **self.inputs)
        if self.space == "log":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.log(pred) - np.log(self.observed)
        return pred - self.observed


@dataclass(frozen=True, eq=False)
class Solution:
    """What every engine returns.

    Attributes
    ----------
    z : numpy.ndarray
        Best free variables (the optimiser's coordinates, see :class:`Spec`).
    objective : float
    grad_norm : float
        Norm of the projected gradient at ``z`` (``nan`` when not computed).
    converged : bool
    n_starts : int
        Local optimisations run.
    n_minima : int
        Distinct local minima reached.
    second_best : float
        Best objective among the other minima (``nan`` if none).
    hessian : numpy.ndarray or None
        Hessian of the objective in ``z`` (None when derivatives were not asked for).
    jacobian : numpy.ndarray or None
        Jacobian of the residuals in ``z``, shape (runs, free parameters).
    minima : numpy.ndarray or None
        Distinct minima in the engine's own coordinates, best first (the
        Chinchilla engine's warm starts for the bootstrap); None otherwise.
    """

    z: np.ndarray
    objective: float
    grad_norm: float
    converged: bool
    n_starts: int
    n_minima: int
    second_best: float
    hessian: np.ndarray | None = None
    jacobian: np.ndarray | None = None
    minima: np.ndarray | None = None


# ============================================================ prepared data
def law_inputs(law: Law, runs: Any) -> dict:
    """The law's inputs as float arrays, one value per run; refuses non-finite or non-positive values."""
    out = {}
    table = runs.table
    for k in law.inputs:
        if k not in table.columns:
            hint = f"columns={{'your column': {k!r}}}"
            raise ScalefitInputError(
                f"law {law.name!r} needs column {k!r}, which the runs do not have; available columns are "
                f"{list(table.columns)}. Map it with read_runs(..., {hint}).",
                column=k, options=[Option("columns", value=repr({"your column": k}), text=f"read_runs(..., {hint})")],
            )
        v = pd.to_numeric(table[k], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            rows = table["row"].to_numpy()[bad] if "row" in table.columns else np.flatnonzero(bad)
            raise ScalefitInputError(
                f"column {k!r} has {int(bad.sum())} non-finite or non-positive value(s) at rows "
                f"{[int(r) for r in rows[:10]]}; fix them or exclude those rows.",
                column=k, rows=rows,
            )
        out[k] = v
    return out


def run_weights(weights: Any, runs: Any) -> np.ndarray:
    """One non-negative weight per run (ones when ``weights`` is None; a column name or an array otherwise)."""
    n = len(runs)
    if weights is None:
        return np.ones(n)
    if isinstance(weights, str):
        if weights not in runs.table.columns:
            raise ScalefitInputError(
                f"weights column {weights!r} not found; available columns are {list(runs.table.columns)}.",
                option="weights",
            )
        w = pd.to_numeric(runs.table[weights], errors="coerce").to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ScalefitInputError(f"weights must have one value per run ({n}); got shape {w.shape}.", option="weights")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ScalefitInputError(
            f"weights must be finite and non-negative; {int(bad.sum())} bad value(s) at positions "
            f"{np.flatnonzero(bad)[:10].tolist()}.", column=weights if isinstance(weights, str) else None,
            rows=np.flatnonzero(bad), option="weights",
        )
    if not np.any(w > 0):
        raise ScalefitInputError("weights are all zero; at least one run must carry weight.", option="weights")
    return w
