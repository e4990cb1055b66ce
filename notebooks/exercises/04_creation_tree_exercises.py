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
# # Chapter 4 exercises · the creation tree
#
# `threads.observe` returns a `ThreadReport` whose `ms` are `MRecord`s; for
# every M except m0, `asked_by_m` is the M that called `newm` for it. These
# links form a tree rooted at m0 (`gorun_kit.viz.threads.creation_tree` draws
# it). Two questions about that tree, answered from the records alone.

# %%
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("04_creation_tree_exercises")

# %% nbgrader={"grade": false, "grade_id": "tree-given", "locked": true, "schema_version": 3, "solution": false, "task": false}
import dataclasses
import random

from gorun_kit import threads
from gorun_kit.course.files import course_path
from gorun_kit.viz import threads as tviz

LOCKED, SYSCALLS = course_path("labs_go/threads_locked"), course_path("labs_go/threads_syscalls")
LIVE = nb.live("go", "strace")

def fake_ms(n, rng):
    # n synthetic MRecords: m0, then Ms each asked for by an earlier M
    blank = {f.name: None for f in dataclasses.fields(threads.MRecord)}
    ms = [threads.MRecord(**{**blank, "m": 0, "start_fn": "none", "extra": ()})]
    for i in range(1, n):
        ms.append(threads.MRecord(**{**blank, "m": i, "start_fn": "none", "extra": (),
                                     "asked_by_m": rng.randrange(i)}))
    rng.shuffle(ms)
    return ms


# %% [markdown]
# ### Part 1
#
# `depths(ms)` returns `{M id: depth}`: m0 has depth 0, an M asked for by m0
# depth 1, an M asked for by that one depth 2, and so on. The records may come
# in any order.

# %% nbgrader={"grade": false, "grade_id": "tree-depths", "locked": false, "schema_version": 3, "solution": true, "task": false}
def depths(ms):
    ### BEGIN SOLUTION
    parent = {m.m: m.asked_by_m for m in ms}
    out = {}
    def depth(i):
        if i not in out:
            out[i] = 0 if parent[i] is None else depth(parent[i]) + 1
        return out[i]
    for i in parent:
        depth(i)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "tree-depths-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
if LIVE:
    r = threads.observe(LOCKED, args=("2",))
    d = depths(r.ms)
    assert d[0] == 0 and set(d) == {m.m for m in r.ms}
    sysmon = next(m.m for m in r.ms if m.start_fn == "runtime.sysmon")
    assert d[sysmon] == 1, "runtime.main asks for sysmon on m0"
### BEGIN HIDDEN TESTS
rng = random.Random()
for _ in range(50):
    ms = fake_ms(rng.randint(1, 40), rng)
    parent = {m.m: m.asked_by_m for m in ms}
    want = {}
    for i in parent:
        k, j = 0, i
        while parent[j] is not None:
            j, k = parent[j], k + 1
        want[i] = k
    assert depths(ms) == want
### END HIDDEN TESTS
print("ok: depths")


# %% [markdown]
# ### Part 2
#
# `busiest_creator(ms)` returns the id of the M that asked for the most Ms
# (the smallest id on a tie), or `None` when no M asked for any.

# %% nbgrader={"grade": false, "grade_id": "tree-busiest", "locked": false, "schema_version": 3, "solution": true, "task": false}
def busiest_creator(ms):
    ### BEGIN SOLUTION
    counts = {}
    for m in ms:
        if m.asked_by_m is not None:
            counts[m.asked_by_m] = counts.get(m.asked_by_m, 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda i: (-counts[i], i))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "tree-busiest-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert busiest_creator(fake_ms(1, random.Random())) is None
### BEGIN HIDDEN TESTS
rng = random.Random()
for _ in range(50):
    ms = fake_ms(rng.randint(2, 40), rng)
    counts = {}
    for m in ms:
        if m.asked_by_m is not None:
            counts[m.asked_by_m] = counts.get(m.asked_by_m, 0) + 1
    best = max(counts.values())
    assert busiest_creator(ms) == min(i for i, c in counts.items() if c == best)
### END HIDDEN TESTS
print("ok: busiest_creator")

# %%
# Not graded: the tree of a real run, and which M created the most.
if LIVE:
    r = threads.observe(SYSCALLS, args=("6",))
    print("busiest creator is a real M of the run:", busiest_creator(r.ms) in {m.m for m in r.ms})
    display(tviz.creation_tree(r))


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("04_creation_tree_exercises", globals())
