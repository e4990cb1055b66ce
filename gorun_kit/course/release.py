"""Student copies of the exercises: solutions stubbed, hidden tests removed,
outputs cleared, nbgrader metadata kept (like ``nbgrader generate_assignment``).

This is the one generator of student copies, for notebooks and lab sources
alike. The release mirrors the course tree (``notebooks/exercises/``,
``labs_c/<lab>/``, ``labs_go/<lab>/``, ``benchmarks/results/``) and holds
every file an exercise names with ``course_path`` (:mod:`.files`), so each
exercise runs in it as in the course. Student copies are generated, never
edited by hand, and committed once: ``release/`` at the repository root,
which the tests check is current.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..cache import store_text
from ..records import Record
from . import layout
from .files import needs
from .markup import (MD_STUB, PY_STUB, MarkupError, check_notebook_markup, has_marker,
                     nbgrader_meta, strip_hidden_tests, strip_region, student_lab_text)
from .selfcheck import METADATA_KEY, hidden_record
from .variant import STAMP_FILE, check_student_id, stamp_data
from .variant import of as variant_of

__all__ = ["ReleaseResult", "student_notebook", "student_source", "student_copy", "handed_out",
           "supporting_files", "student_bytes", "release", "REGENERATE"]

REGENERATE = "gorun-kit course release release"
_README = """\
# Student release (generated)

Student copies of the course's exercises, made by `{cmd}` from
`notebooks/exercises/`, with every file an exercise reads (the labs it builds,
committed results) at the same place as in the course tree.
Solutions are replaced by stubs (`# YOUR CODE HERE` in notebooks,
`/* TODO n: YOUR CODE HERE */` in lab sources), hidden tests are removed
(some checks are hidden: passing the visible ones does not guarantee the
points), outputs are cleared. This is the only committed copy of the student
versions. Do not edit these files: change the instructor's version and run
`{cmd}` again; `tests/test_course_release.py` fails when this directory is out
of date.

Grading runs in the course repository, which holds the hidden tests:
`gorun-kit course grade PATH/notebooks/exercises [--json FILE]` for a student's
copy of this tree (`make grade ARGS=release/notebooks/exercises` grades this
untouched release: zero points; plain `make grade` grades the solutions).

Each exercise ends with a "check my work" cell: it runs the visible checks
against your current answers and lists the hidden checks (names and points)
that run only at grading. Exercises draw the data you answer about from your
variant: `gorun-kit course release OUT --student ID` makes student ID's copy
(the id is kept in `.gorun-kit-student.json` at its root, and each notebook
shows `variant: ... (student ID)`). The grader takes the id from the
submission's folder name (`GORUN_KIT_STUDENT`), never from the copy.

With nbgrader instead: `gorun-kit course export-nbgrader DIR` writes a standard
nbgrader course directory, one assignment per chapter (`ch01` .. `ch05`, the
exercises whose names start with that number), each with the files its
notebooks read; `nbgrader generate_assignment` and `nbgrader autograde` then
give the same points per cell as `gorun-kit course grade`.

Contents:
{listing}
"""


@dataclasses.dataclass(frozen=True)
class ReleaseResult(Record):
    out_dir: str
    notebooks: tuple[str, ...]
    lab_files: tuple[str, ...]


def _stub_cell(cell, where: str) -> None:
    source = cell.get("source", "")
    code = cell.get("cell_type") == "code"
    if has_marker(source, "solution"):
        source = strip_region(source, "solution", PY_STUB if code else MD_STUB, where)
    elif nbgrader_meta(cell).get("solution"):
        # nbgrader: a solution cell without markers is replaced whole.
        source = "\n".join(PY_STUB if code else MD_STUB)
    if code and has_marker(source, "hidden"):
        source = strip_hidden_tests(source, where)
    cell["source"] = source


def student_notebook(path: os.PathLike | str, student: str | None = None) -> nbformat.NotebookNode:
    """The student copy of one exercise notebook (raises MarkupError on bad markup).

    Its metadata records which checks have hidden parts (so "check my work" can
    name them in a copy that no longer has them) and, for ``student``, whose
    variant it is; the first markdown cell then ends with the variant line.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    check_notebook_markup(nb, str(path))
    record = {"exercise": path.stem, "hidden_checks": hidden_record(nb)}
    if student is not None:
        variant = variant_of(path.stem, check_student_id(student))
        record.update(student=variant.student, variant=variant.short)
        first = next((c for c in nb.cells if c.get("cell_type") == "markdown"), None)
        if first is not None:
            first["source"] = first["source"].rstrip("\n") + f"\n\n*{variant.line()}*"
    nb.metadata[METADATA_KEY] = record
    for index, cell in enumerate(nb.cells):
        where = f"{path} cell {index}"
        _stub_cell(cell, where)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)  # run timestamps are output, not content
        for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### END SOLUTION",
                       "### END HIDDEN TESTS"):
            if marker in cell["source"]:  # never ship a half-stripped answer
                raise MarkupError(f"{where}: '{marker}' survived stripping (is it inside a string?)")
    nb.metadata.pop("widgets", None)  # saved widget state is output
    return nb


