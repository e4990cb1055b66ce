"""gorun_kit.timeline on made-up input, no Go program run: the dump reader
(both dump formats, and a stand-in `go tool trace` in a made-up GOROOT), the
process and thread tracks of a trace, the spans of an execution trace, every
check of the join (each naming its thread), which span keeps its place in
the Chrome document and each rule problems() checks, and timeline.run with
stand-ins for the build, the tracer and the trace reader."""
from __future__ import annotations

import dataclasses
import importlib
import math
import os
import platform
import re
import stat
import textwrap

import pytest

from gorun_kit.timeline import Arrow, Mark, Span, chrome, exectrace, thread_table
from gorun_kit.timeline.exectrace import ExecTraceError, parse_dump
from gorun_kit.timeline.join import TimelineMismatch, exectrace_spans, join
from gorun_kit.timeline.model import ThreadJoin, Timeline, from_trace
from gorun_kit.toolchain import GoToolchain
from gorun_kit.trace import Trace
from gorun_kit.trace.records import ExecEvent, ExecFailedEvent, ExitEvent, SpawnEvent

PID = 100

# ---------------------------------------------------------------------------
# the dump reader


def _one(line: str):
    (ev,) = parse_dump([line])
    return ev


def test_the_event_line_is_read_field_by_field():
    ev = _one('M=-1 P=3 G=-7 RangeBegin Time=-64 Name="GC (mark \\"x\\") \\u00e9" Scope=None Extra=a=b')
    assert (ev.m, ev.p, ev.g, ev.kind, ev.time_ns) == (-1, 3, -7, "RangeBegin", -64)
    assert (ev.name, ev.scope) == ('GC (mark "x") é', "None")
    assert ev.fields == (("Name", 'GC (mark "x") é'), ("Scope", "None"), ("Extra", "a=b"))
    assert (ev.field("Extra"), ev.field("Missing")) == ("a=b", None)
    assert (ev.goid, ev.procid, ev.transition, ev.reason, ev.before, ev.after, ev.stack) == (
        None, None, None, None, None, None, ())


def test_quoted_values_are_unquoted_and_an_empty_one_is_empty():
    ev = _one('M=4 P=0 G=9 StateTransition Time=5 GoID=9 Running->Waiting Reason=""')
    assert (ev.reason, ev.goid, ev.transition, ev.before, ev.after) == ("", 9, "Running->Waiting", "Running", "Waiting")
    # a quoted value Python cannot read as a literal is kept between its quotes
    assert _one('M=4 P=0 G=9 Log Time=5 Name="a\\x"').name == "a\\x"
    # a lone quote, or one at one end only, is not a quoted value
    assert _one('M=4 P=0 G=9 Log Time=5 Name="').name == '"'
    assert _one('M=4 P=0 G=9 Log Time=5 Name="ab Scope=c').fields == (("Name", '"ab'), ("Scope", "c"))
    assert _one('M=4 P=0 G=9 Log Time=5 Name=ab"').name == 'ab"'


def test_numbers_of_transitions_are_read_only_when_they_are_numbers():
    ev = _one('M=4 P=0 G=9 StateTransition Time=5 ProcID=-1 GoID=x Idle->Running')
    assert (ev.procid, ev.goid) == (-1, None)
    assert ev.fields == (("ProcID", "-1"), ("GoID", "x"))


def test_lines_that_are_not_events_or_frames_are_skipped():
    text = ("\truntime.before @ 0x1\n"  # a frame before any event belongs to nothing
            "garbage\n"
            " M=1 P=0 G=0 Sync Time=1\n"  # not at the start of the line
            "M=1 P=0 G=0 Sync Time=2\n"
            "Stack=\n"
            "\t\t/go/src/runtime/x.go:1\n"
            "\truntime.f @ 0xabc\n"
            "\truntime.g @ 0xZZ\n"  # not a hex PC
            "\t runtime.h @ 0x1\n")
    (ev,) = parse_dump(text.splitlines(keepends=True))
    assert (ev.time_ns, ev.stack) == (2, ("runtime.f",))


def test_a_stack_keeps_its_first_six_frames_and_belongs_to_its_event():
    frames = "".join(f"\tpkg.f{i} @ 0x{i:x}\n\t\t/src/f.go:{i}\n" for i in range(9))
    text = f"M=1 P=0 G=1 GoCreate Time=10\n{frames}M=1 P=0 G=1 GoStop Time=20\nM=2 P=0 G=1 GoStop Time=30\n\tpkg.z @ 0x9\n"
    events = parse_dump(text.splitlines())
    assert events[0].stack == tuple(f"pkg.f{i}" for i in range(6))
    assert events[1].stack == ()
    assert events[2].stack == ("pkg.z",)


def test_a_text_without_events_is_an_error():
    with pytest.raises(ExecTraceError, match="holds no event"):
        parse_dump([])


# -- a stand-in `go tool trace`, in a made-up GOROOT


