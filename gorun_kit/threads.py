"""The thread-creation hook: a patched runtime built with ``go build -overlay``.

:func:`patch` reads ``proc.go`` of the chosen toolchain, splices three calls
into it (found by the structure of the functions, never by line number) and
adds the hook file ``labs_go/runtime_patches/threads_hook.go.tmpl``; both go
into the cache and an overlay JSON maps them into ``GOROOT/src/runtime``.
GOROOT itself is only read.

The hook writes one text line per event to the destination named by
``$GORUN_KIT_THREADS``: ``fd:N`` (an inherited descriptor, open for writing,
N >= 3) or an absolute file path (created, appended to). Records never go into
the program's own stdout or stderr: ``fd:0``-``fd:2``, a descriptor that is not
open for writing, a path that cannot be opened, or a destination that is the
same file as fd 1 or 2 is refused when the hook first opens it -- one line on
stderr names the value and what to give instead, recording is off, and the
program runs on unchanged. The records:

* ``new``   -- in ``newm`` after ``allocm``: the new M's id, the M and thread
  that asked for it, and the M's start function (``runtime.sysmon``,
  ``runtime.templateThread``, ``runtime.mspinning`` or ``none``);
* ``clone`` -- at the top of ``newm1``: the M and thread that create the OS
  thread (the template thread when the asker was locked to its thread);
* ``start`` -- in ``mstart1`` right after ``minit``, on the new thread: its M
  id, kernel tid (``gettid``), g0 stack bounds, FS and GS base (``arch_prctl``).

Each with a ``nanotime`` stamp (CLOCK_MONOTONIC). Without the variable a
patched program behaves exactly as an unpatched one.

:func:`observe` builds and runs a program with the hook and cross-checks what
it reports against the kernel: the CLONE_THREAD children a tracer saw, the
tasks in ``/proc/<pid>/task``, and ``GODEBUG=schedtrace``'s ``threads=``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from . import _src
from .build import Binary, build_go, cache_dir, write_overlay
from .sessions import children_of, kill_with_tracees
from .toolchain import GoToolchain, find_go, go_env

__all__ = [
    "ENV", "SUPPORTED", "UnsupportedRelease", "Patch", "MRecord", "CrossCheck", "ThreadReport",
    "patch", "build", "parse_records", "observe", "seed_patch_attempt", "CALLERS_EXTENSION",
]

ENV = "GORUN_KIT_THREADS"
SUPPORTED = ("1.22", "1.23", "1.24", "1.25", "1.26", "1.27")
TEMPLATE = _src.source("runtime_patches", "threads_hook.go.tmpl")
EXTENSION_TEMPLATE = TEMPLATE.with_name("threads_ext.go.tmpl")
HOOK_FILE = "gorunkit_threads_hook.go"  # the names the added files have inside GOROOT/src/runtime
EXT_FILE = "gorunkit_threads_ext.go"
# A ready-made extension: each "new" record gets via=<the call chain into newm>.
CALLERS_EXTENSION = TEMPLATE.with_name("threads_ext_callers.go.tmpl")


class UnsupportedRelease(RuntimeError):
    """The toolchain's runtime does not have the shape the hook needs."""

    def __init__(self, tc: GoToolchain, why: str):
        super().__init__(
            f"the thread hook cannot patch {tc.version} ({tc.goroot}): {why}. "
            f"Supported releases: Go {', '.join(SUPPORTED)} on linux/amd64; "
            f"install one with gorun_kit.goreleases.install('{SUPPORTED[-1]}') and pass it as go=")
        self.version = tc.version


# ---------------------------------------------------------------------------
# the patch

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
)


@dataclasses.dataclass(frozen=True)
class Patch:
    """The generated files of one toolchain's hook and the overlay that maps them."""

    go_version: str
    overlay: str  # the -overlay JSON
    replace: tuple[tuple[str, str], ...]  # (path in GOROOT, generated file)
    spliced: tuple[tuple[str, int], ...]  # (anchor call, line number in proc.go)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _series(tc: GoToolchain) -> str:
    major, minor = tc.version_tuple[:2]
    return f"{major}.{minor}"


