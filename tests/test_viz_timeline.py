"""The timeline picture (gorun_kit.viz.timeline) on made-up timelines: lane
order and labels, where bars, marks and arrows land, the zoom axis, the
window, the legend, and that it renders; nothing runs."""
from __future__ import annotations

import io

import pytest
from matplotlib.collections import LineCollection, PolyCollection

from gorun_kit.timeline.model import Arrow, Mark, Span, ThreadJoin, Timeline, from_trace
from gorun_kit.trace import Trace
from gorun_kit.trace.records import ExecEvent, ExitEvent, SpawnEvent
from gorun_kit.viz import timeline as vt

MS = 1_000_000
T0 = 5_000 * MS  # CLOCK_MONOTONIC does not start at 0
PID, CHILD = 10, 20


def _ms(x: float) -> int:
    return T0 + int(x * MS)


def go_timeline(**changes) -> Timeline:
    """A Go process (pid 10) with a GC range on its process track, sysmon
    (tid 11), a spinning M (tid 12) and a thread the hook did not see
    (tid 13); it forks and execs /bin/true (pid 20)."""
    spans = [
        Span(PID, PID, "pid 10", "process", _ms(0), _ms(10)),
        Span(PID, None, "GC mark", "gc", _ms(0.5), _ms(0.9)),
        Span(PID, 11, "tid 11", "thread", _ms(1.0), _ms(9)),
        Span(PID, 11, "clone -> minit M1", "creation", _ms(1.0), _ms(1.2)),
        Span(PID, 12, "tid 12", "thread", _ms(2.0), _ms(9)),
        Span(PID, 12, "clone -> minit M2", "creation", _ms(2.0), _ms(2.1)),
        Span(PID, 12, "P0", "proc", _ms(2.4), _ms(4.0)),
        Span(PID, 12, "G7", "goroutine", _ms(2.5), _ms(3.25)),
        Span(PID, 12, "syscall", "syscall", _ms(3.25), _ms(3.5)),
        Span(PID, 13, "tid 13", "thread", _ms(3.0), _ms(9)),
        Span(CHILD, CHILD, "pid 20", "process", _ms(4.0), _ms(6.0)),
    ]
    marks = [
        Mark(PID, PID, "exec prog", "exec", _ms(0.1)),
        Mark(PID, PID, "newm M1", "hook", _ms(0.95)),
        Mark(PID, 11, "minit M1", "hook", _ms(1.2)),
        Mark(CHILD, CHILD, "exec true", "exec", _ms(4.5)),
        Mark(CHILD, CHILD, "exit 0", "exit", _ms(6.0)),
        Mark(PID, PID, "exit 0", "exit", _ms(10)),
    ]
    arrows = [
        Arrow("thread", PID, PID, _ms(1.0), PID, 11, _ms(1.0)),
        Arrow("thread", PID, PID, _ms(2.0), PID, 12, _ms(2.0)),
        Arrow("thread", PID, 12, _ms(3.0), PID, 13, _ms(3.0)),
        Arrow("process", PID, 12, _ms(4.0), CHILD, CHILD, _ms(4.0)),
    ]
    threads = [
        ThreadJoin(PID, PID, 0, None, None, "none", None, None, _ms(0.3), _ms(0.6), _ms(10), "events"),
        ThreadJoin(PID, 11, 1, PID, 0, "runtime.sysmon", "sysmon", _ms(1.0), _ms(1.2), _ms(1.6), _ms(9), "events"),
        ThreadJoin(PID, 12, 2, PID, 0, "runtime.mspinning", "wakep", _ms(2.0), _ms(2.1), _ms(2.4), _ms(9), "events"),
    ]
    fields = dict(command=("/build/cache/demo", "3"), root_pid=PID, exit_status=0, t0_ns=T0, t_end_ns=_ms(10),
                  spans=tuple(spans), marks=tuple(marks), arrows=tuple(arrows),
                  names=((PID, "prog"), (CHILD, "true")), threads=tuple(threads), go_version="go1.27.3",
                  kernel="6.1.0", exectrace_from_ns=_ms(0.55))
    fields.update(changes)
    return Timeline(**fields)