def _script(path, body: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


USAGE_127 = "Flags:\n\t-d=mode: print debug info and exit (modes: wire, parsed, footprint)\n"
USAGE_122 = "Flags:\n\t-d=int: print debug info such as parsed events (1 for high-level, 2 for low-level)\n"
DUMP = 'M=7 P=0 G=1 StateTransition Time=100 GoID=1 Runnable->Running Reason=""'


def _toolchain(tmp_path, tool_body: str | None, go_body: str = "exit 1\n") -> GoToolchain:
    root = tmp_path / "goroot"
    if tool_body is not None:
        _script(root / "pkg" / "tool" / "linux_amd64" / "trace", tool_body)
    go = _script(root / "bin" / "go", go_body)
    return GoToolchain(go=go, goroot=str(root), version="go1.99.0", goos="linux", goarch="amd64", source="test")


def _tool(usage: str, to: str = "2") -> str:
    return (f'if [ "$1" = -h ]; then printf "%s" "{usage}" >&{to}; exit 2; fi\n'
            f'case "$1" in -d=parsed) echo \'{DUMP}\' ;; *) echo "unknown flag $1" >&2; exit 2 ;; esac\n')


@pytest.mark.parametrize("usage, to, mode", [(USAGE_127, "2", "parsed"), (USAGE_127, "1", "parsed"),
                                              (USAGE_122, "2", "1"), (USAGE_122, "1", "1")])
def test_dump_mode_is_read_from_either_stream_of_the_usage(tmp_path, usage, to, mode):
    assert exectrace.dump_mode(_toolchain(tmp_path, _tool(usage, to))) == mode


@pytest.mark.parametrize("usage", ["Flags:\n\t-d=mode: print debug info (modes: wire)\n",
                                   "Flags:\n\t-d=int: print debug info\n", "parsed events\n"])
def test_a_tool_without_a_dump_of_parsed_events_is_refused(tmp_path, usage):
    tc = _toolchain(tmp_path, _tool(usage))
    with pytest.raises(ExecTraceError, match=r"offers no dump of parsed events .*Go 1\.22 and later") as err:
        exectrace.dump_mode(tc)
    assert exectrace.trace_tool(tc) in str(err.value)


def test_read_parses_the_tools_dump(tmp_path):
    tc = _toolchain(tmp_path, _tool(USAGE_127))
    trace = tmp_path / "exec.trace"
    trace.write_bytes(b"x")
    (ev,) = exectrace.read(trace, go=tc)
    assert (ev.m, ev.goid, ev.transition, ev.time_ns) == (7, 1, "Runnable->Running", 100)


def test_read_names_the_file_it_cannot_read(tmp_path):
    tc = _toolchain(tmp_path, _tool(USAGE_127))
    with pytest.raises(FileNotFoundError, match=re.escape(repr(str(tmp_path / "none.trace")))):
        exectrace.read(tmp_path / "none.trace", go=tc)
    empty = tmp_path / "empty.trace"
    empty.write_bytes(b"")
    with pytest.raises(ExecTraceError, match="is empty: the program never flushed it"):
        exectrace.read(empty, go=tc)


def test_read_passes_on_the_tools_complaint(tmp_path):
    tc = _toolchain(tmp_path, f'[ "$1" = -h ] && {{ echo "{USAGE_127}" >&2; exit 2; }}\n'
                              'echo "partial"; echo "bad trace: unexpected EOF" >&2; exit 1\n')
    trace = tmp_path / "cut.trace"
    trace.write_bytes(b"x")
    with pytest.raises(ExecTraceError, match=r"\(go1\.99\.0\) cannot read .*cut\.trace.*: bad trace: unexpected EOF$"):
        exectrace.read(trace, go=tc)
    quiet = _toolchain(tmp_path / "q", f'[ "$1" = -h ] && {{ echo "{USAGE_127}" >&2; exit 2; }}\n'
                                       'echo "said on stdout"; exit 1\n')
    with pytest.raises(ExecTraceError, match="said on stdout"):
        exectrace.read(trace, go=quiet)
    # a long complaint, not in UTF-8: its end, readable
    noisy = _toolchain(tmp_path / "n", f'[ "$1" = -h ] && {{ echo "{USAGE_127}" >&2; exit 2; }}\n'
                                       "printf 'first%0700d' 0 >&2; printf '\\377 last' >&2; exit 1\n")
    with pytest.raises(ExecTraceError) as err:
        exectrace.read(trace, go=noisy)
    said = str(err.value).split(": ", 1)[1]
    assert said.endswith("0\ufffd last") and len(said) == 600 and "first" not in said


def test_read_stops_a_tool_that_does_not_finish(tmp_path):
    tc = _toolchain(tmp_path, f'[ "$1" = -h ] && {{ echo "{USAGE_127}" >&2; exit 2; }}\nexec sleep 30\n')
    trace = tmp_path / "slow.trace"
    trace.write_bytes(b"x")
    with pytest.raises(ExecTraceError, match="did not finish reading .* within 0.3 s"):
        exectrace.read(trace, go=tc, timeout=0.3)


def test_a_trace_tool_in_the_build_cache_is_asked_of_go(tmp_path):
    cached = _script(tmp_path / "cache" / "trace", _tool(USAGE_122))
    built = tmp_path / "built"
    # the first `go tool -n trace` names a tool not built yet; `go tool trace -h` builds it
    go = (f'if [ "$1 $2" = "tool -n" ]; then [ -f {built} ] && echo {cached} || echo {tmp_path}/nowhere; exit 0; fi\n'
          f'if [ "$1 $2 $3" = "tool trace -h" ]; then touch {built}; exit 2; fi\nexit 1\n')
    tc = _toolchain(tmp_path, None, go)
    assert exectrace.trace_tool(tc) == cached
    assert exectrace.dump_mode(tc) == "1"
    os.unlink(cached)  # the build cache was trimmed: ask again, and get where go built it anew
    again = _script(tmp_path / "cache2" / "trace", _tool(USAGE_122))
    _script(tmp_path / "goroot" / "bin" / "go", f'[ "$1 $2" = "tool -n" ] && echo {again}; exit 0\n')
    assert exectrace.trace_tool(tc) == again


def test_no_trace_tool_is_a_clear_error(tmp_path):
    tc = _toolchain(tmp_path, None, 'echo "go: no such tool \\"trace\\"" >&2; exit 2\n')
    with pytest.raises(ExecTraceError, match=r'go1\.99\.0 has no `go tool trace`.*no such tool "trace"'):
        exectrace.trace_tool(tc)
    chatty = _toolchain(tmp_path / "c", None, 'printf "x%0400d\\377" 0; exit 3\n')
    with pytest.raises(ExecTraceError) as err:
        exectrace.trace_tool(chatty)
    assert str(err.value).endswith("0\ufffd)") and "x" not in str(err.value).split("(")[-1]
    silent = _toolchain(tmp_path / "s", None, "exit 0\n")
    with pytest.raises(ExecTraceError, match="go tool -n trace printed nothing"):
        exectrace.trace_tool(silent)


# ---------------------------------------------------------------------------
# from_trace: the process and thread tracks of any traced command


def _spawn(ts, parent, child, *, pid=PID, child_pid=None, thread=True, flags=0x3d0f00, syscall="clone"):
    return SpawnEvent(ts_ns=ts, parent_pid=pid, parent_tid=parent, child_pid=PID if thread else (child_pid or child),
                      child_tid=child, syscall=syscall, flags=flags, flag_names=(), exit_signal=None,
                      is_thread=thread)


def _exec(ts, pid, filename, argv, former_tid=None):
    return ExecEvent(ts_ns=ts, pid=pid, tid=pid, syscall="execve", filename=filename, argv=tuple(argv), envp=(),
                     former_tid=former_tid)


def _exit(ts, pid, tid, code=0, signal=None, last=False, core=False):
    return ExitEvent(ts_ns=ts, pid=pid, tid=tid, exit_code=code, signal=signal, last_thread=last, core_dumped=core)


def _trace(*events, start_ns=0, tool="tracer", first_exec=True):
    head = (_exec(1, PID, "/x/prog", ["prog"]),) if first_exec else ()
    return Trace(command=("prog", "a b"), mode="events", root_pid=PID, returncode=3, tool=tool, start_ns=start_ns,
                 events=(*head, *events))


def test_a_trace_of_strace_has_no_timeline():
    with pytest.raises(ValueError, match="not strace .*wall clock"):
        from_trace(_trace(tool="strace"))


def test_processes_threads_and_arrows_of_a_trace():
    fork = 0x1200011  # glibc fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
    tr = _trace(_spawn(10, PID, 101),
                _spawn(20, 101, 200, thread=False, flags=fork),
                _exec(30, 200, "/bin/echo", ["echo", "it's", "a\tb"], former_tid=201),
                ExecFailedEvent(ts_ns=25, pid=200, tid=200, syscall="execve", filename="/no/\x1bx", argv=("x",),
                                envp=(), errno="ENOENT"),
                _exit(40, 200, 200, code=None, signal="SIGKILL", last=True, core=True),
                _exit(50, PID, 101, code=0),
                start_ns=5)
    tl = from_trace(tr)
    assert (tl.command, tl.root_pid, tl.exit_status, tl.t0_ns, tl.t_end_ns) == (("prog", "a b"), PID, 3, 1, 50)
    spans = {(s.pid, s.tid): s for s in tl.spans}
    assert set(spans) == {(PID, PID), (PID, 101), (200, 200)}
    root, child, thread = spans[(PID, PID)], spans[(200, 200)], spans[(PID, 101)]
    assert (root.name, root.category, root.start_ns, root.end_ns, root.args) == ("pid 100", "process", 5, 50, ())
    assert (child.start_ns, child.end_ns) == (20, 40)
    assert child.args == (("kind", "glibc-fork"), ("signal", "SIGKILL"))
    assert (thread.name, thread.category, thread.start_ns, thread.end_ns) == ("tid 101", "thread", 10, 50)
    marks = {m.name: m for m in tl.marks}
    assert set(marks) == {"exec prog", "exec echo", "exec failed ENOENT", "signal SIGKILL", "exit 0"}
    echo = marks["exec echo"]
    assert (echo.pid, echo.tid, echo.category, echo.ts_ns) == (200, 200, "exec", 30)
    assert dict(echo.args) == {"filename": "/bin/echo", "argv": "echo 'it'\"'\"'s' 'a\\tb'", "tid": "201"}
    assert "tid" not in dict(marks["exec prog"].args)
    failed = marks["exec failed ENOENT"]
    assert (failed.tid, failed.category, failed.ts_ns) == (200, "exec-failed", 25)
    assert dict(failed.args) == {"filename": "/no/\\x1bx", "argv": "x", "errno": "ENOENT"}
    killed, ended = marks["signal SIGKILL"], marks["exit 0"]
    assert (killed.pid, killed.tid, killed.category, killed.ts_ns) == (200, 200, "exit", 40)
    assert dict(killed.args) == {"last_thread": "True", "core_dumped": "True"}
    assert (ended.tid, dict(ended.args)) == (101, {"last_thread": "False"})
    assert sorted((a.kind, a.from_pid, a.from_tid, a.from_ns, a.to_pid, a.to_tid, a.to_ns) for a in tl.arrows) == [
        ("process", PID, 101, 20, 200, 200, 20), ("thread", PID, PID, 10, PID, 101, 10)]
    assert dict(tl.names) == {PID: "prog", 200: "echo"}
    assert (tl.name_of(200), tl.name_of(999)) == ("echo", "?")
    assert tl.threads == () and tl.exectrace_from_ns is None and tl.notes == ()


def test_a_child_that_never_execs_is_named_after_its_parent():
    tr = _trace(_spawn(10, PID, 300, thread=False), _spawn(12, 300, 400, pid=300, thread=False))
    assert dict(from_trace(tr).names) == {PID: "prog", 300: "prog", 400: "?"}
    assert dict(from_trace(_trace(first_exec=False)).names) == {PID: "?"}


def test_an_unended_life_lasts_to_the_last_record_and_an_unknown_start_is_t0():
    tr = _trace(_spawn(10, PID, 101), _exit(90, PID, PID), start_ns=None)
    tl = from_trace(tr)
    assert (tl.t0_ns, tl.t_end_ns) == (1, 90)
    spans = {s.tid: s for s in tl.spans}
    assert (spans[PID].start_ns, spans[PID].end_ns) == (1, 90)
    assert (spans[101].start_ns, spans[101].end_ns) == (10, 90)
    # the leader's exit is a mark, not a thread span of its own
    assert [m.name for m in tl.marks if m.category == "exit"] == ["exit 0"]


def test_a_trace_without_events_is_an_instant_at_its_start():
    tl = from_trace(_trace(start_ns=70, first_exec=False))
    assert (tl.t0_ns, tl.t_end_ns) == (70, 70)
    assert [(s.start_ns, s.end_ns) for s in tl.spans] == [(70, 70)]
    tl = from_trace(_trace(start_ns=None, first_exec=False))
    assert (tl.t0_ns, tl.t_end_ns) == (0, 0)


def test_a_start_before_every_record_is_the_origin():
    tl = from_trace(_trace(_exit(9, PID, PID, last=True), start_ns=0))
    assert (tl.t0_ns, tl.t_end_ns) == (0, 9)


def test_tracks_put_each_process_first_then_its_main_thread_then_by_first_use():
    spans = (Span(7, 71, "t", "thread", 5, 9), Span(7, None, "gc", "gc", 8, 9), Span(3, 3, "p", "process", 1, 9),
             Span(7, 7, "p", "process", 6, 9))
    marks = (Mark(3, 31, "m", "hook", 0), Mark(7, 72, "m", "hook", 4))
    tl = Timeline(command=(), root_pid=3, exit_status=0, t0_ns=0, t_end_ns=9, spans=spans, marks=marks,
                  arrows=(), names=())
    assert tl.tracks() == ((3, 3), (3, 31), (7, None), (7, 7), (7, 72), (7, 71))


# ---------------------------------------------------------------------------
# exectrace_spans: what the scheduler did, on each thread's track


def _dump(*lines: str):
    return parse_dump(textwrap.dedent("\n".join(lines)).splitlines())


def test_a_goroutines_run_and_its_system_calls():
    events = _dump('M=5 P=2 G=4 StateTransition Time=10 GoID=4 Runnable->Running Reason=""',
                   'M=5 P=2 G=4 StateTransition Time=20 GoID=4 Running->Syscall Reason=""',
                   'M=5 P=-1 G=4 StateTransition Time=30 GoID=4 Syscall->Runnable Reason=""',
                   'M=6 P=-1 G=8 StateTransition Time=40 GoID=8 Runnable->Running Reason=""',
                   'M=6 P=-1 G=8 StateTransition Time=50 GoID=8 Running->Syscall Reason=""',
                   'M=-1 P=-1 G=-1 StateTransition Time=55 GoID=9 Runnable->Running Reason=""',
                   'M=-1 P=-1 G=-1 StateTransition Time=56 GoID=9 Running->Syscall Reason=""',
                   'M=5 P=1 G=-1 Metric Time=60 Name="/x" Value=Uint64(1)',
                   'M=5 P=1 G=-1 StateTransition Time=60 GoID=3 Reason=""')
    got = sorted((s.tid, s.name, s.category, s.start_ns, s.end_ns, s.args) for s in exectrace_spans(1, events, 99))
    assert got == [(5, "G4", "goroutine", 10, 20, (("p", "2"),)),
                   (5, "syscall", "syscall", 20, 30, (("g", "4"), ("ended", "Runnable"))),
                   (6, "G8", "goroutine", 40, 50, ()),  # it held no P
                   (6, "syscall", "syscall", 50, 99, (("g", "8"), ("ended", "trace end")))]
    assert {s.pid for s in exectrace_spans(1, events, 99)} == {1}


def test_a_goroutine_still_running_at_the_end_closes_there():
    events = _dump('M=5 P=0 G=4 StateTransition Time=10 GoID=4 Runnable->Running Reason=""')
    assert [(s.name, s.start_ns, s.end_ns) for s in exectrace_spans(1, events, 70)] == [("G4", 10, 70)]


def test_the_p_a_thread_holds_moves_with_the_thread_that_runs_it():
    events = _dump('M=5 P=0 G=-1 StateTransition Time=10 ProcID=0 Idle->Running Reason=""',
                   'M=6 P=0 G=-1 StateTransition Time=20 ProcID=0 Syscall->Running Reason=""',  # taken over
                   'M=6 P=0 G=-1 StateTransition Time=30 ProcID=0 Running->Idle Reason=""',
                   'M=-1 P=-1 G=-1 StateTransition Time=35 ProcID=1 Idle->Running Reason=""',  # no thread
                   'M=7 P=2 G=-1 StateTransition Time=40 ProcID=2 Idle->Running Reason=""',
                   'M=7 P=2 G=-1 StateTransition Time=50 ProcID=2 Running->NotExist Reason=""',
                   'M=7 P=3 G=-1 StateTransition Time=60 ProcID=3 Idle->Running Reason=""',
                   'M=7 P=3 G=-1 StateTransition Time=65 ProcID=3 Running->Syscall Reason=""')
    got = sorted((s.tid, s.name, s.start_ns, s.end_ns) for s in exectrace_spans(1, events, 90))
    assert got == [(5, "P0", 10, 20), (6, "P0", 20, 30), (7, "P2", 40, 50), (7, "P3", 60, 90)]
    assert {s.category for s in exectrace_spans(1, events, 90)} == {"proc"}


@pytest.mark.parametrize("name, category", [
    ("GC concurrent mark phase", "gc"), ("GC incremental sweep", "gc"), ("concurrent sweep", "gc"),
    ("mark assist", "gc"), ("stop-the-world (GC sweep termination)", "runtime"), ("stop-the-world (read mem stats)", "runtime"),
])
def test_a_range_is_gc_work_or_another_runtime_range(name, category):
    events = _dump(f'M=5 P=0 G=1 RangeBegin Time=10 Name="{name}" Scope=Goroutine(1)',
                   f'M=5 P=0 G=1 RangeEnd Time=20 Name="{name}" Scope=Goroutine(1)')
    (span,) = exectrace_spans(1, events, 99)
    assert (span.tid, span.name, span.category, span.start_ns, span.end_ns, span.args) == (
        5, name, category, 10, 20, (("scope", "Goroutine(1)"),))


def test_ranges_by_name_and_scope_and_which_track_they_go_on():
    events = _dump('M=5 P=0 G=1 RangeActive Time=10 Name="mark assist" Scope=Goroutine(1)',
                   'M=6 P=1 G=2 RangeBegin Time=12 Name="mark assist" Scope=Goroutine(2)',
                   'M=5 P=0 G=1 RangeEnd Time=14 Name="mark assist" Scope=Goroutine(1)',
                   'M=-1 P=-1 G=-1 RangeBegin Time=15 Name="GC concurrent mark phase" Scope=Goroutine(3)',
                   'M=8 P=0 G=1 RangeBegin Time=16 Name="stop-the-world (x)"',
                   'M=8 P=0 G=1 RangeEnd Time=18 Name="stop-the-world (x)"',
                   'M=9 P=0 G=1 RangeEnd Time=19 Name="never begun" Scope=Proc(0)',
                   'M=9 P=0 G=1 RangeBegin Time=19 Name="" Scope=Proc(0)',
                   'M=9 P=0 G=1 RangeBegin Time=20 Name="empty scope" Scope=""',
                   'M=9 P=0 G=1 RangeEnd Time=21 Name="empty scope" Scope=""')
    got = sorted((s.tid or 0, s.name, s.start_ns, s.end_ns, s.args) for s in exectrace_spans(1, events, 50))
    assert got == [(0, "GC concurrent mark phase", 15, 50, (("scope", "Goroutine(3)"),)),  # no thread: the process
                   (0, "empty scope", 20, 21, (("scope", ""),)),
                   (0, "stop-the-world (x)", 16, 18, ()),  # no scope: the process
                   (5, "mark assist", 10, 14, (("scope", "Goroutine(1)"),)),
                   (6, "mark assist", 12, 50, (("scope", "Goroutine(2)"),)),
                   (9, "never begun", 19, 19, (("scope", "Proc(0)"),))]


def test_a_range_begun_on_one_thread_stays_on_it():
    events = _dump('M=5 P=0 G=1 RangeBegin Time=10 Name="mark assist" Scope=Goroutine(1)',
                   'M=6 P=0 G=1 RangeEnd Time=20 Name="mark assist" Scope=Goroutine(1)')
    assert [(s.tid, s.start_ns) for s in exectrace_spans(1, events, 99)] == [(5, 10)]


# ---------------------------------------------------------------------------
# the join: every check, each naming the thread


def _hook(*lines):
    return "".join(f"gorunkit-thread v1 {line}\n" for line in lines)


def _start(t, m, tid, fn="none"):
    return f"start t={t} m={m} tid={tid} procid={tid} g0_lo=0x1 g0_hi=0x2 fs=0x10 gs=0x0 m_tls=0x8 fn={fn}"


def _new(t, m, by_m, by_tid, fn="none", via=""):
    return f"new t={t} m={m} by_m={by_m} by_tid={by_tid} fn={fn}" + (f" via={via}" if via else "")


def _clone(t, m, by_m, by_tid):
    return f"clone t={t} m={m} by_m={by_m} by_tid={by_tid} cgo=0"


def _events(*rows):
    return parse_dump([f'M={m} P=0 G=1 StateTransition Time={t} GoID=1 Runnable->Running Reason=""' for m, t in rows])


M0 = _start(5, 0, PID)
M1 = (_new(8, 1, 0, PID, via="runtime.wakep<runtime.newproc"), _clone(9, 1, 0, PID), _start(30, 1, 101))


def _mismatch(trace, hook, events=()):
    with pytest.raises(TimelineMismatch) as err:
        join(trace, hook, events)
    text = str(err.value)
    assert text.startswith(f"the tracer, the thread hook and the execution trace disagree about pid {PID}:\n  ")
    return text.split(":\n  ", 1)[1].split("\n  ")


def test_the_joined_thread_carries_what_each_instrument_saw():
    tl = join(_trace(_spawn(20, PID, 101), _exit(60, PID, 101)), _hook(M0, *M1), _events((PID, 10), (101, 40)),
              go_version="go1.99", notes=("n",))
    (main, t101) = tl.threads
    assert main == ThreadJoin(pid=PID, tid=PID, m=0, creator_tid=None, asked_by_m=None, start_fn="none", reason=None,
                              t_clone=None, t_start=5, t_first_event=10, t_exit=None, exectrace="events")
    assert t101 == ThreadJoin(pid=PID, tid=101, m=1, creator_tid=PID, asked_by_m=0, start_fn="none",
                              reason="a new goroutine and an idle P: wakep starts a spinning M", t_clone=20,
                              t_start=30, t_first_event=40, t_exit=60, exectrace="events")
    (creation,) = [s for s in tl.spans if s.category == "creation"]
    assert (creation.pid, creation.tid, creation.name, creation.start_ns, creation.end_ns) == (
        PID, 101, "clone -> minit M1", 20, 30)
    assert dict(creation.args) == {"creator_tid": str(PID), "reason": t101.reason}
    hook = sorted((m.tid, m.name, m.ts_ns, m.args) for m in tl.marks if m.category == "hook")
    assert hook == [(PID, "minit M0", 5, (("fn", "none"), ("procid", str(PID)))),
                    (PID, "newm M1", 8, (("fn", "none"), ("by_m", "0"))),
                    (PID, "newm1 clones M1", 9, (("by_m", "0"), ("cgo", "False"))),
                    (101, "minit M1", 30, (("fn", "none"), ("procid", "101")))]
    assert (tl.go_version, tl.notes, tl.exectrace_from_ns, tl.t_end_ns) == ("go1.99", ("n",), 10, 60)


def test_a_creation_span_without_a_reason_names_the_start_function():
    hook = _hook(M0, _new(8, 1, 0, PID, fn="runtime.sysmon"), _clone(9, 1, 0, PID), _start(30, 1, 101, "runtime.sysmon"))
    tl = join(_trace(_spawn(20, PID, 101)), hook)
    (creation,) = [s for s in tl.spans if s.category == "creation"]
    assert dict(creation.args)["reason"] == "runtime.sysmon"


def test_the_end_is_the_last_event_when_it_comes_after_the_tracer():
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0, *M1), _events((PID, 10), (101, 40), (PID, 300)))
    assert (tl.t_end_ns, tl.exectrace_from_ns) == (300, 10)
    assert max(s.end_ns for s in tl.spans if s.category == "goroutine") == 300
    tl = join(_trace(_spawn(20, PID, 101), _exit(90, PID, PID)), _hook(M0, *M1), _events((PID, 10), (101, 40)))
    assert tl.t_end_ns == 90
    assert max(s.end_ns for s in tl.spans if s.category == "goroutine") == 90