def _import_path(tc: GoToolchain, files: Sequence[str], pattern: str) -> str:
    rx = re.compile(rf'^\s*(?:\w+\s+)?"({pattern})"\s*$', re.M)
    for name in files:
        m = rx.search(tc.src("runtime", name).read_text())
        if m:
            return m.group(1)
    raise UnsupportedRelease(tc, f"no import matching {pattern!r} in runtime/{', '.join(files)}")


def _splice(tc: GoToolchain, text: str) -> tuple[str, list[tuple[str, int]]]:
    lines = text.split("\n")
    spliced = []
    for anchor in ANCHORS:
        fx = re.compile(anchor.func)
        starts = [i for i, l in enumerate(lines) if fx.match(l)]
        if len(starts) != 1:
            raise UnsupportedRelease(tc, f"proc.go has {len(starts)} functions matching {anchor.func!r} (need one)")
        start = starts[0]
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("}")), None)
        if end is None:
            raise UnsupportedRelease(tc, f"function at proc.go:{start + 1} has no closing brace")
        if anchor.line:
            lx = re.compile(anchor.line)
            hits = [i for i in range(start + 1, end) if lx.match(lines[i])]
            if len(hits) != 1:
                raise UnsupportedRelease(
                    tc, f"{lines[start].strip()} has {len(hits)} lines matching {anchor.line!r} (need one)")
            at = hits[0]
        else:
            at = start
        # Appended to the same line, so every later line keeps its number and
        # tracebacks of the patched program name the same proc.go lines.
        lines[at] = lines[at] + ("; " if anchor.line else " ") + anchor.call
        spliced.append((anchor.call, at + 1))
    return "\n".join(lines), spliced


def _store(text: str, name: str) -> Path:
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = cache_dir() / "threads" / digest[:16] / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{name}.{os.getpid()}.part")
        part.write_text(text)
        os.replace(part, path)
    return path


def default_extension() -> str:
    """The Go source of the extension point as shipped: two empty functions."""
    return EXTENSION_TEMPLATE.read_text()


def patch(go: GoToolchain | None = None, *, extension: str | None = None) -> Patch:
    """Generate the patched proc.go and the hook files for ``go``; write the overlay.

    ``extension`` replaces the extension file (see
    ``labs_go/runtime_patches/threads_ext.go.tmpl``): Go source of package
    runtime defining ``gorunkitExtendNew`` and ``gorunkitExtendStart``.

    Raises :class:`UnsupportedRelease` (naming the release and the supported
    ones) when the release is outside :data:`SUPPORTED`, is not linux/amd64,
    or lacks an anchor.
    """
    tc = go or find_go()
    if _series(tc) not in SUPPORTED:
        raise UnsupportedRelease(tc, f"Go {_series(tc)} is not a supported release")
    if (tc.goos, tc.goarch) != ("linux", "amd64"):
        raise UnsupportedRelease(tc, f"the hook reads the FS base with arch_prctl, so it needs linux/amd64, not {tc.goos}/{tc.goarch}")
    proc_go = tc.src("runtime", "proc.go")
    if not proc_go.is_file():
        raise UnsupportedRelease(tc, f"{proc_go} is missing")
    for name in (HOOK_FILE, EXT_FILE):
        if tc.src("runtime", name).exists():
            raise UnsupportedRelease(tc, f"GOROOT already has runtime/{name} (a patched GOROOT?)")
    patched, spliced = _splice(tc, proc_go.read_text())
    hook = TEMPLATE.read_text()
    for key, value in {
        "@ENV@": ENV,
        "@ATOMIC@": _import_path(tc, ["proc.go", "os_linux.go"], r"(?:runtime/internal|internal/runtime)/atomic"),
        "@SYSCALL@": _import_path(tc, ["os_linux.go"], r"(?:runtime/internal|internal/runtime)/syscall(?:/linux)?"),
    }.items():
        hook = hook.replace(key, value)
    ext = default_extension() if extension is None else extension
    if not re.search(r"^package runtime\b", ext, re.M):
        raise ValueError("extension: the Go source must start with 'package runtime' "
                         "(copy labs_go/runtime_patches/threads_ext.go.tmpl and edit the two functions)")
    files = {str(proc_go): _store(patched, "proc.go"), str(tc.src("runtime", HOOK_FILE)): _store(hook, HOOK_FILE),
             str(tc.src("runtime", EXT_FILE)): _store(ext, EXT_FILE)}
    overlay = write_overlay(files)
    return Patch(tc.version, str(overlay), tuple((k, str(v)) for k, v in files.items()), tuple(spliced))


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
    start = next((i for i, l in enumerate(lines) if re.match(ANCHORS[1].func, l)), None)
    if start is None:
        raise UnsupportedRelease(tc, "proc.go has no func newm1(mp *m)")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("}"))
    lines[end] = "\ttraceThreadCreate(mp)\n}"
    patched = "\n".join(lines) + "\n" + SEED_PATCH
    overlay = write_overlay({str(proc_go): _store(patched, "proc.go")})
    return build_go(program, overlay=overlay, go=tc)


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


