"""Nonparametric bootstrap of a fit: resample runs with replacement, refit each sample.

Each resample is drawn from its own generator ``default_rng([seed, i])``, so
the result is identical for a seed whatever ``n_jobs`` is and however the work
is split.  For the Chinchilla forms, resamples are integer weights on the runs
and are refitted as one batch by the same exact-Newton engine as the fit,
started from every distinct local minimum the full fit found (keeping the best
per resample).  Other laws are refitted one resample at a time with the same
multi-start engine warm-started from the full fit.

The fit is read through its public ``problem`` and ``solution`` attributes and
refitted through the engines (:mod:`._chinchilla`, :mod:`._generic`); this
module never imports the result or fit modules, so no import cycle remains.
Derived losses are evaluated by :func:`scalefit.laws.evaluate`, the same
evaluator as ``FitResult.predict``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError
from .._intervals import percentile_interval
from .._json import jsonable
from .._summary import Summary, Table
from .._validation import check_integer, check_level, check_n_jobs, check_seed
from ..laws import chinchilla_compute_optimal, chinchilla_exponents, evaluate, is_chinchilla
from . import _chinchilla, _draws, _generic, _likelihood
from ._problem import CHINCHILLA_ENGINE_LOSSES

#: Resamples per task for laws refitted one resample at a time (the generic and likelihood engines).
_CHUNK = 250
#: The batched Chinchilla bootstrap holds chunk x rows values per array: at most this many ...
_CHUNK_VALUES = 1 << 20
#: ... and at most this many resamples per chunk (the kernel evaluates a chunk in cache-sized blocks,
#: so larger chunks only save Python per Newton step: 2,000 took 0.74 s CPU for 4,000 resamples of
#: 240 rows against 0.84 s for 1,000 and 0.92 s for 500; benchmarks/RESULTS.md).
_CHUNK_MAX = 2000


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap distribution of a fit's parameters.

    Attributes
    ----------
    fit : FitResult
        The fit on all runs (the point estimate).
    samples : pandas.DataFrame
        One row per resample, one column per parameter (natural scale).
    objective : numpy.ndarray
        Objective of each refit.
    converged : numpy.ndarray of bool
        Whether each refit converged.
    n : int
    seed : int
    unit : str
        What was resampled ("runs", or "runs (curves grouped by run)").
    """

    fit: Any
    samples: pd.DataFrame
    objective: np.ndarray
    converged: np.ndarray
    n: int
    seed: int
    unit: str = "runs"

    # --------------------------------------------------------- parameters
    @property
    def stderr(self) -> dict:
        """Bootstrap standard error of each parameter (sample standard deviation)."""
        return {k: float(self.samples[k].std(ddof=1)) for k in self.samples.columns}

    @property
    def covariance(self) -> pd.DataFrame:
        """Bootstrap covariance of the parameters."""
        return self.samples.cov()

    def interval(self, level: float = 0.95) -> pd.DataFrame:
        """Bias-corrected percentile intervals of the parameters and of a, b (Chinchilla) at ``level`` (see :mod:`scalefit._intervals`)."""
        check_level(level)
        point = dict(self.fit.params)
        if is_chinchilla(self.fit.law):
            point["a"], point["b"] = self.fit.a, self.fit.b
        return _intervals(self._with_exponents(), level, point)

    def intervals(self, levels: Sequence[float] = (0.8, 0.95)) -> dict:
        """``{name: {level: [low, high]}}`` for every parameter (and a, b)."""
        out: dict = {}
        for lv in levels:
            iv = self.interval(lv)
            for name, row in iv.iterrows():
                out.setdefault(name, {})[f"{lv:g}"] = [float(row["low"]), float(row["high"])]
        return out

    def _with_exponents(self) -> pd.DataFrame:
        tab = self.samples.copy()
        if is_chinchilla(self.fit.law):
            al = tab["alpha"].to_numpy()
            be = tab["beta"].to_numpy() if "beta" in tab else al
            tab["a"], tab["b"] = chinchilla_exponents(al, be)
        return tab

    @property
    def _flops_per_param_token(self) -> float:
        runs = self.fit.runs
        return float(runs.flops_per_param_token) if runs is not None else 6.0

    # ----------------------------------------------------------- derived
    def derived(self, *, flops: Any = None, n_params: Any = None, n_tokens: Any = None) -> pd.DataFrame:
        """Draws of derived quantities, one row per resample.

        Columns: ``a``, ``b`` (Chinchilla forms); ``n_opt@C``, ``d_opt@C``,
        ``loss_opt@C`` for each budget C in ``flops`` (Chinchilla forms);
        ``loss@N,D`` for each (n_params, n_tokens) pair given (broadcast),
        evaluated for every law, FLOPs-only laws included, by
        :func:`scalefit.laws.evaluate` with the runs' ``flops_per_param_token``:
        the same numbers as ``fit.predict`` at each draw.

        Raises
        ------
        ScalefitInputError
            Budgets for a law without a closed-form optimum, only one of
            n_params and n_tokens, or inputs that are not finite and positive.
        """
        tab = self._with_exponents()
        out = pd.DataFrame(index=tab.index)
        for k in ("a", "b"):
            if k in tab:
                out[k] = tab[k]
        if flops is not None:
            if not is_chinchilla(self.fit.law):
                raise ScalefitInputError(
                    f"compute-optimal draws use the Chinchilla closed form; law {self.fit.law.name!r} has none. "
                    "Use scalefit.compute_optimal on the bootstrap result instead."
                )
            budgets = np.atleast_1d(np.asarray(flops, float))
            if np.any(~np.isfinite(budgets)) or np.any(budgets <= 0):
                raise ScalefitInputError(f"flops must be positive and finite; got {budgets.tolist()}.")
            params = {k: tab[k].to_numpy()[:, None] for k in self.samples.columns}
            n_opt, d_opt, l_opt = chinchilla_compute_optimal(
                params, budgets[None, :], flops_per_param_token=self._flops_per_param_token
            )
            for j, c in enumerate(budgets):
                out[f"n_opt@{c:.3g}"] = n_opt[:, j]
                out[f"d_opt@{c:.3g}"] = d_opt[:, j]
                out[f"loss_opt@{c:.3g}"] = l_opt[:, j]
        if n_params is not None or n_tokens is not None:
            if n_params is None or n_tokens is None:
                raise ScalefitInputError("give both n_params and n_tokens for predictions.")
            Np, Dp = np.broadcast_arrays(np.atleast_1d(np.asarray(n_params, float)), np.atleast_1d(np.asarray(n_tokens, float)))
            # every draw at every point in one call: draws along rows, points along columns
            draws = {k: self.samples[k].to_numpy()[:, None] for k in self.samples.columns}
            pred = evaluate(
                self.fit.law, draws, flops_per_param_token=self._flops_per_param_token, where="derived()",
                n_params=Np, n_tokens=Dp,
            )
            for j, (nn, dd) in enumerate(zip(Np, Dp)):
                out[f"loss@{nn:.3g},{dd:.3g}"] = pred[:, j]
        return out

    def derived_interval(self, level: float = 0.95, **kwargs: Any) -> pd.DataFrame:
        """Bias-corrected percentile intervals (and standard errors) of :meth:`derived` quantities."""
        check_level(level)
        d = self.derived(**kwargs)
        at_fit = replace(self, samples=pd.DataFrame([{k: self.fit.params[k] for k in self.samples.columns}]))
        point = at_fit.derived(**kwargs).iloc[0].to_dict()  # the same quantities at the fit's own estimates
        q = _intervals(d, level, point)
        q["stderr"] = d.std(ddof=1)
        return q

    # ------------------------------------------------------------ output
    def summary(self, levels: Sequence[float] = (0.8, 0.95)) -> Summary:
        """Estimates, bootstrap standard errors and percentile intervals at ``levels`` (text or HTML)."""
        tab = self._with_exponents()
        point = dict(self.fit.params)
        if is_chinchilla(self.fit.law):  # the derived exponents (a law of its own may name a parameter "a")
            point["a"], point["b"] = self.fit.a, self.fit.b
        header = ["name", "estimate", "boot std err"]
        for lv in levels:
            header += [f"{lv:.0%} low", f"{lv:.0%} high"]
        ivs = {lv: self.interval(lv) for lv in levels}
        rows = []
        for name in tab.columns:
            row = [name, point.get(name, float("nan")), float(tab[name].std(ddof=1))]
            for lv in levels:
                row += [ivs[lv].loc[name, "low"], ivs[lv].loc[name, "high"]]
            rows.append(row)
        notes = [
            f"Nonparametric bootstrap: {self.n} resamples of the {self.unit} with replacement, each refitted "
            f"with the same engine (seed {self.seed}); bias-corrected percentile intervals (Efron 1981), which "
            "contain the estimate unless a warning says otherwise.",
        ]
        if "curves" in self.unit:
            notes.append(
                "Coverage measured for training curves like these (benchmarks/bench_coverage.py --design curves: 30 "
                "simulated runs x 10 checkpoints, resampled by run; 100 simulations, 100 resamples): with Chinchilla's "
                "exponents and with alpha = 0.45, beta = 0.25, the intervals printed here covered alpha, beta, a and "
                "N*(1e24) (1,000x beyond the data) 84-86% of the time at nominal 80% and 93-98% at 95%: about nominal, "
                "not conservative. Designs and truths unlike "
                "these were not measured. See benchmarks/RESULTS.md."
            )
        else:
            notes.append(
                "Coverage measured for IsoFLOP grids (benchmarks/bench_coverage.py --design isoflop: 6 budgets x 8 "
                "sizes, 1% noise, resampled by run; 100 simulations per truth, 100 resamples): the intervals printed "
                "here covered alpha, beta, a and N*(1e24) (1,000x beyond the data) 86-93% of the time at nominal 80% "
                "and 99-100% at 95%, with alpha = beta = 0.34 and with alpha = 0.45, beta = 0.25 (wider than nominal); "
                "with Chinchilla's exponents (1,000 simulations, plain percentile intervals) 85-87% and 97-97.5%. "
                "Designs unlike these were not measured. See benchmarks/RESULTS.md."
            )
        n_bad = int((~self.converged).sum())
        if n_bad:
            notes.append(f"{n_bad} of {self.n} refits did not converge; they are kept in the samples.")
        return Summary(f"scalefit bootstrap: {self.fit.law.name}", [("resamples", self.n)], [Table("Bootstrap", header, rows)], notes)

    def to_dict(self, levels: Sequence[float] = (0.8, 0.95)) -> dict:
        """JSON-safe dictionary: resamples, seed, standard errors and intervals at ``levels``."""
        d = {
            "n": int(self.n),
            "seed": int(self.seed),
            "unit": self.unit,
            "stderr": {k: float(v) for k, v in self._with_exponents().std(ddof=1).items()},
            "intervals": self.intervals(levels),
            "n_not_converged": int((~self.converged).sum()),
        }
        return d


    def fit_dict(self, levels: Sequence[float] = (0.8, 0.95), *, samples: bool = True) -> dict:
        """The fit's :meth:`~FitResult.to_dict` with this bootstrap's standard errors and intervals in place.

        With ``samples=True`` the resamples, their objectives and convergence flags are
        included, so :func:`scalefit.load` rebuilds this result whole.
        """
        d = self.fit.to_dict()
        bd = self.to_dict(levels)
        params = list(self.fit.params)
        d["stderr_asymptotic"] = d["stderr"]
        d["stderr"] = {k: bd["stderr"][k] for k in params}
        d["stderr_kind"] = f"bootstrap ({self.n} resamples of the {self.unit})"
        d["intervals"] = {k: v for k, v in bd["intervals"].items() if k in params}
        if "derived" in d:
            for k in ("a", "b"):
                d["derived"][f"{k}_stderr"] = bd["stderr"].get(k)
                d["derived"][f"{k}_intervals"] = bd["intervals"].get(k)
        d["bootstrap"] = {"n": self.n, "seed": self.seed, "unit": self.unit, "n_not_converged": bd["n_not_converged"]}
        if samples:
            d["bootstrap"]["samples"] = self.samples.to_dict(orient="records")
            d["bootstrap"]["objective"] = [float(v) for v in np.asarray(self.objective, dtype=float)]
            d["bootstrap"]["converged"] = [bool(v) for v in np.asarray(self.converged)]
        return d

    def to_json(self, path: str | None = None, *, overwrite: bool = False, levels: Sequence[float] = (0.8, 0.95)) -> str:
        """JSON text of :meth:`fit_dict` (samples included); written to ``path`` when given.

        :func:`scalefit.load` reads it back as a fit whose ``bootstrap`` is this
        result, number for number.  The file is written atomically and marked as
        scalefit's; an existing file is replaced only with ``overwrite=True``.
        """
        import json

        d = self.fit_dict(levels, samples=True)
        if path is not None:
            from .._io import write_json

            write_json(path, d, replace="any" if overwrite else "never")
        return json.dumps(jsonable(d), indent=2)

    def __repr__(self) -> str:
        return (f"BootstrapResult(law={self.fit.law.name!r}, n={self.n}, seed={self.seed}, unit={self.unit!r}, "
                f"not_converged={int((~np.asarray(self.converged)).sum())})")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def to_frame(self) -> pd.DataFrame:
        """One row per resample: the parameters (and a, b for Chinchilla forms), ``objective`` and ``converged``."""
        tab = self._with_exponents()
        tab["objective"] = np.asarray(self.objective, dtype=float)
        tab["converged"] = np.asarray(self.converged, dtype=bool)
        return tab


