"""Simulated training runs, the classical IsoFLOP grid, and the error of a design at the target.

:func:`simulate` stands in for a training service: it returns the loss each
planned run would reach under a given law, with log-normal noise and optional
outliers.  :func:`isoflop_grid` lays out the Chinchilla-style design around the
prior's compute-optimal model sizes.  :func:`design_errors` is the kernel the
design search repeats thousands of times: simulate a design under one drawn law,
fit it with :func:`scalefit.fit` (the engine the user will use), and measure the
error of a, N*, D* and L* at the target.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError
from .._validation import check_positive_finite, check_positive_scalar
from ..laws import evaluate, get_law

#: The quantities a design is judged on, in the order of every error array.
QUANTITIES = ("a", "n_opt", "d_opt", "loss")
#: How far above the law an outlier run lands: its loss is multiplied by 1 + U(low, high).
OUTLIER_RANGE = (0.05, 0.2)


def _plan_table(runs: Any, where: str, k: float) -> pd.DataFrame:
    """The (n_params, n_tokens, flops) of planned runs, as a new table (the caller's is never changed)."""
    frame = getattr(runs, "runs", runs)  # a Design carries its runs table
    if isinstance(frame, pd.DataFrame):
        table = frame.copy()
    else:
        try:
            table = pd.DataFrame(frame)
        except (TypeError, ValueError):
            raise ScalefitInputError(
                f"{where}: runs must be a table with columns n_params and n_tokens; got {type(runs).__name__}.",
                option="runs",
            ) from None
    missing = [c for c in ("n_params", "n_tokens") if c not in table.columns]
    if missing:
        raise ScalefitInputError(
            f"{where}: runs need columns n_params and n_tokens; missing {missing} (found {list(table.columns)}).",
            column=missing[0], option="runs",
        )
    for col in ("n_params", "n_tokens"):
        table[col] = check_positive_finite(table[col].to_numpy(), col)
    if "flops" not in table.columns:
        table["flops"] = k * table["n_params"] * table["n_tokens"]
    return table


#: Largest relative noise of a run's loss taken: LM losses scatter by about 1%; 0.5 is already absurd, and a
#: noise of 1 is almost always 1% meant as a percentage.
MAX_NOISE = 0.5


def check_noise(noise: Any, where: str) -> float:
    """The relative noise of a run's loss (a log-normal SD, 0.01 = 1%), refused above :data:`MAX_NOISE`."""
    value = check_positive_scalar(noise, "noise", allow_zero=True, where=where,
                                  hint="Give a relative noise such as 0.01 (1%).")
    if value > MAX_NOISE:
        raise ScalefitInputError(
            f"{where}: noise={noise!r} is a relative standard deviation of the loss ({100 * value:g}%); runs scatter by "
            f"about 1%, so give a fraction such as 0.01 (not a percentage such as 1).", option="noise", values=[noise])
    return value


def simulate(
    law: Any,
    params: Any,
    runs: Any,
    *,
    noise: float = 0.01,
    outliers: float = 0.0,
    seed: int = 0,
    flops_per_param_token: float = 6.0,
) -> pd.DataFrame:
    """Losses the planned runs would reach under a law, as a training run reports them.

    Each loss is ``L(N, D) * exp(noise * z)`` with ``z`` standard normal
    (log-normal noise of relative size ``noise``); a fraction ``outliers`` of
    the runs, chosen at random, land above the law by a further factor
    ``1 + U(0.05, 0.2)`` (a diverged or badly tuned run).

    Parameters
    ----------
    law : str or Law
        The true law, e.g. ``"chinchilla"``.
    params : mapping
        Its parameter values.
    runs : DataFrame, mapping of columns or Design
        The planned runs: columns ``n_params`` and ``n_tokens`` (``flops``
        optional); a :class:`Design`'s runs table works as it is.
    noise : float, default 0.01
        Relative (log-normal) noise of each loss.
    outliers : float, default 0
        Probability that a run is an outlier, in [0, 1).
    seed : int
        Seed of ``numpy.random.default_rng``.
    flops_per_param_token : float, default 6.0
        k in C = k N D, for a missing ``flops`` column.

    Returns
    -------
    pandas.DataFrame
        A copy of the runs with a ``loss`` column (and ``outlier``, True for
        the runs made outliers).

    Raises
    ------
    ScalefitInputError
        Runs without ``n_params``/``n_tokens``, non-positive sizes, or a
        negative noise or an outlier fraction outside [0, 1).

    Examples
    --------
    >>> import scalefit
    >>> grid = scalefit.isoflop_grid([1e18, 1e19], 4)
    >>> law = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    >>> runs = scalefit.simulate("chinchilla", law, grid, seed=1)
    >>> len(runs)
    8
    """
    k = check_positive_scalar(flops_per_param_token, "flops_per_param_token", where="simulate()")
    noise = check_noise(noise, "simulate()")
    outliers = check_positive_scalar(outliers, "outliers", allow_zero=True, where="simulate()")
    if outliers >= 1:
        raise ScalefitInputError(
            f"simulate(): outliers is the probability that a run is an outlier and must lie in [0, 1); got {outliers!r}.",
            option="outliers", values=[outliers],
        )
    table = _plan_table(runs, "simulate()", k)
    law = get_law(law)
    clean = np.asarray(evaluate(law, params, flops_per_param_token=k, where="simulate()",
                                n_params=table["n_params"].to_numpy(), n_tokens=table["n_tokens"].to_numpy()), dtype=float)
    rng = np.random.default_rng(seed)
    table["loss"], table["outlier"] = noisy_loss(clean, noise, outliers, rng)
    return table


def noisy_loss(clean: np.ndarray, noise: float, outliers: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``clean`` with log-normal noise and outliers drawn from ``rng``; also returns the outlier mask."""
    loss = clean * np.exp(noise * rng.standard_normal(clean.shape))
    mask = np.zeros(clean.shape, dtype=bool)
    if outliers > 0:
        mask = rng.random(clean.shape) < outliers
        loss = np.where(mask, loss * (1.0 + rng.uniform(*OUTLIER_RANGE, size=clean.shape)), loss)
    return loss, mask


def isoflop_grid(
    budgets: Sequence[float] | np.ndarray,
    n_per_budget: int,
    *,
    span: float = 4.0,
    prior: Any = None,
    flops_per_param_token: float = 6.0,
    seed: int = 0,
) -> pd.DataFrame:
    """The classical IsoFLOP design: at each budget, model sizes spread around the prior's optimum.

    At budget C the sizes are ``n_per_budget`` log-spaced values from
    ``N*(C) / span`` to ``N*(C) * span``, where ``N*(C)`` is the median over
    the prior's draws of the compute-optimal size; each run's tokens follow
    from ``C = k N D``.  Hoffmann et al. (2022, Fig. 3) trained such grids.

    Parameters
    ----------
    budgets : sequence of float
        Compute of each IsoFLOP line, in FLOPs.
    n_per_budget : int
        Runs per budget (at least 3, to see the valley).
    span : float, default 4.0
        Factor either side of the optimum (4 means N*/4 to 4 N*).
    prior : optional
        As in :func:`scalefit.design` (default: the published fits).
    flops_per_param_token : float, default 6.0
        k in C = k N D.
    seed : int
        Seed of the prior draws that locate the optimum.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``n_params``, ``n_tokens``, ``flops`` and
        ``budget`` (the IsoFLOP line it belongs to).

    Raises
    ------
    ScalefitInputError
        Non-positive budgets, fewer than 3 runs per budget, or a span not above 1.

    Examples
    --------
    >>> import scalefit
    >>> grid = scalefit.isoflop_grid([1e19, 1e20], 5, span=4.0)
    >>> sorted(grid["budget"].unique())
    [1e+19, 1e+20]
    """
    from ._prior import make_prior

    budgets_arr = check_positive_finite(np.atleast_1d(np.asarray(budgets, dtype=float)), "budgets")
    if isinstance(n_per_budget, (bool, np.bool_)) or int(n_per_budget) != n_per_budget or int(n_per_budget) < 3:
        raise ScalefitInputError(
            f"isoflop_grid(): n_per_budget must be an integer of at least 3 (three sizes show the valley); "
            f"got {n_per_budget!r}.", option="n_per_budget", values=[n_per_budget],
        )
    span = check_positive_scalar(span, "span", where="isoflop_grid()")
    if span <= 1:
        raise ScalefitInputError(f"isoflop_grid(): span must be above 1 (e.g. 4 for N*/4 to 4 N*); got {span!r}.",
                                 option="span", values=[span])
    k = check_positive_scalar(flops_per_param_token, "flops_per_param_token", where="isoflop_grid()")
    centre = prior_optimum(make_prior(prior, seed=seed), budgets_arr, k, seed=seed)
    return grid_runs(budgets_arr, [int(n_per_budget)] * budgets_arr.size, span, centre, k)


def prior_optimum(prior: Any, budgets: np.ndarray, k: float, *, seed: int = 0, n_draws: int = 256) -> np.ndarray:
    """Median over prior draws of the compute-optimal model size at each budget."""
    from ..plan import frontier

    draws = prior.sample(n_draws, np.random.default_rng([seed, 1]))
    params = {c: draws[c].to_numpy(float)[:, None] for c in draws.columns}
    n_opt = frontier("chinchilla", params, budgets[None, :], flops_per_param_token=k)[0]
    return np.exp(np.nanmedian(np.log(n_opt), axis=0))


def grid_runs(budgets: np.ndarray, counts: Sequence[int], span: float, centre: np.ndarray, k: float) -> pd.DataFrame:
    """Runs of an IsoFLOP design: ``counts[i]`` sizes log-spaced over ``centre[i] / span .. centre[i] * span``."""
    rows = []
    for c, n, mid in zip(budgets, counts, centre):
        for size in mid * np.geomspace(1.0 / span, span, int(n)):
            rows.append((size, c / (k * size), c, c))
    return pd.DataFrame(rows, columns=["n_params", "n_tokens", "flops", "budget"])


def target_quantities(params: Any, target: float, k: float) -> np.ndarray:
    """(a, N*, D*, L*) at the target budget for parameter arrays; shape ``(4,) + broadcast shape``."""
    from ..plan import frontier

    alpha, beta = np.asarray(params["alpha"], float), np.asarray(params["beta"], float)
    n_opt, d_opt, loss = frontier("chinchilla", params, target, flops_per_param_token=k)
    return np.stack(np.broadcast_arrays(beta / (alpha + beta), n_opt, d_opt, loss))


def design_errors(
    n_params: np.ndarray,
    n_tokens: np.ndarray,
    truths: np.ndarray,
    seeds: Sequence[Sequence[int]],
    target: float,
    noise: float,
    outliers: float,
    k: float,
) -> np.ndarray:
    """Errors at the target of one design under each true law: shape ``(len(truths), 4)``.

    ``truths`` holds (E, A, B, alpha, beta) rows; draw ``j`` simulates its losses
    with ``default_rng(seeds[j])`` and fits them with :func:`scalefit.fit`.  The
    errors are ``a_hat - a`` and the log ratios ``ln(N*_hat / N*)``,
    ``ln(D*_hat / D*)`` and ``ln(L*_hat / L*)``; a fit that fails is +inf.
    """
    from ..fitting import fit
    from ._prior import NATURAL_CHINCHILLA

    out = np.full((len(truths), len(QUANTITIES)), np.inf)
    for j, theta in enumerate(truths):
        truth = dict(zip(NATURAL_CHINCHILLA, map(float, theta)))
        clean = np.asarray(evaluate("chinchilla", truth, n_params=n_params, n_tokens=n_tokens), dtype=float)
        loss = noisy_loss(clean, noise, outliers, np.random.default_rng(list(seeds[j])))[0]
        frame = pd.DataFrame({"n_params": n_params, "n_tokens": n_tokens, "loss": loss})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = fit(frame, "chinchilla")
        except (ScalefitInputError, ValueError, np.linalg.LinAlgError):
            continue
        true_q = target_quantities(truth, target, k)
        est_q = target_quantities(dict(result.params), target, k)
        err = np.array([est_q[0] - true_q[0], *np.log(est_q[1:] / true_q[1:])], dtype=float)
        out[j] = np.where(np.isfinite(err), err, np.inf)
    return out
