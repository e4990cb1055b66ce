"""gorun_kit.threads.run.run_hooked with a stand-in for a hooked program
(tests/fixtures/hooked_standin.c: it writes records where $GORUN_KIT_THREADS says
and starts two threads) under both thread tracers, in a stand-in sandbox: what
the run hands back, and that a timeout or an interrupt leaves nothing behind."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from gorun_kit import build, cache, trace
from gorun_kit.threads import run

sys.path.insert(0, os.path.dirname(__file__))
from trace_helpers import interrupted_after, leftovers, marked_env  # noqa: E402

pytestmark = pytest.mark.live

STANDIN = Path(__file__).parent / "fixtures" / "hooked_standin.c"


@pytest.fixture(scope="module")
def standin() -> str:
    return build.build_c([STANDIN], ldflags=("-lpthread",), name="hooked_standin").path


@contextlib.contextmanager
def sandboxed(log: Path):
    """$GORUN_KIT_CONFINE naming a sandbox that writes its arguments to ``log`` and runs the command."""
    sandbox = log.with_name("sandbox")
    sandbox.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\n'
                       'while [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
    sandbox.chmod(0o755)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GORUN_KIT_CONFINE", json.dumps([str(sandbox)]))
        yield


def _runs_area() -> Path:
    return cache.cache_dir() / "threads" / "runs"


@pytest.fixture(params=["gorun_kit.trace", "strace"])
def observed(request, standin, tmp_path):
    """One run of the stand-in under each tracer, in the stand-in sandbox: (the TracedRun,
    the sandbox's arguments, the environment's marker, the scratch area's entries before).
    Each test makes its own run: mutmut runs a mutant against the tests that called the
    mutated function, which for a shared run would be the first test only."""
    log = tmp_path / "sandbox.log"
    env, mark = marked_env()
    before = set(_runs_area().iterdir()) if _runs_area().is_dir() else set()
    with sandboxed(log):
        got = run.run_hooked(standin, ["threads", "a b", "c"], env=env, timeout=60, tracer=request.param)
    return got, log.read_text().splitlines(), mark, before


def test_the_run_hands_back_the_programs_output_status_and_records(observed):
    got, _, _, _ = observed
    dest = got.stdout.split(b" ", 1)[0].decode()
    assert got.stdout == f"{dest} a b c\n".encode() and got.stderr.endswith(b"stand-in done\n")
    assert got.exit_status == 3
    assert got.hook_output == "records of the stand-in\n\ufffd\n"


def test_the_records_go_to_a_file_or_an_inherited_descriptor_that_is_gone_after(observed):
    got, sandbox_args, _, before = observed
    dest = got.stdout.split(b" ", 1)[0].decode()
    if got.tracer == "strace":
        assert dest.startswith("fd:") and int(dest[3:]) >= 3
        return
    # the course's tracer starts the program with fds 0-2 only: a file in a scratch
    # directory of the runs area, which the sandbox lets the program write
    path = Path(dest)
    assert path.parent.parent == _runs_area() and sandbox_args[:3] == ["--bind", str(path.parent), str(path.parent)]
    assert not path.parent.exists() and set(_runs_area().iterdir()) <= before


def test_each_tracer_runs_the_program_with_its_arguments_in_the_sandbox(standin, observed):
    from gorun_kit.trace import tracer_binary

    got, sandbox_args, mark, _ = observed
    assert sandbox_args[-5:] == ["--", standin, "threads", "a b", "c"]
    assert not leftovers(mark), leftovers(mark)
    if got.tracer == "strace":
        assert os.path.basename(sandbox_args[sandbox_args.index("--") + 3]) == "strace"
    else:
        assert got.tracer == "gorun_kit.trace" and tracer_binary() in sandbox_args


def test_the_threads_are_seen_by_the_tracer_and_in_proc(observed):
    got, _, _, _ = observed
    assert len(got.clones) == 2 and {parent for parent, _ in got.clones} == {got.pid}
    threads_seen = {got.pid, *(child for _, child in got.clones)}
    assert threads_seen <= set(got.tasks), "the /proc sampler missed a thread that lived 100 ms"
    assert list(got.tasks) == sorted(got.tasks)
    first, last = got.proc_window
    assert 0 < first <= last < got.t_end


def test_a_program_that_writes_no_records_has_empty_hook_output(standin):
    got = run.run_hooked(standin, ["quiet"], env=dict(os.environ), timeout=60)
    assert (got.exit_status, got.hook_output, got.clones, got.stdout) == (0, "", (), b"")
    assert got.tracer == "gorun_kit.trace"


def test_a_missing_program_is_the_tracers_error(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(trace.CommandNotFound, match="does not exist"):
        run.run_hooked(str(tmp_path / "missing"), env={}, timeout=60)
    assert time.monotonic() - t0 < 5, "the search for the program went on after the tracer had failed"




def _settled(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not pred():
        time.sleep(0.02)
    return pred()


def test_an_interrupt_ends_the_program_and_its_children_and_the_tracer(standin):
    """The stand-in and its child ignore SIGTERM: only the kill of the whole tree ends them."""
    env, mark = marked_env()
    threads_before = threading.active_count()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with interrupted_after(0.3):
            run.run_hooked(standin, ["hang"], env=env, timeout=60)
    assert time.monotonic() - t0 < 5, "the tracer went on after the interrupt"
    assert _settled(lambda: not leftovers(mark)), leftovers(mark)
    assert threading.active_count() == threads_before


def test_an_interrupt_while_the_program_is_starting_ends_it_too(standin, tmp_path):
    """The sandbox takes 0.5 s to start the tracer: the interrupt comes before the program runs."""
    env, mark = marked_env()
    slow = tmp_path / "slow-sandbox"
    slow.write_text('#!/bin/sh\nsleep 0.5\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
    slow.chmod(0o755)
    t0 = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GORUN_KIT_CONFINE", json.dumps([str(slow)]))
        with pytest.raises(KeyboardInterrupt):
            with interrupted_after(0.2):
                run.run_hooked(standin, ["hang"], env=env, timeout=60)
    assert time.monotonic() - t0 < 5, "the tracer went on after the interrupt"
    assert _settled(lambda: not leftovers(mark)), leftovers(mark)


@pytest.mark.parametrize("tracer", ["gorun_kit.trace", "strace"])
def test_a_timeout_leaves_nothing_running(standin, tracer):
    env, mark = marked_env()
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        run.run_hooked(standin, ["hang"], env=env, timeout=0.3, tracer=tracer)
    assert time.monotonic() - t0 < 5
    assert _settled(lambda: not leftovers(mark)), leftovers(mark)