# ========================================================================
def _attached() -> bool:
    """True when someone watches: stderr is a terminal, or the code runs in a Jupyter kernel."""
    if bool(getattr(sys.stderr, "isatty", lambda: False)()):
        return True
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"  # a notebook / Jupyter kernel, not a plain console


def _parallel(n_jobs: int) -> Any:
    """``joblib.Parallel`` yielding results as they finish; a list where the backend cannot (Ray, multiprocessing).

    The backend comes from ``joblib.parallel_config`` (Dask, Ray, ...); the results are
    the same either way because every resample seeds itself (``default_rng([seed, i])``).
    """
    from joblib import Parallel

    try:
        return Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError as exc:
        if "does not support return_as" not in str(exc):
            raise
        return Parallel(n_jobs=n_jobs, return_as="list")


# ========================================================================
def _intervals(draws: pd.DataFrame, level: float, point: Mapping[str, float] | None = None) -> pd.DataFrame:
    """``low``/``high`` interval of each column of ``draws``: bias-corrected percentile with the ``point`` estimates."""
    est = None if point is None else np.array([point.get(c, np.nan) for c in draws.columns], dtype=float)
    low, high = percentile_interval(draws.to_numpy(dtype=float), level, axis=0, estimate=est, what=list(draws.columns))
    return pd.DataFrame({"low": low, "high": high}, index=draws.columns)


