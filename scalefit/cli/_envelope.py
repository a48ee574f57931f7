"""``scalefit envelope RUNS --run-id COLS``: minimum over training curves (Approach 1 of Hoffmann et al., 2022)."""
from __future__ import annotations

import argparse

from ._common import add_old_spelling, add_runs_arguments, check_out_path, load_runs
from ._isoflop import add_result_arguments, print_result


def _number(text: str) -> float:
    from .._numbers import parse_number

    try:
        return parse_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (write e.g. 1e9 or 1B)") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "envelope",
        help="Envelope analysis (Approach 1): lowest loss over training curves at each FLOP value.",
        description=(
            "From training curves (rows identified by --run-id), take at each FLOP value the run with the "
            "lowest (interpolated) loss, and fit N_opt = k_n C^a and D_opt = k_d C^b along that envelope, "
            "with intervals from resampling whole runs. --final (formerly --final-only) uses each run's last checkpoint only: an "
            "intermediate checkpoint of a decaying learning-rate schedule is not a fair point."
        ),
        epilog="Example: scalefit envelope curves.csv --run-id model,peak_lr,total_steps --min-fraction 0.1 --json",
    )
    add_runs_arguments(p)
    p.add_argument("--final", dest="final_only", action="store_true", help="Use only each run's final checkpoint.")
    add_old_spelling(p, "--final-only", dest="final_only", action="store_true")
    p.add_argument("--min-tokens", type=_number, default=None, metavar="X", help="Drop checkpoints that saw fewer tokens (e.g. 1e9 or 1B).")
    p.add_argument("--min-fraction", type=float, default=None, metavar="F", help="Drop checkpoints before this fraction (0-1) of their run.")
    p.add_argument("--n-grid", type=int, default=200, help="Log-spaced FLOP values on which curves are compared (default 200).")
    p.add_argument("--keep-edge", action="store_true", help="Also fit envelope points won by the smallest or largest model covering them.")
    add_result_arguments(p, resamples="whole runs", json_keys="a, b, k_n, k_d, intervals, optima, dropped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..approaches import envelope

    check_out_path(args.out, force=args.force)
    runs = load_runs(args)
    res = envelope(
        runs,
        n_grid=args.n_grid,
        final_only=args.final_only,
        min_tokens=args.min_tokens,
        min_fraction=args.min_fraction,
        exclude_flags=() if args.keep_edge else ("edge",),
        bootstrap=args.bootstrap,
        level=args.level,
        seed=args.seed,
    )
    return print_result(res, runs, args)
