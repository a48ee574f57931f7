"""The Design result: the runs to train, their cost, and the precision they are expected to give."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._format import format_number
from .._summary import Summary, Table

_LABELS = {
    "a": "a = beta/(alpha+beta)",
    "n_opt": "N* at target",
    "d_opt": "D* at target",
    "loss": "L* at target",
}
_UNITS = {"a": "absolute", "n_opt": "log ratio", "d_opt": "log ratio", "loss": "log ratio"}


def _finite(x: Any) -> Any:
    """JSON-safe float: None for NaN or infinity."""
    x = float(x)
    return x if np.isfinite(x) else None


@dataclass(frozen=True)
class Design:
    """A planned set of training runs and the precision they are expected to give at the target.

    Attributes
    ----------
    runs : pandas.DataFrame
        The runs to train: ``n_params``, ``n_tokens``, ``flops``, ``budget``
        (the IsoFLOP line, or the run's own compute for suggested next runs)
        and, for next-run suggestions, ``order`` and ``shrink`` (the fraction
        by which adding that run shrinks the 80% range of the objective's error
        at the target, given the runs before it).
    name : str
        The chosen candidate, e.g. ``"3 budgets x 8/3/3 runs, +-4x (top-heavy, ratio 10)"``.
    kind : str
        ``"grid"``, ``"top-heavy"`` or ``"next"``.
    target_flops, experiment_flops, total_flops : float
        The budget planned for, the compute allowed for experiments, and what
        the design spends (never more than ``experiment_flops``).
    objective : str
        The quantity the design minimises the error of.
    precision : pandas.DataFrame
        Per quantity (``a``, ``n_opt``, ``d_opt``, ``loss``): the median
        absolute error, the 80% range (``low``, ``high``) of the signed error
        (``a_hat - a`` for a, ``ln(hat / true)`` for the others) and the number
        of simulated fits that failed; from ``n_sims`` fresh simulations of the
        chosen design, not those used to choose it.
    errors : numpy.ndarray
        The simulated errors behind ``precision``, shape ``(n_sims, 4)``.
    candidates : pandas.DataFrame
        Every candidate considered, with its score (median absolute error of
        the objective) and the number of simulations it was scored on.
    existing : pandas.DataFrame or None
        Runs already trained (the design's runs come on top of them).
    prior : str
        What the prior was.
    prior_centre : dict
        The prior's central law (plots draw its loss contours).
    n_sims, seed, noise, outliers, flops_per_param_token
        The simulation settings.
    """

    runs: pd.DataFrame
    name: str
    kind: str
    target_flops: float
    experiment_flops: float
    total_flops: float
    objective: str
    precision: pd.DataFrame
    errors: np.ndarray
    candidates: pd.DataFrame
    existing: pd.DataFrame | None
    prior: str
    prior_centre: dict = field(default_factory=dict)
    n_sims: int = 0
    seed: int = 0
    noise: float = 0.01
    outliers: float = 0.0
    flops_per_param_token: float = 6.0

    @property
    def n_runs(self) -> int:
        """Number of runs to train."""
        return len(self.runs)

    def error(self, quantity: str = "n_opt") -> float:
        """Median absolute simulated error of ``quantity`` at the target."""
        row = self.precision.set_index("quantity").loc[quantity]
        return float(row["median_abs_error"])

    def to_frame(self) -> pd.DataFrame:
        """The runs to train, as a new DataFrame."""
        return self.runs.copy()

    def to_dict(self) -> dict:
        """Everything as valid JSON (no NaN or Infinity)."""
        def records(frame: pd.DataFrame | None) -> list | None:
            if frame is None:
                return None
            return [{k: (_finite(v) if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, bool)
                         else v) for k, v in row.items()} for row in frame.to_dict("records")]

        return dict(
            name=self.name, kind=self.kind, target_flops=self.target_flops, experiment_flops=self.experiment_flops,
            total_flops=self.total_flops, objective=self.objective, runs=records(self.runs),
            precision=records(self.precision), candidates=records(self.candidates), existing=records(self.existing),
            prior=self.prior, prior_centre={k: _finite(v) for k, v in self.prior_centre.items()},
            n_sims=self.n_sims, seed=self.seed, noise=self.noise, outliers=self.outliers,
            flops_per_param_token=self.flops_per_param_token,
        )

    def summary(self) -> Summary:
        """Text/HTML summary: the runs, the cost and the expected precision."""
        info = [
            ("Design", self.name),
            ("Target compute", format_number(self.target_flops)),
            ("Experiment budget", format_number(self.experiment_flops)),
            ("Compute spent", f"{format_number(self.total_flops)} ({self.total_flops / self.experiment_flops:.0%})"),
            ("Runs", str(self.n_runs) + (f" (after {len(self.existing)} trained)" if self.existing is not None else "")),
            ("Objective", _LABELS[self.objective]),
            ("Prior", self.prior),
            ("Simulations", f"{self.n_sims} (noise {self.noise:g}, outliers {self.outliers:g}, seed {self.seed})"),
        ]
        cols = ["n_params", "n_tokens", "flops"] + [c for c in ("shrink",) if c in self.runs.columns]
        run_rows = [[format_number(r["n_params"], "human"), format_number(r["n_tokens"], "human"),
                     format_number(r["flops"])] + ([f"{r['shrink']:.1%}"] if "shrink" in cols else [])
                    for _, r in self.runs.iterrows()]
        prec_rows = [[_LABELS[r["quantity"]], _UNITS[r["quantity"]], format_number(r["median_abs_error"]),
                      f"[{format_number(r['low'])}, {format_number(r['high'])}]", int(r["failed"])]
                     for _, r in self.precision.iterrows()]
        tables = [
            Table("Runs to train", cols, run_rows),
            Table("Expected error at the target (simulated)",
                  ["quantity", "error", "median |error|", "80% range", "failed fits"], prec_rows),
        ]
        notes = ["Errors are of the estimate at the target, from fits of simulated runs with scalefit.fit; "
                 "a log ratio of 0.1 is about a 10% error."]
        return Summary("Experiment design", info, tables, notes)

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return (f"Design({self.name!r}, n_runs={self.n_runs}, total_flops={self.total_flops:.3g}, "
                f"{self.objective} error={self.error(self.objective):.3g})")
