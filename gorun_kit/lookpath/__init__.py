"""Go's ``exec.LookPath`` rules for Linux, macOS and Windows, as pure Python,
and runners that ask real Go the same question.

* :mod:`.unix` follows ``lp_unix.go`` (Linux and macOS share it),
  :mod:`.windows` follows ``lp_windows.go``;
* :mod:`.vfs` is the virtual filesystem a scenario lives in (macOS gets a
  case-insensitive one by default, like its default APFS volume);
* :mod:`.real` asks real Go: natively on Linux, and a ``GOOS=windows`` build
  under Wine (:mod:`.wine` owns the Wine prefix and its ProcessPrng shim);
* :mod:`.compare` puts one scenario to linux, darwin and windows side by side,
  :mod:`.experiments` runs the chapter 2.3/2.5 labs (Cmd environment, hooks).

``lookpath(...)`` is the one entry point for the model; ``real(...)`` has the
same arguments and asks Go.
"""
from __future__ import annotations

from . import unix, windows
# Imported before the function ``real`` below is defined: importing the
# submodule sets the package attribute ``real``, and the function must win.
from . import real as _real_module
from .result import ERRORS, LookPathResult
from .vfs import VFS, Entry, FsError

session = _real_module.session  # many real questions, one Go process: ``with lookpath.session("windows") as go:``

__all__ = ["GOOSES", "lookpath", "default_fs", "default_cwd", "real", "session", "LookPathResult", "VFS",
           "Entry", "FsError", "ERRORS"]

GOOSES = ("linux", "darwin", "windows")


def _check_goos(goos: str) -> None:
    if goos not in GOOSES:
        raise ValueError(f"goos {goos!r}: choose one of {', '.join(GOOSES)}")


def default_fs(goos: str) -> VFS:
    """An empty filesystem with the OS's usual case rule."""
    _check_goos(goos)
    if goos == "windows":
        return VFS.windows()
    return VFS.posix(case_sensitive=(goos == "linux"))


def default_cwd(goos: str) -> str:
    _check_goos(goos)
    return "C:\\" if goos == "windows" else "/"


def _check_no_nul(name: str, path: str, pathext: str | None, cwd: str | None, env: dict | None) -> None:
    """Refuse a NUL byte where no real process can have one: in an environment
    variable (execve passes C strings, and Go's os.Setenv refuses it with
    EINVAL, so real Go would not see that PATH at all), in the cwd, or in the
    name (a file name cannot hold one; stat fails with EINVAL)."""
    texts = {"the name": name, "PATH": path, "PATHEXT": pathext or "", "cwd": cwd or ""}
    texts.update({f"env {k!r}": f"{k}={v}" for k, v in (env or {}).items()})
    for what, text in texts.items():
        if "\0" in text:
            raise ValueError(f"{what} ({text!r}) contains a NUL byte; no process can have one in a file name or "
                             "an environment variable (Go's os.Setenv refuses it), remove it")


def _check_scenario(goos: str, fs: VFS, cwd: str, uid: int = 0, gid: int | None = None) -> None:
    want = "windows" if goos == "windows" else "posix"
    if fs.flavor != want:
        raise ValueError(f"fs is a {fs.flavor} filesystem but goos={goos!r} needs a {want} one "
                         f"(use lookpath.default_fs({goos!r}))")
    if not fs.is_abs(cwd):
        raise ValueError(f"cwd {cwd!r} must be an absolute {goos} path")
    try:
        ok = fs.lookup(cwd, cwd=cwd).is_dir
    except FsError as exc:
        raise ValueError(f"cwd {cwd!r} is not a directory of the scenario's filesystem ({exc.code}); "
                         "add it with fs.dir(...)") from None
    if not ok:
        raise ValueError(f"cwd {cwd!r} is a file, not a directory")
    if fs.flavor == "posix":
        gid = uid if gid is None else gid
        try:
            fs.lookup(cwd.rstrip("/") + "/.", cwd=cwd, uid=uid, gid=gid)
        except FsError as exc:
            raise ValueError(f"cwd {cwd!r}: uid {uid} could not change into it ({exc.code}); "
                             "give it search permission or choose another cwd") from None


def lookpath(name: str, *, goos: str, path: str, pathext: str | None = None, cwd: str | None = None,
             env: dict | None = None, fs: VFS | None = None, uid: int = 0,
             gid: int | None = None, faccessat2: str = "ok") -> LookPathResult:
    """What ``exec.LookPath(name)`` returns on ``goos`` with ``PATH=path`` (modelled).

    ``pathext`` (Windows only; None = unset), ``cwd`` (default "/" or "C:\\"),
    ``env`` for extra variables (``GODEBUG``, ``NoDefaultCurrentDirectoryInExePath``),
    ``fs`` the scenario's files, ``uid``/``gid`` the effective ids (Unix),
    ``faccessat2`` (Linux only) "ok", or "ENOSYS"/"EPERM" for a kernel or
    seccomp profile where that call fails (see :mod:`.unix`).
    """
    _check_goos(goos)
    _check_no_nul(name, path, pathext, cwd, env)
    unix.check_faccessat2(faccessat2, goos)
    fs = fs if fs is not None else default_fs(goos)
    cwd = cwd if cwd is not None else default_cwd(goos)
    _check_scenario(goos, fs, cwd, uid, gid)
    if goos == "windows":
        return windows.look_path(name, path=path, fs=fs, cwd=cwd, pathext=pathext, env=env)
    if pathext is not None:
        raise ValueError(f"pathext is a Windows setting; goos={goos!r} ignores it (pass pathext=None)")
    return unix.look_path(name, path=path, fs=fs, cwd=cwd, env=env, uid=uid, gid=gid, goos=goos,
                          faccessat2=faccessat2)


def real(name: str, *, goos: str, path: str, pathext: str | None = None, cwd: str | None = None,
         env: dict | None = None, fs: VFS | None = None, uid: int = 0,
         gid: int | None = None) -> LookPathResult:
    """Ask real Go (see :func:`.real.ask`); same arguments as :func:`lookpath`."""
    _check_goos(goos)
    _check_no_nul(name, path, pathext, cwd, env)
    fs = fs if fs is not None else default_fs(goos)
    cwd = cwd if cwd is not None else default_cwd(goos)
    _check_scenario(goos, fs, cwd, uid, gid)
    return _real_module.ask(name, goos=goos, path=path, pathext=pathext, cwd=cwd, env=env, fs=fs, uid=uid, gid=gid)
