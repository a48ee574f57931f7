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
from typing import Any, Callable, Iterable

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
    "n_tokens": "{value|D} tokens (raise --flops)",
    "target_flops": "--target-flops {value|C}",
    "experiment_flops": "--experiment-flops {value|C}",
    "min_params": "--min-params {value|N}",
    "max_params": "--max-params {value|N}",
    "n_runs": "--n-runs {value|K}",
    "budgets": "--budgets {value|C,C,...}",
    "seed": "--seed {value|N}",
    "n_jobs": "--jobs {value|N}",
    "by": "--by {value|COLUMN}",
    "horizon": "--horizon {value|N}",
    "origins": "--origin SCALE",
    "min_train": "--min-train {value|N}",
    "train_rows": "--train-rows ROWS",
    "figures_dir": "--figures-dir DIR",
    "dpi": "--dpi {value|N}",
    # plan and train-time: the keywords their messages name without listing options (see ``implied`` in render)
    "level": "--level {value|L}",
    "fit": "--fit FIT.json",
    "flops": "--flops {value|C}",
    "flops_per_param_token": "--flops-per-param-token {value|K}",
    "unique_tokens": "--unique-tokens {value|U}",
    "inference_tokens": "--inference-tokens {value|T}",
    "n_kv_heads": "--n-kv-heads {value|K}",
    "aspect_ratio": "--aspect-ratio {value|LOW,HIGH}",
    "tolerance": "--tolerance {value|F}",
    "gpu": "--gpu {value|NAME}",
    "mfu": "--mfu {value|M}",
    "flops_per_gpu": "--flops-per-gpu {value|X}",
    "n_gpus": "--gpus {value|n}",
    "price_per_gpu_hour": "--price-per-gpu-hour {value|$}",
    "n_sims": "--n-sims {value|S}",
    "noise": "--noise {value|S}",
}

