"""Compute allocation: model size and tokens for a budget, a loss or a fixed model size.

Every planner takes as ``fit`` a FitResult, a BootstrapResult (intervals on
every estimated number) or a plain mapping of parameters; see
:mod:`scalefit.plan` for which law a mapping means.

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

Time and cost of a run are in :mod:`scalefit.plan.hardware`; the solver behind
every number here is :mod:`scalefit.plan._frontier`.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

from .._errors import ExtrapolationWarning, ScalefitInputError, ScalefitWarning, warn
from .._intervals import percentile_interval
from .._validation import check_positive_scalar
from ..laws import MUENNIGHOFF_2023, Law, get_law
from ._frontier import (
    _budget,
    _check_target,
    _fixed_n,
    _inference,
    _Model,
    _optimum,
    DrawPlans,
    _optimum_draws,
    _row,
)
from ._inputs import (
    _as_law_params,
    _budgets,
    _extra_inputs,
    _k,
    _level,
    _warn_extrapolation,
    carried_warnings,
    check_params,
    _run_ratio_range,
    extrapolation_note,
    ratio_note,
)
from ._results import FLOPS_PER_INFERENCE_TOKEN, FLOPS_PER_PARAM_TOKEN, Allocation, AllocationTable, InferencePlan
from ._shape import Shape, shape as _propose_shape

#: Plans for fewer parameters than this leave the range the published laws were fitted on.
MIN_PLAN_PARAMS = 1e6

__all__ = [
    "compute_optimal",
    "budget_for_loss",
    "optimal_tokens",
    "inference_optimal",
    "data_constrained_optimal",
]

#: A fit-like object: FitResult, BootstrapResult or a mapping of parameters.
FitLike = Union[Mapping[str, float], Any]


# ------------------------------------------------------------- uncertainty
def _usable_samples(law: Law, samples: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
    """The bootstrap samples that pass :func:`check_params` (the others are counted as skipped)."""
    usable = []
    for s in samples:
        try:
            usable.append(check_params(law, s, "bootstrap sample"))
        except ScalefitInputError:
            continue
    return usable


def _estimate(
    compute: Callable[[_Model], dict[str, float]],
    law: Law,
    params: Mapping[str, float],
    samples: list[dict[str, Any]] | None,
    inputs: Mapping[str, float],
    k: float,
    level: float,
    fixed: Sequence[str] = (),
    compute_draws: Callable[[list[dict[str, float]]], DrawPlans] | None = None,
    checked: list[dict[str, float]] | None = None,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Point result and percentile intervals over the bootstrap samples.

    Keys in ``fixed`` (the numbers the caller chose) get no interval; every
    other key does.  Samples that give no plan are left out, with a warning.
    ``compute_draws``, when given, does ``compute`` for all samples in one
    vectorised call (:data:`DrawPlans`: each key's values over the samples
    that gave a plan, and the errors of the others).  ``checked``, when
    given, is :func:`_usable_samples` of ``samples`` (a caller planning many
    budgets checks them once).
    """
    point = compute(_Model(law, params, inputs, k))
    if not samples:
        return point, {}
    usable = _usable_samples(law, samples) if checked is None else checked
    skipped = len(samples) - len(usable)
    if compute_draws is not None and usable:
        columns, errors = compute_draws(usable)
        failures = [str(e) for e in errors]
    else:
        rows: list[dict[str, float]] = []
        failures = []
        for ps in usable:
            try:
                rows.append(compute(_Model(law, ps, inputs, k)))
            except ScalefitInputError as exc:
                failures.append(str(exc))
        columns = {key: np.array([r[key] for r in rows], dtype=float) for key in point}
    n = len(samples)
    if skipped or failures:
        first = f" The first said: {failures[0]}" if failures else ""
        warn(
            f"{skipped + len(failures)} of {n} bootstrap samples give no plan: {skipped} with missing or "
            f"non-finite parameters (left out) and {len(failures)} that cannot reach it (counted as unbounded "
            f"compute, so intervals may be open-ended).{first}",
            ScalefitWarning,
        )
    planned = len(columns[next(iter(point))]) if point else 0
    if planned < 2:
        warn(f"only {planned} usable bootstrap sample(s) of {n}; no intervals reported.", ScalefitWarning)
        return point, {}
    intervals = {}
    for key in point:
        if key in fixed:
            continue
        values = columns[key]
        if failures and key != "tokens_per_param":
            # a draw that gives no plan needs unbounded compute (the target is out of its reach):
            # count it as +inf rather than drop it, so an interval never looks narrower than it is
            values = np.concatenate([values, np.full(len(failures), np.inf)])
        intervals[key] = percentile_interval(values, level, keep_infinite=True, estimate=point[key], what=key)
    return point, intervals