def _resample_weights(units: np.ndarray, n_units: int, seed: int, idx: Iterable[int]) -> np.ndarray:
    """Integer weights per row for the resamples ``idx``: counts of each unit drawn.

    Resample ``i`` draws ``numpy.random.default_rng([seed, i]).integers(0, n_units, n_units)``;
    :func:`._draws.counts` computes those counts for many resamples at once, draw for draw the same.
    """
    return _draws.counts(seed, idx, n_units)[:, units].astype(float)


def _chinchilla_chunk(fit_result: Any, idx: Sequence[int], seed: int, units: np.ndarray, n_units: int):
    """Refit resamples ``idx`` of a Chinchilla-form fit as one batched Newton problem.

    Every resample is polished from the full fit's best minimum.  Each other distinct
    minimum of the full fit is then screened for every resample at once
    (:func:`._chinchilla.basin_screen`): where the resample's objective there, less the
    decrease a Newton step promises, comes within 10% of the resample's polished objective,
    the resample is polished from that minimum too and keeps the better point.  A resample
    whose polish does not converge is refitted with the full search of :func:`scalefit.fit`
    (variable-projection seeds, every basin) and keeps the better point.
    """
    problem = fit_result.problem
    with _chinchilla.single_thread(), np.errstate(all="ignore"):
        prob, red = _chinchilla.engine_problem(problem)
        W = _resample_weights(units, n_units, seed, idx) * problem.weights[None, :]
        starts = fit_result.solution.minima
        if starts is None or len(starts) == 0:
            starts = _chinchilla.theta_from_params(fit_result.params)[None, :]
        K = W.shape[0]
        main = _chinchilla.polish(np.repeat(starts[:1], K, axis=0), prob, red, W, lam0=_LAM0, fast_steps=True, ftol=_FTOL, gtol=_GTOL)
        best_theta, best_f, best_conv = main.theta, main.f, main.converged
        search = np.zeros(K, bool)  # resamples refitted with the full search
        for s in starts[1:]:
            f_at, decrease = _chinchilla.basin_screen(s, prob, red, W)
            rows = np.flatnonzero(~(f_at - decrease > _HOPELESS * best_f))
            theta = np.repeat(s[None, :], rows.size, axis=0)
            lam = np.full(rows.size, _LAM0)
            for _ in range(_ROUNDS):
                if rows.size == 0:
                    break
                # a few Newton steps, then the same screen at the points reached
                pr = _chinchilla.polish(theta, prob, red, W[rows], max_iter=_STEPS, lam0=lam, fast_steps=True, ftol=_FTOL, gtol=_GTOL)
                better = pr.converged & (pr.f < best_f[rows])
                sel = rows[better]
                best_f[sel], best_theta[sel], best_conv[sel] = pr.f[better], pr.theta[better], True
                go_on = ~pr.converged & ~(pr.f - pr.decrease > _HOPELESS * best_f[rows])
                rows, theta, lam = rows[go_on], pr.theta[go_on], pr.lam[go_on]
            search[rows] = True  # still undecided after every round
        for i in np.flatnonzero(~best_conv | search):
            sol = _chinchilla.fit_chinchilla(problem.with_weights(W[i]))
            if sol.objective <= best_f[i]:
                best_f[i], best_theta[i] = sol.objective, red.theta(sol.z[None, :])[0]
                best_conv[i] = sol.converged
    return best_theta, best_f, best_conv


