"""How the headline answer moves across the reasonable objectives (issue 11).

The same runs fitted with Huber on log-loss (the default, Hoffmann et al. 2022),
least squares on log-loss, least squares on loss and, on request, the
Huber-likelihood fit of Besiroglu et al. (2024): the compute-optimal exponent
a and N*, D* at the user's budgets for each.  When the objectives disagree by
more than the default fit's own uncertainty, a :class:`SensitivityWarning`
says so and by how much.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._errors import ScalefitWarning, SensitivityWarning, warn
from .._format import format_number
from .._json import jsonable
from .._summary import Summary, Table
from ..laws import chinchilla_compute_optimal, chinchilla_exponents, chinchilla_values, is_chinchilla

#: The objectives compared: (label, loss, space).
OBJECTIVES = (
    ("Huber on log-loss (default)", "huber", "log"),
    ("least squares on log-loss", "mse", "log"),
    ("least squares on loss", "mse", "linear"),
)
LIKELIHOOD = ("Huber likelihood (Besiroglu et al. 2024)", "huber-likelihood", "log")


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """The headline answer under each objective.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per objective: ``objective``, ``loss``, ``space``, ``a``, and
        ``n_opt@C`` / ``d_opt@C`` for each budget C.
    budgets : tuple of float
    a_stderr : float
        Standard error of a of the fit compared against (bootstrap when
        given, else asymptotic by the delta method).
    spread_a : float
        Largest difference of a from the first objective's.
    spread_n_opt : float
        Largest ratio of N* at the largest budget to the first objective's, minus 1.
    disagree : bool
        Whether the objectives differ by more than 1.96 standard errors of a.
    message : str
    """

    table: pd.DataFrame
    budgets: tuple
    a_stderr: float
    spread_a: float
    spread_n_opt: float
    disagree: bool
    message: str

    def summary(self) -> Summary:
        header = ["objective", "a"] + [h for c in self.budgets for h in (f"N* at {c:.3g}", f"D* at {c:.3g}")]
        rows = []
        for _, r in self.table.iterrows():
            row: list[Any] = [r["objective"], format_number(r["a"], "fixed")]
            for c in self.budgets:
                row += [format_number(r[f"n_opt@{c:.3g}"], "human"), format_number(r[f"d_opt@{c:.3g}"], "human")]
            rows.append(row)
        return Summary("Sensitivity to the objective", [], [Table("", header, rows)], [self.message])

    def to_dict(self) -> dict:
        return jsonable({
            "budgets": list(self.budgets), "a_stderr": self.a_stderr, "spread_a": self.spread_a,
            "spread_n_opt": self.spread_n_opt, "disagree": self.disagree, "message": self.message,
            "rows": self.table.to_dict(orient="records"),
        })

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def _a_stderr(fit_result: Any, bootstrap: Any) -> float:
    samples = getattr(bootstrap, "samples", None)
    if samples is not None and "alpha" in samples:
        alpha = samples["alpha"].to_numpy(dtype=float)
        beta = samples["beta"].to_numpy(dtype=float) if "beta" in samples else alpha
        return float(np.nanstd(chinchilla_exponents(alpha, beta)[0], ddof=1))
    _, _, _, al, be = chinchilla_values(fit_result.params)
    cov = fit_result.covariance
    names = list(cov.columns) if hasattr(cov, "columns") else []
    if "alpha" not in names:
        return math.nan
    g = {"alpha": -be / (al + be) ** 2, "beta": al / (al + be) ** 2}
    if "beta" not in names:  # tied: a = 1/2 exactly
        return 0.0
    v = sum(g[i] * g[j] * float(cov.loc[i, j]) for i in ("alpha", "beta") for j in ("alpha", "beta"))
    return math.sqrt(v) if v >= 0 else math.nan


#: Above this relative move of N* at the largest budget, the objectives are not said to agree (even when a does).
NSTAR_SPREAD = 0.2


def sensitivity(fit_result: Any, budgets: Sequence[float], *, bootstrap: Any = None,
                likelihood: bool = False) -> Sensitivity | None:
    """Refit the runs of ``fit_result`` under each objective and tabulate a, N* and D* at ``budgets``.

    Returns None for laws without a compute-optimal closed form (not the
    Chinchilla forms) or fits without runs.  Warns
    :class:`~scalefit.SensitivityWarning` when the objectives disagree by more
    than 1.96 standard errors of a.
    """
    if fit_result.runs is None or not is_chinchilla(fit_result.law):
        return None
    from ._fit import fit

    budgets = tuple(float(c) for c in np.atleast_1d(np.asarray(budgets, dtype=float)))
    k = float(getattr(fit_result.runs, "flops_per_param_token", 6.0) or 6.0)
    rows = []
    for label, loss, space in OBJECTIVES + ((LIKELIHOOD,) if likelihood else ()):
        if loss == fit_result.options.get("loss") and space == fit_result.options.get("space"):
            res = fit_result
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ScalefitWarning)
                    res = fit(fit_result.runs, fit_result.law, loss=loss, space=space,
                              fixed=fit_result.options.get("fixed") or None)
            except (ValueError, RuntimeError):
                continue
        _, _, _, al, be = chinchilla_values(res.params)
        row: dict[str, Any] = {"objective": label, "loss": loss, "space": space, "a": float(chinchilla_exponents(al, be)[0])}
        n_opt, d_opt, _ = chinchilla_compute_optimal(res.params, np.array(budgets), flops_per_param_token=k)
        for c, n, d in zip(budgets, np.atleast_1d(n_opt), np.atleast_1d(d_opt)):
            row[f"n_opt@{c:.3g}"], row[f"d_opt@{c:.3g}"] = float(n), float(d)
        rows.append(row)
    table = pd.DataFrame(rows)
    se = _a_stderr(fit_result, bootstrap)
    base = table.iloc[0]
    spread_a = float(np.max(np.abs(table["a"] - base["a"])))
    top = f"n_opt@{budgets[-1]:.3g}"
    spread_n = float(np.max(np.abs(table[top] / base[top] - 1)))
    disagree = bool(np.isfinite(se) and spread_a > 1.96 * se and spread_a > 1e-3)
    worst = table.iloc[int(np.argmax(np.abs(table["a"] - base["a"])))]
    worst_n = table.iloc[int(np.argmax(np.abs(table[top] / base[top] - 1)))]
    if disagree:
        message = (f"The objective changes the answer: a = {base['a']:.3f} ({base['objective']}) against "
                   f"{worst['a']:.3f} ({worst['objective']}), {spread_a:.3f} apart, more than 1.96 standard errors "
                   f"({se:.3f}); N* at {budgets[-1]:.3g} FLOPs moves by up to {100 * spread_n:.0f}%. Look for outliers "
                   "and check which objective suits the noise before acting on one number.")
        warn(message, SensitivityWarning)
    elif spread_n > NSTAR_SPREAD:
        # a within its noise, yet far out a small change of a moves N* a lot: that is what the plan uses
        message = (f"The objectives agree on a within its noise (it moves by at most {spread_a:.3f}, standard error "
                   f"{se:.3f}), but N* at {budgets[-1]:.3g} FLOPs moves by up to {100 * spread_n:.0f}% "
                   f"({worst_n['objective']}): this far out the choice of objective shifts the plan; read it with "
                   "its interval.")
        warn(message, SensitivityWarning)
    else:
        message = (f"The objectives agree: a moves by at most {spread_a:.3f} (standard error {se:.3f}); N* at "
                   f"{budgets[-1]:.3g} FLOPs by at most {100 * spread_n:.0f}%.")
    return Sensitivity(table, budgets, se, spread_a, spread_n, disagree, message)
