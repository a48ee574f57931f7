"""The power laws N* = k_n C^a and D* = k_d C^b that Approaches 1 and 2 share (private).

Both approaches end the same way: a least-squares line in log10 space through
the optima (row 0: the data; rows 1..: the bootstrap resamples, all at once),
percentile intervals of the exponents, and a result that predicts the
compute-optimal allocation at any budget.  This module holds that shared end:
:func:`loglog_fit`, :func:`fit_power_laws`, :class:`OptimalAllocation` and the
base of :class:`~scalefit.approaches.IsoFLOPResult` and
:class:`~scalefit.approaches.EnvelopeResult`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from .._errors import ScalefitInputError
from .._format import format_interval, format_number
from .._intervals import percentile_interval
from .._summary import Summary, Table

if TYPE_CHECKING:
    from ..runs import Runs

#: The quantities every power-law result estimates, with bootstrap intervals.
QUANTITIES = ("a", "b", "k_n", "k_d")


def loglog_fit(log_c: np.ndarray, log_y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept of ``log_y`` on ``log_c`` where ``mask``.

    ``log_c`` has shape ``(K,)`` or ``(R, K)``; ``log_y`` and ``mask`` have shape
    ``(R, K)``.  Rows with fewer than two distinct points give NaN.
    """
    m = mask & np.isfinite(log_y)
    w = m.astype(float)
    n = w.sum(-1)
    log_c = np.broadcast_to(log_c, log_y.shape)
    y = np.where(m, log_y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (w * log_c).sum(-1) / n
        my = (w * y).sum(-1) / n
        dx = np.where(m, log_c - mx[..., None], 0.0)
        sxx = (dx * dx).sum(-1)
        sxy = (dx * (y - my[..., None])).sum(-1)
        slope = sxy / sxx
        good = (n >= 2) & (sxx > 1e-12)
        slope = np.where(good, slope, np.nan)
        intercept = np.where(good, my - slope * mx, np.nan)
    return slope, intercept



def intervals_from_samples(samples: pd.DataFrame, levels: tuple[float, ...],
                           point: Mapping[str, float] | None = None) -> Mapping[str, Mapping[float, tuple[float, float]]]:
    """Intervals ``{quantity: {level: (low, high)}}`` from bootstrap samples.

    With ``point`` (the estimates on the data), bias-corrected percentile
    intervals that warn when an estimate sits at their edge
    (:func:`scalefit._intervals.percentile_interval`); plain percentile ones otherwise.
    """
    out = {}
    for q in QUANTITIES:
        col = samples[q].to_numpy(dtype=float) if q in samples else np.array([])
        est = None if point is None else point.get(q)
        out[q] = MappingProxyType({lv: percentile_interval(col, lv, estimate=est, what=q) for lv in levels})
    return MappingProxyType(out)


@dataclass(frozen=True)
class PowerLawFits:
    """N* = k_n C^a and D* = k_d C^b on the data (row 0) and on every resample (rows 1..)."""

    a: float
    b: float
    k_n: float
    k_d: float
    samples: pd.DataFrame
    n_valid: int

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.a))


def fit_power_laws(log_c: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, mask: np.ndarray) -> PowerLawFits:
    """Least-squares power laws in log10 space; row 0 of ``log_n``/``log_d``/``mask`` is the data."""
    a, log_kn = loglog_fit(log_c, log_n, mask)
    b, log_kd = loglog_fit(log_c, log_d, mask)
    samples = pd.DataFrame({"a": a[1:], "b": b[1:], "k_n": 10.0 ** log_kn[1:], "k_d": 10.0 ** log_kd[1:]})
    return PowerLawFits(a=float(a[0]), b=float(b[0]), k_n=float(10.0 ** log_kn[0]), k_d=float(10.0 ** log_kd[0]),
                        samples=samples, n_valid=int(np.isfinite(samples["a"]).sum()))


def few_resamples_note(fits: PowerLawFits, bootstrap: int) -> list[str]:
    """The note to warn when fewer than 90% of the resamples gave a fit (empty otherwise)."""
    if bootstrap and fits.ok and fits.n_valid < 0.9 * bootstrap:
        return [f"only {fits.n_valid} of {bootstrap} bootstrap resamples gave a fit; intervals rest on those."]
    return []


def records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows of ``df`` as dicts over ``columns`` (those present), flags as lists (for JSON)."""
    cols = [c for c in columns if c in df.columns]
    return [{c: (list(r[c]) if c == "flags" else r[c]) for c in cols} for _, r in df.iterrows()]


def fmt(value: Any) -> str:
    """A number as the approaches' summaries show it (4 decimals, scientific when large or small)."""
    return format_number(value, "fixed")


def flag_text(flags: Any) -> str:
    return ",".join(flags) if flags else "-"


def summary(title: str, info: list, tables: list[tuple[str, list, list]], notes: list) -> Summary:
    """A :class:`~scalefit._summary.Summary` from ``(title, header, rows)`` tables."""
    return Summary(title=title, info=info, tables=[Table(title=t, header=h, rows=r) for t, h, r in tables], notes=notes)


