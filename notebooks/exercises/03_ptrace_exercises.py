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
# # Chapter 3 exercises: reading another process's memory
#
# A tracer sees the tracee's memory only through calls like
# `PTRACE_PEEKDATA`, which return **one 8-byte word** (little-endian on x86-64)
# at an address, or fail with `EIO` when the address is not mapped. These
# exercises are the logic of TODO 1 and TODO 3 of the C lab
# (`labs_c/ptrace_lab/tracer.c` of the student release), in Python: `peek(addr)` below plays
# `PTRACE_PEEKDATA` over a fake memory, so your code can be tested with random
# memory images. The strings in the visible checks, and the arguments of the programs the C
# lab's tracer must follow, come from your variant (the line `variant: ...` below).

# %%
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("03_ptrace_exercises")

# %%
import errno, random, struct


class FakeMemory:
    """Mapped regions {start: bytes}; peek(addr) returns the 8-byte word at addr as an int,
    or raises OSError(EIO) if any of its 8 bytes is unmapped -- as PTRACE_PEEKDATA does."""

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


# %% [markdown]
# ## 1. Read a C string word by word (3 points)
#
# Write `read_c_string(peek, addr)`: the bytes of the NUL-terminated string at
# `addr` (without the NUL). Read one word at a time with `peek`. Careful: the
# string may end a few bytes before the end of its mapping, so never peek past
# the word that holds the NUL -- and a word that is all `0xff` bytes is data,
# not an error.

# %% nbgrader={"grade": false, "grade_id": "read_c_string", "locked": false, "schema_version": 3, "solution": true}
def read_c_string(peek, addr):
    ### BEGIN SOLUTION
    out = bytearray()
    while True:
        word = peek(addr + len(out)).to_bytes(8, "little")
        nul = word.find(b"\0")
        if nul >= 0:
            return bytes(out + word[:nul])
        out += word
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "read_c_string_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false}
r = variant.rng("03_ptrace_exercises", "read_c_string")  # your variant's string and address
text, at = f"/usr/bin/{variant.word(r, 5, 12)}".encode(), r.randrange(0x1000, 0x100000, 8)
print(f"reading {text!r} at {at:#x}")
mem = FakeMemory({at: text + b"\0" * (8 - len(text) % 8)})
assert read_c_string(mem.peek, at) == text
### BEGIN HIDDEN TESTS
rng = random.Random()
for _ in range(300):
    s = bytes(rng.choice([rng.randint(1, 255), 0xff]) for _ in range(rng.randint(0, 100)))
    pad = (-(len(s) + 1)) % 8  # the mapping ends at the end of the word holding the NUL
    start = rng.randrange(0x1000, 0x100000, 8)
    mem = FakeMemory({start: s + b"\0" + bytes(rng.randint(1, 255) for _ in range(pad))})
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


# %% [markdown]
# ## 2. Walk argv (3 points)
#
# At the execve entry stop, `rsi` holds the address of argv: an array of
# 8-byte pointers ending with a NULL pointer. Write `read_argv(peek, addr)`
# returning the list of strings (as bytes), using your `read_c_string`.

# %% nbgrader={"grade": false, "grade_id": "read_argv", "locked": false, "schema_version": 3, "solution": true}
def read_argv(peek, addr):
    ### BEGIN SOLUTION
    out = []
    while True:
        ptr = peek(addr + 8 * len(out))
        if ptr == 0:
            return out
        out.append(read_c_string(peek, ptr))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "read_argv_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def layout(strings, base=0x10000):
    # pack the strings, then the pointer array, into one region
    blob, ptrs = bytearray(), []
    for s in strings:
        ptrs.append(base + len(blob))
        blob += s + b"\0"
    blob += b"\0" * ((-len(blob)) % 8)
    array_at = base + len(blob)
    blob += b"".join(struct.pack("<Q", p) for p in ptrs) + struct.pack("<Q", 0)
    return FakeMemory({base: bytes(blob)}), array_at

r = variant.rng("03_ptrace_exercises", "read_argv")  # your variant's argv
argv = [variant.word(r).encode(), f"{variant.word(r)} {variant.word(r)}".encode(), str(r.randrange(10**6)).encode()]
print("reading argv", argv)
mem, at = layout(argv, base=r.randrange(0x10000, 0x1000000, 8))
assert read_argv(mem.peek, at) == argv
### BEGIN HIDDEN TESTS
rng = random.Random()
for _ in range(200):
    strings = [bytes(rng.randint(1, 255) for _ in range(rng.randint(0, 40))) for _ in range(rng.randint(0, 12))]
    mem, at = layout(strings, base=rng.randrange(0x10000, 0x1000000, 8))
    assert read_argv(mem.peek, at) == strings
### END HIDDEN TESTS
print("read_argv: all checks passed")

# %% [markdown]
# ## 3. The real thing (graded)
#
# The C lab asks for the same logic against a live process. In your copy of
# the release, complete the TODOs of `labs_c/ptrace_lab/tracer.c` (in the
# course checkout that file is the solution; `gorun-kit course release DIR`
# writes the stubbed copy). The check below builds your `tracer.c`, runs it
# with `-m peek` and with `-m vm` on test programs with random arguments and
# environments (newlines, empty strings, bytes that are not UTF-8; drawn from your
# variant), and compares
# what it prints with the course's production tracer (or strace). It also
# watches *how* your tracer reads memory: `-m vm` must use `process_vm_readv`
# (TODO 2), `-m peek` only `PTRACE_PEEKDATA`.

# %% nbgrader={"grade": true, "grade_id": "c-tracer-check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import ptrace_lab
from gorun_kit.build import build_c
from gorun_kit.course.files import course_path

if nb.live("cc", "ptrace", "strace"):
    mine = build_c(course_path("labs_c/ptrace_lab/tracer.c"), cflags=["-O2", "-Wall", "-std=gnu11"],
                   name="my_ptrace_lab_tracer")
    mine_v = variant.of("03_ptrace_exercises")  # your variant picks the traced programs' arguments
    for method in ("peek", "vm"):
        result = ptrace_lab.check_tracer(mine.path, cases=3, method=method, seed=mine_v.seed_for(f"tracer-{method}"))
        print(f"-m {method}:", result)
        assert result.ok, result
    vm, peek = (ptrace_lab.memory_reads(mine.path, method=m, seed=mine_v.seed_for(f"reads-{m}")) for m in ("vm", "peek"))
    print("-m vm calls process_vm_readv:", vm["process_vm_readv"] > 0,
          "| -m peek reads with PTRACE_PEEKDATA only:", peek["process_vm_readv"] == 0 < peek["PTRACE_PEEKDATA"])
    assert vm["process_vm_readv"] > 0, "-m vm never called process_vm_readv (TODO 2)"
    assert peek["process_vm_readv"] == 0 and peek["PTRACE_PEEKDATA"] > 0, "-m peek must read with PTRACE_PEEKDATA only"


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers and your `tracer.c` (nothing is
# graded here) and names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("03_ptrace_exercises", globals())
