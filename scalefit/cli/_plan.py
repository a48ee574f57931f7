"""``scalefit plan``: compute-optimal model size and tokens from a fit.

Which question is answered depends on the options given:

* ``--flops C[,C...]``                       compute-optimal N and D for each budget
* ``--target-loss L[,L...]``                 least compute reaching each loss
* ``--n-params N[,N...]``                    tokens that make N compute-optimal (Hoffmann Table A3)
* ``--n-params N --flops C``                 tokens a budget buys at fixed N
* ``--n-params N --target-loss L``           tokens needed to reach L at fixed N
* ``--target-loss L --inference-tokens T``   inference-aware plan (Sardana et al. 2023)
* ``--flops C --unique-tokens U``            data-constrained plan (Muennighoff et al. 2023)
* ``--flops C --shape FAMILY --vocab V --context S [--gpu G] [--recipe deepseek|step-law]``   the
  configuration to launch: layers, width, heads, exact FLOPs, batch, learning rate (DeepSeek LLM or the
  Step Law), steps, memory and GPUs
"""
from __future__ import annotations

import argparse
from typing import Any

from ._common import emit_json, parse_mapping


def parse_numbers(text: str | None, option: str, *, many: bool = True) -> list[float] | None:
    """Parse '5.76e23', '1.3B' or, with ``many``, a comma-separated list '1e21,1e22'; None stays None."""
    return None if text is None else _numbers_in(text, option, many=many)


def _numbers_in(text: str, option: str, *, many: bool) -> list[float]:
    from .._errors import ScalefitInputError
    from .._numbers import parse_number

    items = [t for t in (text.split(",") if many else [text]) if t.strip()]
    if not items:
        raise ScalefitInputError(f"{option} is empty; give a number such as 5.76e23 or 70B.")
    out = []
    for item in items:
        try:
            out.append(parse_number(item))
        except ValueError:
            sep = " (separate several values with commas, without thousands separators)" if many else ""
            raise ScalefitInputError(
                f"{option}: {item.strip()!r} is not a number; write e.g. 5.76e23, 175e9 or 1.3B{sep}."
            ) from None
    return out


