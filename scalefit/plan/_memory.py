"""Training memory of a shape and the least number of GPUs that holds it.

Model state, mixed-precision Adam (Rajbhandari et al. 2020, ZeRO, Sec. 3.1):
2 bytes per parameter of fp16/bf16 weights, 2 of gradients and 12 of fp32
optimizer state (master weights, momentum, variance): 16 bytes per parameter
before sharding.  Full sharding (ZeRO stage 3 / FSDP) divides all of it by the
GPU count.

Activations per layer and micro-batch (Korthikanti et al. 2022, Sec. 4.1, no
tensor parallelism): ``s b h (34 + 5 a s / h)`` bytes without recomputation,
``34 s b h`` with selective recomputation (the attention scores recomputed)
and ``2 s b h`` with full recomputation (only each layer's input kept), for
sequence length s, micro-batch b, width h and a heads.  Their formula is for
GPT blocks with a 4h MLP; for other blocks it is the usual approximation.
Buffers, fragmentation and the embedding layer's activations are not counted.
"""
from __future__ import annotations

from .._summary import DictDisplay

import math
import re
from dataclasses import dataclass
from typing import Any

from .._errors import Option, ScalefitInputError
from ._shape import Shape
from .hardware import _gpu, _gpu_rows

__all__ = ["MemoryEstimate", "training_memory", "min_gpus", "gpu_memory_bytes", "BYTES_PER_PARAM_ADAM"]

#: Mixed-precision Adam: 2 (weights) + 2 (gradients) + 12 (fp32 weights, momentum, variance), ZeRO Sec. 3.1.
BYTES_PER_PARAM_ADAM = 16
_RECOMPUTE = ("full", "selective", "none")


@dataclass(frozen=True)
class MemoryEstimate(DictDisplay):
    """Bytes per GPU for training a shape: model state (sharded) plus activations.

    Attributes
    ----------
    n_params : int
        Parameters.
    weights_bytes, gradients_bytes, optimizer_bytes : float
        Before sharding: 2, 2 and 12 bytes per parameter.
    activation_bytes : float
        Activations of one micro-batch under ``recompute`` (per GPU; not sharded).
    activation_bytes_no_recompute : float
        The same without recomputation, for comparison.
    recompute : str
        "full", "selective" or "none".
    micro_batch : int
        Sequences per GPU per micro-step.
    n_gpus : int
        GPUs the model state is sharded over.
    gpu, gpu_memory_bytes : str or None, float or None
        The preset and its memory, when one was given.
    """

    __repr__ = DictDisplay.short_repr

    n_params: int
    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activation_bytes: float
    activation_bytes_no_recompute: float
    recompute: str
    micro_batch: int
    n_gpus: int
    gpu: str | None = None
    gpu_memory_bytes: float | None = None

    @property
    def model_state_bytes(self) -> float:
        """Weights, gradients and optimizer state before sharding (16 bytes per parameter)."""
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes

    @property
    def per_gpu_bytes(self) -> float:
        """Model state over ``n_gpus`` plus one micro-batch of activations."""
        return self.model_state_bytes / self.n_gpus + self.activation_bytes

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.update(model_state_bytes=self.model_state_bytes, per_gpu_bytes=self.per_gpu_bytes)
        return out


def _activations(shape: Shape, micro_batch: int, recompute: str) -> float:
    s, b, h, a = shape.context, micro_batch, shape.d_model, shape.n_heads
    per_layer = {"none": s * b * h * (34 + 5 * a * s / h), "selective": 34 * s * b * h, "full": 2 * s * b * h}
    return float(shape.n_layers * per_layer[recompute])


def _check(micro_batch: Any, recompute: Any) -> tuple[int, str]:
    if isinstance(micro_batch, bool) or not isinstance(micro_batch, int) or micro_batch < 1:
        raise ScalefitInputError(f"micro_batch must be a whole number >= 1 (sequences per GPU); found {micro_batch!r}.",
                                 option="micro_batch")
    if recompute not in _RECOMPUTE:
        raise ScalefitInputError(f"recompute must be one of {', '.join(map(repr, _RECOMPUTE))}; found {recompute!r}.",
                                 option="recompute")
    return micro_batch, str(recompute)


