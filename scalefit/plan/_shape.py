"""Decoder shapes: exact parameter counts and training FLOPs per token, and shapes near a size.

Two families:

``"gpt"``
    GPT-2/GPT-3 blocks (Radford et al. 2019; Brown et al. 2020): LayerNorm
    (scale and bias) before attention and before the MLP, biases on every
    linear layer, a GELU MLP of width ``d_ff`` (4 d_model by default), learned
    positional embeddings (``context x d_model``), a final LayerNorm and an
    output head tied to the token embedding.
``"llama"``
    Llama blocks (Touvron et al. 2023): RMSNorm (scale only), no biases, a
    SwiGLU MLP (three ``d_model x d_ff`` matrices), rotary positions (no
    parameters), grouped-query attention when ``n_kv_heads < n_heads``, and
    an untied output head.

Training FLOPs per token follow Kaplan et al. (2020), Table 1: the forward
pass costs ``2 N + 2 n_layer n_ctx d_attn`` (N the non-embedding weights of
the blocks, ``d_attn = n_heads * head_dim``), and training three times that.
Kaplan et al. list the de-embedding (``2 d_model n_vocab`` forward) in the
table but leave it out of their total; Porian et al. (2024) show that the
omission matters at small scale.  :attr:`Shape.flops_per_token` counts it;
:attr:`Shape.kaplan_flops_per_token` is Kaplan's total as printed.

Published counts that their printed shape does not reproduce are left as
they are: Chinchilla 70B (Hoffmann et al. 2022, Table 4: 80 layers, d_model
8192, 64 heads) counts about 65B with a 4x feed-forward and 32,000 tokens of
vocabulary, not 70B; the formula is not bent to match.
"""
from __future__ import annotations

from .._summary import DictDisplay

import math
from dataclasses import dataclass
from typing import Any, Iterator

from .._errors import Option, ScalefitInputError
from .._format import format_number, text_table

__all__ = ["Shape", "ShapeCandidates", "shape", "FAMILIES", "DEFAULT_ASPECT_RATIO"]

#: The families :func:`shape` knows.
FAMILIES = ("gpt", "llama")

#: Default range of d_model / n_layers.  The published families span it:
#: GPT-3 (Brown et al. 2020, Table 2.1) from 64 (125M: 768/12) to 128 (6.7B and
#: 175B), Llama 2 (Touvron et al. 2023) from 102 (70B: 8192/80) to 128 (7B, 13B).
DEFAULT_ASPECT_RATIO = (64.0, 160.0)


def _positive_int(value: Any, name: str, example: str) -> int:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))
    if not ok or float(value) < 1 or float(value) != int(value):
        raise ScalefitInputError(
            f"{name} must be a whole number >= 1; found {value!r}. Give it as e.g. {name}={example}.", option=name,
            values=[value], options=[Option(name, example, text=f"{name}={example}")],
        )
    return int(value)


def _family(family: Any) -> str:
    if family not in FAMILIES:
        raise ScalefitInputError(
            f"family must be one of {', '.join(repr(f) for f in FAMILIES)}; found {family!r}.", option="family",
        )
    return str(family)


