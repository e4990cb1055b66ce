"""LookPath on Linux and macOS, following ``src/os/exec/lp_unix.go``.

Both systems compile that one file (``//go:build unix``); what differs is the
filesystem under it (macOS's default volume ignores case), which the caller
passes in as a :class:`~.vfs.VFS`. The steps, as Go does them:

1. ``validateLookPath``: "", "." and ".." are ErrNotFound.
2. A name containing "/" is checked directly, no PATH search, and returned as given.
3. Otherwise ``filepath.SplitList(PATH)`` (":"; an empty PATH is no entries at all),
   an empty element means ".", candidate = ``filepath.Join(dir, name)`` (cleaned).
4. ``findExecutable``: stat (follows links; errors as errno), a directory is
   EISDIR, then ``eaccess(X_OK)`` for the effective uid (faccessat2 with
   AT_EACCESS; the mode-bit fallback is only for ENOSYS/EPERM kernels).
5. A hit that is not absolute comes back *with* ErrDot unless GODEBUG=execerrdot=0.
"""
from __future__ import annotations

from .result import LookPathResult, execerrdot_off, quote
from .vfs import VFS, FsError

__all__ = ["split_list", "clean", "join", "is_abs", "find_executable", "look_path", "NOT_FOUND_MESSAGE"]

NOT_FOUND_MESSAGE = "executable file not found in $PATH"
DOT_MESSAGE = "cannot run executable found relative to current directory"
_ERRNO_TEXT = {
    "ENOENT": "no such file or directory",
    "ENOTDIR": "not a directory",
    "EACCES": "permission denied",
    "ELOOP": "too many levels of symbolic links",
    "EISDIR": "is a directory",
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


def find_executable(fs: VFS, file: str, *, cwd: str, uid: int, gid: int) -> tuple[str, str] | None:
    """None when ``file`` is executable, else (error name, err.Error() text)."""
    try:
        node = fs.lookup(file, cwd=cwd, uid=uid, gid=gid)
    except FsError as exc:
        return exc.code, f"stat {file}: {_ERRNO_TEXT.get(exc.code, exc.code)}"
    if node.is_dir:
        return "EISDIR", _ERRNO_TEXT["EISDIR"]
    if not fs.may_execute(node, uid, gid):
        return "EACCES", _ERRNO_TEXT["EACCES"]
    return None


def look_path(name: str, *, path: str, fs: VFS, cwd: str = "/", env: dict | None = None,
              uid: int = 0, gid: int | None = None, goos: str = "linux") -> LookPathResult:
    """What Go's ``exec.LookPath(name)`` returns on ``goos`` (linux or darwin) in this scenario."""
    gid = uid if gid is None else gid
    env = env or {}

    def err(code: str, text: str, found: str = "") -> LookPathResult:
        return LookPathResult(found, code, f"exec: {quote(name)}: {text}")

    if name in ("", ".", ".."):
        return err("ErrNotFound", NOT_FOUND_MESSAGE)
    if "/" in name:
        bad = find_executable(fs, name, cwd=cwd, uid=uid, gid=gid)
        return LookPathResult(name, None) if bad is None else err(*bad)
    for d in split_list(path):
        if d == "":
            d = "."  # Unix shell semantics: an empty element is the current directory
        candidate = join(d, name)
        if find_executable(fs, candidate, cwd=cwd, uid=uid, gid=gid) is None:
            if not is_abs(candidate) and not execerrdot_off(env.get("GODEBUG")):
                return err("ErrDot", DOT_MESSAGE, candidate)
            return LookPathResult(candidate, None)
    return err("ErrNotFound", NOT_FOUND_MESSAGE)
