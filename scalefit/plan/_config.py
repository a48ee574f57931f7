"""From a shaped plan to a run you can launch: shape, batch, learning rate, steps, memory, GPUs, time."""
from __future__ import annotations

from .._summary import DictDisplay

from dataclasses import dataclass
from typing import Any

from .._errors import ScalefitInputError
from .._format import format_number, text_table
from ._memory import MemoryEstimate, min_gpus
from ._recipe import Recipe, training_recipe
from ._results import Allocation, six_nd_words
from .hardware import TrainingEstimate, training_time

__all__ = ["RunConfiguration", "run_configuration"]


@dataclass(frozen=True)
class RunConfiguration(DictDisplay):
    """A launchable configuration for one planned budget.

    Attributes
    ----------
    allocation : Allocation
        The plan re-solved for the shape (``compute_optimal(..., shape=...)``).
    recipe : Recipe
        Batch, learning rate, steps and warmup from the chosen law (DeepSeek LLM, Bi et al. 2024, or the
        Step Law, Li et al. 2025).
    memory : MemoryEstimate or None
        Bytes per GPU and the least GPU count of the preset (with ``gpu=``).
    time : TrainingEstimate or None
        Days and GPU-hours from the exact FLOPs on that many GPUs (with ``gpu=`` and ``mfu=``).
    """

    __repr__ = DictDisplay.short_repr

    allocation: Allocation
    recipe: Recipe
    memory: MemoryEstimate | None = None
    time: TrainingEstimate | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"allocation": self.allocation.to_dict(), "recipe": self.recipe.to_dict()}
        if self.memory is not None:
            out["memory"] = self.memory.to_dict()
        if self.time is not None:
            out["time"] = self.time.to_dict()
        return out

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) pairs of the configuration table."""
        a, s, r = self.allocation, self.allocation.shape, self.recipe
        if s is None:  # run_configuration refuses a plan without a shape
            return []
        rows = [
            ("compute (FLOPs)", f"{a.flops:.3g}"),
            ("family", s.family),
            ("layers", str(s.n_layers)),
            ("d_model", str(s.d_model)),
            ("heads / kv heads / head_dim", f"{s.n_heads} / {s.n_kv_heads} / {s.head_dim}"),
            ("d_ff", str(s.d_ff)),
            ("vocabulary, context", f"{s.vocab_size:,}, {s.context:,}"),
            ("parameters (non-embedding)", f"{s.n_params:,} ({format_number(float(s.n_params_non_embedding), 'human')})"),
            ("FLOPs per token (6N)", f"{s.flops_per_token:.4g} ({6 * s.n_params:.4g})"),
            ("tokens (6ND would say)", f"{format_number(a.n_tokens, 'human')} ({format_number(a.flops / (6 * a.n_params), 'human')})"),
            ("6ND against the budget", six_nd_words(a.six_nd_gap or 0.0)),
            ("predicted loss", f"{a.loss:.4f}"),
            ("batch and learning-rate law", r.citation),
            ("global batch (tokens, sequences)", f"{r.batch_tokens:,} ({r.batch_sequences:,})"),
            ("peak learning rate", f"{r.learning_rate:.3g}"),
            ("steps (warmup)", f"{r.steps:,} ({r.warmup_steps:,})"),
        ]
        if self.memory is not None:
            m = self.memory
            rows += [
                ("model state, 16 B/param", f"{m.model_state_bytes / 1e9:,.1f} GB"),
                (f"activations/GPU (recompute {m.recompute}; none)",
                 f"{m.activation_bytes / 1e9:,.2f} GB; {m.activation_bytes_no_recompute / 1e9:,.1f} GB"),
                (f"least {m.gpu} GPUs, full sharding", f"{m.n_gpus:,} ({m.per_gpu_bytes / 1e9:.1f} of "
                                                      f"{(m.gpu_memory_bytes or 0) / 1e9:g} GB each)"),
            ]
        if self.time is not None:
            t = self.time
            # the GPU count goes in the value: a report puts budgets with different counts in one row
            gpus = f"{t.n_gpus:,} GPU" + ("" if t.n_gpus == 1 else "s")
            rows.append((f"time at MFU {t.mfu:g}", f"{t.days:,.1f} days on {gpus}, {t.gpu_hours:,.0f} GPU-hours"))
            if t.cost is not None:
                rows.append(("cost", f"${t.cost:,.0f}"))
        return rows

    def __str__(self) -> str:
        return text_table(["", "value"], [list(r) for r in self.rows()], align="left-first", rule=False)


def run_configuration(
    allocation: Allocation,
    *,
    gpu: str | None = None,
    mfu: float | None = None,
    n_gpus: int | None = None,
    micro_batch: int = 1,
    recompute: str = "full",
    warmup_steps: int = 2000,
    recipe_law: str = "deepseek",
    price_per_gpu_hour: float | None = None,
) -> RunConfiguration:
    """The configuration to launch for a plan made with ``compute_optimal(..., shape=...)``.

    Parameters
    ----------
    allocation : Allocation
        One shaped plan (a row of ``compute_optimal(fit, flops, shape=...)``).
    gpu : str, optional
        A preset of :func:`scalefit.gpu_presets`; gives the memory and the least GPU count.
    mfu : float, optional
        Model FLOPs utilisation, with ``gpu``: gives days and GPU-hours from the exact FLOPs.
    n_gpus : int, optional
        GPUs to train on (at least the least count that fits); the least count by default.
    micro_batch, recompute
        As in :func:`scalefit.min_gpus`.
    warmup_steps : int, default 2000
        As in :func:`scalefit.training_recipe`.
    recipe_law : {"deepseek", "step-law"}, default "deepseek"
        The batch-size and learning-rate law, ``law=`` of :func:`scalefit.training_recipe`:
        DeepSeek LLM (Bi et al. 2024) or the Step Law (Li et al. 2025).
    price_per_gpu_hour : float, optional
        Adds the cost.

    Returns
    -------
    RunConfiguration

    Raises
    ------
    ScalefitInputError
        Without a shape on the plan, with ``mfu`` but no ``gpu``, with fewer
        ``n_gpus`` than fit, or as the recipe and memory functions.
    """
    s = allocation.shape
    if s is None:
        raise ScalefitInputError(
            "run_configuration needs a plan with a shape: plan with compute_optimal(fit, flops, shape={'family': "
            "'llama', 'vocab_size': 128256, 'context': 8192}) first.", option="shape",
        )
    recipe = training_recipe(s, allocation.n_tokens, law=recipe_law, warmup_steps=warmup_steps)
    memory = time = None
    if gpu is None and (mfu is not None or n_gpus is not None):
        raise ScalefitInputError("mfu= and n_gpus= need gpu=, the preset to train on (e.g. gpu='H100').", option="gpu")
    if gpu is not None:
        memory = min_gpus(s, gpu=gpu, micro_batch=micro_batch, recompute=recompute)
        if n_gpus is not None:
            if n_gpus < memory.n_gpus:
                raise ScalefitInputError(
                    f"n_gpus={n_gpus} {memory.gpu}s cannot hold the model: it needs at least {memory.n_gpus}.",
                    option="n_gpus", values=[n_gpus],
                )
            memory = MemoryEstimate(**{**memory.__dict__, "n_gpus": n_gpus})
        if mfu is not None:
            time = training_time(
                s.n_params, allocation.n_tokens, n_gpus=memory.n_gpus, gpu=gpu, mfu=mfu,
                flops_per_token=s.flops_per_token,
            )
            if price_per_gpu_hour is not None:
                time = TrainingEstimate(**{**time.__dict__, "price_per_gpu_hour": float(price_per_gpu_hour)})
    return RunConfiguration(allocation=allocation, recipe=recipe, memory=memory, time=time)
