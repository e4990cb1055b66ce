"""gorun_kit.gorun: the action graph, the -x log and its phases, the cache on
a second run, and the entry points cited in GOROOT -- all measured live."""
from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from gorun_kit import gorun
from gorun_kit.cache import cache_dir
from gorun_kit.viz import gorun as viz

HELLO = Path(__file__).resolve().parents[1] / "labs_go" / "hello" / "main.go"


@pytest.fixture(scope="module")
def twice():
    before = set(glob.glob("/tmp/go-build*"))
    first, second = gorun.run_twice(HELLO)
    return first, second, before


def test_action_graph_shape():
    g = gorun.action_graph(HELLO)
    assert g.root.mode == "go run"
    assert [a.mode for a in g.chain()] == ["go run", "link", "build"]
    modes = g.modes()
    # one "build" and one "build check cache" action per package
    assert modes["build"] == modes["build check cache"] and modes["build"] > 10
    assert "runtime" in g.std_packages() and "fmt" in g.std_packages()
    assert all(d < len(g.actions) for a in g.actions for d in a.deps)
    dot = viz.action_graph(g)
    assert "standard library" in dot.source and f"{modes['build'] - 1} actions" in dot.source


def test_first_run_compiles_and_links_with_go_run_flags(twice):
    first, _, _ = twice
    assert first.kinds()[-1] == "run" and "link" in first.kinds() and "compile" in first.kinds()
    main_compile = [p for p in first.phase("compile") if p.package == "main"][0]
    assert "-dwarf=false" in main_compile.flags
    link = first.phase("link")[0]
    assert "-s" in link.flags and "-w" in link.flags
    assert first.ran.startswith("$WORK/") and not first.ran_cached_binary
    assert first.phase("cache-put"), "the linked binary is copied into the build cache"
    assert link.seconds is not None and link.seconds > 0 and main_compile.seconds > 0
    assert "hello from" in first.output


def test_second_run_starts_the_cached_binary(twice):
    first, second, _ = twice
    assert second.kinds() == ["run"] and second.ran_cached_binary
    put = first.phase("cache-put")[0].command.split()[2]
    assert second.ran == put == first.cached_executable == second.cached_executable  # the very file the first run stored
    assert second.output == first.output
    status = gorun.exit_status(second)  # hello exits 0, and so does go run
    assert (status.child, status.go_said, status.go_run) == (0, "", 0)


def test_work_dirs_and_copies_are_removed(twice):
    first, second, before = twice
    assert not os.path.exists(first.work) and not os.path.exists(second.work)
    assert not list((cache_dir() / "work").glob("gorun-*"))


def test_entry_points_resolve_in_goroot():
    eps = gorun.entry_points()
    assert eps["run.runRun"].file.endswith("cmd/go/internal/run/run.go")
    assert eps["work.(*Builder).Do"].file.endswith("cmd/go/internal/work/exec.go")
    assert "buildRunProgram" in eps["run.buildRunProgram"].text


def test_bad_target_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gorun.action_graph(tmp_path / "nope.go")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ValueError, match="not a .go file"):
        gorun.command_log(tmp_path / "x.txt")


def test_program_args_path_and_exit_status():
    from gorun_kit.toolchain import find_go

    log = gorun.command_log(HELLO.parents[1] / "gorun_args" / "main.go", args=("a", "b"))
    assert 'args: ["a" "b"]' in log.output  # everything after the .go files goes to the program
    first = log.output.split("PATH first: ")[1].strip()
    assert os.path.samefile(first, os.path.join(find_go().goroot, "bin"))  # base.AppendPATH
    assert "exit status 3" in log.lines and log.returncode == 1  # a program's non-zero status becomes go run's 1
    assert log.kinds()[-1] == "run"
    assert (log.target, log.args) == ("main.go", ("a", "b"))
    assert any(w.startswith("-debug-actiongraph=") for w in log.command)  # the command as it ran
    status = gorun.exit_status(log)  # the same executable, started directly from the build cache
    assert (status.child, status.go_said, status.go_run, status.args) == (3, "exit status 3", 1, ("a", "b"))


def test_write_fresh_hello_is_new_every_time(tmp_path):
    first = gorun.write_fresh_hello(tmp_path).read_text()
    second = gorun.write_fresh_hello(tmp_path).read_text()
    assert first != second and first.startswith("package main") and 'fmt.Println("hello, ' in second


def test_go_run_fresh_hello_through_an_instrument_and_on_failure():
    seen = []

    def instrument(cmd, *, cwd, env, timeout):
        seen.append((Path(cwd, "hello.go").read_text(), env["GOTOOLCHAIN"]))
        return gorun.subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout)

    done = gorun.go_run_fresh_hello(instrument, warm_cache=True)
    assert done.stdout.decode().startswith("hello, ") and len(seen) == 1 and seen[0][1] == "local"
    assert seen[0][0].split('"hello, ')[1][:8] == done.stdout.decode().split()[1]
    leftovers = list(Path(gorun.tempfile.gettempdir()).glob("gorun-kit-hello-*"))

    def broken(cmd, *, cwd, env, timeout):
        return gorun.subprocess.CompletedProcess(cmd, 2, b"", b"compile: something went wrong")

    with pytest.raises(RuntimeError, match="exited 2 under broken: compile: something went wrong"):
        gorun.go_run_fresh_hello(broken)
    assert list(Path(gorun.tempfile.gettempdir()).glob("gorun-kit-hello-*")) == leftovers


def test_the_release_keeps_its_executable_as_its_source_says(twice):
    # Go 1.24 and later store go run's executable in the build cache (run.go sets
    # CacheExecutable); before, the kit keeps a copy of the $WORK file instead
    from gorun_kit.toolchain import find_go

    first, second, _ = twice
    cit = gorun.caches_executable()
    assert (cit is not None) == (find_go().version_tuple >= gorun.CACHES_EXECUTABLE_SINCE)
    if cit is not None:
        assert cit.file.endswith("cmd/go/internal/run/run.go")
        assert first.kept_executable == second.kept_executable == ""
        assert gorun.exit_status(first).started_from == "build cache"
    else:
        assert first.kept_executable and second.kinds() == ["link", "run"]
        assert gorun.exit_status(first).started_from == "$WORK copy"
