"""A summary object that renders as text or HTML (statsmodels-style); it never prints."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence

from ._format import format_number, html_table, text_table


@dataclass(frozen=True)
class Table:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Summary:
    """Text/HTML summary.  ``str(summary)`` is the text; notebooks show the HTML.

    Parameters
    ----------
    title : str
    info : list of (key, value)
        Header facts.
    tables : list of Table
    notes : list of str
        Warnings and explanations shown after the tables.
    """

    title: str
    info: Sequence[tuple[str, Any]] = field(default_factory=list)
    tables: Sequence[Table] = field(default_factory=list)
    notes: Sequence[str] = field(default_factory=list)

    def as_text(self) -> str:
        lines = [self.title, "=" * max(len(self.title), 20)]
        if self.info:
            width = max(len(k) for k, _ in self.info)
            lines += [f"{k:<{width}}  {_fmt(v)}" for k, v in self.info]
        for t in self.tables:
            lines.append("")
            if t.title:
                lines.append(t.title)
            lines.append(text_table(t.header, [[_fmt(c) for c in r] for r in t.rows]))
        if self.notes:
            lines.append("")
            lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        out = [f"<div class='scalefit-summary'><h3>{html.escape(self.title)}</h3>"]
        if self.info:
            out.append("<table class='info'>")
            out += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in self.info]
            out.append("</table>")
        for t in self.tables:
            if t.title:
                out.append(f"<h4>{html.escape(t.title)}</h4>")
            out.append(html_table(t.header, [[_fmt(c) for c in r] for r in t.rows]))
        if self.notes:
            out.append("<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        out.append("</div>")
        return "".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def _fmt(v: Any) -> str:
    return format_number(v, "general")
