"""Fit a scaling law to runs: objective, optimiser, result.

:func:`fit` minimises the sum over runs of ``weight * rho(residual)``, where the
residual is ``log L_hat - log L`` (``space="log"``, the default, as Hoffmann et
al. 2022) or ``L_hat - L`` (``space="linear"``) and ``rho`` is the Huber loss
with threshold ``delta`` (``loss="huber"``) or ``r**2 / 2`` (``loss="mse"``).

The Chinchilla forms use a dedicated engine (see ``scalefit._engine``):
variable-projection seeding over (alpha, beta) followed by a batched exact
Newton polish.  Other laws, including user-defined ones, are fitted by
multi-start ``scipy.optimize.least_squares`` with the same loss, followed by an
exact polish of the objective.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import _engine
from ._errors import ConvergenceWarning, CurvesWarning, FitError, IdentifiabilityWarning, ScalefitInputError
from ._json import jsonable
from ._summary import Summary, Table
from .laws import Law, chinchilla_values, get_law, is_chinchilla

_LOSSES = ("huber", "mse")
_SPACES = ("log", "linear")


# ====================================================================== spec
@dataclass(frozen=True)
class _Spec:
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

    def z_from_natural(self, params: Mapping[str, float]) -> np.ndarray:
        internal = np.array([math.log(params[n]) if lg else params[n] for n, lg in zip(self.names, self.log)], float)
        return np.array([internal[self.names.index(g[0])] for g in self.groups])


def _build_spec(law: Law, fixed: Mapping[str, float] | None, tie: Any, bounds: Mapping[str, Any] | None) -> _Spec:
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
    tie_list = _normalise_tie(tie)
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
    for j, g in enumerate(free_groups):
        for n in g:
            T[names.index(n), j] = 1.0
            prm = law.param(n)
            lo, hi = eff[n]
            ilo = (math.log(lo) if lo > 0 else -math.inf) if prm.log else lo
            ihi = (math.log(hi) if math.isfinite(hi) else math.inf) if prm.log else hi
            lower[j] = max(lower[j], ilo)
            upper[j] = min(upper[j], ihi)
        if not lower[j] < upper[j]:
            raise ScalefitInputError(f"tied parameters {list(g)} have bounds with an empty intersection.")
    for n, v in fixed.items():
        c[names.index(n)] = math.log(v) if law.param(n).log else v
    return _Spec(law, names, log, T, c, lower, upper, tuple(free_groups), fixed, eff)


def _normalise_tie(tie: Any) -> list[tuple[str, ...]]:
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


# ===================================================================== result
@dataclass(frozen=True)
class Diagnostics:
    """Diagnostics of a fit.

    Attributes
    ----------
    at_bound : dict
        Parameter -> "lower"/"upper" for parameters that ended at a bound.
    condition_number : float
        Condition number of the objective's Hessian over the free parameters
        (internal coordinates).  Large values (> 1e8) mean some combination of
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
    """

    at_bound: dict
    condition_number: float
    outliers: pd.DataFrame
    gradient_norm: float
    n_local_minima: int
    second_best_objective: float

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
    excluded : pandas.DataFrame
        Rows of the input excluded before fitting, and why.
    """

    law: Law
    params: dict
    stderr: dict
    stderr_kind: str
    covariance: pd.DataFrame
    objective: float
    success: bool
    message: str
    n_runs: int
    n_starts: int
    n_local_minima: int
    residuals: np.ndarray
    diagnostics: Diagnostics
    options: dict
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    runs: Any = field(default=None, repr=False)
    _spec: Any = field(default=None, repr=False)
    _inputs: Any = field(default=None, repr=False)
    _weights: Any = field(default=None, repr=False)
    _minima: Any = field(default=None, repr=False)

    # ------------------------------------------------------------ predictions
    def predict(self, n_params: Any = None, n_tokens: Any = None, **inputs: Any) -> np.ndarray:
        """Predicted loss; arrays broadcast (``predict(n_params=[1e9, 1e10], n_tokens=2e10)``).

        Raises
        ------
        ScalefitInputError
            If an input the law needs is missing or not positive.
        """
        return _predict(self.law, self.params, n_params, n_tokens, inputs)

    @property
    def fitted(self) -> np.ndarray:
        """Predicted loss at each fitted run."""
        return self.law(self.params, **self._inputs)

    # ------------------------------------------------------------- derived
    @property
    def a(self) -> float:
        """Compute-optimal exponent a = beta/(alpha+beta) with N* proportional to C^a (Chinchilla forms)."""
        _, _, _, al, be = chinchilla_values(self.params)
        return be / (al + be)

    @property
    def b(self) -> float:
        """Exponent b = alpha/(alpha+beta) with D* proportional to C^b (Chinchilla forms)."""
        _, _, _, al, be = chinchilla_values(self.params)
        return al / (al + be)

    # ------------------------------------------------------------ bootstrap
    def bootstrap(
        self,
        n: int = 1000,
        *,
        seed: int = 0,
        n_jobs: int = -1,
        progress: bool | None = None,
    ):
        """Resample runs with replacement and refit each sample with the same engine.

        See :func:`scalefit.bootstrap.bootstrap`.
        """
        from .bootstrap import bootstrap

        return bootstrap(self, n=n, seed=seed, n_jobs=n_jobs, progress=progress)

    # -------------------------------------------------------------- output
    def summary(self) -> Summary:
        """Summary of the fit: parameters with standard errors and diagnostics (text or HTML)."""
        info = [
            ("law", f"{self.law.name}: {self.law.formula}" if self.law.formula else self.law.name),
            ("objective", f"sum of {self._loss_label()} on {self.options.get('space')} loss"),
            ("objective value", self.objective),
            ("success", self.success),
            ("message", self.message),
            ("runs used", self.n_runs),
            ("runs excluded", len(self.excluded)),
            ("starts", self.n_starts),
            ("distinct local minima", self.n_local_minima),
            ("Hessian condition number", self.diagnostics.condition_number),
        ]
        rows = []
        for n in self.law.param_names:
            status = "fixed" if n in self._spec.fixed else ("tied" if any(n in g and len(g) > 1 for g in self._spec.groups) else "")
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
        return Summary(f"scalefit fit: {self.law.name}", info, tables, notes)

    def _loss_label(self) -> str:
        if self.options.get("loss") == "huber":
            return f"Huber(delta={self.options.get('delta')})"
        return "r^2/2"

    def to_dict(self) -> dict:
        """JSON-safe dictionary (inverse: :meth:`from_dict`)."""
        d = {
            "law": self.law.name,
            "params": {k: jsonable(v) for k, v in self.params.items()},
            "stderr": {k: jsonable(v) for k, v in self.stderr.items()},
            "stderr_kind": self.stderr_kind,
            "objective": jsonable(self.objective),
            "success": bool(self.success),
            "message": self.message,
            "n_runs": int(self.n_runs),
            "n_starts": int(self.n_starts),
            "n_local_minima": int(self.n_local_minima),
            "diagnostics": self.diagnostics.to_dict(),
            "options": jsonable(self.options),
            "excluded": [
                {"row": int(r["row"]), "reason": str(r["reason"])} for _, r in self.excluded.iterrows()
            ],
        }
        if is_chinchilla(self.law):
            d["derived"] = {"a": jsonable(self.a), "b": jsonable(self.b)}
        if self.runs is not None:  # so a plan read back from JSON can still tell when it extrapolates
            d["data_range"] = {
                k: [jsonable(np.min(v)), jsonable(np.max(v))]
                for k, v in (("n_params", self.runs.n_params), ("n_tokens", self.runs.n_tokens), ("flops", self.runs.flops))
            }
        return d

    def to_json(self, path: str | Path | None = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given (refuses to overwrite unless asked)."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            path = Path(path)
            if path.exists() and not overwrite:
                raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
            path.write_text(text + "\n")
        return text

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "LoadedFit":
        """Rebuild a lightweight fit (law and parameters) from :meth:`to_dict` output or a JSON file's content."""
        return LoadedFit.from_dict(d)

    def to_lmfit(self):
        """The parameters as an ``lmfit.Parameters`` (values, bounds, standard errors, fixed/tied)."""
        import lmfit

        pars = lmfit.Parameters()
        for n in self.law.param_names:
            lo, hi = self._spec.bounds[n]
            expr = None
            for g in self._spec.groups:
                if n in g and g[0] != n:
                    expr = g[0]
            pars.add(n, value=self.params[n], min=lo, max=hi, vary=n not in self._spec.fixed and expr is None, expr=expr)
            se = self.stderr.get(n)
            if se is not None and math.isfinite(se):
                pars[n].stderr = se
        return pars

    def fit_report(self) -> str:
        """lmfit-style text report."""
        import lmfit

        return lmfit.printfuncs.fit_report(self.to_lmfit())

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.5g}" for k, v in self.params.items())
        return f"FitResult(law={self.law.name!r}, {ps}, objective={self.objective:.6g}, success={self.success})"


