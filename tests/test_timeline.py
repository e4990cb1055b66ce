"""gorun_kit.timeline: the execution-trace reader, the join of three
instruments and its checks, and one live run of a Go program whose threads
list their own tids."""
from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from gorun_kit import timeline
from gorun_kit.threads.hook import ENV, EXECTRACE_ENV
from gorun_kit.timeline import exectrace
from gorun_kit.timeline.join import TimelineMismatch, exectrace_spans, join
from gorun_kit.trace import Trace
from gorun_kit.trace.records import ExecEvent, ExitEvent, SpawnEvent

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "labs_go" / "timeline_demo"

# ---------------------------------------------------------------------------
# the dump reader, on the two shapes the releases print

DUMP_127 = textwrap.dedent("""\
    M=-1 P=-1 G=-1 Sync Time=1000 N=1 Trace=1040 Mono=1041 Wall=2026-11-30T19:07:51.960850028Z
    M=11 P=-1 G=-1 StateTransition Time=1100 ProcID=0 Undetermined->Running Reason=""
    M=11 P=0 G=-1 StateTransition Time=1200 GoID=1 Undetermined->Running Reason=""
    M=11 P=0 G=1 RangeBegin Time=1250 Name="stop-the-world (start trace)" Scope=Goroutine(1)
    Stack=
    \truntime.StartTrace @ 0x469c4d
    \t\t/go/src/runtime/trace.go:429
    M=11 P=0 G=1 RangeEnd Time=1260 Name="stop-the-world (start trace)" Scope=Goroutine(1) Attributes=[]
    M=11 P=0 G=1 StateTransition Time=1300 GoID=1 Running->Syscall Reason=""
    TransitionStack=
    \tsyscall.RawSyscall6 @ 0x4a1
    \t\t/go/src/syscall/x.go:1
    \tos.(*Process).wait @ 0x4a2
    \t\t/go/src/os/y.go:2
    M=11 P=0 G=1 StateTransition Time=1400 GoID=1 Syscall->Running Reason=""
    M=-1 P=-1 G=-1 StateTransition Time=1450 ProcID=1 Undetermined->Idle Reason=""
    M=11 P=0 G=1 StateTransition Time=1500 GoID=1 Running->Waiting Reason="chan receive"
    M=11 P=0 G=-1 StateTransition Time=1600 ProcID=0 Running->Idle Reason=""
    """)

DUMP_122 = textwrap.dedent("""\
    M=11 P=-1 G=-1 StateTransition Time=1100 Resource=Proc(0) Reason="" ProcID=0 Undetermined->Running
    M=11 P=0 G=-1 StateTransition Time=1200 Resource=Goroutine(1) Reason="" GoID=1 Undetermined->Running
    M=11 P=0 G=1 Metric Time=1210 Name="/sched/gomaxprocs:threads" Value=Uint64(2)
    \truntime.traceLocker.Gomaxprocs @ 0x45b9cb
    \t\t/go/src/runtime/trace2runtime.go:260
    M=11 P=0 G=1 StateTransition Time=1500 Resource=Goroutine(1) Reason="sync" GoID=1 Running->Waiting
    """)


def test_dump_of_go_1_27():
    events = exectrace.parse_dump(DUMP_127.splitlines())
    assert [e.kind for e in events][:3] == ["Sync", "StateTransition", "StateTransition"]
    sync = events[0]
    assert (sync.m, sync.time_ns, sync.field("Mono"), sync.field("Trace")) == (-1, 1000, "1041", "1040")
    proc = events[1]
    assert (proc.m, proc.procid, proc.goid, proc.before, proc.after) == (11, 0, None, "Undetermined", "Running")
    rng = events[3]
    assert (rng.name, rng.scope, rng.stack) == ("stop-the-world (start trace)", "Goroutine(1)", ("runtime.StartTrace",))
    into = events[5]
    assert (into.goid, into.transition, into.stack) == (1, "Running->Syscall", ("syscall.RawSyscall6", "os.(*Process).wait"))
    assert events[-2].reason == "chan receive"