def test_hook_records_of_a_thread_the_tracer_never_saw():
    with pytest.raises(TimelineMismatch, match=r"^1 thread-hook records name threads the tracer never saw: .*'tid': 101"):
        join(_trace(), _hook(M0, _start(30, 1, 101)))


def test_each_disagreement_is_listed_naming_its_thread():
    # 102 has events but no clone; 101 has events but no start; 103 started before its clone
    hook = _hook(M0, _new(8, 3, 0, PID), _clone(9, 3, 0, PID), _start(15, 3, 103))
    found = _mismatch(_trace(_spawn(20, PID, 101), _spawn(20, PID, 103)), hook,
                      _events((PID, 10), (101, 40), (102, 40), (103, 40)))
    assert found == [f"tid 102 has execution-trace events but the tracer saw no such thread in pid {PID}",
                     "tid 101 has execution-trace events but no hook start record (minit)",
                     "tid 102 has execution-trace events but no hook start record (minit)",
                     "tid 103: the hook's start (15) is not after the tracer's clone (20)"]


@pytest.mark.parametrize("clone, start, first, says", [
    (20, 20, 40, "tid 101: the hook's start (20) is not after the tracer's clone (20)"),
    (20, 30, 30, "tid 101: its first execution-trace event (30) is not after the hook's start (30)"),
    (20, 30, 29, "tid 101: its first execution-trace event (29) is not after the hook's start (30)"),
])
def test_the_order_clone_start_first_event_is_strict(clone, start, first, says):
    hook = _hook(M0, _new(8, 1, 0, PID), _clone(9, 1, 0, PID), _start(start, 1, 101))
    assert _mismatch(_trace(_spawn(clone, PID, 101)), hook, _events((PID, 10), (101, first))) == [says]


