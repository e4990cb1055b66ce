"""A small virtual filesystem for LookPath scenarios.

It holds just what LookPath's answer depends on: regular files, directories
and symbolic links, with permission bits and owners, and whether names compare
case-sensitively. The same value is evaluated in memory by the Python models
(:mod:`.unix`, :mod:`.windows`) and written to disk by :meth:`VFS.materialise`
for the real-Go runs, so model and Go see one scenario.

Two path flavours exist, as in Go: ``posix`` (``/a/b``, Linux and macOS) and
``windows`` (``C:\\a\\b``, ``/`` accepted as a separator, drive letters
compared without case). A VFS is immutable: :meth:`file`, :meth:`dir` and
:meth:`symlink` return a new one, so it can sit in a frozen record.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import stat as _stat
from pathlib import Path

from ..records import Record

__all__ = ["Entry", "VFS", "FsError", "Node"]

MAX_SYMLINKS = 40  # Linux's limit before ELOOP
NAME_MAX = 255  # bytes in one path component (Linux, and NTFS's 255 UTF-16 units is no tighter for ASCII)
PATH_MAX = 4096  # bytes in a path given to a system call, its terminating NUL included
# An entry's path must fit in PATH_MAX once it is materialised under a scenario
# directory (a real run's /tmp/gorun-kit-lookpath-linux-XXXX/sN-XXXX/ prefix).
ENTRY_PATH_MAX = PATH_MAX - 256


class FsError(OSError):
    """A failed lookup; ``code`` is the errno-style name (ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG)."""

    def __init__(self, code: str, path: str):
        super().__init__(f"{code}: {path}")
        self.code = code
        self.path = path


@dataclasses.dataclass(frozen=True)
class Entry(Record):
    """One thing in the filesystem. ``path`` is absolute; ``target`` only for symlinks."""

    path: str
    kind: str  # "file", "dir", "symlink"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    target: str = ""

    def to_dict(self) -> dict:
        # the mode as written in a scenario ("0o755"), not as a decimal number
        return {**super().to_dict(), "mode": oct(self.mode)}


@dataclasses.dataclass(frozen=True)
class Node(Record):
    """What a lookup found (symlinks already followed unless asked not to)."""

    path: tuple[str, ...]  # canonical key of the entry (folded when case-insensitive)
    kind: str
    mode: int
    uid: int
    gid: int
    target: str = ""

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"


def _split_posix(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def _split_windows(path: str) -> tuple[str, list[str]]:
    """``C:\\a/b`` -> ("C:", ["a", "b"]). Only drive-letter paths are modelled."""
    p = path.replace("/", "\\")
    if len(p) >= 2 and p[1] == ":":
        return p[:2].upper(), [c for c in p[2:].split("\\") if c]
    if p.startswith("\\\\"):
        raise ValueError(f"path {path!r}: UNC and device paths (\\\\host\\share, \\\\?\\) are not modelled; "
                         "use a drive-letter path such as C:\\dir")
    return "", [c for c in p.split("\\") if c]


def _too_long(path: str) -> bool:
    """Whether Linux refuses ``path`` with ENAMETOOLONG: a component longer
    than NAME_MAX bytes, or the whole path not fitting in PATH_MAX."""
    raw = os.fsencode(path)
    return len(raw) >= PATH_MAX or any(len(c) > NAME_MAX for c in raw.split(b"/"))


def _check_entry_path(e: Entry) -> None:
    """Refuse an entry that no real filesystem could hold (ValueError naming it)."""
    for text, what in ((e.path, "path"), (e.target, "symlink target")):
        if "\0" in text:
            raise ValueError(f"entry {e.path!r}: its {what} contains a NUL byte, which no file name can hold")
    names = e.path.replace("\\", "/").split("/")
    longest = max(names, key=lambda c: len(os.fsencode(c)))
    if len(os.fsencode(longest)) > NAME_MAX:
        raise ValueError(f"entry {e.path[:60]!r}...: a name of {len(os.fsencode(longest))} bytes is longer than "
                         f"NAME_MAX ({NAME_MAX} bytes); Linux refuses it (ENAMETOOLONG), use a shorter name")
    if len(os.fsencode(e.target)) > ENTRY_PATH_MAX:
        raise ValueError(f"symlink {e.path!r}: the target is {len(os.fsencode(e.target))} bytes; the scenario "
                         f"keeps targets to {ENTRY_PATH_MAX} bytes so they fit in PATH_MAX on disk")
    if len(os.fsencode(e.path)) > ENTRY_PATH_MAX:
        raise ValueError(f"entry {e.path[:60]!r}...: the path is {len(os.fsencode(e.path))} bytes; the scenario "
                         f"keeps paths to {ENTRY_PATH_MAX} bytes so they fit in PATH_MAX on disk, use a shorter one")


@dataclasses.dataclass(frozen=True)
class VFS(Record):
    """An immutable set of :class:`Entry` values plus the lookup rules.

    ``flavor`` is "posix" or "windows"; ``case_sensitive`` defaults to True for
    posix (Linux ext4) and False for windows. macOS's default APFS volume is
    case-insensitive: use ``VFS.posix(case_sensitive=False)``.
    """

    flavor: str = "posix"
    case_sensitive: bool = True
    entries: tuple[Entry, ...] = ()

    def __post_init__(self) -> None:
        if self.flavor not in ("posix", "windows"):
            raise ValueError(f"VFS flavor {self.flavor!r}: use 'posix' or 'windows'")
        seen: dict[tuple, Entry] = {}
        for e in self.entries:
            if e.kind not in ("file", "dir", "symlink"):
                raise ValueError(f"entry {e.path!r}: kind {e.kind!r} is not file, dir or symlink")
            _check_entry_path(e)
            key = self._key(e.path)
            if not key or (self.flavor == "windows" and len(key) == 1):
                raise ValueError(f"entry {e.path!r}: cannot replace the root directory")
            if key in seen and seen[key] != e:
                raise ValueError(f"entry {e.path!r} clashes with {seen[key].path!r}"
                                 + ("" if self.case_sensitive else " (this filesystem ignores case)"))
            seen[key] = e
        for key, e in seen.items():
            parent = seen.get(key[:-1])
            if parent is not None and parent.kind != "dir":
                raise ValueError(f"entry {e.path!r} is inside {parent.path!r}, which is a {parent.kind}, not a "
                                 "directory; make the parent a directory"
                                 + (" (or put the entry under the link's target)" if parent.kind == "symlink" else ""))

    # ------------------------------------------------------------------ building
    @classmethod
    def posix(cls, *, case_sensitive: bool = True) -> "VFS":
        return cls("posix", case_sensitive)

    @classmethod
    def windows(cls) -> "VFS":
        return cls("windows", False)

    def _with(self, entry: Entry) -> "VFS":
        if not self.is_abs(entry.path):
            example = "/dir/name" if self.flavor == "posix" else "C:\\dir\\name"
            raise ValueError(f"entry path {entry.path!r} must be absolute (like {example})")
        # Parent directories are created implicitly (0755, owned by root), like mkdir -p.
        new = list(self.entries)
        have = {self._key(e.path) for e in new}
        key = self._key(entry.path)
        start = 1 if self.flavor == "windows" else 0
        for i in range(start + 1, len(key)):
            if key[:i] not in have:
                new.append(Entry(self._join_key(entry.path, i), "dir"))
                have.add(key[:i])
        if not self.case_sensitive:
            # On a case-insensitive filesystem "Tool" and "tool" are one name: say so rather than replace.
            for e in new:
                if self._key(e.path) == key and self._spelling(e.path) != self._spelling(entry.path):
                    raise ValueError(f"entry {entry.path!r} clashes with {e.path!r} (this filesystem ignores case)")
        new = [e for e in new if self._key(e.path) != key] + [entry]
        return dataclasses.replace(self, entries=tuple(new))

    def file(self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> "VFS":
        return self._with(Entry(path, "file", mode, uid, gid))

    def dir(self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> "VFS":
        return self._with(Entry(path, "dir", mode, uid, gid))

    def symlink(self, path: str, target: str) -> "VFS":
        if self.flavor == "windows":
            raise ValueError("symlinks are modelled for posix filesystems only")
        if not target:
            raise ValueError(f"symlink {path!r}: the target is empty; Linux refuses an empty target "
                             "(symlink(2) fails with ENOENT), give the path it points to")
        return self._with(Entry(path, "symlink", 0o777, 0, 0, target))

    # ------------------------------------------------------------------ paths
    def is_abs(self, path: str) -> bool:
        if self.flavor == "posix":
            return path.startswith("/")
        p = path.replace("/", "\\")
        return len(p) >= 3 and p[1] == ":" and p[2] == "\\"

    def _spelling(self, path: str) -> tuple[str, ...]:
        if self.flavor == "posix":
            return tuple(_split_posix(path))
        drive, comps = _split_windows(path)
        return (drive, *comps)

    def _fold(self, name: str) -> str:
        return name if self.case_sensitive else name.casefold()

    def _key(self, path: str) -> tuple[str, ...]:
        if self.flavor == "posix":
            return tuple(self._fold(c) for c in _split_posix(path))
        drive, comps = _split_windows(path)
        return (drive, *(self._fold(c) for c in comps))

    def _join_key(self, path: str, n: int) -> str:
        if self.flavor == "posix":
            return "/" + "/".join(_split_posix(path)[:n])
        drive, comps = _split_windows(path)
        return drive + "\\" + "\\".join(comps[: n - 1])

    @functools.cached_property
    def _index(self) -> dict[tuple[str, ...], Entry]:
        return {self._key(e.path): e for e in self.entries}

    # ------------------------------------------------------------------ lookup
    def _absolute(self, path: str, cwd: str) -> tuple[str, ...] | None:
        """Components of ``path`` resolved against ``cwd`` (not yet following links)."""
        if self.flavor == "posix":
            comps = _split_posix(path)
            if path.startswith("/"):
                return ("",) + tuple(comps)
            return ("",) + tuple(_split_posix(cwd)) + tuple(comps)
        drive, comps = _split_windows(path)
        cdrive, ccomps = _split_windows(cwd)
        p = path.replace("/", "\\")
        if drive and p[2:3] == "\\":
            return (drive, *comps)
        if drive:  # drive-relative ("C:x"): relative to the cwd when on that drive, else its root
            base = ccomps if drive == cdrive else []
            return (drive, *base, *comps)
        if p.startswith("\\"):  # rooted: the cwd's drive
            return (cdrive, *comps)
        return (cdrive, *ccomps, *comps)

    def _root(self, comps: tuple[str, ...]) -> tuple[str, ...]:
        return () if self.flavor == "posix" else (comps[0],)

    @staticmethod
    def _allowed(mode: int, owner: int, group: int, uid: int, gid: int, *, directory: bool) -> bool:
        """Execute/search permission as Linux decides it (DAC only)."""
        if uid == 0:
            # CAP_DAC_OVERRIDE: search on any directory; execute on a file only if some x bit is set.
            return directory or bool(mode & 0o111)
        if uid == owner:
            return bool(mode & 0o100)
        if gid == group:
            return bool(mode & 0o010)
        return bool(mode & 0o001)

    def lookup(self, path: str, *, cwd: str, follow: bool = True, uid: int = 0, gid: int = 0) -> Node:
        """The node at ``path`` (relative paths start at ``cwd``), or :class:`FsError`.

        Follows Linux's rules: every directory passed through needs search
        permission (EACCES), a non-directory in the middle is ENOTDIR, more
        than 40 links is ELOOP, and a trailing separator requires a directory.
        The windows flavour never checks permissions (Windows ACLs are not modelled).
        """
        if self.flavor == "posix" and _too_long(path):
            raise FsError("ENAMETOOLONG", path)
        comps = self._absolute(path, cwd)
        trailing = self.flavor == "posix" and path.endswith("/") and len(path) > 1
        if self.flavor == "windows":
            trailing = path.replace("/", "\\").endswith("\\") and len(_split_windows(path)[1]) > 0
        todo = list(comps[1:])
        cur = self._root(comps)
        links = 0
        posix = self.flavor == "posix"
        while todo:
            name = todo.pop(0)
            parent = self._index.get(cur)
            if cur and cur != self._root(comps):
                if parent is None:
                    raise FsError("ENOENT", path)
                if parent.kind != "dir":
                    raise FsError("ENOTDIR", path)
                if posix and not self._allowed(parent.mode, parent.uid, parent.gid, uid, gid, directory=True):
                    raise FsError("EACCES", path)
            if name == ".":
                continue
            if name == "..":
                if len(cur) > len(self._root(comps)):
                    cur = cur[:-1]
                continue
            nxt = cur + (self._fold(name),)
            entry = self._index.get(nxt)
            if entry is None:
                if self.flavor == "windows" and todo:
                    raise FsError("ENOENT_PATH", path)  # ERROR_PATH_NOT_FOUND
                raise FsError("ENOENT", path)
            last = not todo
            if entry.kind == "symlink" and (not last or follow or trailing):
                links += 1
                if links > MAX_SYMLINKS:
                    raise FsError("ELOOP", path)
                target = entry.target
                if _too_long(target):
                    raise FsError("ENAMETOOLONG", path)
                if target.startswith("/"):
                    cur = ()
                    todo = _split_posix(target) + todo
                else:
                    todo = _split_posix(target) + todo
                continue
            cur = nxt
        entry = self._index.get(cur)
        if entry is None:  # the root itself
            return Node(cur, "dir", 0o755, 0, 0)
        if trailing and entry.kind != "dir":
            raise FsError("ENOTDIR", path)
        return Node(cur, entry.kind, entry.mode, entry.uid, entry.gid, entry.target)

    def may_execute(self, node: Node, uid: int = 0, gid: int = 0) -> bool:
        return self._allowed(node.mode, node.uid, node.gid, uid, gid, directory=False)

    def exists_dir(self, path: str) -> bool:
        try:
            return self.lookup(path, cwd=path if self.is_abs(path) else self._default_cwd()).is_dir
        except FsError:
            return False

    def _default_cwd(self) -> str:
        return "/" if self.flavor == "posix" else "C:\\"

    # ------------------------------------------------------------------ disk
    def materialise(self, root: str | os.PathLike, *, drive: str = "C:") -> Path:
        """Write this filesystem under the existing empty directory ``root``.

        Virtual ``/a/b`` (posix) or ``C:\\a\\b`` (windows, drive ``drive``)
        becomes ``root/a/b``. Modes and (when running as root) owners are set;
        directory modes last, so a 000 directory can still be filled. Files
        hold a one-line shell script (LookPath never reads them).
        """
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"materialise: {root} is not a directory")
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0

        # A directory is written as its own entry spells it, also on the way to a
        # deeper entry: on a case-insensitive filesystem "C:\\Go" and "c:\\go\\t.exe"
        # share one directory, and so they must on the (case-sensitive) disk.
        spelled = {self._key(e.path): self._spelling(e.path)[-1] for e in self.entries}

        def real(e: Entry) -> Path:
            key, own = self._key(e.path), self._spelling(e.path)
            first = 0
            if self.flavor == "windows":
                if own[0] != drive.upper():
                    raise ValueError(f"materialise: {e.path!r} is not on drive {drive}")
                first = 1
            return root.joinpath(*(spelled.get(key[:i], own[i - 1]) for i in range(first + 1, len(key) + 1)))

        ordered = sorted(self.entries, key=lambda e: len(self._key(e.path)))
        for e in ordered:
            p = real(e)
            if e.kind == "dir":
                p.mkdir(parents=True, exist_ok=True)
            elif e.kind == "file":
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text("#!/bin/sh\nexit 0\n")
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                target = e.target
                if target.startswith("/"):
                    target = os.fspath(root) + target  # keep absolute links inside the scenario
                os.symlink(target, p)
        for e in reversed(ordered):  # deepest first, so parents are still writable
            if e.kind == "symlink":
                continue
            p = real(e)
            if is_root:
                os.chown(p, e.uid, e.gid)
            os.chmod(p, e.mode)
        return root


    def describe(self) -> list[str]:
        """One line per entry, like a short ``ls -l``."""
        lines = []
        for e in sorted(self.entries, key=lambda e: self._key(e.path)):
            if e.kind == "symlink":
                lines.append(f"l {e.path} -> {e.target}")
            else:
                kind = "d" if e.kind == "dir" else "-"
                lines.append(f"{kind}{_stat.filemode(e.mode)[1:]} {e.uid}:{e.gid} {e.path}")
        return lines
