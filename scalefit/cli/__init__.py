"""The ``scalefit`` command line.

Each subcommand lives in its own module ``scalefit/cli/_<name>.py`` that
defines ``register(subparsers)``.  The CLI only calls the public API.

``--quiet`` (every subcommand) sends what would go to standard error during the
work to the null device; errors are still printed.

Exit codes: 0 success, 2 bad input (message on stderr), 1 internal error;
141 (128 + SIGPIPE, quietly) when the reader of standard output closes it early
(``scalefit inspect RUNS | head -1``), as other Unix tools end.
Library errors and warnings are worded for the command line from their
``options`` (see :mod:`scalefit.cli._messages`): the flag replaces the API option.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import warnings
from typing import Sequence

# Subcommand modules, in the order --help lists them.
_SUBCOMMANDS = ("demo", "inspect", "fit", "compare", "backtest", "isoflop", "envelope", "plan", "design", "train_time", "report")


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
    for command in sub.choices.values():  # one --quiet for every subcommand
        command.add_argument("-q", "--quiet", action="store_true",
                             help="Print only the result and errors: no warnings, notes, progress bars or lists of excluded rows.")
    return parser


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (``except Exception`` does not catch it), then stop the workers."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_sigterm(signum, frame):
    raise _Terminated(signum)


def stop_workers() -> None:
    """Kill the joblib/loky worker processes, if any were started, so none outlives the command.

    Their resource trackers exit by themselves once no worker holds their pipe.
    """
    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; SIGTERM and SIGINT end it and its worker processes (exit 143 / 130)."""
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. main() called from a thread): leave signals alone
        pass
    try:
        code = _main(argv)
        sys.stdout.flush()  # a reader that closed the pipe shows here, while the exit code can still say so
        return code
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        return _quiet_broken_pipe()
    except _Terminated:
        stop_workers()
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        stop_workers()
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll reports POLLERR on its write end).

    Where poll cannot tell (no ``select.poll``, no file descriptor), it says no: the broken pipe is reported.
    """
    import select

    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
    except (AttributeError, OSError, ValueError):
        return False
    poller.register(fd, select.POLLOUT)
    return any(event & select.POLLERR for _, event in poller.poll(0))


def _quiet_broken_pipe() -> int:
    """Standard output was closed early (``| head``): point it at the null device and exit 141 without a word.

    The Python documentation's recipe (signal module, "Note on SIGPIPE"): the interpreter's own flush at exit
    would otherwise fail again and print "Exception ignored ... BrokenPipeError".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no real file descriptor (stdout replaced in-process)
        pass
    return 128 + 13  # 128 + SIGPIPE, as a shell reports a tool that SIGPIPE ended


def _main(argv: Sequence[str] | None = None) -> int:
    from .._errors import FitError, Option, ScalefitInputError, ScalefitWarning
    from ._messages import cli_message, install_hint, missing_package, render

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2

    implied = getattr(args, "api_names", ())  # the keywords the subcommand passes, for messages that list no options

    def _show(message, category, filename, lineno, file=None, line=None):
        print(f"warning ({category.__name__}): {cli_message(message, implied=implied)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", ScalefitWarning)
        warnings.showwarning = _show
        try:
            if getattr(args, "quiet", False):
                with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
                    return int(args.func(args) or 0)
            return int(args.func(args) or 0)
        except ScalefitInputError as exc:
            print(f"scalefit {args.command}: error: {cli_message(exc, implied=implied)}", file=sys.stderr)
            return 2
        except FitError as exc:
            print(f"scalefit {args.command}: fit failed: {exc}", file=sys.stderr)
            return 1
        except FileExistsError as exc:  # the library refuses to replace a file unless overwrite=True
            message = render(str(exc), [Option("overwrite", "True")])
            print(f"scalefit {args.command}: error: {message}", file=sys.stderr)
            return 2
        except Exception as exc:  # noqa: BLE001 - internal error, exit 1 with a traceback hint
            if isinstance(exc, ImportError) and install_hint(exc) is not None:  # an optional package the library names is missing (matplotlib, ...)
                print(f"scalefit {args.command}: error: {missing_package(f'scalefit {args.command}', exc)}",
                      file=sys.stderr)
                return 2
            if isinstance(exc, BrokenPipeError) and _stdout_closed():  # `scalefit ... | head`: not an error
                return _quiet_broken_pipe()
            import traceback

            traceback.print_exc()
            print(f"scalefit {args.command}: internal error: {exc!r}", file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
