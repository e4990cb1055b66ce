"""What a class on one machine needs around JupyterHub: each student's working copy, made as
that student when their server starts, and which parts of the course students may read.

The working copy is the one `make lab` gives a student on their own machine
(``gorun-kit course workspace``, gorun_kit/course/workspace.py): the student release and the
chapter notebooks in ``~/gorun-course``, refreshed at every start without touching a file the
student changed. The hub runs as root; the copy is made by ``gorun-kit`` running with the
student's uid, gid and no other groups, so a symlink planted in the student's home can only
lead a write where the student could write anyway.
"""
from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import stat
import subprocess
import sys
from pathlib import Path

from gorun_kit.course.files import is_reference_solution
from gorun_kit.course.markup import has_marker

__all__ = ["WORKING_COPY", "INSTRUCTOR_ONLY", "STUDENTS_READ", "working_copy_hook", "make_working_copy",
           "holds_solutions", "instructor_only_paths", "hide_instructor_files", "unreachable_for_students"]

WORKING_COPY = "gorun-course"  # in each student's home
# Parts of the course checkout that hold solutions or hidden tests: the instructor's exercises,
# the tests, the git history that contains both, and what running the tests leaves behind
# (hypothesis's constants quote the tests' sources). Students' servers must not read them, nor
# any other file that holds solutions (holds_solutions), wherever it sits: the C lab's
# reference tracer.c, say, in labs_c/, which students otherwise read.
INSTRUCTOR_ONLY = ("notebooks/exercises", "tests", ".git", ".hypothesis", ".pytest_cache", "test-artifacts")
# Installed third-party code, not the course's: not searched for solutions.
_NOT_COURSE = (".venv", "node_modules")
# An nbgrader marker line (a notebook's cell, its jupytext script): the marker alone, maybe commented.
_NOTEBOOK_MARKER = re.compile(r"^\s*(?:#|//)?\s*### BEGIN (?:SOLUTION|HIDDEN TESTS)\s*$", re.M)
# What the students' servers read from the checkout: the kit, its labs, the student release.
STUDENTS_READ = ("gorun_kit", "labs_c", "labs_go", "release")


def make_working_copy(gorun_kit: Path, user: str) -> str:
    """Make or refresh ``~user/gorun-course`` by running ``gorun_kit course workspace`` as ``user``
    (the caller must be root); what it printed."""
    entry = pwd.getpwnam(user)
    home = Path(entry.pw_dir)
    if not home.is_dir():
        raise RuntimeError(f"{user} has no home directory {home}: create it (useradd --create-home {user})")
    result = subprocess.run(
        [str(gorun_kit), "course", "workspace", str(home / WORKING_COPY), "--student", user],  # the student's variant
        user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], umask=0o022, cwd=home,
        env={"HOME": str(home), "USER": user, "PATH": f"{gorun_kit.parent}:/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"could not make {user}'s working copy {home / WORKING_COPY} "
                           f"(exit status {result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def working_copy_hook(gorun_kit: Path):
    """A ``Spawner.pre_spawn_hook``: the student's working copy, before their server starts.

    A copy that cannot be refreshed (say, the student put a file where a directory of the
    course was) is logged and the server starts anyway, with the student's files as they are.
    """
    async def hook(spawner):
        name = spawner.user.name
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(f"{name} has no Unix account on this machine: create it with "
                               f"useradd --create-home {name}") from None
        try:
            said = await asyncio.to_thread(make_working_copy, gorun_kit, name)
        except RuntimeError as err:
            spawner.log.warning("%s", err)
        else:
            spawner.log.info("%s: %s", name, said.splitlines()[0] if said else "working copy made")
    return hook


def holds_solutions(path: Path) -> bool:
    """True when file ``path`` holds solutions or hidden tests by the course's markup
    (gorun_kit.course.markup): a lab source (C, Go) with solution regions, as the release
    recognises it; a notebook with a marker in a code cell; any other text with an nbgrader
    marker line. A file that only mentions the markers (the kit's markup code, the docs) does not."""
    if is_reference_solution(path):
        return True
    try:
        text = path.read_text(errors="replace")
    except (OSError, UnicodeError):
        return False
    if "### BEGIN " not in text:
        return False
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return True  # unreadable as a notebook but holding a marker: keep it from students
        for cell in cells:
            source = cell.get("source", "") if isinstance(cell, dict) else ""
            source = "".join(source) if isinstance(source, list) else str(source)
            if cell.get("cell_type") == "code" and (has_marker(source, "solution") or has_marker(source, "hidden")):
                return True
        return False
    return _NOTEBOOK_MARKER.search(text) is not None


def instructor_only_paths(root: Path) -> list[Path]:
    """What students must not read in the checkout at ``root``: the INSTRUCTOR_ONLY parts there
    are, and every other file of the course that :func:`holds_solutions`, found by reading them all."""
    out = [root / rel for rel in INSTRUCTOR_ONLY if (root / rel).exists()]
    skip = {root / rel for rel in (*INSTRUCTOR_ONLY, *_NOT_COURSE)}
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if here / d not in skip and not (here / d).is_symlink())
        out += [here / name for name in sorted(files)
                if (here / name).is_file() and not (here / name).is_symlink() and holds_solutions(here / name)]
    return out + [b for p in list(out) for b in _built_from(root, p) if b not in out]


def _built_from(root: Path, source: Path) -> list[Path]:
    """The programs labs_c/Makefile builds from lab source ``source`` that exist: a solution
    compiled is a solution too (``objdump -d`` reads it back). ``labs_c/LAB/NAME.c`` becomes
    ``labs_c/build/LAB/NAME`` in a lab of several programs, ``labs_c/build/LAB`` otherwise."""
    labs = root / "labs_c"
    if source.suffix not in (".c", ".h") or source.parent.parent != labs:
        return []
    lab = source.parent.name
    built = [labs / "build" / lab / source.stem, labs / "build" / lab]
    return [b for b in built if b.is_file() and not b.is_symlink()]


def hide_instructor_files(root: Path) -> list[Path]:
    """Take group and other access away from :func:`instructor_only_paths` under ``root``; what changed."""
    changed = []
    for path in instructor_only_paths(root):
        if path.stat().st_mode & 0o077:
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o077)
            changed.append(path)
    return changed


def unreachable_for_students(paths) -> list[Path]:
    """Of ``paths`` (symlinks followed too) and the directories above them, those a user who is
    neither owner nor in the group cannot use: a directory needs "others" search (and a
    directory in ``paths`` also read) permission, a file "others" read."""
    missing: list[Path] = []

    def need(path: Path, bits: int) -> None:
        if path.stat().st_mode & bits != bits and path not in missing:
            missing.append(path)

    for given in map(Path, paths):
        for path in dict.fromkeys([given, Path(os.path.realpath(given))]):
            for directory in reversed(path.parents):
                need(directory, stat.S_IXOTH)
            need(path, stat.S_IROTH | stat.S_IXOTH if path.is_dir() else stat.S_IROTH)
    return missing


def main(argv: list[str]) -> int:
    """``python classroom.py hide-instructor-files ROOT``: what the container image runs at build time."""
    if len(argv) != 2 or argv[0] != "hide-instructor-files":
        print("usage: python classroom.py hide-instructor-files COURSE_ROOT", file=sys.stderr)
        return 2
    root = Path(argv[1])
    if not (root / "notebooks").is_dir():
        print(f"classroom.py: {root} is not a course checkout (it has no notebooks/)", file=sys.stderr)
        return 2
    for path in hide_instructor_files(root):
        print(f"readable by its owner only: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