def _one(values: list[float] | None) -> Any:
    return None if values is None else (values[0] if len(values) == 1 else values)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="Compute-optimal model size and tokens for budgets, target losses or model sizes.",
        description=(
            "Plan training from a fitted law: for a compute budget (--flops), the model size and tokens that "
            "minimise the loss; for a target loss (--target-loss), the least compute reaching it; for a model "
            "size (--n-params), the tokens that make it compute-optimal, or with --flops/--target-loss the "
            "tokens a budget buys or a loss needs. --inference-tokens adds lifetime inference cost "
            "(Sardana et al. 2023); --unique-tokens plans with repeated data (Muennighoff et al. 2023). "
            "Numbers accept 5.76e23, 175e9 or 1.3B; lists are comma-separated. Training compute is "
            "C = 6 N D unless --flops-per-param-token says otherwise."
        ),
        epilog=(
            "Examples: scalefit plan --params E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28 --flops 5.76e23 | "
            "scalefit plan --fit fit.json --n-params 400M,1B,10B,67B,175B | "
            "scalefit plan --flops 1e22 --unique-tokens 25B"
        ),
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--fit", metavar="FIT.json", help="Fit written by `scalefit fit --out` (keys law, params; bootstrap.samples gives intervals).")
    src.add_argument("--params", metavar="E=..,A=..,B=..,alpha=..,beta=..", help="Chinchilla parameters given directly.")
    p.add_argument("--flops", metavar="C[,C...]", help="Training compute budget(s) in FLOPs.")
    p.add_argument("--target-loss", metavar="L[,L...]", help="Target loss(es), in nats.")
    p.add_argument("--n-params", metavar="N[,N...]", help="Model size(s) in parameters.")
    p.add_argument("--inference-tokens", metavar="T", help="Lifetime inference tokens (with --target-loss).")
    p.add_argument("--unique-tokens", metavar="U", help="Unique training tokens available (with --flops; default law: Muennighoff et al. 2023).")
    p.add_argument("--level", type=float, default=0.95, help="Bootstrap interval level (default 0.95).")
    p.add_argument("--flops-per-param-token", type=float, default=6.0, metavar="K", help="k in C = k N D (default 6).")
    p.add_argument("--shape", choices=["gpt", "llama"], help="With --flops: propose an architecture of this family for each N* and re-solve the tokens with its exact FLOPs per token.")
    p.add_argument("--vocab", type=int, metavar="V", help="Vocabulary size (with --shape).")
    p.add_argument("--context", type=int, metavar="S", help="Training sequence length (with --shape).")
    p.add_argument("--head-dim", type=int, metavar="H", help="Per-head width (with --shape; default 128).")
    p.add_argument("--width-multiple", type=int, metavar="W", help="d_model is a multiple of W (with --shape; default 128).")
    p.add_argument("--n-kv-heads", type=int, metavar="K", help="Key/value heads, grouped-query attention (with --shape).")
    p.add_argument("--aspect-ratio", metavar="LOW,HIGH",
                   help="Range of d_model/n_layers a proposed shape may have (with --shape; default 64,160).")
    p.add_argument("--tolerance", type=float, metavar="F",
                   help="How far a shape's parameter count may be from N*, as a fraction (with --shape; default 0.02).")
    p.add_argument("--gpu", metavar="NAME", help="GPU preset (with --shape): memory and the least GPU count with full sharding.")
    p.add_argument("--mfu", type=float, metavar="F", help="Model FLOPs utilisation (with --gpu): training days from the exact FLOPs.")
    p.add_argument("--recompute", choices=["full", "selective", "none"], help="Activation recomputation (with --gpu; default full).")
    p.add_argument("--micro-batch", type=int, metavar="B", help="Sequences per GPU per micro-step (with --gpu; default 1).")
    p.add_argument("--recipe", choices=["deepseek", "step-law"],
                   help="Batch-size and learning-rate law (with --shape): deepseek = DeepSeek LLM (Bi et al. 2024), "
                        "from C = M D; step-law = the Step Law (Li et al. 2025), from N and D. Default deepseek.")
    p.add_argument("--warmup-steps", type=int, metavar="N", help="Warmup steps (with --shape; default 2000, DeepSeek LLM).")
    p.add_argument("--json", action="store_true", help="Write JSON (one object; several rows under 'allocations').")
    p.add_argument("--force-plan", action="store_true",
                   help="Plan even from a fit with a fatal diagnostic (e.g. loss rising with N), which is otherwise refused.")
    p.set_defaults(func=run, api_names=(
        "level", "fit", "flops", "flops_per_param_token", "unique_tokens", "inference_tokens", "vocab_size", "context",
        "head_dim", "width_multiple", "n_kv_heads", "aspect_ratio", "tolerance", "gpu", "mfu", "micro_batch",
        "recompute", "warmup_steps"))


#: The options of a run configuration (``--shape``): flag -> (attribute, value when not given).
SHAPE_OPTIONS = {
    "--vocab": ("vocab", None), "--context": ("context", None), "--head-dim": ("head_dim", 128),
    "--width-multiple": ("width_multiple", 128), "--n-kv-heads": ("n_kv_heads", None),
    "--aspect-ratio": ("aspect_ratio", None), "--tolerance": ("tolerance", None), "--gpu": ("gpu", None),
    "--mfu": ("mfu", None), "--recompute": ("recompute", "full"), "--micro-batch": ("micro_batch", 1),
    "--recipe": ("recipe", "deepseek"), "--warmup-steps": ("warmup_steps", 2000),
}
#: Of those, the ones that only matter with --gpu (memory and GPU count, training days).
GPU_OPTIONS = ("--mfu", "--recompute", "--micro-batch")


def _check_shape_options(args: argparse.Namespace) -> None:
    """Refuse a run configuration's options where they would do nothing (no --shape; --mfu and the memory without --gpu)."""
    from .._errors import ScalefitInputError

    given = [flag for flag, (attr, _) in SHAPE_OPTIONS.items() if getattr(args, attr) is not None]
    if args.shape is None and given:
        raise ScalefitInputError(
            f"{', '.join(given)} {'describes' if len(given) == 1 else 'describe'} the run configuration, which only "
            "--shape plans: add --shape gpt or --shape llama (with --flops, --vocab V and --context S), "
            f"or leave {'it' if len(given) == 1 else 'them'} out.", values=given)
    without_gpu = [flag for flag in GPU_OPTIONS if flag in given] if args.gpu is None else []
    if without_gpu:
        raise ScalefitInputError(
            f"{', '.join(without_gpu)} {'needs' if len(without_gpu) == 1 else 'need'} --gpu NAME, the GPU to train on "
            "(e.g. --gpu H100): memory, GPU count and training days are worked out for it.", values=without_gpu)


