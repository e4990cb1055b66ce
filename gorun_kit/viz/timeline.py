"""A picture of a :class:`gorun_kit.timeline.Timeline`: one lane per track,
on one clock, with the runtime's view layered on the threads' lives.

Inside a lane, from the back to the front: the thread's or process's life (a
thin light bar), GC and other execution-trace ranges, the P the thread holds,
clone -> minit (a short dark bar), the goroutines it runs and their system
calls (hatched); marks are ticks (exec, labelled with the program; exit) and
small triangles (the hook's newm, newm1 and minit). Arrows go from the thread
that cloned to what it made: a thread (one colour) or a process (another).

The zoom axis shows each Go thread made by clone on its own clock: µs since
the tracer saw its clone, a dark bar to ``minit`` (the hook's start record)
and a light one on to its first execution-trace event -- the sub-millisecond
order clone -> minit -> first schedule that the ms axis hides. :func:`lanes` gives the lane order and labels
:func:`draw` uses, so they can be checked without a picture.
"""
from __future__ import annotations

import dataclasses
import math
import os

from matplotlib.figure import Figure
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..records import Record
from ..timeline.model import Timeline

__all__ = ["Lane", "lanes", "draw", "COLOURS"]

# One colour per category (gorun_kit.timeline.CATEGORIES); lives light, the runtime's view darker.
COLOURS = {
    "process": "#cfe0f3",
    "thread": "#dcdcdc",
    "creation": "#333333",
    "proc": "#9fd89a",
    "goroutine": "#6baed6",
    "syscall": "#fc9272",
    "gc": "#9e76c4",
    "runtime": "#e6b32e",
    "exec": "#2b7a2b",
    "exec-failed": "#d62728",
    "exit": "#000000",
    "hook": "#8856a7",
}
_ARROWS = {"thread": ("#3b6fb6", "creates a thread"), "process": ("#c0392b", "creates a process")}
_FIRST_EVENT = ("#1f4e79", "first execution-trace event")
_MINIT_TO_FIRST = "#9ecae1"  # minit -> first schedule, in the zoom
_SYSCALL_EDGE = "#cb181d"

# Bar heights (in lanes) and drawing order, back to front.
_BARS = {
    "process": (0.18, 1.0), "thread": (0.18, 1.0),
    "gc": (0.8, 1.5), "runtime": (0.8, 1.5),
    "proc": (0.56, 2.0),
    "creation": (0.44, 3.0),
    "goroutine": (0.36, 3.0), "syscall": (0.36, 3.5),
}
_MARKERS = {"exec": "|", "exec-failed": "x", "exit": "|", "hook": "v"}

_WIDTH_IN = 11.0  # figure width, inches
_MAIN_MAX_IN = 13.0  # the main axis never gets taller than this, however many lanes
_ZOOM_MAX_IN = 5.0


@dataclasses.dataclass(frozen=True)
class Lane(Record):
    """One track of a timeline as drawn: ``key`` is its (pid, tid) (tid None:
    the process as a whole), ``y`` its row (0 at the top)."""

    key: tuple[int, int | None]
    label: str
    y: int


def _role(start_fn: str | None) -> str:
    if not start_fn or start_fn == "none":
        return ""
    return start_fn.removeprefix("runtime.")


def lanes(timeline: Timeline) -> tuple[Lane, ...]:
    """The lanes of ``timeline`` in :meth:`~gorun_kit.timeline.Timeline.tracks`
    order, labelled "pid N name" (a process's main thread), "tid N M3 sysmon"
    (a Go thread the hook saw; "tid N" for any other thread) or
    "pid N (process)" (the process-wide track)."""
    joins = {(j.pid, j.tid): j for j in timeline.threads}
    out = []
    for y, (pid, tid) in enumerate(timeline.tracks()):
        if tid is None:
            label = f"pid {pid} (process)"
        elif tid == pid:
            label = f"pid {pid} {timeline.name_of(pid)}"
        elif (pid, tid) in joins and joins[(pid, tid)].m is not None:
            j = joins[(pid, tid)]
            label = " ".join(p for p in (f"tid {tid}", f"M{j.m}", _role(j.start_fn)) if p)
        else:
            label = f"tid {tid}"
        out.append(Lane((pid, tid), label, y))
    return tuple(out)


