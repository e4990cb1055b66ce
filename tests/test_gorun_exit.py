"""go run's exit status beside its program's, and the phase timeline, on records
built by hand (no Go needed): CommandLog.cached_executable / go_said / args / target / shown,
gorun.exit_status and viz.gorun.phase_timeline."""
from __future__ import annotations

import dataclasses
import os
import stat

import pytest

from gorun_kit import gorun
from gorun_kit.gorun import Action, ActionGraph, CommandLog, Phase


def _graph(cached: bool) -> ActionGraph:
    tool = () if cached else ("compile ...",)
    return ActionGraph(("go", "run"), (
        Action(0, "go run", "", (1,), (), 0.30, 0.31, True, "", ""),
        Action(1, "link", "command-line-arguments", (2,), () if cached else ("link ...",), 0.10, 0.30, True, "", ""),
        Action(2, "build", "command-line-arguments", (3,), tool, 0.05, 0.10, True, "", ""),
        Action(3, "build", "fmt", (), (), 0.0, 0.04, False, "", ""),
    ))


def _log(tmp_path, *, status: int, args=(), cached=False) -> CommandLog:
    # A hand-made record: go_said and go_run are written from ``status`` here, so these tests
    # check the kit's bookkeeping only. The real go run behaviour (child 0 -> 0, child 3 -> 1)
    # is checked end to end in tests/test_gorun.py (test_second_run_starts_the_cached_binary,
    # test_program_args_path_and_exit_status).
    exe = tmp_path / "cache" / "ab" / ("ab" * 32 + "-d") / "main"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(f"#!/bin/sh\nexit {status}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    phases = [] if cached else [Phase("cache-put", "main", f"cp $WORK/b001/exe/main {exe} # internal", (), None)]
    ran = os.fspath(exe) if cached else "$WORK/b001/exe/main"
    lines = ("WORK=/tmp/x", ran) + ((f"exit status {status}",) if status else ())
    command = ("go", "run", "-x", "-work", "-debug-actiongraph=/tmp/ws/actiongraph-1234abcd.json", "main.go", *args)
    return CommandLog(command, "main.go", tuple(args), "/tmp/x", lines, tuple(phases), "",
                      1 if status else 0, ran, _graph(cached))


@pytest.mark.parametrize("cached", [False, True])
def test_exit_status_runs_the_cached_executable_directly(tmp_path, cached):
    ok = gorun.exit_status(_log(tmp_path, status=0, cached=cached))
    assert (ok.child, ok.go_said, ok.go_run) == (0, "", 0)
    bad = gorun.exit_status(_log(tmp_path, status=3, args=("a", "b"), cached=cached))
    assert (bad.child, bad.go_said, bad.go_run, bad.args) == (3, "exit status 3", 1, ("a", "b"))


def test_target_and_args_are_what_ran_not_positions_in_command(tmp_path):
    # the command carries the -debug-actiongraph flag that really ran; target and args are
    # stored fields, so an extra flag in the command cannot shift them
    log = _log(tmp_path, status=3, args=("a", "b"))
    assert log.command[4].startswith("-debug-actiongraph=") and log.command[5] == "main.go"
    assert (log.target, log.args) == ("main.go", ("a", "b"))
    assert log.shown == "go run -x -work -debug-actiongraph=FILE main.go a b"
    status = gorun.exit_status(log)
    assert (status.target, status.args) == ("main.go", ("a", "b"))


def test_exit_status_names_the_target_when_the_cache_entry_is_gone(tmp_path):
    log = _log(tmp_path, status=0, args=("x",))
    os.remove(log.cached_executable)  # go clean -cache, or the cache trimmed it
    with pytest.raises(FileNotFoundError, match=r"go run main\.go.*no longer in the build cache.*command_log") as e:
        gorun.exit_status(log)
    assert log.cached_executable in str(e.value)


def test_cached_executable_is_the_run_file_or_the_cp_destination(tmp_path):
    fresh = _log(tmp_path, status=0)
    assert fresh.cached_executable == fresh.phases[0].command.split()[2]
    hit = _log(tmp_path, status=0, cached=True)
    assert hit.cached_executable == hit.ran
    broken = CommandLog(("go", "run", "-x", "-work", "main.go"), "main.go", (), "", (), (), "", 1, "", _graph(False))
    with pytest.raises(ValueError, match="no executable in the build cache"):
        broken.cached_executable


def test_phase_timeline_draws_one_panel_per_run_with_the_spine_lanes(tmp_path):
    from gorun_kit.viz.gorun import phase_timeline

    fig = phase_timeline([("first", _log(tmp_path, status=0)), ("second", _log(tmp_path, status=0, cached=True))])
    axes = fig.get_axes()
    assert len(axes) == 2
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    assert labels[-1].startswith("standard library") and "link" in labels and labels[0].startswith("run the program")
    texts = [t.get_text() for t in axes[1].texts]
    assert any("cache hit" in t for t in texts)  # the second run's link ran no tool
    assert not any("cache hit" in t for t in (x.get_text() for x in axes[0].texts))
    with pytest.raises(ValueError):
        phase_timeline([])


def _pre_124_log(tmp_path, *, status: int, kept: bool) -> CommandLog:
    # go run before Go 1.24: linked into $WORK, ran it from there, no cp into the build cache
    exe = tmp_path / "kept" / "main"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(f"#!/bin/sh\nexit {status}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    ran = "$WORK/b001/exe/main"
    lines = ("WORK=/tmp/x", ran) + ((f"exit status {status}",) if status else ())
    return CommandLog(("go", "run", "-x", "-work", "main.go"), "main.go", (), "/tmp/x", lines,
                      (Phase("link", "main", "link -o $WORK/b001/exe/main", ("-s", "-w"), 0.1),
                       Phase("run", "main", ran, (), 0.01)),
                      "", 1 if status else 0, ran, _graph(False), os.fspath(exe) if kept else "")


def test_exit_status_before_go_1_24_starts_the_kept_work_copy(tmp_path):
    log = _pre_124_log(tmp_path, status=3, kept=True)
    with pytest.raises(ValueError, match="no executable in the build cache"):
        log.cached_executable
    assert log.program == (log.kept_executable, "$WORK copy")
    status = gorun.exit_status(log)
    assert (status.child, status.go_said, status.go_run, status.started_from) == (3, "exit status 3", 1, "$WORK copy")
    assert gorun.exit_status(_log(tmp_path, status=0)).started_from == "build cache"
    with pytest.raises(ValueError, match="no copy of the \\$WORK executable"):
        gorun.exit_status(_pre_124_log(tmp_path / "none", status=0, kept=False))
    os.remove(log.kept_executable)  # swept
    with pytest.raises(FileNotFoundError, match="kit's cache.*command_log"):
        gorun.exit_status(log)


def test_keep_work_executable_copies_into_a_swept_scratch_area(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", os.fspath(tmp_path / "cache"))
    work = tmp_path / "go-build123"
    (work / "b001" / "exe").mkdir(parents=True)
    (work / "b001" / "exe" / "main").write_bytes(b"\x7fELF fake")
    kept = gorun._keep_work_executable(os.fspath(work), "$WORK/b001/exe/main")
    assert kept.startswith(os.fspath(tmp_path / "cache" / "gorun-exe" / f"exe.{os.getpid()}"))
    assert open(kept, "rb").read() == b"\x7fELF fake"
    assert gorun._keep_work_executable(os.fspath(work), "$WORK/b002/exe/main") == ""  # nothing there
    assert gorun._keep_work_executable("", "$WORK/b001/exe/main") == ""


def test_caches_executable_follows_the_source(tmp_path):
    from gorun_kit.toolchain import GoToolchain

    d = tmp_path / "src" / "cmd" / "go" / "internal" / "run"
    d.mkdir(parents=True)
    tc = GoToolchain(go="/bin/false", goroot=os.fspath(tmp_path), version="go1.99", goos="linux", goarch="amd64",
                     source="test")
    (d / "run.go").write_text("package run\n\nfunc runRun() {\n\ta1 := b.LinkAction()\n}\n")
    assert gorun.caches_executable(tc) is None  # before Go 1.24
    (d / "run.go").write_text("package run\n\nfunc runRun() {\n\ta1 := b.LinkAction()\n\ta1.CacheExecutable = true\n}\n")
    cit = gorun.caches_executable(tc)
    assert (cit.file, cit.line, cit.text) == ("src/cmd/go/internal/run/run.go", 5, "a1.CacheExecutable = true")
    assert gorun.CACHES_EXECUTABLE_SINCE == (1, 24)


@pytest.mark.parametrize("version,cached", [("go1.27.3", True), ("go1.24.0", True), ("go1.23.9", False), ("go1.22.10", False)])
def test_second_run_matches_release(tmp_path, version, cached):
    from gorun_kit.goroot import Citation
    from gorun_kit.toolchain import GoToolchain

    tc = GoToolchain(go="/bin/false", goroot="/nonexistent", version=version, goos="linux", goarch="amd64", source="test")
    caches = Citation("src/cmd/go/internal/run/run.go", 175, "x", "a1.CacheExecutable = true", version)
    new_first, hit = _log(tmp_path / "n", status=0), _log(tmp_path / "n", status=0, cached=True)
    new_second = dataclasses.replace(hit, phases=(Phase("run", "main", hit.ran, (), 0.01),))  # only runs the cached copy
    old_first = _pre_124_log(tmp_path / "o1", status=0, kept=True)
    old_second = dataclasses.replace(old_first, phases=old_first.phases)  # link + run again, from $WORK
    if cached:
        assert gorun.second_run_matches_release(new_first, new_second, caches, go=tc)
        assert not gorun.second_run_matches_release(old_first, old_second, caches, go=tc)
        assert not gorun.second_run_matches_release(new_first, new_second, None, go=tc)  # source lost it: unknown change
    else:
        assert gorun.second_run_matches_release(old_first, old_second, None, go=tc)
        assert not gorun.second_run_matches_release(new_first, new_second, None, go=tc)
        assert not gorun.second_run_matches_release(old_first, old_second, caches, go=tc)
