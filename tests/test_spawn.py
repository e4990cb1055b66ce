"""gorun_kit.spawn and the spawn labs: every method really starts the program,
and the comparison table records what strace saw."""
from __future__ import annotations

import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from gorun_kit import spawn
from gorun_kit.build import build_c, build_go
from gorun_kit.trace import parse_strace
from gorun_kit.trace.flags import CLONE_FLAGS

pytestmark = pytest.mark.live
REPO = Path(__file__).resolve().parent.parent
C_METHODS = ["fork", "vfork", "posix_spawn", "posix_spawnp", "system", "clone_stack", "clone_vm_raw"]


@pytest.fixture(scope="module")
def c_lab():
    d = REPO / "labs_c" / "spawn_methods"
    return build_c([d / "main.c", d / "spawn.c"], cflags=["-O2", "-std=gnu11"], name="spawn_methods").path


def _random_args(rng):
    # no quote characters: system() passes them through sh -c in single quotes
    alphabet = string.ascii_letters + string.digits + " _-.,:"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 5))]


@pytest.mark.parametrize("method", C_METHODS)
def test_c_method_runs_program_with_its_arguments(c_lab, method):
    rng = random.Random()
    args = _random_args(rng)
    prog = "printf" if method in ("posix_spawnp", "system") else "/usr/bin/printf"
    out = subprocess.run([c_lab, "run", method, prog, "%s|", *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "".join(a + "|" for a in args)


@pytest.mark.parametrize("method", C_METHODS)
def test_c_method_passes_exit_status(c_lab, method):
    code = random.randint(1, 100)
    prog = "sh" if method in ("posix_spawnp", "system") else "/bin/sh"
    out = subprocess.run([c_lab, "run", method, prog, "-c", f"exit {code}"], capture_output=True, timeout=30)
    assert out.returncode == code


def test_c_lab_rejects_unknown_method(c_lab):
    out = subprocess.run([c_lab, "run", "teleport", "/bin/true"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown method teleport" in out.stderr and "clone_vm_raw" in out.stderr


def test_go_cmd_dir_and_env():
    exe = build_go(REPO / "labs_go" / "spawn_cmd").path
    val = "".join(random.choice(string.ascii_letters) for _ in range(10))
    out = subprocess.run([exe, "-dir", "/usr", "-env", f"GK_VAL={val}", "sh", "-c", 'echo "$PWD $GK_VAL"; pwd'],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1] == "/usr" and out.stdout.split()[1] == val


def test_go_failing_exec_reports_errno():
    exe = build_go(REPO / "labs_go" / "spawn_fail").path
    out = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    assert 'op="fork/exec" errno=13' in out.stdout


def test_go_ptrace_first_stop_is_after_exec():
    exe = build_go(REPO / "labs_go" / "spawn_ptrace").path
    word = "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    out = subprocess.run([exe, "/bin/echo", word], capture_output=True, text=True, timeout=60).stdout
    assert f'"/bin/echo\\x00{word}"' in out and "orig_rax at first stop: 59" in out and "child exited 0" in out


def test_spawn_calls_from_strace_lines():
    lines = [
        'clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD, parent_tid=[7]) = 4242',
        'clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f0000000000, stack_size=0x9000}, 88) = 17',
        'clone(child_stack=0xc000100000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|'
        'CLONE_SYSVSEM|CLONE_SETTLS, tls=0xc000080090) = 99',
        'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 5',
        'vfork() = 6',
        'wait4(-1, NULL, 0, NULL) = 6',
    ]
    text = [f"1 1700000000.{i:06d} {line}\n" for i, line in enumerate(lines)]
    t = parse_strace(text, syscalls=["clone", "clone3", "vfork"])
    got = spawn.spawn_calls(t)
    assert [(s.pid, s.syscall, s.child, s.child_stack, s.is_thread, s.exit_signal) for s in got] == [
        (1, "clone", 4242, "shared", False, "SIGCHLD"),
        (1, "clone3", 17, "separate", False, "SIGCHLD"),
        (1, "clone", 99, "separate", True, ""),
        (1, "clone", 5, "copy", False, "SIGCHLD"),
        (1, "vfork", 6, "shared", False, "SIGCHLD"),
    ]
    assert got[0].flags == ("CLONE_VM", "CLONE_PIDFD", "CLONE_VFORK") and got[4].flags == ("CLONE_VM", "CLONE_VFORK")
    assert got[3].text.startswith("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|") and got[3].text.endswith("= 5")
    # without the clone calls asked for as syscalls there is nothing to read the stack from
    assert spawn.spawn_calls(parse_strace(text)) == []


def test_flag_names_random():
    rng = random.Random()
    table = {bit: name for name, bit in CLONE_FLAGS.items() if bit > 0xff}
    bits = list(table)
    for _ in range(100):
        chosen = rng.sample(bits, rng.randint(0, len(bits)))
        assert set(spawn.flag_names(sum(chosen) | rng.randint(0, 64))) == {table[b] for b in chosen}
    assert spawn.flag_names(0x40000) == ("CLONE_SYSVSEM",)
    assert spawn.flag_names(0x4000_0000_0000 | 0x100) == ("CLONE_VM", "0x400000000000")  # no set bit goes unshown


def test_comparison_table(repo):
    rows = {r.method: r for r in spawn.compare_methods(labs=repo, with_tracer=False)}
    assert set(rows) == set(spawn.METHODS)
    fork = rows["fork"]
    assert fork.syscall == "clone" and "CLONE_VM" not in fork.flags and fork.child_stack == "copy"
    for m in ("vfork", "posix_spawn", "clone_stack", "clone_vm_raw", "go exec.Command"):
        assert "CLONE_VM" in rows[m].flags and "CLONE_VFORK" in rows[m].flags, m
    assert rows["clone_vm_raw"].child_stack == "shared" and rows["clone_stack"].child_stack == "separate"
    assert rows["posix_spawnp"].execve_attempts == 2  # one miss in /nonexistent-gorun-kit, one hit
    assert rows["posix_spawn"].execve_attempts == 1
    assert rows["system"].path_search.startswith("sh:")
    go = rows["go exec.Command"]
    assert go.path_search.startswith("parent:") and go.execve_attempts == 1
    assert go.wait == "waitid(P_PIDFD)" and "CLONE_PIDFD" in go.flags and go.child_stack == "shared"
    assert "no exit signal" in go.probe and rows["fork"].probe == ""
    assert rows["go exec.Command+Dir+Env"].child_before_exec == "chdir" and go.child_before_exec == ""
    md = spawn.rows_markdown(list(rows.values()))
    # two tables (kernel side, around the spawn), one row per method in each
    assert md.count("\n| ") == 2 * (len(rows) + 1) and spawn.INSTRUMENT in md


def test_unknown_method(repo):
    with pytest.raises(ValueError, match="unknown spawn method"):
        spawn.trace_method("teleport", labs=repo)


def test_tracer_agrees_with_strace(repo):
    """Cross-check of the two instruments on Go's spawn flags."""
    pytest.importorskip("gorun_kit.trace")
    rows = spawn.compare_methods(["go exec.Command", "fork"], labs=repo)
    for r in rows:
        assert r.tracer_flags is not None
        strace_flags = {f for f in r.flags.split("|") if f.startswith("CLONE_")}
        assert strace_flags <= set(r.tracer_flags.replace(";", "|").replace(" ", "").split("|")), r


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="execve limits are Linux's")
def test_exec_limits_separate_the_filename_from_argv():
    lim = spawn.exec_limits()
    assert [(e.what, e.limit_name, e.errno) for e in lim] == [
        ("filename", "PATH_MAX", "ENAMETOOLONG"), ("argv[1]", "MAX_ARG_STRLEN", None),
        ("argv[1]", "MAX_ARG_STRLEN", "E2BIG")]
    assert lim[0].length == lim[0].limit and lim[1].length == lim[1].limit - 1 and lim[2].length == lim[2].limit
    # an argv string far longer than PATH_MAX is fine: the filename's limit is not argv's
    assert lim[1].length > 30 * lim[0].limit