@dataclass(frozen=True)
class OptimalAllocation:
    """Compute-optimal model size and token count at given FLOP budgets.

    Attributes
    ----------
    flops, n_params, n_tokens : numpy.ndarray
        Budgets and the optimal N* = k_n C^a and D* = k_d C^b there.
    intervals : mapping
        ``{"n_params": {level: (low, high)}, "n_tokens": {...}}``, each a pair of
        arrays from the bootstrap samples of the power laws (NaN when there were none).
    """

    flops: np.ndarray
    n_params: np.ndarray
    n_tokens: np.ndarray
    intervals: Mapping[str, Mapping[float, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per budget with columns flops, n_params, n_tokens and the interval bounds."""
        df = pd.DataFrame({"flops": self.flops, "n_params": self.n_params, "n_tokens": self.n_tokens})
        for q, per_level in self.intervals.items():
            for lv, (lo, hi) in per_level.items():
                df[f"{q}_low_{lv:g}"] = lo
                df[f"{q}_high_{lv:g}"] = hi
        return df


@dataclass(frozen=True, eq=False, kw_only=True)
class PowerLawResult:
    """Fields and helpers shared by the Approach 1 and 2 results.

    ``runs`` holds the :class:`~scalefit.runs.Runs` the analysis was computed
    from, so a plot or a report needs nothing else.
    """

    a: float
    b: float
    k_n: float
    k_d: float
    intervals: Mapping[str, Mapping[float, tuple[float, float]]]
    level: tuple[float, ...]
    bootstrap_samples: pd.DataFrame
    n_bootstrap: int
    n_bootstrap_valid: int
    success: bool
    message: str
    seed: int | None = None
    runs: Runs | None = field(default=None, repr=False)

    # ------------------------------------------------------------- helpers
    def interval(self, name: str, level: float | None = None) -> tuple[float, float]:
        """Bootstrap percentile interval of ``a``, ``b``, ``k_n`` or ``k_d``.

        Parameters
        ----------
        name : {"a", "b", "k_n", "k_d"}
        level : float, optional
            One of the levels the analysis was run with; default the first.

        Returns
        -------
        (low, high) : tuple of float
            NaN when fewer than two resamples gave a fit.

        Raises
        ------
        ScalefitInputError
            For an unknown quantity or a level that was not computed.
        """
        if name not in QUANTITIES:
            raise ScalefitInputError(f"interval: unknown quantity {name!r}; choose one of {', '.join(QUANTITIES)}.")
        level = self.level[0] if level is None else float(level)
        if level not in self.intervals[name]:
            raise ScalefitInputError(
                f"interval: level {level:g} was not computed; available levels are "
                f"{', '.join(f'{lv:g}' for lv in self.level)} (pass level=... to the analysis).",
                option="level",
            )
        return self.intervals[name][level]

    def predict_optimal(self, flops: float | np.ndarray) -> OptimalAllocation:
        """Compute-optimal N* = k_n C^a and D* = k_d C^b at FLOP budget(s) ``flops``.

        Parameters
        ----------
        flops : float or array_like
            Positive FLOP budgets.

        Returns
        -------
        OptimalAllocation
            With bootstrap percentile intervals at every analysed level.

        Raises
        ------
        ScalefitInputError
            If a budget is not a positive finite number.
        """
        c = np.atleast_1d(np.asarray(flops, dtype=float))
        if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c <= 0):
            bad = [float(v) for v in c[~(np.isfinite(c) & (c > 0))][:5]]
            raise ScalefitInputError(
                f"predict_optimal: flops must be positive and finite; found {bad if bad else 'no values'}. "
                "Pass FLOP budgets such as 1e21.",
                values=bad,
            )
        n = self.k_n * c ** self.a
        d = self.k_d * c ** self.b
        s = self.bootstrap_samples
        intervals: dict[str, Mapping[float, tuple[np.ndarray, np.ndarray]]] = {}
        if len(s):
            n_s = s["k_n"].to_numpy()[:, None] * c[None, :] ** s["a"].to_numpy()[:, None]
            d_s = s["k_d"].to_numpy()[:, None] * c[None, :] ** s["b"].to_numpy()[:, None]
            for name, samp in (("n_params", n_s), ("n_tokens", d_s)):
                ok = np.isfinite(samp).all(axis=1)  # a resample counts whole (all budgets) or not at all
                per = {}
                for lv in self.level:
                    if ok.sum() >= 2:
                        point = n if name == "n_params" else d
                        labels = [f"{'N*' if name == 'n_params' else 'D*'} at {v:.3g} FLOPs" for v in c]
                        lo, hi = percentile_interval(samp[ok], lv, axis=0, estimate=point, what=labels)
                    else:
                        lo = hi = np.full(c.shape, np.nan)
                    per[lv] = (lo, hi)
                intervals[name] = MappingProxyType(per)
        return OptimalAllocation(flops=c, n_params=n, n_tokens=d, intervals=MappingProxyType(intervals))

    def _law_info(self) -> list[tuple[str, Any]]:
        lv = self.level[0]
        info: list[tuple[str, Any]] = []
        for q, label in (("a", "a  (N* ~ C^a)"), ("b", "b  (D* ~ C^b)"), ("k_n", "k_n"), ("k_d", "k_d")):
            lo, hi = self.intervals[q][lv]
            info.append((label, f"{fmt(getattr(self, q))}  {format_interval(lo, hi, 'fixed')} at {lv:.0%}"))
        info.append(("bootstrap", f"{self.n_bootstrap_valid} valid of {self.n_bootstrap} resamples (seed {self.seed})"))
        return info

    def _power_law_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "k_n": self.k_n,
            "k_d": self.k_d,
            "intervals": {q: {f"{lv:g}": list(v) for lv, v in per.items()} for q, per in self.intervals.items()},
            "level": list(self.level),
            "n_bootstrap": self.n_bootstrap,
            "n_bootstrap_valid": self.n_bootstrap_valid,
            "seed": self.seed,
            "success": self.success,
            "message": self.message,
        }

    def _interval_row(self) -> dict[str, Any]:
        lv = self.level[0]
        row: dict[str, Any] = {}
        for q in QUANTITIES:
            lo, hi = self.intervals[q][lv]
            row[q] = getattr(self, q)
            row[f"{q}_low"] = lo
            row[f"{q}_high"] = hi
        return row

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def summary(self) -> Summary:  # pragma: no cover - every result defines its own
        raise NotImplementedError
