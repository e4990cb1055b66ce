"""The scheduler code around thread creation, read from the installed GOROOT.

Three things chapter 4 shows from the release in use rather than from memory:

* :func:`syscall_retake` -- how sysmon finds a P whose goroutine is stuck in
  a system call, as this release's ``retake`` does it (Go 1.27 keeps such a P
  in ``_Prunning`` and looks at the goroutine's ``_Gsyscall``; earlier
  releases parked the P in ``_Psyscall``);
* :func:`runtime_allocation_rules` -- what the compiler refuses in package
  runtime, by compiling a nine-function file *as* package runtime
  (``go tool compile -std -p runtime``, a fraction of a second);
* :func:`hook_diff` -- the hook's splices as a unified diff against the
  release's ``proc.go``.

Each raises :class:`~gorun_kit.goroot.SourceNotFound` when the source no
longer has the shape it describes, so a notebook cell built on it fails
instead of printing a stale story.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import shutil
import subprocess
from pathlib import Path

from .. import goroot
from ..cache import scratch_dir
from ..records import Record
from ..toolchain import GoToolchain, find_go, go_env
from .hook import Patch

__all__ = ["RetakeMechanism", "syscall_retake", "AllocationRules", "runtime_allocation_rules",
           "ALLOCATION_PROBE", "ALLOCATOR_CALLS", "hook_calls", "hook_diff"]


@dataclasses.dataclass(frozen=True)
class RetakeMechanism(Record):
    """How this release's sysmon takes a P from a goroutine blocked in a syscall.

    ``style`` is ``"goroutine-state"`` (the P stays ``_Prunning``; ``retake``
    asks ``setBlockOnExitSyscall`` whether its goroutine is in ``_Gsyscall``)
    or ``"p-state"`` (the P itself is ``_Psyscall``). ``steps`` are the source
    lines that show it, in the order ``retake`` runs them."""

    go_version: str
    style: str
    p_states: tuple[goroot.Citation, ...]  # the P status constants as runtime2.go declares them
    steps: tuple[tuple[str, goroot.Citation], ...]  # (what the line does, the line)


def _line_in(func: goroot.Citation, pattern: str, what: str, tc: GoToolchain) -> tuple[str, goroot.Citation]:
    """The first line of ``func``'s body matching ``pattern``, as a step."""
    body = goroot.func_source(func, max_lines=400, toolchain=tc).splitlines()
    rx = re.compile(pattern)
    for i, line in enumerate(body):
        if rx.search(line):
            return what, goroot.Citation(func.file, func.line + i, func.symbol, line.strip(), func.go_version)
    raise goroot.SourceNotFound(f"{func.symbol} ({func.file}:{func.line}) has no line matching {pattern!r} "
                                f"in {func.go_version}: the retake mechanism changed")


def syscall_retake(go: GoToolchain | None = None) -> RetakeMechanism:
    """The retake mechanism of ``go``'s runtime, with the lines that implement it.

    Raises :class:`~gorun_kit.goroot.SourceNotFound` when neither known shape
    is in the source.
    """
    tc = go or find_go()
    states = tuple(c for c in goroot.grep(r"^\s*_P(idle|running|syscall\w*|gcstop|dead)\b", toolchain=tc)
                   if c.file.endswith("runtime2.go"))
    retake = goroot.find_func("retake", toolchain=tc)
    source = goroot.func_source(retake, max_lines=400, toolchain=tc)
    if "setBlockOnExitSyscall(" in source:
        block = goroot.find_func("setBlockOnExitSyscall", toolchain=tc)
        steps = (
            _line_in(retake, r"!= _Prunning", "retake skips every P that is not _Prunning", tc),
            _line_in(retake, r"setBlockOnExitSyscall\(pp\)", "for a running P, ask whether its goroutine is in a syscall", tc),
            _line_in(block, r"status != _Gsyscall", "the test is on the goroutine's state, not the P's", tc),
            _line_in(retake, r"thread\.takeP\(\)", "take the P from the thread in the syscall", tc),
            _line_in(retake, r"^\s*handoffp\(pp\)", "hand it on: handoffp -> startm -> (newm if no idle M)", tc),
        )
        if not any("_Psyscall_unused" in c.text for c in states):
            raise goroot.SourceNotFound(f"runtime2.go of {tc.version} has no _Psyscall_unused next to "
                                        "setBlockOnExitSyscall: the P states changed")
        return RetakeMechanism(tc.version, "goroutine-state", states, steps)
    steps = (
        _line_in(retake, r"s == _Psyscall", "retake looks for Ps in _Psyscall", tc),
        _line_in(retake, r"atomic\.Cas\(&pp\.status, s, _Pidle\)", "take the P by moving it to _Pidle", tc),
        _line_in(retake, r"^\s*handoffp\(pp\)", "hand it on: handoffp -> startm -> (newm if no idle M)", tc),
    )
    return RetakeMechanism(tc.version, "p-state", states, steps)


