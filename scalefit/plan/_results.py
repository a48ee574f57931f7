"""The planners' result types: Allocation, AllocationTable and InferencePlan, and the plan table."""
from __future__ import annotations

from .._summary import DictDisplay

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from .._format import format_number, text_table

if TYPE_CHECKING:
    from ._shape import Shape

#: Training FLOPs per parameter per token, C = 6 N D (Kaplan et al. 2020, sec. 2.1).
FLOPS_PER_PARAM_TOKEN = 6.0
#: Inference FLOPs per parameter per token, 2 N (forward pass only; Sardana et al. 2023).
FLOPS_PER_INFERENCE_TOKEN = 2.0


def _human(x: float) -> str:
    """70e9 -> '70B', 1.4e12 -> '1.4T'; beyond 1e15 scientific notation."""
    return format_number(float(x), "human")


_COLUMNS = (
    ("n_params", "Parameters", _human),
    ("flops", "FLOPs", lambda v: f"{v:.3g}"),
    ("n_tokens", "Tokens", _human),
    ("tokens_per_param", "Tokens/param", lambda v: f"{v:.3g}"),
    ("loss", "Loss", lambda v: f"{v:.4f}"),
    ("epochs", "Epochs", lambda v: f"{v:.3g}"),
)


def _layout(r: "Allocation") -> str:
    s = r.shape
    return "" if s is None else f"{s.family} {s.n_layers}x{s.d_model}, {s.n_heads}/{s.n_kv_heads} heads"


def six_nd_words(gap: float | None) -> str:
    """``six_nd_gap`` in words: "4.46% short" of the budget or "4.46% over" it (a negative gap read "short by -4.46%")."""
    if gap is None:
        return ""
    return f"{100 * abs(gap):.2f}% {'short' if gap >= 0 else 'over'}"


_SHAPE_COLUMNS = (
    ("layout", "Shape (layers x d_model)", _layout),
    ("six_nd_gap", "6ND against budget", six_nd_words),
)


def _table(rows: Sequence["Allocation"]) -> str:
    """Plain-text table like Hoffmann et al. (2022), Table A3 (the parametric fit), with intervals in brackets."""
    cols = [c for c in _COLUMNS if c[0] != "epochs" or any(r.epochs is not None for r in rows)]
    if any(r.shape is not None for r in rows):
        cols += list(_SHAPE_COLUMNS)
    cells = []
    for r in rows:
        line = []
        for key, _, fmt in cols:
            value: Any = getattr(r, key) if key != "layout" else r
            text = fmt(value) if value is not None else ""
            if key in r.intervals:
                lo, hi = r.intervals[key]
                text += f" [{fmt(lo)}, {fmt(hi)}]"
            line.append(text)
        cells.append(line)
    out = [text_table([c[1] for c in cols], cells, align="right", rule=False)]
    levels = {r.level for r in rows if r.intervals and r.level is not None}
    if levels:
        out.append(f"[brackets: {100 * levels.pop():g}% bootstrap bias-corrected percentile intervals]")
    out.extend(f"Warning: {w}" for w in _warnings(rows))
    return "\n".join(out)


def _warnings(rows: Sequence["Allocation"]) -> list[str]:
    """The rows' warnings, each once, in order."""
    seen: dict[str, None] = {}
    for r in rows:
        for w in r.warnings:
            seen.setdefault(w)
    return list(seen)


