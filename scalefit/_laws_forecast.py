"""Forecasting laws: over-training, broken and saturating power laws in compute, and learning curves.

These laws sit beside the ones in :mod:`scalefit.laws` (which registers them)
and are evaluated, like every law, by :func:`scalefit.laws.evaluate`.

``over-training`` (alias ``gadre``)
    Gadre et al. (2024), "Language models scale reliably with over-training and
    on downstream tasks", eq. (4): ``L(C, M) = E + (a M^eta + b M^-eta) C^-eta``
    with ``C = 6 N D`` and the token multiplier ``M = D / N``.  ``E`` is their
    irreducible term and ``(a M^eta + b M^-eta) C^-eta`` the reducible one.  It
    is the Chinchilla law with alpha == beta == 2 eta, A = a 6^-eta and
    B = b 6^-eta (:func:`over_training_from_chinchilla`).
``bnsl``
    Caballero et al. (2022), "Broken Neural Scaling Laws", eq. (1) with one
    break, in compute: ``L = a + b C^-c0 (1 + (C/d1)^(1/f1))^(-c1 f1)``.
``saturating``
    ``L = E + A C^-alpha``: the zero-break BNSL, and Kaplan et al.'s (2020)
    ``kaplan-c-e`` with ``A = C_c^alpha``.
``m1``, ``m2``, ``m3``, ``m4``
    The learning-curve estimators of Alabdulmohsin, Neyshabur and Zhai (2022),
    "Revisiting Neural Scaling Laws in Language and Vision", in tokens seen
    (``n_tokens``), and as ``m1-flops`` ... ``m4-n-params`` in compute and
    parameters; :func:`learning_curve_law` builds them in any other column.
    M1 ``eps = beta x^c``; M2 ``eps = eps_inf + beta x^c``; M3
    ``eps = beta (1/x + gamma)^c``; M4 solves
    ``(eps - eps_inf) / (eps_0 - eps)^alpha = beta x^c`` for eps.  The signs of
    ``c`` are theirs (google-research/revisiting_neural_scaling_laws, methods/,
    commit 1d4d2f1): ``c <= 0`` in M1, M2 and M4, ``c >= 0`` in M3.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import ScalefitInputError

if TYPE_CHECKING:  # laws.py imports this module while it builds its registry, so Law and Param come lazily
    from .laws import Law

__all__ = ["forecast_laws", "learning_curve_law", "over_training_from_chinchilla", "solve_m4",
           "LEARNING_CURVE_FORMS", "OVER_TRAINING_FLOPS_PER_PARAM_TOKEN"]

#: Gadre et al. (2024) define compute as C = 6 N D; the law keeps their 6 whatever the runs' k.
OVER_TRAINING_FLOPS_PER_PARAM_TOKEN = 6.0

_SCALE_GRID = tuple(10.0**k for k in (0, 2, 4, 6))
_E_GRID = (0.5, 1.0, 2.0)


# ------------------------------------------------------------- over-training
def _over_training(n_params, n_tokens, E, a, b, eta):
    C = OVER_TRAINING_FLOPS_PER_PARAM_TOKEN * n_params * n_tokens
    M = n_tokens / n_params
    return E + (a * M**eta + b * M ** (-eta)) * C ** (-eta)


def over_training_from_chinchilla(E: float, A: float, B: float, alpha: float) -> dict[str, float]:
    """Gadre et al.'s (E, a, b, eta) from a tied Chinchilla law E + A/N^alpha + B/D^alpha.

    With C = 6ND and M = D/N, N = (C / 6M)^(1/2) and D = (CM / 6)^(1/2), so
    A N^-alpha = A 6^eta M^eta C^-eta and B D^-alpha = B 6^eta M^-eta C^-eta with
    eta = alpha / 2: a = A 6^eta, b = B 6^eta.
    """
    eta = alpha / 2.0
    k = OVER_TRAINING_FLOPS_PER_PARAM_TOKEN**eta
    return {"E": E, "a": A * k, "b": B * k, "eta": eta}


# ------------------------------------------------------------ compute laws
def _bnsl(flops, a, b, c0, c1, d1, f1):
    return a + b * flops ** (-c0) * (1.0 + (flops / d1) ** (1.0 / f1)) ** (-c1 * f1)


def _saturating(flops, E, A, alpha):
    return E + A * flops ** (-alpha)


# ---------------------------------------------------------- learning curves
LEARNING_CURVE_FORMS = ("m1", "m2", "m3", "m4")


def solve_m4(f: Any, eps_inf: Any, eps_0: Any, alpha: Any, *, bisections: int = 10, newton: int = 20) -> np.ndarray:
    """The loss eps solving Alabdulmohsin et al.'s M4: (eps - eps_inf) / (eps_0 - eps)^alpha = f.

    With w = eps - eps_inf and span = eps_0 - eps_inf, g(w) = w - f (span - w)^alpha
    rises from -f span^alpha < 0 at w = 0 to span > 0 at w = span (alpha >= 0,
    f > 0), so it has one root in (0, span).  A few bisections bracket it and
    Newton steps, kept inside the bracket, polish it to machine precision
    (their code searches a 10,000-point grid instead).  Arrays broadcast.
    """
    f, eps_inf, eps_0, alpha = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (f, eps_inf, eps_0, alpha)))
    span = eps_0 - eps_inf
    lo = np.zeros_like(span)
    hi = np.where(span > 0, span, np.nan)
    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        below = mid - f * (span - mid) ** alpha < 0
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    w = 0.5 * (lo + hi)
    for _ in range(newton):
        rest = span - w
        g = w - f * rest**alpha
        slope = 1.0 + f * alpha * rest ** (alpha - 1.0)
        step = w - g / slope
        new = np.where((step >= lo) & (step <= hi), step, 0.5 * (lo + hi))
        done = bool(np.all((np.abs(new - w) <= 4e-16 * np.abs(span)) | ~np.isfinite(new)))
        w = new
        if done:  # converged everywhere (Newton is quadratic: usually 3-4 steps after the bisections)
            break
        below = w - f * (span - w) ** alpha < 0
        lo = np.where(below, w, lo)
        hi = np.where(below, hi, w)
    return eps_inf + w


def _lc_source(form: str, x: str) -> tuple[str, str, str]:
    """Source of the function of one learning-curve form in column ``x``, its formula and description."""
    if form == "m1":
        return (f"def f({x}, beta, c):\n    return beta * {x} ** c\n",
                "eps = beta x^c", "Alabdulmohsin et al. (2022) M1, a power law")
    if form == "m2":
        return (f"def f({x}, eps_inf, beta, c):\n    return eps_inf + beta * {x} ** c\n",
                "eps = eps_inf + beta x^c", "Alabdulmohsin et al. (2022) M2, a power law with a limit")
    if form == "m3":
        return (f"def f({x}, beta, c, gamma):\n    return beta * (1.0 / {x} + gamma) ** c\n",
                "eps = beta (1/x + gamma)^c", "Alabdulmohsin et al. (2022) M3, a shifted power law")
    return (f"def f({x}, eps_inf, eps_0, beta, c, alpha):\n    return _solve(beta * {x} ** c, eps_inf, eps_0, alpha)\n",
            "(eps - eps_inf) / (eps_0 - eps)^alpha = beta x^c",
            "Alabdulmohsin et al. (2022) M4, a sigmoid-like curve between eps_0 and eps_inf")


def learning_curve_law(form: str, *, x: str = "n_tokens") -> Law:
    """Alabdulmohsin et al.'s (2022) learning-curve law ``form`` in the run column ``x``.

    Parameters
    ----------
    form : {"m1", "m2", "m3", "m4"}
    x : str, default "n_tokens"
        The column the curve runs along: tokens seen (their "seen examples"),
        ``flops``, ``n_params`` or any numeric run column.

    Returns
    -------
    Law
        Named ``form`` for ``x="n_tokens"`` and ``"<form>-<x>"`` otherwise
        (``"m4-flops"``, ``"m2-n-params"``: those two columns are registered
        built-ins, so ``fit(runs, "m4-flops")`` works by name).

    Raises
    ------
    ScalefitInputError
        An unknown form, or an ``x`` that is not a Python identifier.
    """
    from .laws import Law, Param

    key = str(form).strip().lower()
    if key not in LEARNING_CURVE_FORMS:
        raise ScalefitInputError(f"learning-curve form must be one of {list(LEARNING_CURVE_FORMS)}; got {form!r}.",
                                 option="form", values=[form])
    if not (isinstance(x, str) and x.isidentifier()) or x in ("beta", "c", "gamma", "alpha", "eps_inf", "eps_0"):
        raise ScalefitInputError(f"x must name a run column such as 'n_tokens' or 'flops'; got {x!r}.", option="x")
    src, formula, description = _lc_source(key, x)
    ns: dict[str, Any] = {"_solve": solve_m4}
    exec(src, ns)  # keyword names are the published symbols and the chosen column
    negative_c = Param("c", -0.3, min=-5.0, max=0.0, grid=(-0.05, -0.2, -0.5))
    params = {
        "m1": [Param("beta", 10.0, min=0.0, log=True, grid=_SCALE_GRID), negative_c],
        "m2": [Param("eps_inf", 1.5, min=0.0, log=True, grid=_E_GRID),
               Param("beta", 10.0, min=0.0, log=True, grid=_SCALE_GRID), negative_c],
        "m3": [Param("beta", 10.0, min=0.0, log=True, grid=_SCALE_GRID),
               Param("c", 0.3, min=0.0, max=5.0, grid=(0.05, 0.2, 0.5)),
               Param("gamma", 1e-9, min=0.0, log=True, grid=(1e-14, 1e-11, 1e-8, 1e-5))],
        "m4": [Param("eps_inf", 1.5, min=0.0, log=True, grid=_E_GRID),
               Param("eps_0", 10.0, min=0.0, log=True, grid=(5.0, 12.0)),
               Param("beta", 10.0, min=0.0, log=True, grid=_SCALE_GRID), negative_c,
               Param("alpha", 0.5, min=0.0, max=5.0, grid=(0.0, 0.5, 1.0))],
    }[key]
    name = key if x == "n_tokens" else f"{key}-{x.replace('_', '-')}"
    return Law(name, ns["f"], params, description=f"{description}, in {x}",
               formula=re.sub(r"\bx\b", x, formula))


# --------------------------------------------------------------- registry
# Caballero et al.'s noiseless 4-digit-addition simulation (Figure 4 right) spans x = 1..4096 with its
# break at d1 ~ 613; in compute the break is looked for over the decades of a scaling sweep.
_BREAK_GRID = tuple(10.0**k for k in (17, 19, 21, 23))


def forecast_laws() -> dict[str, Law]:
    """The laws of this module by name (registered in :mod:`scalefit.laws`)."""
    from .laws import Law, Param

    laws = {
        "over-training": Law(
            "over-training", _over_training,
            [Param("E", 1.7, min=0.0, log=True, grid=_E_GRID),
             Param("a", 400.0, min=0.0, log=True, grid=tuple(math.exp(v) for v in (0.0, 5.0, 10.0, 15.0))),
             Param("b", 400.0, min=0.0, log=True, grid=tuple(math.exp(v) for v in (0.0, 5.0, 10.0, 15.0))),
             Param("eta", 0.15, min=0.0, max=2.5, grid=(0.05, 0.15, 0.3))],
            description="Gadre et al. (2024) over-training law in compute C = 6ND and token multiplier M = D/N",
            formula="L = E + (a M^eta + b M^-eta) C^-eta, C = 6ND, M = D/N",
        ),
        "bnsl": Law(
            "bnsl", _bnsl,
            [Param("a", 1.7, min=0.0, log=True, grid=_E_GRID),
             Param("b", 100.0, min=0.0, log=True, grid=(1e1, 1e3, 1e5)),
             Param("c0", 0.05, min=0.0, max=5.0, grid=(0.02, 0.1, 0.3)),
             Param("c1", 0.05, min=-10.0, max=10.0, grid=(-0.05, 0.05, 0.3, 3.0)),
             Param("d1", 1e20, min=0.0, log=True, grid=_BREAK_GRID),
             Param("f1", 0.5, min=0.0, log=True, grid=(0.1, 1.0))],
            description="Caballero et al. (2022) broken neural scaling law in compute, one break",
            formula="L = a + b C^-c0 (1 + (C/d1)^(1/f1))^(-c1 f1)",
        ),
        "saturating": Law(
            "saturating", _saturating,
            [Param("E", 1.7, min=0.0, log=True, grid=_E_GRID),
             Param("A", 100.0, min=0.0, log=True, grid=(1e1, 1e3, 1e5)),
             Param("alpha", 0.05, min=0.0, max=5.0, grid=(0.02, 0.05, 0.1, 0.3))],
            description="saturating power law in compute (BNSL with no break; kaplan-c-e with A = C_c^alpha)",
            formula="L = E + A C^-alpha",
        ),
    }
    for form in LEARNING_CURVE_FORMS:
        for x in ("n_tokens", "flops", "n_params"):  # registered so that saved fits load back by name
            law = learning_curve_law(form, x=x)
            laws[law.name] = law
    return laws


#: Other names of the laws above, for :func:`scalefit.laws.get_law`.
FORECAST_ALIASES = {
    "gadre": "over-training",
    "over_training": "over-training",
    "overtraining": "over-training",
    "broken-power-law": "bnsl",
    "caballero": "bnsl",
    **{f"alabdulmohsin-{f}": f for f in LEARNING_CURVE_FORMS},
}
