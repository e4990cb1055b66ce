"""The ptrace lab's check: run a teaching tracer (labs_c/ptrace_lab) on test
programs with random arguments and compare what it prints with what an
independent instrument recorded for the same command.

The test program is ``/usr/bin/env -i VARS... PATH=/nonexistent:/bin true
ARGS...``: it makes three execve calls with random strings -- one that
succeeds (env itself), one that fails with ENOENT (env's PATH search tries
``/nonexistent/true`` first) and one that succeeds (``/bin/true``) -- so the
check covers filename, argv, envp, the result and the exec event.

The reference is the course's production tracer (:func:`gorun_kit.trace.run`),
or strace (:func:`gorun_kit.trace.strace_run`) when asked for;
:class:`CheckResult` says which one was used.
"""
from __future__ import annotations

import dataclasses
import errno as errno_mod
import os
import random
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from . import sessions, trace
from .records import Record

__all__ = ["ExecCall", "CheckResult", "parse_tracer_output", "random_case", "reference_execs",
           "check_tracer", "memory_reads", "build_lab", "vm_readv_once", "VmReadvEdge", "vm_readv_at_hole"]

_EXITKILL_TIMEOUT = 30.0
_ENV = "/usr/bin/env"
_FAIL_DIR = "/nonexistent-gorun-kit"
_MAX_FAILURES = 12


@dataclasses.dataclass(frozen=True)
class ExecCall(Record):
    """One execve as seen at its entry (and, for the teaching tracer, its exit)."""

    filename: bytes
    argv: tuple[bytes, ...]
    envp: tuple[bytes, ...]
    result: int | None  # 0, -errno, or None when the instrument did not say
    cmdline: tuple[bytes, ...] | None = None  # from the PTRACE_EVENT_EXEC stop, if printed

    def to_dict(self) -> dict:
        # bytes shown as text (undecodable bytes escaped), so the dict is JSON
        d = dataclasses.asdict(self)
        for k in ("filename",):
            d[k] = d[k].decode(errors="backslashreplace")
        for k in ("argv", "envp", "cmdline"):
            if d[k] is not None:
                d[k] = [x.decode(errors="backslashreplace") for x in d[k]]
        return d


@dataclasses.dataclass(frozen=True)
class CheckResult(Record):
    """The verdict of :func:`check_tracer`: ``ok`` and, when not, why (with the TODO to look at)."""

    ok: bool
    cases: int
    instrument: str  # "gorun_kit.trace" or "strace"
    failures: tuple[str, ...]


    def __str__(self) -> str:
        head = f"{'PASS' if self.ok else 'FAIL'}: {self.cases} random cases compared with {self.instrument}"
        return "\n".join([head, *("  - " + f for f in self.failures)])


# ---------------------------------------------------------------------------
# the teaching tracer's output

_STR = r'"((?:[^"\\]|\\.)*)"'
_LINE_EXECVE = re.compile(r"^execve pid=\d+ filename=(?:" + _STR + r"|<error (\d+)>)$")
_LINE_ITEM = re.compile(r"^(argv|envp)\[(\d+)\]=(?:" + _STR + r"|<error (\d+)>)$")
_LINE_EVENT = re.compile(r"^event-exec pid=\d+ cmdline\[(\d+)\]=" + _STR + "$")
_LINE_EXIT = re.compile(r"^exit pid=\d+ rax=(-?\d+)$")


