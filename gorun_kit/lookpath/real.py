"""Asking real Go what ``exec.LookPath`` returns, for the same scenario the model sees.

An :class:`Oracle` is one long-lived ``gorun_kit/_src/lookpath_oracle`` process: the
native Linux build, or the ``GOOS=windows`` build under Wine (see
:mod:`.wine`). Each question materialises the scenario's filesystem in a
fresh temporary directory, translates the scenario's paths onto it, asks over
a JSON line, translates the answer back, and removes the directory:

* linux: the virtual ``/a/b`` lives at ``<tmp>/a/b``; absolute PATH entries,
  the cwd and absolute names get ``<tmp>`` prepended, and the prefix is taken
  off the answer again;
* windows: the virtual drive ``C:`` is a spare drive letter of the kit's own
  Wine prefix (say ``M:``), held while the oracle runs, whose ``dosdevices``
  link points at ``<tmp>``; ``C:`` and ``M:`` are swapped in and out. Wine's
  filesystem ignores case, like Windows.

darwin has no oracle here (there is no macOS machine); results for it are
always ``modeled``. Use :func:`session` for many questions (one process), or
:func:`ask` for one.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

from .. import _src, build
from . import unix, wine
from .result import LookPathResult
from .vfs import VFS

__all__ = ["Oracle", "session", "ask", "oracle_binary", "Unsupported"]

_LAB = _src.source("lookpath_oracle")
_TIMEOUT = 60


class Unsupported(RuntimeError):
    """This machine cannot ask real Go for that GOOS (the message says why)."""


def oracle_binary(goos: str) -> build.Binary:
    return build.build_go(_LAB, goos=goos, goarch="amd64")


class Oracle:
    """One running oracle process for ``goos`` ("linux" natively, "windows" under Wine).

    ``uid``/``gid`` (linux, when running as root) run the oracle as another
    user, so permission checks are made for that user. Always close it (or use
    :func:`session`): closing ends the process and, for Wine, this prefix's
    wineserver.
    """

    def __init__(self, goos: str, *, uid: int | None = None, gid: int | None = None):
        if goos == "darwin":
            raise Unsupported("darwin: there is no macOS here to ask; darwin results are modeled only")
        if goos not in ("linux", "windows"):
            raise ValueError(f"goos {goos!r}: real runs exist for linux and windows")
        import sys

        if not sys.platform.startswith("linux"):
            raise Unsupported(f"real runs need Linux (this is {sys.platform})")
        self.goos = goos
        self.uid = os.geteuid() if uid is None else uid
        self.gid = (self.uid if gid is None else gid) if uid is not None else os.getegid()
        self._prefix: Path | None = None
        self._lease = None
        kwargs: dict = {}
        if goos == "linux" and (self.uid != os.geteuid() or self.gid != os.getegid()):
            if os.geteuid() != 0:
                raise Unsupported(f"asking Go as uid {self.uid} needs root (this is uid {os.geteuid()})")
            kwargs = dict(user=self.uid, group=self.gid, extra_groups=[])
        if goos == "windows":
            ok, why = wine.available()
            if not ok:
                raise Unsupported(f"windows runs need Wine and mingw-w64: {why}")
            if self.uid != os.geteuid():
                raise ValueError("uid applies to linux runs only")
            self._prefix = wine.prefix()
            self._lease = wine.Lease(self._prefix)
            exe = oracle_binary("windows").path
            cmd, env = wine.wine_command(exe), wine.wine_env(self._prefix)
        else:
            cmd, env = [oracle_binary("linux").path], dict(os.environ)
        self._base = Path(tempfile.mkdtemp(prefix=f"gorun-kit-lookpath-{goos}-"))
        try:
            os.chmod(self._base, 0o755)  # a non-root oracle must be able to reach its scenarios
            if kwargs:
                # The build cache may sit in a home directory that user cannot enter.
                own = self._base / "lookpath_oracle"
                shutil.copyfile(cmd[0], own)
                os.chmod(own, 0o755)
                cmd = [os.fspath(own)]
            try:
                self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True, env=env, cwd=self._base, **kwargs)
            except PermissionError as exc:
                if not kwargs:
                    raise
                raise Unsupported(f"uid {self.uid} cannot enter {self._base}: a directory above it is closed to "
                                  "that user; set TMPDIR to a directory every user may enter (such as /tmp)") from exc
        except BaseException:
            shutil.rmtree(self._base, ignore_errors=True)
            if self._lease is not None:
                self._lease.release()
            raise
        self.asked = 0

    @property
    def source(self) -> str:
        return "real (Go under Wine)" if self.goos == "windows" else "real"

    # ------------------------------------------------------------------ one question
    def _send(self, request: dict) -> dict:
        if self._proc.poll() is not None:
            raise RuntimeError(f"the {self.goos} lookpath oracle exited ({self._proc.returncode}): "
                               f"{self._proc.stderr.read()[-2000:]}")
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        # One request, one answer line: nothing else is buffered, so select on the pipe is exact.
        if not select.select([self._proc.stdout], [], [], _TIMEOUT)[0]:
            self.close()
            raise TimeoutError(f"the {self.goos} lookpath oracle did not answer within {_TIMEOUT} s; it was stopped")
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(timeout=_TIMEOUT)
            raise RuntimeError(f"the {self.goos} lookpath oracle died (exit status {self._proc.returncode}); "
                               f"its stderr: {self._proc.stderr.read()[-2000:]!r}")
        answer = json.loads(line)
        if answer.get("fatal"):
            raise RuntimeError(f"lookpath oracle could not run the scenario: {answer['fatal']}")
        return answer

    def ask(self, name: str, *, path: str, fs: VFS, cwd: str, pathext: str | None = None,
            env: dict | None = None) -> LookPathResult:
        """exec.LookPath(name) in this scenario, asked of Go."""
        self.asked += 1
        root = Path(tempfile.mkdtemp(prefix=f"s{self.asked}-", dir=self._base))
        try:
            os.chmod(root, 0o755)
            fs.materialise(root)
            req_env = dict(env or {})
            if self.goos == "windows":
                self._lease.map(root)
                letter = self._lease.letter
                to, back = _drive_swap("C", letter), _drive_swap(letter, "C")
                req_env["PATH"] = to(path)
                if pathext is not None:
                    req_env["PATHEXT"] = pathext
                request = {"name": to(name), "cwd": to(cwd), "env": req_env}
            else:
                entries = unix.split_list(path)
                rel = [d or "." for d in entries if not unix.is_abs(d)]
                if "/" in name and not unix.is_abs(name):
                    rel.append(name)
                for r in rel:
                    if _climbs_above(cwd, r):
                        raise Unsupported(f"{r!r} from cwd {cwd!r} climbs above the scenario's root; on disk "
                                          "that would leave the scenario directory, so it cannot be asked")
                # "/.." is "/" to the kernel, but "<tmp>/.." is the directory above the scenario.
                absolute = [d for d in entries if unix.is_abs(d)] + [cwd]
                for a in absolute + ([name] if unix.is_abs(name) else []):
                    if _climbs_above("/", a):
                        raise Unsupported(f"{a!r} climbs above the scenario's root (\"/..\" is \"/\" on a real "
                                          "system, but on disk it would leave the scenario directory), so it "
                                          "cannot be asked")
                prefix = os.fspath(root)
                req_env["PATH"] = ":".join(prefix + d if unix.is_abs(d) else d for d in path.split(":"))
                request = {"name": prefix + name if unix.is_abs(name) else name,
                           "cwd": prefix + cwd.rstrip("/") + "/", "env": req_env}
                back = _strip_prefix(prefix)
            answer = self._send(request)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return LookPathResult(back(answer.get("path", "")), answer.get("error") or None,
                              back(answer.get("message", "")), self.source)

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        proc = self._proc
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
        if self._lease is not None:
            self._lease.release()
        shutil.rmtree(self._base, ignore_errors=True)

    def __enter__(self) -> "Oracle":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _climbs_above(cwd: str, relative: str) -> bool:
    depth = len([c for c in cwd.split("/") if c])
    for comp in relative.split("/"):
        if comp == "..":
            depth -= 1
            if depth < 0:
                return True
        elif comp not in ("", "."):
            depth += 1
    return False


def _drive_swap(src: str, dst: str):
    def swap(text: str) -> str:
        return text.replace(src + ":", dst + ":").replace(src.lower() + ":", dst.lower() + ":")
    return swap


def _strip_prefix(prefix: str):
    def strip(text: str) -> str:
        return text.replace(prefix + "/", "/").replace(prefix, "/")
    return strip


@contextlib.contextmanager
def session(goos: str, *, uid: int | None = None, gid: int | None = None) -> Iterator[Oracle]:
    """One oracle process for many questions; always cleaned up."""
    oracle = Oracle(goos, uid=uid, gid=gid)
    try:
        yield oracle
    finally:
        oracle.close()


def ask(name: str, *, goos: str, path: str, fs: VFS, cwd: str, pathext: str | None = None,
        env: dict | None = None, uid: int = 0, gid: int | None = None) -> LookPathResult:
    """One question, one oracle process (see :func:`session` for many)."""
    if goos != "windows" and pathext is not None:
        raise ValueError("pathext is a Windows setting")
    same_user = uid == os.geteuid() and (gid is None or gid == os.getegid())
    with session(goos, uid=None if same_user or goos == "windows" else uid,
                 gid=None if same_user else gid) as oracle:
        return oracle.ask(name, path=path, fs=fs, cwd=cwd, pathext=pathext, env=env)
