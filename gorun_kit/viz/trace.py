"""Pictures of a trace (records from :mod:`gorun_kit.trace`): the clone/exec
tree as a graphviz graph and the lifetimes of processes and threads as a
matplotlib timeline.

Both stay readable for big trees (``go build`` makes hundreds of processes):
the graph merges sibling subtrees that are the same job (same program and
option names, same spawn kind, same shape below) into one box marked ``×N``,
numbers siblings by start time, counts threads by kind instead of drawing
them, and caps the number of boxes; the timeline gives every process that
has children its own row and puts all childless processes running the same
program on one shared row.
"""
from __future__ import annotations

import html
from collections import Counter, defaultdict

from ..trace.records import Process, Trace

__all__ = ["process_graph", "lifetime_timeline", "short_flags", "ptrace_stops_graph"]


def short_flags(names) -> str:
    """CLONE_VM|CLONE_VFORK|SIGCHLD -> VM|VFORK|SIGCHLD (for edge labels)."""
    return "|".join(n.replace("CLONE_", "") for n in names)


def _program(p: Process) -> str:
    if p.execs:
        return p.execs[-1].program
    return "(no exec)"


def _short_arg(arg: str) -> str:
    """A path argument by its last element (``-o /tmp/go-build123/b001/exe/hello``
    -> ``…/hello``), also after ``-flag=``: the temporary directories change every
    run and push everything else out of the box."""
    head, eq, value = arg.partition("=") if arg.startswith("-") else ("", "", arg)
    if "/" in value.rstrip("/")[1:]:
        value = "…/" + value.rstrip("/").rsplit("/", 1)[-1]
    return head + eq + value


def _exec_chain(p: Process, width: int = 48) -> str:
    if not p.execs:
        return "(no exec: a copy of its parent)"
    progs = " → ".join(e.program for e in p.execs)
    args = " ".join(_short_arg(a) for a in p.execs[-1].argv[1:4])
    if len(p.execs[-1].argv) > 4:
        args += " …"
    text = f"{progs} {args}".strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _options(p: Process) -> tuple[str, ...]:
    """The option names the process was started with (``-o``, ``-V`` from
    ``-V=full``), values left out: ``compile -V=full`` (a version query) and
    ``compile -o … -p main …`` (a real compile) are different jobs, while 300
    compiles of different packages are the same job."""
    if not p.execs:
        return ()
    return tuple(sorted({a.split("=", 1)[0] for a in p.execs[-1].argv[1:] if a.startswith("-") and len(a) > 1}))


def _range(counts: list[int]) -> str:
    lo, hi = min(counts), max(counts)
    return str(lo) if lo == hi else f"{lo}–{hi}"