def _unescape(s: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "x" and i + 3 < len(s) + 1:
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out.extend(nxt.encode())
            i += 2
            continue
        out.extend(c.encode("latin-1") if ord(c) < 256 else c.encode())
        i += 1
    return bytes(out)


def parse_tracer_output(text: str) -> list[ExecCall]:
    """The execve calls a teaching tracer printed (the format in tracer.c's header).

    Lines the format does not know are ignored; an ``<error N>`` string is
    kept as the bytes ``<error N>`` so a comparison shows it.
    """
    calls: list[dict] = []
    for line in text.splitlines():
        m = _LINE_EXECVE.match(line)
        if m:
            fn = _unescape(m.group(1)) if m.group(1) is not None else f"<error {m.group(2)}>".encode()
            calls.append({"filename": fn, "argv": [], "envp": [], "result": None, "cmdline": None})
            continue
        if not calls:
            continue
        m = _LINE_ITEM.match(line)
        if m:
            val = _unescape(m.group(3)) if m.group(3) is not None else f"<error {m.group(4)}>".encode()
            calls[-1][m.group(1)].append(val)
            continue
        m = _LINE_EVENT.match(line)
        if m:
            calls[-1]["cmdline"] = (calls[-1]["cmdline"] or []) + [_unescape(m.group(2))]
            continue
        m = _LINE_EXIT.match(line)
        if m:
            calls[-1]["result"] = int(m.group(1))
    return [ExecCall(c["filename"], tuple(c["argv"]), tuple(c["envp"]), c["result"],
                     tuple(c["cmdline"]) if c["cmdline"] is not None else None) for c in calls]


# ---------------------------------------------------------------------------
# random test programs

_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
             " !#$%&'()*+,-./:;<>?@[]^_`{|}~\\\"\t")


def _random_bytes(rng: random.Random, lo: int, hi: int) -> bytes:
    n = rng.randint(lo, hi)
    s = "".join(rng.choice(_ALPHABET) for _ in range(n)).encode()
    if rng.random() < 0.3:  # some non-ASCII bytes (UTF-8 and raw) too
        s += rng.choice(["é", "ß", "进程"]).encode() + bytes([rng.randint(0x80, 0xff)])
    return s