def student_source(path: os.PathLike | str) -> str:
    """The student copy of one lab source file (unchanged when it has no markers);
    stubbed by :func:`.markup.student_lab_text`. Raises MarkupError on bad markers."""
    path = Path(path)
    text = path.read_text()
    if not has_marker(text, "solution"):
        return text
    return student_lab_text(text, str(path))


def student_copy(solution: os.PathLike | str) -> Path:
    """The student copy of lab source ``solution``, written into the kit's cache
    (named by its content, same file name) so it can be built like the solution:
    e.g. ``build_c(student_copy(lab / "tracer.c"))``. Nothing is written beside
    the solution: the committed student copy is the release's."""
    path = Path(solution)
    if not path.is_file():
        raise FileNotFoundError(f"lab source {os.fspath(path)!r} does not exist")
    return store_text("student-copies", path.name, student_source(path))


def _lab_dir_of(source: Path, path: Path) -> Path | None:
    """``labs_c/<lab>`` or ``labs_go/<lab>`` holding ``path``, or None."""
    rel = path.relative_to(source)
    if len(rel.parts) >= 2 and rel.parts[0] in layout.LAB_DIRS:
        return source / rel.parts[0] / rel.parts[1]
    return None


def supporting_files(source: Path, rels) -> dict[str, Path]:
    """Relative path -> file of everything the course paths ``rels`` need.

    A path inside a lab brings the whole lab directory (what a student needs to
    build it) and, for a Go lab, the ``labs_go`` module files; any other path
    (a committed result) brings itself, or the files under it.
    """
    out: dict[str, Path] = {}
    for rel in rels:
        path = source / rel
        if not path.exists():
            raise FileNotFoundError(f"an exercise needs {rel}, which is not in the course tree {source}")
        lab = _lab_dir_of(source, path)
        if lab is not None:
            files = layout.lab_dir_files(source, lab)
            if lab.parent.name == "labs_go":
                files += [lab.parent / n for n in ("go.mod", "go.sum") if (lab.parent / n).is_file()]
        else:
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            out[f.relative_to(source).as_posix()] = f
    return out


def handed_out(source: Path) -> dict[str, Path]:
    """Every non-notebook file the students get: the labs with solution markers and
    whatever an exercise names with ``course_path`` (see :mod:`.files`)."""
    rels = {src.relative_to(source).as_posix() for src in layout.marked_lab_sources(source)}
    for nb_path in layout.exercise_notebooks(source):
        rels.update(needs(nb_path))
    return dict(sorted(supporting_files(source, sorted(rels)).items()))


def student_bytes(path: Path) -> bytes:
    """What a student gets of one handed-out file: sources stubbed, the rest as is."""
    if path.suffix in (".c", ".h", ".go"):
        return student_source(path).encode()
    return path.read_bytes()


def _release_files(source: Path, student: str | None = None) -> dict[str, bytes]:
    """Relative path -> content of every file of the release (deterministic)."""
    files: dict[str, bytes] = {}
    for nb_path in layout.exercise_notebooks(source):
        rel = nb_path.relative_to(source).as_posix()
        files[rel] = nbformat.writes(student_notebook(nb_path, student)).encode() + b"\n"
    if student is not None:
        files[STAMP_FILE] = stamp_data(student).encode()
    for rel, path in handed_out(source).items():
        files[rel] = student_bytes(path)
    listing = "\n".join(f"- `{rel}`" for rel in sorted(files)) or "- (no exercises yet)"
    files["README.md"] = _README.format(cmd=REGENERATE, listing=listing).encode()
    return files


def release(out_dir: os.PathLike | str, *, source: os.PathLike | str | None = None,
            student: str | None = None) -> ReleaseResult:
    """Write the student release of ``source`` (default: this repo) into ``out_dir``;
    with ``student``, that student's copy: the id stamped at its root (``STAMP_FILE``,
    read by :mod:`.variant` in the student's kernel) and in each notebook.

    ``out_dir`` is replaced whole (so a removed exercise disappears), but only if
    it is empty or an earlier release (it has this module's README); the new tree
    is written beside it first and swapped in, so a failure leaves the old one.
    """
    src = Path(source) if source else layout.course_root()
    if student is not None:
        check_student_id(student, "--student")
    out = Path(out_dir).resolve()
    if src.resolve() == out or out in src.resolve().parents:
        raise ValueError(f"release directory {out} would overwrite the course source {src}; "
                         "choose a directory outside it (e.g. release/)")
    if out.exists() and any(out.iterdir()):
        readme = out / "README.md"
        if not (readme.is_file() and readme.read_text(errors="replace").startswith("# Student release (generated)")):
            raise ValueError(f"{out} exists and is not an earlier student release; "
                             "choose an empty or new directory")
    files = _release_files(src, student)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    old = None
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "r")
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.rename(old / "r", out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    notebooks = tuple(r for r in sorted(files) if r.endswith(".ipynb"))
    labs = tuple(r for r in sorted(files) if not r.endswith(".ipynb") and r not in ("README.md", STAMP_FILE))
    return ReleaseResult(str(out), notebooks, labs)
