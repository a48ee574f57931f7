"""Result of Approach 1: the training-curve envelope (private)."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._json import jsonable
from .._summary import Summary
from ._powerlaw import PowerLawResult, flag_text, fmt, records, summary
from ._saved import from_state, saved_state, state_dict, to_json


@dataclass(frozen=True, eq=False, kw_only=True)
class EnvelopeResult(PowerLawResult):
    """Result of :func:`scalefit.envelope` (Approach 1 of Hoffmann et al., 2022).

    Attributes
    ----------
    a, b, k_n, k_d, intervals, level
        As in :class:`IsoFLOPResult`; intervals resample whole runs.
    frontier : pandas.DataFrame
        The lower envelope: ``flops``, ``n_params``, ``n_tokens``, ``loss``,
        ``run`` (the run on the envelope), ``n_models`` (distinct model sizes
        covering that FLOP value), ``flags`` (``"edge"`` when the winner is the
        smallest or largest model covering that FLOP value) and ``used``.
    dropped : mapping
        Checkpoints dropped before the analysis: ``min_tokens``,
        ``min_fraction``, ``not_final`` (counts).
    excluded_runs : pandas.DataFrame
        Runs that could not contribute (``run``, ``reason``).
    n_runs : int
        Runs analysed.
    runs : Runs
        The runs the analysis was given (every checkpoint, also under ``final_only``).
    final_only, n_grid, min_tokens, min_fraction, exclude_flags
        The options the analysis ran with (all of them in ``options``).
    """

    frontier: pd.DataFrame
    dropped: Mapping[str, int]
    excluded_runs: pd.DataFrame
    n_runs: int
    final_only: bool
    n_grid: int
    min_tokens: float | None
    min_fraction: float | None
    exclude_flags: tuple[str, ...]

    @property
    def options(self) -> Mapping[str, Any]:
        """The options the analysis ran with (keyword -> value), as :func:`scalefit.envelope` takes them."""
        return MappingProxyType({
            "n_grid": self.n_grid, "final_only": self.final_only, "min_tokens": self.min_tokens,
            "min_fraction": self.min_fraction, "exclude_flags": self.exclude_flags, "bootstrap": self.n_bootstrap,
            "level": self.level, "seed": self.seed,
        })

    @property
    def budgets(self) -> np.ndarray:
        """FLOPs of the frontier points (the ``flops`` column of :attr:`frontier`)."""
        return self.frontier["flops"].to_numpy(dtype=float)

    @property
    def optima(self) -> pd.DataFrame:
        """The frontier points (same columns as :attr:`IsoFLOPResult.optima` where they apply)."""
        return self.frontier

    def table(self) -> pd.DataFrame:
        """One row with the exponents, coefficients and intervals."""
        row = self._interval_row()
        row["n_points"] = len(self.frontier)
        row["n_used"] = int(self.frontier["used"].sum()) if len(self.frontier) else 0
        row["n_runs"] = self.n_runs
        row["success"] = self.success
        return pd.DataFrame([row])

    def to_frame(self) -> pd.DataFrame:
        """The same as :meth:`table`."""
        return self.table()

    def summary(self) -> Summary:
        """Text/HTML summary (``str()`` gives text; notebooks render HTML)."""
        info = self._law_info()
        info += [
            ("runs", self.n_runs),
            ("checkpoints", "final only" if self.final_only else f"all, interpolated on a {self.n_grid}-point log-FLOP grid"),
            ("dropped", ", ".join(f"{k}: {v}" for k, v in self.dropped.items()) or "none"),
        ]
        fr = self.frontier
        rows = []
        if len(fr):
            # one row per stretch of the envelope held by one run
            seg = (fr["run"] != fr["run"].shift()).cumsum()
            for _, g in fr.groupby(seg, sort=False):
                rows.append([
                    str(g["run"].iloc[0]), fmt(g["n_params"].iloc[0]), f"{fmt(g['flops'].iloc[0])} - {fmt(g['flops'].iloc[-1])}",
                    len(g), flag_text(g["flags"].iloc[0]), "yes" if g["used"].any() else "no",
                ])
        notes = []
        n_ex = int((~fr["used"]).sum()) if len(fr) else 0
        if n_ex:
            notes.append(f"{n_ex} frontier point(s) left out of the power-law fit (edge: the winner is the smallest or largest model covering that FLOP value).")
        if len(self.excluded_runs):
            notes.append(f"{len(self.excluded_runs)} run(s) could not contribute (see .excluded_runs).")
        if not self.success:
            notes.append(self.message)
        tables = [("Envelope (runs holding the minimum loss)", ["run", "N", "FLOPs", "points", "flags", "used"], rows)]
        return summary("Envelope analysis (Approach 1)", info, tables, notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with keys a, b, k_n, k_d, intervals, optima (the frontier), dropped, ..."""
        out: dict[str, Any] = {"approach": "envelope"}
        out.update(self._power_law_dict())
        out.update(
            {
                "final_only": self.final_only,
                "n_grid": self.n_grid,
                "min_tokens": self.min_tokens,
                "min_fraction": self.min_fraction,
                "exclude_flags": list(self.exclude_flags),
                "n_runs": self.n_runs,
                "dropped": dict(self.dropped),
                "excluded_runs": records(self.excluded_runs, ["run", "reason"]),
                "optima": records(self.frontier, ["flops", "n_params", "n_tokens", "loss", "flags", "run", "n_models", "used"]),
            }
        )
        out["saved"] = state_dict(self)  # every field, for scalefit.load (see from_dict)
        return jsonable(out)

    def __repr__(self) -> str:
        return f"EnvelopeResult(a={self.a:.4g}, b={self.b:.4g}, n_runs={self.n_runs}, frontier_points={len(self.frontier)})"

    # ------------------------------------------------------------ saved
    def to_json(self, path: Any = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given (atomically, with a ``written_by`` key).

        :func:`scalefit.load` reads it back whole: the training curves, the
        frontier, the bootstrap samples and the intervals, number for number.
        An existing file is replaced only with ``overwrite=True``.
        """
        return to_json(self, path, overwrite=overwrite)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EnvelopeResult":
        """The result :meth:`to_dict` (or ``scalefit envelope --json``) saved, with every number it had.

        Raises
        ------
        ScalefitInputError
            If ``d`` has no ``"saved"`` block (an older or edited file).
        """
        return from_state(cls, saved_state(d, "envelope"))

