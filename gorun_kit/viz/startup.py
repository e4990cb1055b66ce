"""Pictures of the start-up benchmark (records from :mod:gorun_kit.bench.startup)."""
from __future__ import annotations

__all__ = ["startup_figure", "startup_scatter", "label_position"]


def _colour(name: str) -> str:
    return "#4c72b0" if name.startswith("c-") else "#c44e52" if name.startswith("go") else "#8c8c8c"


def label_position(values, *, log: bool, span: float | None = None, pad: float = 0.04) -> float:
    """Where a bar's value label starts: just right of the bar *and* of every
    single-run dot drawn over it, so the text never covers the spread.

    ``values`` are the bar's median and its single runs. On a log axis the
    pad is a factor (``1 + 3 * pad``); on a linear one it is ``pad`` times
    ``span``, the largest value on the whole axis (default: of ``values``).
    """
    top = max(values)
    return top * (1 + 3 * pad) if log else top + pad * (span if span is not None else top)


def startup_figure(report):
    """Three panels -- start-up time, peak RSS, threads -- one bar per program.

    Bars are medians; the dots are the single runs, so the spread is visible.
    Each value label sits right of the bar and of its rightmost dot
    (:func:`label_position`), and the axis is widened to hold it.
    Time and memory use log scales: the programs differ by a factor of ~70.
    Skipped probes are left out and named in the title. Returns a Figure.
    """
    from matplotlib.figure import Figure

    results = [r for r in report.results if not r.probe.skipped and r.runs]
    if not results:
        raise ValueError("startup_figure: the report has no probe that ran")
    labels = [r.probe.label for r in results]
    fig = Figure(figsize=(11, 3.6))
    axes = fig.subplots(1, 3)
    panels = [
        ("start-up to exit (ms)", lambda r: r.median_ms, lambda run: run.elapsed_ns / 1e6, True),
        ("peak RSS, ru_maxrss (MiB)", lambda r: r.median_maxrss_kb / 1024, lambda run: run.maxrss_kb / 1024, True),
        ("threads at end of main", lambda r: r.threads, lambda run: run.threads, False),
    ]
    colours = [_colour(r.probe.name) for r in results]
    for ax, (title, median, single, log) in zip(axes, panels):
        ys = range(len(results))
        ax.barh(list(ys), [median(r) for r in results], color=colours)
        right = 0.0
        span = max(max(median(r), *(single(run) for run in r.runs)) for r in results)
        for y, r in zip(ys, results):
            dots = [single(run) for run in r.runs]
            ax.scatter(dots, [y] * len(dots), s=6, color="black", zorder=3)
            x = label_position([median(r), *dots], log=log, span=span)
            ax.text(x, y, f"{median(r):.3g}", va="center", fontsize=7)
            right = max(right, x)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(right=right * 4)
        else:
            ax.set_xlim(0, right * 1.15)
        ax.set_title(title, fontsize=9)
        ax.set_yticks(list(ys), labels if ax is axes[0] else [""] * len(results), fontsize=8)
        ax.invert_yaxis()
    skipped = [f"{r.probe.label}: {r.probe.skipped}" for r in report.results if r.probe.skipped]
    fig.suptitle(f"hello world, {report.repeats} runs each (bars: medians, dots: single runs)"
                 + (f"; skipped: {'; '.join(skipped)}" if skipped else ""), fontsize=10)
    fig.tight_layout()
    return fig


def startup_scatter(report):
    """Start-up time against peak RSS, one dot per run, one colour per program.

    Both axes are logarithmic. Each program's median is a larger marker with
    its label, so the picture answers "does a bigger start cost more time?"
    at a glance. Returns a Figure.
    """
    from matplotlib.figure import Figure

    results = [r for r in report.results if not r.probe.skipped and r.runs]
    if not results:
        raise ValueError("startup_scatter: the report has no probe that ran")
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    markers = "osD^vP*Xh"
    for i, r in enumerate(results):
        colour, marker = _colour(r.probe.name), markers[i % len(markers)]
        ax.scatter([run.maxrss_kb / 1024 for run in r.runs], [run.elapsed_ns / 1e6 for run in r.runs],
                   s=10, color=colour, marker=marker, alpha=0.45)
        x, y = r.median_maxrss_kb / 1024, r.median_ms
        ax.scatter([x], [y], s=60, color=colour, marker=marker, edgecolor="black", zorder=3, label=r.probe.label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("peak RSS, ru_maxrss (MiB)")
    ax.set_ylabel("start-up to exit (ms)")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(f"hello world: time against memory, {report.repeats} runs each (large: median)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig
