"""`gorun-kit timeline`: bad input refused before anything builds, the exit
statuses of a run, and the summary it prints (on made-up runs: the live run is
tests/test_timeline.py's)."""
from __future__ import annotations

import json
import os

import pytest

import gorun_kit.timeline
from gorun_kit import cli, threads
from gorun_kit.commands.timeline import _summary_lines, default_output
from gorun_kit.timeline import Span, ThreadJoin, Timeline, TimelineMismatch, TimelineRun, chrome
from gorun_kit.trace import TraceTimeout


def _join(tid, m, creator, fn, reason, clone, start, first, why="events"):
    return ThreadJoin(pid=10, tid=tid, m=m, creator_tid=creator, asked_by_m=0 if creator else None, start_fn=fn,
                      reason=reason, t_clone=clone, t_start=start, t_first_event=first, t_exit=None, exectrace=why)


def _timeline(**changes) -> Timeline:
    fields = dict(
        command=("prog",), root_pid=10, exit_status=0, t0_ns=1_000_000, t_end_ns=9_000_000,
        spans=(Span(10, 10, "pid 10", "process", 1_000_000, 9_000_000),
               Span(10, 11, "tid 11", "thread", 2_000_000, 8_000_000)),
        marks=(), arrows=(), names=((10, "prog"),), exectrace_from_ns=2_500_000,
        threads=(_join(10, 0, None, "none", None, None, 1_500_000, 2_600_000),
                 _join(11, 1, 10, "runtime.sysmon", None, 2_000_000, 2_250_500, None,
                       "no events: sysmon runs without a P, and the trace records what Ps and goroutines do")))
    fields.update(changes)
    return Timeline(**fields)


@pytest.fixture
def program(tmp_path, monkeypatch, private_cache):
    """A Go file in a fresh working directory; timeline.run must not be reached."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "hello.go"
    path.write_text("package main\n\nfunc main() {}\n")

    def no_run(*a, **kw):
        raise AssertionError("bad input must be refused before the program is built")

    monkeypatch.setattr(gorun_kit.timeline, "run", no_run)
    return path


def _cli(capsys, *argv):
    status = cli.main(["timeline", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


# -- refused before anything builds ----------------------------------------------------


@pytest.mark.parametrize("flag, name, words", [
    ("-o", "out.txt", "-o out.txt: name a .json file"),
    ("--png", "pic.svg", "--png pic.svg: name a .png file"),
    ("-o", "nowhere/out.json", "does not exist; create it first"),
])
def test_a_bad_output_file_is_refused(program, capsys, flag, name, words):
    status, _, err = _cli(capsys, flag, name, str(program))
    assert status == 2 and words in err and "Traceback" not in err
    assert os.listdir(program.parent) == ["hello.go"]  # no output, no cache: nothing built


def test_an_unsupported_go_release_is_refused_naming_the_supported_ones(program, capsys, private_cache):
    status, _, err = _cli(capsys, "--go", "1.21", str(program))
    assert status == 2 and "--go 1.21" in err
    assert all(release in err for release in threads.SUPPORTED)
    assert not private_cache.exists() and not (program.parent / "hello.timeline.json").exists()


def test_a_missing_program_is_refused(program, capsys, private_cache):
    status, _, err = _cli(capsys, str(program.parent / "absent.go"))
    assert status == 2 and "absent.go" in err and "does not exist" in err
    assert not private_cache.exists()


def test_the_default_output_is_named_after_the_program(tmp_path):
    assert default_output("labs/spawn.go") == "spawn.timeline.json"
    assert default_output("labs/lockthread/main.go") == "lockthread.timeline.json"
    assert default_output(str(tmp_path)) == f"{tmp_path.name}.timeline.json"


# -- what a run gives (timeline.run replaced by a made-up result) ----------------------------


def _fake(monkeypatch, result=None, error=None):
    def fake_run(program, args=(), *, go=None, timeout=120):
        if error is not None:
            raise error
        return result

    monkeypatch.setattr(gorun_kit.timeline, "run", fake_run)


def test_a_run_writes_the_timeline_and_exits_with_the_programs_status(program, capsys, monkeypatch):
    _fake(monkeypatch, TimelineRun(_timeline(exit_status=4), "bin", "hello\n", "", 10))
    status, out, _ = _cli(capsys, str(program))
    assert status == 4
    doc = json.loads((program.parent / "hello.timeline.json").read_text())
    assert chrome.problems(doc) == []
    assert "hello\n" in out and "timeline written to hello.timeline.json" in out and "ui.perfetto.dev" in out


def test_a_panic_still_writes_the_timeline_and_exits_1(program, capsys, monkeypatch):
    note = "the program ended in a fatal panic or error (exit status 2), which runs no exit hook"
    _fake(monkeypatch, TimelineRun(_timeline(exit_status=2, notes=(note,)), "bin", "", "panic: boom\n\ngoroutine 1", 0))
    status, out, _ = _cli(capsys, "-o", "p.json", str(program))
    assert status == 1
    assert f"note: {note}" in out and "panic: boom" in out
    assert chrome.problems(json.loads((program.parent / "p.json").read_text())) == []


@pytest.mark.parametrize("error, expected, words", [
    (TimelineMismatch("tid 11 has execution-trace events but no hook start record"), 3, "no hook start record"),
    (TraceTimeout("the command ran longer than 1 s", None), 124, "longer than 1 s"),
])
def test_a_disagreement_and_a_timeout_have_their_own_status(program, capsys, monkeypatch, error, expected, words):
    _fake(monkeypatch, error=error)
    status, _, err = _cli(capsys, str(program))
    assert status == expected and words in err
    assert not (program.parent / "hello.timeline.json").exists()


# -- the summary ----------------------------------------------------------------------------


def test_the_summary_has_a_line_per_thread_and_the_notes():
    lines = _summary_lines(_timeline(notes=("the last events are missing",)))
    main = next(line for line in lines if line.split()[:2] == ["10", "M0"])
    sysmon = next(line for line in lines if line.split()[:2] == ["11", "M1"])
    assert "the main thread" in main and "1.600 ms" in main  # first event, since t0
    assert sysmon.split()[2] == "10" and "250.5 µs" in sysmon and "runtime.sysmon" in sysmon
    assert "[execution trace: no events: sysmon runs without a P" in sysmon
    assert "the execution trace began at 1.500 ms" in lines
    assert lines[-1] == "note: the last events are missing"


def test_the_summary_of_a_timeline_without_go_threads_says_so():
    lines = _summary_lines(_timeline(threads=(), exectrace_from_ns=None))
    assert lines == ["no Go thread joined: 2 tracks of processes and threads only"]
