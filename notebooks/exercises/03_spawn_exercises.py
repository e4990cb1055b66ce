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
# # Chapter 3 exercises: clone flags and the cost of a spawn
#
# These go with [03 · From exec to a process](../03_exec_to_process.ipynb). Write
# your code where it says `YOUR CODE HERE`, then run the test cell below it. The
# tests call your function with random inputs, so an answer that only fits the
# examples will not pass.

# %%
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("03_spawn_exercises")

# %% [markdown]
# ## 1. Decode a clone flags word (2 points)
#
# `clone`'s first argument packs two things: the low byte is the **exit
# signal** sent to the parent when the child ends (17 = `SIGCHLD`; 0 = none, as
# in Go's pidfd probe child), and the other bits are `CLONE_*` flags. Write
# `decode_clone(value)` returning `(names, exit_signal)`: the set of flag names
# present (use the table `CLONE`) and the exit signal number. Bits that are not
# in the table must not be dropped silently: raise `ValueError` naming them.

# %%
CLONE = {"CLONE_VM": 0x100, "CLONE_FS": 0x200, "CLONE_FILES": 0x400, "CLONE_SIGHAND": 0x800,
         "CLONE_PIDFD": 0x1000, "CLONE_PTRACE": 0x2000, "CLONE_VFORK": 0x4000, "CLONE_PARENT": 0x8000,
         "CLONE_THREAD": 0x10000, "CLONE_NEWNS": 0x20000, "CLONE_SYSVSEM": 0x40000, "CLONE_SETTLS": 0x80000,
         "CLONE_PARENT_SETTID": 0x100000, "CLONE_CHILD_CLEARTID": 0x200000, "CLONE_CHILD_SETTID": 0x1000000}


# %% nbgrader={"grade": false, "grade_id": "decode_clone", "locked": false, "schema_version": 3, "solution": true}
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


# %% nbgrader={"grade": true, "grade_id": "decode_clone_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false}
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


# %% [markdown]
# ## 2. Where does the child's stack come from? (2 points)
#
# From one recorded spawn -- the syscall name, its flag names and the stack
# argument (`None` or 0 when the caller passed none) -- say where the child runs:
#
# * `"copy"`: no `CLONE_VM`; the child has its own copy-on-write copy of the
#   address space, stack included (glibc `fork`);
# * `"shared"`: `CLONE_VM` and no stack given; the child runs on the parent's
#   stack (`vfork`, which implies `CLONE_VM|CLONE_VFORK`, and Go's clone);
# * `"separate"`: `CLONE_VM` and a stack given (glibc `posix_spawn`'s clone3).

# %% nbgrader={"grade": false, "grade_id": "child_stack", "locked": false, "schema_version": 3, "solution": true}
def child_stack(syscall, flags, stack):
    ### BEGIN SOLUTION
    if syscall == "vfork":
        return "shared"
    if "CLONE_VM" not in flags:
        return "copy"
    return "separate" if stack else "shared"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "child_stack_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false}
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


# %% [markdown]
# ## 3. Read the latency curve (2 points)
#
# The benchmark gives, per method, the median spawn latency at several sizes of
# the parent's resident memory. Write `grows_with_memory(points, factor)`: the
# set of methods whose latency at the **largest** size is at least `factor`
# times their latency at the **smallest** size. `points` is a list of dicts
# `{"method": str, "touched_bytes": int, "median_ns": float}`, in any order.
# Then use it on the committed benchmark result.

# %% nbgrader={"grade": false, "grade_id": "grows_with_memory", "locked": false, "schema_version": 3, "solution": true}
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


# %% nbgrader={"grade": true, "grade_id": "grows_with_memory_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false}
import json
from gorun_kit.course.files import course_path
committed = json.loads(course_path("benchmarks/results/spawn_latency.json").read_text())["points"]
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


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("03_spawn_exercises", globals())
