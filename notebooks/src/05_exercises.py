"""Generates chapter 5's exercise notebooks (nbgrader markup; run, then execute with nbconvert).

notebooks/exercises/05_outlook_ex1_seccomp_actions.ipynb  decode a seccomp return value
notebooks/exercises/05_outlook_ex2_deny_filter.ipynb      write a seccomp-bpf filter, check it in the kernel
"""
from _nbgen import check, code, given, md, solution, write



CONSTANTS = '''
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
               for m in re.finditer(r"#define (SECCOMP_RET_\\w+)\\s+0x([0-9a-fA-F]+)U", header.read_text())}
    assert all(globals()[k] == v for k, v in defined.items() if k in globals())
    print("constants agree with", header)
'''

ex1 = [
    md("""
# Chapter 5 · Exercise 1: what does a seccomp filter answer?

A seccomp filter returns one 32-bit value per system call. The top 16 bits
are the **action** (allow, fail with an errno, stop for a tracer, kill...),
the low 16 bits are **data** for it: the errno for `SECCOMP_RET_ERRNO`, a
value the tracer can read for `SECCOMP_RET_TRACE`. Chapter 5's launcher
returns `SECCOMP_RET_ERRNO | EPERM`; the course's tracer returns
`SECCOMP_RET_TRACE`.
"""),
    given("from gorun_kit import nb\n\nstamp = nb.stamp()", "ex1-stamp"),
    given(CONSTANTS, "ex1-constants"),
    md("""
## `decode_action(value)`

Return `(name, data)`: `name` is the action's name without the prefix
(`"ERRNO"`, `"TRACE"`, `"ALLOW"`, `"KILL_PROCESS"`, `"KILL_THREAD"`, `"TRAP"`,
`"USER_NOTIF"`, `"LOG"`), `data` the low 16 bits. The action is
`value & SECCOMP_RET_ACTION_FULL`. The kernel treats an action it does not
know as `KILL_PROCESS`; do the same (and keep the data).
"""),
    solution('''
def decode_action(value: int) -> tuple[str, int]:
    """(action name, 16-bit data) of a seccomp filter's return value."""
    ### BEGIN SOLUTION
    names = {SECCOMP_RET_KILL_PROCESS: "KILL_PROCESS", SECCOMP_RET_KILL_THREAD: "KILL_THREAD",
             SECCOMP_RET_TRAP: "TRAP", SECCOMP_RET_ERRNO: "ERRNO", SECCOMP_RET_USER_NOTIF: "USER_NOTIF",
             SECCOMP_RET_TRACE: "TRACE", SECCOMP_RET_LOG: "LOG", SECCOMP_RET_ALLOW: "ALLOW"}
    return names.get(value & SECCOMP_RET_ACTION_FULL, "KILL_PROCESS"), value & SECCOMP_RET_DATA
    ### END SOLUTION
''', "ex1-decode"),
    check('''
import errno
import random

rng = random.Random()
known = {"ERRNO": SECCOMP_RET_ERRNO, "TRACE": SECCOMP_RET_TRACE, "ALLOW": SECCOMP_RET_ALLOW,
         "TRAP": SECCOMP_RET_TRAP, "LOG": SECCOMP_RET_LOG, "USER_NOTIF": SECCOMP_RET_USER_NOTIF,
         "KILL_PROCESS": SECCOMP_RET_KILL_PROCESS, "KILL_THREAD": SECCOMP_RET_KILL_THREAD}
for _ in range(500):
    name = rng.choice(sorted(known))
    data = rng.randrange(0x10000)
    assert decode_action(known[name] | data) == (name, data), (name, hex(known[name] | data))
assert decode_action(SECCOMP_RET_ERRNO | errno.EPERM) == ("ERRNO", errno.EPERM)
print("decode_action: every known action with random data passes")
### BEGIN HIDDEN TESTS
for _ in range(200):
    action = rng.randrange(0x10000) << 16
    if action in known.values():
        continue
    data = rng.randrange(0x10000)
    assert decode_action(action | data) == ("KILL_PROCESS", data), hex(action | data)
### END HIDDEN TESTS
''', "ex1-decode-check", 3),
    md("""
## The two filters of this course

The check reads the `SECCOMP_RET_...` constants each C lab returns, evaluates
them with your function, and expects the launcher to answer `ERRNO` with
`EPERM` and the tracer to answer `TRACE`.
"""),
    check('''
import gorun_kit

repo = Path(gorun_kit.__file__).resolve().parents[1]
names = {"SECCOMP_RET_ERRNO": SECCOMP_RET_ERRNO, "SECCOMP_RET_TRACE": SECCOMP_RET_TRACE,
         "SECCOMP_RET_ALLOW": SECCOMP_RET_ALLOW, "SECCOMP_RET_KILL_PROCESS": SECCOMP_RET_KILL_PROCESS,
         "EPERM": errno.EPERM}

def returns(path):
    text = path.read_text()
    found = set()
    for expr in re.findall(r"BPF_RET \\| BPF_K, ([A-Z_| ]+)\\)", text):
        words = [w.strip() for w in expr.split("|")]
        if all(w in names for w in words):  # skip constants this exercise does not list
            value = 0
            for word in words:
                value |= names[word]
            found.add(decode_action(value))
    return found

deny = returns(repo / "labs_c" / "seccomp_deny" / "seccomp_deny.c")
assert ("ERRNO", errno.EPERM) in deny and ("ALLOW", 0) in deny, deny
print("seccomp_deny answers ERRNO/EPERM:", ("ERRNO", errno.EPERM) in deny)
tracer = repo / "labs_c" / "tracer" / "tracer.c"
if tracer.exists():
    assert ("TRACE", 0) in returns(tracer)
    print("the tracer answers TRACE:", True)
''', "ex1-labs-check", 2),
]


