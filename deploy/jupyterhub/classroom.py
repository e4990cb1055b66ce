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
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

__all__ = ["WORKING_COPY", "INSTRUCTOR_ONLY", "STUDENTS_READ", "working_copy_hook", "make_working_copy",
           "hide_instructor_files", "unreachable_for_students"]

WORKING_COPY = "gorun-course"  # in each student's home
# Parts of the course checkout that hold solutions or hidden tests: the instructor's exercises,
# the tests, and the git history that contains both. Students' servers must not read them.
INSTRUCTOR_ONLY = ("notebooks/exercises", "tests", ".git")
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


def hide_instructor_files(root: Path) -> list[Path]:
    """Take group and other access away from INSTRUCTOR_ONLY under ``root``; what changed."""
    changed = []
    for rel in INSTRUCTOR_ONLY:
        path = root / rel
        if path.exists() and path.stat().st_mode & 0o077:
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
