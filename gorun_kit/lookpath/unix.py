"""LookPath on Linux and macOS, following ``src/os/exec/lp_unix.go``.

Both systems compile that one file (``//go:build unix``); what differs is the
filesystem under it (macOS's default volume ignores case), which the caller
passes in as a :class:`~.vfs.VFS`. The steps, as Go does them:

1. ``validateLookPath``: "", "." and ".." are ErrNotFound.
2. A name containing "/" is checked directly, no PATH search, and returned as given.
3. Otherwise ``filepath.SplitList(PATH)`` (":"; an empty PATH is no entries at all),
   an empty element means ".", candidate = ``filepath.Join(dir, name)`` (cleaned).
4. ``findExecutable``: stat (follows links; errors as errno), a directory is
   EISDIR, then ``unix.Eaccess(file, X_OK)`` for the effective uid.
5. A hit that is not absolute comes back *with* ErrDot unless GODEBUG=execerrdot=0.

Step 4 on Linux, and the ``faccessat2`` argument ("ok", "ENOSYS", "EPERM"):
``Eaccess`` (internal/syscall/unix/eaccess.go) is ``faccessat(AT_FDCWD, file,
X_OK, AT_EACCESS)``, which on Linux is ``syscall.Faccessat``
(internal/syscall/unix/faccessat_syscall.go). With a flag set, ``Faccessat``
(syscall/syscall_linux.go) first calls faccessat2:

* "ok": the kernel answers (the DAC check :meth:`.vfs.VFS.may_execute` models);
* "ENOSYS" (a kernel before 5.8) or "EPERM" (a seccomp profile that denies it):
  ``Faccessat`` falls back to its own check in user space -- fstatat, then
  euid 0 may execute when any x bit is set, otherwise the owner, group
  (egid or a supplementary group) or other bits decide -- and returns
  ``syscall.EACCES``, so the error stays EACCES ("permission denied").

The ``m&0111`` / ``fs.ErrPermission`` fallback in lp_unix.go's
``findExecutable`` runs only when ``Eaccess`` itself returns ENOSYS or EPERM.
On Linux that needs the fallback's fstatat to fail so, but os.Stat made the
same fstatat call a moment before, so it is not reached there (it is for
android, whose ``Eaccess`` always returns ENOSYS; not a goos modelled here).

For everything a :class:`.vfs.VFS` holds, the fallback's answer equals the
kernel's (tests/test_lookpath_fallback.py checks both against Go under a
seccomp filter). They part where the VFS does not reach: uid 0 without
CAP_DAC_OVERRIDE (the kernel checks its owner/group/other bits, the fallback
still lets it run any file with an x bit), noexec mounts, ACLs and LSMs (the
fallback sees mode bits only).
"""
from __future__ import annotations

from .result import LookPathResult, execerrdot_off, quote
from .vfs import VFS, FsError, Node

__all__ = ["split_list", "clean", "join", "is_abs", "find_executable", "look_path", "NOT_FOUND_MESSAGE",
           "FACCESSAT2", "check_faccessat2", "faccessat_fallback"]

NOT_FOUND_MESSAGE = "executable file not found in $PATH"
# How the faccessat2 system call behaves: answers, is missing, or is denied by seccomp.
FACCESSAT2 = ("ok", "ENOSYS", "EPERM")
DOT_MESSAGE = "cannot run executable found relative to current directory"
_ERRNO_TEXT = {
    "ENOENT": "no such file or directory",
    "ENOTDIR": "not a directory",
    "EACCES": "permission denied",
    "ELOOP": "too many levels of symbolic links",
    "EISDIR": "is a directory",
    "ENAMETOOLONG": "file name too long",
}


def split_list(path: str) -> list[str]:
    """``filepath.SplitList`` on Unix (path/filepath/path_unix.go)."""
    return [] if path == "" else path.split(":")


def is_abs(path: str) -> bool:
    return path.startswith("/")


