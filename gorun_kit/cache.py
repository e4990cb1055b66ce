"""The kit's cache directory, atomic writes into it, and the rules for sweeping it.

Everything the kit generates -- built programs, overlays, patched runtime
files, Go releases, Wine prefixes, scratch directories -- lives under
:func:`cache_dir`, never in GOROOT or in the user's source tree.

Two rules keep the cache whole when a process is interrupted:

* a file is written beside its final name and renamed into place
  (:func:`write_atomic`), so a reader sees the old file, the whole new one,
  or none -- never half of one;
* a scratch directory carries its owner's pid in its name
  (:func:`scratch_dir`); :func:`sweep` removes one whose owner is gone or that
  is older than :data:`STALE_SECONDS`, and nothing else.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import procfs

__all__ = ["cache_dir", "write_atomic", "store_text", "scratch_dir", "owner_pid", "sweep", "STALE_SECONDS"]

STALE_SECONDS = 3600  # a scratch directory older than this is abandoned, whoever owns it


def cache_dir() -> Path:
    """``$GORUN_KIT_CACHE``, else ``$XDG_CACHE_HOME/gorun_kit`` or
    ``~/.cache/gorun_kit``; absolute, created on demand."""
    root = os.environ.get("GORUN_KIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gorun_kit")
    path = Path(root).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and a rename.

    Creates the parent directory. The temporary name holds our pid, so two
    processes writing the same path never share one; the last rename wins and
    both wrote the same thing when ``path`` is named by its content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    if isinstance(data, bytes):
        part.write_bytes(data)
    else:
        part.write_text(data)
    os.replace(part, path)
    return path


def store_text(area: str, name: str, text: str) -> Path:
    """A generated file in the cache named by its content:
    ``cache_dir()/area/<first 16 hex of its SHA-256>/name``, written once."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = cache_dir() / area / digest[:16] / name
    if not path.is_file():
        write_atomic(path, text)
    return path


def scratch_dir(area: str, prefix: str) -> Path:
    """A new private directory ``cache_dir()/area/<prefix>.<pid>.<random>``.

    The caller removes it when done; :func:`sweep` removes it when the caller
    died first. Keep each area to one kind of scratch directory: ``sweep``
    treats every entry of an area the same way.
    """
    root = cache_dir() / area
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}.{os.getpid()}n{_pid_namespace()}.", dir=root))


def _pid_namespace() -> int:
    """The inode of our pid namespace: a pid means something only inside its own
    (a grading sandbox shares this cache from a namespace of its own)."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _owner(entry: str | os.PathLike) -> tuple[int, int | None] | None:
    """(pid, pid namespace or None when the name has none) of a scratch directory, or None."""
    parts = Path(entry).name.rsplit(".", 2)
    if len(parts) != 3:
        return None
    pid, _, ns = parts[-2].partition("n")
    try:
        return int(pid), (int(ns) if ns else None)
    except ValueError:
        return None


def owner_pid(entry: str | os.PathLike) -> int | None:
    """The pid in a scratch directory's name (``prefix.<pid>[n<pid namespace>].<random>``), or None."""
    owner = _owner(entry)
    return owner[0] if owner else None


def sweep(root: str | os.PathLike, *, max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove the abandoned entries of a scratch area; return what was removed.

    An entry is abandoned when the pid in its name no longer exists, it has no
    pid in its name, or it was last changed more than ``max_age`` seconds ago
    (a pid can be reused by an unrelated process). The pid of an entry made in
    another pid namespace cannot be looked up from here: only its age counts.
    """
    removed = []
    now = time.time()
    ours = _pid_namespace()
    for entry in Path(root).glob("*"):
        owner = _owner(entry)
        try:
            age = now - entry.stat().st_mtime
        except OSError:
            continue  # its owner removed it meanwhile
        foreign = owner is not None and owner[1] is not None and owner[1] != ours
        if age > max_age or (not foreign and (owner is None or not procfs.exists(owner[0]))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
