"""LookPath on Windows, following ``src/os/exec/lp_windows.go``.

What differs from Unix, step by step as Go does it:

* the variable is read as ``path`` (Windows environment names ignore case)
  and split on ";" with double quotes protecting separators (quotes removed);
  empty elements are *skipped*, not read as ".";
* extensions come from ``PATHEXT``, lowercased, each given a leading "." if
  missing; unset or empty PATHEXT means ``.com .exe .bat .cmd``;
* a name that already has an extension is tried as-is first, then with each
  extension appended (``foo.bat`` can resolve to ``foo.bat.exe``);
* there is no permission check: ``chkStat`` only asks that the name exists and
  is not a directory (a directory is fs.ErrPermission);
* the current directory is tried first, unless the variable
  ``NoDefaultCurrentDirectoryInExePath`` exists (any value), but a hit there is
  *held back*: the search goes on, and the first %PATH% hit decides. The same
  file (os.SameFile) is returned by its %PATH% name with no error; a different
  file, or no %PATH% hit at all, returns the held-back one with ErrDot
  (go.dev/issue/53536);
* a name with ``:``, ``\\`` or ``/`` is checked directly.

Paths use Go's Windows ``filepath`` rules (ported below for drive-letter and
relative paths), and the filesystem is case-insensitive.
"""
from __future__ import annotations

from .result import LookPathResult, execerrdot_off, quote
from .vfs import VFS, FsError

__all__ = ["split_list", "clean", "join", "is_abs", "has_ext", "path_ext", "look_path",
           "DEFAULT_PATHEXT", "NOT_FOUND_MESSAGE"]

DEFAULT_PATHEXT = (".com", ".exe", ".bat", ".cmd")
NOT_FOUND_MESSAGE = "executable file not found in %PATH%"
DOT_MESSAGE = "cannot run executable found relative to current directory"
_SEPS = "\\/"


def _is_sep(c: str) -> bool:
    return c in _SEPS


def volume_name_len(path: str) -> int:
    if len(path) >= 2 and path[1] == ":":
        return 2
    if len(path) >= 2 and _is_sep(path[0]) and _is_sep(path[1]):
        raise ValueError(f"path {path!r}: UNC and device paths are not modelled; use a drive-letter path")
    return 0


def is_abs(path: str) -> bool:
    n = volume_name_len(path)
    return n > 0 and len(path) > n and _is_sep(path[n])


def split_list(path: str) -> list[str]:
    """``filepath.SplitList`` on Windows: ';' outside double quotes; quotes removed."""
    if path == "":
        return []
    out, start, quoted = [], 0, False
    for i, c in enumerate(path):
        if c == '"':
            quoted = not quoted
        elif c == ";" and not quoted:
            out.append(path[start:i])
            start = i + 1
    out.append(path[start:])
    return [s.replace('"', "") for s in out]


def clean(path: str) -> str:
    """``filepath.Clean`` on Windows (internal/filepathlite), for drive-letter and relative paths."""
    original = path
    vol = volume_name_len(path)
    volume, path = original[:vol], original[vol:]
    if path == "":
        return original + "."
    rooted = _is_sep(path[0])
    out: list[str] = []
    dotdot = 0  # how many leading ".." elements out holds (they cannot be removed)
    for part in path.replace("/", "\\").split("\\"):
        if part in ("", "."):
            continue
        if part == "..":
            if len(out) > dotdot:
                out.pop()
            elif not rooted:
                out.append("..")
                dotdot = len(out)
            continue
        out.append(part)
    text = "\\".join(out)
    if rooted:
        text = "\\" + text
    elif not text:
        text = "."
    # postClean: a relative result whose first element holds ':' would read as a volume. Go
    # runs it only when cleaning changed the path (its lazybuf was written): Clean("ab:c") is "ab:c".
    changed = text != path[:len(text)]
    if not volume and not rooted and changed and ":" in text.split("\\", 1)[0]:
        text = ".\\" + text
    return volume + text


def join(*elems: str) -> str:
    """``filepath.Join`` on Windows (path_windows.go join, then Clean)."""
    buf = ""
    for e in elems:
        if buf == "":
            pass
        elif _is_sep(buf[-1]):
            e = e.lstrip(_SEPS)
        elif buf[-1] == ":":
            pass  # Join("C:", "f") is "C:f": stay relative to the drive's directory
        else:
            buf += "\\"
        buf += e
    return clean(buf) if buf else ""


