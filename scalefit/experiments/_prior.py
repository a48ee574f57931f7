"""Priors over Chinchilla laws for experiment design: draws of (E, A, B, alpha, beta).

A prior is what :func:`scalefit.design` believes about the law before (or
after) the runs it plans.  It is built from what the user gives:

- ``None`` (default): the published Chinchilla fits bundled in
  ``scalefit/datasets/data/published_coefficients.csv`` (Hoffmann et al. 2022
  Approach 3, its unrounded values, and Besiroglu et al. 2024), an equal
  mixture over the sources; each source's parameters are spread by their
  published standard errors (normal on log E, log A, log B with the relative
  error; normal on alpha, beta), and a source that publishes none borrows the
  relative errors of the sources that do;
- a mapping ``{name: value}``: a prior concentrated on one law;
- a mapping ``{name: (value, std_error)}``: one law with a spread, as above;
- a ``pandas.DataFrame`` of draws with columns E, A, B, alpha, beta, or a
  :class:`~scalefit.BootstrapResult` (its ``samples``);
- a :class:`~scalefit.FitResult`: its estimate spread by its standard errors;
- runs already trained (:class:`~scalefit.Runs`, or a table with
  ``n_params``, ``n_tokens`` and ``loss``): they are fitted and bootstrapped,
  and the design then suggests the *next* runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError

#: The Chinchilla parameters a prior draws, in the order of the law.
NATURAL_CHINCHILLA = ("E", "A", "B", "alpha", "beta")

_LOG = ("E", "A", "B")  # spread on the log scale (positive)
_LINEAR = ("alpha", "beta")
#: Exponents are kept in a range where the law is a plausible scaling law.
_EXPONENT_RANGE = (0.05, 1.5)


@dataclass(frozen=True)
class Prior:
    """Draws of Chinchilla parameters, and the runs already trained (if any).

    Attributes
    ----------
    draws : pandas.DataFrame
        A pool of parameter draws (columns E, A, B, alpha, beta), or the
        single law for a concentrated prior.
    description : str
        What the prior is, in words.
    existing : pandas.DataFrame or None
        Runs already trained (``n_params``, ``n_tokens``, ``flops``, ``loss``).
    sampler : str
        ``"normal"`` (centres and spreads, resampled fresh) or ``"pool"``
        (resample rows of ``draws``).
    spread : pandas.DataFrame or None
        For ``"normal"``: one row per mixture component, columns
        ``<name>`` (centre) and ``<name>_sd`` (on the log scale for E, A, B).
    """

    draws: pd.DataFrame
    description: str
    existing: pd.DataFrame | None = None
    sampler: str = "pool"
    spread: pd.DataFrame | None = None

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` parameter draws (rows), reproducible from ``rng``."""
        if self.sampler == "normal" and self.spread is not None:
            comp = rng.integers(0, len(self.spread), size=n)
            rows = self.spread.iloc[comp].reset_index(drop=True)
            out = {}
            for name in NATURAL_CHINCHILLA:
                z = rng.standard_normal(n)
                centre, sd = rows[name].to_numpy(float), rows[f"{name}_sd"].to_numpy(float)
                out[name] = centre * np.exp(sd * z) if name in _LOG else np.clip(centre + sd * z, *_EXPONENT_RANGE)
            return pd.DataFrame(out)
        idx = rng.integers(0, len(self.draws), size=n)
        return self.draws.iloc[idx].reset_index(drop=True)

    def centre(self) -> dict[str, float]:
        """The prior's central law: the median of each parameter over its draw pool."""
        return {k: float(np.median(self.draws[k].to_numpy(float))) for k in NATURAL_CHINCHILLA}


def _published() -> Prior:
    from ..datasets import published_coefficients

    table = published_coefficients()
    table = table.loc[table["law"] == "chinchilla"]
    comps = []
    for source, grp in table.groupby("source", sort=False):
        g = grp.set_index("parameter")
        row: dict[str, Any] = {"source": source}
        for name in NATURAL_CHINCHILLA:
            value, se = float(g.loc[name, "value"]), float(g.loc[name, "std_error"])
            row[name] = value
            row[f"{name}_sd"] = (se / value if name in _LOG else se) if np.isfinite(se) else np.nan
        comps.append(row)
    spread = pd.DataFrame(comps)
    for name in NATURAL_CHINCHILLA:  # sources without errors borrow the relative errors of those with them
        col = f"{name}_sd"
        if name in _LOG:
            spread[col] = spread[col].fillna(float(spread[col].median()))
        else:
            rel = float((spread[col] / spread[name]).median())
            spread[col] = spread[col].fillna(spread[name] * rel)
    centres = spread[list(NATURAL_CHINCHILLA)]
    return Prior(
        draws=centres.reset_index(drop=True),
        description="published Chinchilla fits (" + ", ".join(spread["source"]) + ") with their standard errors",
        sampler="normal",
        spread=spread,
    )


