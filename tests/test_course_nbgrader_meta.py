"""The nbgrader export of a made-up course: assignments, files, configuration, and
the grading metadata nbgrader itself reads (no nbgrader run: milliseconds).

nbgrader protects its points with the instructor's metadata: it restores graded
and locked cells from the source notebook and refuses metadata of another
schema version. The export must therefore hand over every graded cell's
metadata exactly, in the schema nbgrader reads.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import nbgrader as nbg
from gorun_kit.course.markup import MarkupError

SOLVED_C = "/* ### BEGIN SOLUTION TODO 1 */\nint f(void) { return 1; }\n/* ### END SOLUTION */\n//| int f(void) { return 0; }\n"


def _cell(source, gid=None, **flags):
    meta = {}
    if gid:
        meta = {"nbgrader": {"grade": False, "solution": False, "locked": False, "grade_id": gid,
                             "schema_version": 3, **flags}}
    return nbformat.v4.new_code_cell(source, metadata=meta)


def _notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def _exercise(tag, lab=None):
    uses = f"src = course_path('{lab}')\n" if lab else ""
    return _notebook(
        _cell(uses + "x = 1", f"setup_{tag}", locked=True),
        _cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", f"f_{tag}", solution=True),
        _cell("assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() + 1 == 2\n### END HIDDEN TESTS",
              f"test_{tag}", grade=True, locked=True, points=2),
        _cell("assert f()", f"test_vis_{tag}", grade=True, locked=True, points=1.5))


@pytest.fixture
def course(tmp_path):
    src = tmp_path / "course"
    ex = src / "notebooks" / "exercises"
    ex.mkdir(parents=True)
    nbformat.write(_exercise("a", "labs_c/lab1/work.c"), ex / "01_b_second.ipynb")
    nbformat.write(_exercise("b"), ex / "01_a_first.ipynb")
    nbformat.write(_exercise("c", "labs_c/lab2"), ex / "03_third.ipynb")
    nbformat.write(_exercise("d"), ex / ".hidden_01_x.ipynb")
    for lab, text in (("lab1", SOLVED_C), ("lab2", "int g(void) { return 2; }\n")):
        (src / "labs_c" / lab).mkdir(parents=True)
        (src / "labs_c" / lab / "work.c").write_text(text)
    (src / "labs_c" / "lab1" / "notes.md").write_text("notes\n")
    return src


def _rename_fails(monkeypatch, prefix: str, message: str) -> None:
    """os.rename, as the export calls it, fails with ``message`` for a source named ``prefix...``."""
    rename = os.rename

    def broken(src, dst):
        if Path(src).name.startswith(prefix):
            raise OSError(message)
        rename(src, dst)

    monkeypatch.setattr(nbg.os, "rename", broken)


def _c_writes_fail(monkeypatch) -> None:
    """Path.write_bytes fails with "disk full" for a ``.c`` file (the export copies labs with it)."""
    write = Path.write_bytes

    def full(self, data):
        if self.suffix == ".c":
            raise OSError("disk full")
        return write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)


def test_assignment_names(tmp_path):
    assert nbg.assignment_of("01_x.ipynb") == "ch01"
    assert nbg.assignment_of(tmp_path / "12_y_z.ipynb") == "ch12"
    for bad in ("1_x.ipynb", "x_01.ipynb", "012.ipynb", "ab_x.ipynb"):
        with pytest.raises(ValueError, match=rf"{bad!r} does not start with its chapter number.*chNN"):
            nbg.assignment_of(bad)


def test_notebooks_are_grouped_by_chapter_in_order(course):
    groups = nbg.assignments(course)
    assert list(groups) == ["ch01", "ch03"]
    assert [p.name for p in groups["ch01"]] == ["01_a_first.ipynb", "01_b_second.ipynb"]
    assert [p.name for p in groups["ch03"]] == ["03_third.ipynb"]


def _files(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def test_export_writes_the_instructors_metadata_unchanged(course, tmp_path):
    out = tmp_path / "out"
    result = nbg.export(out, source=course)
    assert result.out_dir == str(out.resolve())
    assert result.assignments == {
        "ch01": ["01_a_first.ipynb", "01_b_second.ipynb", "labs_c/lab1/notes.md", "labs_c/lab1/work.c"],
        "ch03": ["03_third.ipynb", "labs_c/lab2/work.c"]}
    assert result.student_files == {"ch01": ["labs_c/lab1/work.c"], "ch03": []}
    assert _files(out) == ["nbgrader_config.py"] + [f"source/{a}/{f}" for a, fs in result.assignments.items()
                                                    for f in fs]
    for assignment, name in (("ch01", "01_b_second.ipynb"), ("ch03", "03_third.ipynb")):
        exported = nbformat.read(out / "source" / assignment / name, as_version=4)
        original = nbformat.read(course / "notebooks" / "exercises" / name, as_version=4)
        record = exported.metadata.pop("gorun_kit")
        assert record == {"exercise": name[:-len(".ipynb")],
                          "hidden_checks": [{"grade_id": f"test_{'a' if assignment == 'ch01' else 'c'}",
                                             "points": 2.0}]}
        assert exported == original  # sources with solutions and hidden tests, metadata as written
    stub = (out / "source" / "ch01" / "labs_c" / "lab1" / "work.c").read_text()
    assert stub == "/* TODO 1: YOUR CODE HERE */\nint f(void) { return 0; }\n"
    assert (out / "source" / "ch03" / "labs_c" / "lab2" / "work.c").read_text() == "int g(void) { return 2; }\n"


def test_the_config_names_the_course_the_timeout_and_the_students_files(course, tmp_path):
    out = tmp_path / "out"
    nbg.export(out, source=course)
    text = (out / "nbgrader_config.py").read_text()
    assert text.startswith("# nbgrader course directory (generated by gorun-kit course export-nbgrader)\n")
    sections: dict = {}

    class Section:
        def __init__(self, name):
            object.__setattr__(self, "name", name)

        def __setattr__(self, key, value):
            sections[f"{self.name}.{key}"] = value

    class Config:
        def __getattr__(self, name):
            return Section(name)

    exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": Config})
    assert sections == {"CourseDirectory.course_id": "gorun-course", "Execute.timeout": 600,
                        "Autograde.exclude_overwriting": {"ch01": ["labs_c/lab1/work.c"]}}


def test_the_export_passes_nbgraders_own_metadata_check(course, tmp_path):
    validator = pytest.importorskip("nbgrader.nbgraderformat").MetadataValidator()
    nbg.export(tmp_path / "out", source=course)
    notebooks = sorted((tmp_path / "out" / "source").rglob("*.ipynb"))
    assert len(notebooks) == 3
    for path in notebooks:
        validator.validate_nb(nbformat.read(path, as_version=4))  # raises on a schema nbgrader refuses


@pytest.mark.parametrize("version", [None, 1, 2, 4, "3"])
def test_metadata_of_another_schema_version_is_refused_before_writing(course, tmp_path, version):
    path = course / "notebooks" / "exercises" / "03_third.ipynb"
    nb = nbformat.read(path, as_version=4)
    if version is None:
        del nb.cells[2].metadata["nbgrader"]["schema_version"]
    else:
        nb.cells[2].metadata["nbgrader"]["schema_version"] = version
    nbformat.write(nb, path)
    out = tmp_path / "out"
    with pytest.raises(MarkupError, match=r"03_third\.ipynb cell 2 \(test_c\): nbgrader metadata of schema "
                                          rf"version {version!r}.*\"schema_version\": 3"):
        nbg.export(out, source=course)
    assert not out.exists()


def test_bad_markup_is_refused_before_writing(course, tmp_path):
    path = course / "notebooks" / "exercises" / "03_third.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].metadata["nbgrader"]["grade_id"] = "test_c"  # two cells, one grade_id
    nbformat.write(nb, path)
    with pytest.raises(MarkupError, match="grade_id 'test_c' is also used by cell 2"):
        nbg.export(tmp_path / "out", source=course)
    assert not (tmp_path / "out").exists()


def test_an_earlier_export_is_replaced_and_nbgraders_files_are_kept(course, tmp_path):
    out = tmp_path / "out"
    nbg.export(out, source=course)
    (out / "source" / "ch03" / "stale.txt").write_text("old")
    (out / "release").mkdir()
    (out / "release" / "kept.txt").write_text("kept")
    (out / "gradebook.db").write_text("db")
    (course / "notebooks" / "exercises" / "01_b_second.ipynb").unlink()
    result = nbg.export(out, source=course)
    assert not (out / "source" / "ch03" / "stale.txt").exists()
    assert not (out / "source" / "ch01" / "01_b_second.ipynb").exists()
    assert (out / "release" / "kept.txt").read_text() == "kept" and (out / "gradebook.db").read_text() == "db"
    assert result.student_files == {"ch01": [], "ch03": []}
    assert "exclude_overwriting = {}" in (out / "nbgrader_config.py").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["gradebook.db", "nbgrader_config.py", "release", "source"]


@pytest.mark.parametrize("config", [None, "c = get_config()\n"])
def test_a_foreign_directory_is_refused_and_left_alone(course, tmp_path, config):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    if config is not None:
        (out / "nbgrader_config.py").write_text(config)
    with pytest.raises(ValueError, match="is not an earlier export-nbgrader directory; choose an empty"):
        nbg.export(out, source=course)
    assert sorted(p.name for p in out.iterdir()) == sorted(["notes.txt"] + (["nbgrader_config.py"] if config else []))


def test_an_empty_directory_is_used_and_an_empty_course_refused(course, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert nbg.export(out, source=course).assignments
    bare = tmp_path / "bare"
    (bare / "notebooks" / "exercises").mkdir(parents=True)
    with pytest.raises(ValueError, match="no exercise notebooks in .*notebooks/exercises; nothing to export"):
        nbg.export(tmp_path / "out2", source=bare)
    assert not (tmp_path / "out2").exists()


def test_a_failed_write_leaves_the_earlier_export(course, tmp_path, monkeypatch):
    out = tmp_path / "out"
    nbg.export(out, source=course)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    _rename_fails(monkeypatch, ".source.new-", "disk full")
    with pytest.raises(OSError, match="disk full"):
        nbg.export(out, source=course)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir()) == ["nbgrader_config.py", "source"]


def test_marked_headers_and_go_sources_are_the_students_files(course, tmp_path):
    lab = course / "labs_c" / "lab2"
    (lab / "work.h").write_text(SOLVED_C)
    (lab / "notes.md").write_text("### BEGIN SOLUTION is how a region starts\n")
    (course / "labs_go" / "lab3").mkdir(parents=True)
    (course / "labs_go" / "lab3" / "main.go").write_text(SOLVED_C.replace("/*", "//").replace(" */", ""))
    path = course / "notebooks" / "exercises" / "03_third.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\ngo_src = course_path('labs_go/lab3/main.go')"
    nbformat.write(nb, path)
    result = nbg.export(tmp_path / "a" / "b" / "out", source=course)  # parents made as needed
    assert result.student_files["ch03"] == ["labs_c/lab2/work.h", "labs_go/lab3/main.go"]
    source = tmp_path / "a" / "b" / "out" / "source" / "ch03"
    assert (source / "labs_go" / "lab3" / "main.go").read_text() == "// TODO 1: YOUR CODE HERE\nint f(void) { return 0; }\n"
    assert (source / "labs_c" / "lab2" / "notes.md").read_text() == "### BEGIN SOLUTION is how a region starts\n"


def test_a_failed_copy_leaves_no_partial_export(course, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _c_writes_fail(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        nbg.export(out, source=course)
    assert list(out.iterdir()) == []


def test_a_misnamed_notebook_is_told_the_whole_fix():
    with pytest.raises(ValueError, match=r"^exercise notebook 'intro\.ipynb' does not start with its chapter number "
                                         r"\(NN_\); rename it so it can be put into an assignment \(chNN\)$"):
        nbg.assignment_of("notebooks/exercises/intro.ipynb")


def test_bad_markup_names_the_notebook_it_is_in(course, tmp_path):
    path = course / "notebooks" / "exercises" / "01_a_first.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "def f():\n    ### BEGIN SOLUTION\n    return 1"  # never closed
    nbformat.write(nb, path)
    with pytest.raises(MarkupError, match=rf"^{re.escape(str(path))}"):
        nbg.export(tmp_path / "out", source=course)


def test_the_course_tree_is_the_default_source(course, tmp_path, monkeypatch):
    monkeypatch.setattr(nbg.layout, "course_root", lambda: course)
    assert nbg.export(tmp_path / "a").assignments == nbg.export(tmp_path / "b", source=course).assignments


def test_a_directory_whose_config_is_not_text_is_refused(course, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "nbgrader_config.py").write_bytes(b"\xff\xfe binary \x80")
    with pytest.raises(ValueError, match="is not an earlier export-nbgrader directory"):
        nbg.export(out, source=course)
    assert (out / "nbgrader_config.py").read_bytes() == b"\xff\xfe binary \x80"


def test_the_export_is_staged_inside_the_directory_it_goes_to(course, tmp_path, monkeypatch):
    # renamed into place on one file system, so it does not depend on the temporary directory
    monkeypatch.setattr(nbg.tempfile, "tempdir", str(tmp_path / "no-such-tmp"))
    out = tmp_path / "out"
    first = nbg.export(out, source=course)
    assert nbg.export(out, source=course) == first  # the earlier export is moved aside inside it too
    assert sorted(p.name for p in out.iterdir()) == ["nbgrader_config.py", "source"]


def _undeletable(monkeypatch, prefix):
    """Make removing a directory named ``prefix``* fail, as on a file system gone read-only."""
    rmdir = os.rmdir

    def refuse(path, *args, **kw):
        if Path(path).name.startswith(prefix):
            raise PermissionError(1, "Operation not permitted", str(path))
        return rmdir(path, *args, **kw)

    monkeypatch.setattr(os, "rmdir", refuse)


def test_a_failed_cleanup_does_not_hide_why_the_export_failed(course, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _undeletable(monkeypatch, ".source.new-")
    with monkeypatch.context() as disk:
        _c_writes_fail(disk)
        with pytest.raises(OSError, match="disk full"):
            nbg.export(out, source=course)
    assert [p.name.startswith(".source.new-") for p in out.iterdir()] == [True]  # left behind, hidden
    nbg.export(out, source=course)  # what a failed export left does not make the directory foreign
    _rename_fails(monkeypatch, ".source.new-", "disk full at rename")
    with pytest.raises(OSError, match="disk full at rename"):
        nbg.export(out, source=course)
    assert sorted(p.name for p in (out / "source").iterdir()) == ["ch01", "ch03"]  # the earlier one, back


def test_a_first_export_that_cannot_be_put_in_place_says_why(course, tmp_path, monkeypatch):
    _rename_fails(monkeypatch, ".source.new-", "disk full")
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        nbg.export(out, source=course)
    assert list(out.iterdir()) == []


def test_an_earlier_export_that_cannot_be_removed_is_left_aside_hidden(course, tmp_path, monkeypatch):
    out = tmp_path / "out"
    nbg.export(out, source=course)
    (course / "notebooks" / "exercises" / "03_third.ipynb").unlink()
    _undeletable(monkeypatch, ".source.old-")
    result = nbg.export(out, source=course)
    assert list(result.assignments) == ["ch01"]
    assert sorted(p.name for p in (out / "source").iterdir()) == ["ch01"]
    assert "exclude_overwriting = {'ch01': ['labs_c/lab1/work.c']}" in (out / "nbgrader_config.py").read_text()
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    left = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert visible == ["nbgrader_config.py", "source"]
    assert len(left) == 1 and left[0].startswith(".source.old-")  # named for what it is