@dataclass(frozen=True)
class Allocation:
    """A compute plan: model size, tokens, compute and predicted loss.

    Attributes
    ----------
    n_params, n_tokens : float
        Parameters N and training tokens D.
    flops : float
        Training compute, ``flops_per_param_token * n_params * n_tokens``.
    loss : float
        The law's predicted loss at (N, D).
    tokens_per_param : float
        ``n_tokens / n_params``.
    intervals : dict
        Name -> ``(low, high)`` percentile interval over bootstrap samples, for
        every estimated number; empty without bootstrap samples.  Numbers the
        caller fixed (e.g. ``flops`` in :func:`compute_optimal`) have none.
    level : float or None
        Coverage of ``intervals``.
    law : str
        Name of the law.
    inputs : dict
        Extra law inputs, e.g. ``{"unique_tokens": 25e9}``.
    flops_per_param_token : float
        The k in C = k N D.
    shape : Shape or None
        The architecture, when planned with ``shape=`` (see :func:`compute_optimal`).
    unshaped : Allocation or None
        The plan under ``C = k N D`` before the shape, with its intervals.
    warnings : tuple of str
        Warnings of the fit the plan came from, and how far the plan
        extrapolates beyond the largest run.
    """

    n_params: float
    n_tokens: float
    flops: float
    loss: float
    tokens_per_param: float
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    level: float | None = None
    law: str = "chinchilla"
    inputs: Mapping[str, float] = field(default_factory=dict)
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN
    shape: "Shape | None" = None
    unshaped: "Allocation | None" = None

    @property
    def six_nd_gap(self) -> float | None:
        """With a shape: the share of the budget that ``6 N D`` misses, ``1 - 6 N D / flops`` (None without)."""
        return None if self.shape is None else 1.0 - 6.0 * self.n_params * self.n_tokens / self.flops
    warnings: tuple[str, ...] = ()

    @property
    def epochs(self) -> float | None:
        """Passes over the unique data, ``n_tokens / unique_tokens`` (None without ``unique_tokens``)."""
        u = self.inputs.get("unique_tokens")
        return None if u is None else self.n_tokens / u

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (intervals as ``[low, high]`` lists)."""
        out: dict[str, Any] = {
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.flops,
            "loss": self.loss,
            "tokens_per_param": self.tokens_per_param,
        }
        out.update(self.inputs)
        if self.epochs is not None:
            out["epochs"] = self.epochs
        out["law"] = self.law
        out["flops_per_param_token"] = self.flops_per_param_token
        if self.shape is not None and self.unshaped is not None:
            out["shape"] = self.shape.to_dict()
            out["six_nd_gap"] = self.six_nd_gap
            out["n_tokens_6nd"] = self.flops / (6.0 * self.n_params)
            out["unshaped"] = self.unshaped.to_dict()
        if self.intervals:
            out["level"] = self.level
            out["intervals"] = {k: [lo, hi] for k, (lo, hi) in self.intervals.items()}
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

    def __str__(self) -> str:
        return _table([self])

    def to_frame(self):
        """One-row pandas DataFrame, as :meth:`AllocationTable.to_frame`."""
        return AllocationTable((self,)).to_frame()

    def _repr_html_(self) -> str:
        return AllocationTable((self,))._repr_html_()

    def __repr__(self) -> str:
        return _table([self])

    def to_json(self, path: Any = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given (see :meth:`AllocationTable.to_json`)."""
        return _to_json(self.to_dict(), path, overwrite)

    # ------------------------------------------------------------ saved
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Allocation":
        """The plan :meth:`to_dict` (or ``scalefit plan --json`` for one budget) saved, with its intervals.

        Keys that are not fields of the plan (the law's extra inputs, such as
        ``unique_tokens``) come back in :attr:`inputs`; derived keys
        (``epochs``, ``six_nd_gap``, ``n_tokens_6nd``) are recomputed.

        Raises
        ------
        ScalefitInputError
            If a number the plan needs is missing.
        """
        from .._errors import ScalefitInputError
        from ._shape import Shape

        missing = [k for k in ("n_params", "n_tokens", "flops", "loss", "tokens_per_param") if k not in d]
        if missing:
            raise ScalefitInputError(f"a saved plan needs the keys {missing} (found {sorted(d)[:12]}); give a plan "
                                     "written by scalefit plan --json or Allocation.to_dict().")
        shape = None
        if isinstance(d.get("shape"), Mapping):
            s = d["shape"]
            shape = Shape(**{k: s[k] for k in ("n_layers", "d_model", "n_heads", "vocab_size", "context", "family",
                                                "head_dim", "n_kv_heads", "d_ff", "tied") if k in s})
        intervals = {k: (_float(lo), _float(hi)) for k, (lo, hi) in (d.get("intervals") or {}).items()}
        inputs = {k: float(v) for k, v in d.items() if k not in _SAVED_KEYS and isinstance(v, (int, float))}
        return cls(
            n_params=float(d["n_params"]), n_tokens=float(d["n_tokens"]), flops=float(d["flops"]),
            loss=_float(d["loss"]), tokens_per_param=float(d["tokens_per_param"]), intervals=intervals,
            level=None if d.get("level") is None else float(d["level"]), law=str(d.get("law", "chinchilla")),
            inputs=inputs, flops_per_param_token=float(d.get("flops_per_param_token", FLOPS_PER_PARAM_TOKEN)),
            shape=shape, unshaped=cls.from_dict(d["unshaped"]) if isinstance(d.get("unshaped"), Mapping) else None,
            warnings=tuple(d.get("warnings") or ()),
        )