#: The bootstrap's polish starts nearly undamped (a warm start sits next to its minimum) and solves
#: steps without eigendecompositions where the Hessian is positive definite (``fast_steps``).
_LAM0 = 1e-7
#: The refits stop at a relative objective change of 1e-10 with a gradient within 1e-7 of its scale
#: (the fit's 1e-13 and 1e-9 cost 15% more Newton steps and moved no standard error: the parameters
#: moved by at most 4e-7, objectives by at most 1e-14 relative, against 3e-2 at 1e-8 and 1e-5;
#: benchmarks/RESULTS.md, "Issue 12: the batched bootstrap, second pass").
_FTOL, _GTOL = 1e-10, 1e-7
#: Another basin of the full fit is written off for a resample once its objective there, less the
#: decrease an optimistic Newton model promises, exceeds this multiple of the resample's best.
_HOPELESS = 1.1
_STEPS, _ROUNDS = 4, 50  # 200 Newton steps in all, as one polish


def _generic_chunk(fit_result: Any, idx: Sequence[int], seed: int, units: np.ndarray, n_units: int):
    problem = fit_result.problem
    W = _resample_weights(units, n_units, seed, idx) * problem.weights[None, :]
    warm = fit_result.solution.z  # the optimum itself: a round trip through natural values loses it where exp underflows
    out_z, out_f, out_c = [], [], []
    for w in W:
        with np.errstate(all="ignore"):
            sol = _generic.fit_generic(problem.with_weights(w), seed=seed, max_starts=4, warm=warm, derivatives=False)
        out_z.append(sol.z)
        out_f.append(sol.objective)
        out_c.append(sol.converged)
    return np.array(out_z), np.array(out_f), np.array(out_c)