# ---------------------------------------------------------------------------
# records

@dataclasses.dataclass(frozen=True)
class MRecord:
    """Everything the hook said about one M. Times are ns of CLOCK_MONOTONIC."""

    m: int
    tid: int | None  # kernel tid of its thread (None if it never started)
    start_fn: str  # mstartfn: runtime.sysmon, runtime.templateThread, runtime.mspinning, none
    asked_by_m: int | None  # the M that called newm (None for m0)
    asked_by_tid: int | None
    cloned_by_m: int | None  # the M that called newm1 (clone / pthread_create)
    cloned_by_tid: int | None
    t_new: int | None
    t_clone: int | None
    t_start: int | None
    g0_lo: int | None
    g0_hi: int | None
    fs_base: int | None
    gs_base: int | None
    m_tls: int | None  # &m.tls[0]
    procid: int | None
    cgo: bool | None
    extra: tuple[tuple[str, object], ...] = ()  # fields an extension added (gorunkitExtendNew/Start)

    def get(self, key: str, default=None):
        """An extension field by name."""
        return dict(self.extra).get(key, default)

    @property
    def via(self) -> tuple[str, ...]:
        """The call chain into newm (innermost first) when built with CALLERS_EXTENSION."""
        chain = self.get("via")
        return tuple(chain.split("<")) if isinstance(chain, str) and chain else ()

    @property
    def g0_size(self) -> int | None:
        return None if self.g0_lo is None else self.g0_hi - self.g0_lo

    @property
    def fs_is_m_tls_plus_8(self) -> bool | None:
        return None if self.fs_base is None else self.fs_base == self.m_tls + 8

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.update(g0_size=self.g0_size, fs_is_m_tls_plus_8=self.fs_is_m_tls_plus_8)
        return d


_LINE = re.compile(r"^gorunkit-thread v1 (new|clone|start) (.*)$")


def parse_records(text: str) -> list[dict]:
    """The hook's lines as dicts (``kind`` plus the key=value fields, ints decoded)."""
    out = []
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if not m:
            if raw.strip():
                raise ValueError(f"not a thread-hook record: {raw!r}")
            continue
        rec: dict = {"kind": m.group(1)}
        for field in m.group(2).split():
            key, _, value = field.partition("=")
            if re.fullmatch(r"-?\d+", value):
                rec[key] = int(value)
            elif value.startswith("0x"):
                rec[key] = int(value, 16)
            else:
                rec[key] = value
        out.append(rec)
    return out


_KNOWN = {"new": {"kind", "t", "m", "by_m", "by_tid", "fn"}, "clone": {"kind", "t", "m", "by_m", "by_tid", "cgo"},
          "start": {"kind", "t", "m", "tid", "procid", "g0_lo", "g0_hi", "fs", "gs", "m_tls", "fn"}}


