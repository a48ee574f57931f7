"""Ingest and hold training runs.

The canonical table has one row per observation with the columns
``n_params``, ``n_tokens``, ``flops``, ``loss`` and, for training curves,
``run`` and ``step``.  Other user columns are kept for grouping.  Column
``row`` holds each observation's row number in the user's original input, so
every message and every exclusion can point back at it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

CANONICAL = ("n_params", "n_tokens", "flops", "loss")


@dataclass(frozen=True, eq=False)
class Runs:
    """Validated runs in canonical form.

    Do not build this directly; use :func:`scalefit.read_runs`.

    Attributes
    ----------
    table : pandas.DataFrame
        Canonical table (a private copy; never the caller's frame).
    excluded : pandas.DataFrame
        Rows excluded from ``table``, with the original ``row`` number and a
        ``reason`` column.  Empty when nothing was excluded.
    derived : tuple of str
        Canonical columns computed rather than read (e.g. ``("n_tokens",)``).
    column_map : dict
        Source column -> canonical column, as resolved.
    duplicate_rows : tuple of int
        Original row numbers that exactly duplicate an earlier row.
    source : str
        Where the runs came from (path or ``"DataFrame"``).
    """

    table: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    derived: tuple = ()
    column_map: dict = field(default_factory=dict)
    duplicate_rows: tuple = ()
    source: str = "DataFrame"
    flops_per_param_token: float = 6.0

    # ------------------------------------------------------------------ arrays
    @property
    def n_params(self) -> np.ndarray:
        return self.table["n_params"].to_numpy(dtype=float)

    @property
    def n_tokens(self) -> np.ndarray:
        return self.table["n_tokens"].to_numpy(dtype=float)

    @property
    def flops(self) -> np.ndarray:
        return self.table["flops"].to_numpy(dtype=float)

    @property
    def loss(self) -> np.ndarray:
        return self.table["loss"].to_numpy(dtype=float)

    @property
    def has_curves(self) -> bool:
        """True when the table holds training curves (a ``run`` column)."""
        return "run" in self.table.columns

    @property
    def n_runs(self) -> int:
        """Number of distinct runs (rows, when there are no curves)."""
        if self.has_curves:
            return int(self.table["run"].nunique())
        return len(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def _replace(self, table: pd.DataFrame, **changes: Any) -> "Runs":
        kw = dict(
            table=table.reset_index(drop=True),
            excluded=self.excluded,
            derived=self.derived,
            column_map=self.column_map,
            duplicate_rows=tuple(r for r in self.duplicate_rows if r in set(table["row"])),
            source=self.source,
            flops_per_param_token=self.flops_per_param_token,
        )
        kw.update(changes)
        return Runs(**kw)

    def subset(self, mask: Sequence[bool] | np.ndarray) -> "Runs":
        """Return the runs where ``mask`` is true (a boolean array over rows)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self.table),):
            from ._errors import ScalefitInputError

            raise ScalefitInputError(
                f"mask has shape {mask.shape}; expected ({len(self.table)},), one entry per row."
            )
        return self._replace(self.table.loc[mask].copy())
