"""A summary object that renders as text or HTML (statsmodels-style); it never prints."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence


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
            cells = [[str(h) for h in t.header]] + [[_fmt(c) for c in r] for r in t.rows]
            widths = [max(len(row[i]) for row in cells) for i in range(len(t.header))]
            for j, row in enumerate(cells):
                lines.append("  ".join(c.rjust(widths[i]) if i else c.ljust(widths[i]) for i, c in enumerate(row)))
                if j == 0:
                    lines.append("  ".join("-" * w for w in widths))
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
            out.append("<table><thead><tr>")
            out += [f"<th>{html.escape(str(h))}</th>" for h in t.header]
            out.append("</tr></thead><tbody>")
            for r in t.rows:
                out.append("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>")
            out.append("</tbody></table>")
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
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v == 0:
            return "0"
        a = abs(v)
        if a >= 1e5 or a < 1e-3:
            return f"{v:.4g}"
        return f"{v:.5g}"
    try:
        import numpy as np

        if isinstance(v, np.floating):
            return _fmt(float(v))
        if isinstance(v, np.integer):
            return str(int(v))
    except ImportError:  # pragma: no cover
        pass
    return str(v)
