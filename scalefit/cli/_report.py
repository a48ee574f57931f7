"""``scalefit report RUNS --out report.html``: one self-contained HTML report."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_loss_argument, add_runs_arguments, check_out_path, load_runs, report_excluded


def add_report_options(p: argparse.ArgumentParser, *, bootstrap_default: int) -> None:
    p.add_argument("--law", default="chinchilla", help="Law of the parametric fit (default chinchilla).")
    p.add_argument("--bootstrap", type=int, default=bootstrap_default, metavar="N", help=f"Bootstrap resamples (default {bootstrap_default}; 0 for none).")
    p.add_argument("--seed", type=int, default=0, help="Seed of every bootstrap (default 0).")
    p.add_argument("--jobs", type=int, default=-1, help="Processes that render the figures and workers for the fit's bootstrap (default -1: every core for the figures; the bootstrap uses as many as its work pays for).")
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
    a = p.add_argument_group("analysis (as in isoflop, envelope, fit and plan)")
    a.add_argument("--budget-col", default=None, metavar="COL", help="Column holding each run's FLOP budget for Approach 2 (default: cluster the flops column).")
    a.add_argument("--method", choices=("profile", "nearest", "parabola", "cubic"), default="profile",
                   help="How Approach 2 finds each budget's minimum (default profile; see scalefit isoflop --help).")
    a.add_argument("--group-by", default=None, metavar="COLS", help="Columns naming configurations; a report covers one, so the runs must hold a single group (select it with --exclude-value).")
    add_loss_argument(a, ("huber", "mse", "huber-likelihood", "huber-asymmetric"), "Objective of the parametric fit (default huber).")
    a.add_argument("--delta", type=float, default=1e-3, help="Huber threshold (default 1e-3).")
    a.add_argument("--flops", default=None, metavar="C[,C...]", help="Budgets (FLOPs) of the plan, e.g. 1e23,5.76e23 (default: from the largest run up 1,000-fold, plus 5.76e23).")
    f = p.add_argument_group("figures")
    f.add_argument("--dpi", type=int, default=100, help="Resolution of the figures in the HTML (default 100) and of PNGs in --figures-dir (default 200).")
    f.add_argument("--figures-dir", default=None, metavar="DIR", help="Also save every figure as PNG, SVG and PDF in DIR (for a paper).")
    p.set_defaults(func=run, api_names=("n_gpus", "gpu", "mfu", "price_per_gpu_hour"))


def _cols(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def hardware(args: argparse.Namespace) -> dict:
    return dict(n_gpus=args.gpus, gpu=args.gpu, mfu=args.mfu, price_per_gpu_hour=args.price_per_gpu_hour)


def _budgets(text: str | None) -> list[float] | None:
    from .._errors import ScalefitInputError

    if not text:
        return None
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ScalefitInputError(f"--flops {text!r}: give FLOP budgets as numbers separated by commas, e.g. 1e23,5.76e23.",
                                 option="budgets") from None
    if not vals or any(not (v > 0 and v < float("inf")) for v in vals):
        raise ScalefitInputError(f"--flops {text!r}: every budget must be a positive finite number of FLOPs.", option="budgets")
    return sorted(set(vals))


def run(args: argparse.Namespace) -> int:
    from ..report import build_report, check_options  # numpy only: pandas and matplotlib come with the runs and figures

    out = Path(args.out)
    check_out_path(args.out, force=args.force)
    budgets = _budgets(args.flops)
    figdir = Path(args.figures_dir) if args.figures_dir else None
    if figdir is not None and figdir.exists() and not figdir.is_dir():
        from .._errors import ScalefitInputError

        raise ScalefitInputError(f"--figures-dir {figdir} is a file; give a folder.", option="figures_dir")
    check_options(law=args.law, seed=args.seed, n_jobs=args.jobs, bootstrap=args.bootstrap, hardware=hardware(args),
                  dpi=args.dpi)
    from .. import read_runs
    from ._messages import cli_message

    runs = load_runs(args)
    curves = None
    if args.curves:
        rid = [c.strip() for c in args.curves_run_id.split(",")] if args.curves_run_id else None
        curves = read_runs(args.curves, run_id=rid)
    rep = build_report(runs, curves=curves, law=args.law, bootstrap=args.bootstrap, seed=args.seed,
                       hardware=hardware(args), n_jobs=args.jobs, budgets=budgets, budget=args.budget_col,
                       method=args.method, group_by=_cols(args.group_by), loss=args.loss, delta=args.delta,
                       wording=cli_message, dpi=args.dpi)
    if figdir is not None and not args.force:  # refused before the report is written, not after
        from ..report import check_figure_files

        check_figure_files(rep, figdir)
    rep.write(out, overwrite=args.force)  # refuses a file that appeared while the report was built
    if figdir is not None:
        saved = rep.save_figures(figdir, dpi=max(args.dpi, 200), overwrite=args.force)
        print(f"wrote {len(saved)} figure files to {figdir}")
    report_excluded(runs)
    import sys

    # what the summary says first, also said here (--quiet keeps it out): sections left out, and why; warnings that matter
    for section, why in rep.skipped.items():
        print(f"note: left out of the report: {section}: {why}", file=sys.stderr)
    for text in rep.warnings_that_matter():
        print(f"warning: {text}", file=sys.stderr)
    print(f"wrote {out}")
    return 0