def clean(path: str) -> str:
    """``filepath.Clean`` with "/" separators (a port of Go's lexical algorithm)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    text = "/".join(out)
    if rooted:
        return "/" + text
    return text or "."


def join(*elems: str) -> str:
    """``filepath.Join``: empty elements are ignored, the result is cleaned."""
    parts = [e for e in elems if e]
    return clean("/".join(parts)) if parts else ""


def check_faccessat2(faccessat2: str, goos: str = "linux") -> None:
    """ValueError unless ``faccessat2`` is one of :data:`FACCESSAT2` and makes sense on ``goos``."""
    if faccessat2 not in FACCESSAT2:
        raise ValueError(f"faccessat2 {faccessat2!r}: choose one of {', '.join(FACCESSAT2)}")
    if faccessat2 != "ok" and goos != "linux":
        raise ValueError(f"faccessat2={faccessat2!r} is a Linux setting; on goos={goos!r} Eaccess does not call "
                         "faccessat2 (pass faccessat2='ok')")


def faccessat_fallback(node: Node, uid: int, gid: int) -> bool:
    """X_OK as ``syscall.Faccessat`` checks it in user space when faccessat2
    fails with ENOSYS/EPERM (syscall/syscall_linux.go, flags=AT_EACCESS).

    Root is euid 0 here, not CAP_DAC_OVERRIDE (``isCapDacOverrideSet`` only
    promotes non-root uids, which the model does not give capabilities); the
    model's one ``gid`` stands for Go's egid-or-``isGroupMember`` test.
    """
    if uid == 0:
        return bool(node.mode & 0o111)  # "Root can execute any file that anybody can execute."
    if uid == node.uid:
        fmode = (node.mode >> 6) & 7
    elif gid == node.gid:
        fmode = (node.mode >> 3) & 7
    else:
        fmode = node.mode & 7
    return bool(fmode & 1)


def find_executable(fs: VFS, file: str, *, cwd: str, uid: int, gid: int,
                    faccessat2: str = "ok") -> tuple[str, str] | None:
    """None when ``file`` is executable, else (error name, err.Error() text).

    ``faccessat2`` says how that system call behaves (see the module docstring).
    """
    check_faccessat2(faccessat2)
    try:
        node = fs.lookup(file, cwd=cwd, uid=uid, gid=gid)
    except FsError as exc:
        return exc.code, f"stat {file}: {_ERRNO_TEXT.get(exc.code, exc.code)}"
    if node.is_dir:
        return "EISDIR", _ERRNO_TEXT["EISDIR"]
    if faccessat2 == "ok":
        allowed = fs.may_execute(node, uid, gid)
    else:
        allowed = faccessat_fallback(node, uid, gid)
    if not allowed:
        return "EACCES", _ERRNO_TEXT["EACCES"]
    return None


def look_path(name: str, *, path: str, fs: VFS, cwd: str = "/", env: dict | None = None,
              uid: int = 0, gid: int | None = None, goos: str = "linux",
              faccessat2: str = "ok") -> LookPathResult:
    """What Go's ``exec.LookPath(name)`` returns on ``goos`` (linux or darwin) in this scenario.

    ``faccessat2`` ("ok", "ENOSYS", "EPERM"; Linux only) is how that system call behaves.
    """
    check_faccessat2(faccessat2, goos)
    gid = uid if gid is None else gid
    env = env or {}

    def err(code: str, text: str, found: str = "") -> LookPathResult:
        return LookPathResult(found, code, f"exec: {quote(name)}: {text}")

    if name in ("", ".", ".."):
        return err("ErrNotFound", NOT_FOUND_MESSAGE)
    if "/" in name:
        bad = find_executable(fs, name, cwd=cwd, uid=uid, gid=gid, faccessat2=faccessat2)
        return LookPathResult(name, None) if bad is None else err(*bad)
    for d in split_list(path):
        if d == "":
            d = "."  # Unix shell semantics: an empty element is the current directory
        candidate = join(d, name)
        if find_executable(fs, candidate, cwd=cwd, uid=uid, gid=gid, faccessat2=faccessat2) is None:
            if not is_abs(candidate) and not execerrdot_off(env.get("GODEBUG")):
                return err("ErrDot", DOT_MESSAGE, candidate)
            return LookPathResult(candidate, None)
    return err("ErrNotFound", NOT_FOUND_MESSAGE)
