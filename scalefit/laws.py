"""Scaling-law forms: pure functions of the run columns plus parameter specs.

A :class:`Law` is a vectorised numpy function of run columns (``n_params``,
``n_tokens``, ``flops``, ``unique_tokens``, ...) and named parameters, with
bounds and initial grids for each parameter.  Laws hold no data and no fitted
state; :func:`scalefit.fit` fits them.

Built-in laws (see :func:`available_laws`):

``chinchilla``
    Hoffmann et al. (2022), L = E + A/N^alpha + B/D^beta.
``chinchilla-tied``
    The same with alpha == beta.
``kaplan-n``, ``kaplan-d``, ``kaplan-c``
    Kaplan et al. (2020), L = (X_c / X)^alpha_X for X in N, D, C (C in FLOPs).
``kaplan-n-e``, ``kaplan-d-e``, ``kaplan-c-e``
    The same with an irreducible term: L = E + (X_c / X)^alpha_X.
``kaplan-nd``
    Kaplan et al. (2020) eq. 1.5, L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D.
``data-constrained``
    Muennighoff et al. (2023), Chinchilla form in effective N' and D' given
    unique tokens ``unique_tokens``.
``over-training``, ``bnsl``, ``saturating``, ``m1`` ... ``m4``
    Gadre et al. (2024), Caballero et al. (2022), E + A C^-alpha, and the
    learning curves of Alabdulmohsin et al. (2022): see
    :mod:`scalefit._laws_forecast`.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ._errors import ScalefitInputError

#: FLOPs in one petaflop/s-day (1e15 FLOP/s for 86,400 s), Kaplan et al.'s compute unit.
PF_DAY = 1e15 * 86400.0

@dataclass(frozen=True)
class Param:
    """Specification of one law parameter (lmfit-style).

    Parameters
    ----------
    name : str
        Parameter name as it appears in the law's function signature.
    value : float
        Default initial value (natural scale).
    min, max : float
        Bounds on the natural scale. ``min`` must be strictly less than ``max``.
    log : bool
        Optimise ``log(value)`` rather than ``value``.  Use it for positive
        scale parameters spanning decades (A, B, E, N_c, ...).  Requires
        ``min >= 0``.
    grid : sequence of float, optional
        Initial values (natural scale) for the multi-start search.
    linear : bool or None, default None
        Whether the law's prediction is linear (affine) in this parameter's
        natural value, as A in ``E + A/N**alpha``.  The generic engine solves
        such parameters exactly for every guess of the others (variable
        projection).  None: detected numerically from the law; True: declared
        (checked, and refused if false); False: never treated as linear.
    """

    name: str
    value: float
    min: float = -math.inf
    max: float = math.inf
    log: bool = False
    grid: tuple = ()
    linear: bool | None = None

    def __post_init__(self) -> None:
        if not (self.min < self.max):
            raise ScalefitInputError(
                f"parameter {self.name!r}: each lower bound must be strictly less than each upper bound; "
                f"got min={self.min!r} >= max={self.max!r}. Swap or widen the bounds.",
                values=[self.min, self.max],
            )
        if self.log and self.min < 0:
            raise ScalefitInputError(
                f"parameter {self.name!r} is optimised in log space (log=True) but min={self.min!r} < 0; "
                "give min >= 0 or set log=False."
            )
        object.__setattr__(self, "grid", tuple(float(g) for g in self.grid))

    def to_internal(self, value: Any) -> Any:
        """Natural scale -> optimiser scale."""
        return np.log(value) if self.log else value

    def to_natural(self, value: Any) -> Any:
        """Optimiser scale -> natural scale."""
        return np.exp(value) if self.log else value

    @property
    def internal_bounds(self) -> tuple[float, float]:
        if self.log:
            lo = math.log(self.min) if self.min > 0 else -math.inf
            hi = math.log(self.max) if math.isfinite(self.max) else math.inf
            return lo, hi
        return self.min, self.max


class Law:
    """A scaling law: a vectorised function of run columns with named parameters.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"my-law"``.
    function : callable
        ``function(n_params=..., n_tokens=..., <param>=..., ...)`` returning the
        predicted loss.  Keyword names that are not parameters are inputs and
        must be run columns (``n_params``, ``n_tokens``, ``flops``,
        ``unique_tokens`` or any other column of the runs table).
    params : sequence of Param, or mapping name -> dict
        Parameter specs.  A mapping may give ``{"alpha": dict(value=0.3, min=0, max=2)}``
        or an ``lmfit.Parameters``.
    description : str, optional
        One line shown in summaries.
    formula : str, optional
        Human-readable formula.

    Examples
    --------
    >>> import numpy as np
    >>> from scalefit import Law
    >>> from scalefit.laws import Param
    >>> law = Law("n-only", lambda n_params, E, A, alpha: E + A / n_params**alpha,
    ...           params=[Param("E", 1.5, min=0, log=True, grid=(1, 2)),
    ...                   Param("A", 100, min=0, log=True, grid=(10, 1000)),
    ...                   Param("alpha", 0.3, min=0, max=2, grid=(0.2, 0.5))])
    >>> law.inputs
    ('n_params',)
    """

    def __init__(
        self,
        name: str,
        function: Callable[..., Any],
        params: Sequence[Param] | Mapping[str, Any],
        *,
        description: str = "",
        formula: str = "",
    ) -> None:
        if not callable(function):
            raise ScalefitInputError(f"Law {name!r}: function must be callable, got {type(function).__name__}.")
        self.name = str(name)
        self.function = function
        self.params: tuple[Param, ...] = _coerce_params(name, params)
        self.description = description
        self.formula = formula
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ScalefitInputError(f"Law {name!r}: duplicate parameter names in {names}.")
        try:
            sig = inspect.signature(function)
        except (TypeError, ValueError) as exc:  # pragma: no cover - builtins without signature
            raise ScalefitInputError(f"Law {name!r}: cannot read the function's signature ({exc}).") from exc
        argnames = [
            p.name
            for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        missing = [n for n in names if n not in argnames]
        if missing:
            raise ScalefitInputError(
                f"Law {name!r}: parameters {missing} are not arguments of the function {argnames}; "
                "name each parameter as a keyword argument of the function."
            )
        self.inputs: tuple[str, ...] = tuple(a for a in argnames if a not in names)
        if not self.inputs:
            raise ScalefitInputError(
                f"Law {name!r}: the function takes no inputs besides its parameters; "
                "add at least one run column such as n_params."
            )

    # ----------------------------------------------------------------- access
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ScalefitInputError(f"law {self.name!r} has no parameter {name!r}; its parameters are {list(self.param_names)}.")

    def __call__(self, params: Mapping[str, float], **inputs: Any) -> np.ndarray:
        """Evaluate the law on inputs as given: ``law(params, n_params=..., n_tokens=...)``.

        Parameter values may be arrays (for instance bootstrap draws shaped
        ``(draws, 1)``); they broadcast with the inputs.  Nothing is derived or
        validated: :func:`evaluate` is the checked entry point.
        """
        missing = [k for k in self.param_names if k not in params]
        if missing:
            raise ScalefitInputError(f"law {self.name!r}: missing parameter values {missing}.", values=missing)
        missing_in = [k for k in self.inputs if k not in inputs]
        if missing_in:
            raise ScalefitInputError(
                f"law {self.name!r} needs inputs {list(self.inputs)}; missing {missing_in}.", values=missing_in
            )
        kw = {k: np.asarray(inputs[k], dtype=float) for k in self.inputs}
        kw.update({k: _param_value(params[k]) for k in self.param_names})
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return np.asarray(self.function(**kw), dtype=float)

    def with_params(self, **changes: Mapping[str, Any]) -> "Law":
        """Return a copy with some parameter specs changed, e.g. ``law.with_params(alpha={"max": 1})``."""
        new = []
        for p in self.params:
            if p.name in changes:
                kw: dict[str, Any] = dict(name=p.name, value=p.value, min=p.min, max=p.max, log=p.log, grid=p.grid,
                                          linear=p.linear)
                kw.update(changes[p.name])
                new.append(Param(**kw))
            else:
                new.append(p)
        return Law(self.name, self.function, new, description=self.description, formula=self.formula)

    def __repr__(self) -> str:
        return f"Law({self.name!r}, inputs={self.inputs}, params={self.param_names})"



def _param_value(value: Any) -> Any:
    """A parameter's value as a float, or as a float array when it holds draws."""
    arr = np.asarray(value, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _coerce_params(name: str, params: Any) -> tuple[Param, ...]:
    if params is None:
        raise ScalefitInputError(f"Law {name!r}: give params, a list of Param or a mapping name -> spec.")
    # lmfit.Parameters (duck-typed: mapping of objects with value/min/max)
    if hasattr(params, "valuesdict") and hasattr(params, "items"):
        out = []
        for pname, p in params.items():
            out.append(Param(pname, float(p.value), min=float(p.min), max=float(p.max)))
        return tuple(out)
    if isinstance(params, Mapping):
        out = []
        for pname, spec in params.items():
            if isinstance(spec, Param):
                out.append(spec)
            elif isinstance(spec, Mapping):
                out.append(Param(pname, **dict(spec)))
            else:
                out.append(Param(pname, float(spec)))
        return tuple(out)
    out = []
    for p in params:
        if not isinstance(p, Param):
            raise ScalefitInputError(f"Law {name!r}: params must be Param objects, got {type(p).__name__}.")
        out.append(p)
    return tuple(out)


# ------------------------------------------------------------------ built-ins
# Initial grid of Hoffmann et al. (2022) as reproduced by Besiroglu et al. (2024):
# alpha, beta in {0, .5, 1, 1.5, 2}; e in {-1, -.5, 0, .5, 1}; a, b in {0, 5, ..., 25}.
_EXP_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
_E_GRID = tuple(math.exp(v) for v in (-1.0, -0.5, 0.0, 0.5, 1.0))
_AB_GRID = tuple(math.exp(v) for v in (0.0, 5.0, 10.0, 15.0, 20.0, 25.0))


def _chinchilla(n_params, n_tokens, E, A, B, alpha, beta):
    return E + A / n_params**alpha + B / n_tokens**beta


def _chinchilla_tied(n_params, n_tokens, E, A, B, alpha):
    return E + A / n_params**alpha + B / n_tokens**alpha


def chinchilla_params(*, tied: bool = False) -> list[Param]:
    ps = [
        Param("E", 1.7, min=0.0, log=True, grid=_E_GRID),
        Param("A", 400.0, min=0.0, log=True, grid=_AB_GRID),
        Param("B", 400.0, min=0.0, log=True, grid=_AB_GRID),
        Param("alpha", 0.34, min=0.0, max=5.0, grid=_EXP_GRID),
    ]
    if not tied:
        ps.append(Param("beta", 0.28, min=0.0, max=5.0, grid=_EXP_GRID))
    return ps


def _make_kaplan(var: str, sym: str, x_c: float, alpha: float, irreducible: bool) -> Law:
    xc_name, a_name = f"{sym}_c", f"alpha_{sym}"
    grid_xc = tuple(10.0**k for k in range(6, 32, 3))
    if irreducible:
        src = f"def f({var}, E, {xc_name}, {a_name}):\n    return E + ({xc_name} / {var}) ** {a_name}\n"
        formula = f"L = E + ({xc_name}/{sym})^{a_name}"
    else:
        src = f"def f({var}, {xc_name}, {a_name}):\n    return ({xc_name} / {var}) ** {a_name}\n"
        formula = f"L = ({xc_name}/{sym})^{a_name}"
    ns: dict[str, Any] = {}
    exec(src, ns)  # builds a function whose keyword names are the published symbols
    params = [
        Param(xc_name, x_c, min=0.0, log=True, grid=grid_xc),
        Param(a_name, alpha, min=0.0, max=5.0, grid=(0.03, 0.1, 0.3, 0.6)),
    ]
    if irreducible:
        params.insert(0, Param("E", 1.5, min=0.0, log=True, grid=(0.5, 1.0, 2.0)))
    suffix = "-e" if irreducible else ""
    return Law(
        f"kaplan-{sym.lower()}{suffix}",
        ns["f"],
        params,
        description=f"Kaplan et al. (2020) power law in {var}" + (" with an irreducible term" if irreducible else ""),
        formula=formula,
    )


def _kaplan_nd(n_params, n_tokens, N_c, D_c, alpha_N, alpha_D):
    return ((N_c / n_params) ** (alpha_N / alpha_D) + D_c / n_tokens) ** alpha_D


def _data_constrained(n_params, n_tokens, unique_tokens, E, A, B, alpha, beta, R_D_star, R_N_star):
    # Muennighoff et al. (2023), eq. 5-7: effective data D' and parameters N'.  A run of D tokens sees
    # U_D = min(U, D) unique ones (their eq. 5: D_C unique tokens available, U_D = min{D_C, D}).
    U_D = np.minimum(unique_tokens, n_tokens)
    G = ((alpha * A) / (beta * B)) ** (1.0 / (alpha + beta))
    n_for_unique = (U_D * G) ** (beta / alpha) * G  # compute-optimal N for U_D tokens
    R_D = np.maximum(n_tokens / U_D - 1.0, 0.0)
    U_N = np.minimum(n_params, n_for_unique)
    R_N = np.maximum(n_params / U_N - 1.0, 0.0)
    n_eff = U_N + U_N * R_N_star * (1.0 - np.exp(-R_N / R_N_star))
    d_eff = U_D + U_D * R_D_star * (1.0 - np.exp(-R_D / R_D_star))
    return E + A / n_eff**alpha + B / d_eff**beta


# Kaplan et al. (2020), Table 5 / eqs. 1.1-1.3 (N is non-embedding parameters, C in PF-days).
KAPLAN_2020 = dict(alpha_N=0.076, N_c=8.8e13, alpha_D=0.095, D_c=5.4e13, alpha_C=0.050, C_c_pf_days=3.1e8)

# Muennighoff et al. (2023), README of their code, fitted on their runs.
MUENNIGHOFF_2023 = dict(
    E=math.exp(0.6254804),
    A=math.exp(6.255414),
    B=math.exp(7.3049974),
    alpha=0.3526596,
    beta=0.3526596,
    R_D_star=15.387756,
    R_N_star=5.309743,
)


def _build_registry() -> dict[str, Law]:
    reg: dict[str, Law] = {}
    reg["chinchilla"] = Law(
        "chinchilla",
        _chinchilla,
        chinchilla_params(),
        description="Hoffmann et al. (2022) parametric loss",
        formula="L = E + A/N^alpha + B/D^beta",
    )
    reg["chinchilla-tied"] = Law(
        "chinchilla-tied",
        _chinchilla_tied,
        chinchilla_params(tied=True),
        description="Hoffmann et al. (2022) parametric loss with alpha == beta",
        formula="L = E + A/N^alpha + B/D^alpha",
    )
    k = KAPLAN_2020
    for irr in (False, True):
        for law in (
            _make_kaplan("n_params", "N", k["N_c"], k["alpha_N"], irr),
            _make_kaplan("n_tokens", "D", k["D_c"], k["alpha_D"], irr),
            _make_kaplan("flops", "C", k["C_c_pf_days"] * PF_DAY, k["alpha_C"], irr),
        ):
            reg[law.name] = law
    reg["kaplan-nd"] = Law(
        "kaplan-nd",
        _kaplan_nd,
        [
            Param("N_c", k["N_c"], min=0.0, log=True, grid=tuple(10.0**j for j in (9, 12, 15))),
            Param("D_c", k["D_c"], min=0.0, log=True, grid=tuple(10.0**j for j in (9, 12, 15))),
            Param("alpha_N", k["alpha_N"], min=0.0, max=5.0, grid=(0.05, 0.2, 0.5)),
            Param("alpha_D", k["alpha_D"], min=0.0, max=5.0, grid=(0.05, 0.2, 0.5)),
        ],
        description="Kaplan et al. (2020) joint law in N and D, eq. 1.5",
        formula="L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
    )
    m = MUENNIGHOFF_2023
    reg["data-constrained"] = Law(
        "data-constrained",
        _data_constrained,
        [
            Param("E", m["E"], min=0.0, log=True, grid=_E_GRID),
            Param("A", m["A"], min=0.0, log=True, grid=_AB_GRID),
            Param("B", m["B"], min=0.0, log=True, grid=_AB_GRID),
            Param("alpha", m["alpha"], min=0.0, max=5.0, grid=(0.2, 0.5, 1.0)),
            Param("beta", m["beta"], min=0.0, max=5.0, grid=(0.2, 0.5, 1.0)),
            Param("R_D_star", m["R_D_star"], min=0.0, log=True, grid=(5.0, 15.0, 50.0)),
            Param("R_N_star", m["R_N_star"], min=0.0, log=True, grid=(2.0, 5.0, 20.0)),
        ],
        description="Muennighoff et al. (2023) data-constrained law (repeated data)",
        formula="L = E + A/N'^alpha + B/D'^beta, N' and D' effective",
    )
    from ._laws_forecast import forecast_laws  # imports Law and Param from here, which exist by now

    reg.update(forecast_laws())
    return reg


_REGISTRY = _build_registry()
_ALIASES = {
    "hoffmann": "chinchilla",
    "chinchilla_tied": "chinchilla-tied",
    "kaplan_nd": "kaplan-nd",
    "muennighoff": "data-constrained",
    "data_constrained": "data-constrained",
}
from ._laws_forecast import FORECAST_ALIASES  # noqa: E402  (after the registry, which it extends)
from ._laws_forecast import learning_curve_law as learning_curve_law  # noqa: E402  (re-exported: scalefit.learning_curve_law)

_ALIASES.update(FORECAST_ALIASES)


def available_laws() -> list[str]:
    """Names of the built-in laws."""
    return sorted(_REGISTRY)


def get_law(law: "str | Law") -> Law:
    """Return a built-in law by name, or ``law`` itself when it is a :class:`Law`.

    Raises
    ------
    ScalefitInputError
        If the name is unknown (the message lists the known names).
    """
    if isinstance(law, Law):
        return law
    if not isinstance(law, str):
        raise ScalefitInputError(f"law must be a name or a scalefit.Law, got {type(law).__name__}.", option="law")
    key = law.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise ScalefitInputError(
            f"unknown law {law!r}; known laws are {available_laws()}, or pass a scalefit.Law.",
            option="law",
            values=[law],
        )
    return _REGISTRY[key]


def is_chinchilla(law: Law) -> bool:
    """True for the built-in Chinchilla forms, which have a closed-form optimum."""
    return law.function in (_chinchilla, _chinchilla_tied)


def chinchilla_values(params: Mapping[str, float]) -> tuple[float, float, float, float, float]:
    """(E, A, B, alpha, beta) from a parameter mapping; beta defaults to alpha (tied form)."""
    try:
        E, A, B, alpha = (float(params[k]) for k in ("E", "A", "B", "alpha"))
    except KeyError as exc:
        raise ScalefitInputError(
            f"Chinchilla parameters need E, A, B, alpha and beta; missing {exc.args[0]!r} in {sorted(params)}."
        ) from None
    beta = float(params.get("beta", alpha))
    return E, A, B, alpha, beta


def chinchilla_exponents(alpha: Any, beta: Any) -> tuple[Any, Any]:
    """Compute-optimal exponents of the Chinchilla forms: ``a = beta/(alpha+beta)``, ``b = alpha/(alpha+beta)``.

    N* grows as C^a and D* as C^b (Hoffmann et al. 2022, eq. 4).  Works on
    floats and on arrays of draws.  The one place scalefit derives them.
    """
    return beta / (alpha + beta), alpha / (alpha + beta)


def chinchilla_compute_optimal(params: Mapping[str, Any], flops: Any, *, flops_per_param_token: float = 6.0):
    """Closed-form compute-optimal allocation of the Chinchilla law (Hoffmann et al. 2022, eq. 4).

    With G = (alpha*A / (beta*B))^(1/(alpha+beta)), a = beta/(alpha+beta) and
    b = alpha/(alpha+beta): N* = G (C/k)^a, D* = (C/k)^b / G, and L* = L(N*, D*).
    Parameter values may be arrays (e.g. bootstrap draws); they broadcast with ``flops``.

    Returns
    -------
    (n_params, n_tokens, loss) : tuple of numpy arrays
    """
    E, A, B = (np.asarray(params[k], dtype=float) for k in ("E", "A", "B"))
    alpha = np.asarray(params["alpha"], dtype=float)
    beta = np.asarray(params["beta"], dtype=float) if "beta" in params else alpha
    C = np.asarray(flops, dtype=float) / flops_per_param_token
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
        n_opt = G * C ** (beta / (alpha + beta))
        d_opt = C ** (alpha / (alpha + beta)) / G
        loss = E + A / n_opt**alpha + B / d_opt**beta
    return n_opt, d_opt, loss


# ============================================================ the evaluator
#: The inputs :func:`evaluate` can derive from the others through C = k N D.
_DERIVABLE = ("n_params", "n_tokens", "flops")


def evaluate(
    law: "str | Law",
    params: Mapping[str, Any],
    *,
    flops_per_param_token: float = 6.0,
    where: str = "evaluate()",
    **inputs: Any,
) -> np.ndarray:
    """The law's loss at the given inputs: the one evaluator every part of scalefit calls.

    Prediction (``FitResult.predict``), bootstrap draws
    (``BootstrapResult.derived``), planning, comparison and plotting all
    evaluate laws through this function, so the same law and parameters give
    identical numbers everywhere.

    Parameters
    ----------
    law : str or Law
    params : mapping
        Parameter values.  Arrays (bootstrap draws) broadcast with the inputs;
        put the draws on their own axis, e.g. ``{"E": E[:, None], ...}`` with
        inputs of shape ``(points,)``.
    flops_per_param_token : float, default 6.0
        k in C = k N D.  A law's missing ``flops`` is derived as k N D; its
        missing ``n_tokens`` as C / (k N); its missing ``n_params`` as C / (k D).
    where : str
        Who is asking, named in error messages.
    **inputs : array-like
        ``n_params``, ``n_tokens``, ``flops``, ``unique_tokens`` or any other
        input of the law; they broadcast.

    Returns
    -------
    numpy.ndarray
        The loss, broadcast over inputs and parameter draws (a 0-d array for
        scalar inputs).

    Raises
    ------
    ScalefitInputError
        A parameter or an input the law needs is missing and cannot be
        derived, or an input is not a finite positive number.
    """
    law = get_law(law)
    given = {k: v for k, v in inputs.items() if v is not None}
    arrays: dict[str, np.ndarray] = {}
    for name, value in given.items():
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ScalefitInputError(
                f"{where}: {name} must be a number or an array of numbers; got {value!r}. "
                "Give numbers such as 1.3e9, not text such as '1.3B'.",
                option=name,
            ) from None
        if arr.size and (np.any(~np.isfinite(arr)) or np.any(arr <= 0)):
            raise ScalefitInputError(f"{where}: {name} must be finite and positive; got {value!r}.", option=name)
        arrays[name] = arr
    k = float(flops_per_param_token)
    missing = [n for n in law.inputs if n not in arrays]
    if missing:
        n, d, c = (arrays.get(x) for x in _DERIVABLE)
        derived = {
            "flops": None if n is None or d is None else k * n * d,
            "n_tokens": None if c is None or n is None else c / (k * n),
            "n_params": None if c is None or d is None else c / (k * d),
        }
        for name in missing:
            value = derived.get(name)
            if value is None:
                raise ScalefitInputError(
                    f"{where} for law {law.name!r} needs {list(law.inputs)}; missing {name!r}"
                    + (" (or two of n_params, n_tokens and flops to derive it)." if name in _DERIVABLE else "."),
                    option=name,
                )
            arrays[name] = value
    lacking = [p for p in law.param_names if p not in params]
    if lacking:
        raise ScalefitInputError(f"{where}: law {law.name!r} is missing parameter values {lacking}.", values=lacking)
    used = [arrays[n] for n in law.inputs]
    out = law(params, **dict(zip(law.inputs, np.broadcast_arrays(*used))))
    return out
