"""Running code the grader does not trust: bubblewrap, an unprivileged uid, limits.

A :class:`Sandbox` starts one command in its own namespaces (``bwrap
--unshare-all``: no network, its own pid, mount, IPC and UTS namespaces) with
a read-only view of the system, of Python and of the kit, a private writable
working tree and home, and nothing else of the machine's files: not the course
checkout, not the grader's temporary files, not the hidden tests. When the
grader runs as root the command also runs as an unprivileged uid of its own
(``setpriv``), one per concurrent sandbox, so that a per-user process limit
holds and nothing of the grader's is reachable by uid; as any other user the
namespaces alone separate it (it then keeps the caller's uid, mapped).

Limits: wall time (the caller's deadline, then SIGKILL), memory and process
count (a cgroup when the grader may make one, v2 or v1; otherwise
``RLIMIT_AS`` and, with a uid of its own, ``RLIMIT_NPROC``), and CPU time
(``RLIMIT_CPU``). Whatever the sandboxed code started dies with it: bwrap's
pid namespace ends when its first process does (``--die-with-parent`` and
``--unshare-pid``), a ``setsid`` daemon included, and the cgroup is emptied
and removed.

:func:`confine_prefix` gives the argv prefix for a nested sandbox that the
checks use to run a program built from the student's sources (a tracer, a Go
program with the student's runtime code): read-only everything, its own pid
namespace, a third uid. The kit reads it from ``$GORUN_KIT_CONFINE``
(:func:`gorun_kit.sessions.confined`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from ..records import Record

__all__ = ["Limits", "Sandbox", "available", "confine_prefix", "slot", "kit_paths",
           "environment", "UID_BASE"]

# uids UID_BASE .. UID_BASE + 3 * _SLOTS - 1 are the sandboxes' (no such users need exist; on a
# server whose real users have them, set GORUN_KIT_SANDBOX_UID_BASE to a free range)
UID_BASE = int(os.environ.get("GORUN_KIT_SANDBOX_UID_BASE") or 61000)
_SLOTS = 64


@dataclasses.dataclass(frozen=True)
class Limits(Record):
    """What one sandboxed run may use."""

    memory_bytes: int = 4 << 30
    processes: int = 256
    cpu_seconds: int = 1800


@functools.lru_cache(maxsize=None)
def available() -> str | None:
    """None when sandboxes work here, else why not (with what to do)."""
    if not sys.platform.startswith("linux"):
        return f"grading runs student code in a Linux sandbox (bubblewrap); this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (sudo apt-get install bubblewrap)"
    done = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return (f"bubblewrap cannot make namespaces here ({done.stderr.strip() or done.returncode}); "
                "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or grade as root")
    return None


@contextlib.contextmanager
def slot() -> Iterator[int]:
    """A sandbox slot (0 .. 63) no other grading process holds, for as long as the block runs."""
    from ..cache import cache_dir

    if os.geteuid() == 0:
        # a slot is a range of uids, which are the whole machine's: one lock directory for all
        # graders, and root's alone, so no other user can hold a slot
        locks = Path("/run/gorun-kit/sandbox-slots")
        locks.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        locks = cache_dir() / "sandbox-slots"
        locks.mkdir(exist_ok=True)
    for n in range(_SLOTS):
        fh = open(locks / f"{n}.lock", "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        try:
            yield n
        finally:
            fh.close()
        return
    raise RuntimeError(f"all {_SLOTS} sandbox slots are busy; grade with fewer workers")


def _uid(slot_n: int, role: int) -> int | None:
    """The uid of ``role`` (0 student, 1 checker, 2 programs the checks run) in a slot; None unless root."""
    return UID_BASE + 3 * slot_n + role if os.geteuid() == 0 else None


def kit_paths() -> list[str]:
    """What Python and the kit need, read-only: the interpreter's prefixes, the
    kit's package, the Go toolchain the kit uses."""
    import gorun_kit

    paths = {sys.base_prefix, sys.prefix, str(Path(gorun_kit.__file__).resolve().parent)}
    for entry in sys.path:
        # a site directory outside the prefixes (a user site); never the cwd or a checkout's root
        if entry.endswith(("site-packages", "dist-packages")) and Path(entry).is_dir() \
                and not entry.startswith(("/usr", sys.base_prefix, sys.prefix)):
            paths.add(entry)
    try:
        from ..toolchain import find_go
        go = Path(find_go().go).resolve()
        paths.add(str(go.parents[1]))  # GOROOT (bin/go)
    except Exception:
        pass
    return sorted(p for p in paths if p)


_SYSTEM = ("/usr", "/etc")
_SYMLINKS = ("bin", "lib", "lib64", "sbin", "lib32", "libx32")


