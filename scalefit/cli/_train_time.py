"""``scalefit train-time``: wall-clock days (and cost) of a training run (Narayanan et al. 2021, eq. 4)."""
from __future__ import annotations

import argparse

from ._common import emit_json
from ._plan import parse_numbers


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-time",
        help="Training days, GPU-hours and cost on a GPU cluster (Narayanan et al. 2021, eq. 4).",
        description=(
            "Estimate end-to-end training time as 8*T*P/(n*X) (with activation recomputation) or 6*T*P/(n*X) "
            "(--no-recompute), for P parameters, T tokens, n GPUs and X achieved FLOP/s per GPU: either "
            "--flops-per-gpu X, or --gpu NAME --mfu M for a preset's peak dense BF16/FP16 throughput times the "
            "model FLOPs utilisation. Numbers accept 175e9 or 1.3B."
        ),
        epilog="Example: scalefit train-time --n-params 175B --n-tokens 300B --gpus 1024 --flops-per-gpu 140e12",
    )
    p.add_argument("--n-params", required=True, metavar="P", help="Model parameters, e.g. 175e9 or 175B.")
    p.add_argument("--n-tokens", required=True, metavar="T", help="Training tokens, e.g. 300e9 or 300B.")
    p.add_argument("--gpus", required=True, metavar="n", help="Number of GPUs.")
    p.add_argument("--flops-per-gpu", metavar="X", help="Achieved FLOP/s per GPU, e.g. 140e12.")
    p.add_argument("--gpu", metavar="NAME", help="GPU preset (A100, H100, H200, B200, V100, MI300X, ...), with --mfu.")
    p.add_argument("--mfu", metavar="M", help="Model FLOPs utilisation in (0, 1], with --gpu.")
    p.add_argument("--no-recompute", action="store_true", help="Count 6*N*D FLOPs (no activation recomputation) instead of 8*N*D.")
    p.add_argument("--price-per-gpu-hour", metavar="$", help="Price of one GPU-hour; adds the cost.")
    p.add_argument("--json", action="store_true", help="Write one JSON object (n_params, n_tokens, flops, days, gpu_hours[, cost]).")
    p.set_defaults(func=run, api_names=("n_gpus", "flops_per_gpu", "gpu", "mfu", "price_per_gpu_hour"))


def run(args: argparse.Namespace) -> int:
    from ..plan import training_cost, training_time

    def one(text: str | None, option: str):
        values = parse_numbers(text, option, many=False)
        return None if values is None else values[0]

    n_gpus = one(args.gpus, "--gpus")
    kwargs = dict(
        n_gpus=int(n_gpus) if n_gpus is not None and float(n_gpus).is_integer() else n_gpus,
        flops_per_gpu=one(args.flops_per_gpu, "--flops-per-gpu"),
        gpu=args.gpu,
        mfu=one(args.mfu, "--mfu"),
        recompute=not args.no_recompute,
    )
    n_params, n_tokens = one(args.n_params, "--n-params"), one(args.n_tokens, "--n-tokens")
    price = one(args.price_per_gpu_hour, "--price-per-gpu-hour")
    if price is not None:
        est = training_cost(n_params, n_tokens, price_per_gpu_hour=price, **kwargs)
    else:
        est = training_time(n_params, n_tokens, **kwargs)
    if args.json:
        emit_json(est.to_dict())
    else:
        print(est)
    return 0