def test_dump_of_go_1_22_reads_the_same_fields_in_another_order():
    events = exectrace.parse_dump(DUMP_122.splitlines())
    assert [(e.m, e.p, e.g, e.kind, e.time_ns) for e in events] == [
        (11, -1, -1, "StateTransition", 1100), (11, 0, -1, "StateTransition", 1200),
        (11, 0, 1, "Metric", 1210), (11, 0, 1, "StateTransition", 1500)]
    assert (events[0].procid, events[0].transition) == (0, "Undetermined->Running")
    assert (events[3].goid, events[3].transition, events[3].reason) == (1, "Running->Waiting", "sync")
    assert events[2].stack == ("runtime.traceLocker.Gomaxprocs",)


def test_a_dump_without_events_is_an_error():
    with pytest.raises(exectrace.ExecTraceError, match="no event"):
        exectrace.parse_dump(["go tool trace: something else\n"])


def test_spans_of_the_dump():
    spans = exectrace_spans(7, exectrace.parse_dump(DUMP_127.splitlines()), t_end=2000)
    got = {(s.category, s.tid, s.name, s.start_ns, s.end_ns) for s in spans}
    assert ("goroutine", 11, "G1", 1200, 1300) in got  # ran until the syscall
    assert ("syscall", 11, "syscall", 1300, 1400) in got
    assert ("goroutine", 11, "G1", 1400, 1500) in got  # ran again until it blocked
    assert ("proc", 11, "P0", 1100, 1600) in got
    assert ("runtime", 11, "stop-the-world (start trace)", 1250, 1260) in got
    assert not any(s.name == "P1" for s in spans)  # P1 was idle throughout


def test_a_global_range_goes_on_the_process_track_and_open_spans_close_at_the_end():
    dump = ('M=5 P=0 G=-1 StateTransition Time=10 ProcID=0 Idle->Running Reason=""\n'
            'M=5 P=0 G=3 RangeBegin Time=20 Name="GC concurrent mark phase" Scope=None\n')
    spans = exectrace_spans(9, exectrace.parse_dump(dump.splitlines()), t_end=99)
    assert {(s.category, s.tid, s.start_ns, s.end_ns) for s in spans} == {("proc", 5, 10, 99), ("gc", None, 20, 99)}


@pytest.fixture(scope="module")
def go():
    from gorun_kit.toolchain import find_go

    return find_go()


def test_dump_mode_is_read_from_the_tools_usage(go):
    """The pinned release prints parsed events with -d=parsed; 1.22's -d=1 is
    checked on the oldest release below."""
    assert exectrace.dump_mode(go) == ("1" if go.version_tuple[:2] == (1, 22) else "parsed")


# ---------------------------------------------------------------------------
# the join, on made-up records: every disagreement is an error naming the thread

PID = 100


def _spawn(ts, parent, child):
    return SpawnEvent(ts_ns=ts, parent_pid=PID, parent_tid=parent, child_pid=PID, child_tid=child, syscall="clone",
                      flags=0x3d0f00, flag_names=("CLONE_VM", "CLONE_THREAD"), exit_signal=None, is_thread=True)


def _trace(*events):
    return Trace(command=("prog",), mode="events", root_pid=PID, returncode=0, tool="tracer", start_ns=0,
                 events=(ExecEvent(ts_ns=1, pid=PID, tid=PID, syscall="execve", filename="/x/prog", argv=("prog",),
                                   envp=(), former_tid=None), *events))


def _hook(*lines):
    return "".join(f"gorunkit-thread v1 {line}\n" for line in lines)


def _start(t, m, tid, fn="none"):
    return f"start t={t} m={m} tid={tid} procid={tid} g0_lo=0x1 g0_hi=0x2 fs=0x10 gs=0x0 m_tls=0x8 fn={fn}"