def ms_from_records(records: Sequence[Mapping]) -> tuple[MRecord, ...]:
    """Merge the new/clone/start lines of each M into one :class:`MRecord`, by M id."""
    by_m: dict[int, dict] = {}
    extra: dict[int, dict] = {}
    for r in records:
        d = by_m.setdefault(r["m"], {})
        extra.setdefault(r["m"], {}).update({k: v for k, v in r.items() if k not in _KNOWN[r["kind"]]})
        if r["kind"] == "new":
            d.update(asked_by_m=r["by_m"], asked_by_tid=r["by_tid"], t_new=r["t"], start_fn=r["fn"])
        elif r["kind"] == "clone":
            d.update(cloned_by_m=r["by_m"], cloned_by_tid=r["by_tid"], t_clone=r["t"], cgo=bool(r["cgo"]))
        else:
            d.update(tid=r["tid"], procid=r["procid"], t_start=r["t"], g0_lo=r["g0_lo"], g0_hi=r["g0_hi"],
                     fs_base=r["fs"], gs_base=r["gs"], m_tls=r["m_tls"])
            d.setdefault("start_fn", r["fn"])
    fields = [f.name for f in dataclasses.fields(MRecord)]
    result = []
    for m_id in sorted(by_m):
        d = {f: None for f in fields}
        d.update(by_m[m_id], m=m_id, extra=tuple(sorted(extra[m_id].items())))
        d["start_fn"] = d["start_fn"] or "none"
        result.append(MRecord(**d))
    return tuple(result)


