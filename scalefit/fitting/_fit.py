"""The fit() function: validate the options, build the problem, run an engine, assemble the result.

:func:`fit` minimises the sum over runs of ``weight * rho(residual)``, where the
residual is ``log L_hat - log L`` (``space="log"``, the default, as Hoffmann et
al. 2022) or ``L_hat - L`` (``space="linear"``) and ``rho`` is the Huber loss
with threshold ``delta`` (``loss="huber"``) or ``r**2 / 2`` (``loss="mse"``).
``loss="huber-likelihood"`` instead maximises the Huber-shaped likelihood of
Besiroglu et al. (2024) with a fitted scale (:mod:`._likelihood`).

The Chinchilla forms use a dedicated engine (:mod:`._chinchilla`):
variable-projection seeding over (alpha, beta) followed by a batched exact
Newton polish.  Other laws, including user-defined ones, and objectives that
engine does not compute (``"huber-asymmetric"``) go through the generic
engine (:mod:`._generic`): variable projection over the parameters the law is
linear in, and a batched Newton polish of the best seeds.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np

from .._errors import (
    BoundWarning,
    ConvergenceWarning,
    CurvesWarning,
    FitError,
    IdentifiabilityWarning,
    Option,
    ScalefitInputError,
    warn,
)
from .._validation import check_integer, check_loss, check_seed
from ..laws import Law, chinchilla_values, get_law, is_chinchilla
from ..runs import as_runs
from . import _chinchilla, _generic, _likelihood
from ._problem import CHINCHILLA_ENGINE_LOSSES, Problem, Solution, Spec, build_spec, law_inputs, run_weights
from ._result import Diagnostics, FitResult, asymptotic_stderr, diagnostics

_LOSSES = ("huber", "mse", "huber-likelihood", "huber-asymmetric")
_SPACES = ("log", "linear")


def fit(
    runs: Any,
    law: str | Law = "chinchilla",
    *,
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    fixed: Mapping[str, float] | None = None,
    tie: Sequence[Sequence[str]] | str | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    weights: Any = None,
    seed: int = 0,
    strict: bool = False,
    max_starts: int = 64,
    auto_by: str = "flops",
    group_by: str | Sequence[str] | None = None,
    shared: Sequence[str] | str | None = None,
) -> Any:
    """Fit a scaling law to runs.

    Parameters
    ----------
    runs : Runs, pandas.DataFrame, path or list of dicts
        The runs; anything :func:`scalefit.read_runs` accepts.  Training
        curves are fitted on every checkpoint given; call ``runs.final()``
        first to fit final losses only.
    law : str or Law, default "chinchilla"
        A built-in law name (see :func:`scalefit.available_laws`), a
        :class:`scalefit.Law`, or ``"auto"``: choose the law and the objective
        (``loss``, ``space``) by a backtest on these runs' own largest scales
        (:mod:`scalefit.fitting._auto`); ``result.options["auto"]`` says what was
        chosen, why, and the runner-up.
    loss : {"huber", "mse", "huber-likelihood", "huber-asymmetric"}
        ``rho`` in the objective ``sum(weight * rho(residual))``; Huber as in
        Hoffmann et al. (2022), or ``r**2/2``.  ``"huber-asymmetric"``
        multiplies the Huber loss of over-predictions by 10 (``"huber-asymmetric:K"``
        by K), as OLMo's ladder fitter does to fit the lower bound of the loss.  ``"huber-likelihood"``
        maximises the Huber-shaped likelihood of Besiroglu et al. (2024) with a
        fitted scale ``s`` (kept in ``result.options["scale"]``); the objective
        is then the negative log-likelihood.
    delta : float, default 1e-3
        Huber threshold, in units of the residual (for ``"huber-likelihood"``,
        in units of the fitted scale, as in Besiroglu et al.).
    space : {"log", "linear"}
        Residual ``log L_hat - log L`` (default) or ``L_hat - L``.
    fixed : dict, optional
        Parameters held at given natural-scale values, e.g. ``{"E": 1.69}``.
    tie : list of pairs, optional
        Parameters constrained equal, e.g. ``[("alpha", "beta")]``.
    bounds : dict, optional
        ``{name: (lower, upper)}`` on the natural scale; overrides the law's.
    weights : array-like or str, optional
        Non-negative weight per run, or the name of a column holding them.
    seed : int
        Seed for any random subsampling of starts (generic laws).
    strict : bool
        Raise :class:`scalefit.FitError` (carrying the partial result) when
        the fit does not converge, instead of warning.
    max_starts : int
        Cap on multi-start count for laws without a dedicated engine.
    auto_by : str, default "flops"
        With ``law="auto"``: the scale the choice backtests along
        (``"flops"``, ``"n_params"`` or a column).
    group_by : str or list of str, optional
        Fit several groups of runs (datasets, architectures, recipes: the
        distinct values of these columns) at once, with the parameters named
        in ``shared`` common to every group and the others fitted per group
        (:mod:`scalefit.fitting._groups`).  Returns a :class:`GroupFitResult`.
    shared : str or list of str, optional
        With ``group_by``: the parameters all groups share; by default the
        law's exponents (its parameters not fitted in log space: alpha and
        beta for Chinchilla).

    Returns
    -------
    FitResult
        Or a :class:`GroupFitResult` with ``group_by``.

    Raises
    ------
    ScalefitInputError
        Bad options or too few runs for the number of free parameters.
    FitError
        With ``strict=True`` when the optimiser does not converge.

    Warns
    -----
    ConvergenceWarning
        When the optimiser does not converge (``success=False``).

    Examples
    --------
    >>> import scalefit
    >>> runs = scalefit.datasets.load_synthetic()          # doctest: +SKIP
    >>> result = scalefit.fit(runs, "chinchilla")          # doctest: +SKIP
    >>> result.params["alpha"]                             # doctest: +SKIP
    """
    runs = as_runs(runs)
    if group_by is not None or shared is not None:
        if group_by is None:
            raise ScalefitInputError("shared= names parameters common to groups of runs; give the column(s) "
                                     "that define the groups with group_by=, e.g. group_by='dataset'.",
                                     option="shared", options=[Option("group_by", text="group_by='dataset'")])
        if isinstance(law, str) and law.strip().lower() == "auto":
            raise ScalefitInputError("law='auto' cannot be combined with group_by; name the law to fit per group.",
                                     option="law")
        if tie is not None:
            raise ScalefitInputError("tie cannot be combined with group_by; tie the law's parameters in a "
                                     "scalefit.Law of your own, or share them across groups with shared=.",
                                     option="tie")
        from ._groups import fit_groups

        return fit_groups(runs, law, group_by=group_by, shared=shared, loss=loss, delta=delta, space=space,
                          fixed=fixed, bounds=bounds, weights=weights, seed=seed, strict=strict,
                          max_starts=max_starts)
    if isinstance(law, str) and law.strip().lower() == "auto":
        given = [n for n, v in (("fixed", fixed), ("tie", tie), ("bounds", bounds), ("weights", weights)) if v is not None]
        if given:
            raise ScalefitInputError(
                f"law='auto' chooses among laws with different parameters, so {', '.join(given)} cannot be given "
                "with it; name a law instead.", option="law", values=given,
            )
        from ._auto import fit_auto

        return fit_auto(runs, by=auto_by, seed=seed, strict=strict, max_starts=max_starts)
    law = get_law(law)
    if runs.has_curves and len(runs) > runs.n_runs:
        warn(
            f"fitting {law.name!r} to all {len(runs)} checkpoints of {runs.n_runs} training curves; a scaling law "
            "of final loss is usually fitted to runs.final(). Intermediate checkpoints of a "
            "cosine schedule sit above the law.", CurvesWarning, options=[Option("final", text="runs.final()")],
        )
    delta, seed, max_starts = check_objective(loss, delta, space, seed, max_starts)
    spec = build_spec(law, fixed, tie, bounds)
    if spec.n_free == 0:
        raise ScalefitInputError(
            f"every parameter of law {law.name!r} is fixed, so there is nothing to fit; evaluate the law "
            "directly with scalefit.get_law(name)(params, n_params=..., n_tokens=...), or free a parameter."
        )
    inputs = law_inputs(law, runs)
    w = run_weights(weights, runs)
    n_eff = int(np.count_nonzero(w > 0))
    _check_min_runs(n_eff, spec.n_free, law)
    _check_identifiable(law, spec, inputs, w)
    likelihood = loss == "huber-likelihood"
    problem = Problem(law, spec, inputs, runs.loss, w, "huber" if likelihood else loss, delta, space)
    options = dict(
        loss=loss, delta=delta, space=space, fixed=dict(spec.fixed),
        tie=[list(g) for g in spec.groups if len(g) > 1], bounds={k: list(v) for k, v in (bounds or {}).items()},
        weights=None if weights is None else (weights if isinstance(weights, str) else "array"),
    )
    return solve(problem, runs, options, seed=seed, max_starts=max_starts, strict=strict)


def check_objective(loss: str, delta: Any, space: str, seed: Any, max_starts: Any) -> tuple[float, int, int]:
    """The objective's options checked: ``(delta, seed, max_starts)`` as numbers, or a ScalefitInputError."""
    check_loss(loss, _LOSSES)
    if space not in _SPACES:
        raise ScalefitInputError(f"space must be one of {list(_SPACES)}; got {space!r}.", option="space")
    try:
        delta = float(delta)
    except (TypeError, ValueError):
        raise ScalefitInputError(f"delta must be a positive number; got {delta!r}.", option="delta") from None
    if not (delta > 0 and math.isfinite(delta)):
        raise ScalefitInputError(f"delta must be a positive finite number; got {delta!r}.", option="delta")
    seed = check_seed(seed, where="fit")
    max_starts = check_integer(max_starts, "max_starts", minimum=1, where="fit", hint="Pass max_starts=64 (the default).")
    return delta, seed, max_starts


