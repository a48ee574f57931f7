"""The ``scalefit`` command line.

Each subcommand lives in its own module ``scalefit/cli/_<name>.py`` that
defines ``register(subparsers)``.  The CLI only calls the public API.

Exit codes: 0 success, 2 bad input (message on stderr), 1 internal error.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Sequence

# Subcommand modules, in the order --help lists them.
_SUBCOMMANDS = ("demo", "inspect", "fit", "compare", "isoflop", "envelope", "plan", "train_time", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalefit",
        description="Fit neural scaling laws to training runs, plan compute, and write reports.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"scalefit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}._{name}")
        except ModuleNotFoundError as exc:  # subcommand not built yet
            if exc.name == f"{__name__}._{name}":
                continue
            raise
        mod.register(sub)
    return parser


# The library's messages name API options; on the command line, name the flags instead.
_CLI_WORDS = (
    (r" \(CLI:? [^)]*\)", ""),
    (r"nan_policy='omit'", "--nan-policy omit"),
    (r"drop_duplicates=True", "--drop-duplicates"),
    (r"read_runs\(\.\.\., run_id=\[[^\]]*\]\)", "--run-id COLS"),
    (r"run_id=\[[^\]]*\]", "--run-id COLS"),
    (r"final_only=True", "--final-only"),
    (r"best_per_size=True", "--best-per-size"),
    (r"group_by=\[[^\]]*\]", "--group-by COLS"),
    (r"budget='<column>'", "--budget-col COL"),
    (r"fixed=\{\.\.\.\}", "--fix NAME=VALUE"),
    (r"loss_unit='bits'", "--loss-unit bits"),
    (r"exclude_flags=\(\)", "--keep-flagged"),
    (r"runs\.final\(\)", "the final checkpoints (--final)"),
    (r"(?:read_runs\(\.\.\., )?columns=\{'([^']*)': '([^']*)'\}\)?", r"--columns '\1=\2'"),
)


def for_cli(text: str) -> str:
    """Rewrite API option names in a library message as the CLI flags that set them."""
    import re

    for pattern, repl in _CLI_WORDS:
        text = re.sub(pattern, repl, text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    from .._errors import FitError, ScalefitInputError, ScalefitWarning

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2

    def _show(message, category, filename, lineno, file=None, line=None):
        name = category.__name__
        print(f"warning ({name}): {for_cli(str(message))}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", ScalefitWarning)
        warnings.showwarning = _show
        try:
            return int(args.func(args) or 0)
        except ScalefitInputError as exc:
            print(f"scalefit {args.command}: error: {for_cli(str(exc))}", file=sys.stderr)
            return 2
        except FitError as exc:
            print(f"scalefit {args.command}: fit failed: {exc}", file=sys.stderr)
            return 1
        except FileExistsError as exc:
            print(f"scalefit {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130
        except Exception as exc:  # noqa: BLE001 - internal error, exit 1 with a traceback hint
            import traceback

            traceback.print_exc()
            print(f"scalefit {args.command}: internal error: {exc!r}", file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
