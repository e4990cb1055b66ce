"""Edges of the timeline that the main model tests pass by: the microseconds of the
thread table, which track a range goes on, whose process a hook mark belongs to, what
timeline.run reports of a silent or undecodable program and of its own phases, and
what chrome.write puts on disk whatever the file name or the locale."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gorun_kit.timeline import Arrow, Mark, Span, chrome, exectrace, thread_table
from gorun_kit.timeline.exectrace import ExecTraceError, parse_dump
from gorun_kit.timeline.join import TimelineMismatch, exectrace_spans, join
from gorun_kit.timeline.model import Timeline, from_trace
from gorun_kit.trace.records import ExecFailedEvent
from test_timeline_model import M0, M1, PID, _doc, _dump, _events, _exit, _hook, _spawn, _trace, stand_ins  # noqa: F401


def _timeline(**changes) -> Timeline:
    fields = dict(command=("p",), root_pid=1, exit_status=0, t0_ns=0, t_end_ns=100, spans=(), marks=(), arrows=(),
                  names=((1, "p"),))
    fields.update(changes)
    return Timeline(**fields)


# ---------------------------------------------------------------------------
# the dump reader


def test_a_value_that_only_looks_like_a_number_is_not_one():
    (ev,) = parse_dump(['M=4 P=0 G=9 StateTransition Time=5 GoID=X1 ProcID=-X2 Running->Runnable'])
    assert (ev.goid, ev.procid) == (None, None)


def test_a_text_without_events_says_so():
    with pytest.raises(ExecTraceError) as err:
        parse_dump(["garbage"])
    assert str(err.value) == "the execution trace dump holds no event"


def test_the_trace_tool_runs_with_the_kits_go_environment(tmp_path, monkeypatch):
    from test_timeline_model import DUMP, USAGE_127, _toolchain

    monkeypatch.setenv("GOROOT", "/some/other/go")
    monkeypatch.setenv("GOTOOLCHAIN", "auto")
    tool = (f'if [ "$1" = -h ]; then printf "%s" "{USAGE_127}" >&2; exit 2; fi\n'
            'if [ -n "$GOROOT" ] || [ "$GOTOOLCHAIN" != local ]; then echo "wrong go: $GOROOT $GOTOOLCHAIN" >&2; exit 1; fi\n'
            f'case "$PATH" in {tmp_path}/goroot/bin:*) ;; *) echo "the toolchain\'s go is not first on PATH" >&2; exit 1 ;; esac\n'
            f"echo '{DUMP}'\n")
    trace = tmp_path / "exec.trace"
    trace.write_bytes(b"x")
    (ev,) = exectrace.read(trace, go=_toolchain(tmp_path, tool))
    assert ev.time_ns == 100


# ---------------------------------------------------------------------------
# from_trace, join and the thread table


def test_a_trace_with_wall_clock_times_is_refused_saying_why():
    with pytest.raises(ValueError) as err:
        from_trace(_trace(tool="strace"))
    assert str(err.value) == ("a timeline needs CLOCK_MONOTONIC times: trace with the course's tracer "
                              "(gorun_kit.trace.run), not strace (its times are the wall clock)")


def test_a_track_first_used_by_a_mark_takes_its_place_at_the_marks_time():
    tl = _timeline(spans=(Span(1, 1, "pid 1", "process", 0, 100), Span(1, 2, "tid 2", "thread", 10, 90)),
                   marks=(Mark(1, 3, "exit 0", "exit", 50),))
    assert tl.tracks() == ((1, 1), (1, 2), (1, 3))


def test_a_process_span_carries_its_exit_code_and_a_failed_exec_its_process():
    failed = ExecFailedEvent(ts_ns=20, pid=PID, tid=101, syscall="execve", filename="/no", argv=("no",), envp=(),
                             errno="ENOENT")
    tl = from_trace(_trace(_spawn(10, PID, 101), failed, _exit(30, PID, 101), _exit(40, PID, PID, code=3, last=True)))
    (root,) = [s for s in tl.spans if s.category == "process"]
    assert dict(root.args)["exit_code"] == "3"
    (mark,) = [m for m in tl.marks if m.category == "exec-failed"]
    assert (mark.pid, mark.tid) == (PID, 101)


def test_a_thread_that_ended_before_the_process_lives_to_its_exit():
    tl = from_trace(_trace(_spawn(10, PID, 102), _exit(30, PID, 102), _exit(90, PID, PID, last=True)))
    (thread,) = [s for s in tl.spans if s.category == "thread"]
    assert (thread.tid, thread.start_ns, thread.end_ns) == (102, 10, 30)


def test_execution_trace_spans_belong_to_the_root_process():
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0, *M1), _events((PID, 10), (101, 40)))
    assert {s.pid for s in tl.spans if s.category == "goroutine"} == {PID}


def test_every_execution_trace_span_belongs_to_the_process_and_p_0_is_a_p():
    events = _dump('M=5 P=0 G=-1 StateTransition Time=10 ProcID=0 Idle->Running Reason=""',
                   'M=5 P=0 G=4 StateTransition Time=11 GoID=4 Runnable->Running Reason=""',
                   'M=5 P=0 G=4 RangeBegin Time=12 Name="mark assist" Scope=Goroutine(4)',
                   'M=5 P=0 G=4 RangeEnd Time=13 Name="mark assist" Scope=Goroutine(4)',
                   'M=5 P=0 G=4 RangeBegin Time=14 Name="GC incremental sweep" Scope=Goroutine(4)',
                   'M=5 P=0 G=4 StateTransition Time=15 GoID=4 Running->Runnable Reason=""',
                   'M=5 P=0 G=-1 StateTransition Time=16 ProcID=0 Running->Idle Reason=""')
    spans = exectrace_spans(7, events, 20)
    assert sorted((s.pid, s.name, s.start_ns, s.end_ns) for s in spans) == [
        (7, "G4", 11, 15), (7, "GC incremental sweep", 14, 20), (7, "P0", 10, 16), (7, "mark assist", 12, 13)]
    (g,) = [s for s in spans if s.category == "goroutine"]
    assert dict(g.args) == {"p": "0"}


def test_a_transition_of_neither_a_goroutine_nor_a_p_makes_no_span():
    events = _dump('M=5 P=-1 G=-1 StateTransition Time=10 ThreadID=5 NotExist->Running Reason=""',
                   'M=5 P=-1 G=-1 StateTransition Time=12 ThreadID=5 Running->NotExist Reason=""')
    assert exectrace_spans(7, events, 20) == []


def test_events_on_m_0_are_a_thread_the_tracer_must_have_seen():
    with pytest.raises(TimelineMismatch, match="tid 0 has execution-trace events but the tracer saw no such thread"):
        join(_trace(), _hook(M0), _events((PID, 10), (0, 11)))



def test_the_thread_table_counts_microseconds_of_a_thousand_nanoseconds():
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0, *M1[:2], "start t=1000020 m=1 tid=101 procid=101 g0_lo=0x1 "
                                                  "g0_hi=0x2 fs=0x10 gs=0x0 m_tls=0x8 fn=none"),
              _events((PID, 10), (101, 3_000_020)))
    row = thread_table(tl).splitlines()[2].split()
    assert row[:5] == ["101", "M1", str(PID), "1000", "2000"]


def test_hook_marks_belong_to_the_process_that_wrote_them():
    tl = join(_trace(_spawn(20, PID, 101)), _hook(M0, *M1), _events((PID, 10), (101, 40)))
    hook = sorted((m.pid, m.tid, m.name) for m in tl.marks if m.category == "hook")
    assert hook == [(PID, PID, "minit M0"), (PID, PID, "newm M1"), (PID, PID, "newm1 clones M1"),
                    (PID, 101, "minit M1")]


@pytest.mark.parametrize("name", ["GC phase", "GC"])
def test_a_range_named_gc_alone_is_gc_work(name):
    events = _dump(f'M=5 P=0 G=1 RangeBegin Time=10 Name="{name}" Scope=Goroutine(1)',
                   f'M=5 P=0 G=1 RangeEnd Time=20 Name="{name}" Scope=Goroutine(1)')
    (span,) = exectrace_spans(7, events, 99)
    assert (span.pid, span.tid, span.category) == (7, 5, "gc")


def test_a_range_of_scope_none_goes_on_the_process_even_from_a_thread():
    events = _dump('M=5 P=0 G=1 RangeBegin Time=10 Name="GC concurrent mark phase" Scope=None',
                   'M=5 P=0 G=1 RangeEnd Time=20 Name="GC concurrent mark phase" Scope=None')
    (span,) = exectrace_spans(7, events, 99)
    assert (span.pid, span.tid, span.start_ns, span.end_ns) == (7, None, 10, 20)


# ---------------------------------------------------------------------------
# chrome


def test_at_one_moment_the_longer_slice_opens_first_whatever_its_category():
    doc = _doc([Span(1, 1, "g", "goroutine", 10, 12), Span(1, 1, "w", "gc", 10, 30)])
    assert [e["name"] for e in doc["traceEvents"] if e["ph"] == "X"] == ["w", "g"]


def test_each_async_slice_has_an_id_of_its_own():
    doc = _doc([Span(1, None, "GC", "gc", 10, 30), Span(1, None, "GC", "gc", 20, 40)])
    begins = [e for e in doc["traceEvents"] if e["ph"] == "b"]
    ends = {e["ts"]: e["id"] for e in doc["traceEvents"] if e["ph"] == "e"}
    assert len({b["id"] for b in begins}) == 2
    assert [(b["ts"], b["id"]) for b in begins] == [(0.01, ends[0.03]), (0.02, ends[0.04])]


def test_marks_and_process_wide_spans_carry_their_category_and_args():
    doc = _doc([Span(1, None, "GC", "gc", 10, 30, (("scope", "None"),))],
               marks=[Mark(1, 1, "minit M0", "hook", 5, (("fn", "none"),))])
    (mark,) = [e for e in doc["traceEvents"] if e["ph"] == "i"]
    assert mark == {"ph": "i", "s": "t", "name": "minit M0", "cat": "hook", "ts": 0.005, "pid": 1, "tid": 1,
                    "args": {"fn": "none"}}
    (begin,) = [e for e in doc["traceEvents"] if e["ph"] == "b"]
    assert (begin["cat"], begin["args"]) == ("gc", {"scope": "None"})


def test_a_time_going_back_names_its_track():
    events = [{"ph": "i", "name": "a", "ts": 2.0, "pid": 1, "tid": 2}, {"ph": "i", "name": "b", "ts": 1.0, "pid": 1, "tid": 2}]
    (problem,) = chrome.problems(events)
    assert "on track pid 1 tid 2: ts must not decrease" in problem


@pytest.mark.parametrize("ph", ["i", "I"])
def test_an_instant_of_an_unknown_scope_is_a_problem(ph):
    (problem,) = chrome.problems([{"ph": ph, "name": "a", "ts": 1.0, "pid": 1, "tid": 2, "s": "x"}])
    assert problem == f"event 0 (ph {ph!r}, name 'a'): scope s 'x' is not t, p or g"


def test_problems_name_the_pid_and_tid_of_their_track():
    events = [{"ph": "B", "name": "open", "ts": 1.0, "pid": 1, "tid": 2},
              {"ph": "X", "name": "a", "ts": 0.0, "dur": 10.0, "pid": 3, "tid": 4},
              {"ph": "X", "name": "b", "ts": 5.0, "dur": 10.0, "pid": 3, "tid": 4}]
    found = chrome.problems(events)
    assert any("on pid 1 tid 2 is never ended by an E" in p for p in found), found
    assert any("crosses event 1 (X 'a') on pid 3 tid 4" in p for p in found), found


def test_every_crossing_slice_of_a_track_is_listed():
    events = [{"ph": "X", "name": n, "ts": ts, "dur": 10.0, "pid": 1, "tid": 1}
              for n, ts in (("a", 0.0), ("b", 5.0), ("c", 20.0), ("d", 25.0))]
    found = chrome.problems(events)
    assert [p.split(" (X")[0] for p in found] == ["event 1", "event 3"], found


def test_a_flow_step_without_a_start_or_an_end_is_a_problem():
    found = chrome.problems([{"ph": "t", "name": "step", "cat": "c", "id": 9, "ts": 1.0, "pid": 1, "tid": 1}])
    assert found == ["flow id 9 has 0 start events (s); it needs exactly one", "flow id 9 has no end event (f)"]


def test_slices_sharing_an_end_in_fractions_of_a_microsecond_nest():
    events = [{"ph": "X", "name": "outer", "ts": 0, "dur": 2.5, "pid": 1, "tid": 1},
              {"ph": "X", "name": "inner", "ts": 1.5, "dur": 1.0, "pid": 1, "tid": 1}]
    assert chrome.problems(events) == []


def test_a_flow_end_before_every_slice_of_its_track_gets_a_stub():
    spans = [Span(1, 1, "pid 1", "process", 0, 100), Span(1, 2, "tid 2", "thread", 50, 60)]
    doc = _doc(spans, arrows=[Arrow("thread", 1, 1, 5, 1, 2, 10)])
    stubs = [(e["tid"], e["name"], e["ts"]) for e in doc["traceEvents"] if e["ph"] == "X" and e["name"] == "start"]
    assert stubs == [(2, "start", 0.01)]


def test_the_written_file_is_the_document_as_json(tmp_path):
    tl = _timeline(spans=(Span(1, 1, "a", "goroutine", 0, 9), Span(1, 1, "b", "goroutine", 2, 5)),
                   marks=(Mark(1, 1, "m", "hook", 3),))
    path = chrome.write(tl, tmp_path / "t.json")
    assert json.loads(path.read_text(encoding="utf-8")) == chrome.to_chrome(tl)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_number_json_cannot_hold_is_refused_and_nothing_is_written(tmp_path, bad):
    tl = _timeline(marks=(Mark(1, 1, "m", "hook", bad),))
    with pytest.raises(ValueError):
        chrome.write(tl, tmp_path / "t.json")
    assert os.listdir(tmp_path) == []


def test_any_file_name_the_system_allows_can_be_written(tmp_path):
    longest = os.pathconf(tmp_path, "PC_NAME_MAX")
    path = tmp_path / ("t" * (longest - len(".json")) + ".json")
    chrome.write(_timeline(), path)
    assert os.listdir(tmp_path) == [path.name]


def test_a_missing_directory_is_named_with_the_file(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        chrome.write(_timeline(), missing / "t.json")
    assert str(err.value) == (f"cannot write {str(missing / 't.json')!r}: the directory {str(missing)!r} does not "
                              "exist; create it first")


def test_the_file_is_utf_8_whatever_the_locale(tmp_path):
    code = textwrap.dedent("""
        import sys
        from gorun_kit.timeline import Span, chrome
        from gorun_kit.timeline.model import Timeline
        tl = Timeline(command=("\\u00e9",), root_pid=1, exit_status=0, t0_ns=0, t_end_ns=9,
                      spans=(Span(1, 1, "\\u00e9", "goroutine", 0, 9),), marks=(), arrows=(), names=((1, "x"),))
        chrome.write(tl, sys.argv[1])
    """)
    # the caller imports the kit this test runs against (under mutation testing, the mutated copy)
    env = {**os.environ, "PYTHONPATH": str(Path(chrome.__file__).parents[2]), "LC_ALL": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0"}
    if env.get("MUTANT_UNDER_TEST") in ("stats", "fail"):
        del env["MUTANT_UNDER_TEST"]
    chrome.write(_timeline(), tmp_path / "here.json")  # in this process too: mutation testing maps tests by what they call
    out = tmp_path / "t.json"
    done = subprocess.run([sys.executable, "-c", code, str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "é".encode() in out.read_bytes()
    assert json.loads(out.read_bytes().decode("utf-8"))["otherData"]["command"] == ["é"]


# ---------------------------------------------------------------------------
# timeline.run, with the stand-in instruments of test_timeline_model


def test_run_looks_for_a_trace_start_in_the_binary_it_built(stand_ins, monkeypatch):
    import importlib

    from gorun_kit import timeline
    from types import SimpleNamespace
    run_module = importlib.import_module("gorun_kit.timeline.run")
    asked = []

    def symbols(path):
        asked.append(path)
        return [SimpleNamespace(name="runtime/trace.Start" if path == stand_ins.binary else "main.main")]
    monkeypatch.setattr(run_module, "read_symbols", symbols)
    with pytest.raises(timeline.OwnExecTrace):
        timeline.run("prog.go", go=stand_ins.go)
    assert asked == [stand_ins.binary]


def test_a_program_that_can_trace_itself_is_told_why_and_what_to_do(stand_ins):
    from gorun_kit import timeline

    stand_ins.program["symbols"] = ("runtime/trace.Start",)
    with pytest.raises(timeline.OwnExecTrace) as err:
        timeline.run("prog.go", go=stand_ins.go)
    assert str(err.value) == (
        "prog.go links runtime/trace.Start (its own code, or a package such as net/http/pprof, can start an "
        "execution trace): the timeline starts the runtime's one execution trace itself, and a second trace.Start "
        "would fail with \"tracing is already enabled\". Remove the call, or trace it without the runtime's view: "
        f"gorun-kit trace --perfetto FILE -- {stand_ins.binary}")


def test_run_stops_the_program_after_two_minutes_unless_told(stand_ins):
    from gorun_kit import timeline

    timeline.run("prog.go", go=stand_ins.go)
    assert stand_ins.calls["run"]["timeout"] == 120


def test_a_silent_program_printed_nothing_and_undecodable_stderr_is_replaced(stand_ins, monkeypatch):
    import importlib

    from gorun_kit import timeline
    run_module = importlib.import_module("gorun_kit.timeline.run")
    real = run_module.tracer.run

    def silent(argv, **kw):
        import dataclasses
        return dataclasses.replace(real(argv, **kw), stdout=None, stderr=b"bad \xff byte\n")
    monkeypatch.setattr(run_module.tracer, "run", silent)
    got = timeline.run("prog.go", go=stand_ins.go)
    assert (got.stdout, got.stderr) == ("", "bad \ufffd byte\n")


def test_the_phases_add_up_to_no_more_than_the_whole_run(stand_ins):
    from gorun_kit import timeline

    before = time.perf_counter()
    got = timeline.run("prog.go", go=stand_ins.go)
    took = time.perf_counter() - before
    assert 0 <= sum(seconds for _, seconds in got.phases) <= took