@dataclasses.dataclass(frozen=True)
class CrossCheck:
    """One instrument compared with the hook.

    ``conclusive`` is False when the instrument did not cover the whole run
    (the /proc sampler's last look, or the last schedtrace line, came before
    the last M appeared -- short programs); ``ok`` then holds the weaker
    check that could still be made (what it saw is consistent with the hook).
    """

    name: str
    ok: bool
    hook: tuple[int, ...]
    other: tuple[int, ...]
    detail: str
    conclusive: bool = True

    @property
    def verdict(self) -> str:
        return "MISMATCH" if not self.ok else ("ok" if self.conclusive else "inconclusive")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ThreadReport:
    """One run of a hooked program: its Ms, the instruments beside them, and how they agree."""

    program: str
    args: tuple[str, ...]
    go_version: str
    binary: str
    pid: int
    exit_status: int
    stdout: str
    stderr: str  # the program's stderr with the schedtrace lines taken out
    ms: tuple[MRecord, ...]
    t0: int  # nanotime of the first record (timeline origin)
    t_end: int  # CLOCK_MONOTONIC (the clock of nanotime) when the run was seen to end
    tracer: str  # "gorun_kit.trace" or "strace"
    traced_threads: tuple[tuple[int, int], ...]  # (parent tid, child tid) of every CLONE_THREAD
    proc_tasks: tuple[int, ...]  # every tid seen in /proc/<pid>/task while it ran
    schedtrace_threads: int | None  # threads= of the last SCHED line
    checks: tuple[CrossCheck, ...]
    proc_window: tuple[int, int] | None = None  # CLOCK_MONOTONIC ns of the sampler's first and last look
    schedtrace_ms: int = 0  # the schedtrace period the run used (0: off)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def tids(self) -> tuple[int, ...]:
        return tuple(sorted(m.tid for m in self.ms if m.tid is not None))

    def edges(self) -> list[tuple[int, int]]:
        """(asking M, new M) for every M created by newm: the creation tree."""
        return [(m.asked_by_m, m.m) for m in self.ms if m.asked_by_m is not None]

    def tree(self) -> str:
        """The creation tree as indented text: each M under the M that asked for it."""
        kids: dict[int | None, list[MRecord]] = {}
        for m in self.ms:
            kids.setdefault(m.asked_by_m, []).append(m)

        def label(m: MRecord) -> str:
            where = f"tid {m.tid}" if m.tid is not None else "never started"
            by = (f", cloned by M{m.cloned_by_m}" if m.cloned_by_m is not None and m.cloned_by_m != m.asked_by_m
                  else "")
            return f"M{m.m} ({m.start_fn}, {where}{by})"

        lines: list[str] = []

        def walk(m: MRecord, depth: int) -> None:
            lines.append("  " * depth + ("└─ " if depth else "") + label(m))
            for k in kids.get(m.m, []):
                walk(k, depth + 1)

        for root in kids.get(None, []):
            walk(root, 0)
        return "\n".join(lines)

    def table(self) -> str:
        head = f"{'M':>3} {'tid':>8} {'start fn':<24} {'asked by':>8} {'cloned by':>9} {'start ms':>9} {'g0 size':>9} {'fs-&m.tls':>9}"
        rows = [head]
        for m in self.ms:
            start = f"{(m.t_start - self.t0) / 1e6:9.3f}" if m.t_start is not None else f"{'-':>9}"
            fs = "-" if m.fs_base is None else ("+8" if m.fs_is_m_tls_plus_8 else "other")
            rows.append(f"{m.m:>3} {m.tid if m.tid is not None else '-':>8} {m.start_fn:<24} "
                        f"{'-' if m.asked_by_m is None else 'M' + str(m.asked_by_m):>8} "
                        f"{'-' if m.cloned_by_m is None else 'M' + str(m.cloned_by_m):>9} {start} "
                        f"{m.g0_size if m.g0_size is not None else '-':>9} {fs:>9}")
        return "\n".join(rows)

    def summary(self) -> str:
        lines = [f"{self.program}: {len(self.ms)} Ms, exit status {self.exit_status}, {self.go_version}"]
        for c in self.checks:
            lines.append(f"  [{c.verdict}] {c.name}: {c.detail}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["ms"] = [m.to_dict() for m in self.ms]
        d["ok"] = self.ok
        return d


# ---------------------------------------------------------------------------
# running

_SCHED = re.compile(r"^SCHED \d+ms: .*\bthreads=(\d+)")


def _tracer():
    """gorun_kit.trace when it is installed, else None (strace is used instead)."""
    try:
        from . import trace  # written by the tracer issue; optional here
    except ImportError:
        return None
    return trace if hasattr(trace, "run") else None


def _poll_tasks(pid: int, seen: set[int], stop: threading.Event, looks: list[int]) -> None:
    """Union of /proc/<pid>/task while the process lives (every ~0.5 ms);
    ``looks`` gets the CLOCK_MONOTONIC ns at which each listing had completed."""
    path = f"/proc/{pid}/task"
    while not stop.is_set():
        try:
            tasks = [int(t) for t in os.listdir(path)]
        except OSError:
            return
        if tasks:
            seen.update(tasks)
            looks.append(time.monotonic_ns())
        time.sleep(0.0005)


def _teardown_ns(exit_times: Sequence[int]) -> int | None:
    """When the process began to exit: the first of the final burst of
    thread exits (exit_group ends every thread within microseconds; a
    locked thread that exits earlier in the run stands apart)."""
    times = sorted(exit_times)
    if not times:
        return None
    i = len(times) - 1
    while i > 0 and times[i] - times[i - 1] < 5_000_000:
        i -= 1
    return times[i]


def _proc_window(looks: Sequence[int], teardown: int | None) -> tuple[int, int] | None:
    """(first, last) look of the sampler that saw the process whole: a look
    that completed after the process began exiting may miss threads already
    gone, so it does not count."""
    whole = [t for t in looks if teardown is None or t <= teardown]
    return (whole[0], whole[-1]) if whole else None


def _strace_clones(text: str, leader: int) -> list[tuple[int, int]]:
    """(parent tid, child tid) of every thread clone in ``strace -f`` output.

    With several threads strace splits a call into ``clone(... <unfinished ...>``
    and ``<... clone resumed> ...) = TID``; the halves are joined per thread.
    """
    found, pending = [], {}
    for line in text.splitlines():
        m = re.match(r"^(\d+)\s+(.*)$", line)
        if not m:
            continue
        tid, rest = int(m.group(1)), m.group(2)
        if rest.endswith("<unfinished ...>"):
            pending[tid] = rest[: -len("<unfinished ...>")]
            continue
        r = re.match(r"^<\.\.\. (clone3?) resumed>(.*)$", rest)
        if r:
            rest = pending.pop(tid, r.group(1) + "(") + r.group(2)
        c = re.match(r"^(clone3?)\((.*)\)\s+=\s+(\d+)", rest)
        if c and "CLONE_THREAD" in c.group(2):
            found.append((tid, int(c.group(3))))
    return found


def _run_under_strace(binary: str, args: Sequence[str], env: dict, timeout: float, record_fd: int):
    from .toolchain import find_tool

    strace = find_tool("strace").path
    work = Path(tempfile.mkdtemp(prefix="strace.", dir=_tmp_root()))
    log = work / "strace.txt"
    cmd = [strace, "-f", "-qq", "-e", "trace=clone,clone3", "-o", str(log), binary, *args]
    seen: set[int] = set()
    looks: list[int] = []
    stop = threading.Event()
    pid, poller = 0, None
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, pass_fds=(record_fd,), start_new_session=True)
    try:
        # strace forks the program; find it and sample its tasks while it runs.
        deadline = time.monotonic() + 10
        target = os.path.realpath(binary)
        while not pid and time.monotonic() < deadline and proc.poll() is None:
            # strace forks probe children of its own first: the program is
            # the child whose executable is our binary.
            for kid in children_of(proc.pid):
                try:
                    if os.readlink(f"/proc/{kid}/exe") == target:
                        pid = kid
                except OSError:
                    pass
            if not pid:
                time.sleep(0.0002)
        if pid:
            poller = threading.Thread(target=_poll_tasks, args=(pid, seen, stop, looks), daemon=True)
            poller.start()
        out, err = proc.communicate(timeout=timeout)
        t_end = time.monotonic_ns()
    except subprocess.TimeoutExpired:
        kill_with_tracees(proc, [p for p in [pid or _program_under(proc.pid, binary)] if p])
        raise TimeoutError(f"{binary} did not finish within {timeout} s under strace; it was killed") from None
    except BaseException:
        kill_with_tracees(proc, [p for p in [pid or _program_under(proc.pid, binary)] if p])
        raise
    finally:
        stop.set()
        if poller is not None:
            poller.join()
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(work, ignore_errors=True)
    # strace gives no exit times on our clock: the last look may be a partial one.
    return pid, proc.returncode, out, err, _strace_clones(text, pid), seen, t_end, _proc_window(looks, None)


