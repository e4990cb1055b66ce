"""Generates the chapter 4 exercise notebooks (solution versions, nbgrader markup).

notebooks/exercises/04_newosproc_threads_exercises.ipynb -- extend the hook in Go
notebooks/exercises/04_creation_tree_exercises.ipynb     -- read the creation tree
"""
from _nbgen import check, code, given, md, solution, write



hook_cells = [
    md("""
# Chapter 4 exercises · extend the thread hook

In the chapter, `threads.observe` ran programs against a runtime patched with
a thread-creation hook. The hook has an **extension point**: two Go functions
of package `runtime` that may append `key=value` fields to a record.

Your task: **mark every M that was created because of a blocking system
call.** When a goroutine blocks in a syscall its M stays in the kernel; the P
is taken away from it -- by sysmon (`retake`), or at once by
`entersyscallblock` -- and handed to another M, which sometimes has to be
created. Such an M's `newm` call has `runtime.retake` or
`runtime.entersyscallblock` among its callers.

Rules of the place your code runs (the compiler enforces the first two):
no heap allocation, no write barriers, no locks. Useful runtime functions:
`callers(skip int, pcbuf []uintptr) int` (fills a buffer with return PCs),
`findfunc(pc uintptr) funcInfo` (`.valid()`), `funcname(f funcInfo) string`,
and the record buffer `w.str(s string)`, `w.dec(x int64)`.
"""),
    code("""
from gorun_kit import nb

stamp = nb.stamp()
"""),
    given("""
import random
from pathlib import Path

from gorun_kit import threads

LABS = Path("..", "..", "labs_go").resolve()
LIVE = nb.live("go", "strace")

# The harness: gorunkitExtendNew records the call chain (via=...) for the
# checks, then calls your studentExtendNew, which must append " syscall=1" or
# " syscall=0".
HARNESS = '''
func gorunkitExtendNew(w *gorunkitLine, mp *m) {
\tvar pcs [16]uintptr
\tn := callers(3, pcs[:])
\tw.str(" via=")
\tfor i := 0; i < n; i++ {
\t\tf := findfunc(pcs[i] - 1)
\t\tif !f.valid() {
\t\t\tbreak
\t\t}
\t\tif i > 0 {
\t\t\tw.str("<")
\t\t}
\t\tw.str(funcname(f))
\t}
\tstudentExtendNew(w, mp)
}

func gorunkitExtendStart(w *gorunkitLine, mp *m) {}
'''

def run_with(student_go, lab, *args):
    return threads.observe(LABS / lab, args=args, extension=student_go + "\\n" + HARNESS)
""", "hook-harness"),
    md("""
### Part 1 (Go)

Set `STUDENT_GO` to Go source that starts with `package runtime` and defines

```go
func studentExtendNew(w *gorunkitLine, mp *m)
```

appending ` syscall=1` when the chain of callers into `newm` contains
`runtime.retake` or `runtime.entersyscallblock`, else ` syscall=0`.
(`callers(3, ...)` skips `callers` itself, your function's caller's caller...
count the frames, or simply look at every frame.)
"""),
    solution('''
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
''', "hook-go"),
    check('''
# Builds and runs: every new M carries the syscall field.
if LIVE:
    r = run_with(STUDENT_GO, "threads_idle")
    assert r.ok, r.summary()
    news = [m for m in r.ms if m.asked_by_m is not None]
    assert news and all(m.get("syscall") in (0, 1) for m in news), "every new record needs syscall=0 or syscall=1"
    print("ok: the extension builds and every new M is marked")
''', "hook-go-builds", 1),
    check('''
# Against the call chain, on runs with random numbers of blocked goroutines.
if LIVE:
    def reference(m):
        return int("runtime.retake" in m.via or "runtime.entersyscallblock" in m.via)

    idle = run_with(STUDENT_GO, "threads_idle")
    assert all(m.get("syscall") == reference(m) == 0 for m in idle.ms if m.asked_by_m is not None), \\
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
''', "hook-go-correct", 3),
    md("""
### Part 2 (Python)

Write `count_syscall_ms(report)`: how many Ms of a `ThreadReport` your hook
marked `syscall=1`. Then look at how that number grows with the number of
blocked goroutines.
"""),
    solution('''
def count_syscall_ms(report):
    ### BEGIN SOLUTION
    return sum(1 for m in report.ms if m.get("syscall") == 1)
    ### END SOLUTION
''', "hook-count"),
    check('''
if LIVE:
    r = run_with(STUDENT_GO, "threads_syscalls", str(random.randint(5, 8)))
    expected = sum(1 for m in r.ms if "runtime.retake" in m.via or "runtime.entersyscallblock" in m.via)
    assert count_syscall_ms(r) == expected, (count_syscall_ms(r), expected)
    assert count_syscall_ms(run_with(STUDENT_GO, "threads_idle")) == 0
    print("ok: count_syscall_ms")
''', "hook-count-check", 1),
    code("""
# NBVAL_IGNORE_OUTPUT
# Explore (not graded): Ms made for blocking syscalls, by number of blocked goroutines.
if LIVE:
    for n in (2, 4, 8):
        r = run_with(STUDENT_GO, "threads_syscalls", str(n))
        print(f"{n} goroutines in nanosleep: {len(r.ms)} Ms, {count_syscall_ms(r)} made for blocking syscalls")
"""),
]

tree_cells = [
    md("""
# Chapter 4 exercises · the creation tree

`threads.observe` returns a `ThreadReport` whose `ms` are `MRecord`s; for
every M except m0, `asked_by_m` is the M that called `newm` for it. These
links form a tree rooted at m0 (`gorun_kit.viz.threads.creation_tree` draws
it). Two questions about that tree, answered from the records alone.
"""),
    code("""
from gorun_kit import nb

stamp = nb.stamp()
"""),
    given("""
import dataclasses
import random
from pathlib import Path

from gorun_kit import threads
from gorun_kit.viz import threads as tviz

LABS = Path("..", "..", "labs_go").resolve()
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
""", "tree-given"),
    md("""
### Part 1

`depths(ms)` returns `{M id: depth}`: m0 has depth 0, an M asked for by m0
depth 1, an M asked for by that one depth 2, and so on. The records may come
in any order.
"""),
    solution('''
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
''', "tree-depths"),
    check('''
if LIVE:
    r = threads.observe(LABS / "threads_locked", args=("2",))
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
''', "tree-depths-check", 2),
    md("""
### Part 2

`busiest_creator(ms)` returns the id of the M that asked for the most Ms
(the smallest id on a tie), or `None` when no M asked for any.
"""),
    solution('''
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
''', "tree-busiest"),
    check('''
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
''', "tree-busiest-check", 2),
    code("""
# Not graded: the tree of a real run, and which M created the most.
if LIVE:
    r = threads.observe(LABS / "threads_syscalls", args=("6",))
    print("busiest creator is a real M of the run:", busiest_creator(r.ms) in {m.m for m in r.ms})
    display(tviz.creation_tree(r))
"""),
]

write("exercises/04_newosproc_threads_exercises.ipynb", hook_cells)
write("exercises/04_creation_tree_exercises.ipynb", tree_cells)