@dataclass(frozen=True)
class LoadedFit:
    """A fit read back from JSON: law, parameters and the saved metadata (no data)."""

    law: Law
    params: dict
    stderr: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LoadedFit":
        if "law" not in d or "params" not in d:
            raise ScalefitInputError(
                f"a saved fit needs keys 'law' and 'params'; found {sorted(d)}. Write it with `scalefit fit --out`."
            )
        law = get_law(d["law"])
        params = {k: float(v) for k, v in dict(d["params"]).items()}
        missing = [n for n in law.param_names if n not in params]
        if missing:
            raise ScalefitInputError(f"saved fit for law {law.name!r} lacks parameters {missing}.")
        return cls(law, params, {k: (float(v) if v is not None else float("nan")) for k, v in dict(d.get("stderr", {})).items()}, dict(d))

    @classmethod
    def from_json(cls, path: str | Path) -> "LoadedFit":
        path = Path(path)
        if not path.exists():
            raise ScalefitInputError(f"fit file {str(path)!r} does not exist.")
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ScalefitInputError(f"fit file {str(path)!r} is not valid JSON ({exc}).") from None
        return cls.from_dict(d)

    @property
    def runs(self) -> Any:
        """The range of the fitted runs saved with the fit (``data_range``), or None.

        It stands in for the runs so that planners can warn when a plan extrapolates.
        """
        rng = self.info.get("data_range") if isinstance(self.info, dict) else None
        if not isinstance(rng, Mapping):
            return None
        try:
            import types

            return types.SimpleNamespace(**{k: np.asarray(rng[k], dtype=float) for k in ("n_params", "n_tokens", "flops")})
        except (KeyError, TypeError, ValueError):
            return None

    def predict(self, n_params: Any = None, n_tokens: Any = None, **inputs: Any) -> np.ndarray:
        """Predicted loss, as :meth:`FitResult.predict`."""
        return _predict(self.law, self.params, n_params, n_tokens, inputs)