def test_the_cloning_thread_must_be_the_one_that_ran_newm1():
    hook = _hook(M0, _new(8, 1, 0, PID), _clone(9, 1, 0, 102), _start(30, 1, 101), _start(12, 2, 102))
    found = _mismatch(_trace(_spawn(10, PID, 102), _spawn(20, PID, 101)), hook)
    assert found == [f"tid 101 (M1): the tracer saw tid {PID} clone it, the hook's newm1 ran on tid 102"]
    # without a clone record (an M the hook saw start only) there is nothing to compare
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0, _start(30, 1, 101)))
    assert [(j.tid, j.creator_tid, j.asked_by_m) for j in tl.threads] == [(PID, None, None), (101, PID, None)]


def test_why_a_thread_has_no_events():
    hook = _hook(M0, *M1, _new(40, 2, 0, PID, fn="runtime.sysmon"), _start(45, 2, 102, "runtime.sysmon"),
                 _new(41, 3, 0, PID, fn="runtime.templateThread"), _start(46, 3, 103, "runtime.templateThread"),
                 _start(47, 4, 104, "runtime.mspinning"))
    tr = _trace(_spawn(20, PID, 101), _spawn(42, PID, 102), _spawn(43, PID, 103), _spawn(44, PID, 104),
                _exit(50, PID, 101), _exit(70, PID, 104))
    why = {j.tid: j.exectrace for j in join(tr, hook, _events((PID, 70))).threads}
    assert why == {PID: "events", 101: "ended before the execution trace began",
                   102: "no events: runtime.sysmon runs without a P, and the trace records what Ps and goroutines do",
                   103: "no events: runtime.templateThread runs without a P, and the trace records what Ps and "
                        "goroutines do",
                   104: "no events after the execution trace began"}  # it ended as the trace began
    assert {j.exectrace for j in join(tr, hook).threads} == {"no execution trace"}


def test_a_thread_the_hook_never_saw_start():
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0))
    (main, other) = tl.threads
    assert (other.tid, other.m, other.start_fn, other.t_start, other.reason) == (101, None, None, None, None)
    assert not [s for s in tl.spans if s.category == "creation"]


