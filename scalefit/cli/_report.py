"""``scalefit report RUNS --out report.html``: one self-contained HTML report."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_runs_arguments, check_out_path, load_runs, report_excluded


def add_report_options(p: argparse.ArgumentParser, *, bootstrap_default: int) -> None:
    p.add_argument("--law", default="chinchilla", help="Law of the parametric fit (default chinchilla).")
    p.add_argument("--bootstrap", type=int, default=bootstrap_default, metavar="N", help=f"Bootstrap resamples (default {bootstrap_default}; 0 for none).")
    p.add_argument("--seed", type=int, default=0, help="Seed of every bootstrap (default 0).")
    p.add_argument("--jobs", type=int, default=-1, help="Parallel workers for the fit's bootstrap (default: all cores).")
    p.add_argument("--gpus", type=int, default=1024, help="GPUs for the training-time table (default 1024).")
    p.add_argument("--gpu", default="H100-SXM", help="GPU preset for the training-time table (default H100-SXM; see scalefit.gpu_presets()).")
    p.add_argument("--mfu", type=float, default=0.4, help="Model FLOP utilisation (default 0.4).")
    p.add_argument("--price-per-gpu-hour", type=float, default=2.5, help="Price per GPU-hour for the cost column (default 2.5).")
    p.add_argument("--force", action="store_true", help="Overwrite the output if it exists.")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="Write a self-contained HTML report: data, fit, the three approaches, a plan, and figures.",
        description=(
            "Fit the law (with a bootstrap), run the IsoFLOP and training-curve analyses the data support, "
            "plan compute-optimal runs, and write everything with its figures into one HTML file that needs "
            "nothing else to open."
        ),
    )
    add_runs_arguments(p)
    p.add_argument("--out", required=True, metavar="FILE", help="Path of the HTML file to write.")
    p.add_argument("--curves", default=None, metavar="FILE", help="Training curves for Approach 1 when RUNS holds final points only.")
    p.add_argument("--curves-run-id", default=None, metavar="COLS", help="Columns identifying a run in --curves.")
    add_report_options(p, bootstrap_default=1000)
    p.set_defaults(func=run)


def hardware(args: argparse.Namespace) -> dict:
    return dict(n_gpus=args.gpus, gpu=args.gpu, mfu=args.mfu, price_per_gpu_hour=args.price_per_gpu_hour)


def run(args: argparse.Namespace) -> int:
    from .. import read_runs
    from ..report import build_report

    out = Path(args.out)
    check_out_path(args.out, force=args.force)
    runs = load_runs(args)
    curves = None
    if args.curves:
        rid = [c.strip() for c in args.curves_run_id.split(",")] if args.curves_run_id else None
        curves = read_runs(args.curves, run_id=rid)
    rep = build_report(runs, curves=curves, law=args.law, bootstrap=args.bootstrap, seed=args.seed,
                       hardware=hardware(args), n_jobs=args.jobs)
    rep.write(out, overwrite=args.force)  # refuses a file that appeared while the report was built
    report_excluded(runs)
    print(f"wrote {out}")
    return 0