def _shape_option(args: argparse.Namespace, flag: str) -> Any:
    """The value of a --shape option, or its default when it was not given."""
    attr, default = SHAPE_OPTIONS[flag]
    value = getattr(args, attr)
    return default if value is None else value


def _load_fit(args: argparse.Namespace) -> Any:
    """The ``fit`` argument of the planners: a loaded fit (with bootstrap samples if saved) or a mapping."""
    import types

    from .._errors import ScalefitInputError

    if args.params is not None:
        raw = parse_mapping(args.params, what="--params")
        if not raw:
            raise ScalefitInputError("--params is empty; write E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28.")
        return {k: _numbers_in(v, f"--params {k}", many=False)[0] for k, v in raw.items()}
    if args.fit is None:
        return None
    from ..fitting import load_fit

    try:
        loaded = load_fit(args.fit)
    except ScalefitInputError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a hand-edited file: say where, not a traceback
        raise ScalefitInputError(_unreadable_fit(args.fit, exc), values=[args.fit]) from exc
    boot = loaded.info.get("bootstrap") if isinstance(loaded.info, dict) else None
    samples = boot.get("samples") if isinstance(boot, dict) else None
    if samples:
        return types.SimpleNamespace(fit=loaded, samples=samples)
    return loaded


def _unreadable_fit(path: str, error: Exception) -> str:
    """Why the fit file at ``path`` could not be read back: the parameter that is no number, when that is it."""
    import json
    import math

    try:
        saved = json.loads(open(path, encoding="utf-8").read())
        params = saved.get("params") if isinstance(saved, dict) else None
    except (OSError, ValueError):
        params = None
    fix = "correct it, or write the fit again with `scalefit fit RUNS --out FILE`."
    if not isinstance(params, dict):
        return f"--fit {path}: 'params' must map each parameter to a number; found {params!r}. {fix[0].upper()}{fix[1:]}"
    for name, value in params.items():
        try:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(float(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            return f"--fit {path}: parameter {name!r} is {value!r}, not a number; {fix}"
    return f"--fit {path} could not be read as a saved fit ({type(error).__name__}: {error}); {fix}"


def run(args: argparse.Namespace) -> int:
    from .._errors import ScalefitInputError
    from ..plan import (
        budget_for_loss,
        compute_optimal,
        data_constrained_optimal,
        inference_optimal,
        optimal_tokens,
    )

    flops = parse_numbers(args.flops, "--flops")
    losses = parse_numbers(args.target_loss, "--target-loss")
    sizes = parse_numbers(args.n_params, "--n-params")
    inference = parse_numbers(args.inference_tokens, "--inference-tokens", many=False)
    unique = parse_numbers(args.unique_tokens, "--unique-tokens", many=False)
    _check_shape_options(args)
    fit = _load_fit(args)
    opts = dict(level=args.level, flops_per_param_token=args.flops_per_param_token)
    result: Any

    if flops is not None and losses is not None:
        raise ScalefitInputError("give --flops or --target-loss, not both: a budget already fixes the loss.")
    if flops is None and losses is None and sizes is None:
        raise ScalefitInputError("say what to plan for: --flops C, --target-loss L or --n-params N.")
    if args.shape is not None:
        return _run_shaped(args, flops, losses, sizes, inference, unique, fit)
    if fit is None and unique is None:
        raise ScalefitInputError(
            "give the law's parameters: --fit FIT.json (from `scalefit fit --out`) or "
            "--params E=..,A=..,B=..,alpha=..,beta=.."
        )

    if inference is not None:
        if losses is None or sizes is not None or len(losses) != 1:
            raise ScalefitInputError(
                "--inference-tokens plans for one target loss: use it with a single --target-loss and without --n-params."
            )
        result = inference_optimal(fit, loss=losses[0], inference_tokens=inference[0], **opts)
        title = None
    elif unique is not None:
        if flops is None or sizes is not None:
            raise ScalefitInputError("--unique-tokens plans for compute budgets: use it with --flops and without --n-params.")
        result = data_constrained_optimal(fit, _one(flops), unique_tokens=unique[0], **opts)
        title = f"Data-constrained compute-optimal plan, {unique[0]:.3g} unique tokens (Muennighoff et al. 2023)"
    elif sizes is not None:
        if (flops is not None and len(flops) != 1) or (losses is not None and len(losses) != 1):
            raise ScalefitInputError("with --n-params, give a single --flops or --target-loss value.")
        result = optimal_tokens(
            fit, _one(sizes), flops=flops[0] if flops else None, loss=losses[0] if losses else None,
            force=args.force_plan, **opts,
        )
        title = (
            "Tokens for a fixed model size: "
            + ("D = C / (k N)" if flops else "tokens to reach the target loss" if losses else "the size is compute-optimal")
        )
    elif flops is not None:
        result = compute_optimal(fit, _one(flops), force=args.force_plan, **opts)
        title = "Compute-optimal allocation"
    else:
        result = budget_for_loss(fit, _one(losses), force=args.force_plan, **opts)
        title = "Least compute reaching the target loss"

    sensitivity = _saved_sensitivity(args)
    if args.json:
        payload = result.to_dict()
        if sensitivity is not None:
            payload["sensitivity"] = sensitivity  # measured by `scalefit fit` on the runs, carried into the plan
        emit_json(payload)
        return 0
    if title:
        law = (result.allocations[0] if hasattr(result, "allocations") else result).law
        print(f"{title}; law {law}, C = {args.flops_per_param_token:g} N D")
    print(result)
    if sensitivity is not None:
        print(f"Sensitivity to the objective (from {args.fit}): {sensitivity.get('message', '')}")
    return 0


def _saved_sensitivity(args: argparse.Namespace) -> dict | None:
    """The sensitivity table `scalefit fit` saved with the fit, if any."""
    if args.fit is None:
        return None
    import json

    try:
        saved = json.loads(open(args.fit, encoding="utf-8").read()).get("sensitivity")
    except (OSError, ValueError, AttributeError):
        return None
    return saved if isinstance(saved, dict) else None


#: Hoffmann et al. (2022), eq. 10: the law `scalefit plan --shape` uses without --fit or --params.
HOFFMANN_2022 = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def _run_shaped(args: argparse.Namespace, flops: Any, losses: Any, sizes: Any, inference: Any, unique: Any,
                fit: Any) -> int:
    """``--shape``: the launchable configuration for each budget."""
    from .._errors import ScalefitInputError
    from ..plan import AllocationTable, compute_optimal, run_configuration

    if flops is None or losses is not None or sizes is not None or inference is not None or unique is not None:
        raise ScalefitInputError("--shape plans for compute budgets: use it with --flops alone "
                                 "(not with --target-loss, --n-params, --inference-tokens or --unique-tokens).")
    if args.vocab is None or args.context is None:
        raise ScalefitInputError("--shape needs the vocabulary and the sequence length: add --vocab V --context S, "
                                 "e.g. --vocab 128256 --context 8192.")
    source = "your fit"
    if fit is None:
        fit, source = HOFFMANN_2022, "Hoffmann et al. (2022) eq. 10 (no --fit or --params given)"
    spec = dict(family=args.shape, vocab_size=args.vocab, context=args.context, head_dim=_shape_option(args, "--head-dim"),
                width_multiple=_shape_option(args, "--width-multiple"), n_kv_heads=args.n_kv_heads)
    if args.aspect_ratio is not None:  # else the library's own default range
        bounds = parse_numbers(args.aspect_ratio, "--aspect-ratio")
        if bounds is None or len(bounds) != 2:
            raise ScalefitInputError(f"--aspect-ratio takes two numbers, LOW,HIGH (e.g. 64,160); found {args.aspect_ratio!r}.")
        spec["aspect_ratio"] = tuple(bounds)
    if args.tolerance is not None:
        spec["tolerance"] = args.tolerance
    plan = compute_optimal(fit, _one(flops), level=args.level, flops_per_param_token=args.flops_per_param_token,
                           shape=spec)
    rows = list(plan.allocations) if isinstance(plan, AllocationTable) else [plan]
    configs = [run_configuration(a, gpu=args.gpu, mfu=args.mfu, micro_batch=_shape_option(args, "--micro-batch"),
                                 recompute=_shape_option(args, "--recompute"),
                                 warmup_steps=_shape_option(args, "--warmup-steps"),
                                 recipe_law=_shape_option(args, "--recipe")) for a in rows]
    if args.json:
        emit_json({"law_source": source, "configurations": [c.to_dict() for c in configs]})
        return 0
    print(f"Run configuration; law {rows[0].law} from {source}; exact FLOPs per token (Kaplan et al. 2020 "
          f"Table 1 plus the output head); batch and learning rate from {configs[0].recipe.citation}")
    for c in configs:
        print()
        print(c)
    return 0