def test_a_go_child_gets_its_threads_but_not_the_parents_execution_trace():
    child = _spawn(40, PID, 200, thread=False, flags=0x4111)
    hook = _hook(M0, *M1, _start(50, 0, 200), _new(51, 1, 0, 200), _clone(52, 1, 0, 200), _start(60, 1, 201))
    tr = _trace(_spawn(20, PID, 101), child, _spawn(55, 200, 201, pid=200, child_pid=200))
    tr = Trace(command=tr.command, mode=tr.mode, root_pid=PID, returncode=0, tool="tracer", start_ns=0,
               events=tuple(e if not (isinstance(e, SpawnEvent) and e.child_tid == 201) else
                            SpawnEvent(ts_ns=55, parent_pid=200, parent_tid=200, child_pid=200, child_tid=201,
                                       syscall="clone", flags=0x3d0f00, flag_names=(), exit_signal=None,
                                       is_thread=True) for e in tr.events))
    tl = join(tr, hook, _events((PID, 10), (101, 40)))
    got = {(j.pid, j.tid): (j.m, j.creator_tid, j.exectrace) for j in tl.threads}
    assert got == {(PID, PID): (0, None, "events"), (PID, 101): (1, PID, "events"),
                   (200, 200): (0, PID, "no execution trace"), (200, 201): (1, 200, "no execution trace")}
    # the child's main thread was made by its parent's thread: clone -> its runtime's minit
    assert {(s.pid, s.tid, s.start_ns, s.end_ns) for s in tl.spans if s.category == "creation"} == {
        (PID, 101, 20, 30), (200, 200, 40, 50), (200, 201, 55, 60)}
    assert ("newm1 clones M1", 200) in {(m.name, m.pid) for m in tl.marks}


def test_events_of_no_thread_are_not_a_threads_first():
    sync = parse_dump(["M=-1 P=-1 G=-1 Sync Time=8 N=1"])
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0, *M1), sync + _events((PID, 10), (101, 40)))
    assert tl.exectrace_from_ns == 8 and [j.t_first_event for j in tl.threads] == [10, 40]


def test_an_execution_trace_without_hook_records_is_refused():
    with pytest.raises(TimelineMismatch, match=f"the execution trace has 2 events but pid {PID} wrote no thread-hook "
                                               "record: was it built with gorun_kit.threads.build"):
        join(_trace(), "", _events((PID, 10), (PID, 11)))
    assert join(_trace(), "").threads == ()  # neither: a plain trace


def test_the_table_of_threads():
    tl = join(_trace(_spawn(20, PID, 101), _spawn(42, PID, 102), _exit(50, PID, 102)),
              _hook(M0, *M1, _start(45, 2, 102, "runtime.sysmon")), _events((PID, 1010), (101, 2530)))
    lines = thread_table(tl).splitlines()
    assert [line.split("  ")[0].strip() for line in lines] == ["tid", str(PID), "101", "102"]
    assert lines[0] == "tid  M   cloned by  clone->minit us  minit->first event us                   why / start fn"
    assert lines[1] == f"{PID}  M0  -          -                1                                       main thread"
    assert lines[2] == ("101  M1  100        0                2                                       "
                        "a new goroutine and an idle P: wakep starts a spinning M")
    assert lines[3] == "102  M2  100        0                ended before the execution trace began  runtime.sysmon"
    unknown = _with_first_thread(tl, m=None, creator_tid=7, reason=None, start_fn=None)
    assert thread_table(unknown).splitlines()[1].split() == [str(PID), "-", "7", "-", "1", "-"]
    spun = _with_first_thread(tl, m=3, creator_tid=7, reason=None, start_fn="none")
    assert thread_table(spun).splitlines()[1].split()[-1] == "none"


def _with_first_thread(tl, **changes):
    return dataclasses.replace(tl, threads=(dataclasses.replace(tl.threads[0], **changes),))


# ---------------------------------------------------------------------------
# the Chrome document: which span keeps its place on a thread, and the check


def _doc(spans=(), marks=(), arrows=(), threads=(), **changes):
    fields = dict(command=("p",), root_pid=1, exit_status=4, t0_ns=0, t_end_ns=100, spans=tuple(spans),
                  marks=tuple(marks), arrows=tuple(arrows), names=((1, "p"),), threads=tuple(threads))
    fields.update(changes)
    doc = chrome.to_chrome(Timeline(**fields))
    assert chrome.problems(doc) == []
    return doc


def _placed(doc):
    """name -> "X" (a slice of its thread) or "b" (moved to an async slice)."""
    return {e["name"].split(" (tid")[0]: e["ph"] for e in doc["traceEvents"] if e["ph"] in ("X", "b")}


RANKED = ["process", "thread", "creation", "goroutine", "syscall", "gc", "runtime", "another", "proc"]


@pytest.mark.parametrize("first, second", list(zip(RANKED, RANKED[1:])))
@pytest.mark.parametrize("earlier", [True, False])
def test_of_two_crossing_spans_the_category_earlier_in_the_order_stays(first, second, earlier):
    a, b = (10, 20), (15, 25)
    if not earlier:
        a, b = b, a
    doc = _doc([Span(1, 1, "b", second, *b), Span(1, 1, "a", first, *a)])
    assert _placed(doc) == {"a": "X", "b": "b"}


@pytest.mark.parametrize("a, b, both_stay", [
    ((10, 20), (20, 30), True), ((10, 20), (5, 10), True), ((10, 30), (15, 20), True), ((10, 20), (10, 20), True),
    ((10, 20), (5, 25), True), ((10, 20), (10, 30), True), ((10, 20), (0, 20), True), ((10, 10), (10, 10), True),
    ((10, 20), (5, 15), False), ((10, 20), (15, 25), False), ((10, 20), (19, 21), False), ((10, 20), (9, 11), False),
])
def test_spans_that_nest_or_touch_both_stay_on_their_thread(a, b, both_stay):
    # of one category, the outer one of a pair starting together claims its place first, else the earlier one
    first, second = (a, b) if (a[0], -a[1]) <= (b[0], -b[1]) else (b, a)
    doc = _doc([Span(1, 1, "a", "goroutine", *first), Span(1, 1, "b", "goroutine", *second)])
    assert _placed(doc) == {"a": "X", "b": "X" if both_stay else "b"}
    # of two categories, the goroutine claims its place first, wherever it is
    for kept, other in ((a, b), (b, a)):
        doc = _doc([Span(1, 1, "b", "proc", *other), Span(1, 1, "a", "goroutine", *kept)])
        assert _placed(doc) == {"a": "X", "b": "X" if both_stay else "b"}


def test_a_span_crossing_one_of_several_moves():
    spans = [Span(1, 1, "x", "goroutine", 0, 10), Span(1, 1, "y", "goroutine", 20, 30),
             Span(1, 1, "z", "goroutine", 40, 50), Span(1, 1, "w", "proc", 25, 35)]
    assert _placed(_doc(spans)) == {"x": "X", "y": "X", "z": "X", "w": "b"}
    spans[-1] = Span(1, 1, "w", "proc", 5, 45)
    assert _placed(_doc(spans)) == {"x": "X", "y": "X", "z": "X", "w": "b"}
    spans[-1] = Span(1, 1, "w", "proc", 12, 18)
    assert _placed(_doc(spans)) == {"x": "X", "y": "X", "z": "X", "w": "X"}


def test_a_moved_span_keeps_its_args_and_names_its_thread():
    doc = _doc([Span(1, 2, "G1", "goroutine", 10, 20), Span(1, 2, "P0", "proc", 15, 25, (("x", "y"),))])
    (b,) = [e for e in doc["traceEvents"] if e["ph"] == "b"]
    (e,) = [e for e in doc["traceEvents"] if e["ph"] == "e"]
    assert b == {"name": "P0 (tid 2)", "cat": "proc", "id": b["id"], "pid": 1, "tid": 2, "ph": "b", "ts": 0.015,
                 "args": {"x": "y", "tid": "2"}}
    assert e == {"name": "P0 (tid 2)", "cat": "proc", "id": b["id"], "pid": 1, "tid": 2, "ph": "e", "ts": 0.025}