def plain_timeline() -> Timeline:
    """What from_trace makes of a traced shell that runs one child: no Go
    threads, no execution trace."""
    events = (
        ExecEvent(ts_ns=_ms(0.1), pid=PID, tid=PID, syscall="execve", filename="/bin/sh", argv=("sh", "-c", "true"),
                  envp=(), former_tid=None),
        SpawnEvent(ts_ns=_ms(1), parent_pid=PID, parent_tid=PID, child_pid=CHILD, child_tid=CHILD, syscall="clone",
                   flags=17, flag_names=("SIGCHLD",), exit_signal="SIGCHLD", is_thread=False),
        ExecEvent(ts_ns=_ms(1.5), pid=CHILD, tid=CHILD, syscall="execve", filename="/bin/true", argv=("true",),
                  envp=(), former_tid=None),
        ExitEvent(ts_ns=_ms(2), pid=CHILD, tid=CHILD, exit_code=0, signal=None, last_thread=True),
        ExitEvent(ts_ns=_ms(3), pid=PID, tid=PID, exit_code=0, signal=None, last_thread=True),
    )
    trace = Trace(command=("sh", "-c", "true"), mode="events", root_pid=PID, returncode=0, tool="tracer",
                  start_ns=T0, events=events)
    return from_trace(trace)


def boxes(ax, gid: str) -> list[tuple[float, float, float, float]]:
    """(x, width, y_low, y_high) of every rectangle in the collection ``gid``."""
    out = []
    for coll in ax.collections:
        if isinstance(coll, PolyCollection) and coll.get_gid() == gid:
            for path in coll.get_paths():
                box = path.get_extents()
                out.append((box.x0, box.width, box.y0, box.y1))
    return out


def points(ax, gid: str) -> list[tuple[float, float]]:
    return [xy for line in ax.lines if line.get_gid() == gid for xy in zip(line.get_xdata(), line.get_ydata())]


def legend_labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_lanes_follow_the_tracks_and_say_what_each_is():
    tl = go_timeline()
    lanes = vt.lanes(tl)
    assert [ln.key for ln in lanes] == list(tl.tracks())
    assert [ln.label for ln in lanes] == ["pid 10 (process)", "pid 10 prog", "tid 11 M1 sysmon",
                                          "tid 12 M2 mspinning", "tid 13", "pid 20 true"]
    assert [ln.y for ln in lanes] == list(range(len(lanes)))
    ax = vt.draw(tl, zoom=None).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [ln.label for ln in lanes]


def test_a_span_is_a_bar_at_its_time_in_ms_on_its_lane():
    tl = go_timeline()
    ax = vt.draw(tl, zoom=None).axes[0]
    y = {ln.key: ln.y for ln in vt.lanes(tl)}[(PID, 12)]
    [(x, width, lo, hi)] = boxes(ax, "goroutine")
    assert x == pytest.approx(2.5) and width == pytest.approx(0.75)
    assert lo < y < hi
    [(x, width, _, _)] = boxes(ax, "syscall")
    assert (x, width) == (pytest.approx(3.25), pytest.approx(0.25))
    assert [c.get_hatch() for c in ax.collections if c.get_gid() == "syscall"] == ["////"]
    gc_y = {ln.key: ln.y for ln in vt.lanes(tl)}[(PID, None)]
    [(x, width, lo, hi)] = boxes(ax, "gc")
    assert (x, width) == (pytest.approx(0.5), pytest.approx(0.4)) and lo < gc_y < hi
    assert len(boxes(ax, "thread")) == 3 and len(boxes(ax, "creation")) == 2


def test_the_zoom_puts_each_thread_on_its_own_clock_in_us():
    """Each cloned thread: a dark bar from its clone to minit, a light one on
    to its first schedule (only when it was cloned after the trace began)."""
    fig = vt.draw(go_timeline())
    assert len(fig.axes) == 2
    main, zoom = fig.axes
    assert [t.get_text() for t in zoom.get_yticklabels()] == ["tid 11 M1 sysmon", "tid 12 M2 mspinning"]
    # tid 11: clone 1.0, minit 1.2, first 1.6 ms; tid 12: clone 2.0, minit 2.1, first 2.4 ms
    assert [(round(x), round(w)) for x, w, _, _ in boxes(zoom, "creation")] == [(0, 200), (0, 100)]
    assert [(round(x), round(w)) for x, w, _, _ in boxes(zoom, "minit-to-first")] == [(200, 400), (100, 300)]
    assert sorted(x for x, _ in points(zoom, "first-event")) == pytest.approx([400, 600])
    lo, hi = zoom.get_xlim()
    assert lo == 0 and 600 <= hi < 700  # µs: a zoom, not the 10 ms run
    assert main.get_xlim()[1] >= 10


def test_a_thread_cloned_before_the_trace_began_has_no_first_schedule_bar():
    fig = vt.draw(go_timeline(exectrace_from_ns=_ms(1.5)))
    zoom = fig.axes[1]
    assert [(round(x), round(w)) for x, w, _, _ in boxes(zoom, "minit-to-first")] == [(100, 300)]
    assert len(boxes(zoom, "creation")) == 2


