"""Per-student variants of the exercises: one student id, its own data.

An exercise draws the data a student sees and must answer about (a LookPath
scenario, the strings in a memory image, the arguments of the program a lab
traces) from a :class:`random.Random` seeded by the course, the exercise and
the student id::

    seed = sha256("gorun-course:<exercise>:<student>[:<label>]")

so two students get different data, and the grader, which knows the id,
regenerates the same data and the same expected answers. Checks of general
correctness (hundreds of random cases) stay unseeded; only what a student is
shown and asked varies.

Where the id comes from, first match wins:

1. the environment variable ``GORUN_KIT_STUDENT``: the grader sets it from the
   submission's folder name, and never reads an id written inside a notebook;
2. the stamp file ``.gorun-kit-student.json`` that ``gorun-kit course release OUT
   --student ID`` writes at the root of a student's copy (looked up from the
   notebook's directory and the two above it, i.e. ``notebooks/exercises/`` up
   to the release root);
3. the default ``"course"`` variant (the instructor's checkout, CI, a release
   made without ``--student``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
from pathlib import Path

from ..records import Record

__all__ = ["COURSE", "DEFAULT_STUDENT", "ENV", "STAMP_FILE", "Variant", "student_id", "stamped_student",
           "check_student_id", "seed", "of", "rng", "show", "stamp_data", "word"]

COURSE = "gorun-course"
DEFAULT_STUDENT = "course"
ENV = "GORUN_KIT_STUDENT"
STAMP_FILE = ".gorun-kit-student.json"
# Directory names, login names, e-mail addresses: what a class roster and a
# submissions folder hold. Nothing that could walk a path or break a line.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


def check_student_id(student: str, where: str = "student id") -> str:
    """``student`` if it is a usable id, else ValueError naming it and the rule."""
    if not isinstance(student, str) or not _ID.fullmatch(student):
        raise ValueError(f"{where} {student!r} is not a student id: use 1-100 characters of letters, digits "
                         "and . _ @ + -, starting with a letter or digit (e.g. the student's login name)")
    return student


def stamped_student(start: str | os.PathLike | None = None) -> str | None:
    """The id in the stamp file of the student copy holding ``start`` (default: the
    current directory), or None. Looks in ``start`` and the two directories above it."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    for directory in (here, *here.parents[:2]):
        stamp = directory / STAMP_FILE
        if stamp.is_file():
            try:
                data = json.loads(stamp.read_text(encoding="utf-8"))
                return check_student_id(data["student"], f"{stamp}: student")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{stamp} is damaged ({exc}); make the copy again with "
                                 "gorun-kit course release OUT --student ID") from None
    return None


def student_id(start: str | os.PathLike | None = None) -> str:
    """Whose variant this kernel computes: ``$GORUN_KIT_STUDENT``, else the copy's stamp
    file, else ``"course"`` (see the module docstring)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return check_student_id(env, f"${ENV}")
    return stamped_student(start) or DEFAULT_STUDENT


def seed(exercise: str, student: str, label: str = "") -> int:
    """The 256-bit seed of one exercise (and one labelled draw of it) for one student."""
    key = f"{COURSE}:{exercise}:{student}" + (f":{label}" if label else "")
    return int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")


@dataclasses.dataclass(frozen=True)
class Variant(Record):
    dict_properties = ("short",)

    exercise: str  # the notebook's name without .ipynb, e.g. 02_lookpath_linux_exercises
    student: str

    @property
    def short(self) -> str:
        """Eight hex digits naming the variant (what a student copy shows)."""
        return f"{seed(self.exercise, self.student):064x}"[:8]

    def rng(self, label: str = "") -> random.Random:
        """A fresh generator for one named draw: each cell asks by its own label, so the
        data do not depend on which cells ran before or how often."""
        return random.Random(seed(self.exercise, self.student, label))

    def seed_for(self, label: str) -> int:
        """The seed of one named draw, for a function that takes ``seed=`` rather than a generator."""
        return seed(self.exercise, self.student, label)

    def line(self) -> str:
        return f"variant: {self.short} (student {self.student})"


def of(exercise: str, student: str | None = None) -> Variant:
    """The variant of ``exercise`` for ``student`` (default: :func:`student_id`)."""
    if not exercise or "/" in exercise or exercise.endswith(".ipynb"):
        raise ValueError(f"exercise {exercise!r}: give the notebook's name without directory and "
                         "without .ipynb (e.g. '02_lookpath_linux_exercises')")
    who = check_student_id(student) if student is not None else student_id()
    return Variant(exercise, who)


def rng(exercise: str, label: str = "", student: str | None = None) -> random.Random:
    """``of(exercise, student).rng(label)``."""
    return of(exercise, student).rng(label)


def show(exercise: str) -> Variant:
    """Print which variant this notebook computes (the line a student copy shows) and return it."""
    v = of(exercise)
    print(v.line())
    return v


def word(r: random.Random, lo: int = 3, hi: int = 7) -> str:
    """A lowercase word of ``lo`` to ``hi`` letters, consonants and vowels in turn, so that
    a student can read and say the names of a variant's files and programs."""
    n = r.randint(lo, hi)
    start = r.randrange(2)
    return "".join(r.choice("bdfghklmnprstvz" if (i + start) % 2 == 0 else "aeiou") for i in range(n))


def stamp_data(student: str) -> str:
    """The text of the stamp file for ``student`` (written by the release)."""
    return json.dumps({"course": COURSE, "student": check_student_id(student)}, indent=2) + "\n"
