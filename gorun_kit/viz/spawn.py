"""Pictures for chapter 3: spawn latency against the parent's resident memory."""
from __future__ import annotations

from typing import Sequence

__all__ = ["latency_plot", "process_tree_graph"]

_STYLE = {  # copying methods solid and warm, sharing methods dashed and cool
    "fork": ("tab:red", "-", "o"),
    "system": ("tab:orange", "-", "s"),
    "vfork": ("tab:blue", "--", "^"),
    "posix_spawn": ("tab:cyan", "--", "v"),
    "posix_spawnp": ("tab:olive", "--", "<"),
    "clone_stack": ("tab:purple", "--", ">"),
    "clone_vm_raw": ("tab:green", "--", "D"),
    "go_exec_command": ("black", ":", "x"),
    "go_startprocess": ("tab:gray", ":", "+"),
}


def latency_plot(points: Sequence, *, title: str | None = None):
    """Median spawn+reap latency (ms, log scale) per method against touched memory (MiB).

    ``points`` are :class:`gorun_kit.bench.spawn.LatencyPoint` records (or
    dicts with the same fields). Returns a matplotlib Figure.
    """
    from matplotlib.figure import Figure

    def get(p, k):
        return p[k] if isinstance(p, dict) else getattr(p, k)

    if not points:
        raise ValueError("latency_plot needs at least one measurement point")
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    methods = list(dict.fromkeys(get(p, "method") for p in points))
    sizes = sorted({get(p, "touched_bytes") for p in points})
    for m in methods:
        pts = sorted((get(p, "touched_bytes"), get(p, "median_ns")) for p in points if get(p, "method") == m)
        color, ls, marker = _STYLE.get(m, (None, "-", "."))
        ax.plot([s / (1 << 20) for s, _ in pts], [ns / 1e6 for _, ns in pts], ls, color=color, marker=marker, label=m)
    ax.set_xscale("symlog", linthresh=256)
    ax.set_xticks([s / (1 << 20) for s in sizes])
    ax.set_xticklabels([("0" if s == 0 else f"{s >> 20}") for s in sizes])
    ax.set_yscale("log")
    ax.set_xlabel("parent's touched (resident) memory, MiB")
    ax.set_ylabel("median spawn + reap of /bin/true, ms")
    ax.set_title(title or "fork copies page tables; CLONE_VM spawns copy nothing")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def _arg_label(arg: str) -> str:
    # paths by their last element; long values cut, so labels stay readable and
    # free of machine-specific directories
    if "/" in arg and not arg.startswith("-"):
        arg = arg.rstrip("/").rsplit("/", 1)[-1]
    return arg if len(arg) <= 24 else arg[:21] + "..."


def process_tree_graph(nodes: Sequence, *, max_args: int = 3, title: str | None = None):
    """A graphviz.Digraph of :class:`gorun_kit.spawn.ProcessNode` records: one box
    per process (the program it became, a few arguments), edges labelled with
    the clone call that created it. The probe children (no exit signal) are dashed."""
    import graphviz

    g = graphviz.Digraph("process_tree", graph_attr={"rankdir": "LR", "fontsize": "10"},
                         node_attr={"shape": "box", "fontname": "monospace", "fontsize": "9"},
                         edge_attr={"fontname": "monospace", "fontsize": "8"})
    if title:
        g.attr(label=title, labelloc="t")
    ids = {n.pid: f"p{i}" for i, n in enumerate(nodes)}  # stable names: pids differ every run
    for n in nodes:
        argv = n.execs[-1] if n.execs else ()
        args = " ".join(_arg_label(a) for a in argv[1:1 + max_args]) + (" ..." if len(argv) > 1 + max_args else "")
        label = (n.program + ("\n" + args if args else "")) if n.execs else "(no exec: exits at once)"
        probe = bool(n.spawn) and "SIGCHLD" not in n.spawn
        g.node(ids[n.pid], label, style="dashed" if probe else "solid")
        if n.parent is not None and n.parent in ids:
            g.edge(ids[n.parent], ids[n.pid], label=n.spawn.replace("CLONE_", "").replace("(", "(\n"))
    return g