def _title(timeline: Timeline) -> str:
    program = os.path.basename(timeline.command[0]) if timeline.command else timeline.name_of(timeline.root_pid)
    go = f"Go {timeline.go_version.removeprefix('go')}, " if timeline.go_version else ""
    return f"{program} — {go}Linux {timeline.kernel}"


def _creations(timeline: Timeline) -> list:
    """The Go threads the zoom shows: those with a clone and a minit record."""
    return [j for j in timeline.threads if j.t_clone is not None and j.t_start is not None]


def _first_schedule(timeline: Timeline, j) -> int | None:
    """A thread's first execution-trace event, when that is its first
    schedule: it was cloned after the trace began (else the trace only
    caught it later in its life)."""
    began = timeline.exectrace_from_ns
    if j.t_first_event is None or began is None or j.t_clone < began:
        return None
    return j.t_first_event


def _creation_zoom(zax, timeline: Timeline, font: float) -> dict:
    """Each thread's clone -> minit -> first schedule, in µs since its own clone."""
    rows = _creations(timeline)
    minit, first, firsts = [], [], []
    for y, j in enumerate(rows):
        m = (j.t_start - j.t_clone) / 1e3
        minit.append(_box(0.0, m, y, 0.5))
        f = _first_schedule(timeline, j)
        if f is not None:
            first.append(_box(m, (f - j.t_clone) / 1e3 - m, y, 0.5))
            firsts.append(((f - j.t_clone) / 1e3, y))
    used = {}
    for gid, boxes_, colour in (("creation", minit, COLOURS["creation"]), ("minit-to-first", first, _MINIT_TO_FIRST)):
        if boxes_:
            coll = PolyCollection(boxes_, facecolors=colour, edgecolors="none", zorder=3)
            coll.set_gid(gid)
            zax.add_collection(coll)
            used.setdefault(gid)
    if firsts:
        line, = zax.plot([p[0] for p in firsts], [p[1] for p in firsts], linestyle="", marker="D",
                         markersize=4, color=_FIRST_EVENT[0], zorder=5.5)
        line.set_gid("first-event")
        used.setdefault("first-event")
    right = max([b[2][0] for b in minit + first] + [1.0])
    zax.set_xlim(0, right * 1.08)
    zax.set_ylim(len(rows) - 0.5, -0.5)
    zax.set_yticks(range(len(rows)))
    zax.set_yticklabels([_zoom_label(j) for j in rows], fontsize=font)
    zax.set_xlabel("µs since the thread's clone", fontsize=8)
    zax.tick_params(axis="x", labelsize=7)
    zax.set_title("zoom, each thread on its own clock: clone -> minit (dark) -> first schedule "
                  "(light, threads cloned after the execution trace began)", fontsize=8, loc="left")
    return used


def _zoom_label(j) -> str:
    role = "main" if j.creator_tid is None else _role(j.start_fn)
    return f"tid {j.tid} M{j.m} {role}".rstrip()


def _box(x: float, width: float, y: float, height: float) -> list[tuple[float, float]]:
    return [(x, y - height / 2), (x + width, y - height / 2), (x + width, y + height / 2), (x, y + height / 2)]