def solve(problem: Problem, runs: Any, options: dict, *, seed: int, max_starts: int, strict: bool,
          warm: np.ndarray | None = None) -> FitResult:
    """Run the engine on a built problem and assemble the :class:`FitResult` (diagnostics, warnings, errors).

    ``warm`` (generic laws only) adds a first start in the optimiser's coordinates.
    """
    law, spec, w = problem.law, problem.spec, problem.weights
    loss, delta = options["loss"], options["delta"]
    inputs = problem.inputs
    likelihood = loss == "huber-likelihood"
    n_eff = int(np.count_nonzero(w > 0))
    # Small dense linear algebra: BLAS threads only cost time here (and, on busy
    # machines, a lot of it), so the hot loop runs single-threaded.
    with _chinchilla.single_thread(), np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        if is_chinchilla(law) and problem.loss in CHINCHILLA_ENGINE_LOSSES:
            sol = _chinchilla.fit_chinchilla(problem)
        else:
            sol = _generic.fit_generic(problem, seed=seed, max_starts=max_starts, warm=warm)
        scale = float("nan")
        if likelihood:
            problem, sol, scale = _likelihood_solution(problem, sol)
            options["scale"] = scale
        assert sol.hessian is not None and sol.jacobian is not None  # engines return derivatives by default
        internal = spec.internal(sol.z)
        params = spec.natural(internal)
        resid = problem.residuals(params)
        if likelihood:
            # for a fixed scale s the likelihood fit is a Huber M-estimator with threshold delta * s
            stderr, cov, kind = asymptotic_stderr(spec, internal, sol.jacobian, resid, w, "huber", delta * scale)
            kind += "; at the fitted scale, which is treated as known"
        else:
            stderr, cov, kind = asymptotic_stderr(spec, internal, sol.jacobian, resid, w, loss, delta)
    diag = diagnostics(spec, sol.z, sol.hessian, resid, runs, sol.grad_norm, sol.n_minima, sol.second_best, law, params)
    fit_warnings = _warn_bounds(law, params, diag)
    fatal = _warn_identifiability(law, spec, params, inputs, stderr, diag)
    if fatal:
        fit_warnings.append({"category": "IdentifiabilityWarning", "message": fatal, "fatal": True})
    if len(diag.outlier_rows):
        rows = ", ".join(str(int(r)) for r in diag.outlier_rows[:10]) + (", ..." if len(diag.outlier_rows) > 10 else "")
        fit_warnings.append({
            "category": "OutlierRuns", "fatal": False,
            "message": f"{len(diag.outlier_rows)} run(s) have residuals beyond 3 robust standard deviations (0-based data "
                       f"rows {rows}); check them, and exclude bad rows before planning (read_runs(..., exclude=...) or Runs.exclude(...); in the CLI --exclude or --drop-highest K).",
        })
    success = bool(sol.converged and np.isfinite(sol.objective))
    if likelihood:
        message = (
            "converged: Nelder-Mead restarts no longer improve the likelihood" if success else
            "did not converge: Nelder-Mead restarts still improved the likelihood"
        )
    else:
        message = (
            "converged: projected gradient below tolerance" if success else
            # the tolerance is relative to the objective's own scale: a tiny norm can still be too large
            f"did not converge: projected gradient norm {sol.grad_norm:.3g}, large for an objective of "
            f"{float(sol.objective):.3g} (the tolerance is relative to the objective's scale)"
        )
    if not success:
        fit_warnings.append({"category": "ConvergenceWarning", "fatal": False,
                             "message": f"the fit of {law.name!r} did not converge ({message})."})
    result = FitResult(
        law=law, params=params, stderr=stderr, stderr_kind=kind, covariance_matrix=cov[0],
        objective=float(sol.objective), success=success, message=message, n_runs=n_eff,
        n_starts=int(sol.n_starts), n_local_minima=int(sol.n_minima), residuals=resid, diagnostics=diag,
        options=options, problem=problem, solution=sol, runs=runs,
        warnings=tuple(fit_warnings), covariance_names=cov[1],
    )
    if not success:
        if strict:
            raise FitError(f"fit of {law.name!r} did not converge: {message}", result)
        warn(f"fit of {law.name!r} did not converge ({message}); result.success is False.", ConvergenceWarning)
    return result


