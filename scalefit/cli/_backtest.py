"""``scalefit backtest RUNS``: rolling-origin forecasts of the larger runs from the smaller ones."""
from __future__ import annotations

import argparse

from ._common import add_objective_arguments, add_runs_arguments, load_runs, show
from ._fit import LAW_HELP


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="Fit each law below a scale and forecast the next scale up, repeatedly; score errors and intervals.",
        description=(
            "Rolling-origin backtest: sort the runs by --by (flops, n_params or a column), fit each law on the "
            "runs below an origin and forecast the runs at the next --horizon levels (never fitting a held-out run "
            "or any checkpoint of its curve). Reports per-law mean/max error, bias, prediction-interval coverage "
            "and width; --json holds every per-run row. The law 'auto' chooses its law on each origin's "
            "training runs only."
        ),
    )
    add_runs_arguments(p)
    p.add_argument("--laws", default="chinchilla,auto",
                   help=f"Comma-separated law names (default chinchilla,auto): 'auto' or any of {LAW_HELP}.")
    p.add_argument("--by", default="flops", help="Scale to backtest along: flops (default), n_params or a column.")
    p.add_argument("--origin", action="append", type=float, default=None, metavar="SCALE",
                   help="Explicit origin: fit below SCALE, forecast at and above it (repeatable).")
    p.add_argument("--horizon", default="1", help="Levels forecast from each origin (default 1), or 'all'.")
    p.add_argument("--min-train", type=int, default=3, help="Fewest scale levels a default origin trains on (default 3).")
    p.add_argument("--max-origins", type=int, default=4, help="Most default origins, the largest kept (default 4).")
    p.add_argument("--levels", default="0.8,0.95", help="Prediction-interval levels (default 0.8,0.95).")
    p.add_argument("--n-boot", type=int, default=100, help="Bootstrap resamples per fit for the intervals (default 100).")
    p.add_argument("--no-intervals", action="store_true", help="Point forecasts only (faster).")
    p.add_argument("--no-extrapolation", action="store_true",
                   help="Intervals without the extrapolation error per decade measured by an inner backtest on each "
                        "origin's training runs (bootstrap and residual noise only).")
    add_objective_arguments(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="Print one JSON object (with every per-run row) instead of text.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import backtest
    from .._errors import ScalefitInputError

    runs = load_runs(args)
    if args.final:
        runs = runs.final()
    laws = [s.strip() for s in args.laws.split(",") if s.strip()]
    if args.horizon.strip().lower() == "all":
        horizon = None
    else:
        try:
            horizon = int(args.horizon)
        except ValueError:
            raise ScalefitInputError(f"--horizon must be a positive integer or 'all'; got {args.horizon!r}.") from None
    try:
        levels = [float(x) for x in args.levels.split(",") if x.strip()]
    except ValueError:
        raise ScalefitInputError(f"--levels must be comma-separated numbers such as 0.8,0.95; got {args.levels!r}.") from None
    res = backtest(runs, laws, by=args.by, origins=args.origin, min_train=args.min_train, horizon=horizon,
                   max_origins=args.max_origins, levels=levels, n_boot=args.n_boot, loss=args.loss, delta=args.delta,
                   space=args.space, seed=args.seed, intervals=not args.no_intervals,
                   extrapolation=not args.no_extrapolation, progress=not args.quiet)
    return show(res, args, runs)