class _Axis:
    """Draws a timeline's items onto one axis: ``rows`` maps (pid, tid) to y,
    x is (t - t0) / ``scale``; items outside [lo_ns, hi_ns] are left out."""

    def __init__(self, ax, timeline: Timeline, rows: dict, scale: float, lo_ns: float, hi_ns: float,
                 font: float, width_in: float, lane_pt: float):
        self.ax, self.tl, self.rows, self.scale = ax, timeline, rows, scale
        self.lo, self.hi, self.font = lo_ns, hi_ns, font
        self.points_per_ns = width_in * 72 / max(hi_ns - lo_ns, 1)
        self.lane_pt = lane_pt  # a lane's height in points: small lanes get no text inside
        self.used: dict[str, None] = {}  # legend entries, in order of first use

    def x(self, ns: float) -> float:
        return (ns - self.tl.t0_ns) / self.scale

    def _row(self, pid: int, tid: int | None) -> int | None:
        return self.rows.get((pid, tid))

    def spans(self) -> None:
        """One PolyCollection of rectangles per category (gid = the category):
        hundreds of separate patches would make the picture slow to draw."""
        boxes: dict[str, list] = {}
        for s in self.tl.spans:
            y = self._row(s.pid, s.tid)
            if y is None or s.end_ns < self.lo or s.start_ns > self.hi:
                continue
            height = _BARS.get(s.category, (0.36, 3.0))[0]
            height = 0.9 if s.tid is None and s.category in ("gc", "runtime") else height
            if s.category in ("process", "thread") and self.lane_pt < 9:
                height = 0.6  # a thin bar in a thin lane would vanish
            x0, x1 = self.x(s.start_ns), self.x(s.end_ns)
            boxes.setdefault(s.category, []).append(((x0, y - height / 2), (x0, y + height / 2),
                                                     (x1, y + height / 2), (x1, y - height / 2)))
            if s.category in ("goroutine", "gc", "runtime", "creation") and self.lane_pt >= 9:
                self._bar_label(s, y)
        for category in sorted(boxes, key=lambda c: _BARS.get(c, (0, 3.0))[1]):
            style = {"facecolors": COLOURS.get(category, "#999999"), "linewidths": 0,
                     "zorder": _BARS.get(category, (0, 3.0))[1]}
            if category == "syscall":
                style.update(hatch="////", edgecolors=_SYSCALL_EDGE)
            if category in ("gc", "runtime"):
                style["alpha"] = 0.55
            coll = PolyCollection(boxes[category], closed=True, **style)
            coll.set_gid(category)
            self.ax.add_collection(coll, autolim=False)
            self.used.setdefault(category)

    def _bar_label(self, s, y: int) -> None:
        shown_ns = min(s.end_ns, self.hi) - max(s.start_ns, self.lo)
        if shown_ns * self.points_per_ns < len(s.name) * self.font * 0.62 + 2:
            return
        mid = (max(s.start_ns, self.lo) + min(s.end_ns, self.hi)) / 2
        colour = "white" if s.category == "creation" else "black"
        self.ax.text(self.x(mid), y, s.name, ha="center", va="center", fontsize=self.font * 0.85,
                     color=colour, zorder=6, clip_on=True)

    def marks(self) -> None:
        groups: dict[tuple[str, str], tuple[list, list]] = {}
        for m in self.tl.marks:
            y = self._row(m.pid, m.tid)
            if y is None or not self.lo <= m.ts_ns <= self.hi:
                continue
            marker = _MARKERS.get(m.category, "|")
            if m.category == "hook" and m.name.startswith("minit"):
                marker = "^"
            xs, ys = groups.setdefault((m.category, marker), ([], []))
            xs.append(self.x(m.ts_ns))
            ys.append(y - 0.3 if marker in ("v", "^") else y)
            if m.category in ("exec", "exec-failed") and self.lane_pt >= 9:
                text = m.name.removeprefix("exec ") if m.category == "exec" else m.name
                self.ax.text(self.x(m.ts_ns), y - 0.28, " " + text, fontsize=self.font * 0.85, va="bottom",
                             color=COLOURS[m.category], zorder=6, clip_on=True)
        size = max(3.0, min(9.0, self.font * 1.1))
        for (category, marker), (xs, ys) in groups.items():
            line, = self.ax.plot(xs, ys, linestyle="", marker=marker, color=COLOURS.get(category, "#555555"),
                                 markersize=size if marker == "|" else size * 0.6, markeredgewidth=1.0, zorder=5)
            line.set_gid(f"mark:{category}")
            self.used.setdefault(category)

    def arrows(self) -> None:
        """Per kind one LineCollection of shafts (gid "arrow:<kind>") and one
        Line2D of heads: a go build makes hundreds of processes, and one
        annotation per arrow would take seconds to draw."""
        shafts: dict[str, list] = {}
        for a in self.tl.arrows:
            y0, y1 = self._row(a.from_pid, a.from_tid), self._row(a.to_pid, a.to_tid)
            if y0 is None or y1 is None or y0 == y1 or max(a.from_ns, a.to_ns) < self.lo \
                    or min(a.from_ns, a.to_ns) > self.hi:
                continue
            shafts.setdefault(a.kind, []).append(((self.x(a.from_ns), y0), (self.x(a.to_ns), y1)))
        for kind, segments in shafts.items():
            colour = _ARROWS.get(kind, ("#777777", kind))[0]
            alpha = 0.8 if len(segments) <= 50 else 0.4
            coll = LineCollection(segments, colors=colour, linewidths=0.6, alpha=alpha, zorder=4)
            coll.set_gid(f"arrow:{kind}")
            self.ax.add_collection(coll, autolim=False)
            for marker, ends in (("v", [e for s, e in segments if e[1] > s[1]]),
                                 ("^", [e for s, e in segments if e[1] < s[1]])):
                if ends:
                    self.ax.plot([e[0] for e in ends], [e[1] for e in ends], linestyle="", marker=marker,
                                 markersize=3, color=colour, zorder=4, gid=f"arrowhead:{kind}")
            self.used.setdefault(f"arrow:{kind}")

    def exectrace_line(self, text: bool) -> None:
        at = self.tl.exectrace_from_ns
        if at is None or not self.lo <= at <= self.hi:
            return
        line = self.ax.axvline(self.x(at), color="#555555", linestyle="--", linewidth=0.8, zorder=4.5)
        line.set_gid("exectrace")
        if text:
            self.ax.text(self.x(at), 1.0, " execution trace begins", transform=self.ax.get_xaxis_transform(),
                         fontsize=7, va="bottom", ha="left", color="#555555")

    def separators(self, keys) -> None:
        """A thin line where one process's lanes end and the next one's begin."""
        ys = [self.rows[after] - 0.5 for before, after in zip(keys, keys[1:]) if before[0] != after[0]]
        if ys and self.lane_pt >= 6:
            self.ax.hlines(ys, 0, 1, transform=self.ax.get_yaxis_transform(), colors="#bbbbbb", linewidth=0.5,
                           zorder=0.5)