#: An option with one value reads differently on the command line, where leaving a flag out gives that value.
VALUE_FLAGS: dict[tuple[str, str], str] = {
    ("budget", "None"): "no --budget-col",
    ("fit", "None"): "neither --fit nor --params",
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
    if (option.name, option.value) in VALUE_FLAGS:
        return VALUE_FLAGS[option.name, option.value]
    if "{mapping}" in template:
        return template.replace("{mapping}", _mapping(option.value))
    start = template.find("{value|")
    if start < 0:
        return template
    end = template.index("}", start)
    placeholder = template[start + len("{value|"):end]
    value = _unquote(option.value) if option.value else placeholder
    return template[:start] + value + template[end + 1:]


#: A Python value after ``name=`` in a message: a quoted string, a bracketed literal, or a token up to a space or
#: ``;:,()`` (``1,000`` stays whole), without the full stop that may end the sentence; may be empty (``micro_batch=``).
_VALUE = r"""(?P<value>'[^']*'|"[^"]*"|\([^()]*\)|\[[^\]]*\]|\{[^{}]*\}|[^\s;:,()]*?(?:,\d{3})*)(?=\.?(?:[\s;:,)]|$))"""

#: Not part of a longer name, an attribute, a quoted column name or a flag already written (``--context``).
_BEFORE = r"(?<![\w.'\"-])"


def _words(text: str) -> str:
    """A pattern for ``text`` standing alone: not inside a longer identifier, a flag or a number."""
    after = r"(?![\w=]|[.,]\d)" if text[-1:].isalnum() or text.endswith("_") else ""
    before = _BEFORE if text[:1].isalnum() or text.startswith("_") else ""
    return before + re.escape(text) + after


def _plain(value: str) -> str:
    """A value as a flag takes it: ``2,000`` -> ``2000``, ``(64, 160)`` -> ``64,160``, ``(low, high)`` -> the placeholder."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", value):
        return value.replace(",", "")
    if value.startswith("(") and value.endswith(")"):
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return ""  # words standing for values: the flag's placeholder says it better
        if isinstance(items, tuple):
            return ",".join(f"{item:g}" if isinstance(item, float) else str(item) for item in items)
    return value


def _bare_flag(name: str) -> str | None:
    """How a name mentioned alone reads on the command line: the flag without a placeholder (``--min-params``)."""
    flag = flag_for(Option(name))
    if flag is None or not flag.startswith("--"):
        return flag  # prose ("the final checkpoints (--final)") reads whole
    return flag.split(" ", 1)[0]


def render(message: str, options: Iterable[Option], *, implied: Iterable[str] = ()) -> str:
    """Replace each option's Python wording in ``message`` by its flag; the rest of the message is left as written.

    Three passes, each matching whole words only, so a message already written with flags (``--context S``) or
    a longer name that contains an option's (``n_tokens`` in ``max_n_tokens``) is never rewritten:

    1. each option's exact wording (:meth:`Option.api`), longest first (``read_runs(..., run_id=[...])`` before
       ``run_id=[...]``), when it carries a value or a text;
    2. any other ``name=VALUE`` or ``name=`` of those options (``recompute='none'``, ``micro_batch=``): the flag
       with that value, or with its placeholder;
    3. the name alone, where the library names the option bare (``Option("min_params")``: the name is the option
       wherever it stands) and the name cannot be an English word (it holds ``_``): the flag alone.

    ``implied`` names the keywords the subcommand passes (``mfu``, ``gpu``, ...): messages that list no options
    still write them as ``mfu=0.45`` or ``gpu=``, and pass 2 words those as flags too.
    """
    options = list(options)
    for option in sorted(options, key=lambda o: len(o.api()), reverse=True):
        flag = flag_for(option)
        if flag is not None and (option.value or option.text):
            message = re.sub(_words(option.api()), _literal(flag), message)
    for name in dict.fromkeys([*(o.name for o in options), *implied]):
        if name not in FLAGS:
            continue
        message = re.sub(_BEFORE + re.escape(name) + "=" + _VALUE, _with_value(name), message)
        bare = _bare_flag(name)
        if bare is not None and "_" in name and any(o.name == name and not (o.value or o.text) for o in options):
            message = re.sub(_BEFORE + re.escape(name) + r"(?![\w=(])", _literal(bare), message)
    return message


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement for :func:`re.sub` that inserts ``text`` as written (no backslash escapes)."""
    return lambda _match: text


def _with_value(name: str) -> Callable[[re.Match[str]], str]:
    """A replacement for :func:`re.sub`: ``name=VALUE`` -> the flag with that value."""
    def replace(match: re.Match[str]) -> str:
        return flag_for(Option(name, _plain(match.group("value")))) or match.group(0)
    return replace


def cli_message(error_or_warning: Any, *, implied: Iterable[str] = ()) -> str:
    """The message of a scalefit error or warning, worded for the command line.

    Its ``options``, the ``option`` at fault (an error names it bare, e.g. ``n_sims``) and the subcommand's
    ``implied`` keywords become flags (:func:`render`); a leading ``design(): `` goes, as the command line names
    the subcommand itself. Anything else (a warning from numpy, an ``OSError``) keeps its text.
    """
    options = list(getattr(error_or_warning, "options", ()))
    at_fault = getattr(error_or_warning, "option", None)
    if isinstance(at_fault, str) and at_fault in FLAGS and all(o.name != at_fault for o in options):
        options.append(Option(at_fault))
    message = _API_PREFIX.sub("", str(error_or_warning), count=1)
    if isinstance(at_fault, str) and message.startswith(f"{at_fault} ") and _bare_flag(at_fault):
        message = f"{_bare_flag(at_fault)}{message[len(at_fault):]}"  # "tolerance must be in (0, 1)": the option
    return render(message, options, implied=implied)


#: ``design(): `` at the start of a message: where in the API it arose.
_API_PREFIX = re.compile(r"^[A-Za-z_][\w.]*\(\): ")


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
