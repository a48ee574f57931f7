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


class DictDisplay:
    """``to_frame()``, ``_repr_html_`` and a short repr for results whose ``to_dict()`` says everything.

    Nested dictionaries become ``<key>_<inner>`` columns and ``[low, high]`` pairs
    ``<key>_low`` / ``<key>_high``; a class opts in by inheriting (dataclasses also
    set ``__repr__ = DictDisplay.short_repr`` in their body, or they get the long one).
    """

    def to_dict(self) -> dict:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def _flat(self) -> dict:
        out: dict = {}

        def put(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    put(f"{prefix}_{k}" if prefix else str(k), v)
            elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                out[f"{prefix}_low"], out[f"{prefix}_high"] = value
            elif isinstance(value, (list, tuple)):
                out[prefix] = "; ".join(map(str, value)) if all(isinstance(v, str) for v in value) else f"{len(value)} items"
            else:
                out[prefix] = value

        put("", self.to_dict())
        return out

    def to_frame(self) -> Any:
        """One-row pandas DataFrame of :meth:`to_dict` (nested keys joined with ``_``)."""
        import pandas as pd

        return pd.DataFrame([self._flat()])

    def _repr_html_(self) -> str:
        rows = [[k, v] for k, v in self._flat().items()]
        return f"<div class='scalefit-summary'><h4>{html.escape(type(self).__name__)}</h4>" + html_table(
            ["", "value"], rows, style="human", missing="\u2014") + "</div>"

    def short_repr(self) -> str:
        """``Name(key=value, ...)`` with the first few plain values, numbers as ``70B`` / ``1.4T``."""
        items = [(k, v) for k, v in self._flat().items() if v is None or isinstance(v, (str, int, float))]
        shown = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={format_number(v, 'human')}" for k, v in items[:6])
        more = ", ..." if len(items) > 6 else ""
        return f"{type(self).__name__}({shown}{more})"
