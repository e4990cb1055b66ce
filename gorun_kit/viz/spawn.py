"""Pictures for chapter 3: spawn latency against the parent's resident memory."""
from __future__ import annotations

from typing import Sequence

__all__ = ["latency_plot", "spawn_sequence"]

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


def _lane_step(ax, x_line, y, text, side, *, color="black"):
    ax.plot([x_line], [y], "o", color=color, ms=4, zorder=3)
    dx = -0.02 if side == "left" else 0.02
    ax.text(x_line + dx, y, text, ha="right" if side == "left" else "left", va="center", fontsize=8,
            family="monospace", color=color,
            bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.6", lw=0.6))


def _message(ax, x1, y1, x2, y2, label, *, style="-|>", color="tab:blue", dashed=False):
    ax.annotate("", xy=(x2, y2), xytext=(x1, y1),
                arrowprops=dict(arrowstyle=style, color=color, lw=1.2, ls="--" if dashed else "-",
                                shrinkA=4, shrinkB=4))
    ax.text((x1 + x2) / 2, (y1 + y2) / 2 - 0.15, label, ha="center", va="bottom", fontsize=7.5, color=color,
            rotation=0, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))


def spawn_sequence(panels, *, title: str | None = None):
    """Go's fork/exec as a sequence diagram, one panel per run.

    ``panels`` maps a panel title to the :class:`gorun_kit.spawn.SpawnStep`
    records of one spawn (:func:`gorun_kit.spawn.go_spawn_steps`). Each panel
    has a parent and a child lifeline; steps are placed top to bottom in their
    ``order``, parent steps left of its line, child steps right of its line.
    Arrows: the clone (new process, same memory), the parent held by
    CLONE_VFORK (grey bar) until clone returns, what the status pipe carries
    (EOF after a successful execve, the 8-byte errno after a failed one), and
    the child's end reaching the parent's wait. Returns a matplotlib Figure.
    """
    from matplotlib.figure import Figure

    panels = {k: list(v) for k, v in panels.items()}
    if not panels or not all(panels.values()):
        raise ValueError("spawn_sequence needs at least one panel with steps (gorun_kit.spawn.go_spawn_steps)")
    heights = [len(v) + 1.5 for v in panels.values()]
    fig = Figure(figsize=(9, 0.42 * sum(heights) + 0.6))
    axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    xp, xc = 0.42, 0.58
    for ax, (name, steps) in zip(axes, panels.items()):
        steps = sorted(steps, key=lambda s: s.order)
        t0 = steps[0].ts_ns
        y = {s.order: -i for i, s in enumerate(steps)}
        by_call = {}
        for s in steps:
            by_call.setdefault((s.lane, s.call), s)
        child = [s for s in steps if s.lane == "child"]
        last = -(len(steps) - 1)
        ax.plot([xp, xp], [0.6, last - 0.4], color="0.3", lw=1)
        if child:
            ax.plot([xc, xc], [y[child[0].order] + 0.4, y[child[-1].order] - 0.2], color="0.3", lw=1)
        ax.text(xp, 0.9, "parent (Go)", ha="center", fontsize=9, weight="bold")
        ax.text(xc, 0.9, "child", ha="center", fontsize=9, weight="bold")
        for s in steps:
            # the clone is split (<unfinished> ... <resumed>) and stamped at its return, which
            # "clone returns" shows; the call itself gets no time. Other stamps may be entries.
            stamp = f"  +{(s.ts_ns - t0) / 1000:.0f} µs" if s.lane == "parent" and s.call != "clone" else ""
            text = s.text + stamp if s.lane == "child" else f"{s.text}{stamp}"
            _lane_step(ax, xp if s.lane == "parent" else xc, y[s.order], text,
                       "left" if s.lane == "parent" else "right")
        clone, back = by_call.get(("parent", "clone")), by_call.get(("parent", "clone returns"))
        if clone and back:
            ax.plot([xp, xp], [y[clone.order] - 0.15, y[back.order] + 0.15], color="0.55", lw=6,
                    solid_capstyle="butt", zorder=2)
            span = y[clone.order] - y[back.order]
            ax.text(xp + 0.012, (y[clone.order] + y[back.order]) / 2 - 0.2,
                    "held (CLONE_VFORK)" if span >= 3 else "held", rotation=90, ha="left", va="center",
                    fontsize=7, color="0.45")
        if clone and child:
            _message(ax, xp, y[clone.order], xc, y[child[0].order], "new process,\nsame memory")
        read = by_call.get(("parent", "read"))
        if read is not None:
            src = by_call.get(("child", "write")) or by_call.get(("child", "execve"))
            label = "EOF" if read.ret == 0 else f"{read.ret} bytes (errno)"
            if src is not None:
                _message(ax, xc, y[src.order], xp, y[read.order], label, color="tab:green" if read.ret == 0
                         else "tab:red", dashed=True)
        end = next((s for s in reversed(child) if s.call in ("exit", "exit_group")), None)
        wait = next((s for s in steps if s.lane == "parent" and s.call in ("waitid", "wait4")), None)
        if end is not None and wait is not None:
            _message(ax, xc, y[end.order], xp, y[wait.order], "exit status", color="0.35")
        ax.set_xlim(0, 1)
        ax.set_ylim(last - 0.7, 1.2)
        ax.axis("off")
        ax.set_title(name, fontsize=9.5, loc="left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
