"""``scalefit isoflop RUNS``: IsoFLOP analysis (Approach 2 of Hoffmann et al., 2022)."""
from __future__ import annotations

import argparse
import sys

from ._common import add_old_spelling, add_runs_arguments, check_out_path, emit_json, load_runs, report_excluded


def _columns(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "isoflop",
        help="IsoFLOP analysis (Approach 2): per-budget loss minima and N*, D* power laws in compute.",
        description=(
            "Group runs into FLOP budgets (from --budget-col, else by clustering the flops column), find "
            "the loss minimum over model size in each budget, and fit N* = k_n C^a and D* = k_d C^b with "
            "bootstrap intervals. Budgets whose minimum is at the edge of, or outside, the sampled sizes, or "
            "whose curve has no minimum, are flagged and left out of the fit (listed in the output)."
        ),
        epilog="Example: scalefit isoflop sweeps.csv --group-by dataset,hparams --json",
    )
    add_runs_arguments(p)
    p.add_argument("--group-by", default=None, metavar="COLS", help="Comma-separated columns: analyse each configuration separately.")
    p.add_argument("--budget-col", default=None, metavar="COL", help="Column holding each run's FLOP budget (default: cluster the flops column).")
    p.add_argument("--tolerance", type=float, default=0.1, help="Relative FLOP gap that splits clustered budgets (default 0.1).")
    p.add_argument("--min-points", type=int, default=3, help="Fewest runs a budget needs (default 3).")
    p.add_argument("--method", choices=("nearest", "parabola", "cubic"), default="nearest",
                   help="How each budget's minimum is found (default: parabola on the points nearest the lowest loss).")
    p.add_argument("--n-nearest", type=int, default=6, help="Points used by --method nearest (default 6).")
    p.add_argument("--best-per-size", action="store_true",
                   help="Within each budget keep only the lowest-loss run of each model size (e.g. best learning rate).")
    p.add_argument("--keep-flagged", action="store_true", help="Use flagged edge/off-centre budgets in the power-law fit too.")
    p.add_argument("--jobs", dest="n_jobs", type=int, default=1, help="Threads across groups (default 1; -1 for all cores).")
    add_old_spelling(p, "--n-jobs", dest="n_jobs", type=int)
    add_result_arguments(p, resamples="runs within each budget",
                         json_keys="a, b, k_n, k_d, intervals, optima; groups under --group-by")
    p.set_defaults(func=run)


def add_result_arguments(p: argparse.ArgumentParser, *, resamples: str, json_keys: str) -> None:
    """--bootstrap, --level, --seed and --json, shared by isoflop and envelope."""
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help=f"Resamples of {resamples} for intervals (0 for none; default 1000).")
    p.add_argument("--level", type=float, default=0.95, help="Interval level (default 0.95).")
    p.add_argument("--seed", type=int, default=0, help="Bootstrap seed (default 0).")
    p.add_argument("--json", action="store_true", help=f"Write one JSON object ({json_keys}) to stdout instead of text.")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="Also write the JSON to FILE (with the runs, curves and bootstrap samples: scalefit.load reads it back).")
    p.add_argument("--force", action="store_true", help="Overwrite --out if it exists.")


def print_result(res, runs, args: argparse.Namespace) -> int:
    """Print the result as JSON or text (and write the JSON to --out), then every row excluded on reading."""
    if args.out:
        emit_json(res.to_dict(), out=args.out, replace="any" if args.force else "never")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        emit_json(res.to_dict())
    else:
        print(res.summary())
        for group in getattr(res, "groups", {}).values():
            print()
            print(group.summary())
    report_excluded(runs)
    return 0


def run(args: argparse.Namespace) -> int:
    from ..approaches import isoflop

    check_out_path(args.out, force=args.force)
    runs = load_runs(args)
    res = isoflop(
        runs,
        budget=args.budget_col,
        group_by=_columns(args.group_by),
        min_points=args.min_points,
        tolerance=args.tolerance,
        method=args.method,
        n_nearest=args.n_nearest,
        best_per_size=args.best_per_size,
        exclude_flags=("non_convex",) if args.keep_flagged else ("edge", "off_center", "non_convex"),
        bootstrap=args.bootstrap,
        level=args.level,
        seed=args.seed,
        n_jobs=args.n_jobs,
    )
    return print_result(res, runs, args)