def test_no_zoom_axis_without_threads_or_when_asked():
    assert len(vt.draw(go_timeline(), zoom=None).axes) == 1
    assert len(vt.draw(go_timeline(threads=())).axes) == 1
    fig = vt.draw(plain_timeline())
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title(loc="left") == f"sh — Linux {plain_timeline().kernel}"
    assert [ln.label for ln in vt.lanes(plain_timeline())] == ["pid 10 sh", "pid 20 true"]


def test_window_sets_the_x_range():
    fig = vt.draw(go_timeline(), window=(2.0, 3.5))
    assert fig.axes[0].get_xlim() == pytest.approx((2.0, 3.5))
    with pytest.raises(ValueError, match="window"):
        vt.draw(go_timeline(), window=(3.5, 2.0))
    with pytest.raises(ValueError, match="zoom"):
        vt.draw(go_timeline(), zoom="threads")


def test_marks_arrows_and_the_trace_start_are_drawn():
    tl = go_timeline()
    ax = vt.draw(tl, zoom=None).axes[0]
    y = {ln.key: ln.y for ln in vt.lanes(tl)}
    assert sorted(points(ax, "mark:exec")) == [(0.1, y[(PID, PID)]), (4.5, y[(CHILD, CHILD)])]
    assert len(points(ax, "mark:exit")) == 2 and len(points(ax, "mark:hook")) == 2
    assert {"prog", "true"} <= {t.get_text().strip() for t in ax.texts}
    shafts = {c.get_gid(): c.get_segments() for c in ax.collections if isinstance(c, LineCollection)}
    assert len(shafts["arrow:thread"]) == 3 and len(shafts["arrow:process"]) == 1
    [(start, end)] = shafts["arrow:process"]
    assert tuple(start) == pytest.approx((4.0, y[(PID, 12)])) and tuple(end) == pytest.approx((4.0, y[(CHILD, CHILD)]))
    [line] = [ln for ln in ax.lines if ln.get_gid() == "exectrace"]
    assert line.get_xdata()[0] == pytest.approx(0.55)
    assert any(t.get_text().strip() == "execution trace begins" for t in ax.texts)


def test_the_legend_names_only_what_is_there():
    assert sorted(legend_labels(vt.draw(plain_timeline()))) == sorted(
        ["process", "exec", "exit", "creates a process"])
    labels = legend_labels(vt.draw(go_timeline()))
    assert {"goroutine", "syscall", "proc", "gc", "creation", "hook", "creates a thread"} <= set(labels)
    assert "runtime" not in labels and "exec-failed" not in labels
    lone = go_timeline(spans=(Span(PID, PID, "pid 10", "process", T0, _ms(1)),), marks=(), arrows=(), threads=())
    assert legend_labels(vt.draw(lone)) == ["process"]


def test_default_title_names_program_go_and_kernel():
    fig = vt.draw(go_timeline())
    assert fig.axes[0].get_title(loc="left") == "demo — Go 1.27.3, Linux 6.1.0"
    assert vt.draw(go_timeline(), title="mine").axes[0].get_title(loc="left") == "mine"


def test_it_renders_as_png():
    buf = io.BytesIO()
    vt.draw(go_timeline()).savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and len(buf.getvalue()) > 2000


def test_many_tracks_keep_the_picture_bounded_and_labels_apart():
    n = 240
    spans = tuple(Span(100 + i, 100 + i, f"pid {100 + i}", "process", _ms(i * 0.01), _ms(i * 0.01 + 2))
                  for i in range(n))
    tl = go_timeline(spans=spans, marks=(), arrows=(), threads=(), names=tuple((100 + i, "compile") for i in range(n)))
    few = vt.draw(go_timeline(), zoom=None)
    fig = vt.draw(tl)
    ax = fig.axes[0]
    assert fig.get_size_inches()[1] <= 16
    labels = ax.get_yticklabels()
    font = labels[0].get_fontsize()
    assert 4 <= font < few.axes[0].get_yticklabels()[0].get_fontsize()
    lane_pt = ax.get_position().height * fig.get_size_inches()[1] * 72 / n
    ticks = ax.get_yticks()
    assert (ticks[1] - ticks[0]) * lane_pt >= font  # shown labels do not overlap
    assert len(boxes(ax, "process")) == n


def test_an_empty_timeline_is_refused_by_name():
    empty = go_timeline(spans=(), marks=(), arrows=(), threads=())
    with pytest.raises(ValueError, match="no tracks"):
        vt.draw(empty)
