"""Pictures of a :class:`gorun_kit.threads.ThreadReport`: which M created
which (a graphviz tree) and when each thread appeared (a matplotlib timeline).
Both take the report (or its Ms) and run nothing."""
from __future__ import annotations

from typing import Sequence

import graphviz

from .graph import Graph
from matplotlib.figure import Figure

__all__ = ["creation_tree", "timeline"]

# One colour per start function, so the roles read at a glance.
_COLOURS = {
    "none": "#dfe8f5",
    "runtime.sysmon": "#f8d7a8",
    "runtime.templateThread": "#d8c7f0",
    "runtime.mspinning": "#cdebd0",
}


def _label(m) -> str:
    role = "main thread (m0)" if m.m == 0 else m.start_fn.replace("runtime.", "")
    size = f"\\ng0 {m.g0_size // 1024} KiB" if m.g0_size is not None else ""
    return f"M{m.m}\\n{role}{size}"


def creation_tree(report, *, show_tids: bool = False) -> graphviz.Digraph:
    """Each M a node; a solid edge from the M that called newm, a dashed one
    from the M that actually cloned the thread when that differs (the
    template thread does it for Ms requested by a locked thread)."""
    g = Graph("threads", graph_attr={"rankdir": "TB", "fontsize": "11"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "10"})
    for m in report.ms:
        label = _label(m) + (f"\\ntid {m.tid}" if show_tids and m.tid is not None else "")
        g.node(f"M{m.m}", label, fillcolor=_COLOURS.get(m.start_fn, "#eeeeee"))
    for m in report.ms:
        if m.asked_by_m is not None:
            g.edge(f"M{m.asked_by_m}", f"M{m.m}", label="newm")
        if m.cloned_by_m is not None and m.cloned_by_m != m.asked_by_m:
            g.edge(f"M{m.cloned_by_m}", f"M{m.m}", label="clone", style="dashed")
    return g


def timeline(report, *, title: str | None = None, events: Sequence[tuple[float, str]] = ()) -> Figure:
    """One row per M: a mark at newm, a bar from clone to the thread's first
    instruction after minit, and a line from then to the end of the run.
    ``events`` are extra (ms, label) marks, e.g. the program's own phases."""
    ms = sorted(report.ms, key=lambda m: (m.t_start if m.t_start is not None else 0, m.m))
    t0 = report.t0
    last = max([m.t_start or 0 for m in ms] + [t0, getattr(report, "t_end", 0) or 0]) - t0
    end_ms = last / 1e6 + 1
    fig = Figure(figsize=(8, 0.45 * len(ms) + 1.4))
    ax = fig.add_subplot(1, 1, 1)
    for row, m in enumerate(ms):
        colour = _COLOURS.get(m.start_fn, "#cccccc")
        if m.t_new is not None:
            ax.plot([(m.t_new - t0) / 1e6], [row], marker="|", color="black", markersize=12)
        if m.t_clone is not None and m.t_start is not None:
            ax.barh(row, (m.t_start - m.t_clone) / 1e6, left=(m.t_clone - t0) / 1e6, height=0.5,
                    color="#888888")
        if m.t_start is not None:
            start = (m.t_start - t0) / 1e6
            ax.barh(row, end_ms - start, left=start, height=0.5, color=colour, edgecolor="#555555")
    for at, text in events:
        ax.axvline(at, color="#aa3333", linestyle=":", linewidth=1)
        ax.text(at, len(ms) - 0.4, text, color="#aa3333", fontsize=8, rotation=0)
    ax.set_yticks(range(len(ms)))
    ax.set_yticklabels([f"M{m.m} {('m0' if m.m == 0 else m.start_fn.replace('runtime.', ''))}" for m in ms],
                       fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, end_ms)
    ax.set_xlabel("ms since m0 ran minit, until the program ended (|: newm asked, grey: clone until minit)")
    ax.set_title(title or f"{report.program}: {len(ms)} Ms ({report.go_version})", fontsize=10)
    fig.tight_layout()
    return fig