def _bwrap_args(*, read_only: Sequence[str], writable: Sequence[str], hidden: Sequence[str], cwd: str,
                env: Mapping[str, str]) -> list[str]:
    # As root, no user namespace: the sandbox's uid must be a real one (setpriv, below).
    unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"] \
        if os.geteuid() == 0 else ["--unshare-all"]
    args = ["bwrap", *unshare, "--die-with-parent", "--new-session", "--clearenv",
            "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",  # no sysctl writes, root or not
            *(["--ro-bind", "/proc/sysrq-trigger", "/proc/sysrq-trigger"]
              if os.path.exists("/proc/sysrq-trigger") else []),
            "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    for top in _SYSTEM:
        args += ["--ro-bind", top, top]
    for name in _SYMLINKS:
        p = Path("/") / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    mounted = ["/usr", "/etc", "/proc", "/dev"]  # binds: what is below them exists already
    made: set[str] = {"/tmp", "/run"}  # tmpfs: empty, so what is below is made here

    def mount(kind: list[str], path: str) -> None:
        # bwrap makes a missing parent 0700 and root's; the sandbox's uid must pass through
        for parent in reversed(Path(path).parents):
            p = str(parent)
            if p == "/" or p in made or any(p == m or p.startswith(m.rstrip("/") + "/") for m in mounted):
                continue
            args.extend(["--perms", "0755", "--dir", p])
            made.add(p)
        args.extend([*kind, path])
        mounted.append(path)

    for path in read_only:
        if os.path.exists(path):
            mount(["--ro-bind", path], path)
    for path in writable:
        mount(["--bind", path], path)
    for path in hidden:
        if os.path.isdir(path):
            mount(["--tmpfs"], path)
            args.extend(["--remount-ro", path])
        elif os.path.exists(path):
            mount(["--ro-bind", "/dev/null"], path)
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", cwd]
    return args


def confine_prefix(slot_n: int, limits: Limits = Limits()) -> list[str]:
    """The argv prefix of a nested sandbox for programs built from the student's
    sources, run from inside the checker's sandbox: everything read-only, no network, and, when the grader is root, a uid of its own, so it
    can neither write the checker's caches nor signal, trace or read the
    checker. It shares the checker's pid namespace (the checker's instruments
    sample such a program's /proc), which ends with the checker's sandbox.
    :func:`gorun_kit.sessions.confined` adds ``--bind`` for the directories a
    tool must write and the ``--`` before the command."""
    prefix = []
    uid = _uid(slot_n, 2)
    if uid is not None:
        prefix += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
    prefix += ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}"]
    if uid is not None:
        prefix += [f"--nproc={limits.processes}"]
    # No private /tmp: the build cache or the checkout may live under /tmp, and the program
    # must see its own executable; a tool that writes gets its directory bound (``writable``).
    prefix += ["--", "bwrap", "--unshare-user", "--unshare-ipc", "--unshare-net", "--unshare-uts",
               "--die-with-parent", "--new-session", "--ro-bind", "/", "/", "--dev", "/dev"]
    return prefix


def _set_limit(kind: int, value: int) -> None:
    """Soft and hard limit ``kind`` to ``value``, or to the grader's own hard limit when that is
    lower: a grader run under ``ulimit -t 600`` gives its sandboxes 600 s (raising a hard limit
    fails, and the sandbox would not start at all)."""
    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


