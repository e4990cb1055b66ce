"""The student release (gorun_kit.course.release) of a small course tree built in tmp_path:
what a student copy of a notebook and of a lab source holds, which files are handed out,
and how the release directory is written, replaced and refused."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import release as rel
from gorun_kit.course.markup import HIDDEN_STUB, MD_STUB, PY_STUB, MarkupError
from gorun_kit.course.selfcheck import METADATA_KEY
from gorun_kit.course.variant import STAMP_FILE, stamp_data

LAB_C = ("int f(void) {\n    /* ### BEGIN SOLUTION TODO 1 */\n    return 42;\n    /* ### END SOLUTION */\n"
         "    //| return 0;\n}\n")


def _write(path: Path, data: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def _meta(cell, **nbgrader):
    cell.metadata["nbgrader"] = {"schema_version": 3, "locked": False, "grade": False, "solution": False,
                                 **nbgrader}
    return cell


def _exercise() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    answer = _meta(nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
                   grade_id="answer", solution=True)
    answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    answer.execution_count = 3
    answer.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    whole = _meta(nbformat.v4.new_code_cell("x = 2"), grade_id="whole", solution=True)
    prose = _meta(nbformat.v4.new_markdown_cell("My answer is 7."), grade_id="prose", solution=True)
    marked_prose = _meta(nbformat.v4.new_markdown_cell("Because:\n### BEGIN SOLUTION\nit is.\n### END SOLUTION"),
                         grade_id="marked_prose", solution=True)
    check = _meta(nbformat.v4.new_code_cell("p = course_path('labs_go/ch1/main.go')\nassert f() == 1\n"
                                            "### BEGIN HIDDEN TESTS\nassert f() != 2\n### END HIDDEN TESTS"),
                  grade_id="check", grade=True, points=2, locked=True)
    nb.cells = [nbformat.v4.new_markdown_cell("# Exercise \n\n"), answer, whole, prose, check,
                nbformat.v4.new_markdown_cell("# second"), marked_prose]
    nb.metadata["widgets"] = {"state": {}}
    return nb


def _course(root: Path) -> Path:
    nbformat.write(_exercise(), _write(root / "notebooks" / "exercises" / "01_e.ipynb", ""))
    _write(root / "notebooks" / "00_start.ipynb", "{}")
    _write(root / "labs_c" / "lab" / "tracer.c", LAB_C)
    _write(root / "labs_c" / "lab" / "Makefile", "all:\n")
    _write(root / "labs_c" / "lab" / "tracer.o", "object")
    _write(root / "labs_c" / "other" / "plain.c", "int g;\n")
    _write(root / "labs_go" / "go.mod", "module labs\n\ngo 1.22\n")
    _write(root / "labs_go" / "ch1" / "main.go", "package main\n")
    _write(root / "labs_go" / "ch2" / "main.go", "package main\n")
    _write(root / "benchmarks" / "results" / "r.json", "{}")
    return root


# ---------------------------------------------------------------------------
# one notebook, one source


def test_the_student_notebook_has_stubs_no_hidden_tests_no_outputs_and_the_record(tmp_path):
    path = _course(tmp_path)
    nb = rel.student_notebook(path / "notebooks" / "exercises" / "01_e.ipynb")
    intro, answer, whole, prose, check, second, marked_prose = nb.cells
    assert marked_prose.source == "Because:\n" + "\n".join(MD_STUB)
    assert answer.source == "def f():\n    " + "\n    ".join(PY_STUB)
    assert answer.outputs == [] and answer.execution_count is None and "execution" not in answer.metadata
    assert whole.source == "\n".join(PY_STUB)
    assert prose.source == "\n".join(MD_STUB)
    assert check.source.startswith("p = course_path") and "f() != 2" not in check.source
    assert check.source.endswith("\n".join(HIDDEN_STUB))
    assert intro.source == "# Exercise \n\n" and second.source == "# second"
    assert nb.metadata[METADATA_KEY] == {"exercise": "01_e", "hidden_checks": [{"grade_id": "check",
                                                                                "points": 2.0}]}
    assert "widgets" not in nb.metadata
    assert answer.metadata["nbgrader"]["grade_id"] == "answer"


def test_a_students_notebook_names_the_variant_in_its_first_markdown_cell(tmp_path):
    path = _course(tmp_path) / "notebooks" / "exercises" / "01_e.ipynb"
    nb = rel.student_notebook(path, "alice")
    record = nb.metadata[METADATA_KEY]
    assert record["student"] == "alice" and record["variant"] and set(record) == {"exercise", "hidden_checks",
                                                                                   "student", "variant"}
    assert nb.cells[0].source == f"# Exercise \n\n*variant: {record['variant']} (student alice)*"
    assert nb.cells[5].source == "# second"
    with pytest.raises(ValueError):
        rel.student_notebook(path, "no/slash")
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(plain, tmp_path / "02_code_only.ipynb")
    assert rel.student_notebook(tmp_path / "02_code_only.ipynb", "bob").cells[0].source == "x = 1"


@pytest.mark.parametrize("marker", ["### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### END SOLUTION",
                                    "### END HIDDEN TESTS"])
def test_a_marker_that_survives_stripping_is_refused(tmp_path, marker):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("y = 1"),
                _meta(nbformat.v4.new_code_cell(f"x = '{marker}'"), grade_id="t", grade=True, points=1, locked=True)]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(MarkupError) as info:
        rel.student_notebook(path)
    assert str(info.value) == f"{path} cell 1: '{marker}' survived stripping (is it inside a string?)"


def test_bad_markup_names_the_notebook_and_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1")]
    path = tmp_path / "open.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(MarkupError, match=f"{path} cell 1"):
        rel.student_notebook(str(path))


def test_hidden_tests_outside_a_test_cell_are_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("How to write `### BEGIN HIDDEN TESTS` regions.")]
    path = tmp_path / "md.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(MarkupError, match=f"{path} cell 0: hidden tests in a cell that is not a graded test"):
        rel.student_notebook(path)


def test_student_source_stubs_marked_sources_only(tmp_path):
    marked = _write(tmp_path / "a.c", LAB_C)
    assert rel.student_source(marked) == "int f(void) {\n    /* TODO 1: YOUR CODE HERE */\n    return 0;\n}\n"
    plain = _write(tmp_path / "b.c", "int g;\n")
    assert rel.student_source(str(plain)) == "int g;\n"
    assert rel.student_bytes(marked) == rel.student_source(marked).encode()
    data = _write(tmp_path / "r.json", LAB_C)
    assert rel.student_bytes(data) == LAB_C.encode()  # not a source: as it is
    for suffix in (".h", ".go"):
        assert rel.student_bytes(_write(tmp_path / f"x{suffix}", LAB_C)) == rel.student_source(marked).encode()


def test_a_lab_source_with_bad_markers_is_named(tmp_path):
    bad = _write(tmp_path / "bad.c", "/* ### BEGIN SOLUTION */\nint x;\n")
    with pytest.raises(MarkupError, match=f"^{bad}:1: BEGIN SOLUTION is never closed"):
        rel.student_source(bad)


def test_student_copy_goes_to_the_cache_by_content(tmp_path, private_cache):
    marked = _write(tmp_path / "lab" / "tracer.c", LAB_C)
    copy = rel.student_copy(marked)
    assert copy.name == "tracer.c" and private_cache in copy.parents
    assert copy.read_text() == rel.student_source(marked)
    assert sorted(p.name for p in marked.parent.iterdir()) == ["tracer.c"]
    assert rel.student_copy(str(marked)) == copy
    with pytest.raises(FileNotFoundError, match=repr(str(tmp_path / "none.c"))):
        rel.student_copy(tmp_path / "none.c")
    with pytest.raises(FileNotFoundError):
        rel.student_copy(tmp_path / "lab")


# ---------------------------------------------------------------------------
# which files


def test_a_lab_path_brings_its_lab_and_a_go_lab_the_module_files(tmp_path):
    root = _course(tmp_path)
    files = rel.supporting_files(root, ["labs_c/lab/tracer.c"])
    assert sorted(files) == ["labs_c/lab/Makefile", "labs_c/lab/tracer.c"]
    assert files["labs_c/lab/Makefile"] == root / "labs_c/lab/Makefile"
    files = rel.supporting_files(root, ["labs_go/ch1"])
    assert sorted(files) == ["labs_go/ch1/main.go", "labs_go/go.mod"]
    _write(root / "labs_go" / "go.sum", "")
    assert sorted(rel.supporting_files(root, ["labs_go/ch2/main.go"])) == ["labs_go/ch2/main.go", "labs_go/go.mod",
                                                                            "labs_go/go.sum"]


def test_other_paths_bring_themselves_or_the_files_under_them(tmp_path):
    root = _course(tmp_path)
    _write(root / "benchmarks" / "results" / "sub" / "s.txt", "s")
    assert sorted(rel.supporting_files(root, ["benchmarks/results/r.json"])) == ["benchmarks/results/r.json"]
    assert sorted(rel.supporting_files(root, ["benchmarks"])) == ["benchmarks/results/r.json",
                                                                  "benchmarks/results/sub/s.txt"]
    # the lab directory itself (labs_go) is not a lab: it brings what is under it
    assert "labs_go/ch2/main.go" in rel.supporting_files(root, ["labs_go"])
    assert rel.supporting_files(root, []) == {}
    with pytest.raises(FileNotFoundError) as info:
        rel.supporting_files(root, ["labs_c/none"])
    assert str(info.value) == f"an exercise needs labs_c/none, which is not in the course tree {root}"


def test_lab_dir_of():
    root = Path("/course")
    assert rel._lab_dir_of(root, root / "labs_c" / "lab" / "x.c") == root / "labs_c" / "lab"
    assert rel._lab_dir_of(root, root / "labs_go" / "ch1") == root / "labs_go" / "ch1"
    assert rel._lab_dir_of(root, root / "labs_go") is None
    assert rel._lab_dir_of(root, root / "benchmarks" / "x" / "y") is None


def test_handed_out_is_every_marked_lab_and_what_exercises_name(tmp_path):
    root = _course(tmp_path)
    out = rel.handed_out(root)
    assert list(out) == ["labs_c/lab/Makefile", "labs_c/lab/tracer.c", "labs_go/ch1/main.go", "labs_go/go.mod"]
    assert out["labs_c/lab/tracer.c"] == root / "labs_c" / "lab" / "tracer.c"


# ---------------------------------------------------------------------------
# the release directory


def _tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_a_release_holds_the_notebooks_the_files_and_a_readme_listing_them(tmp_path):
    root = _course(tmp_path / "course")
    result = rel.release(tmp_path / "out", source=root)
    out = (tmp_path / "out").resolve()
    assert result.out_dir == str(out)
    assert result.notebooks == ("notebooks/exercises/01_e.ipynb",)
    assert result.lab_files == ("labs_c/lab/Makefile", "labs_c/lab/tracer.c", "labs_go/ch1/main.go",
                                "labs_go/go.mod")
    tree = _tree(out)
    assert sorted(tree) == sorted(["README.md", *result.notebooks, *result.lab_files])
    assert tree["labs_c/lab/tracer.c"] == rel.student_source(root / "labs_c/lab/tracer.c").encode()
    nb_text = tree["notebooks/exercises/01_e.ipynb"].decode()
    assert nb_text.endswith("}\n\n") or nb_text.endswith("}\n")
    assert nb_text == nbformat.writes(rel.student_notebook(root / "notebooks/exercises/01_e.ipynb")) + "\n"
    readme = tree["README.md"].decode()
    assert readme.startswith("# Student release (generated)\n") and rel.REGENERATE in readme
    assert readme.rstrip().endswith("Contents:\n- `labs_c/lab/Makefile`\n- `labs_c/lab/tracer.c`\n"
                                    "- `labs_go/ch1/main.go`\n- `labs_go/go.mod`\n"
                                    "- `notebooks/exercises/01_e.ipynb`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "out"]


def test_a_release_of_a_course_without_exercises(tmp_path):
    (tmp_path / "course" / "notebooks" / "exercises").mkdir(parents=True)
    result = rel.release(tmp_path / "out", source=tmp_path / "course")
    assert result.notebooks == () and result.lab_files == ()
    assert (tmp_path / "out" / "README.md").read_text().endswith("Contents:\n- (no exercises yet)\n")


def test_a_students_release_is_stamped(tmp_path):
    root = _course(tmp_path / "course")
    result = rel.release(tmp_path / "alice", source=root, student="alice")
    out = Path(result.out_dir)
    assert (out / STAMP_FILE).read_text() == stamp_data("alice")
    assert STAMP_FILE not in result.lab_files and "README.md" not in result.lab_files
    nb = json.loads((out / "notebooks/exercises/01_e.ipynb").read_text())
    assert nb["metadata"][METADATA_KEY]["student"] == "alice"
    assert f"- `{STAMP_FILE}`" in (out / "README.md").read_text()
    with pytest.raises(ValueError, match="^--student '../x' is not a student id"):
        rel.release(tmp_path / "bad", source=root, student="../x")
    assert not (tmp_path / "bad").exists()


def test_an_earlier_release_is_replaced_whole(tmp_path):
    root = _course(tmp_path / "course")
    out = tmp_path / "out"
    rel.release(out, source=root)
    _write(out / "stale.txt", "from an earlier release")
    (root / "labs_c" / "lab" / "Makefile").unlink()
    result = rel.release(str(out), source=str(root))
    assert "labs_c/lab/Makefile" not in result.lab_files
    assert not (out / "stale.txt").exists() and not (out / "labs_c/lab/Makefile").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "out"]  # nothing left beside it


def test_an_empty_directory_may_become_a_release(tmp_path):
    root = _course(tmp_path / "course")
    (tmp_path / "empty").mkdir()
    assert rel.release(tmp_path / "empty", source=root).notebooks
    rel.release(tmp_path / "new" / "deeper" / "out", source=root)
    assert (tmp_path / "new" / "deeper" / "out" / "README.md").is_file()
    assert rel.release(root / "release", source=root).out_dir == str(root / "release")  # the usual place


def test_what_is_not_a_release_is_never_replaced(tmp_path):
    root = _course(tmp_path / "course")
    _write(tmp_path / "mine" / "thesis.tex", "mine")
    with pytest.raises(ValueError) as info:
        rel.release(tmp_path / "mine", source=root)
    assert str(info.value) == (f"{(tmp_path / 'mine').resolve()} exists and is not an earlier student release; "
                               "choose an empty or new directory")
    _write(tmp_path / "other" / "README.md", "# Another project\n# Student release (generated)\n")
    with pytest.raises(ValueError, match="not an earlier student release"):
        rel.release(tmp_path / "other", source=root)
    (tmp_path / "dirreadme" / "README.md").mkdir(parents=True)
    with pytest.raises(ValueError, match="not an earlier student release"):
        rel.release(tmp_path / "dirreadme", source=root)
    for inside in ("course", "."):  # the source or a directory above it; release/ inside it is the usual place
        with pytest.raises(ValueError) as info:
            rel.release(tmp_path / inside, source=root)
        assert str(info.value) == (f"release directory {(tmp_path / inside).resolve()} would overwrite the course "
                                   f"source {root}; choose a directory outside it (e.g. release/)")
    _write(tmp_path / "binary" / "README.md", "")
    (tmp_path / "binary" / "README.md").write_bytes(b"# Student release (generated)\n\xff\xfe\n")
    assert rel.release(tmp_path / "binary", source=root).notebooks  # an earlier release, odd bytes and all
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "mine"


def test_a_release_that_fails_leaves_the_earlier_one(tmp_path, monkeypatch):
    root = _course(tmp_path / "course")
    out = tmp_path / "out"
    rel.release(out, source=root)
    before = _tree(out)
    _write(root / "labs_c" / "lab" / "new.h", "int h;\n")
    real = os.rename
    calls = []

    def fail_second(a, b):
        calls.append((Path(a), Path(b)))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(a, b)
    monkeypatch.setattr(os, "rename", fail_second)
    with pytest.raises(OSError):
        rel.release(out, source=root)
    monkeypatch.setattr(os, "rename", real)
    assert _tree(out) == before
    # the new tree was staged beside the release, the old one moved aside there, both under hidden names
    (moved, aside), (new_tree, target), (back, again) = calls
    assert (moved, target, again, back) == (out, out, out, aside)
    assert new_tree.parent == tmp_path and new_tree.name.startswith(".out.new-")
    assert aside.parent.parent == tmp_path and aside.parent.name.startswith(".out.old-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "out"]


def test_a_release_that_fails_while_writing_leaves_no_temporary(tmp_path, monkeypatch):
    root = _course(tmp_path / "course")

    def full(self, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError):
        rel.release(tmp_path / "out", source=root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course"]


def test_the_default_source_is_the_checkout(tmp_path, monkeypatch):
    from gorun_kit.course import layout

    root = _course(tmp_path / "course")
    monkeypatch.setattr(layout, "course_root", lambda: root)
    assert rel.release(tmp_path / "out").notebooks == ("notebooks/exercises/01_e.ipynb",)
