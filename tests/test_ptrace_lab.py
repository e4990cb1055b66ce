"""The ptrace lab: the check fails on the generated student copy and passes on
the solution; the seed's register reads fail the way the chapter says."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from gorun_kit import ptrace_lab
from gorun_kit.course.layout import course_root
from gorun_kit.course.release import student_copy

REPO = course_root()


def _student_source():
    """The generated student copy of the lab (the course makes it, the kit builds it)."""
    return student_copy(REPO / "labs_c" / "ptrace_lab" / "tracer.c")


pytestmark = pytest.mark.live


def _live_processes_named(name: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,stat,args"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if name in l and "ps -eo" not in l]


@pytest.fixture(scope="module")
def solution():
    return ptrace_lab.build_lab("tracer", labs=REPO).path


@pytest.fixture(scope="module")
def student():
    return ptrace_lab.build_lab("student", student=_student_source()).path


@pytest.mark.parametrize("method", ["peek", "vm"])
def test_solution_passes(solution, method):
    res = ptrace_lab.check_tracer(solution, cases=3, seed=random.randrange(1 << 30), method=method)
    assert res.ok, str(res)
    assert res.instrument in ("gorun_kit.trace", "strace")


@pytest.mark.parametrize("method", ["peek", "vm"])
def test_untouched_student_copy_fails(student, method):
    res = ptrace_lab.check_tracer(student, cases=2, seed=random.randrange(1 << 30), method=method)
    assert not res.ok
    text = " ".join(res.failures)
    assert "TODO 1/2" in text and "TODO 3" in text and "TODO 4" in text


def test_each_todo_is_needed(tmp_path):
    """Solving all TODOs but one still fails, for each of the four: the check
    covers every part of the lab."""
    from gorun_kit.build import build_c
    from gorun_kit.course.markup import lab_regions

    src = (REPO / "labs_c" / "ptrace_lab" / "tracer.c").read_text()
    lines = src.splitlines(keepends=True)
    for region in lab_regions(src):
        # stub only this region: keep everything else as in the solution
        only = lines[:region.begin - 1] + ["/* stubbed */\n"] + [s + "\n" for s in region.stub] + \
            lines[region.end + len(region.stub):]
        path = tmp_path / f"tracer_{region.todo.replace(' ', '')}.c"
        path.write_text("".join(only))
        exe = build_c(path, cflags=["-O2", "-std=gnu11"]).path
        method = "vm" if region.todo == "TODO 2" else "peek"
        res = ptrace_lab.check_tracer(exe, cases=2, seed=7, method=method)
        assert not res.ok, f"the check passes with {region.todo} left as a stub"


def test_parse_round_trips_random_bytes(solution):
    """Random argument bytes (all but NUL) survive the tracer's escaping and the parser."""
    rng = random.Random()
    args = [bytes(rng.randint(1, 255) for _ in range(rng.randint(0, 20))) for _ in range(6)]
    out = subprocess.run([solution, "/bin/true", *args], capture_output=True, timeout=30, env={"GK": "x\ty"})
    calls = ptrace_lab.parse_tracer_output(out.stdout.decode("latin-1"))
    assert len(calls) == 1
    assert calls[0].argv == (b"/bin/true", *args)
    assert calls[0].envp == (b"GK=x\ty",)
    assert calls[0].result == 0 and calls[0].cmdline == calls[0].argv


def test_seed_register_reads_fail_live():
    exe = ptrace_lab.build_lab("seed_regs", labs=REPO).path
    out = subprocess.run([exe, "/bin/echo", "hi"], capture_output=True, text=True, timeout=30).stdout
    assert "regs.rax = -38" in out and "orig_rax = 59" in out
    assert "errno=5" in out  # the filename bytes taken as a pointer
    assert 'envp[0] via rsi = "/bin/echo"' in out


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an executable"):
        ptrace_lab.check_tracer(tmp_path / "missing")
    with pytest.raises(ValueError, match="peek"):
        ptrace_lab.check_tracer("/bin/true", method="pokes")
    with pytest.raises(ValueError, match="which="):
        ptrace_lab.build_lab("nope", labs=REPO)
    with pytest.raises(ValueError, match="student=PATH"):
        ptrace_lab.build_lab("student", labs=REPO)
    with pytest.raises(ValueError, match="labs=CHECKOUT"):
        ptrace_lab.build_lab("tracer")


def test_no_tracee_left_behind(solution):
    ptrace_lab.check_tracer(solution, cases=1, seed=1)
    assert not _live_processes_named("nonexistent-gorun-kit")


def test_reference_instruments_agree():
    """strace and (when installed) the production tracer record the same execve calls."""
    pytest.importorskip("gorun_kit.trace")
    cmd = ptrace_lab.random_case(random.Random(5))
    _, a = ptrace_lab.reference_execs(cmd, instrument="strace")
    _, b = ptrace_lab.reference_execs(cmd, instrument="trace")
    assert [(c.filename, c.argv, c.envp, c.result) for c in a] == [(c.filename, c.argv, c.envp, c.result) for c in b]


@pytest.mark.live
def test_memory_reads_tell_process_vm_readv_from_peekdata():
    solution = ptrace_lab.build_lab("tracer", labs=REPO).path
    vm, peek = (ptrace_lab.memory_reads(solution, method=m, seed=3) for m in ("vm", "peek"))
    assert vm["process_vm_readv"] > 0
    assert peek["process_vm_readv"] == 0 and peek["PTRACE_PEEKDATA"] > 0
    # the untouched student copy reads nothing at all: the graded check fails on it
    stub = ptrace_lab.build_lab("student", student=_student_source()).path
    assert ptrace_lab.memory_reads(stub, method="vm", seed=3)["process_vm_readv"] == 0
    with pytest.raises(ValueError, match="method='mmap'"):
        ptrace_lab.memory_reads(solution, method="mmap")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process_vm_readv is Linux only")
def test_vm_readv_at_hole_returns_short_then_efault():
    edge = ptrace_lab.vm_readv_at_hole(100)
    assert (edge.asked, edge.copied, edge.in_hole_errno) == (edge.page, 100, "EFAULT")
    # a read that fits before the hole is whole
    assert ptrace_lab.vm_readv_at_hole(300, 200).copied == 200
    assert ptrace_lab.vm_readv_once(3 * 4096 + 100) == 3 * 4096 + 100
    with pytest.raises(ValueError):
        ptrace_lab.vm_readv_at_hole(0)
