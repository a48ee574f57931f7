"""Hardware: GPU presets, training time and cost of a run (Narayanan et al. 2021, eq. 4).

It knows nothing of laws: it takes a model size and a token count, from a plan
or from the user.

Functions
---------
training_time            wall-clock days on a GPU cluster.
training_cost            GPU-hours and money.
gpu_presets              the GPU table behind ``gpu=``.
"""
from __future__ import annotations

from .._summary import DictDisplay

import csv
import functools
import io
import math
import numbers
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from .._errors import ScalefitInputError, UnitsWarning, warn
from .._format import format_number
from .._validation import check_positive_scalar

__all__ = ["TrainingEstimate", "gpu_presets", "training_cost", "training_time"]

SECONDS_PER_DAY = 86400.0
#: Days in a (Julian) year, used for ``gpu_years``.
DAYS_PER_YEAR = 365.25


def _warn_small(value: float, name: str, unit: str, example: str) -> None:
    """Heuristic: a parameter or token count below 10,000 was probably given in millions or billions."""
    if value < 1e4:
        warn(
            f"{name}={value:g} is tiny for a {unit} count; it looks as if given in millions or billions. "
            f"Give the raw count, e.g. {example}.",
            UnitsWarning,
        )


@functools.lru_cache(maxsize=1)
def _gpu_rows() -> tuple[dict[str, str], ...]:
    text = (resources.files("scalefit.datasets.data") / "gpus.csv").read_text(encoding="utf-8")
    return tuple(dict(r) for r in csv.DictReader(io.StringIO(text)))


def _gpu_key(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch not in " -_")


