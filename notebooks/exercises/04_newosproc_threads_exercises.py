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
# # Chapter 4 exercises · extend the thread hook
#
# In the chapter, `threads.observe` ran programs against a runtime patched with
# a thread-creation hook. The hook has an **extension point**: two Go functions
# of package `runtime` that may append `key=value` fields to a record.
#
# Your task: **mark every M that was created because of a blocking system
# call.** When a goroutine blocks in a syscall its M stays in the kernel; the P
# is taken away from it -- by sysmon (`retake`), or at once by
# `entersyscallblock` -- and handed to another M, which sometimes has to be
# created. Such an M's `newm` call has `runtime.retake` or
# `runtime.entersyscallblock` among its callers.
#
# Rules of the place your code runs (the compiler enforces the first two):
# no heap allocation, no write barriers, no locks. Useful runtime functions:
# `callers(skip int, pcbuf []uintptr) int` (fills a buffer with return PCs),
# `findfunc(pc uintptr) funcInfo` (`.valid()`), `funcname(f funcInfo) string`,
# and the record buffer `w.str(s string)`, `w.dec(x int64)`.

# %%
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("04_newosproc_threads_exercises")

# %% nbgrader={"grade": false, "grade_id": "hook-harness", "locked": true, "schema_version": 3, "solution": false, "task": false}
import random

from gorun_kit import threads
from gorun_kit.course.files import course_path

LABS = {"threads_idle": course_path("labs_go/threads_idle"),
        "threads_syscalls": course_path("labs_go/threads_syscalls")}
LIVE = nb.live("go", "strace")

# The harness: gorunkitExtendNew records the call chain (via=...) for the
# checks, then calls your studentExtendNew, which must append " syscall=1" or
# " syscall=0".
HARNESS = '''
func gorunkitExtendNew(w *gorunkitLine, mp *m) {
	var pcs [16]uintptr
	n := callers(3, pcs[:])
	w.str(" via=")
	for i := 0; i < n; i++ {
		f := findfunc(pcs[i] - 1)
		if !f.valid() {
			break
		}
		if i > 0 {
			w.str("<")
		}
		w.str(funcname(f))
	}
	studentExtendNew(w, mp)
}

func gorunkitExtendStart(w *gorunkitLine, mp *m) {}
'''

def run_with(student_go, lab, *args):
    return threads.observe(LABS[lab], args=args, extension=student_go + "\n" + HARNESS)


# %% [markdown]
# ### Part 1 (Go)
#
# Set `STUDENT_GO` to Go source that starts with `package runtime` and defines
#
# ```go
# func studentExtendNew(w *gorunkitLine, mp *m)
# ```
#
# appending ` syscall=1` when the chain of callers into `newm` contains
# `runtime.retake` or `runtime.entersyscallblock`, else ` syscall=0`.
# (`callers(3, ...)` skips `callers` itself, your function's caller's caller...
# count the frames, or simply look at every frame.)

# %% nbgrader={"grade": false, "grade_id": "hook-go", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
STUDENT_GO = r"""
package runtime

func studentExtendNew(w *gorunkitLine, mp *m) {
	var pcs [24]uintptr
	n := callers(1, pcs[:])
	blocked := false
	for i := 0; i < n; i++ {
		f := findfunc(pcs[i] - 1)
		if !f.valid() {
			break
		}
		name := funcname(f)
		if name == "runtime.retake" || name == "runtime.entersyscallblock" {
			blocked = true
		}
	}
	if blocked {
		w.str(" syscall=1")
	} else {
		w.str(" syscall=0")
	}
}
"""
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "hook-go-builds", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Builds and runs: every new M carries the syscall field.
if LIVE:
    r = run_with(STUDENT_GO, "threads_idle")
    assert r.ok, r.summary()
    news = [m for m in r.ms if m.asked_by_m is not None]
    assert news and all(m.get("syscall") in (0, 1) for m in news), "every new record needs syscall=0 or syscall=1"
    print("ok: the extension builds and every new M is marked")

# %% nbgrader={"grade": true, "grade_id": "hook-go-correct", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Against the call chain, on runs with random numbers of blocked goroutines.
if LIVE:
    def reference(m):
        return int("runtime.retake" in m.via or "runtime.entersyscallblock" in m.via)

    idle = run_with(STUDENT_GO, "threads_idle")
    assert all(m.get("syscall") == reference(m) == 0 for m in idle.ms if m.asked_by_m is not None), \
        "an idle program has no Ms made for blocking syscalls"
    ### BEGIN HIDDEN TESTS
    positives = 0
    for _ in range(3):
        n = random.randint(5, 8)
        r = run_with(STUDENT_GO, "threads_syscalls", str(n))
        assert r.ok, r.summary()
        for m in r.ms:
            if m.asked_by_m is not None:
                assert m.get("syscall") == reference(m), f"M{m.m} (via {m.via}): syscall={m.get('syscall')}"
                positives += reference(m)
    assert positives > 0, "no M was made for a blocking syscall in three runs: the check could not test you"
    ### END HIDDEN TESTS
    print("ok: syscall marks agree with the call chain")


# %% [markdown]
# ### Part 2 (Python)
#
# Write `count_syscall_ms(report)`: how many Ms of a `ThreadReport` your hook
# marked `syscall=1`. Then look at how that number grows with the number of
# blocked goroutines.

# %% nbgrader={"grade": false, "grade_id": "hook-count", "locked": false, "schema_version": 3, "solution": true, "task": false}
def count_syscall_ms(report):
    ### BEGIN SOLUTION
    return sum(1 for m in report.ms if m.get("syscall") == 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "hook-count-check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
if LIVE:
    r = run_with(STUDENT_GO, "threads_syscalls", str(random.randint(5, 8)))
    expected = sum(1 for m in r.ms if "runtime.retake" in m.via or "runtime.entersyscallblock" in m.via)
    assert count_syscall_ms(r) == expected, (count_syscall_ms(r), expected)
    assert count_syscall_ms(run_with(STUDENT_GO, "threads_idle")) == 0
    print("ok: count_syscall_ms")

# %%
# NBVAL_IGNORE_OUTPUT
# Explore (not graded): Ms made for blocking syscalls, by number of blocked goroutines.
if LIVE:
    for n in (2, 4, 8):
        r = run_with(STUDENT_GO, "threads_syscalls", str(n))
        print(f"{n} goroutines in nanosleep: {len(r.ms)} Ms, {count_syscall_ms(r)} made for blocking syscalls")


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("04_newosproc_threads_exercises", globals())
