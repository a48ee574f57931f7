"""How the command line words the library's errors and warnings.

The library writes a message as a Python caller would read it ("pass
nan_policy='omit'") and lists the options it suggests on the error or warning
(``options``: :class:`scalefit._errors.Option`).  Here each option's text in the
message is replaced by the flag that sets it (``--nan-policy omit``), looked up
by the option's name in :data:`FLAGS`.  Options the table does not know keep
their Python wording.
"""
from __future__ import annotations

import ast
import re
from typing import Any, Iterable

from .._errors import Option

__all__ = ["FLAGS", "flag_for", "render", "cli_message", "install_hint", "missing_package"]

#: Option name (the API keyword) -> how the command line words it.  ``{value}``
#: is the option's value as a flag takes it (``'omit'`` -> ``omit``; the
#: placeholder after ``|`` when the message gives no value); ``{mapping}`` is a
#: dict value written as ``OLD=NEW,...``.
FLAGS: dict[str, str] = {
    "nan_policy": "--nan-policy {value|omit}",
    "drop_duplicates": "--drop-duplicates",
    "run_id": "--run-id COLS",
    "final": "the final checkpoints (--final)",
    "final_only": "--final",
    "best_per_size": "--best-per-size",
    "group_by": "--group-by COLS",
    "budget": "--budget-col {value|COL}",
    "fixed": "--fix NAME=VALUE",
    "loss_unit": "--loss-unit {value|bits}",
    "exclude_flags": "--keep-flagged",
    "columns": "--columns '{mapping}'",
    "overwrite": "--force",
    "force": "--force-plan",
    "exclude": "--exclude EXPR",
    "highest_loss": "--drop-highest K",
    "bootstrap": "--bootstrap {value|N}",
    "law": "--law {value|NAME}",
    "vocab_size": "--vocab {value|V}",
    "context": "--context {value|S}",
    "width_multiple": "--width-multiple W",
    "head_dim": "--head-dim {value|H}",
    "recompute": "--recompute {value|full}",
    "micro_batch": "--micro-batch {value|B}",
    "warmup_steps": "--warmup-steps {value|N}",
    "n_tokens": "a larger --flops",
    "target_flops": "--target-flops",
    "experiment_flops": "--experiment-flops",
    "min_params": "--min-params",
    "max_params": "--max-params",
    "n_runs": "--n-runs",
    "budgets": "--budgets",
    "seed": "--seed {value|N}",
    "n_jobs": "--jobs {value|N}",
    "by": "--by {value|COLUMN}",
    "horizon": "--horizon {value|N}",
    "origins": "--origin SCALE",
    "min_train": "--min-train {value|N}",
    "train_rows": "--train-rows ROWS",
    "figures_dir": "--figures-dir DIR",
    "dpi": "--dpi {value|N}",
}


def _unquote(text: str) -> str:
    """``"'omit'"`` -> ``"omit"``: a literal as a flag's argument takes it."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def _mapping(text: str) -> str:
    """``"{'x': 'loss'}"`` -> ``"x=loss"``; ``OLD=NEW`` when the text is no literal dict."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return "OLD=NEW"
    if not isinstance(value, dict) or not value:
        return "OLD=NEW"
    return ",".join(f"{old}={new}" for old, new in value.items())


def flag_for(option: Option) -> str | None:
    """The command-line wording of ``option``, or None when no flag sets it."""
    template = FLAGS.get(option.name)
    if template is None:
        return None
    if "{mapping}" in template:
        return template.replace("{mapping}", _mapping(option.value))
    start = template.find("{value|")
    if start < 0:
        return template
    end = template.index("}", start)
    placeholder = template[start + len("{value|"):end]
    value = _unquote(option.value) if option.value else placeholder
    return template[:start] + value + template[end + 1:]


def render(message: str, options: Iterable[Option]) -> str:
    """Replace each option's Python wording in ``message`` by its flag (plain text replacement).

    The longest wordings go first, so one that contains another
    (``read_runs(..., run_id=[...])`` and ``run_id=[...]``) is replaced whole.
    """
    for option in sorted(options, key=lambda o: len(o.api()), reverse=True):
        flag = flag_for(option)
        if flag is not None:
            message = message.replace(option.api(), flag)
    return message


def cli_message(error_or_warning: Any) -> str:
    """The message of a scalefit error or warning, worded for the command line.

    Anything without ``options`` (a warning from numpy, an ``OSError``) keeps its text.
    """
    return render(str(error_or_warning), getattr(error_or_warning, "options", ()))


_INSTALL_HINT = re.compile(r"pip install (?:'[^']+'|\"[^\"]+\"|[^\s;,)]+)")


def install_hint(error: BaseException) -> str | None:
    """The ``pip install ...`` command a library ImportError names, or None (then it is no missing extra: a bug)."""
    if not isinstance(error, ImportError):
        return None
    found = _INSTALL_HINT.search(str(error))
    return found.group(0).rstrip(".") if found else None


def missing_package(what: str, error: ImportError) -> str:
    """One line for an optional package that is not installed: what needed it, why, and the command that installs it.

    ``what`` names the file or step (``"reading 'runs.parquet'"``); the reason is the first line of the import
    failure (pandas words a missing Parquet engine over six lines).
    """
    cause = error.__cause__ if isinstance(error.__cause__, ImportError) else error
    reason = str(cause).strip().splitlines()[0].strip().rstrip(".") if str(cause).strip() else type(cause).__name__
    return f"{what} needs a package that is not installed ({reason}); install it with: {install_hint(error)}"
