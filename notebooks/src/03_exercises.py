"""Generates notebooks/exercises/03_spawn_exercises.ipynb and 03_ptrace_exercises.ipynb."""
from _nbgen import check, code, md, write


def solution(source, gid):
    return code(source, nbgrader={"grade": False, "grade_id": gid, "locked": False, "schema_version": 3,
                                  "solution": True})


def tests(source, gid, points):
    return code(source, nbgrader={"grade": True, "grade_id": gid, "locked": True, "points": points,
                                  "schema_version": 3, "solution": False})


spawn_cells = [
    md("""
# Chapter 3 exercises: clone flags and the cost of a spawn

These go with [03 · From exec to a process](../03_exec_to_process.ipynb). Write
your code where it says `YOUR CODE HERE`, then run the test cell below it. The
tests call your function with random inputs, so an answer that only fits the
examples will not pass.
"""),
    code("""
from gorun_kit import nb

stamp = nb.stamp()
"""),
    md("""
## 1. Decode a clone flags word (2 points)

`clone`'s first argument packs two things: the low byte is the **exit
signal** sent to the parent when the child ends (17 = `SIGCHLD`; 0 = none, as
in Go's pidfd probe child), and the other bits are `CLONE_*` flags. Write
`decode_clone(value)` returning `(names, exit_signal)`: the set of flag names
present (use the table `CLONE`) and the exit signal number. Bits that are not
in the table must not be dropped silently: raise `ValueError` naming them.
"""),
    code("""
CLONE = {"CLONE_VM": 0x100, "CLONE_FS": 0x200, "CLONE_FILES": 0x400, "CLONE_SIGHAND": 0x800,
         "CLONE_PIDFD": 0x1000, "CLONE_PTRACE": 0x2000, "CLONE_VFORK": 0x4000, "CLONE_PARENT": 0x8000,
         "CLONE_THREAD": 0x10000, "CLONE_NEWNS": 0x20000, "CLONE_SYSVSEM": 0x40000, "CLONE_SETTLS": 0x80000,
         "CLONE_PARENT_SETTID": 0x100000, "CLONE_CHILD_CLEARTID": 0x200000, "CLONE_CHILD_SETTID": 0x1000000}
"""),
    solution("""
def decode_clone(value):
    ### BEGIN SOLUTION
    signal = value & 0xff
    rest = value & ~0xff
    names = {name for name, bit in CLONE.items() if rest & bit}
    unknown = rest & ~sum(CLONE.values())
    if unknown:
        raise ValueError(f"unknown clone flag bits {unknown:#x} in {value:#x}")
    return names, signal
    ### END SOLUTION
""", "decode_clone"),
    tests("""
import random
rng = random.Random()
# Go's spawn: CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD
assert decode_clone(0x100 | 0x1000 | 0x4000 | 17) == ({"CLONE_VM", "CLONE_PIDFD", "CLONE_VFORK"}, 17)
# the seed's "0x40000 | 0x10" is not vfork at all
assert decode_clone(0x40000 | 0x10) == ({"CLONE_SYSVSEM"}, 16)
### BEGIN HIDDEN TESTS
for _ in range(200):
    chosen = set(rng.sample(sorted(CLONE), rng.randint(0, len(CLONE))))
    sig = rng.randint(0, 64)
    value = sum(CLONE[n] for n in chosen) | sig
    assert decode_clone(value) == (chosen, sig), (hex(value), decode_clone(value))
for bad in (0x2000000, 0x10000000, 0x400000):  # bits the table does not name
    try:
        decode_clone(0x100 | bad | 17)
    except ValueError:
        pass
    else:
        raise AssertionError(f"decode_clone accepted the unknown bit {bad:#x}")
### END HIDDEN TESTS
print("decode_clone: all checks passed")
""", "decode_clone_tests", 2),
    md("""
## 2. Where does the child's stack come from? (2 points)

From one recorded spawn -- the syscall name, its flag names and the stack
argument (`None` or 0 when the caller passed none) -- say where the child runs:

* `"copy"`: no `CLONE_VM`; the child has its own copy-on-write copy of the
  address space, stack included (glibc `fork`);
* `"shared"`: `CLONE_VM` and no stack given; the child runs on the parent's
  stack (`vfork`, which implies `CLONE_VM|CLONE_VFORK`, and Go's clone);
* `"separate"`: `CLONE_VM` and a stack given (glibc `posix_spawn`'s clone3).
"""),
    solution("""
def child_stack(syscall, flags, stack):
    ### BEGIN SOLUTION
    if syscall == "vfork":
        return "shared"
    if "CLONE_VM" not in flags:
        return "copy"
    return "separate" if stack else "shared"
    ### END SOLUTION
""", "child_stack"),
    tests("""
assert child_stack("clone", {"CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID"}, None) == "copy"
assert child_stack("clone", {"CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD"}, None) == "shared"
### BEGIN HIDDEN TESTS
for _ in range(200):
    flags = set(rng.sample(sorted(CLONE), rng.randint(0, 6)))
    stack = rng.choice([None, 0, rng.randrange(1 << 12, 1 << 47)])
    name = rng.choice(["clone", "clone3", "vfork"])
    want = "shared" if name == "vfork" else ("copy" if "CLONE_VM" not in flags else ("separate" if stack else "shared"))
    assert child_stack(name, flags, stack) == want, (name, flags, stack)
### END HIDDEN TESTS
print("child_stack: all checks passed")
""", "child_stack_tests", 2),
    md("""
## 3. Read the latency curve (2 points)

The benchmark gives, per method, the median spawn latency at several sizes of
the parent's resident memory. Write `grows_with_memory(points, factor)`: the
set of methods whose latency at the **largest** size is at least `factor`
times their latency at the **smallest** size. `points` is a list of dicts
`{"method": str, "touched_bytes": int, "median_ns": float}`, in any order.
Then use it on the committed benchmark result.
"""),
    solution("""
def grows_with_memory(points, factor):
    ### BEGIN SOLUTION
    by_method = {}
    for p in points:
        by_method.setdefault(p["method"], []).append((p["touched_bytes"], p["median_ns"]))
    out = set()
    for method, pts in by_method.items():
        pts.sort()
        if pts[-1][1] >= factor * pts[0][1]:
            out.add(method)
    return out
    ### END SOLUTION
""", "grows_with_memory"),
    tests("""
import json, pathlib
committed = json.loads(pathlib.Path("../../benchmarks/results/spawn_latency.json").read_text())["points"]
print("methods that grow 5x or more on the committed run:", sorted(grows_with_memory(committed, 5)))
assert "fork" in grows_with_memory(committed, 5)
assert "vfork" not in grows_with_memory(committed, 5)
### BEGIN HIDDEN TESTS
for _ in range(100):
    sizes = sorted(rng.sample(range(0, 1 << 33, 1 << 20), rng.randint(2, 5)))
    want, pts = set(), []
    for i in range(rng.randint(1, 6)):
        base = rng.uniform(1e5, 1e7)
        k = rng.choice([rng.uniform(0.5, 2.9), rng.uniform(3.1, 500)])
        if k >= 3:
            want.add(f"m{i}")
        for j, s in enumerate(sizes):
            ns = base if j == 0 else (base * k if j == len(sizes) - 1 else base * rng.uniform(0.5, 1.5))
            pts.append({"method": f"m{i}", "touched_bytes": s, "median_ns": ns})
    rng.shuffle(pts)
    assert grows_with_memory(pts, 3) == want, (want, grows_with_memory(pts, 3))
### END HIDDEN TESTS
print("grows_with_memory: all checks passed")
""", "grows_with_memory_tests", 2),
]