def _legend_handles(used) -> list:
    handles = []
    for key in used:
        if key.startswith("arrow:"):
            colour, label = _ARROWS.get(key[6:], ("#777777", key[6:]))
            handles.append(Line2D([], [], color=colour, linewidth=1, marker=">", markersize=4, label=label))
        elif key == "first-event":
            handles.append(Line2D([], [], color=_FIRST_EVENT[0], marker="D", linestyle="", markersize=4,
                                  label=_FIRST_EVENT[1]))
        elif key in _MARKERS:
            handles.append(Line2D([], [], color=COLOURS[key], marker=_MARKERS[key], linestyle="", markersize=6,
                                  label=key))
        elif key == "minit-to-first":
            handles.append(Patch(facecolor=_MINIT_TO_FIRST, label="minit -> first schedule"))
        elif key == "syscall":
            handles.append(Patch(facecolor=COLOURS[key], edgecolor=_SYSCALL_EDGE, hatch="////", linewidth=0,
                                 label=key))
        else:
            handles.append(Patch(facecolor=COLOURS.get(key, "#999999"), label=key))
    return handles


def _check(timeline, window, zoom) -> None:
    if not isinstance(timeline, Timeline):
        raise TypeError(f"draw needs a gorun_kit.timeline.Timeline (timeline.run(...).timeline or "
                        f"timeline.from_trace(trace)), not {type(timeline).__name__}")
    if window is not None:
        try:
            start, end = (float(v) for v in window)
        except (TypeError, ValueError):
            raise ValueError(f"window={window!r}: give (start_ms, end_ms), two numbers of ms since the "
                             "timeline began") from None
        if not start < end:
            raise ValueError(f"window={window!r}: start_ms must be before end_ms")
    if zoom not in (None, "creation"):
        raise ValueError(f"zoom={zoom!r}: use 'creation' (thread creation in µs) or None (no zoom axis)")


def _font_and_stride(height_in: float, n: int) -> tuple[float, int]:
    """Label font size (points) for ``n`` lanes in ``height_in`` inches, and
    which lanes get a label (every 1st, 2nd, ...) when even the smallest font
    would overlap."""
    per_lane = height_in * 72 * 0.85 / max(n, 1)
    font = max(4.0, min(8.0, per_lane * 0.8))
    return font, max(1, math.ceil(font * 1.1 / per_lane))


