"""Student copies of the exercises: solutions stubbed, hidden tests removed,
outputs cleared, nbgrader metadata kept (like ``nbgrader generate_assignment``).

The release mirrors the course tree (``notebooks/exercises/``, ``labs_c/<lab>/``,
``labs_go/<lab>/``), so an exercise notebook that builds ``../../labs_c/<lab>/x.c``
builds the student's copy there. Student copies are generated, never edited
by hand: the committed ``release/`` is checked to be current by the tests.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

from . import layout
from .markup import (MD_STUB, PY_STUB, MarkupError, check_notebook_markup, has_marker,
                     nbgrader_meta, strip_hidden_tests, strip_region)

__all__ = ["ReleaseResult", "student_notebook", "student_source", "release", "REGENERATE"]

REGENERATE = "gorun-kit course release release"
_README = """\
# Student release (generated)

Student copies of the course's exercises, made by `{cmd}` from
`notebooks/exercises/` and the lab sources that carry solution markers.
Solutions are replaced by stubs (`# YOUR CODE HERE`), hidden tests are removed
(some checks are hidden: passing the visible ones does not guarantee the
points), outputs are cleared. Do not edit these files: change the instructor's
version and run `{cmd}` again; `tests/test_course_release.py` fails when this
directory is out of date.

Grading runs in the course repository, which holds the hidden tests:
`gorun-kit course grade PATH/notebooks/exercises [--json FILE]` for a student's
copy of this tree (`make grade ARGS=release/notebooks/exercises` grades this
untouched release: zero points; plain `make grade` grades the solutions).

Contents:
{listing}
"""


@dataclasses.dataclass(frozen=True)
class ReleaseResult:
    out_dir: str
    notebooks: tuple[str, ...]
    lab_files: tuple[str, ...]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


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


def student_notebook(path: os.PathLike | str) -> nbformat.NotebookNode:
    """The student copy of one exercise notebook (raises MarkupError on bad markup)."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    check_notebook_markup(nb, str(path))
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
    """The student copy of one lab source file (unchanged when it has no markers).

    The stubbing is chapter 3's :func:`gorun_kit.labsrc.student_text` (stub
    lines after ``### END SOLUTION`` marked ``//|``), so the release and the
    labs' own committed ``student/`` copies follow one convention.
    """
    from .. import labsrc

    path = Path(path)
    text = path.read_text()
    if not has_marker(text, "solution"):
        return text
    try:
        return labsrc.student_text(text, str(path))
    except labsrc.LabSourceError as exc:
        raise MarkupError(str(exc)) from exc


def _release_files(source: Path) -> dict[str, bytes]:
    """Relative path -> content of every file of the release (deterministic)."""
    files: dict[str, bytes] = {}
    for nb_path in layout.exercise_notebooks(source):
        rel = nb_path.relative_to(source).as_posix()
        files[rel] = nbformat.writes(student_notebook(nb_path)).encode() + b"\n"
    lab_dirs = set()
    for src in layout.marked_lab_sources(source):
        rel = src.relative_to(source)
        lab_dirs.add(source / rel.parts[0] / rel.parts[1] if len(rel.parts) > 2 else src.parent)
    for lab_dir in sorted(lab_dirs):
        for path in layout.lab_dir_files(source, lab_dir):
            rel = path.relative_to(source).as_posix()
            if path.suffix in (".c", ".h", ".go"):
                files[rel] = student_source(path).encode()
            else:
                files[rel] = path.read_bytes()
        module_root = lab_dir.parent
        if module_root.name == "labs_go":
            for name in ("go.mod", "go.sum"):
                if (module_root / name).is_file():
                    files[f"labs_go/{name}"] = (module_root / name).read_bytes()
    listing = "\n".join(f"- `{rel}`" for rel in sorted(files)) or "- (no exercises yet)"
    files["README.md"] = _README.format(cmd=REGENERATE, listing=listing).encode()
    return files


def release_files(source: os.PathLike | str | None = None) -> dict[str, bytes]:
    """The release as a mapping, without writing it (for currency checks)."""
    return _release_files(Path(source) if source else layout.repo_root())


def release(out_dir: os.PathLike | str, *, source: os.PathLike | str | None = None) -> ReleaseResult:
    """Write the student release of ``source`` (default: this repo) into ``out_dir``.

    ``out_dir`` is replaced whole (so a removed exercise disappears), but only if
    it is empty or an earlier release (it has this module's README); the new tree
    is written beside it first and swapped in, so a failure leaves the old one.
    """
    src = Path(source) if source else layout.repo_root()
    out = Path(out_dir).resolve()
    if src.resolve() == out or out in src.resolve().parents:
        raise ValueError(f"release directory {out} would overwrite the course source {src}; "
                         "choose a directory outside it (e.g. release/)")
    if out.exists() and any(out.iterdir()):
        readme = out / "README.md"
        if not (readme.is_file() and readme.read_text(errors="replace").startswith("# Student release (generated)")):
            raise ValueError(f"{out} exists and is not an earlier student release; "
                             "choose an empty or new directory")
    files = _release_files(src)
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
    labs = tuple(r for r in sorted(files) if r.startswith(layout.LAB_DIRS))
    return ReleaseResult(str(out), notebooks, labs)
