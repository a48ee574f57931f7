"""``scalefit design``: which runs to train, for the most precise forecast at a target budget."""
from __future__ import annotations

import argparse

from ._common import (
    RUNS_HELP,
    add_ingestion_arguments,
    add_old_spelling,
    check_out_path,
    emit_json,
    ingestion_options_given,
    load_runs,
    parse_mapping,
    report_excluded,
)
from ._plan import _numbers_in, parse_numbers


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "design",
        help="Choose the training runs that best predict the compute-optimal model at a target budget.",
        description=(
            "Simulation-based experiment design: draw laws from the prior (default: the published Chinchilla fits "
            "with their errors), simulate candidate IsoFLOP designs with 1% noise, fit each with scalefit's engine, "
            "and keep the design with the smallest expected error at --target-flops. With --runs (runs already "
            "trained), suggest the next runs and how much each shrinks the target interval. Numbers accept 1e21 or 70B."
        ),
        epilog="Example: scalefit design --target-flops 1e24 --experiment-flops 1e21 --n-sims 32",
    )
    p.add_argument("--target-flops", required=True, metavar="C", help="Compute of the model being planned, e.g. 1e24.")
    p.add_argument("--experiment-flops", required=True, metavar="C", help="Total compute for the experiments, e.g. 1e21.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--params", metavar="E=..,A=..,B=..,alpha=..,beta=..", help="A prior concentrated on one Chinchilla law.")
    src.add_argument("--runs", metavar="RUNS", help=f"Runs already trained: suggest the next runs. {RUNS_HELP}")
    add_ingestion_arguments(p.add_argument_group("reading --runs (as `scalefit fit` reads RUNS)"))
    p.add_argument("--n-runs", type=int, metavar="K", help="Exactly K runs (with --runs: K next runs; default 3).")
    p.add_argument("--budgets", metavar="C[,C...]", help="Use these IsoFLOP budgets.")
    p.add_argument("--min-params", default="1e6", metavar="N", help="Smallest model size to propose (default 1e6).")
    p.add_argument("--max-params", metavar="N", help="Largest model size to propose.")
    p.add_argument("--objective", choices=("n_opt", "d_opt", "loss", "a"), default="n_opt",
                   help="Quantity at the target whose error is minimised (default n_opt).")
    p.add_argument("--noise", default="0.01", metavar="S", help="Relative noise of a run's loss (default 0.01).")
    p.add_argument("--n-sims", type=int, default=64, metavar="S", help="Simulations per finalist design (default 64).")
    p.add_argument("--seed", type=int, default=0, help="Seed (results are identical for a seed whatever --jobs).")
    p.add_argument("--jobs", dest="n_jobs", type=int, default=-1, help="Parallel workers (default: all cores).")
    add_old_spelling(p, "--n-jobs", dest="n_jobs", type=int)
    p.add_argument("--out", metavar="FILE.csv", help="Write the runs to train as CSV.")
    p.add_argument("--force", action="store_true", help="Overwrite --out if it exists.")
    p.add_argument("--json", action="store_true", help="Write the whole design as one JSON object.")
    p.set_defaults(func=run, api_names=("n_sims", "noise", "seed", "n_jobs", "min_params", "max_params", "n_runs"))


def run(args: argparse.Namespace) -> int:
    from .. import design
    from .._errors import ScalefitInputError
    from .._validation import check_seed

    def one(text: str, option: str) -> float:
        return _numbers_in(text, option, many=False)[0]

    check_out_path(args.out, force=args.force)
    check_seed(args.seed, where="design")  # design() hands it to numpy unchecked: -1 was an internal error
    prior = runs = None
    if args.params is not None:
        raw = parse_mapping(args.params, what="--params")
        if not raw:
            raise ScalefitInputError("--params is empty; write E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28.")
        prior = {k: _numbers_in(v, f"--params {k}", many=False)[0] for k, v in raw.items()}
    elif args.runs is not None:
        prior = runs = load_runs(args)
    if args.runs is None and ingestion_options_given(args):
        given = ingestion_options_given(args)
        raise ScalefitInputError(f"{', '.join(given)} {'says' if len(given) == 1 else 'say'} how to read --runs; "
                                 "give --runs FILE (the runs already trained), or leave "
                                 f"{'it' if len(given) == 1 else 'them'} out.", values=given)
    result = design(
        one(args.target_flops, "--target-flops"), one(args.experiment_flops, "--experiment-flops"),
        prior=prior, n_runs=args.n_runs, budgets=parse_numbers(args.budgets, "--budgets"),
        min_params=one(args.min_params, "--min-params"), max_params=None if args.max_params is None else one(args.max_params, "--max-params"),
        objective=args.objective, noise=one(args.noise, "--noise"), n_sims=args.n_sims, seed=args.seed,
        n_jobs=args.n_jobs,
    )
    if args.out:
        result.to_frame().to_csv(args.out, index=False)
    if args.json:
        emit_json(result.to_dict())
    else:
        print(result.summary())
    if runs is not None:
        report_excluded(runs)
    return 0
