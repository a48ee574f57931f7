"""Batch size, learning rate, steps and warmup from a published law (DeepSeek LLM, Bi et al. 2024).

Bi et al. (2024), Sec. 3.1, fit the near-optimal global batch size (in
tokens) and peak learning rate against compute:

    B_opt = 0.2920 * C ** 0.3271        eta_opt = 0.3118 * C ** -0.1250

with ``C = M * D``, M the non-embedding FLOPs per token of their Sec. 3.2
(``72 n_layer d_model^2 + 12 n_layer d_model l_seq``; see
:attr:`~scalefit.plan.Shape.deepseek_flops_per_token`) and D the training tokens.
Their runs used a warmup of 2,000 steps (Sec. 2.3), the default here.
"""
from __future__ import annotations

from .._summary import DictDisplay

import math
from dataclasses import dataclass
from typing import Any

from .._errors import Option, ScalefitInputError
from ._shape import Shape

__all__ = ["Recipe", "training_recipe", "DEEPSEEK_2024"]

#: Bi et al. (2024), Sec. 3.1: (B coefficient, B exponent, eta coefficient, eta exponent).
DEEPSEEK_2024 = (0.2920, 0.3271, 0.3118, -0.1250)


@dataclass(frozen=True)
class Recipe(DictDisplay):
    """Global batch, learning rate, steps and warmup for a shape and a token budget.

    Attributes
    ----------
    batch_tokens : int
        Global batch in tokens, ``batch_sequences * context``.
    batch_sequences : int
        Global batch in sequences (the law's B_opt / context, rounded, at least 1).
    batch_tokens_law : float
        The law's B_opt before rounding to whole sequences.
    learning_rate : float
        Peak learning rate eta_opt.
    steps : int
        Optimizer steps, ``ceil(n_tokens / batch_tokens)``.
    warmup_steps : int
        Linear warmup steps.
    compute : float
        The law's C = M * D.
    n_tokens : float
        Training tokens D.
    law : str
        Which law (``"deepseek"``).
    """

    __repr__ = DictDisplay.short_repr

    batch_tokens: int
    batch_sequences: int
    batch_tokens_law: float
    learning_rate: float
    steps: int
    warmup_steps: int
    compute: float
    n_tokens: float
    law: str = "deepseek"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def training_recipe(shape: Shape, n_tokens: float, *, law: str = "deepseek", warmup_steps: int = 2000) -> Recipe:
    """Global batch (tokens and sequences), learning rate, steps and warmup from a published law.

    Parameters
    ----------
    shape : Shape
        The model; its context sets the sequence length and its
        :attr:`~Shape.deepseek_flops_per_token` the M of C = M D.
    n_tokens : float
        Training tokens D.
    law : {"deepseek"}, default "deepseek"
        DeepSeek LLM (Bi et al. 2024, Sec. 3.1).
    warmup_steps : int, default 2000
        Linear warmup (DeepSeek LLM, Sec. 2.3).

    Returns
    -------
    Recipe

    Raises
    ------
    ScalefitInputError
        For an unknown law, a token count that is not positive, a batch larger
        than the token budget, or fewer steps than the warmup.

    Examples
    --------
    >>> from scalefit import Shape, training_recipe
    >>> llama7b = Shape(n_layers=32, d_model=4096, n_heads=32, vocab_size=32000, context=4096, family="llama")
    >>> r = training_recipe(llama7b, 2e12)
    >>> r.batch_sequences, f"{r.learning_rate:.2e}"
    (2303, '4.21e-04')
    """
    if law != "deepseek":
        raise ScalefitInputError(f"law must be 'deepseek' (Bi et al. 2024); found {law!r}.", option="law")
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, (int, float)) or not math.isfinite(n_tokens) or n_tokens <= 0:
        raise ScalefitInputError(f"n_tokens must be a finite number > 0; found {n_tokens!r}. Give e.g. 2e12.",
                                 option="n_tokens")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ScalefitInputError(f"warmup_steps must be a whole number >= 0; found {warmup_steps!r}.",
                                 option="warmup_steps")
    b_coef, b_exp, lr_coef, lr_exp = DEEPSEEK_2024
    compute = float(shape.deepseek_flops_per_token) * float(n_tokens)
    b_law = b_coef * compute ** b_exp
    sequences = max(1, round(b_law / shape.context))
    batch = sequences * shape.context
    if batch > n_tokens:
        raise ScalefitInputError(
            f"the DeepSeek batch of {batch:,} tokens ({sequences:,} sequences of {shape.context:,}) is larger than "
            f"the token budget n_tokens={n_tokens:.4g}: not even one step fits. Train on more tokens, or use a "
            "shorter context= so that one sequence is a smaller batch.",
            option="n_tokens", values=[n_tokens], options=[Option("n_tokens"), Option("context")],
        )
    steps = math.ceil(n_tokens / batch)
    if steps <= warmup_steps:
        raise ScalefitInputError(
            f"{steps:,} steps of {batch:,} tokens do not outlast warmup_steps={warmup_steps:,}; give a shorter "
            f"warmup, e.g. warmup_steps={max(0, steps // 10)}.",
            option="warmup_steps", values=[steps], options=[Option("warmup_steps", str(max(0, steps // 10)))],
        )
    return Recipe(
        batch_tokens=batch, batch_sequences=sequences, batch_tokens_law=b_law,
        learning_rate=lr_coef * compute ** lr_exp, steps=steps, warmup_steps=warmup_steps,
        compute=compute, n_tokens=float(n_tokens), law=law,
    )
