"""The one number formatter and the one table renderer (text and HTML).

Every summary, plan table, report and CLI table formats numbers here, in one of
three named styles, and renders tables with :func:`text_table` /
:func:`html_table`.

- ``"general"``: 5 significant digits, scientific beyond 1e5 or below 1e-3
  (``0.34731``, ``5.76e+23``); integers and text as they are.
- ``"human"``: parameter and token counts with a suffix (``70B``, ``1.4T``),
  scientific beyond 1e15.
- ``"fixed"``: 4 decimals, scientific beyond 1e5 or below 1e-3 (``0.3473``).
"""
from __future__ import annotations

import html
import math
import numbers
from typing import Any, Literal, Sequence

Style = Literal["general", "human", "fixed"]

#: What a missing or non-finite value shows as, per output.
MISSING_TEXT = "nan"
MISSING_HTML = "\u2014"


def format_number(value: Any, style: Style = "general") -> str:
    """Format one value in a named style (see the module docstring); non-numbers are ``str(value)``."""
    if value is None or isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        if style == "human" or (style == "general" and not math.isnan(x)):
            return str(x)  # "inf", "-inf" (and "nan" in the human style)
        return MISSING_TEXT
    if style == "human":
        ax = abs(x)
        if ax >= 1e15:
            return f"{x:.3g}"
        for unit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
            if ax >= unit:
                return f"{x / unit:.3g}{suffix}"
        return f"{x:.3g}"
    if x == 0:
        return "0" if style == "general" else "0.0000"
    scientific = abs(x) >= 1e5 or abs(x) < 1e-3
    if style == "fixed":
        return f"{x:.4g}" if scientific else f"{x:.4f}"
    return f"{x:.4g}" if scientific else f"{x:.5g}"


def format_interval(low: Any, high: Any, style: Style = "general") -> str:
    """``[low, high]`` with both ends in one style."""
    return f"[{format_number(low, style)}, {format_number(high, style)}]"


def _cell(value: Any, style: Style) -> str:
    return value if isinstance(value, str) else format_number(value, style)


def text_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    style: Style = "general",
    align: Literal["left-first", "right"] = "left-first",
    rule: bool = True,
) -> str:
    """A plain-text table: columns padded to their widest cell.

    ``align="left-first"`` left-aligns the first column and right-aligns the
    rest; ``"right"`` right-aligns every column.  ``rule`` draws a dashed line
    under the header.  Cells that are strings are shown as they are; numbers are
    formatted with :func:`format_number` in ``style``.
    """
    cells = [[str(h) for h in header]] + [[_cell(c, style) for c in r] for r in rows]
    n = len(header)
    widths = [max(len(row[i]) for row in cells) for i in range(n)]
    lines = []
    for j, row in enumerate(cells):
        if align == "right":
            lines.append("  ".join(c.rjust(widths[i]) for i, c in enumerate(row)))
        else:
            lines.append("  ".join(c.rjust(widths[i]) if i else c.ljust(widths[i]) for i, c in enumerate(row)))
        if j == 0 and rule:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    style: Style = "general",
    missing: str | None = None,
    css_class: str | None = None,
) -> str:
    """An HTML ``<table>`` with a header row; every cell is escaped.

    ``missing`` replaces None and non-finite numbers (for instance ``"\u2014"``).
    """

    def cell(v: Any) -> str:
        if missing is not None and (v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)
                                                   and not math.isfinite(float(v)))):
            return html.escape(missing)
        return html.escape(_cell(v, style))

    cls = f" class='{css_class}'" if css_class else ""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
