"""The hook's source: a patched ``proc.go`` and three added runtime files, mapped
into a build with ``go build -overlay``.

:func:`patch` reads ``proc.go`` of the chosen toolchain, splices six calls
into it, found by the structure of the functions, never by line number:
three for the thread records, and three that start and stop the runtime's
execution trace when ``$GORUN_KIT_EXECTRACE`` names a file. It adds the
files made from ``gorun_kit/_src/runtime_patches/*.go.tmpl``;
the generated files go into the kit's cache and an overlay JSON maps them into
``GOROOT/src/runtime``. GOROOT itself is only read.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Sequence

from .. import _src
from ..build import Binary, build_go, write_overlay
from ..cache import store_text
from ..records import Record
from ..toolchain import GoToolchain, find_go

__all__ = ["ENV", "EXECTRACE_ENV", "SUPPORTED", "CALLERS_EXTENSION", "UnsupportedRelease", "Anchor", "ANCHORS", "Patch",
           "default_extension", "patch", "build", "SEED_PATCH", "seed_patch_attempt"]

ENV = "GORUN_KIT_THREADS"  # the variable naming where a hooked program writes its records
# the variable naming the file a hooked program writes the runtime's execution trace to
EXECTRACE_ENV = "GORUN_KIT_EXECTRACE"
SUPPORTED = ("1.22", "1.23", "1.24", "1.25", "1.26", "1.27")
TEMPLATE = _src.source("runtime_patches", "threads_hook.go.tmpl")
EXTENSION_TEMPLATE = TEMPLATE.with_name("threads_ext.go.tmpl")
HOOK_FILE = "gorunkit_threads_hook.go"  # the names the added files have inside GOROOT/src/runtime
EXT_FILE = "gorunkit_threads_ext.go"
EXECTRACE_TEMPLATE = TEMPLATE.with_name("exectrace.go.tmpl")
EXECTRACE_FILE = "gorunkit_exectrace.go"
# A ready-made extension: each "new" record gets via=<the call chain into newm>.
CALLERS_EXTENSION = TEMPLATE.with_name("threads_ext_callers.go.tmpl")
_CACHE_AREA = "threads"


class UnsupportedRelease(RuntimeError):
    """The toolchain's runtime does not have the shape the hook needs."""

    def __init__(self, tc: GoToolchain, why: str):
        super().__init__(
            f"the thread hook cannot patch {tc.version} ({tc.goroot}): {why}. "
            f"Supported releases: Go {', '.join(SUPPORTED)} on linux/amd64; "
            f"install one with gorun_kit.goreleases.install('{SUPPORTED[-1]}') and pass it as go=")
        self.version = tc.version


@dataclasses.dataclass(frozen=True)
class Anchor:
    """One splice: in function ``func`` of proc.go, after the line matching ``line``."""

    func: str  # regex for the func line
    line: str  # regex for the anchor line inside the body ("" = the func line itself)
    call: str  # the Go statement appended to that line


ANCHORS = (
    Anchor(r"^func newm\(fn func\(\), pp \*p, id int64\) \{$", r"^\s*mp := allocm\(pp, fn, id\)\s*$", "gorunkitThreadsNew(mp)"),
    Anchor(r"^func newm1\(mp \*m\) \{$", "", "gorunkitThreadsClone(mp)"),
    Anchor(r"^func mstart1\(\) \{$", r"^\s*minit\(\)\s*$", "gorunkitThreadsStart()"),
    # The execution trace (exectrace.go.tmpl): started once the scheduler runs
    # and before the program's own init; stopped on both ways out that run Go code.
    Anchor(r"^func main\(\) \{$", r"^\s*gcenable\(\)\s*$", "gorunkitExecTraceStart()"),
    Anchor(r"^func main\(\) \{$", r"^\s*fn\(\)\s*$", "gorunkitExecTraceStop()"),
    Anchor(r"^func os_beforeExit\(exitCode int\) \{$", "", "gorunkitExecTraceStop()"),
)


@dataclasses.dataclass(frozen=True)
class Patch(Record):
    """The generated files of one toolchain's hook and the overlay that maps them."""

    go_version: str
    overlay: str  # the -overlay JSON
    replace: tuple[tuple[str, str], ...]  # (path in GOROOT, generated file)
    spliced: tuple[tuple[str, int], ...]  # (anchor call, line number in proc.go)