class _Tree:
    """The trace indexed for drawing: children of each process in start order,
    and the threads of each process with their kinds."""

    def __init__(self, trace: Trace, same_options: bool):
        self.procs = trace.processes()
        self.same_options = same_options
        self.children: dict[int, list[int]] = defaultdict(list)
        for p in self.procs.values():
            if p.parent_pid is not None and p.parent_pid in self.procs:
                self.children[p.parent_pid].append(p.pid)
        for kids in self.children.values():  # by start time
            kids.sort(key=lambda c: (self.procs[c].start_ns is None, self.procs[c].start_ns or 0))
        self.thread_kinds: dict[int, Counter] = defaultdict(Counter)
        self.thread_list: dict[int, list[int]] = defaultdict(list)
        self.kinds_by_tid: dict[int, str] = {}
        for s, k in trace.classify().items():
            if s.is_thread:
                self.thread_kinds[s.child_pid][k] += 1
                self.thread_list[s.child_pid].append(s.child_tid)
                self.kinds_by_tid[s.child_tid] = k
        self._signatures: dict[int, tuple] = {}

    def signature(self, pid: int) -> tuple:
        """What makes two subtrees "the same job" for collapsing them into one box."""
        if pid not in self._signatures:
            p = self.procs[pid]
            self._signatures[pid] = (
                _program(p), p.kind, p.spawn.syscall if p.spawn else None,
                p.spawn.flags if p.spawn else None, tuple(sorted(self.thread_kinds[pid])),
                _options(p) if self.same_options else None,
                tuple(sorted(Counter(self.signature(c) for c in self.children[pid]).items())))
        return self._signatures[pid]

    def threads_row(self, members: list[int], count: int, threads_inline: int) -> str | None:
        pid = members[0]
        tk = self.thread_kinds[pid]
        if not tk:
            return None
        if count == 1 and sum(tk.values()) <= threads_inline:
            return "threads: " + ", ".join(f"{t} ({self.kinds_by_tid[t]})" for t in self.thread_list[pid])
        return ("threads: " + ", ".join(f"{k} ×{_range([self.thread_kinds[m][k] for m in members])}"
                                       for k, _ in tk.most_common())
                + (" each" if count > 1 else ""))

    def label(self, members: list[int], count: int, threads_inline: int) -> str:
        """The HTML label of a box standing for ``count`` processes like ``members[0]``."""
        p = self.procs[members[0]]
        head = f"pid {p.pid}" if count == 1 else f"{count} processes like pid {p.pid}"
        rows = [f"<B>{html.escape(head)}</B>", html.escape(_exec_chain(p))]
        if p.kind == "go-pidfd-probe":
            rows.append("pidfd probe: no exit signal, never execs")
        if p.exec_failures:
            rows.append(f"{len(p.exec_failures)} failed exec attempt(s)")
        threads = self.threads_row(members, count, threads_inline)
        if threads:
            rows.append(threads)
        if p.signal:
            rows.append(f"killed by {p.signal}")
        elif p.exit_code not in (0, None):
            rows.append(f"exit {p.exit_code}")
        return "<" + "<BR/>".join(rows) + ">"


def _edge_label(first: Process, rank: int | None) -> str:
    s = first.spawn
    edge = f"{s.syscall} {short_flags(s.flag_names)}" if s else ""
    if first.kind:
        edge += f"\\n[{first.kind}]"
    return f"{rank}. {edge}" if rank is not None else edge


class _Drawer:
    """Adds boxes and edges to ``graph`` depth first, counting boxes against the cap."""

    def __init__(self, graph, tree: _Tree, *, max_boxes: int, threads_inline: int, collapse: bool,
                 numbered: bool):
        self.g, self.tree, self.boxes = graph, tree, 0
        self.max_boxes, self.threads_inline = max_boxes, threads_inline
        self.collapse, self.numbered = collapse, numbered

    def groups(self, pid: int) -> list[list[int]]:
        """The children of ``pid``, same jobs together when collapsing, in start order."""
        out: dict[tuple, list[int]] = {}
        for c in self.tree.children[pid]:
            out.setdefault(self.tree.signature(c) if self.collapse else (c,), []).append(c)
        return list(out.values())

    def box(self, members: list[int], count: int) -> str:
        self.boxes += 1
        p = self.tree.procs[members[0]]
        node = f"p{p.pid}"
        style = "rounded" + (",filled" if count > 1 else "") + ("" if p.execs else ",dashed")
        self.g.node(node, self.tree.label(members, count, self.threads_inline), style=style,
                    fillcolor="lightyellow", color="black" if p.execs else "grey40",
                    fontcolor="black" if p.execs else "grey25")
        groups = self.groups(p.pid)
        for i, group in enumerate(groups):
            if self.boxes >= self.max_boxes:
                rest = sum(len(m) for m in groups[i:])
                self.g.node(f"more{p.pid}", f"… {rest} more processes", shape="plaintext")
                self.g.edge(node, f"more{p.pid}")
                break
            first = self.tree.procs[group[0]]
            edge = _edge_label(first, i + 1 if self.numbered and len(groups) > 1 else None)
            child_node = self.box(group, len(group) * count)
            quiet = first.spawn is not None and not first.spawn.exit_signal
            self.g.edge(node, child_node, label=edge + (f"\\n×{len(group)}" if len(group) > 1 else ""),
                        **({"style": "dashed", "color": "grey40"} if quiet else {}))
        return node


