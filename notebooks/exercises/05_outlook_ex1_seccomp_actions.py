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
# # Chapter 5 · Exercise 1: what does a seccomp filter answer?
#
# A seccomp filter returns one 32-bit value per system call. The top 16 bits
# are the **action** (allow, fail with an errno, stop for a tracer, kill...),
# the low 16 bits are **data** for it: the errno for `SECCOMP_RET_ERRNO`, a
# value the tracer can read for `SECCOMP_RET_TRACE`. Chapter 5's launcher
# returns `SECCOMP_RET_ERRNO | EPERM`; the course's tracer returns
# `SECCOMP_RET_TRACE`.

# %% nbgrader={"grade": false, "grade_id": "ex1-stamp", "locked": true, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("05_outlook_ex1_seccomp_actions")

# %% nbgrader={"grade": false, "grade_id": "ex1-constants", "locked": true, "schema_version": 3, "solution": false, "task": false}
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


# %% [markdown]
# ## `decode_action(value)`
#
# Return `(name, data)`: `name` is the action's name without the prefix
# (`"ERRNO"`, `"TRACE"`, `"ALLOW"`, `"KILL_PROCESS"`, `"KILL_THREAD"`, `"TRAP"`,
# `"USER_NOTIF"`, `"LOG"`), `data` the low 16 bits. The action is
# `value & SECCOMP_RET_ACTION_FULL`. The kernel treats an action it does not
# know as `KILL_PROCESS`; do the same (and keep the data).

# %% nbgrader={"grade": false, "grade_id": "ex1-decode", "locked": false, "schema_version": 3, "solution": true, "task": false}
def decode_action(value: int) -> tuple[str, int]:
    """(action name, 16-bit data) of a seccomp filter's return value."""
    ### BEGIN SOLUTION
    names = {SECCOMP_RET_KILL_PROCESS: "KILL_PROCESS", SECCOMP_RET_KILL_THREAD: "KILL_THREAD",
             SECCOMP_RET_TRAP: "TRAP", SECCOMP_RET_ERRNO: "ERRNO", SECCOMP_RET_USER_NOTIF: "USER_NOTIF",
             SECCOMP_RET_TRACE: "TRACE", SECCOMP_RET_LOG: "LOG", SECCOMP_RET_ALLOW: "ALLOW"}
    return names.get(value & SECCOMP_RET_ACTION_FULL, "KILL_PROCESS"), value & SECCOMP_RET_DATA
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1-decode-check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
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

# %% [markdown]
# ## The two filters of this course
#
# The check reads the `SECCOMP_RET_...` constants each C lab returns, evaluates
# them with your function, and expects the launcher to answer `ERRNO` with
# `EPERM` and the tracer to answer `TRACE`.

# %% nbgrader={"grade": true, "grade_id": "ex1-labs-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import _src
from gorun_kit.course.files import course_path

names = {"SECCOMP_RET_ERRNO": SECCOMP_RET_ERRNO, "SECCOMP_RET_TRACE": SECCOMP_RET_TRACE,
         "SECCOMP_RET_ALLOW": SECCOMP_RET_ALLOW, "SECCOMP_RET_KILL_PROCESS": SECCOMP_RET_KILL_PROCESS,
         "EPERM": errno.EPERM}

def returns(path):
    text = path.read_text()
    found = set()
    for expr in re.findall(r"BPF_RET \| BPF_K, ([A-Z_| ]+)\)", text):
        words = [w.strip() for w in expr.split("|")]
        if all(w in names for w in words):  # skip constants this exercise does not list
            value = 0
            for word in words:
                value |= names[word]
            found.add(decode_action(value))
    return found

deny = returns(course_path("labs_c/seccomp_deny/seccomp_deny.c"))
assert ("ERRNO", errno.EPERM) in deny and ("ALLOW", 0) in deny, deny
print("seccomp_deny answers ERRNO/EPERM:", ("ERRNO", errno.EPERM) in deny)
assert ("TRACE", 0) in returns(_src.source("tracer", "tracer.c"))  # the kit's production tracer
print("the tracer answers TRACE:", True)


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("05_outlook_ex1_seccomp_actions", globals())