def has_ext(file: str) -> bool:
    i = file.rfind(".")
    if i < 0:
        return False
    return max(file.rfind(c) for c in ":\\/") < i


def path_ext(pathext: str | None) -> list[str]:
    """``pathExt()``: the extensions tried, from the PATHEXT value (None = unset)."""
    if not pathext:
        return list(DEFAULT_PATHEXT)
    exts = []
    for e in pathext.lower().split(";"):
        if e == "":
            continue
        exts.append(e if e.startswith(".") else "." + e)
    return exts


def _chk_stat(fs: VFS, file: str, cwd: str) -> str | None:
    """None when ``file`` exists and is not a directory, else the error name."""
    try:
        node = fs.lookup(file, cwd=cwd)
    except FsError:
        return "ErrNotExist"  # ERROR_FILE_NOT_FOUND / ERROR_PATH_NOT_FOUND: errors.Is(err, fs.ErrNotExist)
    return "ErrPermission" if node.is_dir else None


def find_executable(fs: VFS, file: str, exts: list[str], cwd: str) -> tuple[str, str | None]:
    """(the name that exists, None) or ("", error name)."""
    if not exts:
        bad = _chk_stat(fs, file, cwd)
        return (file, None) if bad is None else ("", bad)
    if has_ext(file) and _chk_stat(fs, file, cwd) is None:
        return file, None
    for e in exts:
        if _chk_stat(fs, file + e, cwd) is None:
            return file + e, None
    return ("", "ErrNotExist") if has_ext(file) else ("", "ErrNotFound")


def _getenv(env: dict, key: str) -> tuple[bool, str]:
    for k, v in env.items():
        if k.upper() == key.upper():
            return True, v
    return False, ""


_MESSAGES = {"ErrNotFound": NOT_FOUND_MESSAGE, "ErrDot": DOT_MESSAGE,
             "ErrNotExist": "file does not exist", "ErrPermission": "permission denied"}


def look_path(name: str, *, path: str, fs: VFS, cwd: str = "C:\\", pathext: str | None = None,
              env: dict | None = None) -> LookPathResult:
    """What Go's ``exec.LookPath(name)`` returns on Windows in this scenario.

    ``env`` may hold ``NoDefaultCurrentDirectoryInExePath`` and ``GODEBUG``
    (names compared without case, as Windows does).
    """
    env = env or {}

    def res(found: str, code: str | None) -> LookPathResult:
        if code is None:
            return LookPathResult(found, None)
        return LookPathResult(found, code, f"exec: {quote(name)}: {_MESSAGES.get(code, code)}")

    if name in ("", ".", ".."):
        return res("", "ErrNotFound")
    exts = path_ext(pathext)
    dot_off = execerrdot_off(_getenv(env, "GODEBUG")[1])

    if any(c in name for c in ":\\/"):
        found, code = find_executable(fs, name, exts, cwd)
        return res(found, code)

    dotf, dot_err = "", None
    if not _getenv(env, "NoDefaultCurrentDirectoryInExePath")[0]:
        found, code = find_executable(fs, join(".", name), exts, cwd)
        if code is None:
            if dot_off:
                return res(found, None)
            dotf, dot_err = found, "ErrDot"

    for d in split_list(path):
        if d == "":
            continue  # skipped, consistent with PowerShell (go.dev/issue/61493)
        found, code = find_executable(fs, join(d, name), exts, cwd)
        if code is not None:
            continue
        if dot_err is not None and not _same_file(fs, dotf, found, cwd):
            return res(dotf, dot_err)
        if not is_abs(found):
            if not dot_off:
                if dot_err is None:
                    dotf, dot_err = found, "ErrDot"
                continue
        return res(found, None)
    if dot_err is not None:
        return res(dotf, dot_err)
    return res("", "ErrNotFound")


def _same_file(fs: VFS, a: str, b: str, cwd: str) -> bool:
    """``os.SameFile(os.Lstat(a), os.Lstat(b))``."""
    try:
        return fs.lookup(a, cwd=cwd, follow=False).path == fs.lookup(b, cwd=cwd, follow=False).path
    except FsError:
        return False
