"""A student's working copy of the course, and JupyterLab opened on it.

The course checkout is the instructor's tree: ``notebooks/exercises/`` holds
the solutions and hidden tests and ``labs_c/ptrace_lab/tracer.c`` is the
finished tracer. A student works elsewhere, in a directory of their own
(``~/gorun-course`` by default) laid out like the course::

    DIR/README.md                     what this is, how to check your work
    DIR/notebooks/00_start_here.ipynb the chapters, with their saved outputs
    DIR/notebooks/exercises/*.ipynb   the student copies (solutions stubbed, hidden tests removed)
    DIR/labs_c/ptrace_lab/tracer.c    the lab stub the student completes
    DIR/labs_go/..., DIR/benchmarks/  every other file an exercise reads

Everything but the README and the chapters comes from the committed student
release (``release/``), so a student gets exactly what was handed out, and
each exercise's ``course_path("labs_c/...")`` finds the student's own file
(it looks beside the notebook first, then upward). That is also why a
working copy may not sit inside the checkout: a file the student deleted
would then be found in the instructor's tree above it.

Making the copy again refreshes it: a file the student never changed is
brought up to date, a changed one is left exactly as it is, a deleted one
comes back fresh. ``.gorun-course.json`` in the copy records what was handed
out, which is how a change is told from an update. With a student id the copy
also gets the stamp file of :mod:`.variant`, so its exercises draw that
student's variant; the notebooks stay the release's, because making a
student's own notebooks needs the instructor's sources, which a student's
process (on JupyterHub, say) must not be able to read.

:func:`lab_command` is how both modes start JupyterLab: on a working copy
(``make lab``) or on the checkout (``make instructor``), with the kit's
``gorun-kit`` on the PATH of the Lab's terminals and kernels.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

from ..records import Record
from . import layout
from .variant import STAMP_FILE, stamp_data

__all__ = ["DEFAULT_DIR", "MANIFEST", "START_NOTEBOOK", "WorkspaceResult", "LabCommand", "handout",
           "make_workspace", "is_workspace", "lab_command", "scripts_dir"]

DEFAULT_DIR = "~/gorun-course"
MANIFEST = ".gorun-course.json"
START_NOTEBOOK = "notebooks/00_start_here.ipynb"
_FORMAT = 1

_README = """\
# Your working copy of the Go runtime course