def _events(*rows):
    return exectrace.parse_dump([f'M={m} P=0 G=1 StateTransition Time={t} GoID=1 Runnable->Running Reason=""'
                                 for m, t in rows])


GOOD_HOOK = _hook(_start(5, 0, PID), f"new t=8 m=1 by_m=0 by_tid={PID} fn=none",
                  f"clone t=9 m=1 by_m=0 by_tid={PID} cgo=0", _start(30, 1, 101))


def test_agreeing_instruments_join():
    tl = join(_trace(_spawn(20, PID, 101)), GOOD_HOOK, _events((PID, 10), (101, 40)))
    by_tid = {j.tid: j for j in tl.threads}
    assert (by_tid[101].creator_tid, by_tid[101].t_clone, by_tid[101].t_start, by_tid[101].t_first_event) == (PID, 20, 30, 40)
    assert by_tid[PID].creator_tid is None and by_tid[101].exectrace == "events"
    assert [(s.tid, s.start_ns, s.end_ns) for s in tl.spans if s.category == "creation"] == [(101, 20, 30)]
    assert tl.exectrace_from_ns == 10


@pytest.mark.parametrize("hook, spawns, rows, says", [
    (_hook(_start(5, 0, PID)), [], [(PID, 10), (101, 40)], "tid 101 has execution-trace events but the tracer saw no such thread"),
    (_hook(_start(5, 0, PID)), [(20, PID, 101)], [(PID, 10), (101, 40)], "tid 101 has execution-trace events but no hook start"),
    (GOOD_HOOK.replace("t=30", "t=15"), [(20, PID, 101)], [(101, 40)], "the hook's start (15) is not after the tracer's clone (20)"),
    (GOOD_HOOK, [(20, PID, 101)], [(101, 25)], "first execution-trace event (25) is not after the hook's start (30)"),
    (GOOD_HOOK, [(20, 102, 101), (19, PID, 102)], [(101, 40)], "the tracer saw tid 102 clone it, the hook's newm1 ran on tid 100"),
])
def test_each_disagreement_is_an_error(hook, spawns, rows, says):
    with pytest.raises(TimelineMismatch, match=re.escape(says)):
        join(_trace(*[_spawn(*s) for s in spawns]), hook, _events(*rows))


def test_a_thread_without_events_says_why():
    ended = ExitEvent(ts_ns=25, pid=PID, tid=101, exit_code=0, signal=None, last_thread=False)
    tl = join(_trace(_spawn(20, PID, 101), ended), GOOD_HOOK, _events((PID, 50)))
    assert {j.tid: j.exectrace for j in tl.threads}[101] == "ended before the execution trace began"
    tl = join(_trace(_spawn(20, PID, 101)), GOOD_HOOK, _events((PID, 50)))
    assert {j.tid: j.exectrace for j in tl.threads}[101] == "no events after the execution trace began"


def test_hook_records_of_a_go_child_stay_with_the_child():
    """M ids start at 0 in every process: the child's M0 must not merge with the parent's."""
    child = SpawnEvent(ts_ns=40, parent_pid=PID, parent_tid=PID, child_pid=200, child_tid=200, syscall="clone",
                       flags=0x4111, flag_names=("CLONE_VM", "CLONE_VFORK"), exit_signal="SIGCHLD", is_thread=False)
    hook = GOOD_HOOK + _hook(_start(50, 0, 200))
    tl = join(_trace(_spawn(20, PID, 101), child), hook, _events((PID, 10)))
    assert sorted((j.pid, j.tid, j.m) for j in tl.threads) == [(PID, PID, 0), (PID, 101, 1), (200, 200, 0)]


def test_hook_records_of_unknown_threads_are_an_error():
    with pytest.raises(TimelineMismatch, match="never saw"):
        join(_trace(), _hook(_start(5, 0, 999)))


# ---------------------------------------------------------------------------
# live: one run of the demo, shared by the tests below

