"""Pictures of what ``go run`` does: its action graph, readable.

A real graph has ~120 actions (two per standard-library package); drawn
as-is it is a hairball. Here the spine a student needs -- ``go run`` ->
``link`` -> ``build`` of main -- is drawn large and coloured, every
standard-library action is folded into one box per mode (with a count and
how many actually ran a tool), and packages outside std stay visible.
"""
from __future__ import annotations

import graphviz

from .graph import Graph

from ..gorun import ActionGraph

__all__ = ["action_graph"]

_SPINE = {"go run": "#d62728", "link": "#ff7f0e", "build": "#2ca02c"}


def _secs(a) -> str:
    s = a.seconds
    return "" if s is None else f"\\n{s * 1000:.0f} ms" if s >= 0.001 else "\\n<1 ms"


def action_graph(graph: ActionGraph, *, timings: bool = False) -> graphviz.Digraph:
    """The action graph with the spine highlighted and std builds grouped.

    ``timings`` adds Go's own per-action durations (off by default so the
    picture is the same from run to run).
    """
    dot = Graph("go_run", graph_attr={"rankdir": "TB", "fontsize": "11", "label":
                                                 " ".join(graph.command), "labelloc": "t"},
                           node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "white",
                                      "fontname": "Helvetica", "fontsize": "10"})
    spine = graph.chain()
    spine_ids = {a.id for a in spine}
    for a in spine:
        label = f"{a.mode}\\n{a.package or '(root)'}" + (_secs(a) if timings else "")
        if a.cmd:
            tool = a.cmd[0].split()[0].rsplit("/", 1)[-1]
            label += f"\\nran: {tool}"
        dot.node(f"a{a.id}", label, fillcolor=_SPINE.get(a.mode, "#dddddd"), fontcolor="white", penwidth="2")
    for a, b in zip(spine, spine[1:]):
        dot.edge(f"a{a.id}", f"a{b.id}", penwidth="2.5", color=_SPINE.get(b.mode, "black"))

    groups: dict[str, list] = {}
    others = []
    for a in graph.actions:
        if a.id in spine_ids:
            continue
        if a.std or a.mode in ("built-in package", "nop") and not a.package.startswith("command-line"):
            groups.setdefault(a.mode, []).append(a)
        else:
            others.append(a)
    with dot.subgraph(name="cluster_std") as std:
        std.attr(label="standard library", style="dashed", color="gray50")
        for mode, acts in sorted(groups.items()):
            ran = sum(1 for a in acts if a.cmd)
            std.node(f"g_{mode}", f"{mode}\\n{len(acts)} actions\\n{ran} ran a tool",
                     fillcolor="#eeeeee")
    for a in others:
        dot.node(f"a{a.id}", f"{a.mode}\\n{a.package}" + (_secs(a) if timings else ""), fillcolor="#e8f0ff")
    # Edges from drawn nodes into groups, once per (node, group).
    seen = set()
    drawn = spine_ids | {a.id for a in others}
    group_of = {a.id: f"g_{mode}" for mode, acts in groups.items() for a in acts}
    for a in graph.actions:
        if a.id not in drawn:
            continue
        for d in a.deps:
            src = f"a{a.id}"
            dst = group_of.get(d, f"a{d}")
            if (src, dst) in seen or (d in spine_ids and a.id in spine_ids):
                continue
            seen.add((src, dst))
            dot.edge(src, dst, color="gray40")
    if "g_build" in {f"g_{m}" for m in groups} and "g_build check cache" in {f"g_{m}" for m in groups}:
        dot.edge("g_build check cache", "g_build", style="dotted", label="one each per package")
    return dot
