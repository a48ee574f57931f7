"""``scalefit compare RUNS``: which law extrapolates best to the largest runs?"""
from __future__ import annotations

import argparse

from ._common import add_objective_arguments, add_runs_arguments, load_runs, show


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="Fit several laws on the smaller runs and score their extrapolation to the larger ones.",
        description=(
            "Hold out the runs above a FLOP or parameter threshold (or the top fraction by compute), fit each "
            "law on the rest, and report mean/max absolute percentage error and bias on the held-out runs, "
            "plus AIC/BIC on all runs."
        ),
    )
    add_runs_arguments(p)
    p.add_argument("--laws", default="chinchilla,chinchilla-tied,kaplan-nd", help="Comma-separated law names.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--holdout-flops", type=float, default=None, help="Hold out runs with more FLOPs than this.")
    g.add_argument("--holdout-params", type=float, default=None, help="Hold out runs with more parameters than this.")
    g.add_argument("--holdout-fraction", type=float, default=None, help="Hold out this fraction of runs with the most compute (default 0.2).")
    g.add_argument("--train-rows", default=None, metavar="ROWS",
                   help="Fixed training set: comma-separated 0-based input row numbers (ranges a-b allowed); the rest is held out.")
    add_objective_arguments(p)
    p.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import compare

    runs = load_runs(args)
    if args.final:
        runs = runs.final()
    laws = [s.strip() for s in args.laws.split(",") if s.strip()]
    res = compare(runs, laws, holdout_flops=args.holdout_flops, holdout_params=args.holdout_params,
                  holdout_fraction=args.holdout_fraction, train_rows=_rows(args.train_rows), loss=args.loss,
                  delta=args.delta, space=args.space)
    return show(res, args, runs)


def _rows(text: str | None) -> list[int] | None:
    from .._errors import ScalefitInputError

    if text is None:
        return None
    out: list[int] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        lo, sep, hi = item.partition("-")
        try:
            out.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
        except ValueError:
            raise ScalefitInputError(f"--train-rows: {item!r} is not a row number or a range a-b.") from None
    return out