@pytest.fixture(scope="module")
def demo():
    return timeline.run(DEMO, ["3", "4"])


def test_every_thread_the_program_saw_is_on_the_timeline_with_its_creator(demo):
    tl = demo.timeline
    listed = [int(line.split()[-1]) for line in demo.stdout.splitlines() if line.startswith("locked tid")]
    assert len(listed) == 3 and demo.timeline.exit_status == 0
    joins = {j.tid: j for j in tl.threads if j.pid == tl.root_pid}
    # the tracer's view of who cloned whom, and the hook's (its newm1 record, on the cloning thread)
    cloned = {a.to_tid: (a.from_tid, a.from_ns) for a in tl.arrows if a.kind == "thread"}
    newm1 = {(m.name, m.tid) for m in tl.marks if m.category == "hook" and m.name.startswith("newm1 clones")}
    for tid in listed:
        j = joins[tid]  # every locked thread is a thread of the timeline
        assert j.exectrace == "events", j
        if tid != tl.root_pid:
            assert tid in cloned  # the tracer saw it cloned ...
            assert (f"newm1 clones M{j.m}", j.creator_tid) in newm1  # ... by the thread the hook saw run newm1
            assert j.t_clone < j.t_start < j.t_first_event
        # the goroutine that printed the tid ran on that thread
        assert any(s.category == "goroutine" and s.tid == tid for s in tl.spans)


def test_the_joined_timeline_is_valid_chrome_trace_json(demo, tmp_path):
    from gorun_kit.timeline import chrome

    out = tmp_path / "t.json"
    chrome.write(demo.timeline, out)
    doc = __import__("json").loads(out.read_text())
    assert chrome.problems(doc) == []
    cats = {e.get("cat") for e in doc["traceEvents"]}
    assert {"goroutine", "proc", "creation", "exec"} <= cats


def test_the_children_are_on_the_timeline(demo):
    tl = demo.timeline
    execs = [m for m in tl.marks if m.category == "exec" and m.pid != tl.root_pid]
    assert len(execs) == 4 and all(dict(m.args)["argv"] == "/bin/true" for m in execs)
    assert sum(a.kind == "process" for a in tl.arrows) >= 4


def test_the_execution_trace_is_on_the_monotonic_clock(demo):
    """Every execution-trace span lies inside the traced program's life, as the
    tracer measured it, and every M it names is a thread of the timeline."""
    tl = demo.timeline
    root = next(s for s in tl.spans if s.category == "process" and s.pid == tl.root_pid)
    g = [s for s in tl.spans if s.category in ("goroutine", "proc", "syscall")]
    assert g and all(root.start_ns <= s.start_ns <= s.end_ns <= root.end_ns for s in g)
    assert {s.tid for s in g} <= {j.tid for j in tl.threads}


def _left_running(binary: str) -> list[int]:
    """Our descendants still running ``binary`` (other tests' servers may be our children too)."""
    from gorun_kit import procfs

    pid = procfs.descendant_running(os.getpid(), binary)
    return [pid] if pid else []


def test_nothing_is_left_behind(demo):
    assert _left_running(demo.binary) == []
    from gorun_kit.cache import cache_dir

    assert not list((cache_dir() / "timeline" / "runs").glob(f"run.{os.getpid()}n*"))  # our scratch is gone


# ---------------------------------------------------------------------------
# bad input

def _program(tmp_path, body: str, imports: str) -> Path:
    d = tmp_path / "prog"
    d.mkdir()
    (d / "go.mod").write_text("module example.com/prog\n\ngo 1.22\n")
    (d / "main.go").write_text(f"package main\n\nimport ({imports})\n\nfunc main() {{\n{body}\n}}\n")
    return d


