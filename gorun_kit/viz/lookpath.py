"""Pictures and tables of LookPath: the search order one OS follows, and one
scenario's answers on linux, darwin and windows side by side."""
from __future__ import annotations

import html

import graphviz

from .graph import Graph

from ..lookpath.compare import CrossOS, Step

__all__ = ["search_order", "cross_os_html", "rows_html"]


def search_order(steps: tuple[Step, ...], *, title: str = "") -> graphviz.Digraph:
    """The candidates in the order Go tries them; the hit is green, skips are grey."""
    dot = Graph("lookpath", graph_attr={"rankdir": "LR", "label": title, "labelloc": "t",
                                                   "fontsize": "11"},
                           node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                      "fontsize": "10"})
    prev = None
    for s in steps:
        hit = s.verdict.startswith("hit")
        color = "#b7e4b7" if hit else ("#eeeeee" if "skipped" in s.verdict else "#f6d5d5")
        label = f"{s.order}. {s.source}\\n{s.candidate or '-'}\\n{s.verdict}"
        dot.node(f"s{s.order}", label.replace("\\", "\\\\").replace("\\\\n", "\\n"), fillcolor=color,
                 penwidth="2" if hit else "1")
        if prev:
            dot.edge(prev, f"s{s.order}")
        prev = f"s{s.order}"
    return dot


def _cell(text: str) -> str:
    return html.escape(text).replace("\\", "&#92;")


def cross_os_html(cross: CrossOS) -> str:
    """One scenario as an HTML table: the PATH each OS got and what LookPath returned."""
    head = (f"<p><code>LookPath({_cell(repr(cross.name))})</code>, cwd <code>{_cell(cross.cwd)}</code>, "
            f"PATHEXT <code>{_cell(str(cross.pathext))}</code>, files: "
            + ", ".join(f"<code>{_cell(f)}</code>" for f in cross.files) + "</p>")
    return head + rows_html([(r.goos, r.path, r.result.short(), r.result.source) for r in cross.rows],
                            ["GOOS", "PATH given", "LookPath returns", "source"])


def rows_html(rows, header) -> str:
    out = ["<table><thead><tr>" + "".join(f"<th>{_cell(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td><code>{_cell(str(c))}</code></td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)