def process_graph(trace: Trace, *, max_boxes: int = 80, threads_inline: int = 6, collapse: bool = True,
                  same_options: bool = True, numbered: bool = True, title: str | None = None):
    """The clone/exec tree: one box per process (pid, the programs it exec'd,
    its argv with paths shortened), its threads inside it (listed when at most
    ``threads_inline``, else counted by kind), edges labelled with the spawn
    syscall, flags and kind (see :data:`gorun_kit.trace.SPAWN_KINDS`).

    ``collapse`` merges sibling subtrees that are the same job into one box
    ``×N``: same program, same spawn, same kinds of threads (their number
    may differ: it is a runtime decision) and the same shape below; with
    ``same_options`` also the same option names (see :func:`_options`).
    Beyond ``max_boxes`` the remaining children of a box become one
    "… N more" box. ``numbered`` prefixes each edge with the rank of its
    group among its siblings by start time (``1.``, ``2.``, ...) and keeps
    siblings in that order top to bottom, so a sequence of jobs (compile,
    link, run) reads from top to bottom. A process that never exec'd (a
    copy of its parent, e.g. Go's pidfd probe) is drawn dashed and grey,
    and so is the edge to it when the child has no exit signal.
    Returns a ``graphviz.Digraph``.
    """
    from .graph import Graph

    # ordering=out keeps siblings top to bottom in the order they are added (start time)
    g = Graph("trace", graph_attr={"rankdir": "LR", "fontsize": "10", "ordering": "out",
                                              "ranksep": "1.2"},
                         node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "8"})
    if title:
        g.attr(label=title, labelloc="t")
    drawer = _Drawer(g, _Tree(trace, same_options), max_boxes=max_boxes, threads_inline=threads_inline,
                     collapse=collapse, numbered=numbered)
    drawer.box([trace.root_pid], 1)
    return g


def lifetime_timeline(trace: Trace, *, max_rows: int = 40, max_thread_lanes: int = 6):
    """Processes and threads over time (ms since the trace started).

    Every process with children gets a row of its own (its threads as thin
    bars under the process bar, in at most ``max_thread_lanes`` lanes);
    childless processes share one row per program, each drawn as a bar at
    its own time. Beyond ``max_rows`` rows the rest are summed in a last row.
    Returns a matplotlib Figure.
    """
    from matplotlib.figure import Figure

    procs = trace.processes()
    lifetimes = trace.lifetimes()
    if not lifetimes:
        raise ValueError("lifetime_timeline needs a trace with at least one process")
    t0 = min(lt.start_ns for lt in lifetimes)
    parents = {p.parent_pid for p in procs.values() if p.parent_pid is not None}
    proc_span = {lt.id: (lt.start_ns, lt.end_ns) for lt in lifetimes if lt.kind == "process"}
    thread_spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for lt in lifetimes:
        if lt.kind == "thread" and lt.id != lt.pid:
            thread_spans[lt.pid].append((lt.start_ns, lt.end_ns))

    rows: list[tuple[str, list[int]]] = []  # label, pids drawn on that row
    shared: dict[str, list[int]] = {}
    for p in procs.values():
        if p.pid in parents or p.pid == trace.root_pid:
            rows.append((f"{_program(p)} [{p.pid}]", [p.pid]))
        else:
            shared.setdefault(_program(p), []).append(p.pid)
    for prog, pids in sorted(shared.items(), key=lambda kv: min(proc_span[x][0] for x in kv[1])):
        rows.append((f"{prog} ×{len(pids)}" if len(pids) > 1 else f"{prog} [{pids[0]}]", pids))
    if len(rows) > max_rows:
        rest = [pid for _, pids in rows[max_rows - 1:] for pid in pids]
        rows = rows[: max_rows - 1] + [(f"{len(rest)} other processes", rest)]

    fig = Figure(figsize=(10, 1.0 + 0.32 * len(rows)))
    ax = fig.subplots()
    ms = 1e-6
    for y, (lab, pids) in enumerate(rows):
        bars = [((proc_span[p][0] - t0) * ms, max((proc_span[p][1] - proc_span[p][0]) * ms, 0.05)) for p in pids]
        ax.broken_barh(bars, (y - 0.3, 0.34), facecolors="tab:blue", alpha=0.8)
        if len(pids) == 1:
            spans = sorted(thread_spans.get(pids[0], []))
            lane_h = 0.24 / max_thread_lanes
            for i, (a, b) in enumerate(spans):
                lane = i % max_thread_lanes
                ax.broken_barh([((a - t0) * ms, max((b - a) * ms, 0.05))],
                               (y + 0.08 + lane * lane_h, lane_h * 0.8), facecolors="tab:orange")
            if spans:
                lab += f" ({len(spans)} threads)"
        rows[y] = (lab, pids)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms since the trace started")
    ax.set_title(f"lifetimes: {len(procs)} processes (blue), "
                 f"{sum(len(v) for v in thread_spans.values())} threads (orange)", fontsize=10)
    fig.tight_layout()
    return fig