class _Cgroup:
    """A memory + pids cgroup for one sandbox (v2, else v1), or nothing when we may not make one."""

    def __init__(self, name: str, limits: Limits):
        self.dirs: list[Path] = []
        self.kind = "rlimit"
        if os.geteuid() != 0:
            return
        v2 = Path("/sys/fs/cgroup")
        try:
            if (v2 / "cgroup.controllers").exists() and {"memory", "pids"} <= set(
                    (v2 / "cgroup.subtree_control").read_text().split()):
                self.sweep(v2 / "gorun-kit")
                d = v2 / "gorun-kit" / name
                d.mkdir(parents=True)
                self.dirs = [d]
                (d / "memory.max").write_text(str(limits.memory_bytes))
                (d / "memory.swap.max").write_text("0") if (d / "memory.swap.max").exists() else None
                (d / "pids.max").write_text(str(limits.processes))
                self.kind = "cgroup v2"
                return
            mem, pids = v2 / "memory", v2 / "pids"
            if (mem / "cgroup.procs").exists() and (pids / "cgroup.procs").exists():
                for base in (mem, pids):
                    self.sweep(base / "gorun-kit")
                    d = base / "gorun-kit" / name
                    d.mkdir(parents=True)
                    self.dirs.append(d)
                (self.dirs[0] / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
                (self.dirs[1] / "pids.max").write_text(str(limits.processes))
                self.kind = "cgroup v1"
        except OSError:
            self.remove()
            self.dirs, self.kind = [], "rlimit"

    @staticmethod
    def sweep(base: Path) -> None:
        """Remove the cgroups of graders that died before they could (the name starts with their pid)."""
        for d in base.glob("*") if base.is_dir() else ():
            with contextlib.suppress(ValueError, OSError):
                pid = int(d.name.split("-", 1)[0])
                if not Path(f"/proc/{pid}").exists():
                    d.rmdir()

    def join(self) -> None:
        """Called in the child before exec: move it into the cgroup."""
        for d in self.dirs:
            with open(d / "cgroup.procs", "w") as fh:
                fh.write(str(os.getpid()))

    def pids(self) -> list[int]:
        out: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                out |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
        return sorted(out)

    def kill_all(self, patience: float = 20.0) -> None:
        """SIGKILL what is in the cgroup until it is empty (a fork bomb refills it for a while)."""
        end = time.monotonic() + patience
        while time.monotonic() < end:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def remove(self, patience: float = 10.0) -> None:
        """rmdir each directory; the kernel refuses while a killed process is still exiting."""
        end = time.monotonic() + patience
        for d in self.dirs:
            while True:
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > end:
                        break
                    time.sleep(0.05)



@dataclasses.dataclass
class Sandbox:
    """One sandboxed process tree. Use as a context manager: everything it
    started is gone when the block ends, and its cgroup is removed.

    ``role``: 0 for the student's code, 1 for the checker (see :func:`_uid`).
    ``read_only``/``writable``/``hidden``: extra paths (``writable`` ones must
    be owned by, or open to, the sandbox's uid: :meth:`own`).
    """

    slot: int
    role: int
    limits: Limits = Limits()
    read_only: Sequence[str] = ()
    writable: Sequence[str] = ()
    hidden: Sequence[str] = ()
    keep_caps: Sequence[str] = ()  # capabilities kept (root only): the checker keeps setuid/setgid for its nested sandbox

    def __post_init__(self):
        self.proc: subprocess.Popen | None = None
        self._cgroup: _Cgroup | None = None

    @property
    def uid(self) -> int | None:
        return _uid(self.slot, self.role)

    @property
    def limit_kind(self) -> str:
        return self._cgroup.kind if self._cgroup else "rlimit"

    def own(self, path: Path) -> None:
        """Make ``path`` (a tree) writable by the sandbox's uid."""
        if self.uid is None:
            return
        for root, dirs, files in os.walk(path):
            os.lchown(root, self.uid, self.uid)
            for name in dirs + files:
                os.lchown(os.path.join(root, name), self.uid, self.uid)

    def start(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str], stdin=subprocess.PIPE,
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
              pass_fds: Sequence[int] = ()) -> subprocess.Popen:
        self._cgroup = _Cgroup(f"{os.getpid()}-{self.slot}-{self.role}-{time.monotonic_ns()}", self.limits)
        args = _bwrap_args(read_only=[*kit_paths(), *self.read_only], writable=self.writable,
                           hidden=self.hidden, cwd=cwd, env=env)
        uid = self.uid
        if uid is not None:
            # bwrap runs as root (it resolves and mounts every path, /root's included) and keeps
            # only what the next step needs: setuid to the sandbox's uid, or, for the checker,
            # the setuid its nested sandbox needs.
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            if not self.keep_caps:
                args += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
        cgroup, limits = self._cgroup, self.limits
        nproc = limits.processes if uid is not None and not self.keep_caps else None

        def preexec() -> None:
            cgroup.join()
            _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds)
            if not self.keep_caps:
                _set_limit(resource.RLIMIT_AS, limits.memory_bytes)
            if nproc is not None:
                _set_limit(resource.RLIMIT_NPROC, nproc)
            _set_limit(resource.RLIMIT_CORE, 0)

        self.proc = subprocess.Popen([*args, "--", *argv], stdin=stdin, stdout=stdout, stderr=stderr,
                                     pass_fds=tuple(pass_fds), preexec_fn=preexec, start_new_session=True,
                                     env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        return self.proc

    def kill(self) -> None:
        """End the sandbox and everything in it; reap; remove the cgroup."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        if self._cgroup is not None:
            self._cgroup.kill_all()
            self._cgroup.remove()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def environment(*, home: str, extra: Mapping[str, str] = ()) -> dict[str, str]:
    """The whole environment of a sandboxed Python: nothing of the grader's but PATH's tools."""
    bindir = os.path.dirname(sys.executable)
    env = {"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
           "GOTOOLCHAIN": "local", "GOPROXY": "off", "GORUN_KIT_PROGRESS": "0",
           "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "TMPDIR": "/tmp",
           "MPLCONFIGDIR": os.path.join(home, ".matplotlib")}
    for key in _PASSED_ON:  # the grader's choice of tools holds inside too
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(dict(extra))
    return env


_PASSED_ON = ("GORUN_KIT_GO", "GORUN_KIT_STRICT", "CC", "GOFLAGS", "GOAMD64", "SOURCE_DATE_EPOCH")
