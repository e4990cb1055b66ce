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
# # Chapter 1 · Exercise 1: whose code is it?
#
# Go symbol names carry their package: `runtime.mstart1`, `fmt.Fprintln`,
# `net/http.(*Server).Serve`, `sync/atomic.(*Pointer[net/http.conn]).Load`.
# Chapter 1 summed function sizes per package to find out how much of hello
# world is the runtime. Here you write the two functions that do it.
#
# The checks call your functions on randomly generated names, then on the
# symbols of a real binary built on your machine.

# %% nbgrader={"grade": false, "grade_id": "ex1-stamp", "locked": true, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import nb
from gorun_kit.course import variant

stamp = nb.stamp()
_ = variant.show("01_runtime_blackbox_ex1_packages")


# %% [markdown]
# ## 1. `package_of(name)`
#
# Return the package path of a Go symbol name:
#
# * the package is everything up to the **first dot after the last slash**,
# * but only look *before* the first `[` -- generic instantiations put other
#   packages' paths inside brackets (`sync/atomic.(*Pointer[net/http.conn]).Load`
#   belongs to `sync/atomic`);
# * names made by the linker keep their prefix: `type:.eq.main.T` → `"type:"`,
#   `go:buildid` → `"go:"`;
# * a name with no dot at all (assembly helpers such as `gogo`) → `""`.

# %% nbgrader={"grade": false, "grade_id": "ex1-package-of", "locked": false, "schema_version": 3, "solution": true, "task": false}
def package_of(name: str) -> str:
    """The package path in the Go symbol ``name`` ("" when it has none)."""
    ### BEGIN SOLUTION
    for prefix in ("type:", "go:"):
        if name.startswith(prefix):
            return prefix
    head = name.split("[", 1)[0]
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    return head[:dot] if dot > 0 else ""
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1-package-of-check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import random
import string

rng = random.Random()

def segment():
    return rng.choice(string.ascii_lowercase) + "".join(
        rng.choice(string.ascii_lowercase + string.digits + "_") for _ in range(rng.randint(0, 7)))

def pkg_path():
    return "/".join(segment() for _ in range(rng.randint(1, 4)))

for _ in range(300):
    pkg, fn = pkg_path(), segment()
    assert package_of(f"{pkg}.{fn}") == pkg, (pkg, fn)
    assert package_of(f"{pkg}.(*{fn.capitalize()}).{segment()}") == pkg
    assert package_of(f"{pkg}.{fn}.func{rng.randint(1, 9)}") == pkg
assert package_of("gogo") == ""
print("package_of: plain functions, methods and closures pass")
### BEGIN HIDDEN TESTS
for _ in range(300):
    pkg, other = pkg_path(), pkg_path()
    assert package_of(f"{pkg}.(*Box[{other}.T]).Get") == pkg, (pkg, other)
    assert package_of(f"{pkg}.Map[go.shape.{segment()},{other}.V]") == pkg
assert package_of("type:.eq.main.T") == "type:"
assert package_of("go:buildid") == "go:"
assert package_of("vendor/golang.org/x/net/http2/hpack.(*Decoder).Write") == "vendor/golang.org/x/net/http2/hpack"
### END HIDDEN TESTS

# %% [markdown]
# ## 2. `runtime_share(functions)`
#
# `functions` is a list of `(name, size)` pairs, one per function in `.text`.
# Return the fraction of all bytes that belongs to the runtime: package
# `runtime` itself plus the runtime-internal packages, whose paths start with
# `internal/runtime/`. (Not `runtime/cgo` or `runtime/debug`, which are packages
# of their own; not `runtimex`, and not `main.runtime`.)
# An empty list has share `0.0`.

# %% nbgrader={"grade": false, "grade_id": "ex1-runtime-share", "locked": false, "schema_version": 3, "solution": true, "task": false}
def runtime_share(functions) -> float:
    """Fraction of the bytes in ``functions`` ((name, size) pairs) that is runtime code."""
    ### BEGIN SOLUTION
    def is_runtime(pkg):
        return pkg == "runtime" or pkg.startswith("internal/runtime/")
    total = sum(size for _, size in functions)
    rt = sum(size for name, size in functions if is_runtime(package_of(name)))
    return rt / total if total else 0.0
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1-runtime-share-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import math

for _ in range(200):
    funcs, expect_rt = [], 0
    for _ in range(rng.randint(1, 40)):
        pkg = rng.choice(["runtime", "runtime/cgo", "internal/runtime/maps", "runtimex", "fmt",
                          "main", "internal/abi", pkg_path()])
        size = rng.randint(1, 5000)
        funcs.append((f"{pkg}.{segment()}", size))
        if pkg == "runtime" or pkg.startswith("internal/runtime/"):
            expect_rt += size
    total = sum(s for _, s in funcs)
    assert math.isclose(runtime_share(funcs), expect_rt / total), funcs
assert runtime_share([]) == 0.0
print("runtime_share: random symbol tables pass")

# %% [markdown]
# ## 3. On a real binary
#
# The last check builds `labs_go/ch1_hello`, reads its functions with
# `gorun_kit.binary.read_symbols`, and compares your answer with the course's.

# %% nbgrader={"grade": true, "grade_id": "ex1-real-binary-check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from gorun_kit import binary
from gorun_kit.build import build_go
from gorun_kit.course.files import course_path

if nb.live("go"):
    exe = build_go(course_path("labs_go/ch1_hello")).path
    seen, funcs = set(), []
    for s in binary.read_symbols(exe):
        if s.kind == "func" and s.address not in seen and s.package != binary.C_CODE:
            seen.add(s.address)
            funcs.append((s.name, s.size))
    mine, course = runtime_share(funcs), binary.read_binary(exe).runtime_share
    assert abs(mine - course) < 0.01, (mine, course)
    print(f"hello world is more than half runtime: {mine > 0.5}")


# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("01_runtime_blackbox_ex1_packages", globals())