This directory is yours: edit the exercises and the labs here. It was made
from the course's student release by `gorun-kit course workspace` (or `make
lab` in the course checkout), which you can run again at any time: files you
have not changed are brought up to date, files you changed are never touched,
and a file you delete comes back fresh.

- `notebooks/00_start_here.ipynb` and the chapters `01`-`05`.
- `notebooks/exercises/`: the exercises. Each ends with a "check my work" cell
  that runs the checks you can see and says which hidden checks the grader
  adds.
- `labs_c/ptrace_lab/tracer.c`: the C lab of chapter 3. Complete its TODOs;
  the last cell of `notebooks/exercises/03_ptrace_exercises.ipynb` builds
  this file, your copy, and checks it.
- A terminal in JupyterLab (File > New > Terminal) has the `gorun-kit`
  command. On your own machine, with the course checkout beside it,
  `gorun-kit course grade notebooks/exercises` grades your copies with all of
  the course's checks, hidden ones included, as your instructor will. On a
  class server the hidden checks are your instructor's alone: use the "check
  my work" cells there.
"""


@dataclasses.dataclass(frozen=True)
class WorkspaceResult(Record):
    """What making or refreshing a working copy did, file by file (paths relative to it)."""

    directory: str
    added: tuple[str, ...]  # new, or deleted by the student and handed out again
    updated: tuple[str, ...]  # unchanged by the student, replaced by a newer handout
    kept: tuple[str, ...]  # changed by the student while the handout changed too: left as they are
    edited: int  # changed by the student, the handout unchanged since: left as they are
    unchanged: int  # already the same as the handout

    def render(self) -> str:
        lines = [f"working copy {self.directory}: {len(self.added)} added, {len(self.updated)} updated, "
                 f"{self.edited + len(self.kept)} changed by you and left as they are, "
                 f"{self.unchanged} already current"]
        lines += [f"  a newer version exists of your changed file {rel}" for rel in self.kept]
        if self.kept:
            lines.append("  to take the newer version of such a file, move yours aside and run this again")
        return "\n".join(lines)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def handout(source: os.PathLike | str | None = None, student: str | None = None) -> dict[str, bytes]:
    """Relative path -> content of every file a working copy gets from course tree
    ``source`` (default: this checkout): the committed student release without its
    README, the chapter notebooks, the working copy's own README and, for
    ``student``, the stamp file that makes each exercise draw that student's
    variant (:mod:`.variant`).

    Raises FileNotFoundError when ``source`` has no student release, ValueError
    for a student id the variants refuse.
    """
    src = Path(source) if source is not None else layout.course_root()
    release = src / layout.RELEASE_DIR
    if not (release / "notebooks" / "exercises").is_dir():
        raise FileNotFoundError(f"{src} has no student release ({release}/notebooks/exercises is missing); "
                                f"make it with: gorun-kit course release {release}")
    files: dict[str, bytes] = {}
    for path in sorted(release.rglob("*")):
        rel = path.relative_to(release)
        if path.is_file() and rel.as_posix() != "README.md" and not any(
                p.startswith(".") or p in ("build", "__pycache__") for p in rel.parts):
            files[rel.as_posix()] = path.read_bytes()
    for chapter in layout.chapter_notebooks(src):
        files[chapter.relative_to(src).as_posix()] = chapter.read_bytes()
    files["README.md"] = _README.encode()
    if student is not None:
        files[STAMP_FILE] = stamp_data(student).encode()
    return files


def _put(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary sibling and a rename (removed on failure),
    so a refresh that stops half-way leaves every file either old or new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    fd, part = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(part, mode)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise


def is_workspace(directory: os.PathLike | str) -> bool:
    """True when ``directory`` is a working copy made by :func:`make_workspace`."""
    return (Path(directory) / MANIFEST).is_file()


def _read_manifest(directory: Path) -> dict[str, str]:
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text())
        files = data["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
        return {str(k): str(v) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Without the record every differing file counts as the student's: nothing is overwritten.
        print(f"note: {path} is unreadable ({exc}); files that differ from the handout are kept as they are",
              file=sys.stderr)
        return {}


def _check_place(directory: Path, source: Path) -> None:
    src = source.resolve()
    if directory == src or src in directory.parents or directory in src.parents:
        raise ValueError(
            f"working copy {directory} overlaps the course checkout {src}; choose a directory outside it "
            f"(e.g. {Path(DEFAULT_DIR).expanduser()}): inside it, an exercise could find the instructor's "
            "solutions in place of a file missing from the copy")
    if not directory.parent.is_dir():
        raise ValueError(f"working copy {directory}: the directory {directory.parent} does not exist; "
                         "create it first, or choose another place")
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"working copy {directory} exists and is not a directory; choose another path")
    if directory.is_dir() and not is_workspace(directory) and any(directory.iterdir()):
        raise ValueError(f"{directory} is not empty and is not a course working copy (it has no {MANIFEST}); "
                         "choose a new or empty directory")


def make_workspace(directory: os.PathLike | str = DEFAULT_DIR, *, source: os.PathLike | str | None = None,
                   student: str | None = None) -> WorkspaceResult:
    """Make the working copy ``directory`` (``~`` expanded) from course tree ``source``
    (default: this checkout), or refresh it if it is one already; ``student``: the
    id whose variant the exercises draw (written into the copy's stamp file).

    A file is written only when it is missing or the student has not changed it
    since it was handed out; each write goes through a temporary file and a rename,
    and the record of what was handed out is written last. Raises ValueError for a
    directory that overlaps the checkout or holds something else, FileNotFoundError
    when the checkout has no student release.
    """
    if not os.fspath(directory).strip():
        raise ValueError(f"working copy {os.fspath(directory)!r} is not a directory name; "
                         f"give its path (default {DEFAULT_DIR})")
    src = Path(source) if source is not None else layout.course_root()
    target = Path(directory).expanduser().resolve()
    _check_place(target, src)
    files = handout(src, student)
    try:
        return _refresh(target, src, files)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise ValueError(f"cannot write the working copy {target}: {exc.strerror or exc}{where}; "
                         "choose a directory you can write to") from None


def _manifest(src: Path, record: dict[str, str]) -> bytes:
    return (json.dumps({"format": _FORMAT, "source": str(src.resolve()), "files": dict(sorted(record.items()))},
                       indent=1) + "\n").encode()


def _refresh(target: Path, src: Path, files: dict[str, bytes]) -> WorkspaceResult:
    if is_workspace(target):
        before = _read_manifest(target)
    else:
        # Marked as a working copy before the first file lands, so a copy cut short
        # (a full disk, Ctrl-C) is completed by the next run instead of refused.
        before = {}
        _put(target / MANIFEST, _manifest(src, before))
    record: dict[str, str] = {}
    added, updated, kept, edited, unchanged = [], [], [], 0, 0
    for rel, data in files.items():
        path = target / rel
        new = _digest(data)
        if path.is_symlink() or (path.exists() and not path.is_file()):
            kept.append(rel)  # something of the student's own stands there; leave it
            continue
        if not path.exists():
            _put(path, data)
            added.append(rel)
            record[rel] = new
            continue
        current = _digest(path.read_bytes())
        if current == new:
            unchanged += 1
            record[rel] = new
        elif before.get(rel) == current:
            _put(path, data)
            updated.append(rel)
            record[rel] = new
        elif before.get(rel) == new:
            edited += 1
            record[rel] = new
        else:
            kept.append(rel)
            if rel in before:  # still the student's change of what they were given then
                record[rel] = before[rel]
    _put(target / MANIFEST, _manifest(src, record))
    return WorkspaceResult(str(target), tuple(added), tuple(updated), tuple(kept), edited, unchanged)


def scripts_dir() -> Path:
    """The directory of this Python's console scripts (``.venv/bin`` in the checkout),
    where ``gorun-kit`` is installed."""
    return Path(sysconfig.get_path("scripts"))


@dataclasses.dataclass(frozen=True)
class LabCommand(Record):
    """How to start JupyterLab: ``subprocess.Popen(c.argv, env=c.env, cwd=c.cwd)``."""

    argv: tuple[str, ...]
    env: dict
    cwd: str


def lab_command(root: os.PathLike | str, notebook: str | None = START_NOTEBOOK, *,
                extra: list[str] | tuple[str, ...] = ()) -> LabCommand:
    """The command line, environment and directory that start JupyterLab with
    ``root`` as the Lab's root directory, opening ``notebook`` (relative to
    ``root``; None: none).

    The kit's scripts directory goes first on PATH, so ``gorun-kit`` works in the
    Lab's terminals and in ``!`` commands of a notebook. The terminal shell is
    interactive but not a login shell: a login shell reads /etc/profile, which on
    Debian sets PATH from scratch and would drop it again. The server runs in
    ``root`` because a new terminal starts in the server's own directory, and
    there ``gorun-kit course grade notebooks/exercises`` must mean the student's
    copies. ``extra`` is passed to ``jupyter lab`` last (e.g. ``--no-browser``).
    """
    base = Path(root).resolve()
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={base}"]
    shell = os.environ.get("SHELL") or shutil.which("bash") or shutil.which("sh") or "/bin/sh"
    argv.append(f"--ServerApp.terminado_settings=shell_command={[shell, '-i']!r}")
    if notebook is not None:
        argv.append(str(base / notebook))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    argv.extend(extra)
    env = dict(os.environ)
    bin_dir = str(scripts_dir())
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *path])
    return LabCommand(tuple(argv), env, str(base))
