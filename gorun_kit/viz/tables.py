"""Tables for notebook output: a Markdown table wraps at spaces inside its cells,
where a long printed line wraps in the middle of a word; an HTML table of code
cells (:func:`rows_html`) keeps backslashes and angle brackets as they are."""
from __future__ import annotations

import html
from typing import Sequence

__all__ = ["MarkdownTable", "markdown_table", "rows_html"]


class MarkdownTable:
    """A table shown as Markdown in JupyterLab and as the same Markdown text elsewhere.

    ``text`` is the Markdown source; notebooks store it under ``text/markdown``
    and ``text/plain``, so nbval compares the table itself, not an object repr.
    """

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], *,
                   right: Sequence[int] = ()) -> MarkdownTable:
    """A Markdown table of ``rows`` under ``header``; columns whose index is in
    ``right`` are right-aligned (numbers). Every row must have one cell per
    header column (ValueError names the row that does not)."""
    if not header:
        raise ValueError("markdown_table needs at least one column")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"markdown_table: row {i} has {len(row)} cells for {len(header)} columns: {row!r}")
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return MarkdownTable("\n".join(lines))


def _html_cell(text: str) -> str:
    return html.escape(text).replace("\\", "&#92;")


def rows_html(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """An HTML table: ``header`` as its head, each of ``rows`` as one row whose
    cells are ``str(value)`` in ``<code>``. Every cell and heading is HTML-escaped
    (``<``, ``&``, quotes) and a backslash is written ``&#92;`` (Windows paths
    survive Markdown renderers). Rows are not checked against the header width."""
    out = ["<table><thead><tr>" + "".join(f"<th>{_html_cell(str(h))}</th>" for h in header) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td><code>{_html_cell(str(c))}</code></td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)