def _program_under(parent: int, binary: str) -> int:
    target = os.path.realpath(binary)
    for kid in children_of(parent):
        try:
            if os.readlink(f"/proc/{kid}/exe") == target:
                return kid
        except OSError:
            pass
    return 0


def _tmp_root() -> Path:
    # Not cache_dir()/tmp: gorun_kit.build sweeps entries there that are not its own.
    root = cache_dir() / "threads" / "runs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _decode(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def observe(program: str | os.PathLike, *, args: Sequence[str] = (), env: Mapping[str, str] | None = None,
            go: GoToolchain | None = None, cgo: bool | None = None, schedtrace_ms: int = 20,
            timeout: float = 120, extension: str | None = None, tracer: str = "auto") -> ThreadReport:
    """Build ``program`` with the hook, run it once under a thread tracer, and cross-check.

    In the same run: the hook's records (through a file with the course's
    tracer, an inherited fd under strace), the tracer's CLONE_THREAD children, ``/proc/<pid>/task`` sampled while it
    runs, and ``GODEBUG=schedtrace=<schedtrace_ms>`` (its SCHED lines are
    taken out of the stderr the report shows; 0 turns it off).

    ``tracer``: "auto" (gorun_kit.trace, the course's ptrace tracer, when it
    is installed, else ``strace -f``), "gorun_kit.trace" or "strace".
    ``extension``: Go source replacing the hook's extension point (see
    :func:`patch`).
    """
    if tracer not in ("auto", "gorun_kit.trace", "strace"):
        raise ValueError(f"tracer={tracer!r}: use 'auto', 'gorun_kit.trace' or 'strace'")
    wanted = tracer
    tc = go or find_go()
    binary = build(program, go=tc, cgo=cgo, extension=extension)
    run_env = go_env(base=dict(os.environ if env is None else env), toolchain=tc)
    if schedtrace_ms:
        godebug = [x for x in run_env.get("GODEBUG", "").split(",") if x]
        run_env["GODEBUG"] = ",".join(godebug + [f"schedtrace={schedtrace_ms}"])
    tracer = _tracer() if wanted != "strace" else None
    if tracer is None and wanted == "gorun_kit.trace":
        raise ValueError("tracer='gorun_kit.trace' asked for, but gorun_kit.trace is not installed")
    work = Path(tempfile.mkdtemp(prefix="observe.", dir=_tmp_root()))
    try:
        if tracer is not None:
            # The tracer starts the program with only fds 0-2: records go to a file.
            path = work / "records.txt"
            run_env[ENV] = str(path)
            pid, status, out, err, clones, tasks, t_end, window = _run_under_gorun_trace(
                tracer, binary.path, args, run_env, timeout, str(path))
            tracer_name = "gorun_kit.trace"
            raw = _decode(path.read_bytes()) if path.exists() else ""
        else:
            with open(work / "records.txt", "w+b") as records:
                fd = records.fileno()
                run_env[ENV] = f"fd:{fd}"
                pid, status, out, err, clones, tasks, t_end, window = _run_under_strace(
                    binary.path, args, run_env, timeout, fd)
                tracer_name = "strace"
                records.seek(0)
                raw = _decode(records.read())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    recs = parse_records(raw)
    ms = ms_from_records(recs)
    stderr_lines, sched = [], None
    for line in _decode(err).splitlines(keepends=True):
        m = _SCHED.match(line)
        if m:
            sched = int(m.group(1))
        else:
            stderr_lines.append(line)
    t0 = min((r["t"] for r in recs), default=0)
    report = ThreadReport(
        program=os.fspath(program), args=tuple(args), go_version=tc.version, binary=binary.path, pid=pid,
        exit_status=status, stdout=_decode(out), stderr="".join(stderr_lines), ms=ms, t0=t0, t_end=t_end,
        tracer=tracer_name, traced_threads=tuple(clones), proc_tasks=tuple(sorted(tasks)),
        schedtrace_threads=sched, checks=(), proc_window=window, schedtrace_ms=schedtrace_ms)
    return dataclasses.replace(report, checks=tuple(cross_checks(report)))