# Nine functions compiled as package runtime. The compiler rejects two: a
# named local that has to move to the heap (escape analysis, ONAME only) and a
# heap closure (ir.ClosureDebugRuntimeCheck, which exempts go-statement
# closures). Every other heap allocation compiles: explicit new and make, and
# the implicit ones -- string +, append, boxing into an interface, a
# []byte(string) copy, the closure of a go statement.
ALLOCATION_PROBE = """package runtime

var sinkp *int
var sinks []byte
var sinkf func() int
var sinkstr string
var sinki any

func implicitEscape() {
	x := 1
	sinkp = &x // x would have to move to the heap
}

func heapClosure() {
	y := 2
	sinkf = func() int { return y } // the closure outlives this frame
}

func explicitNew() {
	sinkp = new(int)
}

func explicitMake(n int) {
	sinks = make([]byte, n)
}

func implicitConcat(a, b string) {
	sinkstr = a + b // the result is a new heap string
}

func implicitAppend(b byte) {
	sinks = append(sinks, b) // growslice when the array is full
}

func implicitBox(n int) {
	sinki = n // n is boxed on the heap (convT64)
}

func implicitBytes(s string) {
	sinks = []byte(s) // a heap copy of s
}

func goClosure(s string) {
	go func() { sinkstr = s }() // the closure of a go statement is exempt
}
"""


@dataclasses.dataclass(frozen=True)
class AllocationRules(Record):
    """What ``go tool compile -std -p runtime -m`` says about :data:`ALLOCATION_PROBE`.

    ``errors`` / ``escapes`` are (function, message) pairs: the compile
    errors, and the ``-m`` "escapes to heap" notes (a function with an error
    is rejected, one with only notes accepted). ``as_other``
    is the exit status of the same file compiled as an ordinary package."""

    go_version: str
    exit_status: int
    errors: tuple[tuple[str, str], ...]
    escapes: tuple[tuple[str, str], ...]
    as_other: int
    enforced_at: tuple[goroot.Citation, ...]  # the compiler lines that raise the errors

    def rejected(self) -> set[str]:
        return {f for f, _ in self.errors}

    def accepted(self) -> set[str]:
        return {f for f, _ in self.escapes} - self.rejected()


_DIAG = re.compile(r"^[^:]*probe\.go:(\d+):\d+: (.*)$")


def _check_in(pkg: str, tc: GoToolchain) -> goroot.Citation:
    """The first line of compiler package ``pkg`` that raises a "not allowed in runtime" error."""
    hits = goroot.grep(r"not allowed in runtime", pkg, toolchain=tc, suffixes=(".go",))
    if not hits:
        raise goroot.SourceNotFound(f"src/{pkg} of {tc.version} has no 'not allowed in runtime' error: "
                                    "the compiler's checks changed")
    return hits[0]


def runtime_allocation_rules(go: GoToolchain | None = None) -> AllocationRules:
    """Compile :data:`ALLOCATION_PROBE` as package runtime and as another package.

    Takes a fraction of a second (one file, no dependencies); nothing is
    left behind. Raises :class:`~gorun_kit.goroot.SourceNotFound` when the
    compiler no longer has the two checks.
    """
    tc = go or find_go()
    enforced = tuple(_check_in(pkg, tc) for pkg in ("cmd/compile/internal/escape", "cmd/compile/internal/ir"))
    lines = ALLOCATION_PROBE.splitlines()

    def func_at(n: int) -> str:
        return next((l.split()[1].split("(")[0] for l in reversed(lines[:n]) if l.startswith("func ")), "?")

    work = scratch_dir("threads/allocprobe", "probe")
    try:
        src = Path(work, "probe.go")
        src.write_text(ALLOCATION_PROBE)
        env = go_env(toolchain=tc)

        def compile_as(pkg: str, *flags: str) -> subprocess.CompletedProcess:
            return subprocess.run([tc.go, "tool", "compile", "-std", "-p", pkg, *flags, "-o", str(work / "probe.o"),
                                   str(src)], cwd=work, env=env, capture_output=True, text=True, timeout=120)

        done = compile_as("runtime", "-m")
        other = compile_as("example.com/probe")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    errors, escapes = [], []
    for line in (done.stdout + done.stderr).splitlines():
        m = _DIAG.match(line)
        if not m:
            continue
        where, msg = func_at(int(m.group(1))), m.group(2)
        if "not allowed in runtime" in msg:
            errors.append((where, msg))
        elif "escapes to heap" in msg and "does not" not in msg:
            escapes.append((where, msg))
    return AllocationRules(tc.version, done.returncode, tuple(errors), tuple(escapes), other.returncode, enforced)