@dataclass(frozen=True)
class AllocationTable:
    """Several :class:`Allocation` rows, one per requested value.

    Iterate over it, index it, or turn it into a DataFrame with
    :meth:`to_frame`.  ``str(table)`` is a text table like Table A3 of
    Hoffmann et al. (2022).
    """

    allocations: tuple[Allocation, ...]

    def __len__(self) -> int:
        return len(self.allocations)

    def __iter__(self) -> Iterator[Allocation]:
        return iter(self.allocations)

    def __getitem__(self, i: int) -> Allocation:
        return self.allocations[i]

    def to_frame(self):
        """pandas DataFrame, one row per allocation; intervals as ``<name>_low`` / ``<name>_high``."""
        import pandas as pd

        records = []
        for a in self.allocations:
            rec = {k: v for k, v in a.to_dict().items() if k not in ("intervals", "level", "shape", "unshaped", "warnings")}
            if a.shape is not None:
                rec.update({f"shape_{k}": v for k, v in a.shape.to_dict().items()})
            for key, (lo, hi) in a.intervals.items():
                rec[f"{key}_low"], rec[f"{key}_high"] = lo, hi
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def to_dict(self) -> dict[str, Any]:
        """``{"allocations": [row.to_dict(), ...]}``, plus ``"warnings"`` (each once) when there are any."""
        out: dict[str, Any] = {"allocations": [a.to_dict() for a in self.allocations]}
        notes = _warnings(self.allocations)
        if notes:
            out["warnings"] = notes
        return out

    @property
    def warnings(self) -> tuple[str, ...]:
        """The rows' warnings, each once (see :attr:`Allocation.warnings`)."""
        return tuple(_warnings(self.allocations))

    def __str__(self) -> str:
        return _table(self.allocations)

    def __repr__(self) -> str:
        return _table(self.allocations)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(_table(self.allocations))}</pre>"

    # ------------------------------------------------------------ saved
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "AllocationTable":
        """The table :meth:`to_dict` (or ``scalefit plan --json`` for several budgets) saved."""
        return cls(tuple(Allocation.from_dict(a) for a in d["allocations"]))

    def to_json(self, path: Any = None, *, overwrite: bool = False) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given (atomically, with a ``written_by`` key).

        :func:`scalefit.load` reads it back as an equal table.  An existing
        file is replaced only with ``overwrite=True``.
        """
        return _to_json(self.to_dict(), path, overwrite)


@dataclass(frozen=True)
class InferencePlan(DictDisplay):
    """Plan minimising training plus inference FLOPs at a target loss (Sardana et al. 2023).

    Attributes
    ----------
    n_params, n_tokens : float
        The inference-aware model size and training tokens.
    loss : float
        The target loss (reached by both plans).
    inference_tokens : float
        Tokens the model will process at inference over its lifetime.
    training_flops, inference_flops, total_flops : float
        ``k N D``, ``k_inf N D_inf`` and their sum.
    chinchilla : Allocation
        The training-compute-optimal plan for the same loss (:func:`budget_for_loss`).
    chinchilla_total_flops : float
        Its training plus inference FLOPs for the same ``inference_tokens``.
    saving_flops, saving_fraction : float
        ``chinchilla_total_flops - total_flops`` and that as a fraction of
        ``chinchilla_total_flops`` (>= 0).
    intervals, level, law, flops_per_param_token, flops_per_inference_token
        As in :class:`Allocation`.
    """

    __repr__ = DictDisplay.short_repr

    n_params: float
    n_tokens: float
    loss: float
    inference_tokens: float
    training_flops: float
    inference_flops: float
    total_flops: float
    chinchilla: Allocation
    chinchilla_total_flops: float
    saving_flops: float
    saving_fraction: float
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    level: float | None = None
    law: str = "chinchilla"
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN
    flops_per_inference_token: float = FLOPS_PER_INFERENCE_TOKEN

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params

    @property
    def flops(self) -> float:
        """Training FLOPs (same as ``training_flops``), for symmetry with :class:`Allocation`."""
        return self.training_flops

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.training_flops,
            "loss": self.loss,
            "tokens_per_param": self.tokens_per_param,
            "inference_tokens": self.inference_tokens,
            "training_flops": self.training_flops,
            "inference_flops": self.inference_flops,
            "total_flops": self.total_flops,
            "chinchilla": self.chinchilla.to_dict(),
            "chinchilla_total_flops": self.chinchilla_total_flops,
            "saving_flops": self.saving_flops,
            "saving_fraction": self.saving_fraction,
            "law": self.law,
            "flops_per_param_token": self.flops_per_param_token,
            "flops_per_inference_token": self.flops_per_inference_token,
        }
        if self.intervals:
            out["level"] = self.level
            out["intervals"] = {k: [lo, hi] for k, (lo, hi) in self.intervals.items()}
        return out

    def __str__(self) -> str:
        def iv(key: str, fmt: Callable[[float], str]) -> str:
            if key not in self.intervals:
                return ""
            lo, hi = self.intervals[key]
            return f" [{fmt(lo)}, {fmt(hi)}]"

        e = lambda v: f"{v:.3g}"  # noqa: E731
        lines = [
            f"Inference-aware plan for loss {self.loss:.4f} and {_human(self.inference_tokens)} inference tokens "
            f"(Sardana et al. 2023; training {self.flops_per_param_token:g}*N*D, inference "
            f"{self.flops_per_inference_token:g}*N per token)",
            # each interval sits beside the inference-aware value it belongs to
            f"  {'':<22}{'inference-aware':>34}{'Chinchilla-optimal':>22}",
            f"  {'parameters':<22}{_human(self.n_params) + iv('n_params', _human):>34}{_human(self.chinchilla.n_params):>22}",
            f"  {'training tokens':<22}{_human(self.n_tokens) + iv('n_tokens', _human):>34}{_human(self.chinchilla.n_tokens):>22}",
            f"  {'tokens/param':<22}{e(self.tokens_per_param):>34}{e(self.chinchilla.tokens_per_param):>22}",
            f"  {'training FLOPs':<22}{e(self.training_flops):>34}{e(self.chinchilla.flops):>22}",
            f"  {'total FLOPs':<22}{e(self.total_flops):>34}{e(self.chinchilla_total_flops):>22}",
            f"  saving: {self.saving_flops:.3g} FLOPs ({100 * self.saving_fraction:.1f}% of the Chinchilla-optimal total)"
            + iv("saving_fraction", lambda v: f"{100 * v:.1f}%"),
        ]
        return "\n".join(lines)


# ---------------------------------------------------------------- saved plans
#: Keys of :meth:`Allocation.to_dict` that are not the law's extra inputs.
_SAVED_KEYS = frozenset({"n_params", "n_tokens", "flops", "loss", "tokens_per_param", "epochs", "law",
                         "flops_per_param_token", "shape", "six_nd_gap", "n_tokens_6nd", "unshaped", "level",
                         "intervals", "warnings", "written_by", "sensitivity"})


def _float(v: Any) -> float:
    """A saved number (JSON null is NaN)."""
    return float("nan") if v is None else float(v)


def _to_json(d: dict[str, Any], path: Any, overwrite: bool) -> str:
    import json

    from .._json import jsonable

    d = jsonable(d)
    if path is not None:
        from .._io import write_json

        write_json(path, d, replace="any" if overwrite else "never")
    return json.dumps(d, indent=2)