ptrace_cells = [
    md("""
# Chapter 3 exercises: reading another process's memory

A tracer sees the tracee's memory only through calls like
`PTRACE_PEEKDATA`, which return **one 8-byte word** (little-endian on x86-64)
at an address, or fail with `EIO` when the address is not mapped. These
exercises are the logic of TODO 1 and TODO 3 of the C lab
(`labs_c/ptrace_lab/student/tracer.c`), in Python: `peek(addr)` below plays
`PTRACE_PEEKDATA` over a fake memory, so your code can be tested with random
memory images.
"""),
    code("""
from gorun_kit import nb

stamp = nb.stamp()
"""),
    code("""
import errno, random, struct


class FakeMemory:
    \"\"\"Mapped regions {start: bytes}; peek(addr) returns the 8-byte word at addr as an int,
    or raises OSError(EIO) if any of its 8 bytes is unmapped -- as PTRACE_PEEKDATA does.\"\"\"

    def __init__(self, regions):
        self.regions = dict(regions)
        self.calls = 0

    def byte(self, addr):
        for start, data in self.regions.items():
            if start <= addr < start + len(data):
                return data[addr - start]
        raise OSError(errno.EIO, f"address {addr:#x} is not mapped")

    def peek(self, addr):
        self.calls += 1
        return int.from_bytes(bytes(self.byte(addr + i) for i in range(8)), "little")
"""),
    md("""
## 1. Read a C string word by word (3 points)

Write `read_c_string(peek, addr)`: the bytes of the NUL-terminated string at
`addr` (without the NUL). Read one word at a time with `peek`. Careful: the
string may end a few bytes before the end of its mapping, so never peek past
the word that holds the NUL -- and a word that is all `0xff` bytes is data,
not an error.
"""),
    solution("""
def read_c_string(peek, addr):
    ### BEGIN SOLUTION
    out = bytearray()
    while True:
        word = peek(addr + len(out)).to_bytes(8, "little")
        nul = word.find(b"\\0")
        if nul >= 0:
            return bytes(out + word[:nul])
        out += word
    ### END SOLUTION
""", "read_c_string"),
    tests("""
mem = FakeMemory({0x1000: b"/bin/echo\\0" + b"\\0" * 6})
assert read_c_string(mem.peek, 0x1000) == b"/bin/echo"
### BEGIN HIDDEN TESTS
rng = random.Random()
for _ in range(300):
    s = bytes(rng.choice([rng.randint(1, 255), 0xff]) for _ in range(rng.randint(0, 100)))
    pad = (-(len(s) + 1)) % 8  # the mapping ends at the end of the word holding the NUL
    start = rng.randrange(0x1000, 0x100000, 8)
    mem = FakeMemory({start: s + b"\\0" + bytes(rng.randint(1, 255) for _ in range(pad))})
    assert read_c_string(mem.peek, start) == s
    assert mem.calls == len(s) // 8 + 1, f"{mem.calls} peeks for a {len(s)}-byte string"
try:
    read_c_string(FakeMemory({}).peek, 0x7275742f6e69622f)
except OSError as exc:
    assert exc.errno == errno.EIO
else:
    raise AssertionError("reading unmapped memory must raise OSError(EIO)")
### END HIDDEN TESTS
print("read_c_string: all checks passed")
""", "read_c_string_tests", 3),
    md("""
## 2. Walk argv (3 points)

At the execve entry stop, `rsi` holds the address of argv: an array of
8-byte pointers ending with a NULL pointer. Write `read_argv(peek, addr)`
returning the list of strings (as bytes), using your `read_c_string`.
"""),
    solution("""
def read_argv(peek, addr):
    ### BEGIN SOLUTION
    out = []
    while True:
        ptr = peek(addr + 8 * len(out))
        if ptr == 0:
            return out
        out.append(read_c_string(peek, ptr))
    ### END SOLUTION
""", "read_argv"),
    tests("""
def layout(strings, base=0x10000):
    # pack the strings, then the pointer array, into one region
    blob, ptrs = bytearray(), []
    for s in strings:
        ptrs.append(base + len(blob))
        blob += s + b"\\0"
    blob += b"\\0" * ((-len(blob)) % 8)
    array_at = base + len(blob)
    blob += b"".join(struct.pack("<Q", p) for p in ptrs) + struct.pack("<Q", 0)
    return FakeMemory({base: bytes(blob)}), array_at

mem, at = layout([b"echo", b"hello world"])
assert read_argv(mem.peek, at) == [b"echo", b"hello world"]
### BEGIN HIDDEN TESTS
rng = random.Random()
for _ in range(200):
    strings = [bytes(rng.randint(1, 255) for _ in range(rng.randint(0, 40))) for _ in range(rng.randint(0, 12))]
    mem, at = layout(strings, base=rng.randrange(0x10000, 0x1000000, 8))
    assert read_argv(mem.peek, at) == strings
### END HIDDEN TESTS
print("read_argv: all checks passed")
""", "read_argv_tests", 3),
    md("""
## 3. The real thing (graded)

The C lab asks for the same logic against a live process. In your copy of
the release, complete the TODOs of `labs_c/ptrace_lab/tracer.c` (in the
course checkout the same stubbed file is `labs_c/ptrace_lab/student/tracer.c`;
`make -C labs_c` builds it). The check below builds your `tracer.c`, runs it
with `-m peek` and with `-m vm` on test programs with random arguments and
environments (newlines, empty strings, bytes that are not UTF-8), and compares
what it prints with the course's production tracer (or strace). It also
watches *how* your tracer reads memory: `-m vm` must use `process_vm_readv`
(TODO 2), `-m peek` only `PTRACE_PEEKDATA`.
"""),
    check("""
from gorun_kit import ptrace_lab
from gorun_kit.build import build_c

if nb.live("cc", "ptrace", "strace"):
    mine = build_c("../../labs_c/ptrace_lab/tracer.c", cflags=["-O2", "-Wall", "-std=gnu11"],
                   name="my_ptrace_lab_tracer")
    for method in ("peek", "vm"):
        result = ptrace_lab.check_tracer(mine.path, cases=3, method=method)
        print(f"-m {method}:", result)
        assert result.ok, result
    vm, peek = (ptrace_lab.memory_reads(mine.path, method=m) for m in ("vm", "peek"))
    print("-m vm calls process_vm_readv:", vm["process_vm_readv"] > 0,
          "| -m peek reads with PTRACE_PEEKDATA only:", peek["process_vm_readv"] == 0 < peek["PTRACE_PEEKDATA"])
    assert vm["process_vm_readv"] > 0, "-m vm never called process_vm_readv (TODO 2)"
    assert peek["process_vm_readv"] == 0 and peek["PTRACE_PEEKDATA"] > 0, "-m peek must read with PTRACE_PEEKDATA only"
""", "c-tracer-check", 4),
]

write("exercises/03_spawn_exercises.ipynb", spawn_cells)
write("exercises/03_ptrace_exercises.ipynb", ptrace_cells)