def _lane_axis(ax, lanes_: list[Lane], font: float, stride: int) -> None:
    ax.set_yticks([ln.y for ln in lanes_][::stride], [ln.label for ln in lanes_][::stride], fontsize=font)
    ax.set_ylim(len(lanes_) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=7)


def draw(timeline: Timeline, *, window: tuple[float, float] | None = None, zoom: str | None = "creation",
         title: str | None = None) -> Figure:
    """The timeline as lanes (see the module docstring), x in ms since
    ``timeline.t0_ns``, with a dashed line where the execution trace began.

    ``window=(start_ms, end_ms)`` sets the x range. ``zoom="creation"`` adds
    an axis below with each cloned Go thread on its own clock (µs since its
    clone: minit, then its first schedule); there is none when the timeline
    has no cloned Go threads (a plain trace) or with ``zoom=None``.
    Many lanes shrink the lanes and their labels rather than the picture
    growing without bound. Returns a matplotlib Figure.
    """
    _check(timeline, window, zoom)
    all_lanes = list(lanes(timeline))
    if not all_lanes:
        raise ValueError("this timeline has no tracks (no spans and no marks): trace a command that runs, "
                         "e.g. gorun_kit.timeline.run(program) or from_trace(gorun_kit.trace.run([...]))")
    keys = [ln.key for ln in all_lanes]
    zoom_rows = _creations(timeline) if zoom == "creation" else []
    creation = bool(zoom_rows)

    main_in = min(_MAIN_MAX_IN, max(1.6, 0.3 * len(all_lanes) + 0.6))
    zoom_in = min(_ZOOM_MAX_IN, max(1.4, 0.3 * len(zoom_rows) + 0.6)) if creation else 0.0
    font, stride = _font_and_stride(main_in, len(all_lanes))
    # Margins are worked out here rather than by a layout engine, which measures
    # every text on the figure and would double the time to draw it.
    top_in, bottom_in, gap_in = 0.5, 0.45, (0.75 if creation else 0.0)
    height_in = top_in + main_in + gap_in + zoom_in + bottom_in
    left_in = 0.15 + max(len(ln.label) for ln in all_lanes) * font * 0.6 / 72
    fig = Figure(figsize=(_WIDTH_IN, height_in))
    grid = fig.add_gridspec(2 if creation else 1, 1, height_ratios=[main_in, zoom_in] if creation else None,
                            left=left_in / _WIDTH_IN, right=1 - 2.0 / _WIDTH_IN, top=1 - top_in / height_in,
                            bottom=bottom_in / height_in, hspace=gap_in / ((main_in + zoom_in) / 2) if creation else 0)
    ax = fig.add_subplot(grid[0])
    zax = fig.add_subplot(grid[1]) if creation else None
    plot_in = _WIDTH_IN - left_in - 2.0

    end_ms = max(timeline.t_end_ns - timeline.t0_ns, 1) / 1e6
    lo_ms, hi_ms = (float(window[0]), float(window[1])) if window is not None else (0.0, end_ms * 1.01)
    main = _Axis(ax, timeline, {ln.key: ln.y for ln in all_lanes}, 1e6,
                 timeline.t0_ns + lo_ms * 1e6, timeline.t0_ns + hi_ms * 1e6, font, plot_in,
                 main_in * 72 / len(all_lanes))
    main.separators(keys)
    main.spans()
    main.marks()
    main.arrows()
    main.exectrace_line(text=True)
    ax.set_xlim(lo_ms, hi_ms)
    _lane_axis(ax, all_lanes, font, stride)
    ax.set_xlabel("ms since the first traced event", fontsize=8)
    ax.set_title(title if title is not None else _title(timeline), fontsize=10, loc="left", pad=12)
    used = dict(main.used)

    if creation:
        used.update(_creation_zoom(zax, timeline, _font_and_stride(zoom_in, len(zoom_rows))[0]))

    handles = _legend_handles(used)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False)
    return fig
