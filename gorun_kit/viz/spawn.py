"""Pictures for chapter 3: spawn latency against the parent's resident memory."""
from __future__ import annotations

from typing import Sequence

__all__ = ["latency_plot"]

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
