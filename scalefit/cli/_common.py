"""Shared pieces of the CLI: reading runs, printing exclusions, writing JSON."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


from .._io import Replace, write_json


def add_old_spelling(p: argparse.ArgumentParser, flag: str, *, dest: str, **kwargs: Any) -> None:
    """Accept ``flag``, a former spelling of an option, without listing it in ``--help`` (one spelling per option)."""
    p.add_argument(flag, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)


RUNS_HELP = ("CSV, TSV, JSON, JSONL or Parquet file of runs, '-' to read one from standard input, "
             "'mlflow://HOST:PORT/EXPERIMENT' for an MLflow tracking server, a folder of TensorBoard event files, or "
             "'synthetic:isoflop' / 'synthetic:curves' for the bundled examples.")


def add_runs_arguments(p: argparse.ArgumentParser, *, run_id: bool = True) -> None:
    """Add the RUNS positional and the ingestion options every subcommand shares."""
    p.add_argument("runs", metavar="RUNS", help=RUNS_HELP)
    add_ingestion_arguments(p, run_id=run_id)


def add_ingestion_arguments(p: Any, *, run_id: bool = True) -> None:
    """Add how runs are read (--columns, --run-id, --nan-policy, --loss-unit, --drop-duplicates, --exclude...).

    ``p`` is a parser or an argument group; the runs themselves come from ``args.runs`` (:func:`load_runs`).
    """
    p.add_argument(
        "--columns",
        default=None,
        metavar="OLD=NEW,...",
        help="Map source columns to canonical ones (n_params, n_tokens, flops, loss, step), e.g. 'Model Size=n_params'.",
    )
    if run_id:
        p.add_argument("--run-id", default=None, metavar="COLS", help="Comma-separated columns that identify a run (training curves).")
    p.add_argument("--nan-policy", choices=("raise", "omit"), default="raise", help="What to do with NaN/inf/non-positive values (default: raise).")
    p.add_argument("--loss-unit", choices=("nats", "bits"), default="nats", help="Unit of the loss column (bits are converted to nats).")
    p.add_argument("--drop-duplicates", action="store_true", help="Exclude exact duplicate rows (they are always reported).")
    p.add_argument("--exclude", action="append", default=[], metavar="EXPR",
                   help="Exclude rows where EXPR holds, e.g. \"loss > 4\" or \"qc == 'bad'\" (repeatable; each excluded row is listed with its reason).")
    p.add_argument("--exclude-value", action="append", default=[], metavar="COL=V[,V...]",
                   help="Exclude rows whose column COL equals one of the values, e.g. qc=bad (repeatable).")
    p.add_argument("--drop-highest", type=int, default=None, metavar="K",
                   help="Exclude the K rows with the highest loss (the Chinchilla replication drops 5).")


def ingestion_options_given(args: argparse.Namespace) -> list[str]:
    """The ingestion options given away from their defaults (for a subcommand whose RUNS is optional)."""
    given = [("--columns", args.columns is not None), ("--run-id", getattr(args, "run_id", None) is not None),
             ("--nan-policy", args.nan_policy != "raise"), ("--loss-unit", args.loss_unit != "nats"),
             ("--drop-duplicates", args.drop_duplicates), ("--exclude", bool(args.exclude)),
             ("--exclude-value", bool(args.exclude_value)), ("--drop-highest", args.drop_highest is not None)]
    return [flag for flag, on in given if on]


def parse_mapping(text: str | None, *, what: str = "--columns") -> dict[str, str]:
    """Parse 'a=b,c=d' into a dict; refuse malformed items and a name given twice with a clear message."""
    from .._errors import ScalefitInputError

    if not text:
        return {}
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ScalefitInputError(f"{what}: item {item!r} has no '='; write OLD=NEW, e.g. 'Model Size=n_params'.")
        k, v = item.split("=", 1)
        if k.strip() in out:
            raise ScalefitInputError(f"{what}: {k.strip()!r} is given twice ({k.strip()}={out[k.strip()]}, "
                                     f"{k.strip()}={v.strip()}); give each name once.", values=[k.strip()])
        out[k.strip()] = v.strip()
    return out


def load_runs(args: argparse.Namespace):
    """Read runs from the CLI arguments through the public API."""
    from .. import read_runs

    run_id = getattr(args, "run_id", None)
    if run_id:
        run_id = [c.strip() for c in run_id.split(",") if c.strip()]
    exclude: list[Any] = list(getattr(args, "exclude", None) or [])
    for item in getattr(args, "exclude_value", None) or []:
        if "=" not in item:
            from .._errors import ScalefitInputError

            raise ScalefitInputError(f"--exclude-value {item!r} has no '='; write COL=VALUE, e.g. qc=bad.", option="exclude")
        col, values = item.split("=", 1)
        exclude.append({col.strip(): [v.strip() for v in values.split(",")]})
    try:
        return read_runs(
            args.runs,  # read_runs also knows 'synthetic:isoflop' / 'synthetic:curves'
            columns=parse_mapping(args.columns) or None,
            run_id=run_id,
            nan_policy=args.nan_policy,
            loss_unit=args.loss_unit,
            drop_duplicates=args.drop_duplicates,
            exclude=exclude or None,
            drop_highest=getattr(args, "drop_highest", None),
        )
    except ImportError as exc:  # an optional reader (Parquet: pyarrow) is missing; one line, not a traceback
        from .._errors import ScalefitInputError
        from ._messages import install_hint, missing_package

        if install_hint(exc) is None:
            raise
        raise ScalefitInputError(missing_package(f"reading {args.runs!r}", exc), values=[args.runs]) from exc


_LISTED_PER_REASON = 10


def report_excluded(runs, *, file=None) -> None:
    """Print every excluded row and why (the CLI never drops rows silently)."""
    file = file or sys.stderr
    ex = runs.excluded
    if ex is None or len(ex) == 0:
        return
    print(f"excluded {len(ex)} row(s):", file=file)
    groups = ex.groupby("reason", sort=False)["row"]
    if groups.size().max() <= _LISTED_PER_REASON:
        for _, r in ex.iterrows():
            print(f"  {runs.format_rows([int(r['row'])])}: {r['reason']}", file=file)
        return
    for reason, rows in groups:  # a history export sets aside hundreds of rows for one reason: one line
        listed = [int(x) for x in rows]
        if len(listed) <= _LISTED_PER_REASON:
            for row in listed:
                print(f"  {runs.format_rows([row])}: {reason}", file=file)
        else:
            print(f"  {len(listed)} rows ({runs.format_rows(listed)}): {reason}", file=file)


def check_out_path(path: str | None, *, force: bool, what: str = "--out") -> None:
    """Refuse an output path before any work is done: a folder, a missing parent, or an existing file without --force."""
    from .._errors import ScalefitInputError

    if not path:
        return
    p = Path(path)
    if p.is_symlink() and not force:
        raise ScalefitInputError(
            f"{what} {path} is a symbolic link (to {os.readlink(p)}); scalefit does not write through links. "
            "Pass --force to replace the link itself with the file, or choose another path."
        )
    if p.is_dir():
        raise ScalefitInputError(f"{what} {path} is a folder; give a file path such as {p / 'out.json'}.")
    if not p.parent.exists() or not p.parent.is_dir():
        raise ScalefitInputError(f"{what} {path}: the folder {p.parent} does not exist; create it first or choose another path.")
    if p.exists() and not force:
        raise ScalefitInputError(f"{what} {path} exists; pass --force to overwrite it or choose another path.")


def show(result: Any, args: Any, runs: Any) -> int:
    """Print a result (its JSON with ``--json``, else its summary) and the rows excluded from ``runs``; exit code 0."""
    if args.json:
        emit_json(result.to_dict())
    else:
        print(result.summary())
    report_excluded(runs)
    return 0


def emit_json(obj: Any, *, out: str | None = None, replace: Replace = "never") -> None:
    """Print one JSON object to stdout, or write it to ``out`` (atomically, marked as scalefit's; see :mod:`scalefit._io`)."""
    if out:
        write_json(out, obj, replace=replace)
    else:
        from .._json import jsonable  # imported late: --help stays fast

        sys.stdout.write(json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n")



def add_loss_argument(p: argparse.ArgumentParser, names: tuple[str, ...], text: str) -> None:
    """--loss: one of ``names``, or ``huber-asymmetric:K`` where the names allow it (checked by the library's fit)."""
    metavar = "{" + ",".join(n + ("[:K]" if n == "huber-asymmetric" else "") for n in names) + "}"

    def loss(value: str) -> str:
        name = value.partition(":")[0]
        if name not in names or (value != name and name != "huber-asymmetric"):
            raise argparse.ArgumentTypeError(f"choose from {metavar}; got {value!r}")
        return value

    if "huber-asymmetric" in names:
        text += (" huber-asymmetric: Huber with over-predictions weighted 10x (OLMo's ladder fitter); "
                 "huber-asymmetric:K weights them Kx.")
    p.add_argument("--loss", type=loss, default="huber", metavar=metavar, help=text)


def add_objective_arguments(p: argparse.ArgumentParser) -> None:
    """--final, --loss, --delta and --space: what the subcommands that refit laws (compare, backtest) share."""
    p.add_argument("--final", action="store_true", help="For training curves, use the last checkpoint of each run.")
    add_loss_argument(p, ("huber", "mse", "huber-asymmetric"), "Objective of the refits (default huber).")
    p.add_argument("--delta", type=float, default=1e-3)
    p.add_argument("--space", choices=("log", "linear"), default="log", help="Fit log-loss (default) or loss.")