def test_a_program_that_panics_gets_a_timeline_that_says_what_is_missing(tmp_path):
    """A fatal panic exits without the hooks that flush the trace: the
    timeline keeps the processes and threads, and its notes say the
    runtime's view is cut short (or absent)."""
    prog = _program(tmp_path, '\tfmt.Println("about to panic")\n\tpanic("on purpose")', '"fmt"')
    got = timeline.run(prog)
    tl = got.timeline
    assert tl.exit_status == 2 and "panic: on purpose" in got.stderr
    assert len(tl.notes) == 1 and "fatal panic" in tl.notes[0]
    assert ("never flushed" in tl.notes[0]) == (got.exectrace_bytes == 0)
    assert any(s.category == "process" for s in tl.spans) and tl.threads
    assert _left_running(got.binary) == []


def test_a_program_that_starts_its_own_trace_is_refused(tmp_path):
    prog = _program(tmp_path, "\ttrace.Start(os.Stdout)\n\ttrace.Stop()", '"os"; "runtime/trace"')
    with pytest.raises(timeline.OwnExecTrace, match="runtime/trace.Start"):
        timeline.run(prog)


def test_the_runtime_refuses_a_relative_destination(demo, tmp_path):
    """The variable is checked by the patched runtime itself, which says why on stderr."""
    import subprocess

    out = subprocess.run([demo.binary, "1", "0"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={**os.environ, EXECTRACE_ENV: "relative.trace", ENV: ""})
    assert out.returncode == 0 and "locked tid" in out.stdout
    assert f'{EXECTRACE_ENV}="relative.trace" must be an absolute path' in out.stderr
    assert not list(tmp_path.iterdir())


def test_a_child_inheriting_the_variable_leaves_the_parents_file_alone(demo, tmp_path):
    """The first process creates the file; a later one finds it and stays silent."""
    import subprocess

    dest = tmp_path / "exec.trace"
    dest.write_bytes(b"the parent's")
    out = subprocess.run([demo.binary, "1", "0"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, EXECTRACE_ENV: str(dest), ENV: ""})
    assert out.returncode == 0 and out.stderr == "" and dest.read_bytes() == b"the parent's"


def test_the_oldest_release_gives_the_same_joined_timeline(oldest_go):
    """Go 1.22 prints its events with -d=1, fields in another order; the
    patched runtime starts and flushes the trace the same way."""
    assert exectrace.dump_mode(oldest_go) == "1"
    got = timeline.run(DEMO, ["2", "1"], go=oldest_go)
    tl = got.timeline
    assert tl.go_version == oldest_go.version and not tl.notes and got.exectrace_bytes > 0
    listed = [int(line.split()[-1]) for line in got.stdout.splitlines() if line.startswith("locked tid")]
    joins = {j.tid: j for j in tl.threads}
    assert len(listed) == 2 and all(joins[tid].exectrace == "events" for tid in listed)
    assert {"goroutine", "proc", "syscall", "creation"} <= {s.category for s in tl.spans}


def test_the_trace_clock_is_the_monotonic_clock(demo, go, tmp_path):
    """The pinned release's dump, pinned: M is the kernel tid the program saw
    from inside, and (Go 1.25 on) each Sync's clock snapshot has the trace
    clock within 5 ms of CLOCK_MONOTONIC (a few ns when the thread is not
    descheduled between the two reads)."""
    import subprocess
    import time

    dest = tmp_path / "exec.trace"
    before = time.monotonic_ns()
    out = subprocess.run([demo.binary, "2", "1"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, EXECTRACE_ENV: str(dest), ENV: ""})
    after = time.monotonic_ns()
    events = exectrace.read(dest, go=go)
    listed = {int(line.split()[-1]) for line in out.stdout.splitlines()}
    assert listed <= {e.m for e in events}
    assert all(before <= e.time_ns <= after for e in events if e.kind != "Sync")
    snapshots = [(int(e.field("Trace")), int(e.field("Mono"))) for e in events if e.kind == "Sync" and e.field("Mono")]
    if go.version_tuple[:2] >= (1, 25):
        assert snapshots and all(abs(t - m) < 5_000_000 for t, m in snapshots)
    else:
        assert not snapshots