def test_a_flow_end_needs_a_slice_that_covers_it():
    spans = [Span(1, 1, "pid 1", "process", 0, 100), Span(1, 2, "tid 2", "thread", 40, 60)]
    stubs = lambda doc: sorted((e["tid"], e["name"], e["ts"], e["cat"], e["args"]["creates"])  # noqa: E731
                               for e in doc["traceEvents"] if e["ph"] == "X" and e["name"] in ("clone", "start"))
    # a slice covers [start, end): its start is covered, its end is not
    assert stubs(_doc(spans, arrows=[Arrow("thread", 1, 1, 40, 1, 2, 40)])) == []
    assert stubs(_doc(spans, arrows=[Arrow("thread", 1, 1, 60, 1, 2, 60)])) == [(2, "start", 0.06, "thread-creation",
                                                                                "tid 2")]
    assert stubs(_doc(spans, arrows=[Arrow("exec", 1, 3, 30, 1, 2, 50)])) == [(3, "clone", 0.03, "exec-creation",
                                                                              "pid 1")]
    doc = _doc(spans, arrows=[Arrow("process", 1, 3, 30, 5, 5, 31)], names=((1, "p"), (5, "child")))
    assert stubs(doc) == [(3, "clone", 0.03, "process-creation", "pid 5"), (5, "start", 0.031, "process-creation",
                                                                              "pid 5")]
    named = {(e["pid"], e.get("tid")): e["args"]["name"] for e in doc["traceEvents"] if e["name"].endswith("_name")}
    assert named[(5, None)] == "pid 5: child" and named[(5, 5)] == "tid 5" and named[(1, 3)] == "tid 3"
    ranks = [e["pid"] for e in doc["traceEvents"] if e["name"] == "process_sort_index"]
    assert ranks == [1, 5]
    flows = [e for e in doc["traceEvents"] if e["ph"] in ("s", "f")]
    assert [(e["ph"], e["pid"], e["tid"], e["name"], "bp" in e) for e in flows] == [
        ("s", 1, 3, "creates pid 5", False), ("f", 5, 5, "creates pid 5", True)]


def test_events_of_one_moment_open_the_longer_slice_first_and_close_asyncs_last():
    doc = _doc([Span(1, 1, "g", "goroutine", 0, 10), Span(1, 1, "x", "gc", 10, 12), Span(1, 1, "y", "gc", 10, 30),
                Span(1, None, "w", "gc", 5, 10)], marks=[Mark(1, 1, "m", "hook", 10)])
    track = [(e["ph"], e["name"]) for e in doc["traceEvents"] if e["ph"] != "M" and e["ts"] == 0.01]
    assert track == [("X", "y"), ("X", "x"), ("i", "m"), ("e", "w")]


def test_every_kind_of_event_at_one_moment():
    doc = _doc([Span(1, 1, "g", "goroutine", 10, 20), Span(1, None, "w", "gc", 10, 30), Span(1, None, "v", "gc", 0, 10)],
               marks=[Mark(1, 1, "m", "hook", 10)],
               arrows=[Arrow("thread", 1, 1, 10, 1, 2, 15), Arrow("thread", 1, 3, 5, 1, 1, 10)])
    at10 = [(e["ph"], e["name"]) for e in doc["traceEvents"] if e["ph"] != "M" and e["ts"] == 0.01 and e["tid"] == 1]
    assert at10 == [("X", "g"), ("b", "w"), ("i", "m"), ("s", "creates tid 2"), ("f", "creates tid 1"), ("e", "v")]


def test_one_stub_per_uncovered_nanosecond():
    arrows = [Arrow("thread", 1, 3, 50, 1, 4, 60), Arrow("thread", 1, 3, 50, 1, 5, 60),
              Arrow("thread", 1, 3, 51, 1, 6, 60)]
    doc = _doc([Span(1, 1, "pid 1", "process", 0, 100)], arrows=arrows)
    clones = [(e["ts"], e["dur"]) for e in doc["traceEvents"] if e["name"] == "clone"]
    assert clones == [(0.05, 0.001), (0.051, 0.001)]


def test_thread_names_say_m_and_start_function_when_known():
    def join(tid, m, fn):
        return ThreadJoin(pid=1, tid=tid, m=m, creator_tid=None, asked_by_m=None, start_fn=fn, reason=None,
                          t_clone=None, t_start=None, t_first_event=None, t_exit=None, exectrace="events")
    spans = [Span(1, t, "s", "goroutine", t, t + 1) for t in (1, 2, 3, 4)]
    doc = _doc(spans, threads=[join(1, 0, "none"), join(2, None, "runtime.sysmon"), join(3, 5, None)])
    named = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "thread_name"}
    assert named == {1: "tid 1 M0", 2: "tid 2 (runtime.sysmon)", 3: "tid 3 M5", 4: "tid 4"}
    other = doc["otherData"]
    assert (other["root_pid"], other["exit_status"], [j["tid"] for j in other["threads"]]) == (1, 4, [1, 2, 3])


def test_the_file_is_compact_utf_8(tmp_path):
    tl = Timeline(command=("é",), root_pid=1, exit_status=0, t0_ns=0, t_end_ns=9, spans=(Span(1, 1, "é", "exec", 0, 9),),
                  marks=(), arrows=(), names=((1, "é"),))
    path = chrome.write(tl, tmp_path / "t.json")
    assert path == tmp_path / "t.json"
    data = path.read_bytes()
    assert "é".encode() in data and b"\\u00e9" not in data
    assert b'"ph":"X"' in data and b'", "' not in data and b'": "' not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()


def test_a_file_that_cannot_be_made_is_the_error_and_nothing_is_left(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("no room")
    tl = Timeline(command=(), root_pid=1, exit_status=0, t0_ns=0, t_end_ns=9, spans=(), marks=(), arrows=(), names=())
    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match="no room"):
        chrome.write(tl, tmp_path / "t.json")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []
    assert tl.kernel == platform.release()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- problems(), one rule at a time


def _full(ph: str) -> dict:
    ev = {"ph": ph, "name": "n", "cat": "c", "id": 1, "ts": 1.0, "dur": 1.0, "pid": 1, "tid": 1, "args": {}}
    if ph == "f":
        ev["bp"] = "e"
    if ph == "M":
        ev.update(name="process_name", args={"name": "x"})
    return ev


REQUIRED = {"X": "name ts dur pid tid", "B": "ts pid tid", "E": "ts pid tid", "i": "name ts pid tid",
            "I": "name ts pid tid", "b": "name cat id ts pid", "e": "name cat id ts pid", "n": "name cat id ts pid",
            "s": "id ts pid tid cat name", "t": "id ts pid tid cat name", "f": "id ts pid tid cat name",
            "M": "name pid args", "C": "name ts pid args"}


@pytest.mark.parametrize("ph, field", [(ph, f) for ph, fields in REQUIRED.items() for f in fields.split()])
def test_each_phase_needs_its_fields(ph, field):
    ev = _full(ph)
    del ev[field]
    found = chrome.problems([ev])
    assert f"event 0 (ph {ph!r}, name {ev.get('name')!r}): no {field!r}" in found, found


@pytest.mark.parametrize("change, says", [
    ({"ts": "1"}, "ts '1' is not a number"), ({"dur": True}, "dur True is not a number"),
    ({"pid": 1.5}, "pid 1.5 is neither an integer nor a string"), ({"tid": False}, "tid False is neither"),
    ({"tid": None}, "tid None is neither"), ({"dur": -0.001}, "dur -0.001 is negative"),
    ({"ts": math.inf}, "a number is not finite"), ({"args": {"a": [1.0, math.nan]}}, "a number is not finite"),
])
def test_values_of_the_wrong_kind(change, says):
    found = chrome.problems([{**_full("X"), **change}])
    assert len(found) == 1 and found[0].startswith("event 0 (ph 'X', name 'n'): ") and says in found[0], found