def _warn_bounds(law: Law, params: Mapping[str, float], diag: Any) -> list[dict]:
    """A typed warning for parameters at a bound; a louder one when the fit is not trustworthy.

    Returns the records for ``FitResult.warnings``, so that a plan made from the fit (or from its saved
    JSON) carries them too.
    """
    records = []
    if diag.at_bound:
        where = ", ".join(f"{n} = {params[n]:.4g} ({side})" for n, side in diag.at_bound.items())
        message = (f"fit of {law.name!r}: parameter(s) at a bound: {where}; the optimum may lie outside the bounds "
                   "(result.diagnostics.at_bound).")
        warn(message, BoundWarning)
        records.append({"category": "BoundWarning", "message": message, "fatal": False})
    if diag.trust_issues:
        message = (f"fit of {law.name!r} is NOT TRUSTWORTHY although it may have converged: "
                   + "; ".join(diag.trust_issues) + " (result.trustworthy is False).")
        warn(message, BoundWarning)
        records.append({"category": "BoundWarning", "message": message, "fatal": False})
    return records


def _likelihood_solution(problem: Problem, seed_sol: Solution) -> tuple[Problem, Solution, float]:
    """Maximise the Huber likelihood from the Huber fit's optimum; the Solution the result reads."""
    spec = problem.spec
    z, log_scale, nll, converged, n_starts = _likelihood.maximise(problem, [seed_sol.z])
    lik_problem = replace(problem, loss="huber-likelihood")
    lo, hi = spec.lower, spec.upper

    def resid(zz: np.ndarray) -> np.ndarray:
        return problem.residuals(spec.natural(spec.internal(zz)))

    J = _generic.num_jac(resid, z, lo, hi)
    # Gauss-Newton curvature, weighted: the objective's kinks make a finite-difference Hessian meaningless
    H = (J * problem.weights[:, None]).T @ J
    sol = Solution(z, nll, float("nan"), bool(converged), seed_sol.n_starts + n_starts, 1, float("nan"), hessian=H, jacobian=J)
    return lik_problem, sol, math.exp(log_scale)