def _series(tc: GoToolchain) -> str:
    major, minor = tc.version_tuple[:2]
    return f"{major}.{minor}"


def _import_path(tc: GoToolchain, files: Sequence[str], pattern: str) -> str:
    """The import path matching ``pattern`` that runtime's ``files`` use
    (internal packages moved between releases)."""
    rx = re.compile(rf'^\s*(?:\w+\s+)?"({pattern})"\s*$', re.M)
    for name in files:
        m = rx.search(tc.src("runtime", name).read_text())
        if m:
            return m.group(1)
    raise UnsupportedRelease(tc, f"no import matching {pattern!r} in runtime/{', '.join(files)}")


def _function(tc: GoToolchain, lines: Sequence[str], func: str) -> tuple[int, int]:
    """(index of the func line, index of its closing brace) of the one function matching ``func``."""
    fx = re.compile(func)
    starts = [i for i, line in enumerate(lines) if fx.match(line)]
    if len(starts) != 1:
        raise UnsupportedRelease(tc, f"proc.go has {len(starts)} functions matching {func!r} (need one)")
    start = starts[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("}")), None)
    if end is None:
        raise UnsupportedRelease(tc, f"function at proc.go:{start + 1} has no closing brace")
    return start, end


def _anchor_line(tc: GoToolchain, lines: Sequence[str], anchor: Anchor) -> int:
    """The index of the line ``anchor``'s call is appended to."""
    start, end = _function(tc, lines, anchor.func)
    if not anchor.line:
        return start
    lx = re.compile(anchor.line)
    hits = [i for i in range(start + 1, end) if lx.match(lines[i])]
    if len(hits) != 1:
        raise UnsupportedRelease(tc, f"proc.go: {lines[start].strip()} has {len(hits)} lines matching {anchor.line!r} "
                                     "(need one)")
    return hits[0]


def _splice(tc: GoToolchain, text: str) -> tuple[str, list[tuple[str, int]]]:
    """proc.go with every anchor's call spliced in, and (call, line number) of each."""
    lines = text.split("\n")
    spliced = []
    for anchor in ANCHORS:
        at = _anchor_line(tc, lines, anchor)
        # Appended to the same line, so every later line keeps its number and
        # tracebacks of the patched program name the same proc.go lines.
        lines[at] = lines[at] + ("; " if anchor.line else " ") + anchor.call
        spliced.append((anchor.call, at + 1))
    return "\n".join(lines), spliced


def default_extension() -> str:
    """The Go source of the extension point as shipped: two empty functions."""
    return EXTENSION_TEMPLATE.read_text()


def _check_release(tc: GoToolchain) -> Path:
    """proc.go of ``tc``, after checking the release is one the hook can patch."""
    if _series(tc) not in SUPPORTED:
        raise UnsupportedRelease(tc, f"Go {_series(tc)} is not a supported release")
    if (tc.goos, tc.goarch) != ("linux", "amd64"):
        raise UnsupportedRelease(tc, f"the hook reads the FS base with arch_prctl, so it needs linux/amd64, not {tc.goos}/{tc.goarch}")
    proc_go = tc.src("runtime", "proc.go")
    if not proc_go.is_file():
        raise UnsupportedRelease(tc, f"{proc_go} is missing")
    for name in (HOOK_FILE, EXT_FILE, EXECTRACE_FILE):
        if tc.src("runtime", name).exists():
            raise UnsupportedRelease(tc, f"GOROOT already has runtime/{name} (a patched GOROOT?)")
    return proc_go


def _hook_source(tc: GoToolchain, template: Path = TEMPLATE, env: str = ENV) -> str:
    """A runtime template with this release's import paths filled in."""
    hook = template.read_text()
    for key, value in {
        "@ENV@": env,
        "@ATOMIC@": _import_path(tc, ["proc.go", "os_linux.go"], r"(?:runtime/internal|internal/runtime)/atomic"),
        "@SYSCALL@": _import_path(tc, ["os_linux.go"], r"(?:runtime/internal|internal/runtime)/syscall(?:/linux)?"),
    }.items():
        hook = hook.replace(key, value)
    return hook


