"""A picture of what ``gorun-kit doctor`` found (records from :mod:`gorun_kit.doctor`)."""
from __future__ import annotations

__all__ = ["doctor_graph"]

_LIVE_COLOUR = {"yes": "#c7e9c0", "partly": "#fdd49e", "no": "#fcbba1"}


def doctor_graph(report):
    """Checks on the left, chapters on the right, an edge where a chapter needs a check.

    Solid edges are required checks, dashed ones optional (their absence only
    skips a part of the chapter). A check box is green when it passed and red
    when not; a chapter box is coloured by its verdict (yes / partly / no).
    Checks no chapter needs (python, libc) are left out. ``report`` is a
    :class:`gorun_kit.doctor.DoctorReport`; returns a :class:`~gorun_kit.viz.graph.Graph`.
    """
    from .graph import Graph

    if not report.chapters:
        raise ValueError("doctor_graph: the report has no chapter verdicts")
    g = Graph("doctor", graph_attr={"rankdir": "LR", "ranksep": "1.1", "nodesep": "0.12", "fontsize": "10"},
              node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "10"},
              edge_attr={"arrowsize": "0.5", "color": "#777777"})
    used = [c for c in report.checks
            if any(c.name in v.required or c.name in v.optional for v in report.chapters)]
    with g.subgraph(name="checks") as s:
        s.attr(rank="same")
        for c in used:
            s.node(f"check_{c.name}", f"{c.name}: {'ok' if c.ok else 'missing'}",
                   fillcolor="#e5f5e0" if c.ok else "#fee0d2")
    with g.subgraph(name="chapters") as s:
        s.attr(rank="same")
        for v in report.chapters:
            english = v.title.split(" · ", 1)[-1]
            s.node(f"ch_{v.chapter}", f"chapter {v.chapter}: {english}\\nlive: {v.live}",
                   fillcolor=_LIVE_COLOUR.get(v.live, "white"))
        for a, b in zip(report.chapters, report.chapters[1:]):  # keep chapters in course order
            s.edge(f"ch_{a.chapter}", f"ch_{b.chapter}", style="invis")
    for v in report.chapters:
        for name in v.required:
            g.edge(f"check_{name}", f"ch_{v.chapter}")
        for name in v.optional:
            g.edge(f"check_{name}", f"ch_{v.chapter}", style="dashed")
    return g
