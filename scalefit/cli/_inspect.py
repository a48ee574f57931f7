"""``scalefit inspect RUNS``: summarise what scalefit reads from a file of runs."""
from __future__ import annotations

import argparse

from ._common import add_runs_arguments, emit_json, load_runs, report_excluded


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "inspect",
        help="Summarise a file of runs: counts, ranges, columns mapped and derived, duplicates, exclusions.",
        description=(
            "Read RUNS as every other command would and summarise it: row and run counts, ranges of "
            "N, D, C and loss, the columns mapped and derived, duplicate rows, and rows excluded and "
            "why. RUNS may also be 'synthetic:isoflop' or 'synthetic:curves' for the bundled "
            "synthetic examples."
        ),
    )
    add_runs_arguments(p)
    p.add_argument("--final", action="store_true", help="Summarise only the last checkpoint of each run.")
    p.add_argument("--json", action="store_true", help="Write one JSON object to stdout instead of text.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    runs = load_runs(args)
    if args.final:
        runs = runs.final()
    summary = runs.summary()
    if args.json:
        emit_json(summary.to_dict())
    else:
        print(summary)
    report_excluded(runs)
    return 0
