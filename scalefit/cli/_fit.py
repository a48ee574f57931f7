"""``scalefit fit RUNS``: fit a scaling law, print a summary or JSON, optionally bootstrap."""
from __future__ import annotations

import argparse
import sys

from ._common import add_loss_argument, add_runs_arguments, check_out_path, emit_json, load_runs, parse_mapping, report_excluded, show

#: The built-in laws as ``--law`` / ``--laws`` list them, each with its source (a literal, so that ``--help``
#: imports no numerics; tests/test_cli_laws.py checks it names every law of :func:`scalefit.available_laws`).
LAWS = (
    ("chinchilla", "Hoffmann et al. 2022, E + A/N^alpha + B/D^beta"),
    ("chinchilla-tied", "the same with alpha = beta"),
    ("data-constrained", "Muennighoff et al. 2023, repeated data"),
    ("kaplan-n, kaplan-d, kaplan-c, kaplan-n-e, kaplan-d-e, kaplan-c-e, kaplan-nd", "Kaplan et al. 2020; -e adds E"),
    ("over-training", "Gadre et al. 2024 eq. 4, L(C, M) with C = 6ND and M = D/N; a tokens_per_param column is read"),
    ("bnsl", "Caballero et al. 2022, broken power law in FLOPs, one break"),
    ("saturating", "E + A C^-alpha in FLOPs"),
    ("m1, m2, m3, m4", "Alabdulmohsin et al. 2022 learning curves in tokens; m1-flops ... m4-n-params in FLOPs or parameters"),
)
LAW_HELP = "; ".join(f"{names} ({source})" for names, source in LAWS)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fit",
        help="Fit a scaling law (default: Chinchilla, Huber on log-loss) and print its summary.",
        description=(
            "Fit a scaling law to RUNS by minimising the sum of Huber(delta) (or r^2/2) of the residuals "
            "of log-loss, as Hoffmann et al. (2022). With --bootstrap N, resample runs N times and report "
            "bootstrap standard errors and 80%/95% percentile intervals. RUNS may be 'synthetic:isoflop'."
        ),
    )
    add_runs_arguments(p)
    p.add_argument("--law", default="chinchilla",
                   help=f"Law name: {LAW_HELP}; or 'auto' (chosen by a backtest on the runs' own largest scales).")
    p.add_argument("--auto-by", default="flops", help="With --law auto: the scale the choice backtests along (default flops).")
    add_loss_argument(p, ("huber", "mse", "huber-likelihood", "huber-asymmetric"),
                      "Loss on residuals (default huber); huber-likelihood: the maximum-likelihood fit of Besiroglu et al. "
                      "(2024) with a fitted scale.")
    p.add_argument("--delta", type=float, default=1e-3, help="Huber threshold (default 1e-3).")
    p.add_argument("--space", choices=("log", "linear"), default="log", help="Fit log-loss (default) or loss.")
    p.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE", help="Hold a parameter fixed, e.g. E=1.69 (repeatable, or comma-separated).")
    p.add_argument("--tie", action="append", default=[], metavar="A=B", help="Tie parameters, e.g. alpha=beta (repeatable).")
    p.add_argument("--bound", action="append", default=[], metavar="NAME=LO:HI", help="Bounds on a parameter, e.g. alpha=0:1 (repeatable).")
    p.add_argument("--final", action="store_true", help="For training curves, fit the last checkpoint of each run only.")
    p.add_argument("--group-by", default=None, metavar="COLS",
                   help="Fit every group of runs (each distinct value of these comma-separated columns: a dataset, "
                        "an architecture, a recipe) with the --shared parameters common and the others per group, "
                        "so groups compare on one footing; prints each group's parameters.")
    p.add_argument("--shared", default=None, metavar="NAMES",
                   help="With --group-by: comma-separated parameters every group shares (default: the law's "
                        "exponents, alpha,beta for chinchilla).")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N", help="Bootstrap resamples (0: none).")
    p.add_argument("--sensitivity-flops", default=None, metavar="C,...",
                   help="Budgets at which to show how N* and D* move across objectives (default: 100x and 1000x the "
                        "largest run's FLOPs); 'none' to skip the sensitivity table.")
    p.add_argument("--seed", type=int, default=0, help="Seed of the bootstrap (default 0).")
    p.add_argument("--jobs", type=int, default=None,
                   help="Parallel workers for the bootstrap (default: chosen from the amount of work; -1 for all cores).")
    p.add_argument("--strict", action="store_true", help="Fail (exit 1) when the fit does not converge.")
    p.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")
    p.add_argument("--out", default=None, metavar="FILE", help="Also write the JSON (with bootstrap draws) to FILE, for `plan` and `report`.")
    p.add_argument("--force", action="store_true", help="Overwrite --out if it exists.")
    p.set_defaults(func=run)