def _predict(law: Law, params: Mapping[str, float], n_params: Any, n_tokens: Any, inputs: dict) -> np.ndarray:
    """The law's prediction at broadcast, validated inputs (flops derived as 6 N D when needed)."""
    if n_params is not None:
        inputs["n_params"] = n_params
    if n_tokens is not None:
        inputs["n_tokens"] = n_tokens
    arrays = {}
    for k in law.inputs:
        if k not in inputs:
            if k == "flops" and "n_params" in inputs and "n_tokens" in inputs:
                inputs["flops"] = 6.0 * np.asarray(inputs["n_params"], float) * np.asarray(inputs["n_tokens"], float)
            else:
                raise ScalefitInputError(f"predict() for law {law.name!r} needs {list(law.inputs)}; missing {k!r}.")
        v = np.asarray(inputs[k], dtype=float)
        if np.any(~np.isfinite(v)) or np.any(v <= 0):
            raise ScalefitInputError(f"predict(): {k} must be finite and positive; got {v!r}.")
        arrays[k] = v
    out = law(params, **dict(zip(arrays, np.broadcast_arrays(*arrays.values()))))
    return out if out.ndim else out[()]


def load_fit(path: str | Path) -> LoadedFit:
    """Read a fit saved by ``FitResult.to_json(path)`` or ``scalefit fit --out``."""
    return LoadedFit.from_json(path)


