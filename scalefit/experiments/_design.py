"""design(): choose the runs to train by simulation-based optimal design."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._errors import Option, ScalefitInputError
from .._validation import check_option, check_positive_finite, check_positive_scalar
from ._prior import Prior, make_prior
from ._result import Design
from ._simulate import check_noise
from ._search import (
    MIN_RUNS,
    OBJECTIVES,
    Candidate,
    grid_candidates,
    interval_width,
    next_candidates,
    precision_table,
    score,
    simulate_errors,
)
from ._simulate import prior_optimum

#: Candidates kept after the screening stage.
_KEEP = 6
#: Next runs suggested after trained runs when n_runs is not given.
_DEFAULT_NEXT = 3


def design(
    target_flops: float,
    experiment_flops: float,
    *,
    prior: Any = None,
    n_runs: int | None = None,
    budgets: Sequence[float] | None = None,
    min_params: float = 1e6,
    max_params: float | None = None,
    objective: str = "n_opt",
    candidates: Any = None,
    noise: float = 0.01,
    outliers: float = 0.0,
    n_sims: int = 64,
    seed: int = 0,
    n_jobs: int | None = -1,
    flops_per_param_token: float = 6.0,
) -> Design:
    """Choose training runs that pin down the compute-optimal model at a target budget.

    Simulation-based optimal design: draw plausible laws from the prior,
    simulate each candidate design's losses with realistic noise, fit them with
    :func:`scalefit.fit` (the engine you will use on the real runs), and keep
    the design with the smallest median error in ``objective`` at
    ``target_flops``.  The candidates are IsoFLOP grids (2 to 5 budgets a
    factor 3 or 10 apart, 3, 5 or 8 sizes each, +-2x, 4x or 8x around the
    prior's optimum; the standard Chinchilla-style grid is one of them) and
    top-heavy variants with more runs at the largest budget, each scaled to
    spend the experiment budget.  They are screened on ``max(8, n_sims // 4)``
    simulations, the best 6 are scored on ``n_sims``, and the winner's
    precision is reported from ``n_sims`` fresh simulations (so the report is
    not flattered by the choice).

    With runs already trained (``prior`` = runs), it suggests the next runs
    one at a time (greedily), each the candidate that most shrinks the 80%
    range of the objective's error, and reports that shrinkage.

    Parameters
    ----------
    target_flops : float
        The compute of the model being planned, e.g. 1e24.
    experiment_flops : float
        Total compute allowed for the experiments (for next runs: for the new
        runs), e.g. 1e21.  The design never spends more.
    prior : optional
        What is believed about the law; see :mod:`scalefit.design._prior`.
        Default: the published Chinchilla fits with their standard errors.
        Runs already trained (a :class:`~scalefit.Runs` or a table with
        ``loss``) switch to next-run suggestions.
    n_runs : int, optional
        Exactly this many runs (next runs: this many suggestions, default 3).
    budgets : sequence of float, optional
        Use these IsoFLOP budgets instead of choosing them.
    min_params, max_params : float
        Bounds on model size; runs outside are never proposed.
    objective : {"n_opt", "d_opt", "loss", "a"}
        Minimise the error of N*, D* or L* at the target, or of the exponent
        a = beta/(alpha+beta).
    candidates : DataFrame, optional
        With trained runs only: the runs to choose the next ones from
        (columns ``n_params``, ``n_tokens``); default: 5 sizes at each of 3
        budgets around the prior's optimum.  Runs already trained are never
        proposed.
    noise : float, default 0.01
        Relative noise of a run's loss (log-normal), as :func:`simulate`.
    outliers : float, default 0
        Fraction of outlier runs in the simulations.
    n_sims : int, default 64
        Simulations per finalist (and for the reported precision).
    seed : int
        Seed; truth ``j`` of stage ``s`` simulates with ``default_rng([seed, s, j])``.
    n_jobs : int, default -1
        joblib workers; under ``joblib.parallel_config(backend="dask")`` the
        fits run on a Dask cluster.  Results do not depend on it.
    flops_per_param_token : float, default 6.0
        k in C = k N D.

    Returns
    -------
    Design

    Raises
    ------
    ScalefitInputError
        ``target_flops`` not above ``experiment_flops``; an experiment budget
        too small for the minimum number of runs; bounds or budgets that leave
        no feasible design; an unknown objective; bad prior.

    Examples
    --------
    >>> import scalefit
    >>> d = scalefit.design(1e24, 1e21, n_sims=16)   # doctest: +SKIP
    >>> print(d.summary())                            # doctest: +SKIP
    """
    where = "design()"
    target = check_positive_scalar(target_flops, "target_flops", where=where)
    experiment = check_positive_scalar(experiment_flops, "experiment_flops", where=where)
    k = check_positive_scalar(flops_per_param_token, "flops_per_param_token", where=where)
    objective = check_option(objective, "objective", tuple(OBJECTIVES))
    noise = check_noise(noise, where)
    outliers = check_positive_scalar(outliers, "outliers", allow_zero=True, where=where)
    n_sims = _check_int(n_sims, "n_sims", 4)
    n_runs = None if n_runs is None else _check_int(n_runs, "n_runs", 1)
    lo = check_positive_scalar(min_params, "min_params", where=where)
    hi = math.inf if max_params is None else check_positive_scalar(max_params, "max_params", where=where)
    if target <= experiment:
        raise ScalefitInputError(
            f"{where}: target_flops ({target:.3g}) must be above experiment_flops ({experiment:.3g}): the experiments "
            "are small runs that predict a larger one. Raise target_flops, or lower experiment_flops.",
            option="target_flops", values=[target, experiment],
            options=[Option("target_flops"), Option("experiment_flops")],
        )
    if lo >= hi:
        raise ScalefitInputError(
            f"{where}: min_params ({lo:.3g}) must be below max_params ({hi:.3g}); these bounds leave no feasible run.",
            option="min_params", values=[lo, hi], options=[Option("min_params"), Option("max_params")],
        )
    pri = make_prior(prior, seed=seed)
    existing = pri.existing
    if existing is None and candidates is not None:
        raise ScalefitInputError(
            f"{where}: candidates lists runs to choose the next ones from, which needs runs already trained as the "
            "prior; leave candidates out to design from scratch.", option="candidates",
        )
    if budgets is not None:
        budgets = list(check_positive_finite(np.atleast_1d(np.asarray(budgets, dtype=float)), "budgets"))
        if existing is None and len(budgets) < 2:
            raise ScalefitInputError(f"{where}: give at least 2 budgets (one IsoFLOP line cannot separate N from D); "
                                     f"got {len(budgets)}.", option="budgets", values=budgets)
    _check_enough_budget(pri, experiment, lo, k, seed, 1 if existing is not None else MIN_RUNS)
    common = dict(target=target, noise=noise, outliers=outliers, k=k, seed=seed)
    centre = pri.centre()
    if existing is None:
        found = grid_candidates(pri, experiment, k, n_runs=n_runs, budgets=budgets, min_params=lo, max_params=hi, seed=seed)
        if not found:
            raise _infeasible(where, lo, hi, n_runs, budgets, experiment)
        return _choose_grid(found, pri, objective, n_sims, n_jobs, common, experiment, centre)
    return _choose_next(pri, existing, objective, n_sims, n_jobs, common, experiment, centre,
                        n_next=n_runs or _DEFAULT_NEXT, candidates=candidates, lo=lo, hi=hi)


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ScalefitInputError(f"design(): {name} must be an integer of at least {minimum}; got {value!r}.",
                                 option=name, values=[value])
    return int(value)


def _check_enough_budget(prior: Prior, experiment: float, min_params: float, k: float, seed: int, need: int) -> None:
    """Refuse an experiment budget below ``need`` compute-optimal runs of the smallest allowed size."""
    grid = np.geomspace(1e6, 1e30, 241)
    n_opt = prior_optimum(prior, grid, k, seed=seed)
    smallest = float(np.exp(np.interp(np.log(min_params), np.log(n_opt), np.log(grid))))
    if experiment < need * smallest:
        raise ScalefitInputError(
            f"design(): experiment_flops ({experiment:.3g}) is too small for the minimum of {need} run(s): under the "
            f"prior, the smallest compute-optimal run with at least min_params={min_params:.3g} parameters costs "
            f"{smallest:.3g} FLOPs, so {need} runs need at least {need * smallest:.3g}. Raise experiment_flops, "
            "or lower min_params.", option="experiment_flops", values=[experiment, need * smallest],
            options=[Option("experiment_flops"), Option("min_params")],
        )


def _infeasible(where: str, lo: float, hi: float, n_runs: int | None, budgets: Any, experiment: float) -> ScalefitInputError:
    given = [f"min_params={lo:.3g}", f"max_params={hi:.3g}"]
    if n_runs is not None:
        given.append(f"n_runs={n_runs}")
    if budgets is not None:
        given.append(f"budgets={[float(f'{b:.3g}') for b in budgets]} (total per run set must fit {experiment:.3g})")
    return ScalefitInputError(
        f"{where}: no candidate design is feasible with {', '.join(given)}: every IsoFLOP design needs at least "
        f"{MIN_RUNS} runs on at least 2 budgets with model sizes inside the bounds and within the experiment budget. "
        "Widen min_params/max_params, change n_runs, or give budgets that the experiment budget can pay for.",
        option="max_params" if math.isfinite(hi) else "min_params",
        options=[Option("min_params"), Option("max_params"), Option("n_runs"), Option("budgets")],
    )


def _choose_grid(found: list[Candidate], prior: Prior, objective: str, n_sims: int, n_jobs: Any, common: dict,
                 experiment: float, centre: dict) -> Design:
    seed = common["seed"]
    scores = np.full(len(found), np.nan)
    sims = np.zeros(len(found), dtype=int)
    pool = list(range(len(found)))
    if len(found) > _KEEP:
        n_screen = max(8, n_sims // 4)
        truths = prior.sample(n_screen, np.random.default_rng([seed, 1]))
        err = simulate_errors([c.runs for c in found], truths, stage=1, n_jobs=n_jobs, **common)
        scores[:] = score(err, objective)
        sims[:] = n_screen
        pool = [int(i) for i in np.argsort(scores, kind="stable")[:_KEEP]]
    truths = prior.sample(n_sims, np.random.default_rng([seed, 2]))
    err = simulate_errors([found[i].runs for i in pool], truths, stage=2, n_jobs=n_jobs, **common)
    final = score(err, objective)
    scores[pool], sims[pool] = final, n_sims
    best = pool[int(np.argmin(final))]
    chosen = found[best]
    report = prior.sample(n_sims, np.random.default_rng([seed, 3]))
    errors = simulate_errors([chosen.runs], report, stage=3, n_jobs=n_jobs, **common)[0]
    table = pd.DataFrame(dict(name=[c.name for c in found], kind=[c.kind for c in found],
                              n_runs=[len(c.runs) for c in found], flops=[c.cost for c in found],
                              score=scores, n_sims=sims)).sort_values(["n_sims", "score"], ascending=[False, True])
    return Design(
        runs=chosen.runs.copy(), name=chosen.name, kind=chosen.kind, target_flops=common["target"],
        experiment_flops=experiment, total_flops=chosen.cost, objective=objective,
        precision=precision_table(errors), errors=errors, candidates=table.reset_index(drop=True), existing=None,
        prior=prior.description, prior_centre=centre, n_sims=n_sims, seed=seed, noise=common["noise"],
        outliers=common["outliers"], flops_per_param_token=common["k"],
    )


def _choose_next(prior: Prior, existing: pd.DataFrame, objective: str, n_sims: int, n_jobs: Any, common: dict,
                 experiment: float, centre: dict, *, n_next: int, candidates: Any, lo: float, hi: float) -> Design:
    from ._simulate import _plan_table

    seed, k = common["seed"], common["k"]
    base = existing[["n_params", "n_tokens", "flops"]].reset_index(drop=True)
    if candidates is None:
        # sizes around the optimum at budgets that leave room for all n_next runs
        pool = next_candidates(prior, base, experiment / n_next, k, min_params=lo, max_params=hi, seed=seed)
    else:
        table = _plan_table(candidates, "design()", k)
        pool = [table.iloc[[i]][["n_params", "n_tokens", "flops"]].reset_index(drop=True) for i in range(len(table))]
    trained = base[["n_params", "n_tokens"]].to_numpy(float)

    def untrained(run: pd.DataFrame, chosen: list[pd.DataFrame]) -> bool:
        done = np.vstack([trained] + [c[["n_params", "n_tokens"]].to_numpy(float) for c in chosen])
        point = run[["n_params", "n_tokens"]].to_numpy(float)
        return not np.any(np.all(np.abs(np.log(done / point)) < 0.01, axis=1))

    pool = [r for r in pool if lo <= float(r["n_params"].iloc[0]) <= hi]
    truths = prior.sample(n_sims, np.random.default_rng([seed, 2]))
    current = simulate_errors([base], truths, stage=2, n_jobs=n_jobs, **common)[0]
    chosen: list[pd.DataFrame] = []
    shrinks: list[float] = []
    spent = 0.0
    rows = []
    for _ in range(n_next):
        options = [r for r in pool if untrained(r, chosen) and spent + float(r["flops"].iloc[0]) <= experiment * (1 + 1e-9)]
        if not options:
            break
        designs = [pd.concat([base, *chosen, r], ignore_index=True) for r in options]
        err = simulate_errors(designs, truths, stage=2, n_jobs=n_jobs, **common)
        widths = np.array([interval_width(e, objective) for e in err])
        i = int(np.nanargmin(np.where(np.isfinite(widths), widths, np.inf)))
        before = interval_width(current, objective)
        shrinks.append(1.0 - widths[i] / before if np.isfinite(before) and before > 0 else float("nan"))
        chosen.append(options[i])
        spent += float(options[i]["flops"].iloc[0])
        current = err[i]
        rows.append(dict(name=f"next run {len(chosen)}", options=len(options), width=float(widths[i])))
    if not chosen:
        raise ScalefitInputError(
            f"design(): no untrained candidate run fits the experiment budget ({experiment:.3g} FLOPs) and the bounds "
            f"[{lo:.3g}, {hi:.3g}] parameters. Raise experiment_flops, widen min_params/max_params, or give "
            "other candidates.", option="experiment_flops",
            options=[Option("experiment_flops"), Option("min_params"), Option("max_params")],
        )
    runs = pd.concat(chosen, ignore_index=True)
    runs["budget"] = runs["flops"]
    runs["order"] = np.arange(1, len(runs) + 1)
    runs["shrink"] = shrinks
    report = prior.sample(n_sims, np.random.default_rng([seed, 3]))
    errors = simulate_errors([pd.concat([base, runs], ignore_index=True)], report, stage=3, n_jobs=n_jobs, **common)[0]
    return Design(
        runs=runs, name=f"{len(runs)} next run(s) after {len(base)} trained", kind="next",
        target_flops=common["target"], experiment_flops=experiment, total_flops=float(runs["flops"].sum()),
        objective=objective, precision=precision_table(errors), errors=errors,
        candidates=pd.DataFrame(rows), existing=existing.copy(), prior=prior.description, prior_centre=centre,
        n_sims=n_sims, seed=seed, noise=common["noise"], outliers=common["outliers"], flops_per_param_token=k,
    )