def _names(text: str | None) -> list[str]:
    """'a, b' -> ['a', 'b'] (column or parameter names of --group-by and --shared)."""
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _parse_fixed(items) -> dict:
    from .._errors import ScalefitInputError

    out = {}
    for item in items:
        for k, v in parse_mapping(item, what="--fix").items():
            try:
                out[k] = float(v)
            except ValueError:
                raise ScalefitInputError(f"--fix {k}={v!r}: the value is not a number.") from None
    return out


def _parse_bounds(items) -> dict:
    from .._errors import ScalefitInputError

    out = {}
    for item in items:
        for k, v in parse_mapping(item, what="--bound").items():
            lo, sep, hi = v.partition(":")
            if not sep:
                raise ScalefitInputError(f"--bound {k}={v!r}: write LO:HI, e.g. alpha=0:1 (leave a side empty for no bound).")
            try:
                out[k] = (float(lo) if lo.strip() else None, float(hi) if hi.strip() else None)
            except ValueError:
                raise ScalefitInputError(f"--bound {k}={v!r}: bounds must be numbers.") from None
    return out


def fit_payload(result, boot=None, *, levels=(0.8, 0.95), samples: bool = False, sensitivity=None) -> dict:
    """The JSON object printed by ``scalefit fit --json`` (and written by ``--out``)."""
    d = result.to_dict() if boot is None else boot.fit_dict(levels, samples=samples)
    if sensitivity is not None:
        d["sensitivity"] = sensitivity.to_dict()
    return d


def run(args: argparse.Namespace) -> int:
    from .. import fit
    from .._validation import check_n_jobs, check_seed

    group_by = _names(args.group_by)
    if group_by and (args.bootstrap or args.out):  # refused before any work
        from .._errors import ScalefitInputError

        raise ScalefitInputError(
            "--group-by fits several groups at once; --bootstrap and --out take the fit of one law to one set "
            "of runs. Fit one group alone (--exclude-value COL=OTHER,...) to bootstrap or save it."
        )
    check_out_path(args.out, force=args.force)
    check_seed(args.seed)  # every option before any work, even those only a bootstrap uses
    if args.jobs is not None:
        check_n_jobs(args.jobs)
    runs = load_runs(args)
    if args.final:
        runs = runs.final()
    tie: list[str] = []
    for t in args.tie:
        tie.extend(x for x in t.split(",") if x.strip())
    result = fit(
        runs, args.law, loss=args.loss, delta=args.delta, space=args.space,
        fixed=_parse_fixed(args.fix) or None, tie=tie or None, bounds=_parse_bounds(args.bound) or None,
        strict=args.strict, auto_by=args.auto_by, group_by=group_by or None, shared=_names(args.shared) or None,
    )
    if group_by:  # a GroupFitResult: its summary has every group's parameters and the shared ones
        return show(result, args, runs)
    boot = None
    if args.bootstrap:
        boot = result.bootstrap(args.bootstrap, seed=args.seed, n_jobs=args.jobs, progress=False if args.json else None)
    sens = _sensitivity(args, result, boot, runs)
    if args.json:
        emit_json(fit_payload(result, boot, sensitivity=sens))
    else:
        print(result.summary())
        if boot is not None:
            print()
            print(boot.summary())
        if sens is not None:
            print()
            print(sens.summary())
    if args.out:
        emit_json(fit_payload(result, boot, samples=True, sensitivity=sens), out=args.out,
                  replace="any" if args.force else "never")
        print(f"wrote {args.out}", file=sys.stderr)
    report_excluded(runs)
    return 0


def _sensitivity(args: argparse.Namespace, result, boot, runs):
    """The sensitivity table at the requested (or default) budgets; None when skipped or not a Chinchilla form."""
    text = (args.sensitivity_flops or "").strip().lower()
    if text == "none":
        return None
    if text:
        from ._plan import parse_numbers

        budgets = parse_numbers(args.sensitivity_flops, "--sensitivity-flops")
    else:
        top = float(max(runs.flops))
        budgets = [100 * top, 1000 * top]
    return result.sensitivity(budgets, bootstrap=boot)