# ======================================================================= fit
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
) -> FitResult:
    """Fit a scaling law to runs.

    Parameters
    ----------
    runs : Runs, pandas.DataFrame, path or list of dicts
        The runs; anything :func:`scalefit.read_runs` accepts.  Training
        curves are fitted on every checkpoint given; call ``runs.final()``
        first to fit final losses only.
    law : str or Law, default "chinchilla"
        A built-in law name (see :func:`scalefit.available_laws`) or a
        :class:`scalefit.Law`.
    loss : {"huber", "mse"}
        ``rho`` in the objective ``sum(weight * rho(residual))``; Huber as in
        Hoffmann et al. (2022), or ``r**2/2``.
    delta : float, default 1e-3
        Huber threshold, in units of the residual.
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

    Returns
    -------
    FitResult

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
    runs = _as_runs(runs)
    law = get_law(law)
    if runs.has_curves and len(runs) > runs.n_runs:
        warnings.warn(
            f"fitting {law.name!r} to all {len(runs)} checkpoints of {runs.n_runs} training curves; a scaling law "
            "of final loss is usually fitted to runs.final() (CLI: --final). Intermediate checkpoints of a "
            "cosine schedule sit above the law.", CurvesWarning, stacklevel=2,
        )
    if loss not in _LOSSES:
        raise ScalefitInputError(f"loss must be one of {list(_LOSSES)}; got {loss!r}.")
    if space not in _SPACES:
        raise ScalefitInputError(f"space must be one of {list(_SPACES)}; got {space!r}.")
    try:
        delta = float(delta)
    except (TypeError, ValueError):
        raise ScalefitInputError(f"delta must be a positive number; got {delta!r}.") from None
    if not (delta > 0 and math.isfinite(delta)):
        raise ScalefitInputError(f"delta must be a positive finite number; got {delta!r}.")
    spec = _build_spec(law, fixed, tie, bounds)
    if spec.n_free == 0:
        raise ScalefitInputError(
            f"every parameter of law {law.name!r} is fixed, so there is nothing to fit; evaluate the law "
            "directly with scalefit.get_law(name)(params, n_params=..., n_tokens=...), or free a parameter."
        )
    inputs = _law_inputs(law, runs)
    y = runs.loss
    w = _weights(weights, runs)
    n_eff = int(np.count_nonzero(w > 0))
    _check_min_runs(n_eff, spec.n_free, law)
    _check_identifiable(law, spec, inputs, w)
    options = dict(
        loss=loss, delta=delta, space=space, fixed=dict(spec.fixed),
        tie=[list(g) for g in spec.groups if len(g) > 1], bounds={k: list(v) for k, v in (bounds or {}).items()},
        weights=None if weights is None else (weights if isinstance(weights, str) else "array"),
    )
    from threadpoolctl import threadpool_limits

    # Small dense linear algebra: BLAS threads only cost time here (and, on busy
    # machines, a lot of it), so the hot loop runs single-threaded.
    with threadpool_limits(limits=1), np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        if is_chinchilla(law):
            out = _fit_chinchilla(spec, inputs, y, w, loss, delta, space)
        else:
            out = _fit_generic(spec, inputs, y, w, loss, delta, space, seed=seed, max_starts=max_starts)
        z_best, f_best, gnorm, converged, n_starts, n_minima, second, H_z, jac = out[:9]
        internal = spec.internal(z_best)
        params = spec.natural(internal)
        resid = _residual_vector(law, params, inputs, y, space)
        stderr, cov, kind = _asymptotic_stderr(spec, internal, jac, resid, w, loss, delta)
    diag = _diagnostics(spec, z_best, H_z, resid, runs, gnorm, n_minima, second)
    _warn_identifiability(law, spec, params, inputs, stderr, diag)
    success = bool(converged and np.isfinite(f_best))
    message = (
        "converged: projected gradient below tolerance" if success else
        f"did not converge: projected gradient norm {gnorm:.3g}"
    )
    result = FitResult(
        law=law, params=params, stderr=stderr, stderr_kind=kind, covariance=cov,
        objective=float(f_best), success=success, message=message, n_runs=n_eff,
        n_starts=int(n_starts), n_local_minima=int(n_minima), residuals=resid, diagnostics=diag,
        options=options, excluded=_excluded(runs), runs=runs, _spec=spec, _inputs=inputs, _weights=w,
        _minima=out[-1] if len(out) > 9 else None,
    )
    if not success:
        if strict:
            raise FitError(f"fit of {law.name!r} did not converge: {message}", result)
        warnings.warn(f"fit of {law.name!r} did not converge ({message}); result.success is False.", ConvergenceWarning, stacklevel=2)
    return result


# ------------------------------------------------------------------ helpers
def _as_runs(runs: Any):
    from .runs import Runs

    if isinstance(runs, Runs):
        return runs
    from .runs import read_runs

    return read_runs(runs)


def _excluded(runs) -> pd.DataFrame:
    ex = getattr(runs, "excluded", None)
    if ex is None:
        return pd.DataFrame(columns=["row", "reason"])
    return ex.copy()


def _law_inputs(law: Law, runs) -> dict:
    out = {}
    table = runs.table
    for k in law.inputs:
        if k not in table.columns:
            raise ScalefitInputError(
                f"law {law.name!r} needs column {k!r}, which the runs do not have; available columns are "
                f"{list(table.columns)}. Map it with read_runs(..., columns={{'your column': {k!r}}})."
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


def _weights(weights: Any, runs) -> np.ndarray:
    n = len(runs)
    if weights is None:
        return np.ones(n)
    if isinstance(weights, str):
        if weights not in runs.table.columns:
            raise ScalefitInputError(
                f"weights column {weights!r} not found; available columns are {list(runs.table.columns)}."
            )
        w = pd.to_numeric(runs.table[weights], errors="coerce").to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ScalefitInputError(f"weights must have one value per run ({n}); got shape {w.shape}.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ScalefitInputError(
            f"weights must be finite and non-negative; {int(bad.sum())} bad value(s) at positions "
            f"{np.flatnonzero(bad)[:10].tolist()}.", column=weights if isinstance(weights, str) else None,
            rows=np.flatnonzero(bad),
        )
    if not np.any(w > 0):
        raise ScalefitInputError("weights are all zero; at least one run must carry weight.")
    return w


def _check_min_runs(n: int, n_free: int, law: Law) -> None:
    need = n_free + 1
    if n < need:
        raise ScalefitInputError(
            f"too few runs for law {law.name!r}: it has {n_free} free parameter(s), which needs at least "
            f"{need} runs with positive weight; got {n}. Add runs, or fix parameters with fixed={{...}}."
        )


def _check_identifiable(law: Law, spec: _Spec, inputs: dict, w: np.ndarray) -> None:
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
                    f"{col}, fix {' and '.join(free)} with fixed={{...}} (CLI --fix), or fit law {alt!r}.",
                    column=col,
                )


def _warn_identifiability(law: Law, spec: _Spec, params: dict, inputs: dict, stderr: dict, diag) -> None:
    """Warn when the fit leaves parameters undetermined: singular Hessian, undefined errors, vanished terms."""
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
        warnings.warn(
            f"fit of {law.name!r}: the data do not determine the parameters well: " + "; ".join(problems)
            + ". Add runs that vary N and D independently, or fix parameters; do not plan from this fit.",
            IdentifiabilityWarning, stacklevel=3,
        )


def _residual_vector(law: Law, params: dict, inputs: dict, y: np.ndarray, space: str) -> np.ndarray:
    pred = law(params, **inputs)
    if space == "log":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(pred) - np.log(y)
    return pred - y


def _rho(r, loss, delta):
    return _engine._rho(r, loss, delta)


# ------------------------------------------------------- chinchilla engine
# law parameter order for the engine: E, A, B, alpha, beta  -> (e, a, b, alpha, beta)
_GRID_SIZE = 16


def _engine_map(spec: _Spec) -> np.ndarray:
    """(5, p) matrix from law-internal parameters to the engine's (e, a, b, alpha, beta)."""
    M = np.zeros((5, len(spec.names)))
    for j, n in enumerate(("E", "A", "B", "alpha", "beta")):
        src = n if n in spec.names else "alpha"  # tied law: beta == alpha
        M[j, spec.names.index(src)] = 1.0
    return M