def _check_min_runs(n: int, n_free: int, law: Law) -> None:
    need = n_free + 1
    if n < need:
        raise ScalefitInputError(
            f"too few runs for law {law.name!r}: it has {n_free} free parameter(s), which needs at least "
            f"{need} runs with positive weight; got {n}. Add runs, or fix parameters with fixed={{...}}.",
            options=[Option("fixed", text="fixed={...}")],
        )


def _check_identifiable(law: Law, spec: Spec, inputs: dict, w: np.ndarray) -> None:
    """Refuse Chinchilla fits whose N (or D) term cannot be determined: a single model size (token count)."""
    if not is_chinchilla(law):
        return
    used = w > 0
    for col, terms, alt in (("n_params", ("A", "alpha"), "kaplan-d-e"), ("n_tokens", ("B", "beta"), "kaplan-n-e")):
        values = inputs[col][used]
        if np.ptp(np.log(values)) < 1e-9:
            free = [t for t in terms if t in spec.names and t not in spec.fixed]
            if free:
                raise ScalefitInputError(
                    f"every run has the same {col} ({values[0]:.4g}), so the data cannot determine "
                    f"{' and '.join(free)} (its term is indistinguishable from E). Add runs at other values of "
                    f"{col}, fix {' and '.join(free)} with fixed={{...}}, or fit law {alt!r}.",
                    column=col, options=[Option("fixed", text="fixed={...}"), Option("law", text=f"law {alt!r}")],
                )


