"""``scalefit plan``: compute-optimal model size and tokens from a fit.

Which question is answered depends on the options given:

* ``--flops C[,C...]``                       compute-optimal N and D for each budget
* ``--target-loss L[,L...]``                 least compute reaching each loss
* ``--n-params N[,N...]``                    tokens that make N compute-optimal (Hoffmann Table A3)
* ``--n-params N --flops C``                 tokens a budget buys at fixed N
* ``--n-params N --target-loss L``           tokens needed to reach L at fixed N
* ``--target-loss L --inference-tokens T``   inference-aware plan (Sardana et al. 2023)
* ``--flops C --unique-tokens U``            data-constrained plan (Muennighoff et al. 2023)
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
    p.add_argument("--json", action="store_true", help="Write JSON (one object; several rows under 'allocations').")
    p.add_argument("--force-plan", action="store_true",
                   help="Plan even from a fit with a fatal diagnostic (e.g. loss rising with N), which is otherwise refused.")
    p.set_defaults(func=run)


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

    loaded = load_fit(args.fit)
    boot = loaded.info.get("bootstrap") if isinstance(loaded.info, dict) else None
    samples = boot.get("samples") if isinstance(boot, dict) else None
    if samples:
        return types.SimpleNamespace(fit=loaded, samples=samples)
    return loaded


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
    fit = _load_fit(args)
    opts = dict(level=args.level, flops_per_param_token=args.flops_per_param_token)
    result: Any

    if flops is not None and losses is not None:
        raise ScalefitInputError("give --flops or --target-loss, not both: a budget already fixes the loss.")
    if flops is None and losses is None and sizes is None:
        raise ScalefitInputError("say what to plan for: --flops C, --target-loss L or --n-params N.")
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

    if args.json:
        emit_json(result.to_dict())
        return 0
    if title:
        law = (result.allocations[0] if hasattr(result, "allocations") else result).law
        print(f"{title}; law {law}, C = {args.flops_per_param_token:g} N D")
    print(result)
    return 0