def _chinchilla_problem(spec: _Spec, inputs, y, loss, delta, space):
    prob = _engine.Problem(np.log(inputs["n_params"]), np.log(inputs["n_tokens"]), np.asarray(y, float), space, loss, delta)
    M = _engine_map(spec)
    red = _engine.Reduction(M @ spec.T, M @ spec.c, spec.lower, spec.upper)
    return prob, red


def _fit_chinchilla(spec: _Spec, inputs, y, w, loss, delta, space):
    prob, red = _chinchilla_problem(spec, inputs, y, loss, delta, space)
    # which engine coordinates are fixed, and are alpha and beta tied?
    fixed_theta = {}
    for j in range(5):
        if not np.any(red.T[j]):
            fixed_theta[j] = float(red.c[j])
    tied_ab = bool(np.any(red.T[3]) and np.array_equal(red.T[3], red.T[4]))
    lo_a, hi_a = _engine_bounds(red, 3)
    lo_b, hi_b = _engine_bounds(red, 4)
    grid_a = np.linspace(max(lo_a, 0.02), min(hi_a, 2.5), _GRID_SIZE) if lo_a < min(hi_a, 2.5) else np.array([lo_a])
    grid_b = np.linspace(max(lo_b, 0.02), min(hi_b, 2.5), _GRID_SIZE) if lo_b < min(hi_b, 2.5) else np.array([lo_b])
    seeds, _ = _engine.seed_grid(prob, red, w, alpha_grid=grid_a, beta_grid=grid_b, fixed_theta=fixed_theta, tied_ab=tied_ab, n_keep=8)
    if seeds.shape[0] == 0:
        seeds = np.array([[0.5, 6.0, 6.0, 0.34, 0.28]])
    pr = _engine.polish(seeds, prob, red, w)
    order = np.argsort(np.where(np.isfinite(pr.f), pr.f, np.inf))
    best = order[0]
    z_best = red.z_of(pr.theta[best][None, :])[0]
    distinct = _engine.distinct_indices(pr.theta, pr.f, prob)
    n_min = len(distinct)
    # distinct minima come best first: the second is the best point with other residuals
    second = float(pr.f[distinct[1]]) if len(distinct) > 1 else float("nan")
    f, g, H, rows = _engine._derivatives(pr.theta[best][None, :], prob, w[None, :], per_row=True)
    H_z = red.T.T @ H[0] @ red.T
    jac = rows[0] @ red.T  # (n, m): Jacobian of the residuals in z
    minima = pr.theta[distinct[:4]]
    return z_best, float(pr.f[best]), float(pr.grad_norm[best]), bool(pr.converged[best]), seeds.shape[0], n_min, second, H_z, jac, minima


