"""Generates chapter 1's exercise notebooks (nbgrader markup; run, then execute with nbconvert).

notebooks/exercises/01_runtime_blackbox_ex1_packages.ipynb   package of a symbol, runtime share
notebooks/exercises/01_runtime_blackbox_ex2_addresses.ipynb  which symbol holds an address
"""
from _nbgen import check, code, given, md, solution, write



ex1 = [
    md("""
# Chapter 1 · Exercise 1: whose code is it?

Go symbol names carry their package: `runtime.mstart1`, `fmt.Fprintln`,
`net/http.(*Server).Serve`, `sync/atomic.(*Pointer[net/http.conn]).Load`.
Chapter 1 summed function sizes per package to find out how much of hello
world is the runtime. Here you write the two functions that do it.

The checks call your functions on randomly generated names, then on the
symbols of a real binary built on your machine.
"""),
    given("""
from gorun_kit import nb

stamp = nb.stamp()
""", "ex1-stamp"),
    md("""
## 1. `package_of(name)`

Return the package path of a Go symbol name:

* the package is everything up to the **first dot after the last slash**,
* but only look *before* the first `[` -- generic instantiations put other
  packages' paths inside brackets (`sync/atomic.(*Pointer[net/http.conn]).Load`
  belongs to `sync/atomic`);
* names made by the linker keep their prefix: `type:.eq.main.T` → `"type:"`,
  `go:buildid` → `"go:"`;
* a name with no dot at all (assembly helpers such as `gogo`) → `""`.
"""),
    solution('''
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
''', "ex1-package-of"),
    check('''
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
''', "ex1-package-of-check", 3),
    md("""
## 2. `runtime_share(functions)`

`functions` is a list of `(name, size)` pairs, one per function in `.text`.
Return the fraction of all bytes that belongs to the runtime: package
`runtime` itself plus the packages it was split into, whose paths start with
`runtime/` or `internal/runtime/`. (Not `runtimex`, and not `main.runtime`.)
An empty list has share `0.0`.
"""),
    solution('''
def runtime_share(functions) -> float:
    """Fraction of the bytes in ``functions`` ((name, size) pairs) that is runtime code."""
    ### BEGIN SOLUTION
    def is_runtime(pkg):
        return pkg == "runtime" or pkg.startswith(("runtime/", "internal/runtime/"))
    total = sum(size for _, size in functions)
    rt = sum(size for name, size in functions if is_runtime(package_of(name)))
    return rt / total if total else 0.0
    ### END SOLUTION
''', "ex1-runtime-share"),
    check('''
import math

for _ in range(200):
    funcs, expect_rt = [], 0
    for _ in range(rng.randint(1, 40)):
        pkg = rng.choice(["runtime", "runtime/cgo", "internal/runtime/maps", "runtimex", "fmt",
                          "main", "internal/abi", pkg_path()])
        size = rng.randint(1, 5000)
        funcs.append((f"{pkg}.{segment()}", size))
        if pkg == "runtime" or pkg.startswith(("runtime/", "internal/runtime/")):
            expect_rt += size
    total = sum(s for _, s in funcs)
    assert math.isclose(runtime_share(funcs), expect_rt / total), funcs
assert runtime_share([]) == 0.0
print("runtime_share: random symbol tables pass")
''', "ex1-runtime-share-check", 2),
    md("""
## 3. On a real binary

The last check builds `labs_go/ch1_hello`, reads its functions with
`gorun_kit.binary.read_symbols`, and compares your answer with the course's.
"""),
    check('''
from pathlib import Path
import gorun_kit
from gorun_kit import binary
from gorun_kit.build import build_go

if nb.live("go"):
    exe = build_go(Path(gorun_kit.__file__).resolve().parents[1] / "labs_go" / "ch1_hello").path
    seen, funcs = set(), []
    for s in binary.read_symbols(exe):
        if s.kind == "func" and s.address not in seen and s.package != binary.C_CODE:
            seen.add(s.address)
            funcs.append((s.name, s.size))
    mine, course = runtime_share(funcs), binary.read_binary(exe).runtime_share
    assert abs(mine - course) < 0.01, (mine, course)
    print(f"hello world is more than half runtime: {mine > 0.5}")
''', "ex1-real-binary-check", 1),
]


ex2 = [
    md("""
# Chapter 1 · Exercise 2: which symbol holds this address?

Chapter 1 named the threads of an idle program by the address each one waits
on: `/proc/<pid>/task/<tid>/syscall` gave `futex(0x577ca0, ...)`, and the
symbol table said that address lies inside `runtime.sched`. Here you write
that lookup.
"""),
    given("""
from gorun_kit import nb

stamp = nb.stamp()
""", "ex2-stamp"),
    md("""
## `symbol_containing(symbols, address)`

`symbols` is a list of `(start, size, name)` tuples **sorted by start**, not
overlapping. Return the `name` of the symbol with
`start <= address < start + size`, or `None` if the address falls in a gap
or outside every symbol. Symbol tables have tens of thousands of entries:
use binary search (`bisect`), not a scan.
"""),
    solution('''
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
''', "ex2-symbol-containing"),
    check('''
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
''', "ex2-symbol-containing-check", 3),
    md("""
## On a real binary

The check takes the data symbols (global variables) of `labs_go/ch1_idle`,
picks random addresses inside random variables, and asks your function for
the name; `runtime.sched` and `runtime.m0` are always among them.
"""),
    check('''
from pathlib import Path
import gorun_kit
from gorun_kit import binary
from gorun_kit.build import build_go

if nb.live("go"):
    exe = build_go(Path(gorun_kit.__file__).resolve().parents[1] / "labs_go" / "ch1_idle").path
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
''', "ex2-real-binary-check", 2),
]

write("exercises/01_runtime_blackbox_ex1_packages.ipynb", ex1)
write("exercises/01_runtime_blackbox_ex2_addresses.ipynb", ex2)