ex2 = [
    md("""
# Chapter 5 · Exercise 2: write a seccomp-bpf filter

A seccomp filter is a classic-BPF program: a list of instructions
`(code, jt, jf, k)` the kernel runs on a `struct seccomp_data` at every system
call. It reads 32-bit words of that struct (`nr` at offset 0, `arch` at
offset 4), compares, jumps forward, and returns an action. You write the
filter as a list of tuples; the first check runs it on a small BPF
interpreter with random system calls, the last one installs it in a
throw-away child process of this kernel and tries `execve` for real.
"""),
    given("from gorun_kit import nb\n\nstamp = nb.stamp()", "ex2-stamp"),
    given(CONSTANTS + '''
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
''', "ex2-bpf"),
    md("""
## `deny_filter(numbers, err)`

Return a program that:

1. loads `arch` and, if it is not `AUDIT_ARCH_X86_64`, returns
   `SECCOMP_RET_KILL_PROCESS` (system call numbers mean different things on
   other ABIs);
2. loads `nr` and returns `SECCOMP_RET_ERRNO | err` for every number in
   `numbers`;
3. returns `SECCOMP_RET_ALLOW` for everything else.

Jumps are relative: `jt`/`jf` say how many instructions to skip after the
jump. The kernel accepts at most 4096 instructions, and `jt`/`jf` fit in a
byte; `numbers` here has at most 50 entries.
"""),
    solution('''
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
''', "ex2-deny-filter"),
    check('''
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
''', "ex2-deny-filter-check", 3),
    md("""
## In the kernel

The last check forks this kernel, installs your filter in the child with
`prctl(PR_SET_NO_NEW_PRIVS)` and `seccomp(SECCOMP_SET_MODE_FILTER)` (through
ctypes), and has the child try `execve("/bin/true")` -- which must fail with
the errno you chose -- and then `getpid`, which must still work. The child
reports through its exit status and is always reaped.
"""),
    check('''
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
''', "ex2-kernel-check", 2),
]

write("exercises/05_outlook_ex1_seccomp_actions.ipynb", ex1)
write("exercises/05_outlook_ex2_deny_filter.ipynb", ex2)