def training_memory(shape: Shape, *, n_gpus: int = 1, micro_batch: int = 1, recompute: str = "full") -> MemoryEstimate:
    """Bytes per GPU to train ``shape`` with mixed-precision Adam, fully sharded over ``n_gpus``.

    Parameters
    ----------
    shape : Shape
        The model.
    n_gpus : int, default 1
        GPUs the model state is sharded over (ZeRO-3 / FSDP).
    micro_batch : int, default 1
        Sequences per GPU per micro-step.
    recompute : {"full", "selective", "none"}, default "full"
        Activation recomputation (Korthikanti et al. 2022).

    Returns
    -------
    MemoryEstimate

    Examples
    --------
    >>> from scalefit import Shape, training_memory
    >>> llama70b = Shape(n_layers=80, d_model=8192, n_heads=64, n_kv_heads=8, d_ff=28672,
    ...                  vocab_size=32000, context=4096, family="llama")
    >>> round(training_memory(llama70b).model_state_bytes / 1e12, 3)
    1.104
    """
    b, how = _check(micro_batch, recompute)
    if isinstance(n_gpus, bool) or not isinstance(n_gpus, int) or n_gpus < 1:
        raise ScalefitInputError(f"n_gpus must be a whole number >= 1; found {n_gpus!r}.", option="n_gpus")
    p = shape.n_params
    return MemoryEstimate(
        n_params=p, weights_bytes=2.0 * p, gradients_bytes=2.0 * p, optimizer_bytes=12.0 * p,
        activation_bytes=_activations(shape, b, how), activation_bytes_no_recompute=_activations(shape, b, "none"),
        recompute=how, micro_batch=b, n_gpus=n_gpus,
    )


def gpu_memory_bytes(gpu: str) -> tuple[str, float]:
    """The preset's name and its memory in bytes; a name ending in e.g. ``40GB`` selects that variant."""
    name, _ = _gpu(gpu)
    match = re.search(r"(?<![0-9])([0-9]+)\s*GB$", gpu.strip(), flags=re.IGNORECASE)
    if match:
        return name, float(match.group(1)) * 1e9
    row = next(r for r in _gpu_rows() if r["name"] == name)
    return name, float(row["memory_gb"]) * 1e9


def min_gpus(shape: Shape, *, gpu: str, micro_batch: int = 1, recompute: str = "full") -> MemoryEstimate:
    """The least number of GPUs of a preset that holds ``shape`` for training, with full sharding.

    The least n with ``16 P / n + activations <= memory`` (see :func:`training_memory`).

    Raises
    ------
    ScalefitInputError
        If one micro-batch of activations alone exceeds the GPU's memory.

    Examples
    --------
    >>> from scalefit import Shape, min_gpus
    >>> llama70b = Shape(n_layers=80, d_model=8192, n_heads=64, n_kv_heads=8, d_ff=28672,
    ...                  vocab_size=32000, context=4096, family="llama")
    >>> min_gpus(llama70b, gpu="H100").n_gpus
    15
    """
    name, memory = gpu_memory_bytes(gpu)
    one = training_memory(shape, micro_batch=micro_batch, recompute=recompute)
    room = memory - one.activation_bytes
    if room <= 0:
        raise ScalefitInputError(
            f"one micro-batch of activations ({one.activation_bytes / 1e9:.1f} GB with recompute={recompute!r}) "
            f"does not fit in a {name}'s {memory / 1e9:g} GB; use recompute='full', a smaller micro_batch= or a "
            "larger GPU.", option="recompute", options=[Option("recompute", "'full'"), Option("micro_batch")],
        )
    n = max(1, math.ceil(one.model_state_bytes / room))
    while n > 1 and one.model_state_bytes / (n - 1) + one.activation_bytes <= memory:  # guard float rounding
        n -= 1
    while one.model_state_bytes / n + one.activation_bytes > memory:
        n += 1
    est = training_memory(shape, n_gpus=n, micro_batch=micro_batch, recompute=recompute)
    return MemoryEstimate(**{**est.__dict__, "gpu": name, "gpu_memory_bytes": memory})
