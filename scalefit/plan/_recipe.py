"""Batch size, learning rate, steps and warmup from a published law: DeepSeek LLM or the Step Law.

``"deepseek"`` (Bi et al. 2024, "DeepSeek LLM", Sec. 3.1) fits the near-optimal
global batch size (in tokens) and peak learning rate against compute:

    B_opt = 0.2920 * C ** 0.3271        eta_opt = 0.3118 * C ** -0.1250

with ``C = M * D``, M the non-embedding FLOPs per token of their Sec. 3.2
(``72 n_layer d_model^2 + 12 n_layer d_model l_seq``; see
:attr:`~scalefit.plan.Shape.deepseek_flops_per_token`) and D the training tokens.

``"step-law"`` (Li et al. 2025, "Predictable Scale: Part I", the Step Law) fits
them against model size and data instead:

    eta_opt = 1.79 * N ** -0.713 * D ** 0.307        B_opt = 0.58 * D ** 0.571

with N the non-embedding parameters and D the training tokens; B is in tokens
(their fitting code, step-law/steplaw ``code/fit_tool.py``, multiplies the
batch in sequences by the sequence length before fitting).

Each law was fit under its authors' optimizer and learning-rate schedule; a
different schedule can move the optimum.  The two disagree: for DeepSeek LLM 7B
on 2T tokens the Step Law's peak learning rate is 2.7 times DeepSeek's.

Both give the batch in tokens; it is rounded to whole sequences of the shape's
context.  Warmup defaults to DeepSeek LLM's 2,000 steps (Sec. 2.3) under either law.
"""
from __future__ import annotations

from .._summary import DictDisplay

import math
from dataclasses import dataclass
from typing import Any

from .._errors import Option, ScalefitInputError
from ._shape import Shape

__all__ = ["Recipe", "training_recipe", "deepseek_law", "step_law", "DEEPSEEK_2024", "STEP_LAW_2025", "RECIPE_LAWS"]

#: Bi et al. (2024), Sec. 3.1: (B coefficient, B exponent on C, eta coefficient, eta exponent on C).
DEEPSEEK_2024 = (0.2920, 0.3271, 0.3118, -0.1250)
#: Li et al. (2025), the Step Law: (eta coefficient, eta exponent on N, eta exponent on D, B coefficient, B exponent on D).
STEP_LAW_2025 = (1.79, -0.713, 0.307, 0.58, 0.571)
#: The laws :func:`training_recipe` knows, each with its citation.
RECIPE_LAWS = {
    "deepseek": "DeepSeek LLM (Bi et al. 2024)",
    "step-law": "Step Law (Li et al. 2025)",
}


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
        DeepSeek's C = M * D (computed under either law, for comparison).
    n_tokens : float
        Training tokens D.
    law : str
        Which law: ``"deepseek"`` or ``"step-law"``.
    n_params_law : int
        The Step Law's N, the non-embedding parameters of the shape.
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
    n_params_law: int = 0

    @property
    def citation(self) -> str:
        """The law's name and source, e.g. ``"DeepSeek LLM (Bi et al. 2024)"``."""
        return RECIPE_LAWS[self.law]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "citation": self.citation}


def deepseek_law(compute: float) -> tuple[float, float]:
    """DeepSeek LLM (Bi et al. 2024, Sec. 3.1): ``(B_opt in tokens, eta_opt)`` at ``C = M D``."""
    b_coef, b_exp, lr_coef, lr_exp = DEEPSEEK_2024
    return b_coef * compute ** b_exp, lr_coef * compute ** lr_exp


def step_law(n_params: float, n_tokens: float) -> tuple[float, float]:
    """The Step Law (Li et al. 2025): ``(B_opt in tokens, eta_opt)`` for N non-embedding parameters and D tokens."""
    lr_coef, lr_n, lr_d, b_coef, b_d = STEP_LAW_2025
    return b_coef * n_tokens ** b_d, lr_coef * n_params ** lr_n * n_tokens ** lr_d


def _law(law: Any) -> str:
    if law not in RECIPE_LAWS:
        known = "; ".join(f"{name!r}: {cite}" for name, cite in RECIPE_LAWS.items())
        raise ScalefitInputError(f"law must be one of {known}; found {law!r}.", option="law", values=[law])
    return str(law)


def training_recipe(shape: Shape, n_tokens: float, *, law: str = "deepseek", warmup_steps: int = 2000) -> Recipe:
    """Global batch (tokens and sequences), learning rate, steps and warmup from a published law.

    Parameters
    ----------
    shape : Shape
        The model; its context sets the sequence length, its
        :attr:`~Shape.deepseek_flops_per_token` the M of DeepSeek's C = M D and
        its :attr:`~Shape.n_params_non_embedding` the Step Law's N.
    n_tokens : float
        Training tokens D.
    law : {"deepseek", "step-law"}, default "deepseek"
        ``"deepseek"``: DeepSeek LLM (Bi et al. 2024, Sec. 3.1), B and eta from
        C = M D.  ``"step-law"``: the Step Law (Li et al. 2025), eta from N and
        D, B from D.
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
    >>> s = training_recipe(llama7b, 2e12, law="step-law")
    >>> s.batch_sequences, f"{s.learning_rate:.2e}"
    (1496, '1.08e-03')
    """
    law = _law(law)
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, (int, float)) or not math.isfinite(n_tokens) or n_tokens <= 0:
        raise ScalefitInputError(f"n_tokens must be a finite number > 0; found {n_tokens!r}. Give e.g. 2e12.",
                                 option="n_tokens")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ScalefitInputError(f"warmup_steps must be a whole number >= 0; found {warmup_steps!r}.",
                                 option="warmup_steps")
    d = float(n_tokens)
    compute = float(shape.deepseek_flops_per_token) * d
    n = int(shape.n_params_non_embedding)
    b_law, lr = deepseek_law(compute) if law == "deepseek" else step_law(float(n), d)
    sequences = max(1, round(b_law / shape.context))
    batch = sequences * shape.context
    if batch > d:
        raise ScalefitInputError(
            f"the {RECIPE_LAWS[law]} batch of {batch:,} tokens ({sequences:,} sequences of {shape.context:,}) is "
            f"larger than the token budget n_tokens={d:.4g}: not even one step fits. Train on more tokens, or use a "
            "shorter context= so that one sequence is a smaller batch.",
            option="n_tokens", values=[n_tokens], options=[Option("n_tokens"), Option("context")],
        )
    steps = math.ceil(d / batch)
    if steps <= warmup_steps:
        raise ScalefitInputError(
            f"{steps:,} steps of {batch:,} tokens do not outlast warmup_steps={warmup_steps:,}; give a shorter "
            f"warmup, e.g. warmup_steps={max(0, steps // 10)}.",
            option="warmup_steps", values=[steps], options=[Option("warmup_steps", str(max(0, steps // 10)))],
        )
    return Recipe(
        batch_tokens=batch, batch_sequences=sequences, batch_tokens_law=b_law, learning_rate=lr, steps=steps,
        warmup_steps=warmup_steps, compute=compute, n_tokens=d, law=law, n_params_law=n,
    )
