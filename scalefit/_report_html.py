"""How the HTML report words and lays out its numbers: a reader's summary, human units, tables that fit the page.

:mod:`scalefit.report` runs the analyses; this module turns them into HTML a
reader can act on.  Counts are shown with suffixes (``70B``, ``1.4T``) through
:func:`scalefit._format.format_number`'s ``"human"`` style, budgets as
``5.76e23 FLOPs``, time in days and cost in US dollars (the report's price per
GPU-hour is taken as dollars and says so).  Messages written for a Python caller
("use .bootstrap()") are reworded for a reader by :func:`reader_text`; the
command line passes its own wording (its flags) instead.
"""
from __future__ import annotations

import html
import math
import re
from typing import Any, Callable, Sequence

from ._format import MISSING_HTML, format_number, html_table

__all__ = ["CSS", "reader_text", "plan_table", "training_table", "approaches_table", "summary_html", "wrap"]

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #bbb}
h3{font-size:1.05em}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2;overflow-wrap:normal}td:first-child,th:first-child{text-align:left}table.info td{text-align:left}
td{overflow-wrap:normal;white-space:nowrap}table.prose td{white-space:normal}
.wide{max-width:100%;overflow-x:auto}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em;white-space:pre}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:.9em;color:#555}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em;margin:.4em 0}.muted{color:#777;font-size:.85em}
.summary{background:#f3f7fb;border:1px solid #c9d8e8;padding:.6em 1.2em;margin:1em 0}.summary li{margin:.3em 0}
.warn{color:#8a4b00}
"""

# Python wording -> a reader's wording (the report is read, not called).  Longest first.
_READER = (
    (r"\(read_runs\(\.\.\., exclude=\.\.\.\) or Runs\.exclude\(\.\.\.\); in the CLI ([^)]*)\)", r"(with \1 on the command line)"),
    (r"; see result\.diagnostics\.outliers", " (listed in the fit's diagnostics)"),
    (r"[Rr]ead the intervals \(fit\.bootstrap\(\)\)", "Read the bootstrap intervals"),
    (r"\(see result\.unassigned\)", "(listed in the IsoFLOP details)"),
    (r"\(see \.unassigned\)", "(listed in the IsoFLOP details)"),
    (r"pass budget='<column>' naming the budget of each run", "name the column that holds each run's budget"),
    (r"pass budget='<column>'", "name the column that holds each run's budget"),
    (r"use \.bootstrap\(\)", "use the bootstrap intervals"),
    (r"fit\.bootstrap\(\)", "a bootstrap"),
    (r"\.bootstrap\(\)", "a bootstrap"),
    (r"result\.unassigned", "the unassigned rows (IsoFLOP details)"),
    (r"\.unassigned\b", "the unassigned rows"),
    (r"\b(budget|nan_policy|run_id|group_by|final_only|exclude_flags|tolerance)=('[^']*'|\[[^\]]*\]|[\w.<>-]+)",
     lambda m: f"the {m.group(1).replace('_', ' ')} option ({m.group(2).strip(chr(39))})"),
)


def reader_text(text: str) -> str:
    """``text`` with the Python API names it holds reworded for a reader of the report."""
    for pattern, repl in _READER:
        text = re.sub(pattern, repl, text)
    return text


def wrap(table: str) -> str:
    """A table inside a box that scrolls sideways on its own, so the page itself never does."""
    return f"<div class='wide'>{table}</div>"


def _budget(c: float) -> str:
    """5.76e23 -> '5.76e23' (no '+' and no zero padding)."""
    s = f"{float(c):.3g}"
    if "e" not in s:
        return s
    m, e = s.split("e")
    return f"{m}e{int(e)}"


def _iv(value: Any, interval: Sequence[float] | None, fmt: Callable[[float], str]) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING_HTML
    text = fmt(float(value))
    if interval is not None:
        text += f" ({fmt(float(interval[0]))}\u2013{fmt(float(interval[1]))})"
    return text


def _human(v: float) -> str:
    return format_number(v, "human")


def _ratio(v: float) -> str:
    return f"{v:.3g}"


def _loss(v: float) -> str:
    return f"{v:.3f}"


def _days(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _dollars(v: float) -> str:
    for unit, suffix in ((1e9, " billion"), (1e6, " million")):
        if abs(v) >= unit:
            return f"${v / unit:.3g}{suffix}"
    return f"${v:,.0f}"


def plan_table(plan: Any) -> str:
    """The compute-optimal plan in human units: one row per budget, intervals in parentheses."""
    rows = []
    for a in plan:
        iv = a.intervals
        rows.append([f"{_budget(a.flops)} FLOPs", _iv(a.n_params, iv.get("n_params"), _human),
                     _iv(a.n_tokens, iv.get("n_tokens"), _human), _iv(a.tokens_per_param, iv.get("tokens_per_param"), _ratio),
                     _iv(a.loss, iv.get("loss"), _loss)])
    header = ["Budget", "Parameters N*", "Tokens D*", "Tokens per parameter", "Predicted loss (nats)"]
    return wrap(html_table(header, rows, missing=MISSING_HTML))


def training_table(training: Any) -> str:
    """Days, GPU-hours and cost of each planned run (cost in US dollars)."""
    has_cost = "cost" in training and training["cost"].notna().any()
    header = ["Budget", "Parameters", "Tokens", "Training time (days)", "GPU-hours"] + (["Cost (US$)"] if has_cost else [])
    rows = []
    for r in training.itertuples(index=False):
        row = [f"{_budget(r.flops)} FLOPs", _human(r.n_params), _human(r.n_tokens), _days(r.days), _human(r.gpu_hours)]
        if has_cost:
            row.append(_dollars(r.cost) if r.cost is not None and math.isfinite(r.cost) else MISSING_HTML)
        rows.append(row)
    return wrap(html_table(header, rows, missing=MISSING_HTML))


_APPROACH_NAMES = {"parametric": "Approach 3 (parametric fit)", "isoflop": "Approach 2 (IsoFLOP profiles)",
                   "envelope": "Approach 1 (training-curve envelope)"}


def approaches_table(approaches: Any) -> str:
    """Hoffmann et al. (2022) Table 2 in human units: exponents with intervals, N* and D* at the largest budgets."""
    header = ["Approach", "a in N* \u221d C^a", "b in D* \u221d C^b"]
    for c in approaches.budgets:
        header += [f"N* at {_budget(c)}", f"D* at {_budget(c)}"]
    rows = []
    for r in approaches.rows:
        row = [_APPROACH_NAMES.get(r["approach"], r["approach"]),
               _iv(r["a"], (r["a_low"], r["a_high"]) if r.get("a_low") is not None else None, lambda v: f"{v:.3f}"),
               _iv(r["b"], (r["b_low"], r["b_high"]) if r.get("b_low") is not None else None, lambda v: f"{v:.3f}")]
        for c in approaches.budgets:
            row += [_iv(r.get(f"n_params@{c:.3g}"), None, _human), _iv(r.get(f"n_tokens@{c:.3g}"), None, _human)]
        rows.append(row)
    return wrap(html_table(header, rows, missing=MISSING_HTML))


def _spread(approaches: Any, budget: float) -> tuple[float, float] | None:
    """Smallest and largest N* the approaches give at ``budget`` (None when fewer than two give one)."""
    if approaches is None:
        return None
    vals = [r.get(f"n_params@{budget:.3g}") for r in approaches.rows]
    vals = [float(v) for v in vals if v is not None and math.isfinite(float(v))]
    return (min(vals), max(vals)) if len(vals) >= 2 else None


def summary_html(report: Any, *, hw: dict) -> str:
    """The top of the report: what to train at each budget, how sure, and the warnings that matter."""
    items: list[str] = []
    plan = report.plan
    if plan is None:
        return ("<div class='summary'><p><b>No recommendation.</b> The fit gave no plan: "
                f"{html.escape(report.skipped.get('Compute-optimal plan', ''))}</p></div>")
    level = next((a.level for a in plan if a.level is not None), None)
    costs = {float(r.flops): r for r in report.training.itertuples(index=False)} if len(report.training) else {}
    for a in plan:
        iv = a.intervals
        line = (f"<b>{_budget(a.flops)} FLOPs</b>: train <b>{html.escape(_iv(a.n_params, iv.get('n_params'), _human))}</b> "
                f"parameters on <b>{html.escape(_iv(a.n_tokens, iv.get('n_tokens'), _human))}</b> tokens "
                f"({html.escape(_iv(a.tokens_per_param, iv.get('tokens_per_param'), _ratio))} tokens per parameter); "
                f"predicted loss {html.escape(_iv(a.loss, iv.get('loss'), _loss))} nats")
        t = costs.get(float(a.flops))
        if t is not None:
            line += f"; about {_days(t.days)} days on {hw.get('n_gpus')} \u00d7 {html.escape(str(hw.get('gpu', 'GPU')))}"
            if getattr(t, "cost", None) is not None and math.isfinite(t.cost):
                line += f", {_dollars(t.cost)}"
        items.append(f"<li>{line}.</li>")
    sure: list[str] = []
    if level is not None:
        sure.append(f"Ranges in parentheses are {100 * level:g}% bootstrap intervals of the parametric fit (Approach 3).")
    else:
        sure.append("No bootstrap was run, so the plan has no intervals: treat every number as a point estimate.")
    top = float(list(plan)[-1].flops)
    spread = _spread(report.approaches, top) if report.approaches is not None else None
    if spread is None and report.approaches is not None and len(report.approaches.budgets):
        top = float(report.approaches.budgets[-1])
        spread = _spread(report.approaches, top)
    if spread is not None:
        lo, hi = spread
        sure.append(f"At {_budget(top)} FLOPs the approaches that ran put N* between {_human(lo)} and {_human(hi)} "
                    f"(a {hi / lo:.2g}\u00d7 spread); a spread much wider than the intervals means the methods disagree "
                    "and the choice of method matters more than the noise.")
    trusted = getattr(report.fit, "trustworthy", True)
    if trusted is False:
        sure.append("<b>The parametric fit is flagged as not trustworthy</b> (see its diagnostics below).")
    matter = _warnings_that_matter(report)
    out = ["<div class='summary'><h2 style='margin-top:.4em'>Summary</h2><p>Compute-optimal model size and data "
           "at each planned budget, from the parametric fit:</p><ul>", *items, "</ul>",
           "<p><b>How sure:</b> " + " ".join(sure) + "</p>"]
    if matter:
        out.append("<p><b>Warnings that matter:</b></p><ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in matter) + "</ul>")
    else:
        out.append("<p><b>Warnings:</b> none raised.</p>")
    out.append("</div>")
    return "".join(out)


# Warnings that change what to do with the numbers, in order of how much they matter.
_MATTER = ("PlanRefused", "ApproachesDisagree", "Convergence", "Bound", "Identif", "Sensitivity", "Interval", "Flag", "Edge",
           "Extrapolat")


_PER_BUDGET = (
    # (the start of a note the plan repeats for each budget, how to say them all in one)
    ("extrapolation: the plan's ", "extrapolation: the plans reach {last} (the furthest of {n} budgets beyond it)."),
    ("extrapolation in shape: ", "{first} ({n} budgets)."),
)


def _one_per_kind(warnings: list[str]) -> list[str]:
    """The plan's notes with each per-budget kind said once (its largest budget's, as the last; or the first with
    a count), so that five budgets' extrapolation notes leave room for the warnings about the fit and the methods."""
    out: list[str] = []
    for w in warnings:
        kind = next((k for k in _PER_BUDGET if w.startswith(k[0])), None)
        same = [v for v in warnings if kind is not None and v.startswith(kind[0])]
        if kind is None or len(same) == 1:
            out.append(w)
        elif w is same[0]:
            last = same[-1][len(kind[0]):].rstrip(".").replace(" FLOPs are ", " FLOPs, ", 1)
            out.append(kind[1].format(last=last, first=w.rstrip("."), n=len(same)))
    return out


def _warnings_that_matter(report: Any) -> list[str]:
    """The plan's warnings, then the collected warnings whose kind changes how far to trust the plan (each once)."""
    seen: dict[str, None] = {}
    if report.plan is not None:
        for w in _one_per_kind(list(report.plan.warnings)):
            seen.setdefault(w)
    ranked = sorted(report.warnings, key=lambda w: next((i for i, k in enumerate(_MATTER) if k in w.split(":")[0]), 99))
    # the plan's own notes already say how far each budget extrapolates: its planners' warnings would say it again
    noted = any(w.startswith("extrapolation") for w in seen)
    for w in ranked:
        kind = w.split(":")[0]
        if any(k in kind for k in _MATTER) and not (noted and "Extrapolat" in kind):
            seen.setdefault(w)
    # the summary speaks to a reader: the warning's kind (a Python class name) is left to the full list below
    return [re.sub(r"^[A-Za-z]+Warning: ", "", reader_text(w)) for w in list(seen)[:6]]