def _engine_bounds(red: _engine.Reduction, j: int) -> tuple[float, float]:
    cols = np.flatnonzero(red.T[j])
    if cols.size == 0:
        return float(red.c[j]), float(red.c[j])
    k = cols[0]
    return float(red.lower[k]), float(red.upper[k])


# ------------------------------------------------------------ generic engine
def _fit_generic(spec: _Spec, inputs, y, w, loss, delta, space, *, seed: int, max_starts: int, warm=None, derivatives: bool = True):
    from scipy.optimize import least_squares, minimize

    law = spec.law
    m = spec.n_free
    target = np.log(y) if space == "log" else y

    def resid(z):
        internal = spec.internal(z)
        vals = np.where(spec.log, np.exp(internal), internal)
        pred = law.function(**inputs, **dict(zip(spec.names, vals)))
        pred = np.asarray(pred, float)
        if space == "log":
            out = np.log(np.where(pred > 0, pred, np.nan)) - target
        else:
            out = pred - target
        return np.where(np.isfinite(out), out, 1e3)

    def obj(z):
        return float(np.sum(w * _rho(resid(z), loss, delta)[0]))

    # starts: product of per-group grids (natural -> internal), capped
    grids = []
    for g in spec.groups:
        p = law.param(g[0])
        vals = p.grid or (p.value,)
        iv = [math.log(v) if p.log else v for v in vals if (not p.log or v > 0)]
        grids.append(iv or [p.to_internal(p.value)])
    starts = np.array(list(product(*grids)), dtype=float) if grids else np.zeros((1, 0))
    default = np.array([law.param(g[0]).to_internal(law.param(g[0]).value) for g in spec.groups], float)
    if len(starts) > max_starts:
        rng = np.random.default_rng(seed)
        starts = starts[rng.choice(len(starts), max_starts - 1, replace=False)]
    starts = np.vstack([default[None, :], starts]) if m else starts
    if warm is not None:
        starts = np.vstack([np.asarray(warm, float)[None, :], starts])
    lo = np.where(np.isfinite(spec.lower), spec.lower, -np.inf)
    hi = np.where(np.isfinite(spec.upper), spec.upper, np.inf)
    eps = 1e-9
    lo_in = np.where(np.isfinite(lo), lo + eps * (1 + np.abs(np.where(np.isfinite(lo), lo, 0))), -np.inf)
    hi_in = np.where(np.isfinite(hi), hi - eps * (1 + np.abs(np.where(np.isfinite(hi), hi, 0))), np.inf)
    starts = np.clip(starts, lo_in, hi_in)
    sw = np.sqrt(w)
    results = []
    for z0 in starts:
        try:
            r = least_squares(
                lambda z: sw * resid(z), z0, bounds=(lo, hi), loss="huber" if loss == "huber" else "linear",
                f_scale=delta, method="trf", x_scale="jac", max_nfev=200 * (m + 1),
            )
            results.append((obj(r.x), r.x))
        except (ValueError, np.linalg.LinAlgError):
            continue
    if not results:
        raise FitError(f"every start failed for law {law.name!r}; check the law's function and parameter grids.")
    results.sort(key=lambda t: t[0])
    z_best = results[0][1]
    try:  # tighten the best start
        r = least_squares(
            lambda z: sw * resid(z), z_best, bounds=(lo, hi), loss="huber" if loss == "huber" else "linear",
            f_scale=delta, method="trf", x_scale="jac", ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=400 * (m + 1),
        )
        if obj(r.x) <= results[0][0]:
            z_best = r.x
            results[0] = (obj(r.x), r.x)
    except (ValueError, np.linalg.LinAlgError):
        pass
    # exact polish of the weighted objective
    bnds = [(a if np.isfinite(a) else None, b if np.isfinite(b) else None) for a, b in zip(lo, hi)]
    pol = minimize(obj, z_best, method="L-BFGS-B", bounds=bnds, options=dict(ftol=1e-15, gtol=1e-12, maxiter=2000))
    if pol.fun < results[0][0]:
        z_best = pol.x
    f_best = obj(z_best)
    # distinct minima by residual vector
    residuals = [resid(z) for _, z in results]  # each start's residuals, computed once
    r_best = resid(z_best)
    reps: list[np.ndarray] = []
    for rz in residuals:
        if not any(np.max(np.abs(rz - rr)) <= 1e-6 for rr in reps):
            reps.append(rz)
    others = [fv for (fv, _), rz in zip(results, residuals) if np.max(np.abs(rz - r_best)) > 1e-6]
    second = float(min(others)) if others else float("nan")
    if not derivatives:
        return z_best, f_best, float("nan"), bool(pol.success), len(starts), len(reps), second, None, None
    # derivatives by finite differences
    J = _num_jac(resid, z_best, lo, hi)
    r0 = resid(z_best)
    _, d1, d2 = _rho(r0, loss, delta)

    def grad(z):
        Jz = _num_jac(resid, z, lo, hi)
        return Jz.T @ (w * _rho(resid(z), loss, delta)[1])

    H_z = _num_jac(grad, z_best, lo, hi)
    H_z = 0.5 * (H_z + H_z.T)
    g = J.T @ (w * d1)
    at_lo = (z_best <= lo + 1e-10) & (g > 0)
    at_hi = (z_best >= hi - 1e-10) & (g < 0)
    gnorm = float(np.linalg.norm(np.where(at_lo | at_hi, 0.0, g)))
    converged = gnorm <= 1e-6 * max(1.0, abs(f_best)) or (pol.success and gnorm <= 1e-4 * max(1.0, abs(f_best)))
    return z_best, f_best, gnorm, converged, len(starts), len(reps), second, H_z, J


