# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: all,-execution,-trusted,-ExecuteTime,-collapsed,-scrolled
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 5 · Exercise 2: write a seccomp-bpf filter
#
# A seccomp filter is a classic-BPF program: a list of instructions
# `(code, jt, jf, k)` the kernel runs on a `struct seccomp_data` at every system
# call. It reads 32-bit words of that struct (`nr` at offset 0, `arch` at
# offset 4), compares, jumps forward, and returns an action. You write the
# filter as a list of tuples; the first check runs it on a small BPF
# interpreter with random system calls, the last one installs it in a
# throw-away child process of this kernel and tries `execve` for real.

# %% nbgrader={"grade": false, "grade_id": "ex2-stamp", "locked": true, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("05_outlook_ex2_deny_filter")

# %% nbgrader={"grade": false, "grade_id": "ex2-bpf", "locked": true, "schema_version": 3, "solution": false, "task": false}
# From /usr/include/linux/seccomp.h (the cell below checks them against the header when it is installed).
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF

from pathlib import Path
import re
header = Path("/usr/include/linux/seccomp.h")
if header.exists():
    defined = {m.group(1): int(m.group(2), 16)
               for m in re.finditer(r"#define (SECCOMP_RET_\w+)\s+0x([0-9a-fA-F]+)U", header.read_text())}
    assert all(globals()[k] == v for k, v in defined.items() if k in globals())
    print("constants agree with", header)

# classic BPF opcodes (linux/filter.h, linux/bpf_common.h)
BPF_LD, BPF_W, BPF_ABS = 0x00, 0x00, 0x20
BPF_JMP, BPF_JEQ, BPF_JGE, BPF_K = 0x05, 0x10, 0x30, 0x00
BPF_RET = 0x06
OFFSET_NR, OFFSET_ARCH = 0, 4
AUDIT_ARCH_X86_64 = 0xC000003E


def stmt(code, k):
    return (code, 0, 0, k)


def jump(code, k, jt, jf):
    return (code, jt, jf, k)


def run_filter(program, nr, arch=AUDIT_ARCH_X86_64):
    """Run a classic-BPF seccomp program (the subset used here) on one system call."""
    data = {OFFSET_NR: nr, OFFSET_ARCH: arch}
    acc, pc = 0, 0
    for _ in range(len(program) + 1):
        code, jt, jf, k = program[pc]
        if code == BPF_LD | BPF_W | BPF_ABS:
            acc = data[k]
        elif code == BPF_JMP | BPF_JEQ | BPF_K:
            pc += jt if acc == k else jf
        elif code == BPF_JMP | BPF_JGE | BPF_K:
            pc += jt if acc >= k else jf
        elif code == BPF_RET | BPF_K:
            return k
        else:
            raise ValueError(f"instruction {pc}: opcode {code:#x} is not supported here")
        pc += 1
    raise ValueError("the program ran off its end without returning")


# %% [markdown]
# ## `deny_filter(numbers, err)`
#
# Return a program that:
#
# 1. loads `arch` and, if it is not `AUDIT_ARCH_X86_64`, returns
#    `SECCOMP_RET_KILL_PROCESS` (system call numbers mean different things on
#    other ABIs);
# 2. loads `nr` and returns `SECCOMP_RET_ERRNO | err` for every number in
#    `numbers`;
# 3. returns `SECCOMP_RET_ALLOW` for everything else.
#
# Jumps are relative: `jt`/`jf` say how many instructions to skip after the
# jump. The kernel accepts at most 4096 instructions, and `jt`/`jf` fit in a
# byte; `numbers` here has at most 50 entries.

# %% nbgrader={"grade": false, "grade_id": "ex2-deny-filter", "locked": false, "schema_version": 3, "solution": true, "task": false}
def deny_filter(numbers, err):
    """A seccomp program denying the syscalls in ``numbers`` with errno ``err``."""
    ### BEGIN SOLUTION
    prog = [stmt(BPF_LD | BPF_W | BPF_ABS, OFFSET_ARCH),
            jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
            stmt(BPF_LD | BPF_W | BPF_ABS, OFFSET_NR)]
    for nr in sorted(set(numbers)):
        prog.append(jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1))
        prog.append(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err))
    prog.append(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW))
    return prog
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2-deny-filter-check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import random

rng = random.Random()
for _ in range(200):
    numbers = set(rng.sample(range(0, 460), rng.randint(0, 50)))
    err = rng.randint(1, 133)
    prog = deny_filter(numbers, err)
    assert 0 < len(prog) <= 4096 and all(0 <= jt < 256 and 0 <= jf < 256 for _, jt, jf, _ in prog)
    for nr in rng.sample(range(0, 460), 40) + list(numbers)[:5]:
        expect = (SECCOMP_RET_ERRNO | err) if nr in numbers else SECCOMP_RET_ALLOW
        assert run_filter(prog, nr) == expect, (sorted(numbers), err, nr)
print("deny_filter: random syscall sets pass in the interpreter")
### BEGIN HIDDEN TESTS
for _ in range(50):
    numbers = set(rng.sample(range(0, 460), rng.randint(1, 20)))
    prog = deny_filter(numbers, 1)
    for arch in (0x40000003, 0x40000028, rng.randrange(2**32)):  # i386, arm, random
        if arch != AUDIT_ARCH_X86_64:
            assert run_filter(prog, rng.choice(sorted(numbers)), arch) == SECCOMP_RET_KILL_PROCESS
### END HIDDEN TESTS

# %% [markdown]
# ## In the kernel
#
# The last check forks this kernel, installs your filter in the child with
# `prctl(PR_SET_NO_NEW_PRIVS)` and `seccomp(SECCOMP_SET_MODE_FILTER)` (through
# ctypes), and has the child try `execve("/bin/true")` -- which must fail with
# the errno you chose -- and then `getpid`, which must still work. The child
# reports through its exit status and is always reaped.

# %% nbgrader={"grade": true, "grade_id": "ex2-kernel-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import ctypes
import errno
import os
import sys

class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

DENIED_AS_ASKED = 42  # not 0: a filter that let execve through would run /bin/true, which exits 0

def try_in_child(make_filter, nr_execve=59):
    """Exit status of a child that installs the filter and tries execve (42: denied as asked)."""
    want = rng.choice([errno.EPERM, errno.EACCES, errno.ENOSYS])
    prog = make_filter({nr_execve}, want)
    arr = (SockFilter * len(prog))(*[SockFilter(c, jt, jf, k) for c, jt, jf, k in prog])
    fprog = SockFprog(len(prog), arr)
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
                code = 10
            elif libc.syscall(317, 1, 0, ctypes.byref(fprog)) != 0:  # seccomp(SET_MODE_FILTER)
                code = 11
            else:
                try:
                    os.execv("/bin/true", ["true"])
                    code = 12  # not reached: exec replaced us
                except OSError as exc:
                    code = DENIED_AS_ASKED if exc.errno == want and os.getpid() > 0 else 13
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

if sys.platform == "linux" and os.uname().machine == "x86_64":
    for _ in range(3):
        assert try_in_child(deny_filter) == DENIED_AS_ASKED
    # and the check itself can fail: a filter that allows everything is caught
    assert try_in_child(lambda numbers, err: [stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)]) != DENIED_AS_ASKED
    print("the kernel ran the filter: execve failed with the chosen errno, getpid still worked")


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("05_outlook_ex2_deny_filter", globals())
