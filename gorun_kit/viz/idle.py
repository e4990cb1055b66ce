"""A picture of an idle Go program's threads (records from :mod:`gorun_kit.threads.proc`)."""
from __future__ import annotations

from typing import Sequence

__all__ = ["idle_threads_graph"]


def _colour(role: str) -> str:
    if "m0" in role:
        return "#c6dbef"
    if "sysmon" in role:
        return "#fdd0a2"
    if "parked" in role:
        return "#e5f5e0"
    return "#eeeeee"


def idle_threads_graph(threads: Sequence, *, pid: int | None = None):
    """One box for the process, one per thread: its runtime role, its M, what it is blocked in.

    ``threads`` are :class:`gorun_kit.threads.proc.ThreadRole` records (from
    ``observe_idle`` or ``thread_roles``). Each thread box gives the role (up
    to its first ";"), the M number when it was read from the runtime's memory
    ("M?" when not), and the system call and kernel wait channel it sleeps in;
    a role that is only inferred is drawn dashed. The leader thread (tid = pid)
    is the process's own, so ``pid`` defaults to its tid. Returns a
    :class:`~gorun_kit.viz.graph.Graph`.
    """
    from .graph import Graph

    if not threads:
        raise ValueError("idle_threads_graph needs at least one thread record")
    leader = next((t for t in threads if t.leader), None)
    pid = pid if pid is not None else (leader.task.tid if leader else 0)
    comm = threads[0].task.comm
    g = Graph("idle_threads", graph_attr={"rankdir": "LR", "nodesep": "0.15", "fontsize": "10"},
              node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "10"},
              edge_attr={"arrowsize": "0.5", "color": "#777777", "fontname": "Helvetica", "fontsize": "8"})
    n_comm = len({t.task.comm for t in threads})
    same = "one comm" if n_comm == 1 else f"{n_comm} different comms"
    g.node("process", f"process {comm}\\npid {pid}\\n{len(threads)} threads, {same}", fillcolor="white")
    for t in threads:
        m = f"M{t.m_id}" if t.m_id is not None else "M?"
        role = t.role.split(";", 1)[0]
        blocked = t.task.syscall if t.task.syscall else "?"
        style = "rounded,filled" if t.certain else "rounded,filled,dashed"
        g.node(f"t{t.task.tid}", f"tid {t.task.tid} · {m}\\n{role}\\nblocked in {blocked} ({t.task.wchan})",
               fillcolor=_colour(t.role), style=style)
        g.edge("process", f"t{t.task.tid}", label="leader (tid = pid)" if t.leader else "")
    return g