def gpu_presets():
    """The GPU presets behind ``gpu=``: peak dense BF16/FP16 tensor FLOP/s per GPU, with sources.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``aliases``, ``peak_flops`` (FLOP/s), ``precision``
        and ``source`` (the vendor datasheet).  See ``scalefit/datasets/data/gpus.md``.

    Examples
    --------
    >>> from scalefit.plan import gpu_presets
    >>> gpu_presets().set_index("name").loc["A100-SXM", "peak_flops"]
    np.float64(312000000000000.0)
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(list(_gpu_rows()))
    frame["peak_flops"] = frame["peak_flops"].astype(float)
    return frame


def _gpu(name: Any) -> tuple[str, float]:
    if not isinstance(name, str) or not name.strip():
        raise ScalefitInputError(f"gpu must be a preset name such as 'A100' or 'H100-SXM'; found {name!r}.")
    key = _gpu_key(name)
    for row in _gpu_rows():
        names = [row["name"]] + [a for a in (row.get("aliases") or "").split(";") if a]
        if key in {_gpu_key(n) for n in names}:
            return row["name"], float(row["peak_flops"])
    known = ", ".join(r["name"] for r in _gpu_rows())
    raise ScalefitInputError(
        f"unknown GPU {name!r}; known presets are {known} (aliases such as 'A100' and 'H100' also work). "
        "For other hardware pass flops_per_gpu= (achieved FLOP/s per GPU) instead."
    )


@dataclass(frozen=True)
class TrainingEstimate(DictDisplay):
    """Wall-clock time (and cost) of a training run, after Narayanan et al. (2021), eq. 4.

    ``seconds = f * n_tokens * n_params / (n_gpus * flops_per_gpu)`` with
    ``f = 8`` (forward, backward and activation recomputation) or ``f = 6``
    (no recomputation).

    Attributes
    ----------
    n_params, n_tokens : float
        Model size and training tokens.
    n_gpus : int
        Number of GPUs.
    flops_per_gpu : float
        Achieved FLOP/s per GPU (``peak_flops_per_gpu * mfu`` for a preset).
    flops_per_param_token : float
        f above: 8 with recomputation, 6 without.
    flops : float
        FLOPs executed, ``f * n_params * n_tokens``.
    seconds : float
        Wall-clock training time.
    gpu, peak_flops_per_gpu, mfu : str, float, float or None
        The preset used, its peak and the utilisation (None with ``flops_per_gpu``).
    price_per_gpu_hour : float or None
        Price used for :attr:`cost`.
    """

    __repr__ = DictDisplay.short_repr

    n_params: float
    n_tokens: float
    n_gpus: int
    flops_per_gpu: float
    flops_per_param_token: float
    flops: float
    seconds: float
    gpu: str | None = None
    peak_flops_per_gpu: float | None = None
    mfu: float | None = None
    price_per_gpu_hour: float | None = None

    @property
    def days(self) -> float:
        """Wall-clock days."""
        return self.seconds / SECONDS_PER_DAY

    @property
    def gpu_hours(self) -> float:
        """GPU-hours, ``n_gpus * seconds / 3600``."""
        return self.n_gpus * self.seconds / 3600.0

    @property
    def gpu_years(self) -> float:
        """GPU-years (365.25-day years)."""
        return self.gpu_hours / (24.0 * DAYS_PER_YEAR)

    @property
    def cost(self) -> float | None:
        """``gpu_hours * price_per_gpu_hour`` (None without a price)."""
        return None if self.price_per_gpu_hour is None else self.gpu_hours * self.price_per_gpu_hour

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.flops,
            "days": self.days,
            "gpu_hours": self.gpu_hours,
            "n_gpus": self.n_gpus,
            "flops_per_gpu": self.flops_per_gpu,
            "flops_per_param_token": self.flops_per_param_token,
            "recompute": self.flops_per_param_token == 8.0 if self.mfu is None else None,
        }
        if self.gpu is not None:
            out.update(gpu=self.gpu, peak_flops_per_gpu=self.peak_flops_per_gpu, mfu=self.mfu)
        if self.price_per_gpu_hour is not None:
            out.update(price_per_gpu_hour=self.price_per_gpu_hour, cost=self.cost)
        return out

    def __str__(self) -> str:
        how = "with activation recomputation" if self.flops_per_param_token == 8.0 else "without recomputation"
        per_gpu = f"{self.flops_per_gpu / 1e12:.4g} TFLOP/s achieved"
        title = f"Training time (Narayanan et al. 2021, eq. 4: {self.flops_per_param_token:g}*N*D FLOPs, {how})"
        if self.gpu is not None:
            per_gpu = (f"{self.flops_per_gpu / 1e12:.4g} TFLOP/s of model FLOPs ({self.gpu}: "
                       f"{(self.peak_flops_per_gpu or 0.0) / 1e12:.4g} TFLOP/s peak x MFU {self.mfu:g})")
            title = ("Training time (6*N*D model FLOPs at the given MFU, Chowdhery et al. 2022; recomputation is "
                     "extra hardware work that MFU excludes)")
        lines = [
            title,
            f"  parameters   {format_number(self.n_params, 'human')}",
            f"  tokens       {format_number(self.n_tokens, 'human')}",
            f"  FLOPs        {self.flops:.3g}",
            f"  GPUs         {self.n_gpus:,} x {per_gpu}",
            f"  time         {self.days:,.1f} days ({self.days / DAYS_PER_YEAR:,.2f} years)",
            f"  GPU-hours    {self.gpu_hours:,.0f} ({self.gpu_years:,.1f} GPU-years)",
        ]
        if self.cost is not None:
            lines.append(f"  cost         ${self.cost:,.0f} at ${self.price_per_gpu_hour:g} per GPU-hour")
        return "\n".join(lines)


def _n_gpus(value: Any) -> int:
    ok = isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not ok or not math.isfinite(float(value)) or float(value) < 1 or float(value) != int(value):
        raise ScalefitInputError(f"n_gpus must be a whole number >= 1; found {value!r}. Give the GPU count, e.g. 1024.")
    return int(value)


def training_time(
    n_params: float,
    n_tokens: float,
    *,
    n_gpus: int,
    flops_per_gpu: float | None = None,
    gpu: str | None = None,
    mfu: float | None = None,
    recompute: bool = True,
    flops_per_token: float | None = None,
) -> TrainingEstimate:
    """Wall-clock training time on a GPU cluster (Narayanan et al. 2021, eq. 4).

    ``time = 8 T P / (n X)`` with activation recomputation (forward, backward
    and a second forward pass) and ``6 T P / (n X)`` without, for ``P``
    parameters, ``T`` tokens, ``n`` GPUs and ``X`` achieved FLOP/s per GPU.

    Parameters
    ----------
    n_params, n_tokens : float
        Model size P and training tokens T (raw counts).
    n_gpus : int
        Number of GPUs n.
    flops_per_gpu : float, optional
        Achieved throughput X per GPU in FLOP/s (e.g. 140e12).  Exclusive with ``gpu``.
    gpu : str, optional
        A preset from :func:`gpu_presets` (peak dense BF16/FP16 FLOP/s); then
        ``X = peak * mfu``.  Unknown names list the known ones.
    mfu : float, optional
        Model FLOPs utilisation in (0, 1], required with ``gpu``.
    recompute : bool, default True
        With ``flops_per_gpu``: count activation recomputation (8 T P) or not
        (6 T P), as Narayanan et al. (2021).  With ``mfu``, it has no effect:
        MFU counts only the model's 6 T P FLOPs, so the time is
        6 T P / (n * peak * mfu) either way.
    flops_per_token : float, optional
        Exact model FLOPs per training token (e.g. :attr:`scalefit.Shape.flops_per_token`)
        in place of ``6 P``; recomputation then scales it by 8/6 as above.

    Returns
    -------
    TrainingEstimate
        A frozen result; ``.days`` is the answer, with ``.gpu_hours``,
        ``.gpu_years`` and ``.flops`` alongside.

    Raises
    ------
    ScalefitInputError
        If a count is not positive, both or neither of ``flops_per_gpu`` and
        ``gpu`` are given, ``mfu`` is missing or outside (0, 1], or the GPU is unknown.

    Warns
    -----
    UnitsWarning
        When ``flops_per_gpu`` looks like TFLOP/s, or a count looks like billions.

    Examples
    --------
    GPT-3 on 1,024 A100s at 140 TFLOP/s (Narayanan et al. 2021, sec. 5.1):

    >>> from scalefit import training_time
    >>> round(training_time(175e9, 300e9, n_gpus=1024, flops_per_gpu=140e12).days, 1)
    33.9

    With a preset and MFU (model FLOPs utilisation, 6*N*D against peak, as Chowdhery et al. 2022
    define it), GPT-3 at 45% MFU on 1,024 A100s:

    >>> round(training_time(175e9, 300e9, n_gpus=1024, gpu="A100", mfu=0.45).days, 1)
    25.4
    """
    p = check_positive_scalar(n_params, "n_params", hint="Give the parameter count, e.g. 175e9.")
    t = check_positive_scalar(n_tokens, "n_tokens", hint="Give the training tokens, e.g. 300e9.")
    _warn_small(p, "n_params", "parameter", "175e9")
    _warn_small(t, "n_tokens", "token", "300e9")
    n = _n_gpus(n_gpus)
    if (flops_per_gpu is None) == (gpu is None):
        raise ScalefitInputError(
            "give exactly one of flops_per_gpu= (achieved FLOP/s per GPU, e.g. 140e12) and gpu= (a preset "
            f"name, with mfu=); found {'both' if gpu is not None else 'neither'}."
        )
    name = peak = None
    if gpu is not None:
        name, peak = _gpu(gpu)
        if mfu is None:
            raise ScalefitInputError(
                f"gpu={gpu!r} needs mfu=, the fraction of the {peak / 1e12:g} TFLOP/s peak that training "
                "achieves, in (0, 1]; e.g. mfu=0.4."
            )
        if isinstance(mfu, (bool, np.bool_)) or not isinstance(mfu, (numbers.Real, np.floating)) or not 0 < float(mfu) <= 1:
            raise ScalefitInputError(
                f"mfu must be a fraction in (0, 1] (model FLOPs utilisation); found {mfu!r}. "
                "Write 45% as mfu=0.45."
            )
        mfu = float(mfu)
        x = peak * mfu
    else:
        if mfu is not None:
            raise ScalefitInputError(
                "mfu= applies to a gpu= preset's peak; flops_per_gpu= is already the achieved throughput. "
                "Drop mfu, or pass gpu= with mfu= instead."
            )
        x = check_positive_scalar(flops_per_gpu, "flops_per_gpu", hint="Give achieved FLOP/s per GPU, e.g. 140e12.")
        if x < 1e9:
            warn(
                f"flops_per_gpu={x:g} is tiny for FLOP/s; it looks like TFLOP/s. Give FLOP/s, e.g. {x:g}e12.",
                UnitsWarning,
            )
    # Narayanan et al. (2021) eq. 4 divides the hardware's work, 8*T*P with recomputation (6*T*P
    # without), by the *achieved* throughput X.  MFU (Chowdhery et al. 2022) instead counts only the
    # model's 6*T*P FLOPs against peak, recomputation excluded, so with mfu= the time is
    # 6*T*P / (n * peak * mfu) whether or not activations are recomputed.
    f = 6.0 if (mfu is not None or not recompute) else 8.0
    if flops_per_token is not None:
        exact = check_positive_scalar(flops_per_token, "flops_per_token", hint="Give model FLOPs per token, e.g. 4.3e11.")
        f *= exact / (6.0 * p)
    flops = f * p * t
    return TrainingEstimate(
        n_params=p, n_tokens=t, n_gpus=n, flops_per_gpu=x, flops_per_param_token=f, flops=flops,
        seconds=flops / (n * x), gpu=name, peak_flops_per_gpu=peak, mfu=mfu,
    )


def training_cost(
    n_params: float,
    n_tokens: float,
    *,
    n_gpus: int,
    price_per_gpu_hour: float,
    flops_per_gpu: float | None = None,
    gpu: str | None = None,
    mfu: float | None = None,
    recompute: bool = True,
) -> TrainingEstimate:
    """GPU-hours and money for a training run: :func:`training_time` times a price.

    ``cost = gpu_hours * price_per_gpu_hour`` with
    ``gpu_hours = f T P / X / 3600`` (independent of ``n_gpus`` under the
    perfect-scaling assumption of eq. 4; ``n_gpus`` sets the wall-clock days).

    Parameters
    ----------
    n_params, n_tokens, n_gpus, flops_per_gpu, gpu, mfu, recompute
        As in :func:`training_time`.
    price_per_gpu_hour : float
        Price of one GPU-hour (any currency).

    Returns
    -------
    TrainingEstimate
        With ``.cost``, ``.gpu_hours``, ``.gpu_years`` and ``.days``.

    Raises
    ------
    ScalefitInputError
        As :func:`training_time`, and if the price is not a finite number > 0.

    Examples
    --------
    GPT-3's 3.14e23 FLOPs (6 N D) on V100s at 28 TFLOP/s and $1.50 per GPU-hour:

    >>> from scalefit import training_cost
    >>> est = training_cost(175e9, 300e9, n_gpus=1, flops_per_gpu=28e12, recompute=False, price_per_gpu_hour=1.5)
    >>> round(est.gpu_years), round(est.cost / 1e6, 2)
    (356, 4.69)
    """
    price = check_positive_scalar(price_per_gpu_hour, "price_per_gpu_hour", hint="Give the price of one GPU-hour, e.g. 2.0.")
    est = training_time(
        n_params, n_tokens, n_gpus=n_gpus, flops_per_gpu=flops_per_gpu, gpu=gpu, mfu=mfu, recompute=recompute
    )
    return TrainingEstimate(**{**est.__dict__, "price_per_gpu_hour": price})