def patch(go: GoToolchain | None = None, *, extension: str | None = None) -> Patch:
    """Generate the patched proc.go and the hook files for ``go``; write the overlay.

    ``extension`` replaces the extension file (see
    ``gorun_kit/_src/runtime_patches/threads_ext.go.tmpl``): Go source of
    package runtime defining ``gorunkitExtendNew`` and ``gorunkitExtendStart``.

    Raises :class:`UnsupportedRelease` (naming the release and the supported
    ones) when the release is outside :data:`SUPPORTED`, is not linux/amd64,
    or lacks an anchor.
    """
    tc = go or find_go()
    proc_go = _check_release(tc)
    patched, spliced = _splice(tc, proc_go.read_text())
    ext = default_extension() if extension is None else extension
    if not re.search(r"^package runtime\b", ext, re.M):
        raise ValueError("extension: the Go source must start with 'package runtime' (start from "
                         "gorun_kit.threads.default_extension() and edit its two functions)")
    files = {str(proc_go): store_text(_CACHE_AREA, "proc.go", patched),
             str(tc.src("runtime", HOOK_FILE)): store_text(_CACHE_AREA, HOOK_FILE, _hook_source(tc)),
             str(tc.src("runtime", EXT_FILE)): store_text(_CACHE_AREA, EXT_FILE, ext),
             str(tc.src("runtime", EXECTRACE_FILE)): store_text(_CACHE_AREA, EXECTRACE_FILE,
                                                               _hook_source(tc, EXECTRACE_TEMPLATE, EXECTRACE_ENV))}
    overlay = write_overlay(files)
    return Patch(tc.version, str(overlay), tuple((k, str(v)) for k, v in files.items()), tuple(spliced))


def _uses_cgo(source: Path) -> bool:
    files = [source] if source.is_file() else sorted(source.glob("*.go"))
    return any(re.search(r'^import\s+"C"', f.read_text(errors="replace"), re.M) for f in files)


def build(program: str | os.PathLike, *, go: GoToolchain | None = None, cgo: bool | None = None,
          gocache: str | os.PathLike | None = None, extension: str | None = None) -> Binary:
    """Build ``program`` (a .go file or package directory) against the patched runtime.

    ``cgo`` defaults to whether the program imports "C". Raises
    :class:`~gorun_kit.build.BuildError` with the compiler's output.
    """
    src = Path(program).expanduser()
    if not src.exists():
        raise FileNotFoundError(f"Go program {os.fspath(program)!r} does not exist (give a .go file or a package directory)")
    tc = go or find_go()
    p = patch(tc, extension=extension)
    return build_go(src, overlay=p.overlay, cgo=_uses_cgo(src.resolve()) if cgo is None else cgo, go=tc, gocache=gocache)


# The seed's chapter 4.4 patch, quoted as printed (it calls this "inserted at
# the end of newm1"). Read generously -- the function at top level of proc.go
# and a call to it as the last statement of newm1 -- it still does not compile.
SEED_PATCH = """func traceThreadCreate(mp *m) {
    pid := getg().m.p.ptr().id
    fd, _ := openat(-1, "/proc/self/task/"+itoa(int64(mp.id)), 0, 0)
    if fd > 0 {
        defer closefd(fd)
        // 读取 /proc/self/task/[tid]/stat 获取线程状态
    }
}
"""


def seed_patch_attempt(program: str | os.PathLike, *, go: GoToolchain | None = None) -> Binary:
    """Build ``program`` with the seed's hook spliced into proc.go (and nothing of ours).

    Returns the binary if it compiles; the seed's code does not, so this
    raises :class:`~gorun_kit.build.BuildError` carrying the compiler's output.
    """
    tc = go or find_go()
    proc_go = tc.src("runtime", "proc.go")
    lines = proc_go.read_text().split("\n")
    _, end = _function(tc, lines, ANCHORS[1].func)
    lines[end] = "\ttraceThreadCreate(mp)\n}"
    patched = "\n".join(lines) + "\n" + SEED_PATCH
    overlay = write_overlay({str(proc_go): store_text(_CACHE_AREA, "proc.go", patched)})
    return build_go(program, overlay=overlay, go=tc)
