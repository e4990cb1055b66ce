"""The course files an exercise reads, found wherever the exercise runs.

An exercise notebook names a lab or a committed result by its path in the
course tree -- ``course_path("labs_c/ptrace_lab/tracer.c")``,
``course_path("labs_go/ch1_hello")`` -- and :func:`course_path` finds it. The
same notebook runs in several trees:

* the course checkout and the student release (``notebooks/exercises/X.ipynb``,
  the lab two directories up),
* the grader's temporary copy of either (same shape),
* an nbgrader course directory (``source/ch03/X.ipynb``,
  ``submitted/<student>/ch03/X.ipynb``, ...), where the export puts the lab
  beside the notebook (``source/ch03/labs_c/ptrace_lab/tracer.c``).

So the path is looked up in the notebook's directory (the kernel's working
directory) and then in each directory above it; the first hit wins, which is
the student's own copy in every layout. When the file found is a lab source
that still holds its solution regions (the instructor's checkout),
:func:`course_path` prints one line saying so, so that a check passing there
is not read as a student's result.

:func:`needs` reads the literal ``course_path("...")`` calls of a notebook:
the release and the nbgrader export ship exactly what each exercise names.
"""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

import nbformat

from .markup import has_marker

__all__ = ["course_path", "is_reference_solution", "needs", "ROOTS"]

# Top-level course directories an exercise may read from.
ROOTS = ("labs_c", "labs_go", "benchmarks")
_CALL = re.compile(r"""\bcourse_path\(\s*(["'])(?P<rel>[^"'\n]+)\1\s*\)""")


def _checked(rel: str) -> PurePosixPath:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] not in ROOTS:
        raise ValueError(f"course path {rel!r} must be relative to the course tree and start with one of "
                         f"{', '.join(ROOTS)} (e.g. 'labs_c/ptrace_lab/tracer.c')")
    return path


def course_path(rel: str, start: str | os.PathLike | None = None) -> Path:
    """The file or directory ``rel`` (a course-tree path such as ``labs_go/ch1_hello``)
    as seen from ``start`` (default: the current directory, i.e. the notebook's):
    ``start/rel`` or ``D/rel`` for the nearest directory D above ``start`` that has it.

    Raises ValueError for a path outside the course's lab and result directories,
    FileNotFoundError naming ``rel`` and ``start`` when no directory has it.
    """
    path = _checked(rel)
    here = Path(start if start is not None else os.getcwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory.joinpath(*path.parts)
        if candidate.exists():
            if is_reference_solution(candidate):
                # A check of this file passes with no student work: say so where its result is read.
                print(f"instructor copy: {rel} here is the reference solution, not a student's work "
                      "(students check their own copy: make lab, or gorun-kit course workspace DIR)")
            return candidate
    raise FileNotFoundError(
        f"{rel} is neither in {here} nor in a directory above it. Run the notebook from its own "
        "directory inside the course tree, the student release or an nbgrader assignment "
        "(gorun-kit course release / export-nbgrader put the file there).")


def is_reference_solution(path: str | os.PathLike) -> bool:
    """True when ``path`` is a lab source that still holds its solution regions
    (``### BEGIN SOLUTION`` markers): the instructor's file, never a student copy,
    whose regions are replaced by TODO stubs."""
    path = Path(path)
    if path.suffix not in (".c", ".h", ".go") or not path.is_file():
        return False
    try:
        return has_marker(path.read_text(errors="replace"), "solution")
    except OSError:
        return False


def needs(notebook: str | os.PathLike | nbformat.NotebookNode) -> list[str]:
    """The course paths a notebook's code cells name in ``course_path("...")`` calls, sorted.

    Raises ValueError (naming the notebook) for a path :func:`course_path` would refuse.
    """
    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    found: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            for match in _CALL.finditer(cell.get("source", "")):
                try:
                    found.add(str(_checked(match.group("rel"))))
                except ValueError as exc:
                    raise ValueError(f"{notebook if not isinstance(notebook, nbformat.NotebookNode) else 'notebook'}: "
                                     f"{exc}") from None
    return sorted(found)
