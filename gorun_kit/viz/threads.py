"""Pictures of a :class:`gorun_kit.threads.ThreadReport`: which M created
which, and why (a graphviz tree), when each thread appeared (a matplotlib
timeline with a per-M zoom), and of a :class:`gorun_kit.threads.gdb.SchedulerSnapshot`:
each M with its P, its goroutine, its g0 stack and the FS base -> m.tls -> g
chain (:func:`mpg_diagram`). They take records and run nothing."""
from __future__ import annotations

from typing import Sequence

import graphviz

from .graph import Graph
from matplotlib.figure import Figure

__all__ = ["creation_tree", "timeline", "mpg_diagram"]

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


def _wrap(text: str, width: int = 30) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\\n".join(lines + [line] if line else lines)


def creation_tree(report, *, show_tids: bool = False, causes: bool = True) -> graphviz.Digraph:
    """Each M a node; a solid edge from the M that called newm, a dashed one
    from the M that actually cloned the thread when that differs (the
    template thread does it for Ms requested by a locked thread).

    With ``causes`` (and records made with ``CALLERS_EXTENSION``) each edge
    is labelled with the creator function (:func:`~gorun_kit.threads.records.creation_cause`)
    and each node with the reason the M was made."""
    from ..threads.records import creation_cause

    g = Graph("threads", graph_attr={"rankdir": "TB", "fontsize": "11"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "10"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    for m in report.ms:
        label = _label(m) + (f"\\ntid {m.tid}" if show_tids and m.tid is not None else "")
        cause = creation_cause(m) if causes else None
        if cause is not None:
            label += "\\n" + _wrap(cause.reason)
        g.node(f"M{m.m}", label, fillcolor=_COLOURS.get(m.start_fn, "#eeeeee"))
    for m in report.ms:
        if m.asked_by_m is not None:
            cause = creation_cause(m) if causes else None
            label = _wrap(" -> ".join(f.replace("runtime.", "") for f in cause.path), 24) if cause else "newm"
            g.edge(f"M{m.asked_by_m}", f"M{m.m}", label=label)
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
    fig = Figure(figsize=(10, 0.45 * len(ms) + 1.6))
    ax, zoom = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
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
    ax.set_xlabel("ms since m0 ran minit (|: newm, grey: clone to minit)", fontsize=8)
    ax.set_title(title or f"{report.program}: {len(ms)} Ms ({report.go_version})", fontsize=10)
    _zoom(zoom, ms)
    fig.tight_layout()
    return fig


def _zoom(ax, ms) -> None:
    """Per-M lanes in relative time: newm at 0, then clone and minit, in µs."""
    marks = (("t_new", "newm", "black", "|"), ("t_clone", "clone (newm1)", "#3b6fb6", "o"),
             ("t_start", "minit done", "#c0392b", "D"))
    far = 0.0
    for row, m in enumerate(ms):
        if m.t_new is None:
            continue
        points = [((getattr(m, attr) - m.t_new) / 1e3, label, colour, marker)
                  for attr, label, colour, marker in marks if getattr(m, attr) is not None]
        xs = [p[0] for p in points]
        ax.plot(xs, [row] * len(xs), color="#999999", linewidth=1, zorder=1)
        for x, label, colour, marker in points:
            ax.plot([x], [row], marker=marker, color=colour, markersize=7 if marker != "|" else 12,
                    linestyle="", label=label if row == next(i for i, k in enumerate(ms) if k.t_new is not None)
                    else None, zorder=2)
        far = max(far, *xs)
        ax.text(xs[-1], row - 0.3, f" {xs[-1]:.0f} µs", fontsize=7, va="bottom")
    ax.set_xlim(-0.05 * max(far, 1), max(far, 1) * 1.25)
    ax.set_xlabel("µs since this M's newm", fontsize=8)
    ax.set_title("zoom: each M's own newm -> clone -> minit", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")


def mpg_diagram(snapshot) -> graphviz.Digraph:
    """Each thread of a :class:`~gorun_kit.threads.gdb.SchedulerSnapshot` as its
    M (tid, FS base = &m.tls+8, g0 stack bounds), the P it holds and the g it
    runs; the TLS edge goes from the M to the g stored at FS-8 (its g0, a
    goroutine, or none yet for a thread caught in ``runtime.clone``); Ps without
    an M stand apart."""
    g = Graph("mpg", graph_attr={"rankdir": "LR", "fontsize": "10", "nodesep": "0.15", "ranksep": "0.5"},
              node_attr={"fontname": "Helvetica", "fontsize": "9"}, edge_attr={"fontname": "Helvetica", "fontsize": "8"})
    held = {}
    for t in sorted(snapshot.threads, key=lambda t: -t.m_id):  # graphviz stacks them bottom-up: M0 on top
        role = t.role
        head = f"M{t.m_id}  tid {t.tid}" + ("  (m0, main thread)" if t.tid == snapshot.pid else "")
        rows = [f'<TR><TD BGCOLOR="{_COLOURS.get(t.start_fn, "#dfe8f5")}"><B>{head}</B></TD></TR>',
                f"<TR><TD ALIGN=\"LEFT\">FS base {t.fs_base:#x} = &amp;m.tls+8"
                f"{'' if t.fs_is_m_tls_plus_8 else ' (no!)'}</TD></TR>",
                f"<TR><TD ALIGN=\"LEFT\">g0 stack [{t.g0_lo:#x}, {t.g0_hi:#x}) {(t.g0_hi - t.g0_lo) // 1024} KiB</TD></TR>",
                f"<TR><TD ALIGN=\"LEFT\">{role}</TD></TR>"]
        g.node(f"M{t.m_id}", "<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\">" + "".join(rows) + "</TABLE>>",
               shape="plaintext")
        # the g in the TLS slot: FS-8 -> g0 (runtime code) or the goroutine it runs;
        # nothing yet for a thread stopped in runtime.clone before it stored its g0
        if not t.tls_g:
            g.node(f"nog_{t.m_id}", "no g yet (0)", shape="box", style="rounded,dotted")
            g.edge(f"M{t.m_id}", f"nog_{t.m_id}", label="*(FS-8)", color="#3b6fb6", fontcolor="#3b6fb6")
        elif t.on_g0:
            g.node(f"g0_{t.m_id}", f"g0 of M{t.m_id}", shape="box", style="rounded,dashed")
            g.edge(f"M{t.m_id}", f"g0_{t.m_id}", label="*(FS-8)", color="#3b6fb6", fontcolor="#3b6fb6")
        else:
            status = f"\\n{t.curg_status}" if t.curg == t.tls_g else ""
            g.node(f"g{t.tls_goid}", f"g{t.tls_goid}{status}", shape="box", style="rounded,filled",
                   fillcolor="#fde0dc" if t.curg_status == "_Gsyscall" else "#fff3c4")
            g.edge(f"M{t.m_id}", f"g{t.tls_goid}", label="*(FS-8)", color="#3b6fb6", fontcolor="#3b6fb6")
        if t.curg_goid and t.curg != t.tls_g:
            g.node(f"g{t.curg_goid}", f"g{t.curg_goid}\\n{t.curg_status}", shape="box", style="rounded,filled",
                   fillcolor="#fde0dc")
            g.edge(f"M{t.m_id}", f"g{t.curg_goid}", label="m.curg", style="dashed")
        if t.p_id >= 0:
            held[t.p_id] = t.m_id
    for p in snapshot.ps:
        g.node(f"P{p.id}", f"P{p.id}\\n{p.status}", shape="ellipse", style="filled",
               fillcolor="#cdebd0" if p.id in held else "#eeeeee")
        if p.id in held:
            g.edge(f"M{held[p.id]}", f"P{p.id}", label="m.p", dir="both", arrowtail="none", color="#2e7d32")
    return g
