"""Pictures of the start-up benchmark (records from :mod:gorun_kit.bench.startup)."""
from __future__ import annotations

__all__ = ["startup_figure"]


def startup_figure(report):
    """Three panels -- start-up time, peak RSS, threads -- one bar per program.

    Bars are medians; the dots are the single runs, so the spread is visible.
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
        ("threads when main runs", lambda r: r.threads, lambda run: run.threads, False),
    ]
    colours = ["#4c72b0" if r.probe.name.startswith("c-") else "#c44e52" if r.probe.name.startswith("go")
               else "#8c8c8c" for r in results]
    for ax, (title, median, single, log) in zip(axes, panels):
        ys = range(len(results))
        ax.barh(list(ys), [median(r) for r in results], color=colours)
        for y, r in zip(ys, results):
            ax.scatter([single(run) for run in r.runs], [y] * len(r.runs), s=6, color="black", zorder=3)
            ax.text(median(r), y, f" {median(r):.3g}", va="center", fontsize=7)
        if log:
            ax.set_xscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_yticks(list(ys), labels if ax is axes[0] else [""] * len(results), fontsize=8)
        ax.invert_yaxis()
    skipped = [f"{r.probe.label}: {r.probe.skipped}" for r in report.results if r.probe.skipped]
    fig.suptitle(f"hello world, {report.repeats} runs each (bars: medians)"
                 + (f"; skipped: {'; '.join(skipped)}" if skipped else ""), fontsize=10)
    fig.tight_layout()
    return fig