# ================================================================= driver
def _allocation(row: Mapping[str, float], intervals: Mapping[str, Any], level: float, m_law: Law, k: float,
                inputs: Mapping[str, float], warnings: Sequence[str] = ()) -> Allocation:
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
        warnings=tuple(warnings),
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
    vectorised: Callable[..., DrawPlans] | None = None,
    force: bool = False,
) -> "Allocation | AllocationTable":
    """Shared driver: normalise fit and inputs, loop over values, attach intervals.

    ``vectorised(law, draws, *, inputs, k, flops)``, when given, computes all
    bootstrap draws at once (see :func:`_estimate`).
    """
    level, k = _level(level), _k(k)
    arr, scalar = _budgets(values, name, hint)
    law, params, samples = _as_law_params(fit)
    carried = carried_warnings(fit, force=force)
    extra = _extra_inputs(law, inputs)
    checked = _usable_samples(law, samples) if samples else None  # once, not once per budget
    out = []
    for v in arr:

        def at_value(m: _Model, v: float = float(v)) -> dict[str, float]:
            try:
                return compute(m, v)
            except OverflowError:  # e.g. n_params=1e300: the plan leaves the float range
                raise ScalefitInputError(
                    f"{name}={v:g}: the plan for this value overflows the float range (beyond ~1.8e308); "
                    f"give a value within the law's reach. {hint}", option=name, values=[v],
                ) from None

        all_draws = None if vectorised is None else functools.partial(vectorised, law, inputs=extra, k=k, flops=float(v))
        row, intervals = _estimate(at_value, law, params, samples, extra, k, level, fixed, all_draws, checked)
        out.append(_allocation(row, intervals, level, law, k, extra))
    _warn_extrapolation(fit, max(a.flops for a in out), min(a.flops for a in out))
    span = _run_ratio_range(fit)  # once, not once per budget
    shape_notes = [ratio_note(fit, a.tokens_per_param, span) if span else None for a in out]
    out = [replace(a, warnings=carried + tuple(n for n in [extrapolation_note(fit, a.flops), shape] if n))
           for a, shape in zip(out, shape_notes)]
    shapes = sorted({n for n in shape_notes if n})
    if shapes:
        warn(shapes[0] + (f" ({len(shapes)} budgets)" if len(shapes) > 1 else ""), ExtrapolationWarning)
    return out[0] if scalar else AllocationTable(tuple(out))


# =============================================================== planners
def compute_optimal(
    fit: FitLike,
    flops: float | Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    inputs: Mapping[str, float] | None = None,
    shape: "Shape | Mapping[str, Any] | None" = None,
    force: bool = False,
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
    shape : Shape or mapping, optional
        Re-solve each plan for a real architecture, so that the budget holds
        with exact FLOPs per token (:attr:`Shape.flops_per_token`) instead of
        ``k N``: a :class:`Shape` is used for every budget; a mapping holds
        the options of :func:`scalefit.shape` (``vocab_size``, ``context``,
        ``family``, ...) and the best shape near each N* is taken.  Then
        ``n_params`` is the shape's exact count, ``n_tokens = flops /
        flops_per_token``, the loss is the law's at those, ``shape`` holds the
        architecture, ``unshaped`` the plan under ``C = k N D`` (with its
        intervals), and ``six_nd_gap`` says how far ``6 N D`` falls short of the budget.

    force : bool, default False
        Plan even from a fit with a fatal diagnostic (e.g. loss rising with N),
        which is otherwise refused with :class:`scalefit.PlanRefusedError`.  The
        fit's other warnings travel into the plan (``plan.warnings``).

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
    PlanRefusedError
        If the fit carries a fatal diagnostic and ``force`` is False.

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
    plan = _plan_each(
        fit, flops, "flops", "Give the training compute budget in FLOPs, e.g. 5.76e23.",
        _optimum, level=level, k=flops_per_param_token, inputs=inputs, fixed=("flops",), vectorised=_optimum_draws,
        force=force,
    )
    if shape is None:
        return plan
    if not isinstance(shape, (Shape, Mapping)):
        raise ScalefitInputError(
            f"shape must be a scalefit.Shape or a mapping of scalefit.shape options such as "
            f"{{'family': 'llama', 'vocab_size': 128256, 'context': 8192}}; found {type(shape).__name__}.",
            option="shape",
        )
    law, params, _ = _as_law_params(fit)
    rows = [_shaped(a, shape, law, params) for a in (plan if isinstance(plan, AllocationTable) else [plan])]
    return AllocationTable(tuple(rows)) if isinstance(plan, AllocationTable) else rows[0]


def _shaped(plan: Allocation, spec: "Shape | Mapping[str, Any]", law: Law, params: Mapping[str, float]) -> Allocation:
    """The plan re-solved for a real shape: exact parameters, tokens from exact FLOPs per token, the law's loss."""
    chosen = spec if isinstance(spec, Shape) else _propose_shape(plan.n_params, **dict(spec)).best
    n = float(chosen.n_params)
    d = plan.flops / chosen.flops_per_token
    model = _Model(law, params, plan.inputs, plan.flops_per_param_token)
    loss = float(np.asarray(model.loss(np.array([n]), np.array([d])))[0])
    return Allocation(
        n_params=n, n_tokens=d, flops=plan.flops, loss=loss, tokens_per_param=d / n, intervals={}, level=None,
        law=plan.law, inputs=dict(plan.inputs), flops_per_param_token=plan.flops_per_param_token,
        shape=chosen, unshaped=plan,
    )


def budget_for_loss(
    fit: FitLike,
    loss: float | Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    inputs: Mapping[str, float] | None = None,
    force: bool = False,
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

    force : bool, default False
        Plan even from a fit with a fatal diagnostic (e.g. loss rising with N),
        which is otherwise refused with :class:`scalefit.PlanRefusedError`.  The
        fit's other warnings travel into the plan (``plan.warnings``).

    Returns
    -------
    Allocation or AllocationTable
        ``flops`` is the budget; ``n_params`` and ``n_tokens`` its optimal split.

    Raises
    ------
    ScalefitInputError
        If the target is at or below the irreducible loss E (no finite compute
        reaches it), or is not reached by any budget up to 1e60 FLOPs.
    PlanRefusedError
        If the fit carries a fatal diagnostic and ``force`` is False.

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
        _budget, level=level, k=flops_per_param_token, inputs=inputs, fixed=("loss",), force=force,
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
    force: bool = False,
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
      This is Table A3 of Hoffmann et al. (2022) (Table 3 with the parametric fit) read by parameters.

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

    force : bool, default False
        Plan even from a fit with a fatal diagnostic (e.g. loss rising with N),
        which is otherwise refused with :class:`scalefit.PlanRefusedError`.  The
        fit's other warnings travel into the plan (``plan.warnings``).

    Returns
    -------
    Allocation or AllocationTable

    Raises
    ------
    ScalefitInputError
        If both ``flops`` and ``loss`` are given, a value is not a finite
        number > 0, or the loss is unreachable at this N.
    PlanRefusedError
        If the fit carries a fatal diagnostic and ``force`` is False.

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
        else ("n_params", "loss") if loss is not None else ("n_params",), force=force,
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
    force: bool = False,
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
    force : bool, default False
        Plan even from a fit that carries a fatal diagnostic, as in
        :func:`compute_optimal`.  The fit's warnings travel with the plan's
        Chinchilla-optimal reference (``plan.chinchilla.warnings``) and are
        warned as :class:`scalefit.FitCarriedWarning`.

    Returns
    -------
    InferencePlan

    Raises
    ------
    ScalefitInputError
        If the loss is at or below E, or an argument is out of range.
    PlanRefusedError
        If the fit carries a fatal diagnostic and ``force`` is False.

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
    carried = carried_warnings(fit, force=force)
    extra = _extra_inputs(law, inputs)
    row, intervals = _estimate(
        lambda m: _inference(m, loss, d_inf, k_inf), law, params, samples, extra, k, level, fixed=("loss",)
    )
    chin = _allocation(
        _row(_Model(law, params, extra, k), row["chinchilla_n_params"], row["chinchilla_n_tokens"], loss=loss),
        {}, level, law, k, extra, warnings=carried,
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
    force: bool = False,
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
    level, flops_per_param_token, force
        As in :func:`compute_optimal` (``force`` plans even from a fit with a
        fatal diagnostic; its warnings travel in ``plan.warnings``).

    Returns
    -------
    Allocation or AllocationTable
        With ``inputs={"unique_tokens": ...}`` and ``epochs``.

    Raises
    ------
    ScalefitInputError
        If ``flops`` is missing or not positive, ``unique_tokens`` is not
        positive, or the fit's law has no ``unique_tokens`` input.
    PlanRefusedError
        If the fit carries a fatal diagnostic and ``force`` is False.

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
    plan = compute_optimal(
        dict(MUENNIGHOFF_2023) if fit is None else fit,
        flops,
        level=level,
        flops_per_param_token=flops_per_param_token,
        inputs={"unique_tokens": unique},
        force=force,
    )
    small = [a for a in (plan if isinstance(plan, AllocationTable) else [plan]) if a.n_params < MIN_PLAN_PARAMS]
    if small:  # e.g. 1 unique token: "12 parameters, 1.4e20 epochs, loss 1334 nats" is no plan
        a = small[0]
        warn(
            f"data_constrained_optimal: with unique_tokens={unique:g} the plan for flops={a.flops:g} has "
            f"{a.n_params:.3g} parameters and {a.n_tokens / unique:.3g} epochs (loss {a.loss:.4g}), far outside "
            f"the range the law was fitted on (models of {MIN_PLAN_PARAMS:.0e} parameters and more); do not use it. "
            "Check unique_tokens (a raw token count, e.g. 25e9).",
            ExtrapolationWarning,
        )
    return plan