def llama_ffn_width(d_model: int, *, multiple_of: int = 256, ffn_multiplier: float = 1.0) -> int:
    """SwiGLU width of the Llama reference code: ``multiple_of * ceil(ffn_multiplier * 8 d_model / 3 / multiple_of)``.

    Llama 2 7B: d_model 4096, multiple_of 256 gives 11008; 70B: d_model 8192,
    ``ffn_multiplier=1.3``, ``multiple_of=4096`` gives 28672 (their public configs).
    """
    hidden = int(2 * 4 * d_model / 3)
    hidden = int(ffn_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


@dataclass(frozen=True)
class Shape(DictDisplay):
    """A decoder-only transformer: its dimensions, exact parameter count and FLOPs per token.

    Parameters
    ----------
    n_layers, d_model, n_heads : int
        Depth, width and attention heads.
    vocab_size, context : int
        Vocabulary and training sequence length.
    family : {"gpt", "llama"}, default "gpt"
        The block design (see the module docstring).
    head_dim : int, optional
        Per-head width; ``d_model // n_heads`` by default.
    n_kv_heads : int, optional
        Key/value heads (grouped-query attention, Ainslie et al. 2023); ``n_heads`` by default.
    d_ff : int, optional
        MLP width; 4 d_model for "gpt", :func:`llama_ffn_width` for "llama".
    tied : bool, optional
        Output head shares the token embedding; True for "gpt", False for "llama".

    Examples
    --------
    GPT-3 175B (Brown et al. 2020, Table 2.1):

    >>> from scalefit import Shape
    >>> gpt3 = Shape(n_layers=96, d_model=12288, n_heads=96, vocab_size=50257, context=2048)
    >>> f"{gpt3.n_params:,}"
    '174,604,259,328'
    """

    __repr__ = DictDisplay.short_repr

    n_layers: int
    d_model: int
    n_heads: int
    vocab_size: int
    context: int
    family: str = "gpt"
    head_dim: int | None = None
    n_kv_heads: int | None = None
    d_ff: int | None = None
    tied: bool | None = None

    def __post_init__(self) -> None:
        fam = _family(self.family)
        for name, example in (("n_layers", "32"), ("d_model", "4096"), ("n_heads", "32"),
                              ("vocab_size", "32000"), ("context", "4096")):
            object.__setattr__(self, name, _positive_int(getattr(self, name), name, example))
        if self.head_dim is None:
            if self.d_model % self.n_heads:
                raise ScalefitInputError(
                    f"d_model={self.d_model} is not a multiple of n_heads={self.n_heads}; give head_dim= "
                    "or a head count that divides d_model.", option="n_heads",
                )
            object.__setattr__(self, "head_dim", self.d_model // self.n_heads)
        object.__setattr__(self, "head_dim", _positive_int(self.head_dim, "head_dim", "128"))
        kv = self.n_heads if self.n_kv_heads is None else _positive_int(self.n_kv_heads, "n_kv_heads", "8")
        if self.n_heads % kv:
            raise ScalefitInputError(
                f"n_kv_heads={kv} must divide n_heads={self.n_heads} (each key/value head serves a whole group "
                "of query heads); e.g. n_kv_heads=8 for 64 heads.", option="n_kv_heads",
            )
        object.__setattr__(self, "n_kv_heads", kv)
        ff = self.d_ff
        if ff is None:
            ff = 4 * self.d_model if fam == "gpt" else llama_ffn_width(self.d_model)
        object.__setattr__(self, "d_ff", _positive_int(ff, "d_ff", "11008"))
        object.__setattr__(self, "tied", (fam == "gpt") if self.tied is None else bool(self.tied))

    # ------------------------------------------------------------ dimensions
    @property
    def d_attn(self) -> int:
        """Width of the attention (queries): ``n_heads * head_dim``."""
        return self.n_heads * int(self.head_dim or 0)

    @property
    def d_kv(self) -> int:
        """Width of the keys (and of the values): ``n_kv_heads * head_dim``."""
        return int(self.n_kv_heads or 0) * int(self.head_dim or 0)

    @property
    def aspect_ratio(self) -> float:
        """``d_model / n_layers``."""
        return self.d_model / self.n_layers

    # ----------------------------------------------------------- parameters
    @property
    def matmul_params_per_layer(self) -> int:
        """Weights of one block's matrix multiplications (no biases or norms)."""
        d, f = self.d_model, int(self.d_ff or 0)
        attention = d * self.d_attn + 2 * d * self.d_kv + self.d_attn * d
        mlp = (2 if self.family == "gpt" else 3) * d * f
        return attention + mlp

    @property
    def params_per_layer(self) -> int:
        """All parameters of one block: weights, biases (gpt) and norm scales (and biases, gpt)."""
        d, f = self.d_model, int(self.d_ff or 0)
        if self.family == "gpt":
            biases = self.d_attn + 2 * self.d_kv + d + f + d
            norms = 2 * 2 * d
        else:
            biases, norms = 0, 2 * d
        return self.matmul_params_per_layer + biases + norms

    @property
    def embedding_params(self) -> int:
        """Token embedding, learned positions (gpt) and an untied output head."""
        positions = self.context * self.d_model if self.family == "gpt" else 0
        head = 0 if self.tied else self.vocab_size * self.d_model
        return self.vocab_size * self.d_model + positions + head

    @property
    def n_params_non_embedding(self) -> int:
        """Every parameter except the embeddings and the output head: the blocks and the final norm."""
        final_norm = 2 * self.d_model if self.family == "gpt" else self.d_model
        return self.n_layers * self.params_per_layer + final_norm

    @property
    def n_params(self) -> int:
        """The exact parameter count, embeddings included (a tied head counted once)."""
        return self.n_params_non_embedding + self.embedding_params

    # ---------------------------------------------------------------- FLOPs
    @property
    def attention_flops_per_token(self) -> int:
        """Training FLOPs of the attention scores and their use: ``6 n_layer n_ctx d_attn`` (Kaplan Table 1, x3)."""
        return 6 * self.n_layers * self.context * self.d_attn

    @property
    def kaplan_flops_per_token(self) -> int:
        """Kaplan et al. (2020) Table 1, times three for training: ``6 N + 6 n_layer n_ctx d_attn``.

        N is the matrix weights of the blocks (Kaplan's non-embedding count);
        the de-embedding is left out, as in their total.
        """
        return 6 * self.n_layers * self.matmul_params_per_layer + self.attention_flops_per_token

    @property
    def flops_per_token(self) -> int:
        """Exact training FLOPs per token: Kaplan's total plus the output head, ``6 d_model n_vocab`` (Porian et al. 2024)."""
        return self.kaplan_flops_per_token + 6 * self.d_model * self.vocab_size

    @property
    def deepseek_flops_per_token(self) -> int:
        """DeepSeek LLM's M, non-embedding FLOPs per token (Bi et al. 2024, Sec. 3.2).

        ``M = 72 n_layer d_model^2 + 12 n_layer d_model l_seq`` for their
        blocks; written for any block as ``6 * matmul weights + 12 n_layer d_attn l_seq``
        (they count attention over the whole sequence, twice Kaplan's term).
        """
        return 6 * self.n_layers * self.matmul_params_per_layer + 12 * self.n_layers * self.d_attn * self.context

    def to_dict(self) -> dict[str, Any]:
        """Dimensions, counts and FLOPs per token as plain JSON-ready values."""
        return {
            "family": self.family, "n_layers": self.n_layers, "d_model": self.d_model, "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads, "head_dim": self.head_dim, "d_ff": self.d_ff, "tied": self.tied,
            "vocab_size": self.vocab_size, "context": self.context, "n_params": self.n_params,
            "n_params_non_embedding": self.n_params_non_embedding, "flops_per_token": self.flops_per_token,
            "kaplan_flops_per_token": self.kaplan_flops_per_token,
            "attention_flops_per_token": self.attention_flops_per_token,
        }

    def _cells(self) -> list[str]:
        return [
            self.family, str(self.n_layers), str(self.d_model), f"{self.n_heads}/{self.n_kv_heads}",
            str(self.head_dim), str(self.d_ff), "tied" if self.tied else "untied",
            f"{self.n_params:,}", format_number(float(self.n_params_non_embedding), "human"),
            f"{self.flops_per_token:.4g}", f"{self.flops_per_token / (6 * self.n_params):.4f}",
        ]

    def __str__(self) -> str:
        return text_table(list(_HEADERS), [self._cells()], align="right", rule=False)


_HEADERS = ("family", "layers", "d_model", "heads/kv", "head_dim", "d_ff", "embedding", "parameters",
            "non-emb.", "FLOPs/token", "vs 6N")


@dataclass(frozen=True)
class ShapeCandidates(DictDisplay):
    """Shapes near a target parameter count, closest first; ``best`` is the first."""

    __repr__ = DictDisplay.short_repr

    target: float
    candidates: tuple[Shape, ...]

    @property
    def best(self) -> Shape:
        return self.candidates[0]

    def __len__(self) -> int:
        return len(self.candidates)

    def __iter__(self) -> Iterator[Shape]:
        return iter(self.candidates)

    def __getitem__(self, i: int) -> Shape:
        return self.candidates[i]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "candidates": [s.to_dict() for s in self.candidates]}

    def __str__(self) -> str:
        rows = [s._cells() + [f"{100 * (s.n_params / self.target - 1):+.2f}%"] for s in self.candidates]
        return text_table(list(_HEADERS) + ["vs target"], rows, align="right", rule=False)


def shape(
    n_params: float,
    *,
    vocab_size: int,
    context: int,
    family: str = "gpt",
    head_dim: int = 128,
    width_multiple: int = 128,
    n_kv_heads: int | None = None,
    aspect_ratio: tuple[float, float] = DEFAULT_ASPECT_RATIO,
    tied: bool | None = None,
    tolerance: float = 0.02,
    n_candidates: int = 5,
) -> ShapeCandidates:
    """Decoder shapes whose exact parameter count (embeddings included) is near ``n_params``.

    For every depth, the width (a multiple of ``width_multiple`` and of
    ``head_dim``) whose count is nearest the target is kept if its
    ``d_model / n_layers`` lies in ``aspect_ratio`` and its count within
    ``tolerance``; the closest come first (ties: aspect ratio nearest the
    middle of the range, on a log scale).

    Parameters
    ----------
    n_params : float
        Target parameter count, embeddings included.
    vocab_size, context : int
        Vocabulary and sequence length.
    family : {"gpt", "llama"}, default "gpt"
        Block design; see :class:`Shape`.
    head_dim : int, default 128
        Per-head width; n_heads = d_model / head_dim.
    width_multiple : int, default 128
        d_model is a multiple of this (and of ``head_dim``).
    n_kv_heads : int, optional
        Key/value heads for grouped-query attention (must divide n_heads); full
        multi-head attention by default.
    aspect_ratio : (float, float), default (64, 160)
        Allowed d_model / n_layers, from the published families (:data:`DEFAULT_ASPECT_RATIO`).
    tied : bool, optional
        Tied output head; the family's default otherwise.
    tolerance : float, default 0.02
        Largest relative gap between a candidate's count and the target.
    n_candidates : int, default 5
        How many shapes to return.

    Returns
    -------
    ShapeCandidates
        ``.best`` and the other candidates, each a :class:`Shape`.

    Raises
    ------
    ScalefitInputError
        If a size is not positive, or no shape within the constraints comes
        within ``tolerance`` of the target (the message gives the nearest one).

    Examples
    --------
    >>> from scalefit import shape
    >>> best = shape(7e9, vocab_size=32000, context=4096, family="llama").best
    >>> abs(best.n_params / 7e9 - 1) < 0.02
    True
    """
    fam = _family(family)
    vocab = _positive_int(vocab_size, "vocab_size", "32000")
    ctx = _positive_int(context, "context", "4096")
    hd = _positive_int(head_dim, "head_dim", "128")
    step = _positive_int(width_multiple, "width_multiple", "128")
    count = _positive_int(n_candidates, "n_candidates", "5")
    if isinstance(n_params, bool) or not isinstance(n_params, (int, float)) or not math.isfinite(n_params) or n_params <= 0:
        raise ScalefitInputError(f"n_params must be a finite number > 0; found {n_params!r}. Give e.g. 7e9.",
                                 option="n_params")
    if not 0 < tolerance < 1:
        raise ScalefitInputError(f"tolerance must be in (0, 1); found {tolerance!r}. E.g. tolerance=0.02.",
                                 option="tolerance")
    lo_ar, hi_ar = (float(a) for a in aspect_ratio)
    if not 0 < lo_ar <= hi_ar:
        raise ScalefitInputError(f"aspect_ratio must be (low, high) with 0 < low <= high; found {aspect_ratio!r}.",
                                 option="aspect_ratio")
    unit = step * hd // math.gcd(step, hd)
    target = float(n_params)

    def build(n_layers: int, d_model: int) -> Shape | None:
        heads = d_model // hd
        kv = n_kv_heads
        if kv is not None and heads % kv:
            return None
        return Shape(n_layers=n_layers, d_model=d_model, n_heads=heads, vocab_size=vocab, context=ctx, family=fam,
                     head_dim=hd, n_kv_heads=kv, tied=tied)

    def probe(n_layers: int, d_model: int) -> int:
        """Count used to bisect on the width: with GQA, the nearest key/value head count that divides."""
        heads = d_model // hd
        kv = None if n_kv_heads is None else max(g for g in range(1, min(n_kv_heads, heads) + 1) if heads % g == 0)
        return Shape(n_layers=n_layers, d_model=d_model, n_heads=heads, vocab_size=vocab, context=ctx,
                     family=fam, head_dim=hd, n_kv_heads=kv, tied=tied).n_params

    found: list[Shape] = []
    nearest: Shape | None = None
    for n_layers in range(1, 1025):
        w_lo = max(unit, unit * math.ceil(lo_ar * n_layers / unit))
        w_hi = unit * math.floor(hi_ar * n_layers / unit)
        if w_hi < w_lo:
            continue
        if probe(n_layers, w_lo) > target * (1 + tolerance) and (nearest is None or nearest.n_layers < n_layers):
            # deeper shapes only grow: the narrowest allowed width already overshoots
            smallest = build(n_layers, w_lo)
            if smallest is not None and (nearest is None or abs(smallest.n_params - target) < abs(nearest.n_params - target)):
                nearest = smallest
            break
        # the count rises with the width: bisect for the nearest multiple of `unit`
        a, b = w_lo // unit, w_hi // unit
        while b - a > 1:
            mid = (a + b) // 2
            if probe(n_layers, mid * unit) < target:
                a = mid
            else:
                b = mid
        for k in sorted({a - 1, a, b, b + 1}):
            if w_lo // unit <= k <= w_hi // unit:
                s = build(n_layers, k * unit)
                if s is None:
                    continue
                if nearest is None or abs(s.n_params - target) < abs(nearest.n_params - target):
                    nearest = s
                if abs(s.n_params / target - 1) <= tolerance:
                    found.append(s)
    mid_ar = math.sqrt(lo_ar * hi_ar)
    found = sorted(set(found), key=lambda s: (abs(s.n_params / target - 1), abs(math.log(s.aspect_ratio / mid_ar))))
    if not found:
        near = "no shape at all" if nearest is None else (
            f"the nearest is {nearest.n_layers} layers x d_model {nearest.d_model} with {nearest.n_params:,} "
            f"parameters ({100 * (nearest.n_params / target - 1):+.1f}%)")
        raise ScalefitInputError(
            f"no {fam} shape with d_model a multiple of {unit}, head_dim {hd} and d_model/n_layers in "
            f"[{lo_ar:g}, {hi_ar:g}] comes within {100 * tolerance:g}% of n_params={target:.4g} "
            f"(vocab_size={vocab}, context={ctx}); {near}. Widen aspect_ratio=(low, high), lower width_multiple= "
            "or head_dim=, or raise tolerance= (for a target this small, a smaller vocabulary or a wider range "
            "of shapes is needed).",
            option="n_params", values=[target],
            options=[Option("width_multiple", text="width_multiple="), Option("head_dim", text="head_dim=")],
        )
    return ShapeCandidates(target=target, candidates=tuple(found[:count]))
