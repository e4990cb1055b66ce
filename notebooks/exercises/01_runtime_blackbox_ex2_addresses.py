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
# # Chapter 1 · Exercise 2: which symbol holds this address?
#
# Chapter 1 named the threads of an idle program by the address each one waits
# on: `/proc/<pid>/task/<tid>/syscall` gave `futex(0x577ca0, ...)`, and the
# symbol table said that address lies inside `runtime.sched`. Here you write
# that lookup.

# %% nbgrader={"grade": false, "grade_id": "ex2-stamp", "locked": true, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("01_runtime_blackbox_ex2_addresses")

# %% [markdown]
# ## `symbol_containing(symbols, address)`
#
# `symbols` is a list of `(start, size, name)` tuples **sorted by start**, not
# overlapping. Return the `name` of the symbol with
# `start <= address < start + size`, or `None` if the address falls in a gap
# or outside every symbol. Symbol tables have tens of thousands of entries:
# use binary search (`bisect`), not a scan.

# %% nbgrader={"grade": false, "grade_id": "ex2-symbol-containing", "locked": false, "schema_version": 3, "solution": true, "task": false}
import bisect

def symbol_containing(symbols, address):
    """Name of the (start, size, name) symbol that contains ``address``, or None."""
    ### BEGIN SOLUTION
    starts = [s[0] for s in symbols]
    i = bisect.bisect_right(starts, address) - 1
    if i >= 0:
        start, size, name = symbols[i]
        if start <= address < start + size:
            return name
    return None
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2-symbol-containing-check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import random

rng = random.Random()

def random_table():
    table, at = [], rng.randint(0, 100)
    for i in range(rng.randint(0, 60)):
        at += rng.choice([0, 0, 1, 8, 64])  # often no gap, sometimes one
        size = rng.randint(1, 300)
        table.append((at, size, f"sym{i}"))
        at += size
    return table

for _ in range(300):
    table = random_table()
    for _ in range(20):
        addr = rng.randint(0, (table[-1][0] + table[-1][1] + 50) if table else 200)
        expect = next((n for s, z, n in table if s <= addr < s + z), None)
        assert symbol_containing(table, addr) == expect, (table, addr)
print("symbol_containing: random tables pass")
### BEGIN HIDDEN TESTS
assert symbol_containing([], 5) is None
assert symbol_containing([(10, 5, "a")], 15) is None  # the end is exclusive
assert symbol_containing([(10, 5, "a")], 10) == "a"
assert symbol_containing([(10, 5, "a")], 9) is None
### END HIDDEN TESTS

# %% [markdown]
# ## On a real binary
#
# The check takes the data symbols (global variables) of `labs_go/ch1_idle`,
# picks random addresses inside random variables, and asks your function for
# the name; `runtime.sched` and `runtime.m0` are always among them.

# %% nbgrader={"grade": true, "grade_id": "ex2-real-binary-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import binary
from gorun_kit.build import build_go
from gorun_kit.course.files import course_path

if nb.live("go"):
    exe = build_go(course_path("labs_go/ch1_idle")).path
    objects, last_end = [], -1
    for s in binary.read_symbols(exe):
        if s.kind == "object" and s.size > 0 and s.address >= last_end:
            objects.append((s.address, s.size, s.name))
            last_end = s.address + s.size
    names = {n: (a, z) for a, z, n in objects}
    picks = ["runtime.sched", "runtime.m0"] + rng.sample(sorted(names), 50)
    for name in picks:
        start, size = names[name]
        assert symbol_containing(objects, start + rng.randrange(size)) == name, name
    print("runtime.sched and runtime.m0 found by address:", True)


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("01_runtime_blackbox_ex2_addresses", globals())