def _likelihood_chunk(fit_result: Any, idx: Sequence[int], seed: int, units: np.ndarray, n_units: int):
    """Refit the Huber-likelihood objective (:mod:`._likelihood`) on each resample, from the full fit's optimum."""
    problem = fit_result.problem
    W = _resample_weights(units, n_units, seed, idx) * problem.weights[None, :]
    warm = fit_result.solution.z
    out_z, out_f, out_c = [], [], []
    for w in W:
        with np.errstate(all="ignore"):
            z, _, f, conv, _ = _likelihood.maximise(problem.with_weights(w), [warm])
        out_z.append(z)
        out_f.append(f)
        out_c.append(conv)
    return np.array(out_z), np.array(out_f), np.array(out_c)


def _default_chunk(batched: bool, n_rows: int) -> int:
    """Resamples per task: for the batched engine as many as fit in _CHUNK_VALUES values per array."""
    if not batched:
        return _CHUNK
    return int(min(_CHUNK_MAX, max(1, _CHUNK_VALUES // max(n_rows, 1))))


def _default_jobs(batched: bool, n: int, n_rows: int, n_chunks: int) -> int:
    """Workers for ``n_jobs=None``: serial unless the work outweighs starting the workers.

    The work is estimated as resamples x rows x a cost per resample-row measured on the
    replication data (benchmarks/RESULTS.md); starting joblib's process workers costs about
    _WORKER_START seconds, which two workers recover only when the serial work takes at least
    twice as long.
    """
    import os

    cores = os.cpu_count() or 1
    if cores == 1 or n_chunks == 1:
        return 1
    seconds = n * n_rows * (_COST_BATCHED if batched else _COST_ONE_BY_ONE)
    return -1 if seconds * (1.0 - 1.0 / cores) > _WORKER_START else 1


#: Measured costs (benchmarks/RESULTS.md, "Issue 12: batched bootstrap"): CPU seconds per
#: resample-row for the batched Chinchilla engine and for one-at-a-time refits, and the wall time
#: of starting joblib's default (loky) workers.
_COST_BATCHED = 1e-6
_COST_ONE_BY_ONE = 5e-3
_WORKER_START = 2.0


def bootstrap(fit_result: Any, n: int = 1000, *, seed: int = 0, n_jobs: int | None = None, progress: bool | None = None,
              chunk_size: int | None = None) -> BootstrapResult:
    """Bootstrap a :class:`~scalefit.FitResult` (see :meth:`FitResult.bootstrap`).

    Parameters
    ----------
    fit_result : FitResult
        A fit carrying its data (``problem`` and ``runs``).
    n : int
        Number of resamples.
    seed : int
        Seed; resample ``i`` uses ``numpy.random.default_rng([seed, i])``.
    n_jobs : int, optional
        Parallel workers through joblib (-1: all cores).  Default: chosen from the amount of
        work, serial where starting workers would cost more than they save.  Results do not
        depend on it.
    progress : bool, optional
        Show a progress bar (``tqdm.auto``: a widget in a notebook, text in a
        terminal); default: when a notebook or a terminal is attached.
    chunk_size : int, optional
        Resamples per task (the unit of parallel work and of the progress bar).  Default:
        for the Chinchilla forms, as many as keep each batched array near 2**20 values
        (at most 2,000); 250 otherwise.  Results are identical whatever ``n_jobs`` and the
        joblib backend for a given chunk size; another chunk size batches resamples
        differently, which changes results only at rounding level.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ScalefitInputError
        ``n`` is not an integer of at least 2, or the fit carries no data.
    """
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise ScalefitInputError(f"n must be a positive integer; got {n!r}.") from None
    if n < 2:
        raise ScalefitInputError(f"n must be at least 2 resamples; got {n}.")
    seed = check_seed(seed, where="bootstrap")
    if n_jobs is not None:
        n_jobs = check_n_jobs(n_jobs, where="bootstrap")
    if chunk_size is not None:
        chunk_size = check_integer(chunk_size, "chunk_size", minimum=1, where="bootstrap")
    if getattr(fit_result, "runs", None) is None or getattr(fit_result, "problem", None) is None:
        raise ScalefitInputError("this fit carries no data (was it loaded from JSON?); refit with scalefit.fit to bootstrap.")
    table = fit_result.runs.table
    if "run" in table.columns and table["run"].nunique() < len(table):
        codes, uniq = pd.factorize(table["run"])
        units, n_units, unit = codes, len(uniq), "runs (curves grouped by run)"
    else:
        units, n_units, unit = np.arange(len(table)), len(table), "runs"
    likelihood = fit_result.problem.loss == "huber-likelihood"
    # the Chinchilla engine refits only the objectives it computes (as fit() routes them); others go to the generic one
    chinchilla_engine = is_chinchilla(fit_result.law) and fit_result.problem.loss in CHINCHILLA_ENGINE_LOSSES
    if likelihood:
        worker = _likelihood_chunk
    else:
        worker = _chinchilla_chunk if chinchilla_engine else _generic_chunk
    batched = worker is _chinchilla_chunk
    size = chunk_size if chunk_size is not None else _default_chunk(batched, len(table))
    chunks = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    if n_jobs is None:
        n_jobs = _default_jobs(batched, n, len(table), len(chunks))
    if progress is None:
        progress = _attached()
    bar = None
    if progress:
        from .._progress import progress_bar

        bar = progress_bar(n, "bootstrap")
    try:
        if n_jobs == 1 or len(chunks) == 1:
            parts = []
            for c in chunks:
                parts.append(worker(fit_result, c, seed, units, n_units))
                if bar is not None:
                    bar.update(len(c))
        else:
            from joblib import delayed

            gen = _parallel(n_jobs)(delayed(worker)(fit_result, c, seed, units, n_units) for c in chunks)
            parts = []
            for c, part in zip(chunks, gen):
                parts.append(part)
                if bar is not None:
                    bar.update(len(c))
    finally:
        if bar is not None:
            bar.close()
    theta = np.concatenate([p[0] for p in parts])
    fvals = np.concatenate([p[1] for p in parts])
    conv = np.concatenate([p[2] for p in parts])
    spec = fit_result.problem.spec
    if chinchilla_engine and not likelihood:
        E, A, B = np.exp(theta[:, 0]), np.exp(theta[:, 1]), np.exp(theta[:, 2])
        cols = {"E": E, "A": A, "B": B, "alpha": theta[:, 3], "beta": theta[:, 4]}
        samples = pd.DataFrame({k: cols[k] for k in spec.names})
    else:
        internal = theta @ spec.T.T + spec.c
        nat = np.where(spec.log[None, :], np.exp(internal), internal)
        samples = pd.DataFrame(nat, columns=list(spec.names))
    return BootstrapResult(fit_result, samples, fvals, conv.astype(bool), n, int(seed), unit)
