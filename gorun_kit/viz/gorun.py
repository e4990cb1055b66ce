"""Pictures of what ``go run`` does: its action graph, readable, and the
phases of one or more runs on a time axis (:func:`phase_timeline`).

A real graph has ~120 actions (two per standard-library package); drawn
as-is it is a hairball. Here the spine a student needs -- ``go run`` ->
``link`` -> ``build`` of main -- is drawn large and coloured, every
standard-library action is folded into one box per mode (with a count and
how many actually ran a tool), and packages outside std stay visible.
"""
from __future__ import annotations

import graphviz

from .graph import Graph

from typing import Sequence

from ..gorun import ActionGraph, CommandLog

__all__ = ["action_graph", "phase_timeline"]

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


_LANES = (("std", "standard library\n(cache checks, builds)", "#9e9e9e"),
          ("build", "compile main", "#2ca02c"),
          ("link", "link", "#ff7f0e"),
          ("go run", "run the program\n(buildRunProgram)", "#d62728"))


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f} ms" if ms >= 1 else "<1 ms"


def phase_timeline(runs: Sequence[tuple[str, CommandLog]]):
    """Each ``go run`` on a time axis in ms from its first action, from Go's own
    action-graph timestamps (``TimeStart``/``TimeDone``) in the log's records.

    One panel per (label, log), on a shared axis; lanes top to bottom: the
    standard-library actions (each a thin bar), the build of main, the link,
    and the root action that starts the program and waits for it. A solid bar
    ran a tool (compile, link); a pale hatched bar was answered from the build
    cache. Each spine bar is labelled with its duration. Returns a Figure.
    """
    from matplotlib.figure import Figure

    if not runs:
        raise ValueError("phase_timeline: give at least one (label, CommandLog)")
    fig = Figure(figsize=(9, 1.0 + 1.9 * len(runs)))
    axes = fig.subplots(len(runs), 1, sharex=True, squeeze=False)[:, 0]
    end = max((a.done or 0) for _, log in runs for a in log.graph.actions)
    for ax, (label, log) in zip(axes, runs):
        spine = {a.mode: a for a in log.graph.chain()}
        for lane, (key, name, color) in enumerate(_LANES):
            y = len(_LANES) - 1 - lane
            if key == "std":
                acts = [a for a in log.graph.actions if a.std and a.start is not None and a.done is not None]
                ran = sum(1 for a in acts if a.cmd)
                ax.broken_barh([(a.start * 1000, max((a.done - a.start) * 1000, 0.05)) for a in acts],
                               (y - 0.3, 0.6), facecolors=color, alpha=0.35)
                if acts:
                    t1 = max(a.done for a in acts)
                    ax.text(t1 * 1000 + end * 10, y, f"{len(acts)} actions, {ran} ran a tool",
                            va="center", fontsize=8)
                continue
            a = spine.get(key)
            if a is None or a.start is None or a.done is None:
                continue
            solid = bool(a.cmd) or key == "go run"
            ax.broken_barh([(a.start * 1000, max(a.seconds * 1000, 0.3))], (y - 0.3, 0.6),
                           facecolors=color if solid else "white", edgecolors=color,
                           hatch=None if solid else "///", linewidth=1.2)
            how = "" if solid else " (cache hit, no tool)"
            ax.text(a.done * 1000 + end * 10, y, _ms(a.seconds) + how, va="center", fontsize=8)
        ax.set_yticks(range(len(_LANES)), [name for _, name, _ in reversed(_LANES)], fontsize=8)
        ax.set_ylim(-0.6, len(_LANES) - 0.4)
        ax.set_title(f"{label}: {log.shown}  (exit status {log.returncode})", fontsize=9, loc="left")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    axes[-1].set_xlim(0, end * 1000 * 1.28)
    axes[-1].set_xlabel("ms since go's first action (Go's action-graph timestamps)")
    fig.tight_layout()
    return fig