def random_case(rng: random.Random) -> list[bytes]:
    """A command line for the test program, with random argument and environment strings.

    Some strings are long (over a page) so a reader that stops early or
    crosses into unmapped memory is caught.
    """
    env = []
    for i in range(rng.randint(1, 5)):
        name = "GK" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") for _ in range(rng.randint(1, 8))) + str(i)
        env.append(name.encode() + b"=" + _random_bytes(rng, 0, 40).replace(b"=", b":"))
    args = [_random_bytes(rng, 0, 30) for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.5:
        args.append(_random_bytes(rng, 5000, 9000))
    return [_ENV.encode(), b"-i", *env, f"PATH={_FAIL_DIR}:/bin".encode(), b"true", *args]


# ---------------------------------------------------------------------------
# running things

def _run(cmd: Sequence[bytes | str], timeout: float, env: dict | None = None,
         writable: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run ``cmd`` -- the tracer under test, someone's build -- to its end with its
    output kept, in the sandbox ``$GORUN_KIT_CONFINE`` names if any (``writable``:
    the directories it writes); after ``timeout`` seconds it and everything it
    started are killed and reaped (gorun_kit.sessions), and
    subprocess.TimeoutExpired is raised."""
    done = sessions.run_tool(sessions.confined(cmd, writable=writable, env=env), timeout=timeout, env=env)
    if done.timed_out:
        raise subprocess.TimeoutExpired(list(cmd), timeout, done.stdout, done.stderr)
    return subprocess.CompletedProcess(list(cmd), done.returncode, done.stdout, done.stderr)


def _exec_calls(t: trace.Trace) -> list[ExecCall]:
    """The execve attempts of a trace (either instrument), in the order they happened."""
    calls = []
    for e in t.events:
        if isinstance(e, (trace.ExecEvent, trace.ExecFailedEvent)):
            failed = isinstance(e, trace.ExecFailedEvent)
            result = -getattr(errno_mod, e.errno, 0) if failed else 0
            calls.append(ExecCall(e.filename_bytes, e.argv_bytes, e.envp_bytes, result))
    return calls


def reference_execs(cmd: Sequence[bytes], *, instrument: str = "auto", timeout: float = _EXITKILL_TIMEOUT,
                    env: dict | None = None) -> tuple[str, list[ExecCall]]:
    """The execve calls ``cmd`` makes, recorded by the production tracer
    (:func:`gorun_kit.trace.run`) or by strace (:func:`gorun_kit.trace.strace_run`).

    ``instrument``: "trace", "strace" or "auto" (the production tracer).
    Returns (name, calls).
    """
    if instrument not in ("auto", "trace", "strace"):
        raise ValueError(f"instrument={instrument!r}: use 'auto', 'trace' or 'strace'")
    args = [os.fsdecode(c) for c in cmd]
    if instrument == "strace":
        return "strace", _exec_calls(trace.strace_run(args, env=env, timeout=timeout))
    return "gorun_kit.trace", _exec_calls(trace.run(args, env=env, timeout=timeout))


def _compare(case: int, want: list[ExecCall], got: list[ExecCall], failures: list[str]) -> None:
    def short(b: bytes) -> str:
        s = b.decode(errors="backslashreplace")
        return repr(s if len(s) < 60 else s[:57] + "...")

    if len(got) != len(want):
        failures.append(f"case {case}: expected {len(want)} execve calls, the tracer printed {len(got)}")
    for i, (w, g) in enumerate(zip(want, got)):
        where = f"case {case}, execve #{i + 1}"
        if g.filename != w.filename:
            failures.append(f"{where}: filename {short(g.filename)}, expected {short(w.filename)} "
                            "(TODO 1/2: reading a string)")
        if g.argv != w.argv:
            hint = "TODO 3: walking the array" if len(g.argv) != len(w.argv) else "TODO 1/2: reading a string"
            bad = next((j for j, (a, b) in enumerate(zip(g.argv, w.argv)) if a != b), min(len(g.argv), len(w.argv)))
            failures.append(f"{where}: argv has {len(g.argv)} entries (expected {len(w.argv)}), first difference "
                            f"at argv[{bad}] ({hint})")
        if g.envp != w.envp:
            failures.append(f"{where}: envp differs: {len(g.envp)} entries, expected {len(w.envp)} (TODO 3)")
        if w.result is not None and g.result is not None and g.result != w.result:
            failures.append(f"{where}: result {g.result}, expected {w.result}")
        if w.result == 0 and g.cmdline != w.argv:
            got_n = "no event-exec lines" if g.cmdline is None else f"{len(g.cmdline)} cmdline entries"
            failures.append(f"{where}: the PTRACE_EVENT_EXEC stop printed {got_n}, expected the "
                            f"{len(w.argv)} argv strings of the new program (TODO 4)")
        if w.result not in (None, 0) and g.cmdline is not None:
            failures.append(f"{where}: a failed execve printed an exec event (TODO 4)")


def check_tracer(tracer: str | os.PathLike, *, cases: int = 4, seed: int | None = None, method: str = "peek",
                 instrument: str = "auto", timeout: float = _EXITKILL_TIMEOUT) -> CheckResult:
    """Run the teaching tracer ``tracer`` (an executable) on ``cases`` random test
    programs and compare its execve records with the reference instrument's.

    ``method`` is passed as ``-m peek|vm`` (PTRACE_PEEKDATA or process_vm_readv).
    """
    path = Path(tracer)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise FileNotFoundError(f"tracer {os.fspath(path)!r} is not an executable file; build it first "
                                "(make -C labs_c, or gorun_kit.ptrace_lab.build_lab(labs=CHECKOUT))")
    if method not in ("peek", "vm"):
        raise ValueError(f"method={method!r}: use 'peek' or 'vm'")
    if not os.path.exists(_ENV):
        raise FileNotFoundError(f"the test program needs {_ENV}")
    rng = random.Random(seed)
    failures: list[str] = []
    name = "?"
    for case in range(1, cases + 1):
        cmd = random_case(rng)
        # a small random environment for the first execve, the same for both runs,
        # so the result does not depend on the caller's environment
        env = {"PATH": "/usr/bin:/bin", "GK_OUTER": _random_bytes(rng, 0, 20).decode("latin-1")}
        name, want = reference_execs(cmd, instrument=instrument, timeout=timeout, env=env)
        if not want:
            # the test program always makes three execve calls; none means the
            # reference instrument is broken, which must not pass for a tracer bug
            raise RuntimeError(f"{name} recorded no execve for the test program {cmd[:3]}...; "
                               "check that it runs here (gorun-kit doctor)")
        proc = _run([os.fspath(path), "-m", method, *cmd], timeout, env)
        if proc.returncode != 0:
            failures.append(f"case {case}: the tracer exited {proc.returncode}: "
                            f"{proc.stderr.decode(errors='replace').strip()[:200]}")
        got = parse_tracer_output(proc.stdout.decode("latin-1"))
        _compare(case, want, got, failures)
    if len(failures) > _MAX_FAILURES:
        failures = failures[:_MAX_FAILURES] + [f"... and {len(failures) - _MAX_FAILURES} more"]
    return CheckResult(not failures, cases, name, tuple(failures))


def memory_reads(tracer: str | os.PathLike, *, method: str = "vm", seed: int | None = None,
                 timeout: float = _EXITKILL_TIMEOUT) -> dict[str, int]:
    """How the teaching tracer read its tracee's memory with ``-m method``:
    {"process_vm_readv": calls, "PTRACE_PEEKDATA": calls}.

    strace watches the tracer process alone (no -f), so its child stays free
    to call PTRACE_TRACEME on the tracer. TODO 2 of the lab asks for
    process_vm_readv: a ``-m vm`` that only peeks is caught here.
    """
    from .toolchain import find_tool

    path = Path(tracer)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise FileNotFoundError(f"tracer {os.fspath(path)!r} is not an executable file; build it first")
    if method not in ("peek", "vm"):
        raise ValueError(f"method={method!r}: use 'peek' or 'vm'")
    cmd = random_case(random.Random(seed))
    with tempfile.TemporaryDirectory(prefix="gorun-kit-reads-") as tmp:
        log = Path(tmp) / "strace.txt"
        proc = _run([find_tool("strace").path, "-qq", "-e", "trace=process_vm_readv,ptrace", "-o", str(log),
                     os.fspath(path), "-m", method, *cmd], timeout, {"PATH": "/usr/bin:/bin"}, writable=[tmp])
        text = log.read_text(errors="replace") if log.exists() else ""
    if proc.returncode != 0 and not text:
        raise RuntimeError(f"strace could not run {os.fspath(path)}: {proc.stderr.decode(errors='replace')[:300]}")
    lines = text.splitlines()
    return {"process_vm_readv": sum(1 for l in lines if l.startswith("process_vm_readv(")),
            "PTRACE_PEEKDATA": sum(1 for l in lines if l.startswith("ptrace(PTRACE_PEEKDATA"))}


# ---------------------------------------------------------------------------
# the lab's programs

def build_lab(which: str = "tracer", *, labs: str | os.PathLike | None = None,
              student: str | os.PathLike | None = None):
    """Build one of the lab's programs into the cache: "tracer" (the solution)
    or "seed_regs" from ``labs``, the course checkout that holds
    ``labs_c/ptrace_lab`` (e.g. ``course.layout.course_root()``); or "student"
    from ``student``, the student copy's source file (the course makes it:
    ``course.release.student_copy(CHECKOUT / "labs_c/ptrace_lab/tracer.c")``)."""
    from .build import build_c

    if which not in ("tracer", "student", "seed_regs"):
        raise ValueError(f"which={which!r}: choose one of ['seed_regs', 'student', 'tracer']")
    if which == "student":
        # the student copy is the course's to make (it knows the markup); this module only builds it
        if student is None:
            raise ValueError('build_lab("student") needs student=PATH of the student copy, e.g. '
                             'course.release.student_copy(CHECKOUT / "labs_c/ptrace_lab/tracer.c")')
        source, name = Path(student), "student_tracer"
    else:
        if labs is None:
            raise ValueError(f"build_lab({which!r}) needs labs=CHECKOUT, the course checkout holding labs_c/ptrace_lab")
        source, name = Path(labs, "labs_c", "ptrace_lab", f"{which}.c"), which
    return build_c(source, cflags=["-O2", "-Wall", "-std=gnu11"], name=name)


def vm_readv_once(nbytes: int = 3 * 4096 + 100) -> int:
    """Bytes one ``process_vm_readv`` call copies out of this process's own
    memory when asked for ``nbytes`` (default: three pages and a bit, from a
    buffer that spans at least four pages).

    The syscall has no per-page limit: given mapped memory, one call copies
    the whole range (the kernel caps one call at the iovec total, not at a
    page). When the range runs into an unmapped page the call does not fail:
    it returns short, with the bytes before the hole (see
    :func:`vm_readv_at_hole`); it fails (EFAULT) only when nothing at all can
    be read. The man page promises partial transfers only at the granularity
    of whole iovec elements, so the lab's TODO 2 reads up to the end of a page
    per call and does not rely on a short read inside one element. Linux only;
    raises OSError with the errno when the call fails.
    """
    import ctypes
    import ctypes.util

    if nbytes <= 0:
        raise ValueError(f"nbytes={nbytes}: ask for at least one byte")

    class _IOVec(ctypes.Structure):
        _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(_IOVec), ctypes.c_ulong,
                                      ctypes.POINTER(_IOVec), ctypes.c_ulong, ctypes.c_ulong]
    source = ctypes.create_string_buffer((bytes(range(1, 256)) * (nbytes // 255 + 1))[:nbytes], nbytes)
    target = ctypes.create_string_buffer(nbytes)
    local = _IOVec(ctypes.cast(target, ctypes.c_void_p), nbytes)
    remote = _IOVec(ctypes.cast(source, ctypes.c_void_p), nbytes)
    got = libc.process_vm_readv(os.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if got < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"process_vm_readv of {nbytes} bytes from our own process failed: {os.strerror(err)}")
    if target.raw[:got] != source.raw[:got]:
        raise RuntimeError("process_vm_readv copied bytes that differ from the source")
    return got


@dataclasses.dataclass(frozen=True)
class VmReadvEdge(Record):
    """What :func:`vm_readv_at_hole` measured: ``asked`` bytes read from
    ``before_hole`` bytes before an unmapped page gave ``copied`` bytes (a
    short read); the same read started inside the hole gave ``in_hole_errno``
    (the errno name, e.g. ``"EFAULT"``, or ``None`` if it did not fail)."""

    page: int
    asked: int
    before_hole: int
    copied: int
    in_hole_errno: str | None


def vm_readv_at_hole(before_hole: int = 100, nbytes: int | None = None) -> VmReadvEdge:
    """Map three pages of this process, unmap the third, and ask one
    ``process_vm_readv`` call (one iovec element each side) for ``nbytes``
    (default: one page) starting ``before_hole`` bytes before the hole; then
    ask for the same starting inside the hole. On Linux the first returns
    short (``before_hole`` bytes when ``nbytes > before_hole``), the second
    fails with EFAULT. The mapping is released before returning. Raises
    ValueError for ``before_hole`` outside 1..2 pages, OSError if the mapping
    cannot be made or the first read fails outright.
    """
    import ctypes
    import ctypes.util
    import mmap

    page = mmap.PAGESIZE
    nbytes = page if nbytes is None else nbytes
    if not 0 < before_hole <= 2 * page or nbytes <= 0:
        raise ValueError(f"before_hole={before_hole}, nbytes={nbytes}: need 1..{2 * page} and at least one byte")

    class _IOVec(ctypes.Structure):
        _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                          ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(_IOVec), ctypes.c_ulong,
                                      ctypes.POINTER(_IOVec), ctypes.c_ulong, ctypes.c_ulong]
    base = libc.mmap(None, 3 * page, mmap.PROT_READ | mmap.PROT_WRITE,
                     mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if base in (None, ctypes.c_void_p(-1).value):
        err = ctypes.get_errno()
        raise OSError(err, f"mmap of three pages failed: {os.strerror(err)}")
    target = ctypes.create_string_buffer(nbytes)
    try:
        ctypes.memset(base, 0x5A, 2 * page)
        libc.munmap(base + 2 * page, page)  # the hole
        def read(addr: int) -> tuple[int, int]:
            local = _IOVec(ctypes.cast(target, ctypes.c_void_p), nbytes)
            remote = _IOVec(addr, nbytes)
            got = libc.process_vm_readv(os.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
            return got, (ctypes.get_errno() if got < 0 else 0)
        copied, err = read(base + 2 * page - before_hole)
        if copied < 0:
            raise OSError(err, f"process_vm_readv {before_hole} bytes before a hole failed: {os.strerror(err)}")
        if target.raw[:copied] != b"\x5a" * copied:
            raise RuntimeError("process_vm_readv copied bytes that differ from the source")
        in_hole, err = read(base + 2 * page)
    finally:
        libc.munmap(base, 3 * page)
    return VmReadvEdge(page, nbytes, before_hole, copied,
                       errno_mod.errorcode.get(err, str(err)) if in_hole < 0 else None)