def ptrace_stops_graph(stops, *, title: str | None = None):
    """The stops of one child and its parent under the tracer, top to bottom.

    ``stops`` are :class:`gorun_kit.trace.stops.PtraceStop` records
    (:func:`gorun_kit.trace.stops.child_stops`). The parent's stops sit in
    the left column, the child's in the right; arrows follow the logical
    order, and the arrow from the parent's event stop to the child's initial
    stop is labelled "either may arrive first", since those two reach the
    tracer in either order. A stop with a record shows its time after the first stop
    (``+N µs``); one the tracer only counts is drawn dashed ("counted, no
    record"). Returns a :class:`gorun_kit.viz.graph.Graph`.
    """
    import textwrap

    from .graph import Graph

    stops = sorted(stops, key=lambda s: s.order)
    if not stops:
        raise ValueError("ptrace_stops_graph needs the stops of a child (gorun_kit.trace.stops.child_stops)")
    t0 = next((s.ts_ns for s in stops if s.ts_ns is not None), 0)
    g = Graph("ptrace_stops", graph_attr={"rankdir": "TB", "fontsize": "10", "nodesep": "0.3", "ranksep": "0.25",
                                           "newrank": "true"},
              node_attr={"shape": "box", "style": "rounded", "fontname": "Helvetica", "fontsize": "9"},
              edge_attr={"fontname": "Helvetica", "fontsize": "8", "color": "grey30"})
    if title:
        g.attr(label=title, labelloc="t")
    for task in ("parent", "child"):
        mine = [s for s in stops if s.task == task]
        if not mine:
            continue
        with g.subgraph(name=f"cluster_{task}") as c:
            c.attr(label=f"{task} (pid {mine[0].pid})", style="rounded", color="grey60")
            for s in mine:
                when = f"+{(s.ts_ns - t0) / 1000:.0f} µs" if s.ts_ns is not None else "counted, no record"
                detail = "\n".join(textwrap.wrap(s.detail, 38))
                c.node(f"s{s.order}", f"{s.order + 1}. {s.ptrace}\n{detail}\n[{s.kind}: {when}]",
                       style="rounded" + (",dashed" if s.ts_ns is None else ""),
                       color="black" if s.kind != "exit" else "grey40")
    # one rank per stop keeps the logical order top to bottom across both columns
    for s in stops:
        with g.subgraph() as r:
            r.attr(rank="same")
            r.node(f"s{s.order}")
    for a, b in zip(stops, stops[1:]):
        either = a.kind == "spawn_event" and b.kind == "initial"
        g.edge(f"s{a.order}", f"s{b.order}", **({"label": " either may\n arrive first", "style": "dashed"}
                                               if either else {}))
    return g
