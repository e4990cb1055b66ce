"""Pictures and tables of LookPath: the search order one OS follows, one
scenario's answers on linux, darwin and windows side by side, and many
scenarios' answers as one grid."""
from __future__ import annotations

import html
from typing import Mapping

import graphviz

from .graph import Graph
from .tables import rows_html  # re-exported: the generic table lives in viz.tables

from ..lookpath.compare import CrossOS, Step

__all__ = ["search_order", "cross_os_html", "scenarios_html", "cross_os_grid", "result_text", "rows_html"]

_FOUND, _DOT, _MISS, _SKIP = "#b7e4b7", "#ffe08a", "#f6d5d5", "#eeeeee"


def search_order(steps: tuple[Step, ...], *, title: str = "") -> graphviz.Digraph:
    """The candidates in the order Go tries them (records from ``compare.explain``).

    The candidate LookPath returns is green with a bold border (amber when it
    comes back with ErrDot); a current-directory hit held back is amber; a hit
    that is not returned is pale green; skipped elements are grey; misses red.
    """
    dot = Graph("lookpath", graph_attr={"rankdir": "LR", "label": title.replace("\\", "\\\\"), "labelloc": "t",
                                       "fontsize": "11"},
                node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                           "fontsize": "10"})
    prev = None
    for s in steps:
        dotted = "ErrDot" in s.verdict or s.verdict.startswith("found; held back")
        if s.returned:
            color = _DOT if dotted else _FOUND
        elif s.verdict.startswith(("found", "hit")):
            color = _DOT if dotted and not s.verdict.startswith("hit: another") else "#e3f4e3"
        else:
            color = _SKIP if "skipped" in s.verdict else _MISS
        verdict = s.verdict + ("\n=> LookPath returns this" if s.returned else "")
        label = f"{s.order}. {s.source}\n{s.candidate or '-'}\n{verdict}"
        label = label.replace("\\", "\\\\").replace("\n", "\\n")
        dot.node(f"s{s.order}", label, fillcolor=color, penwidth="2.5" if s.returned else "1")
        if prev:
            dot.edge(prev, f"s{s.order}")
        prev = f"s{s.order}"
    return dot


def _cell(text: str) -> str:
    return html.escape(text).replace("\\", "&#92;")


def result_text(result) -> str:
    """A result for a table cell: ``short()``, and the reason when the scenario was invalid."""
    if result.error == "invalid scenario":
        return f"invalid scenario: {result.message}"
    return result.short()


def _env_text(cross: CrossOS) -> str:
    return ", ".join(f"{k}={v}" for k, v in cross.env) if cross.env else "nothing extra"


def cross_os_html(cross: CrossOS) -> str:
    """One scenario as an HTML table: the PATH each OS got and what LookPath returned.

    The header names the cwd, PATHEXT, the extra environment (for example
    ``NoDefaultCurrentDirectoryInExePath``) and the files; an invalid
    scenario's row gives the reason.
    """
    head = (f"<p><code>LookPath({_cell(repr(cross.name))})</code>, cwd <code>{_cell(cross.cwd)}</code>, "
            f"PATHEXT <code>{_cell('unset' if cross.pathext is None else cross.pathext)}</code>, environment <code>{_cell(_env_text(cross))}</code>, "
            "files: " + ", ".join(f"<code>{_cell(f)}</code>" for f in cross.files) + "</p>")
    return head + rows_html([(r.goos, r.path, result_text(r.result), r.result.source) for r in cross.rows],
                            ["GOOS", "PATH given", "LookPath returns", "source"])


def scenarios_html(crosses: Mapping[str, CrossOS]) -> str:
    """Many scenarios as one HTML table: each scenario's inputs (Unix form: name,
    PATH, cwd, extra environment, PATHEXT, files) and what each OS returned."""
    gooses = [r.goos for r in next(iter(crosses.values())).rows] if crosses else []
    rows = []
    for title, c in crosses.items():
        given = (f"LookPath({c.name!r}) PATH={c.path!r} cwd={c.cwd}"
                 + (f" PATHEXT={c.pathext}" if c.pathext is not None else "")
                 + (f" {_env_text(c)}" if c.env else ""))
        rows.append((title, given, " ".join(c.files), *(result_text(c.result(g)) for g in gooses)))
    sources = {g: "/".join(sorted({c.result(g).source for c in crosses.values()})) for g in gooses}
    return rows_html(rows, ["scenario", "asked (Unix form)", "files", *(f"{g}: {sources[g]}" for g in gooses)])


def cross_os_grid(crosses: Mapping[str, CrossOS], *, title: str = ""):
    """Many scenarios at once: one row per scenario, one column per OS, each cell
    what LookPath returned, coloured green (found), amber (ErrDot: found, but
    relative to the current directory) or red (not found). Column headers say
    whether each OS was asked of real Go or modeled. Returns a matplotlib Figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if not crosses:
        raise ValueError("cross_os_grid: no scenarios")
    titles = list(crosses)
    gooses = [r.goos for r in next(iter(crosses.values())).rows]
    sources = {g: sorted({c.result(g).source for c in crosses.values()}) for g in gooses}
    fig = Figure(figsize=(10.5, 0.8 + 0.42 * len(titles)))
    ax = fig.subplots()
    for i, t in enumerate(titles):
        for j, g in enumerate(gooses):
            r = crosses[t].result(g)
            color = _FOUND if r.error is None else _DOT if r.error == "ErrDot" else _MISS
            ax.add_patch(Rectangle(
                (j, i), 1, 1, facecolor=color, edgecolor="white", linewidth=2))
            text = r.short() if r.error == "invalid scenario" else result_text(r)
            ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8, family="monospace")
    ax.set_xlim(0, len(gooses))
    ax.set_ylim(len(titles), 0)
    ax.set_xticks([j + 0.5 for j in range(len(gooses))],
                  [f"{g}\n({', '.join(sources[g])})" for g in gooses], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(len(titles))], titles, fontsize=8)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    legend = "green: found, no error   amber: ErrDot (found relative to the current directory)   red: not found"
    ax.set_title((title + "\n" if title else "") + legend, fontsize=8, loc="left", pad=30)
    fig.tight_layout()
    return fig