def hook_diff(p: Patch, *, context: int = 2, go: GoToolchain | None = None) -> str:
    """The hook's changes to ``proc.go`` as a unified diff against the release's file.

    ``go`` is the toolchain ``p`` was made for (default :func:`find_go`);
    raises ValueError when ``p`` replaces no ``proc.go`` of its GOROOT."""
    tc = go or find_go()
    original = next((orig for orig, _ in p.replace if orig.endswith("/runtime/proc.go")), None)
    if original is None:
        raise ValueError("this patch does not replace runtime/proc.go")
    if not Path(original).is_relative_to(tc.goroot):
        raise ValueError(f"this patch is for {p.go_version} ({original}), not {tc.version} ({tc.goroot}): "
                         "pass the patch's toolchain as go=")
    patched = dict(p.replace)[original]
    old = Path(original).read_text().splitlines(keepends=True)
    new = Path(patched).read_text().splitlines(keepends=True)
    rel = str(Path(original).relative_to(tc.goroot))
    return "".join(difflib.unified_diff(old, new, f"{rel} ({tc.version})", f"{rel} (with the hook)", n=context))


# The runtime functions compiled code calls to allocate on the heap, or to
# run a write barrier.
ALLOCATOR_CALLS = re.compile(r"^runtime\.(mallocgc\w*|newobject|makeslice\w*|growslice|concatstring\w*|convT\w*"
                             r"|rawstring\w*|rawbyteslice|slicebytetostring|stringtoslice\w*|gcWriteBarrier\w*)"
                             r"(\.abi0)?$")


def hook_calls(binary: str | Path, *, prefix: str = "gorunkit",
               exclude: str = "gorunkitExecTrace") -> dict[str, tuple[str, ...]]:
    """The functions each compiled function of the hook calls directly.

    Disassembles ``binary`` with GNU objdump and returns, for every function
    whose symbol contains ``prefix`` (``runtime.gorunkitThreadsStart``,
    ``runtime.(*gorunkitLine).dec``, ...) and not ``exclude``, the sorted
    distinct targets of its ``call`` instructions. The default ``exclude``
    leaves out the execution-trace starter (exectrace.go.tmpl): it runs on an
    ordinary goroutine in ``runtime.main`` and ``os.Exit``, where allocating
    is allowed, not on the paths that create threads. Match the values against :data:`ALLOCATOR_CALLS`
    to see whether the hook calls the allocator or a write barrier. Direct
    calls only: what the callees do is not followed. Raises
    :class:`~gorun_kit.binary.ToolchainMissing` without objdump and
    ValueError when no function matches ``prefix``.
    """
    from ..binary import ToolchainMissing

    objdump = shutil.which("objdump")
    if objdump is None:
        raise ToolchainMissing("objdump", "looked for objdump on PATH; it comes with binutils")
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(binary)], capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL, check=True).stdout
    header = re.compile(r"^[0-9a-f]+ <(.+)>:$")
    # older binutils print the AT&T mnemonic with its size suffix: "callq"
    call = re.compile(r"\tcallq?\s+[0-9a-f]+ <([^>+]+)(?:\+0x[0-9a-f]+)?>")
    found: dict[str, set[str]] = {}
    current = None
    for line in out.splitlines():
        h = header.match(line)
        if h:
            current = h.group(1) if prefix in h.group(1) and not (exclude and exclude in h.group(1)) else None
            if current:
                found.setdefault(current, set())
            continue
        if current:
            c = call.search(line)
            if c:
                found[current].add(c.group(1))
    if not found:
        raise ValueError(f"{binary}: no function whose symbol contains {prefix!r}")
    return {f: tuple(sorted(v)) for f, v in found.items()}
