"""The result of a fit: FitResult, its diagnostics and standard errors, and fits read back from JSON."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from .._json import jsonable
from .._summary import Summary, Table
from ..laws import Law, chinchilla_exponents, chinchilla_values, evaluate, is_chinchilla
from ._problem import asymmetry, loss_label, rho as _rho
from ._problem import Problem, Solution, Spec

if TYPE_CHECKING:
    from ._loaded import LoadedFit
    from .bootstrap import BootstrapResult


@dataclass(frozen=True)
class Diagnostics:
    """Diagnostics of a fit.

    Attributes
    ----------
    at_bound : dict
        Parameter -> "lower"/"upper" for parameters that ended at a bound.
    condition_number : float
        Condition number of the objective's Hessian over the free parameters
        (internal coordinates), scaled to a unit diagonal so that no
        parameter's units count.  Large values (> 1e8) mean some combination of
        parameters is barely determined by the data.
    outliers : pandas.DataFrame
        Runs whose residual exceeds 3 robust standard deviations (1.4826 MAD),
        with their original row numbers.
    gradient_norm : float
        Norm of the projected gradient at the optimum.
    n_local_minima : int
        Distinct local minima reached from the starts.
    second_best_objective : float
        Best objective among the other local minima (``nan`` if none).
    trust_issues : tuple of str
        Why the values should not be trusted even if the optimiser converged:
        an exponent at a bound, or a scale parameter that exploded (more than
        1e6 times, or less than 1e-6 times, its law's typical value).
    """

    at_bound: dict
    condition_number: float
    outlier_rows: np.ndarray = field(repr=False)  # (k,) int: the outliers' rows (built into ``outliers`` on use)
    gradient_norm: float
    n_local_minima: int
    second_best_objective: float
    trust_issues: tuple = ()
    outlier_residuals: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @cached_property
    def outliers(self) -> pd.DataFrame:
        """Outlying runs: their original ``row`` and ``residual`` (built on first use: a fit rarely needs the frame)."""
        return pd.DataFrame({"row": np.asarray(self.outlier_rows, dtype=int), "residual": self.outlier_residuals})

    def to_dict(self) -> dict:
        return {
            "at_bound": dict(self.at_bound),
            "condition_number": jsonable(self.condition_number),
            "outliers": [
                {"row": int(r.row), "residual": jsonable(r.residual)} for r in self.outliers.itertuples(index=False)
            ],
            "gradient_norm": jsonable(self.gradient_norm),
            "n_local_minima": int(self.n_local_minima),
            "second_best_objective": jsonable(self.second_best_objective),
            "trust_issues": list(self.trust_issues),
        }


@dataclass(frozen=True, eq=False)
class FitResult:
    """Result of :func:`scalefit.fit` (frozen).

    Attributes
    ----------
    law : Law
        The fitted law.
    params : dict
        Fitted parameters on their natural scale (E, A, B, alpha, beta for Chinchilla).
    stderr : dict
        Asymptotic standard errors (see ``stderr_kind``); ``nan`` for fixed parameters.
    stderr_kind : str
        How ``stderr`` was computed.
    covariance : pandas.DataFrame
        Asymptotic covariance of the free parameters, natural scale.
    objective : float
        Minimised objective: ``sum(weight * rho(residual))``.
    success : bool
        Whether the optimiser converged (projected gradient ~ 0).
    message : str
    n_runs : int
        Observations used.
    n_starts : int
        Local optimisations run.
    n_local_minima : int
        Distinct local minima reached.
    residuals : numpy.ndarray
        Residuals at the optimum, in the fitted space.
    diagnostics : Diagnostics
    options : dict
        loss, delta, space, fixed, tie, bounds, weights given.
    problem : Problem
        What was fitted (read-only): the law, the parameter map
        (``problem.spec``: bounds, ties, fixed values), the inputs, the
        observed losses, the weights and the objective's options.
    solution : Solution
        What the engine returned (read-only): the optimum in the optimiser's
        coordinates, its Hessian and Jacobian, and the distinct minima.
    excluded : pandas.DataFrame
        Rows of the input excluded before fitting, and why.
    runs : Runs
        The runs fitted.
    warnings : tuple of dict
        What the fit warned about, as ``{"category", "message", "fatal"}``;
        a planner refuses a fit with a ``fatal`` one unless forced, and
        carries the others into the plan.
    """

    law: Law
    params: dict
    stderr: dict
    stderr_kind: str
    covariance_matrix: np.ndarray = field(repr=False)  # (m, m) natural scale, the free parameters (``covariance``)
    objective: float
    success: bool
    message: str
    n_runs: int
    n_starts: int
    n_local_minima: int
    residuals: np.ndarray
    diagnostics: Diagnostics
    options: dict
    problem: Problem = field(repr=False)
    solution: Solution = field(repr=False)
    runs: Any = field(default=None, repr=False)
    warnings: tuple = ()
    covariance_names: tuple = field(default=(), repr=False)  # the free parameters, rows and columns of ``covariance``

    # frames built on first use (a fit is often only read for its parameters: building three
    # pandas frames cost about a tenth of a 240-run fit)
    @cached_property
    def covariance(self) -> pd.DataFrame:
        """Asymptotic covariance of the free parameters, natural scale (a frame indexed by their names)."""
        names = list(self.covariance_names)
        return pd.DataFrame(self.covariance_matrix, index=names, columns=names) if names else pd.DataFrame()

    @cached_property
    def excluded(self) -> pd.DataFrame:
        """Rows of the input excluded before fitting, and why (a copy of the runs' ``excluded``)."""
        ex = getattr(self.runs, "excluded", None)
        return pd.DataFrame(columns=["row", "reason"]) if ex is None else ex.copy()

    # ------------------------------------------------------------ predictions
    def predict(self, n_params: Any = None, n_tokens: Any = None, *, interval: str | None = None,
                level: float = 0.95, bootstrap: "BootstrapResult | None" = None, n_boot: int = 200,
                seed: int = 0, extrapolation: bool = True, **inputs: Any) -> Any:
        """Predicted loss; arrays broadcast (``predict(n_params=[1e9, 1e10], n_tokens=2e10)``).

        Parameters
        ----------
        n_params, n_tokens, **inputs : array-like
            The law's inputs (``flops``, ``unique_tokens``, ...).
        interval : {None, "confidence", "prediction"}
            None returns the point forecast as an array.  ``"confidence"``
            adds the bootstrap interval of the law's value (parameter
            uncertainty); ``"prediction"`` also adds the run-to-run noise the
            residuals show and, beyond the largest run, the extrapolation error
            per decade measured by an inner backtest on this fit's runs, for
            the loss a new run will reach (see :mod:`scalefit.fitting._predictive`).
        level : float, default 0.95
            Coverage of the interval.
        bootstrap : BootstrapResult, optional
            Parameter draws to use; by default ``self.bootstrap(n_boot, seed=seed)``.
        n_boot, seed : int
            Resamples and seed when the bootstrap is run here.
        extrapolation : bool, default True
            With ``interval="prediction"``: include the extrapolation term
            (the frame's ``attrs["calibration"]`` says what was measured);
            False keeps parameter uncertainty and noise only.

        Returns
        -------
        numpy.ndarray, or pandas.DataFrame with an interval
            With ``interval``: one row per point, the inputs and ``prediction``,
            ``low``, ``high``.

        Raises
        ------
        ScalefitInputError
            If an input the law needs is missing or not positive, or
            ``interval`` or ``level`` is not valid.
        """
        if interval is not None:
            from ._predictive import interval_frame

            given = dict(inputs, n_params=n_params, n_tokens=n_tokens)
            return interval_frame(self, given, interval=interval, level=level, bootstrap=bootstrap, n_boot=n_boot,
                                  seed=seed, extrapolation=extrapolation)
        k = self.runs.flops_per_param_token if self.runs is not None else 6.0
        return _predict(self.law, self.params, k, n_params=n_params, n_tokens=n_tokens, **inputs)

    @property
    def trustworthy(self) -> bool:
        """False when an exponent sits at a bound or a scale parameter exploded (``diagnostics.trust_issues``).

        ``success`` says the optimiser converged; this says whether what it converged to means anything.
        """
        return not self.diagnostics.trust_issues

    @property
    def fitted(self) -> np.ndarray:
        """Predicted loss at each fitted run."""
        return self.law(self.params, **self.problem.inputs)

    # ------------------------------------------------------------- derived
    @property
    def a(self) -> float:
        """Compute-optimal exponent a = beta/(alpha+beta) with N* proportional to C^a (Chinchilla forms)."""
        _, _, _, al, be = chinchilla_values(self.params)
        return chinchilla_exponents(al, be)[0]

    @property
    def b(self) -> float:
        """Exponent b = alpha/(alpha+beta) with D* proportional to C^b (Chinchilla forms)."""
        _, _, _, al, be = chinchilla_values(self.params)
        return chinchilla_exponents(al, be)[1]

    # ------------------------------------------------------------ bootstrap
    def bootstrap(
        self,
        n: int = 1000,
        *,
        seed: int = 0,
        n_jobs: int | None = None,
        progress: bool | None = None,
        chunk_size: int | None = None,
    ) -> "BootstrapResult":
        """Resample runs with replacement and refit each sample with the same engine.

        See :func:`scalefit.fitting.bootstrap.bootstrap` (``n_jobs=None``: workers
        chosen from the amount of work).
        """
        from .bootstrap import bootstrap

        return bootstrap(self, n=n, seed=seed, n_jobs=n_jobs, progress=progress, chunk_size=chunk_size)

    # -------------------------------------------------------------- output
    def sensitivity(self, budgets: Any, *, bootstrap: Any = None, likelihood: bool = False):
        """How a, N* and D* at ``budgets`` move across objectives; see :func:`scalefit.fitting._sensitivity.sensitivity`.

        Refits these runs with Huber on log-loss, least squares on log-loss and
        least squares on loss (and the Huber likelihood with ``likelihood=True``);
        warns :class:`scalefit.SensitivityWarning` when they disagree by more than
        1.96 standard errors of a (of ``bootstrap`` when given).  None for laws
        other than the Chinchilla forms.
        """
        from ._sensitivity import sensitivity

        return sensitivity(self, budgets, bootstrap=bootstrap, likelihood=likelihood)

    def summary(self) -> Summary:
        """Summary of the fit: parameters with standard errors and diagnostics (text or HTML)."""
        info = [
            ("law", f"{self.law.name}: {self.law.formula}" if self.law.formula else self.law.name),
            ("objective", f"{'' if self.options.get('loss') == 'huber-likelihood' else 'sum of '}{self._loss_label()} on {self.options.get('space')} loss"),
            ("objective value", self.objective),
            ("success", self.success),
            ("message", self.message),
            ("runs used", self.n_runs),
            ("runs excluded", len(self.excluded)),
            ("starts", self.n_starts),
            ("distinct local minima", self.n_local_minima),
            ("Hessian condition number", self.diagnostics.condition_number),
        ]
        auto = self.options.get("auto")
        if auto:
            runner = auto.get("runner_up")
            info.insert(1, ("law='auto' chose", f"{auto['chosen']} ({auto['objective']}): {auto['why']}"))
            info.insert(2, ("runner-up", "-" if not runner else
                            f"{runner['law']} ({runner['objective']}), mean error {runner['mean_error']:.3g}%"
                            + (f", worst {runner['max_error']:.3g}%" if runner.get("max_error") is not None else "")))
        rows = []
        spec = self.problem.spec
        for n in self.law.param_names:
            status = "fixed" if n in spec.fixed else ("tied" if any(n in g and len(g) > 1 for g in spec.groups) else "")
            if n in self.diagnostics.at_bound:
                status = (status + " " if status else "") + f"at {self.diagnostics.at_bound[n]} bound"
            rows.append((n, self.params[n], self.stderr.get(n, float("nan")), status))
        tables = [Table("Parameters", ("name", "value", "std err", "note"), rows)]
        if is_chinchilla(self.law):
            tables.append(Table("Derived", ("name", "value", ""), [("a = beta/(alpha+beta)", self.a, ""), ("b = alpha/(alpha+beta)", self.b, "")]))
        notes = [f"Standard errors: {self.stderr_kind}. For intervals you can trust on flat objectives, use .bootstrap()."]
        if len(self.diagnostics.outliers):
            rr = ", ".join(str(int(r)) for r in self.diagnostics.outliers["row"][:10])
            more = ", ..." if len(self.diagnostics.outliers) > 10 else ""
            notes.append(
                f"{len(self.diagnostics.outliers)} run(s) with residuals beyond 3 robust standard deviations "
                f"(0-based data rows {rr}{more}); see result.diagnostics.outliers."
            )
        if self.diagnostics.at_bound:
            notes.append(f"parameters at a bound: {self.diagnostics.at_bound}; the optimum may lie outside the bounds.")
        if not self.success:
            notes.append("the optimiser did not converge; treat the values with suspicion.")
        if not self.trustworthy:
            notes.append("NOT TRUSTWORTHY: " + "; ".join(self.diagnostics.trust_issues)
                         + ". The data do not pin this law down (outliers, too narrow a range?); do not plan with it.")
        if self.runs is not None:
            notes.extend(f"input: {n}" for n in self.runs.notes)
        return Summary(f"scalefit fit: {self.law.name}", info, tables, notes)

    def _loss_label(self) -> str:
        if self.options.get("loss") == "huber-likelihood":
            return (f"negative Huber log-likelihood (delta={self.options.get('delta')} in units of the fitted "
                    f"scale s={self.options.get('scale', float('nan')):.4g}; Besiroglu et al. 2024)")
        return loss_label(str(self.options.get("loss")), float(self.options.get("delta", float("nan"))))

    def to_dict(self) -> dict:
        """JSON-safe dictionary (inverse: :meth:`from_dict`)."""
        d = {
            "law": self.law.name,
            "params": {k: jsonable(v) for k, v in self.params.items()},
            "stderr": {k: jsonable(v) for k, v in self.stderr.items()},
            "stderr_kind": self.stderr_kind,
            "objective": jsonable(self.objective),
            "success": bool(self.success),
            "trustworthy": bool(self.trustworthy),
            "message": self.message,
            "n_runs": int(self.n_runs),
            "n_starts": int(self.n_starts),
            "n_local_minima": int(self.n_local_minima),
            "diagnostics": self.diagnostics.to_dict(),
            "options": jsonable(self.options),
            "excluded": [
                {"row": int(r["row"]), "reason": str(r["reason"])} for _, r in self.excluded.iterrows()
            ],
            "warnings": [dict(w) for w in self.warnings],
        }
        if is_chinchilla(self.law):
            d["derived"] = {"a": jsonable(self.a), "b": jsonable(self.b)}
        if self.runs is not None:  # so a plan read back from JSON can still tell when it extrapolates
            d["input"] = {  # which source column became which input, and every choice made on the way
                "source": str(self.runs.source),
                "columns": {str(k): str(v) for k, v in self.runs.column_map.items()},
                "derived": list(self.runs.derived),
                "notes": list(self.runs.notes),
            }
            d["flops_per_param_token"] = float(self.runs.flops_per_param_token)
            ratio = np.asarray(self.runs.n_tokens, float) / np.asarray(self.runs.n_params, float)
            d["data_range"] = {
                k: [jsonable(np.min(v)), jsonable(np.max(v))]
                for k, v in (("n_params", self.runs.n_params), ("n_tokens", self.runs.n_tokens), ("flops", self.runs.flops),
                             ("tokens_per_param", ratio))
            }
        return d

    def to_json(self, path: str | Path | None = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given.

        The file is written atomically with a ``"written_by"`` key naming scalefit
        (:func:`scalefit._io.write_json`); an existing file or link is replaced
        only with ``overwrite=True`` (raises ``OutputExistsError``, a
        ``FileExistsError`` and ``ScalefitInputError``, otherwise).
        """
        d = self.to_dict()
        if path is not None:
            from .._io import write_json

            write_json(path, d, replace="any" if overwrite else "never")
        return json.dumps(d, indent=2)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "LoadedFit":
        """Rebuild a lightweight fit (law and parameters) from :meth:`to_dict` output or a JSON file's content."""
        from ._loaded import LoadedFit

        return LoadedFit.from_dict(d)

    def to_lmfit(self):
        """The parameters as an ``lmfit.Parameters`` (values, bounds, standard errors, fixed/tied)."""
        import lmfit

        pars = lmfit.Parameters()
        spec = self.problem.spec
        for n in self.law.param_names:
            lo, hi = spec.bounds[n]
            expr = None
            for g in spec.groups:
                if n in g and g[0] != n:
                    expr = g[0]
            pars.add(n, value=self.params[n], min=lo, max=hi, vary=n not in spec.fixed and expr is None, expr=expr)
            se = self.stderr.get(n)
            if se is not None and math.isfinite(se):
                pars[n].stderr = se
        return pars

    def fit_report(self) -> str:
        """lmfit-style text report."""
        import lmfit

        return lmfit.printfuncs.fit_report(self.to_lmfit())

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: ``value`` and ``stderr`` (bootstrap intervals: ``bootstrap(n).interval()``)."""
        frame = pd.DataFrame({"value": pd.Series(self.params, dtype=float),
                              "stderr": pd.Series(self.stderr, dtype=float).reindex(list(self.params))})
        frame.index.name = "parameter"
        return frame

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.5g}" for k, v in self.params.items())
        return f"FitResult(law={self.law.name!r}, {ps}, objective={self.objective:.6g}, success={self.success})"


def _predict(law: Law, params: Mapping[str, float], flops_per_param_token: float, **inputs: Any) -> np.ndarray:
    """The law's prediction through :func:`scalefit.laws.evaluate` (a scalar for scalar inputs)."""
    out = evaluate(law, params, flops_per_param_token=flops_per_param_token, where="predict()", **inputs)
    return out if out.ndim else out[()]


# ------------------------------------------------------ standard errors
def asymptotic_stderr(spec: Spec, internal: np.ndarray, J: np.ndarray, resid: np.ndarray, w: np.ndarray,
                      loss: str, delta: float) -> tuple[dict, tuple[np.ndarray, tuple], str]:
    """Huber (1981) asymptotic covariance of an M-estimator: ``(stderr, (covariance, free names), kind)``.

    Cov(z) = s^2 / m^2 * (sum_i w_i g_i g_i^T)^-1, with g_i the gradient of the
    residual of run i, s^2 = sum w psi(r)^2 / (n - p) and m the mean of psi'(r),
    kernel-smoothed so that the few residuals inside +-delta do not make it jump.
    For loss="mse" this is the usual least-squares covariance.
    """
    huber = loss.startswith("huber")
    kind = "asymptotic (Huber 1981 M-estimator formula; kernel-smoothed psi')" if huber else "asymptotic (least squares)"
    m_ = spec.n_free
    names_free = [g[0] for g in spec.groups]
    nan = {n: float("nan") for n in spec.names}
    if m_ == 0:
        return nan, (np.zeros((0, 0)), ()), kind
    r = np.asarray(resid, float)
    ok = w > 0
    n = int(ok.sum())
    _, psi, _ = _rho(r, loss, delta)
    if huber:
        from scipy.special import ndtr  # the normal CDF (what scipy.stats.norm.cdf calls), without scipy.stats' 0.5-1 s import

        scale = 1.4826 * np.median(np.abs(r[ok] - np.median(r[ok]))) or np.std(r[ok]) or delta
        h = max(1.06 * scale * n ** (-0.2), delta)
        # smoothed psi' is 1 on (-delta, 0] and k on (0, delta] (k = 1 unless over-predictions are penalised)
        below = ndtr(-r[ok] / h) - ndtr((-delta - r[ok]) / h)
        above = ndtr((delta - r[ok]) / h) - ndtr(-r[ok] / h)
        mbar = float(np.mean(below + asymmetry(loss) * above))
    else:
        mbar = 1.0
    s2 = float(np.sum(w * psi * psi) / max(n - m_, 1))
    F = (J * w[:, None]).T @ J
    try:
        cov_z = s2 / (mbar * mbar) * np.linalg.inv(F)
    except np.linalg.LinAlgError:
        cov_z = np.full((m_, m_), np.nan)
    # natural scale: delta method
    jac_nat = np.array([float(np.exp(internal[spec.names.index(g[0])])) if spec.log[spec.names.index(g[0])] else 1.0 for g in spec.groups])
    cov_nat = cov_z * np.outer(jac_nat, jac_nat)
    se = {}
    for j, g in enumerate(spec.groups):
        v = cov_nat[j, j]
        for nme in g:
            se[nme] = float(np.sqrt(v)) if v >= 0 else float("nan")
    for nme in spec.names:
        se.setdefault(nme, float("nan"))
    return se, (cov_nat, tuple(names_free)), kind


# ------------------------------------------------------------ diagnostics
def diagnostics(spec: Spec, z: np.ndarray, H_z: np.ndarray, resid: np.ndarray, runs: Any, gnorm: float,
                n_minima: int, second: float, law: Law | None = None, params: Mapping[str, float] | None = None) -> Diagnostics:
    """Bounds reached, Hessian condition number and outlying runs at the optimum."""
    at_bound = {}
    for j, g in enumerate(spec.groups):
        lo, hi = spec.lower[j], spec.upper[j]
        tol = 1e-6 * max(1.0, abs(z[j]))
        for nme in g:
            if np.isfinite(lo) and z[j] - lo <= tol:
                at_bound[nme] = "lower"
            elif np.isfinite(hi) and hi - z[j] <= tol:
                at_bound[nme] = "upper"
    try:
        # on the Hessian scaled to unit diagonal: a parameter's units (A near 400 or its log) do not change how
        # well the data pin the parameters down; near-collinear parameters still make it singular (a user law
        # with A on a linear scale read 3.4e13 and was refused a plan for the built-in law's own optimum)
        d = np.sqrt(np.abs(np.diag(H_z))) if H_z.size else np.ones(0)
        scaled = H_z / np.outer(d, d) if H_z.size and np.all(d > 0) and np.all(np.isfinite(d)) else H_z
        sv = np.linalg.svd(scaled, compute_uv=False) if H_z.size else np.array([1.0])
        cond = float(sv.max() / sv.min()) if sv.min() > 0 else float("inf")
    except np.linalg.LinAlgError:
        cond = float("nan")
    r = np.asarray(resid, float)
    med = np.median(r)
    mad = 1.4826 * np.median(np.abs(r - med))
    out = np.abs(r - med) > 3 * mad if mad > 0 else np.zeros(r.shape, bool)
    if out.any():
        rows = runs.table["row"].to_numpy() if "row" in runs.table.columns else np.arange(len(r))
    else:
        rows = np.zeros(len(r), int)
    issues = trust_issues(law, spec, params, at_bound) if law is not None and params is not None else ()
    return Diagnostics(at_bound, cond, rows[out].astype(int), float(gnorm), int(n_minima), float(second), issues,
                       r[out])


#: A scale parameter more than this many decades from its law's typical value has exploded (B = 1.9e42 for 400).
EXPLODED_DECADES = 6.0


def trust_issues(law: Law, spec: Spec, params: Mapping[str, float], at_bound: Mapping[str, str]) -> tuple[str, ...]:
    """Reasons not to trust a fit: free exponents at a bound, exploded free scale parameters."""
    out = []
    for p in law.params:
        if p.name in spec.fixed or p.name not in params:
            continue
        v = float(params[p.name])
        if not p.log and p.name in at_bound:
            out.append(f"exponent {p.name} = {v:.4g} sits at its {at_bound[p.name]} bound")
        elif p.log and p.value > 0 and v > 0 and abs(math.log10(v / p.value)) > EXPLODED_DECADES:
            out.append(f"scale parameter {p.name} = {v:.3g} is {v / p.value:.1e} times the law's typical {p.value:g}")
        elif p.log and not math.isfinite(v):
            out.append(f"scale parameter {p.name} is {v}")
    return tuple(out)
