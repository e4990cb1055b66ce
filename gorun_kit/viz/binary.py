"""Pictures of what a binary is made of (records from :mod:gorun_kit.binary)."""
from __future__ import annotations

from typing import Mapping

from ..binary import C_CODE, BinaryReport, is_runtime_package

__all__ = ["package_bars"]


def package_bars(reports: Mapping[str, BinaryReport], *, top: int = 8):
    """Text bytes per package for each program, as stacked horizontal bars.

    One bar per program; the ``top`` largest packages over all programs get
    their own colour (runtime packages in shades of red, so the runtime's
    share is visible at a glance), the rest are summed as "other".
    Returns a matplotlib Figure.
    """
    import matplotlib
    from matplotlib.figure import Figure

    if not reports:
        raise ValueError("package_bars needs at least one BinaryReport")
    totals: dict[str, int] = {}
    for r in reports.values():
        for p in r.packages:
            totals[p.package] = totals.get(p.package, 0) + p.text_bytes
    chosen = sorted(totals, key=lambda k: -totals[k])[:top]
    # C code (cgo's glue, crt files) is small but is the point of the cgo bar: always show it.
    if C_CODE in totals and C_CODE not in chosen:
        chosen.append(C_CODE)
    # Runtime first, so every bar starts with it.
    chosen.sort(key=lambda k: (not is_runtime_package(k), k != "runtime", -totals[k]))
    reds = matplotlib.colormaps["Reds"]
    # tab10 without its red (index 3), so only runtime packages are red.
    others = [c for i, c in enumerate(matplotlib.colormaps["tab10"].colors) if i != 3]
    n_rt = sum(is_runtime_package(k) for k in chosen)
    colours = {}
    i_rt = i_other = 0
    for k in chosen:
        if is_runtime_package(k):
            colours[k] = reds(0.85 - 0.5 * i_rt / max(n_rt, 1))
            i_rt += 1
        elif k == C_CODE:
            colours[k] = "black"
        else:
            colours[k] = others[i_other % len(others)]
            i_other += 1
    fig = Figure(figsize=(10, 1.2 + 0.7 * len(reports)))
    ax = fig.subplots()
    names = list(reports)
    for row, name in enumerate(names):
        r = reports[name]
        left = 0.0
        for k in chosen + ["other"]:
            kib = (r.bytes_of(k) if k != "other"
                   else sum(p.text_bytes for p in r.packages if p.package not in chosen)) / 1024
            if kib <= 0:
                continue
            ax.barh(row, kib, left=left, color=colours.get(k, "lightgrey"), edgecolor="white", linewidth=0.5)
            left += kib
        ax.text(left, row, f"  runtime {r.runtime_share:.0%}", va="center", fontsize=8)
    handles = [matplotlib.patches.Patch(color=colours.get(k, "lightgrey"), label=k) for k in chosen + ["other"]]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlim(0, max(sum(p.text_bytes for p in r.packages) for r in reports.values()) / 1024 * 1.18)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("KiB of machine code (.text functions)")
    ax.set_title("Where the machine code of each program comes from")
    fig.tight_layout()
    return fig