def _warn_identifiability(law: Law, spec: Spec, params: dict, inputs: dict, stderr: dict, diag: Diagnostics) -> str | None:
    """Warn when the fit leaves parameters undetermined (singular Hessian, undefined errors, vanished terms); the message or None."""
    problems = []
    free = [n for g in spec.groups for n in g]
    bad_se = [n for n in free if not np.isfinite(stderr.get(n, np.nan))]
    if bad_se:
        problems.append(f"standard errors of {bad_se} are undefined")
    if not np.isfinite(diag.condition_number) or diag.condition_number > 1e12:
        problems.append(f"the Hessian's condition number is {diag.condition_number:.3g}")
    if is_chinchilla(law):
        E, A, B, al, be = chinchilla_values(params)
        loss_scale = E + A / inputs["n_params"] ** al + B / inputs["n_tokens"] ** be
        for name, term in (("A/N^alpha", A / inputs["n_params"] ** al), ("B/D^beta", B / inputs["n_tokens"] ** be)):
            if np.max(term / loss_scale) < 1e-6:
                problems.append(f"the term {name} has vanished over the data (at most {np.max(term):.3g} nats)")
        if np.ptp(np.log(inputs["n_params"] * inputs["n_tokens"])) < 1e-6:
            problems.append("every run has the same N*D (one IsoFLOP line), on which N and D move together")
    if problems:
        message = (
            f"fit of {law.name!r}: the data do not determine the parameters well: " + "; ".join(problems)
            + ". Add runs that vary N and D independently, or fix parameters; do not plan from this fit."
        )
        warn(message, IdentifiabilityWarning)
        return message
    return None