def _check_params(params: Mapping[str, Any], where: str) -> None:
    missing = [k for k in NATURAL_CHINCHILLA if k not in params]
    if missing:
        raise ScalefitInputError(
            f"{where}: a prior law needs the Chinchilla parameters {list(NATURAL_CHINCHILLA)}; missing {missing}. "
            "Give e.g. prior={'E': 1.69, 'A': 406.4, 'B': 410.7, 'alpha': 0.34, 'beta': 0.28}.",
            option="prior", values=missing,
        )


def _from_mapping(prior: Mapping[str, Any]) -> Prior:
    _check_params(prior, "design()")
    values = {k: prior[k] for k in NATURAL_CHINCHILLA}
    spread = {k: v for k, v in values.items() if isinstance(v, (tuple, list))}
    if not spread:
        point = pd.DataFrame({k: [float(v)] for k, v in values.items()})
        return Prior(draws=point, description="one law: " + ", ".join(f"{k}={float(v):.4g}" for k, v in values.items()))
    row: dict[str, float] = {}
    for k, v in values.items():
        centre, sd = (float(v[0]), float(v[1])) if isinstance(v, (tuple, list)) else (float(v), 0.0)
        if not (np.isfinite(centre) and np.isfinite(sd) and sd >= 0 and centre > 0):
            raise ScalefitInputError(
                f"design(): prior[{k!r}] must be a positive value or (value, std_error) with std_error >= 0; got {v!r}.",
                option="prior", values=[v],
            )
        row[k], row[f"{k}_sd"] = centre, (sd / centre if k in _LOG else sd)
    spread_frame = pd.DataFrame([row])
    return Prior(
        draws=spread_frame[list(NATURAL_CHINCHILLA)], description="one law with standard errors",
        sampler="normal", spread=spread_frame,
    )


def _from_draws(frame: pd.DataFrame, description: str) -> Prior:
    _check_params(dict.fromkeys(frame.columns), "design()")
    draws = frame[list(NATURAL_CHINCHILLA)].astype(float).reset_index(drop=True)
    draws = draws.loc[np.isfinite(draws.to_numpy()).all(axis=1)].reset_index(drop=True)
    if draws.empty:
        raise ScalefitInputError("design(): the prior's draws hold no finite row.", option="prior")
    return Prior(draws=draws, description=description)


def _from_fit(result: Any, description: str, existing: pd.DataFrame | None = None) -> Prior:
    params, stderr = dict(result.params), dict(result.stderr)
    row: dict[str, float] = {}
    for k in NATURAL_CHINCHILLA:
        value, se = float(params[k]), float(stderr.get(k, np.nan))
        se = se if np.isfinite(se) else 0.0
        row[k], row[f"{k}_sd"] = value, (se / value if k in _LOG else se)
    spread = pd.DataFrame([row])
    return Prior(
        draws=spread[list(NATURAL_CHINCHILLA)], description=description, existing=existing,
        sampler="normal", spread=spread,
    )


def make_prior(prior: Any, *, seed: int = 0) -> Prior:
    """Turn what the user gave as ``prior`` into a :class:`Prior` (see the module docstring)."""
    from ..fitting import BootstrapResult, FitResult, fit
    from ..laws import get_law, is_chinchilla
    from ..runs import Runs, as_runs

    if prior is None:
        return _published()
    if isinstance(prior, Prior):
        return prior
    if isinstance(prior, BootstrapResult):
        return _from_draws(prior.samples, f"bootstrap of a fit ({len(prior.samples)} draws)")
    if isinstance(prior, FitResult):
        if not is_chinchilla(get_law(prior.law)):
            raise ScalefitInputError(
                f"design() plans for the Chinchilla law; the prior fit is of law {prior.law.name!r}. Refit with "
                "law='chinchilla'.", option="prior",
            )
        return _from_fit(prior, "a fit with its standard errors")
    if isinstance(prior, Mapping):
        return _from_mapping(prior)
    if isinstance(prior, pd.DataFrame) and "loss" not in prior.columns:
        return _from_draws(prior, f"{len(prior)} parameter draws")
    if isinstance(prior, (Runs, pd.DataFrame, list, str)):
        import warnings

        runs = as_runs(prior)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit(runs, "chinchilla")
        existing = pd.DataFrame(
            {"n_params": runs.n_params, "n_tokens": runs.n_tokens, "flops": runs.flops, "loss": runs.loss}
        )
        boot = result.bootstrap(200, seed=seed, n_jobs=1, progress=False)
        pooled = _from_draws(boot.samples, f"{len(existing)} trained runs (fit and 200 bootstrap draws)")
        return Prior(draws=pooled.draws, description=pooled.description, existing=existing)
    raise ScalefitInputError(
        f"design(): prior must be None (the published fits), a law {{name: value}} or {{name: (value, std_error)}}, "
        f"a DataFrame of draws, a FitResult or BootstrapResult, or runs already trained; got {type(prior).__name__}.",
        option="prior",
    )