def test_good_values_of_every_kind_pass():
    events = [{**_full("X"), "pid": "p", "tid": "t", "ts": 0, "dur": 0, "args": {"a": [1.0, {"b": 2.5}]}},
              {**_full("i"), "s": "p", "ts": 1}, {**_full("i"), "s": "g", "ts": 2}, {**_full("I"), "ts": 3},
              {**_full("i"), "ts": 4}, {**_full("C"), "ts": 4, "args": {"v": 1}},
              {"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": 1, "args": {"sort_index": 2.5}},
              {"ph": "M", "name": "process_labels", "pid": 1, "args": {"labels": "x"}},
              {"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "t"}}]
    assert chrome.problems({"traceEvents": events}) == []
    assert chrome.problems([{**_full("B"), "ts": 1}, {**_full("E"), "ts": 2, "name": None}]) == []
    assert chrome.problems({"traceEvents": []}) == []
    assert chrome.problems([{**_full("X"), "dur": -1.0, "ph": "B"}, {**_full("E"), "ts": 5}]) == []


@pytest.mark.parametrize("event, says", [
    ({"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": 3}}, "thread_name without a string args.name"),
    ({"ph": "M", "name": "process_name", "pid": 1, "args": {}}, "process_name without a string args.name"),
    ({"ph": "M", "name": "process_sort_index", "pid": 1, "args": {"sort_index": "1"}},
     "process_sort_index without a numeric args.sort_index"),
    ({"ph": "M", "name": "thread_sort_index", "pid": 1, "args": {"sort_index": 1}}, "thread metadata without a tid"),
    ({"ph": "M", "name": "process_name", "pid": 1, "args": ["x"]}, "metadata without an args object"),
    ({"ph": "M", "name": "colour", "pid": 1, "args": {}}, "metadata name is not one of process_labels, process_name"),
    ({"ph": "i", "name": "m", "ts": 1, "pid": 1, "tid": 1, "s": "x"}, "scope s 'x' is not t, p or g"),
    ({"ph": "f", "name": "m", "cat": "c", "id": 1, "ts": 1, "pid": 1, "tid": 1, "bp": "s"}, "bp"),
    ({"ph": None, "name": "m"}, "event 0 (ph None, name 'm'): ph is not a phase of the format (B C E I M X b e f i n s t)"),
])
def test_each_shape_rule(event, says):
    found = chrome.problems([event])
    assert any(says in p for p in found), found


def test_a_document_that_is_not_a_list_of_objects():
    assert chrome.problems({"events": []}) == ["the document has no traceEvents"]
    assert chrome.problems({"traceEvents": "x"}) == ["traceEvents is a str, not a list of events"]
    assert chrome.problems([_full("X"), 7, "e"]) == ["event 1 is a int, not an object", "event 2 is a str, not an object"]


def test_a_broken_event_is_left_out_of_the_checks_between_events():
    crossing = {**_full("X"), "ts": 1.5, "dur": 1.0, "name": None}
    del crossing["name"]
    assert chrome.problems([_full("X"), crossing]) == ["event 1 (ph 'X', name None): no 'name'"]
    late_meta = {"ph": "M", "name": "process_name", "pid": 1, "tid": 1, "ts": 0, "args": {"name": "x"}}
    assert chrome.problems([{**_full("X"), "ts": 5.0}, late_meta]) == []


def test_order_is_per_track():
    assert chrome.problems([{**_full("i"), "ts": 5}, {**_full("i"), "ts": 1, "tid": 2}, {**_full("i"), "ts": 5}]) == []
    assert chrome.problems([{**_full("i"), "ts": 5}, {**_full("i"), "ts": 1, "pid": 2}]) == []
    found = chrome.problems([{**_full("i"), "ts": 5}, {**_full("i"), "ts": 7, "tid": 2}, {**_full("i"), "ts": 4}])
    assert found == ["event 2 (i 'n') at ts 4 comes after event 0 at ts 5 on track pid 1 tid 1: ts must not decrease"]


def test_b_and_e_pair_by_track_and_name():
    def ev(ph, name, ts, tid=1):
        return {"ph": ph, "name": name, "ts": ts, "pid": 1, "tid": tid}
    assert chrome.problems([ev("B", "a", 1), ev("B", "b", 2), ev("E", "b", 3), ev("E", "a", 4)]) == []
    assert chrome.problems([ev("B", "a", 1), ev("E", "a", 2, tid=2)]) == [
        "event 1 (E 'a') on pid 1 tid 2 ends no open B", "event 0 (B 'a') on pid 1 tid 1 is never ended by an E"]
    assert chrome.problems([ev("B", "a", 1), ev("B", "b", 2), ev("E", "a", 3), ev("E", "b", 4)]) == [
        "event 2 (E 'a') closes event 1 (B 'b'): the names differ", "event 3 (E 'b') closes event 0 (B 'a'): the names differ"]


def test_async_pairs_match_by_category_id_and_name():
    def ev(ph, name, ts, cat="c", ident=1):
        return {"ph": ph, "name": name, "cat": cat, "id": ident, "ts": ts, "pid": 1}
    # overlapping pairs of one id end in any order, by name
    assert chrome.problems([ev("b", "x", 1), ev("b", "y", 2), ev("e", "x", 3), ev("e", "y", 4)]) == []
    assert chrome.problems([ev("b", "x", 1), ev("b", "x", 2), ev("e", "x", 3), ev("e", "x", 4)]) == []
    assert chrome.problems([ev("b", "x", 1), ev("e", "x", 2, cat="d")]) == [
        "event 1 (e 'x', cat 'd', id 1) ends no open b of that name",
        "event 0 (b 'x', cat 'c', id 1) is never ended by an e"]
    # the latest of one name is the one an e ends
    assert chrome.problems([ev("b", "x", 1), ev("b", "x", 2), ev("e", "x", 3)]) == [
        "event 0 (b 'x', cat 'c', id 1) is never ended by an e"]
    assert chrome.problems([ev("b", "x", 1), ev("e", "y", 2)])[0] == "event 1 (e 'y', cat 'c', id 1) ends no open b of that name"


def test_flows_need_one_start_and_ends_after_it():
    def ev(ph, ts, ident=1):
        return {**_full(ph), "id": ident, "ts": ts}
    assert chrome.problems([ev("s", 1), ev("t", 1.5), {**ev("f", 1), "tid": 2}]) == []  # an end at the start is fine
    assert chrome.problems([ev("s", 1), ev("s", 2), ev("f", 3)]) == [
        "flow id 1 has 2 start events (s); it needs exactly one"]
    assert chrome.problems([ev("s", 1), ev("f", 3, ident=2)]) == [
        "flow id 1 has no end event (f)", "flow id 2 has 0 start events (s); it needs exactly one"]
    found = chrome.problems([{**ev("s", 2), "tid": 2}, ev("f", 1), ev("f", 3)])
    assert found == ["flow id 1: its end (event 1, ts 1) is before its start (event 0, ts 2)"]


def test_complete_slices_of_a_track_must_nest():
    def x(ts, dur, tid=1, name="n"):
        return {"ph": "X", "name": name, "ts": ts, "dur": dur, "pid": 1, "tid": tid}
    nested = [x(0, 10), x(0, 4), x(4, 6), x(5, 1), x(10, 0), x(10, 2)]
    assert chrome.problems(nested) == []
    assert chrome.problems([x(0, 10), x(5, 10, tid=2)]) == []
    assert chrome.problems([x(0.0001, 0.0104), x(0.0104, 0.001)]) == []  # µs with ns kept: they touch
    found = chrome.problems([x(0, 10, name="a"), x(2, 3, name="b"), x(4, 2, name="c")])
    assert found == ["event 2 (X 'c') crosses event 1 (X 'b') on pid 1 tid 1: slices of one thread must nest "
                     "(Perfetto drops it)"]
    # after a crossing slice is reported, it is not the parent of later ones
    assert len(chrome.problems([x(0, 10), x(5, 10), x(12, 1)])) == 1


def test_at_most_fifty_problems_are_listed():
    assert len(chrome.problems([{"ph": "Q"}] * 50)) == 50
    assert chrome.problems([{"ph": "Q"}] * 51)[-1] == "... and 1 more"


# ---------------------------------------------------------------------------
# timeline.run with stand-ins for the build, the tracer and `go tool trace`:
# what it hands each instrument, what it makes of their output, what it leaves


@pytest.fixture
def stand_ins(tmp_path, monkeypatch, private_cache):
    """run()'s instruments replaced: ``calls`` records what each was given;
    ``program`` says what the traced program does (its exit status, stderr,
    how much execution trace it writes, whether `go tool trace` can read it)."""
    from types import SimpleNamespace

    from gorun_kit.threads import ENV, EXECTRACE_ENV
    run_module = importlib.import_module("gorun_kit.timeline.run")  # the package's run() hides the module

    calls: dict = {}
    program = dict(status=0, stderr=b"", trace=b"x", symbols=("main.main",), unreadable=None,
                   hook=_hook(M0).encode())
    binary = str(tmp_path / "prog.bin")

    def build(prog, *, go, extension):
        calls["build"] = (prog, go, extension)
        return SimpleNamespace(path=binary)

    def traced(argv, *, env, timeout, confine, writable):
        calls["run"] = dict(argv=argv, env=env, timeout=timeout, confine=confine, writable=writable)
        calls["scratch"] = os.path.dirname(env[ENV])
        if program["hook"] is not None:
            with open(env[ENV], "wb") as f:
                f.write(program["hook"])
        if program["trace"] is not None:
            with open(env[EXECTRACE_ENV], "wb") as f:
                f.write(program["trace"])
        return Trace(command=tuple(argv), mode="events", root_pid=PID, returncode=program["status"], tool="tracer",
                     start_ns=0, events=(_exec(1, PID, binary, argv), _exit(50, PID, PID, last=True)),
                     stdout="héllo\n".encode() + b"\xff", stderr=program["stderr"])

    def read(path, *, go):
        calls["read"] = (open(path, "rb").read(), go)
        if program["unreadable"]:
            raise ExecTraceError(program["unreadable"])
        return _events((PID, 10))

    monkeypatch.setattr(run_module, "build", build)
    monkeypatch.setattr(run_module.tracer, "run", traced)
    monkeypatch.setattr(run_module, "read", read)
    monkeypatch.setattr(run_module, "read_symbols", lambda path: [SimpleNamespace(name=n) for n in program["symbols"]])
    tc = GoToolchain(go="/nowhere/go", goroot="/nowhere", version="go1.99.0", goos="linux", goarch="amd64",
                     source="test")
    return SimpleNamespace(calls=calls, program=program, go=tc, binary=binary)


def test_run_hands_each_instrument_its_part_and_joins_what_they_say(stand_ins, monkeypatch):
    from gorun_kit import timeline
    from gorun_kit.threads import CALLERS_EXTENSION, ENV, EXECTRACE_ENV

    monkeypatch.setenv("GORUN_KIT_TEST_VAR", "kept")
    got = timeline.run("prog.go", ["a", "b"], go=stand_ins.go, timeout=7)
    calls = stand_ins.calls
    assert calls["build"] == ("prog.go", stand_ins.go, CALLERS_EXTENSION.read_text())
    run = calls["run"]
    assert run["argv"] == [stand_ins.binary, "a", "b"] and run["timeout"] == 7 and run["confine"] is True
    assert run["writable"] == [calls["scratch"]] and run["env"]["GORUN_KIT_TEST_VAR"] == "kept"
    assert (os.path.basename(run["env"][ENV]), os.path.basename(run["env"][EXECTRACE_ENV])) == ("threads.txt",
                                                                                              "exec.trace")
    assert os.path.dirname(run["env"][EXECTRACE_ENV]) == calls["scratch"]
    assert calls["read"] == (b"x", stand_ins.go)
    assert not os.path.exists(calls["scratch"])  # the scratch directory is gone
    assert (got.binary, got.stdout, got.stderr, got.exectrace_bytes) == (stand_ins.binary, "héllo\n\ufffd", "", 1)
    tl = got.timeline
    assert (tl.go_version, tl.notes, tl.exectrace_from_ns, [j.tid for j in tl.threads]) == ("go1.99.0", (), 10, [PID])
    assert [name for name, _ in got.phases] == ["build", "traced run", "go tool trace", "join"]
    assert all(took >= 0 for _, took in got.phases)


def test_run_uses_the_environment_it_is_given(stand_ins, monkeypatch):
    from gorun_kit import timeline
    from gorun_kit.threads import ENV

    monkeypatch.setenv("GORUN_KIT_TEST_VAR", "not passed")
    timeline.run("prog.go", go=stand_ins.go, env={"ONLY": "this", ENV: "/elsewhere"})
    env = stand_ins.calls["run"]["env"]
    assert env["ONLY"] == "this" and "GORUN_KIT_TEST_VAR" not in env and env[ENV] != "/elsewhere"
    assert stand_ins.calls["run"]["argv"] == [stand_ins.binary]


@pytest.mark.parametrize("symbol", ["runtime/trace.Start", "runtime/trace.(*traceMultiplexer).subscribeTraceStartWriter",
                                    "runtime/trace.(*FlightRecorder).Start"])
def test_a_program_that_can_start_a_trace_of_its_own_is_refused_before_it_runs(stand_ins, symbol):
    from gorun_kit import timeline

    stand_ins.program["symbols"] = ("main.main", symbol)
    with pytest.raises(timeline.OwnExecTrace, match=r"^prog\.go links runtime/trace\.Start .*"
                                                    f"gorun-kit trace --perfetto FILE -- {re.escape(stand_ins.binary)}$"):
        timeline.run("prog.go", go=stand_ins.go)
    assert "run" not in stand_ins.calls


def test_a_program_that_only_stops_a_trace_is_not_refused(stand_ins):
    from gorun_kit import timeline

    stand_ins.program["symbols"] = ("runtime/trace.Stop", "runtime/trace.StartRegion")
    assert timeline.run("prog.go", go=stand_ins.go).timeline.notes == ()


def test_hook_records_are_read_whatever_their_bytes_and_may_be_missing(stand_ins):
    from gorun_kit import timeline

    stand_ins.program.update(hook=_hook(M0).rstrip("\n").encode() + b" via=runtime.\xff\n", trace=None)
    (main,) = timeline.run("prog.go", go=stand_ins.go).timeline.threads
    assert main.m == 0
    stand_ins.program.update(hook=None)
    assert timeline.run("prog.go", go=stand_ins.go).timeline.threads == ()
    stand_ins.program.update(trace=b"x")
    with pytest.raises(TimelineMismatch, match="wrote no thread-hook record"):
        timeline.run("prog.go", go=stand_ins.go)


def test_the_scratch_directory_goes_when_the_run_fails(stand_ins, monkeypatch):
    from gorun_kit import timeline
    run_module = importlib.import_module("gorun_kit.timeline.run")  # the package's run() hides the module

    def broken(path, *, go):
        raise OSError("disk gone")
    monkeypatch.setattr(run_module, "read", broken)
    with pytest.raises(OSError, match="disk gone"):
        timeline.run("prog.go", go=stand_ins.go)
    assert not os.path.exists(stand_ins.calls["scratch"])


PANIC = b"panic: on purpose\n\ngoroutine 1 [running]:\n"


@pytest.mark.parametrize("status, stderr, trace, unreadable, note", [
    (2, PANIC, b"x", None, "the program ended in a fatal panic or error (exit status 2), which runs no exit hook: "
                           "the execution trace holds only what the runtime had handed its reader before; "
                           "the last events before the end are missing"),
    (2, b"out\nfatal error: all goroutines are asleep\n", b"", None,
     "the program ended in a fatal panic or error (exit status 2), which runs no exit hook: the execution trace was "
     "never flushed (the file is empty); the timeline has the processes, the threads and the hook's records, and no "
     "execution-trace tracks"),
    (137, b"", None, None, "a signal ended the program (exit status 137): the execution trace was never flushed "
                           "(the file is empty)"),
    (129, b"", b"x", None, "a signal ended the program (exit status 129): the execution trace holds only what"),
    (2, PANIC, b"x", "cut short", "the program ended in a fatal panic or error (exit status 2), which runs no exit hook: "
                                 "the execution trace it left cannot be read (cut short); the timeline has the"),
    (130, b"", b"x", "cut short", "a signal ended the program (exit status 130): the execution trace it left cannot"),
    (0, b"", b"", None, "no execution trace: the file is empty"),
    (0, b"", b"x", "bad trace", "no execution trace: bad trace"),
    (2, b"error: panic: not Go's\n", b"", None, "no execution trace: the file is empty"),
])
def test_the_notes_say_what_the_execution_trace_lacks_and_why(stand_ins, status, stderr, trace, unreadable, note):
    from gorun_kit import timeline

    stand_ins.program.update(status=status, stderr=stderr, trace=trace, unreadable=unreadable)
    got = timeline.run("prog.go", go=stand_ins.go)
    (said,) = got.timeline.notes
    assert said.startswith(note), said
    assert got.exectrace_bytes == len(trace or b"")
    assert ("read" in stand_ins.calls) == bool(trace)
    assert got.timeline.exectrace_from_ns == (10 if trace and not unreadable else None)


@pytest.mark.parametrize("status", [0, 1, 128])
def test_no_note_when_the_trace_is_whole(stand_ins, status):
    from gorun_kit import timeline

    stand_ins.program.update(status=status, stderr=PANIC if status == 1 else b"")
    assert timeline.run("prog.go", go=stand_ins.go).timeline.notes == ()


@pytest.mark.parametrize("status, stderr, died", [
    (2, "panic: x", True), (2, "out\npanic: x\n", True), (2, "fatal error: x", True), (2, "runtime: fatal error: x", True),
    (2, "a panic: x", False), (2, "", False), (1, "panic: x", False), (None, "panic: x", False),
])
def test_died_in_panic(status, stderr, died):
    from gorun_kit.timeline.run import died_in_panic

    assert died_in_panic(status, stderr) is died


def test_m_0_is_a_thread_and_only_minus_1_is_none():
    """The contract: ``M`` is a thread id, -1 for none (0 reads as a thread like any other)."""
    events = _dump('M=0 P=0 G=-1 StateTransition Time=10 ProcID=0 Idle->Running Reason=""',
                   'M=0 P=0 G=4 StateTransition Time=11 GoID=4 Runnable->Running Reason=""',
                   'M=0 P=0 G=4 StateTransition Time=12 GoID=4 Running->Syscall Reason=""',
                   'M=0 P=0 G=4 RangeBegin Time=13 Name="mark assist" Scope=Goroutine(4)')
    got = sorted((s.tid, s.name) for s in exectrace_spans(1, events, 20))
    assert got == [(0, "G4"), (0, "P0"), (0, "mark assist"), (0, "syscall")]