def _find_descendant(exe: str, root: int, deadline: float) -> int:
    """The pid of the first process below ``root`` running ``exe`` (0 if none
    shows up before ``deadline``)."""
    target = os.path.realpath(exe)
    while time.monotonic() < deadline:
        frontier, seen = [root], set()
        while frontier:
            pid = frontier.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for t in tasks:
                try:
                    kids = [int(x) for x in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
                except OSError:
                    continue
                for kid in kids:
                    try:
                        if os.readlink(f"/proc/{kid}/exe") == target:
                            return kid
                    except OSError:
                        pass
                    frontier.append(kid)
        time.sleep(0.0002)
    return 0


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _run_under_gorun_trace(tracer, binary: str, args: Sequence[str], env: dict, timeout: float, records: str):
    """Run under gorun_kit.trace (the course's ptrace tracer) in a helper
    thread, while this thread samples /proc/<pid>/task of the traced program."""
    result: dict = {}

    def target():
        try:
            result["trace"] = tracer.run([binary, *args], env=env, timeout=timeout)
        except BaseException as exc:  # handed to the caller below
            result["error"] = exc

    runner = threading.Thread(target=target, daemon=True)
    runner.start()
    seen: set[int] = set()
    looks: list[int] = []
    stop = threading.Event()
    deadline = time.monotonic() + min(timeout, 10)
    pid = 0
    while not pid and runner.is_alive() and time.monotonic() < deadline:
        pid = _find_descendant(binary, os.getpid(), min(deadline, time.monotonic() + 0.05))
    try:
        if pid:
            _poll_tasks(pid, seen, stop, looks)  # returns when the process is gone
    except BaseException:
        # Interrupted while the tracer runs in the helper thread: SIGTERM
        # makes the tracer kill and reap the traced tree, then wait for it.
        tracer_pid = _parent_of(pid) if pid else 0
        if tracer_pid:
            try:
                os.kill(tracer_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        runner.join(10)
        raise
    t_end = time.monotonic_ns()
    runner.join()
    if "error" in result:
        raise result["error"]
    t = result["trace"]
    root = t.root_pid
    clones = [(s.parent_tid, s.child_tid) for s in t.spawns if s.is_thread and s.child_pid == root]
    exits = [e.ts_ns for e in t.exits if e.pid == root]
    window = _proc_window(looks, _teardown_ns(exits))
    if window and any(ts < window[0] for ts in exits):
        window = None  # a thread ended before the sampler's first look: it could not be seen
    return root, t.returncode, t.stdout or b"", t.stderr or b"", clones, seen, t_end, window


def cross_checks(r: ThreadReport) -> list[CrossCheck]:
    """Compare the hook's Ms with the tracer, /proc and schedtrace (see :class:`ThreadReport`).

    A program that exits right after making an M can end before that M's
    thread reaches ``minit``: the hook has its ``new``/``clone`` records but
    no tid, while the tracer saw the clone. Such Ms are counted, not called a
    mismatch; and a check whose instrument stopped looking before the last M
    appeared is marked inconclusive instead of failed.
    """
    hook = set(r.tids)
    non_main = hook - {r.pid}
    traced = {child for _, child in r.traced_threads}
    unstarted = [m for m in r.ms if m.tid is None and m.t_clone is not None]
    note = f" (+{len(unstarted)} cloned but gone before minit, no tid in the hook)" if unstarted else ""
    tracer_ok = r.pid in hook and non_main <= traced and len(traced - non_main) == len(unstarted)
    checks = [
        CrossCheck(f"hook tids == CLONE_THREAD children ({r.tracer}) + the main thread", tracer_ok,
                   tuple(sorted(non_main)), tuple(sorted(traced)),
                   f"hook {len(non_main)} threads besides main, tracer {len(traced)}{note}"),
    ]
    sampled = set(r.proc_tasks)
    starts = [m.t_start for m in r.ms if m.t_start is not None and m.tid != r.pid]
    # Ms do not end before the process does (except locked ones, which the run
    # functions account for): a look after the last start sees every M.
    covered = r.proc_window is not None and (not starts or max(starts) <= r.proc_window[1])
    consistent = len(sampled - hook) <= len(unstarted)
    window_note = "" if covered else "; the sampler's last look at the whole process came before the last M started"
    checks.append(CrossCheck("hook tids == /proc/<pid>/task sampled while running",
                             consistent and (not covered or hook <= sampled), tuple(sorted(hook)), r.proc_tasks,
                             f"hook {len(hook)}, /proc {len(sampled)}{note}{window_note}", conclusive=covered))
    parents = {child: parent for parent, child in r.traced_threads}
    compared = [m for m in r.ms if m.tid in parents and m.cloned_by_tid]
    cloner_ok = bool(compared) and all(parents[m.tid] == m.cloned_by_tid for m in compared)
    checks.append(CrossCheck("the thread that ran newm1 is the clone's caller in the tracer", cloner_ok,
                             tuple(m.cloned_by_tid or 0 for m in r.ms if m.tid in parents),
                             tuple(parents.get(m.tid, 0) for m in r.ms if m.tid in parents),
                             "newm1's gettid() == tracer's parent tid for every traced thread"))
    if r.schedtrace_threads is not None:
        # threads= is mcount(): every M id handed out (minus freed Ms). Under
        # cgo one M is allocated without newm and never started by Go (the
        # "extra M" that C threads borrow when they call into Go), so it has
        # an id but no hook record; it is counted and named here.
        started = len([m for m in r.ms if m.tid is not None])
        seen = {m.m for m in r.ms}
        never = sorted(set(range(max(seen) + 1)) - seen) if seen else []
        expected = started + len(unstarted) + len(never)
        # SCHED lines come every schedtrace_ms from sysmon (which may sleep up
        # to 10 ms more): the last one postdates the last newm only if the
        # program ran on long enough after it.
        last_new = max((m.t_new for m in r.ms if m.t_new is not None), default=r.t0)
        covered = r.schedtrace_ms > 0 and r.t_end - last_new >= (2 * r.schedtrace_ms + 20) * 1_000_000
        ok = expected == r.schedtrace_threads if covered else r.schedtrace_threads <= expected
        checks.append(CrossCheck("hook Ms (+ ids never started) == last GODEBUG=schedtrace threads=",
                                 ok, (started, len(unstarted), len(never)), (r.schedtrace_threads,),
                                 f"hook {started} started" + note
                                 + (f" + {len(never)} never started (M{', M'.join(map(str, never))})" if never else "")
                                 + f", schedtrace threads={r.schedtrace_threads}"
                                 + ("" if covered else "; the last SCHED line may predate the last M"),
                                 conclusive=covered))
    return checks