def _num_jac(fun, z, lo, hi):
    z = np.asarray(z, float)
    f0 = np.asarray(fun(z), float)
    J = np.empty((f0.size, z.size))
    for j in range(z.size):
        h = 1e-6 * max(1.0, abs(z[j]))
        zp, zm = z.copy(), z.copy()
        zp[j] = min(z[j] + h, hi[j])
        zm[j] = max(z[j] - h, lo[j])
        J[:, j] = (np.asarray(fun(zp)) - np.asarray(fun(zm))) / (zp[j] - zm[j])
    return J


# ------------------------------------------------------ standard errors
def _asymptotic_stderr(spec: _Spec, internal, J, resid, w, loss, delta):
    """Huber (1981) asymptotic covariance of an M-estimator.

    Cov(z) = s^2 / m^2 * (sum_i w_i g_i g_i^T)^-1, with g_i the gradient of the
    residual of run i, s^2 = sum w psi(r)^2 / (n - p) and m the mean of psi'(r),
    kernel-smoothed so that the few residuals inside +-delta do not make it jump.
    For loss="mse" this is the usual least-squares covariance.
    """
    kind = "asymptotic (Huber 1981 M-estimator formula; kernel-smoothed psi')" if loss == "huber" else "asymptotic (least squares)"
    m_ = spec.n_free
    names_free = [g[0] for g in spec.groups]
    nan = {n: float("nan") for n in spec.names}
    if m_ == 0:
        return nan, pd.DataFrame(), kind
    r = np.asarray(resid, float)
    ok = w > 0
    n = int(ok.sum())
    _, psi, _ = _rho(r, loss, delta)
    if loss == "huber":
        from scipy.stats import norm

        scale = 1.4826 * np.median(np.abs(r[ok] - np.median(r[ok]))) or np.std(r[ok]) or delta
        h = max(1.06 * scale * n ** (-0.2), delta)
        mbar = float(np.mean(norm.cdf((delta - r[ok]) / h) - norm.cdf((-delta - r[ok]) / h)))
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
    cov = pd.DataFrame(cov_nat, index=names_free, columns=names_free)
    return se, cov, kind


# ------------------------------------------------------------ diagnostics
def _diagnostics(spec: _Spec, z, H_z, resid, runs, gnorm, n_minima, second) -> Diagnostics:
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
        sv = np.linalg.svd(H_z, compute_uv=False) if H_z.size else np.array([1.0])
        cond = float(sv.max() / sv.min()) if sv.min() > 0 else float("inf")
    except np.linalg.LinAlgError:
        cond = float("nan")
    r = np.asarray(resid, float)
    med = np.median(r)
    mad = 1.4826 * np.median(np.abs(r - med))
    rows = runs.table["row"].to_numpy() if "row" in runs.table.columns else np.arange(len(r))
    if mad > 0:
        out = np.abs(r - med) > 3 * mad
    else:
        out = np.zeros(r.shape, bool)
    outliers = pd.DataFrame({"row": rows[out].astype(int), "residual": r[out]})
    return Diagnostics(at_bound, cond, outliers, float(gnorm), int(n_minima), float(second))
