"""Pictures of what a binary is made of (records from :mod:gorun_kit.binary)."""
from __future__ import annotations

from typing import Mapping, Sequence

from ..binary import C_CODE, SECTION_GROUPS, BinaryReport, Section, is_runtime_package

__all__ = ["package_bars", "section_bars", "RUNTIME_SPLIT"]

# package_bars draws the runtime-internal packages (internal/runtime/...) as one segment
RUNTIME_SPLIT = "runtime-internal packages (internal/runtime/*)"


def _merge_runtime_helpers(report: BinaryReport) -> dict[str, int]:
    merged: dict[str, int] = {}
    for p in report.packages:
        key = RUNTIME_SPLIT if is_runtime_package(p.package) and p.package != "runtime" else p.package
        merged[key] = merged.get(key, 0) + p.text_bytes
    return merged


def package_bars(reports: Mapping[str, BinaryReport], *, top: int = 8):
    """Text bytes per package for each program, as stacked horizontal bars.

    One bar per program; the ``top`` largest packages over all programs get
    their own colour, the rest are summed as "other". The runtime is drawn
    in red as two segments: ``runtime`` itself and :data:`RUNTIME_SPLIT`
    (the ``internal/runtime/...`` packages, summed), so the bar's red
    part is :attr:`BinaryReport.runtime_bytes` and the label beside it its share.
    Returns a matplotlib Figure.
    """
    import matplotlib
    from matplotlib.figure import Figure

    if not reports:
        raise ValueError("package_bars needs at least one BinaryReport")
    merged = {name: _merge_runtime_helpers(r) for name, r in reports.items()}
    totals: dict[str, int] = {}
    for m in merged.values():
        for k, n in m.items():
            totals[k] = totals.get(k, 0) + n
    chosen = sorted(totals, key=lambda k: -totals[k])[:top]
    if RUNTIME_SPLIT in totals and RUNTIME_SPLIT not in chosen:
        chosen.append(RUNTIME_SPLIT)
    # C code (cgo's glue, crt files) is small but is the point of the cgo bar: always show it.
    if C_CODE in totals and C_CODE not in chosen:
        chosen.append(C_CODE)
    # Runtime first, so every bar starts with it.
    is_rt = lambda k: k == RUNTIME_SPLIT or is_runtime_package(k)
    chosen.sort(key=lambda k: (not is_rt(k), k != "runtime", -totals[k]))
    reds = matplotlib.colormaps["Reds"]
    # tab10 without its red (index 3), so only runtime packages are red.
    others = [c for i, c in enumerate(matplotlib.colormaps["tab10"].colors) if i != 3]
    n_rt = sum(is_rt(k) for k in chosen)
    colours = {}
    i_rt = i_other = 0
    for k in chosen:
        if is_rt(k):
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
        r, m = reports[name], merged[name]
        left = 0.0
        for k in chosen + ["other"]:
            kib = (m.get(k, 0) if k != "other" else sum(n for p, n in m.items() if p not in chosen)) / 1024
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


_SECTION_COLOURS = {
    "machine code": "#c44e52", "Go's function table (.gopclntab)": "#dd8452",
    "types and read-only data": "#937860", "data": "#8172b3",
    "DWARF debug info": "#4c72b0", "ELF symbol table": "#64b5cd", "other": "#bbbbbb",
}


def section_bars(layouts: Mapping[str, Sequence[Section]]):
    """Bytes in the file per kind of ELF section, one stacked bar per binary.

    ``layouts`` maps a label ("go build", "go run", ...) to the
    :func:`gorun_kit.binary.sections` of that binary. Sections are grouped by
    :data:`gorun_kit.binary.SECTION_GROUPS`; groups that are not loaded at run
    time (DWARF, the ELF symbol table) are hatched, so what stripping removes
    stands out. Zero-filled sections (``.bss``) take no file bytes and are
    left out. The bytes in the file's sections (in MiB, not the file size: headers and padding are left out) are written after each bar. Returns a Figure.
    """
    import matplotlib
    from matplotlib.figure import Figure

    if not layouts:
        raise ValueError("section_bars needs at least one binary's sections")
    order = [g for g, _ in SECTION_GROUPS if g in _SECTION_COLOURS] + ["other"]
    fig = Figure(figsize=(10, 1.3 + 0.55 * len(layouts)))
    ax = fig.subplots()
    names = list(layouts)
    widest = 0.0
    for row, name in enumerate(names):
        secs = [s for s in layouts[name] if s.in_file]
        left = 0.0
        for group in order:
            part = [s for s in secs if (s.group if s.group in _SECTION_COLOURS else "other") == group]
            mib = sum(s.size for s in part) / 2**20
            if mib <= 0:
                continue
            loaded = any(s.loaded for s in part)
            ax.barh(row, mib, left=left, color=_SECTION_COLOURS[group], edgecolor="white", linewidth=0.5,
                    hatch=None if loaded else "//")
            left += mib
        widest = max(widest, left)
        ax.text(left, row, f"  {left:.2f} MiB in sections", va="center", fontsize=8)
    ax.set_xlim(0, widest * 1.15)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    handles = [matplotlib.patches.Patch(facecolor=_SECTION_COLOURS[g], label=g,
                                        hatch="//" if g in ("DWARF debug info", "ELF symbol table") else None)
               for g in order]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlabel("MiB in the file's sections (hatched: not loaded when the program runs)")
    ax.set_title("What the bytes of the executable file are")
    fig.tight_layout()
    return fig
