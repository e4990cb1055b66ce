"""Where an exercise finds its course files (gorun_kit.course.files) and where the course's
pieces live in a source tree (gorun_kit.course.layout), on small trees built in tmp_path."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings, strategies as st

from gorun_kit.course import files, layout

SOLVED = "int f(void) {\n    // ### BEGIN SOLUTION\n    return 1;\n    // ### END SOLUTION\n}\n"


def _write(path: Path, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------
# files.course_path


@pytest.mark.parametrize("rel", ["/labs_c/x.c", "labs_c/../labs_go/x", "..", "", ".", "notebooks/x.ipynb",
                                 "labs_cx/a", "lab/labs_c", "labs_go/a/../../etc"])
def test_course_path_refuses_paths_outside_the_labs_and_results(tmp_path, rel):
    with pytest.raises(ValueError) as info:
        files.course_path(rel, tmp_path)
    assert str(info.value) == (f"course path {rel!r} must be relative to the course tree and start with one of "
                               "labs_c, labs_go, benchmarks (e.g. 'labs_c/ptrace_lab/tracer.c')")


@pytest.mark.parametrize("root", files.ROOTS)
def test_course_path_accepts_each_root(tmp_path, root):
    want = _write(tmp_path / root / "a" / "f.txt")
    assert files.course_path(f"{root}/a/f.txt", tmp_path) == want
    assert files.course_path(root, tmp_path) == tmp_path / root


def test_course_path_prefers_the_nearest_directory_and_looks_upward(tmp_path):
    top = _write(tmp_path / "labs_go" / "ch1" / "main.go", "package main\n")
    deep = tmp_path / "submitted" / "alice" / "ch01"
    deep.mkdir(parents=True)
    assert files.course_path("labs_go/ch1/main.go", deep) == top
    assert files.course_path("labs_go/ch1", deep) == top.parent
    mine = _write(deep.parent / "labs_go" / "ch1" / "main.go", "package main // mine\n")
    assert files.course_path("labs_go/ch1/main.go", deep) == mine
    here = _write(deep / "labs_go" / "ch1" / "main.go", "package main // here\n")
    assert files.course_path("labs_go/ch1/main.go", deep) == here


def test_course_path_starts_in_the_current_directory(tmp_path, monkeypatch):
    want = _write(tmp_path / "benchmarks" / "results" / "r.json", "{}")
    inner = tmp_path / "notebooks" / "exercises"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    assert files.course_path("benchmarks/results/r.json") == want
    assert files.course_path("benchmarks/results/r.json", None) == want


def test_course_path_names_the_file_and_the_start_when_nothing_has_it(tmp_path):
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as info:
        files.course_path("labs_c/none/x.c", start)
    assert str(info.value) == (
        f"labs_c/none/x.c is neither in {start.resolve()} nor in a directory above it. Run the notebook from its "
        "own directory inside the course tree, the student release or an nbgrader assignment "
        "(gorun-kit course release / export-nbgrader put the file there).")


def test_course_path_labels_the_instructors_solution_only(tmp_path, capsys):
    solved = _write(tmp_path / "labs_c" / "lab" / "tracer.c", SOLVED)
    stub = _write(tmp_path / "labs_c" / "lab" / "stub.c", "int f(void) { return 0; }\n")
    assert files.course_path("labs_c/lab/tracer.c", tmp_path) == solved
    assert capsys.readouterr().out == (
        "instructor copy: labs_c/lab/tracer.c here is the reference solution, not a student's work "
        "(students check their own copy: make lab, or gorun-kit course workspace DIR)\n")
    assert files.course_path("labs_c/lab/stub.c", tmp_path) == stub
    assert files.course_path("labs_c/lab", tmp_path) == solved.parent
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name, marked", [("a.c", True), ("a.h", True), ("a.go", True), ("a.txt", False),
                                          ("a.py", False), ("Makefile", False), ("a.md", False)])
def test_is_reference_solution_looks_at_lab_sources_with_markers(tmp_path, name, marked):
    path = _write(tmp_path / name, SOLVED)
    assert files.is_reference_solution(path) is marked
    assert files.is_reference_solution(str(path)) is marked
    assert files.is_reference_solution(_write(tmp_path / "plain" / name, "int x;\n")) is False
    # a hidden-tests marker is not a solution
    assert files.is_reference_solution(_write(tmp_path / "hid" / name, "// ### BEGIN HIDDEN TESTS\n")) is False


def test_is_reference_solution_of_a_directory_a_missing_or_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "d.c").mkdir()
    assert files.is_reference_solution(tmp_path / "d.c") is False
    assert files.is_reference_solution(tmp_path / "missing.c") is False
    path = _write(tmp_path / "x.c", SOLVED)

    def fail(self, *a, **k):
        raise PermissionError(13, "denied", str(self))
    monkeypatch.setattr(Path, "read_text", fail)
    assert files.is_reference_solution(path) is False


def test_is_reference_solution_reads_invalid_utf8(tmp_path):
    path = tmp_path / "x.c"
    path.write_bytes(b"\xff\xfe// ### BEGIN SOLUTION\n\xff")
    assert files.is_reference_solution(path) is True


# ---------------------------------------------------------------------------
# files.needs


def _nb(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_needs_reads_the_literal_calls_of_code_cells_sorted_once(tmp_path):
    nb = _nb(nbformat.v4.new_code_cell('p = course_path("labs_go/b")\nq = course_path( \'labs_c/a/x.c\' )'),
             nbformat.v4.new_markdown_cell('course_path("labs_c/markdown")'),
             nbformat.v4.new_code_cell('course_path("labs_go/b")\nfiles.course_path("benchmarks/r")\n'
                                       'my_course_path("labs_c/no")\ncourse_path(name)\ncourse_path("labs_c/a\')'),
             nbformat.v4.new_raw_cell('course_path("labs_c/raw")'))
    want = ["benchmarks/r", "labs_c/a/x.c", "labs_go/b"]
    assert files.needs(nb) == want
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert files.needs(path) == want
    assert files.needs(str(path)) == want


def test_needs_normalises_the_path(tmp_path):
    nb = _nb(nbformat.v4.new_code_cell('course_path("labs_c//a/./x.c")\ncourse_path("labs_c/a/x.c/")'))
    assert files.needs(nb) == ["labs_c/a/x.c"]


def test_needs_names_the_notebook_of_a_refused_path(tmp_path):
    nb = _nb(nbformat.v4.new_code_cell('course_path("notes/x.txt")'))
    with pytest.raises(ValueError) as info:
        files.needs(nb)
    assert str(info.value).startswith("notebook: course path 'notes/x.txt'")
    path = tmp_path / "ex.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError) as info:
        files.needs(path)
    assert str(info.value).startswith(f"{path}: course path 'notes/x.txt'")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_needs_of_a_cell_without_source():
    cell = nbformat.v4.new_code_cell("")
    del cell["source"]
    assert files.needs(_nb(cell)) == []


@given(st.lists(st.tuples(st.sampled_from(files.ROOTS),
                          st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,6}", fullmatch=True)
                                   .filter(lambda s: s not in (".", "..")), max_size=3)), max_size=6))
@settings(max_examples=60, deadline=None)
def test_needs_finds_every_call_it_is_given(paths):
    rels = ["/".join([root, *rest]) for root, rest in paths]
    nb = _nb(*(nbformat.v4.new_code_cell(f'x = course_path("{r}")') for r in rels))
    assert files.needs(nb) == sorted(set(rels))


# ---------------------------------------------------------------------------
# layout


def _tree(root: Path) -> Path:
    for rel in ["notebooks/01_a.ipynb", "notebooks/00_b.ipynb", "notebooks/.hidden.ipynb", "notebooks/x.txt",
                "notebooks/exercises/02_e.ipynb", "notebooks/exercises/01_e.ipynb",
                "notebooks/exercises/.ipynb_checkpoints/01_e-checkpoint.ipynb",
                "labs_c/lab/tracer.c", "labs_c/lab/tracer.h", "labs_c/lab/Makefile", "labs_c/lab/lab.mk",
                "labs_c/lab/tracer.o", "labs_c/lab/build/out.c", "labs_c/lab/.git/x.c", "labs_c/lab/README.md",
                "labs_c/lab/__pycache__/a.c", "labs_c/lab/notes.s", "labs_c/lab/run.py",
                "labs_go/go.mod", "labs_go/go.sum", "labs_go/ch1/main.go", "labs_go/ch1/main", "labs_go/ch1/x.mk",
                "labs_go/ch1/t.txt", "labs_go/ch1/m.mod", "labs_go/ch1/m.sum",
                "benchmarks/results/r.go"]:
        _write(root / rel, SOLVED if rel.endswith((".c", ".go")) and "ch1" not in rel else "plain\n")
    return root


def test_chapter_and_exercise_notebooks_are_the_visible_ones_sorted(tmp_path):
    root = _tree(tmp_path / "course")
    assert layout.chapter_notebooks(root) == [root / "notebooks/00_b.ipynb", root / "notebooks/01_a.ipynb"]
    assert layout.exercise_notebooks(root) == [root / "notebooks/exercises/01_e.ipynb",
                                               root / "notebooks/exercises/02_e.ipynb"]


def test_a_tree_under_a_hidden_or_build_directory_still_sees_its_files(tmp_path):
    # only the parts below the course root count, not where the root itself is
    root = _tree(tmp_path / ".cache" / "build" / "course")
    assert len(layout.chapter_notebooks(root)) == 2
    assert len(layout.exercise_notebooks(root)) == 2
    assert layout.marked_lab_sources(root) == [root / "labs_c/lab/tracer.c"]


def test_lab_files_and_marked_sources(tmp_path):
    root = _tree(tmp_path)
    lab = root / "labs_c" / "lab"
    assert layout.lab_dir_files(root, lab) == [lab / n for n in ("Makefile", "README.md", "lab.mk", "notes.s",
                                                                  "tracer.c", "tracer.h")]
    ch1 = root / "labs_go" / "ch1"
    assert layout.lab_dir_files(root, ch1) == [ch1 / n for n in ("m.mod", "m.sum", "main.go", "t.txt", "x.mk")]
    assert layout.lab_dir_files(root, root / "labs_go") == [root / "labs_go" / n for n in
                                                             ("ch1/m.mod", "ch1/m.sum", "ch1/main.go", "ch1/t.txt",
                                                              "ch1/x.mk", "go.mod", "go.sum")]
    # tracer.h has no markers; labs_go/ch1/main.go has none; benchmarks are not labs
    assert layout.marked_lab_sources(root) == [lab / "tracer.c"]
    _write(root / "labs_go" / "ch2" / "a.go", SOLVED)
    _write(root / "labs_go" / "ch2" / "b.txt", SOLVED)
    assert layout.marked_lab_sources(root) == [lab / "tracer.c", root / "labs_go/ch2/a.go"]


def test_marked_sources_of_each_kind_and_encoding(tmp_path):
    _write(tmp_path / "labs_go" / "ch1" / "a.go", SOLVED)  # no labs_c at all
    (tmp_path / "labs_go" / "ch1" / "b.h").write_bytes(b"\xff\xfe" + SOLVED.encode())
    _write(tmp_path / "labs_go" / "ch1" / "c.s", SOLVED)  # assembly is handed out as it is
    assert layout.marked_lab_sources(tmp_path) == [tmp_path / "labs_go/ch1/a.go", tmp_path / "labs_go/ch1/b.h"]


def test_lab_files_without_lab_directories(tmp_path):
    _write(tmp_path / "labs_go", "a file, not a directory\n")
    assert layout.marked_lab_sources(tmp_path) == []
    assert layout.lab_dir_files(tmp_path, tmp_path / "labs_c") == []


def test_course_root_is_the_checkout(repo):
    assert layout.course_root() == repo
    assert (layout.course_root() / "notebooks").is_dir()


@pytest.mark.parametrize("missing", ["notebooks", "labs_go"])
def test_course_root_away_from_a_checkout_says_what_to_pass(tmp_path, monkeypatch, missing):
    fake = tmp_path / "site" / "gorun_kit" / "course" / "layout.py"
    _write(fake)
    for d in {"notebooks", "labs_go"} - {missing}:
        (tmp_path / "site" / d).mkdir()
    _write(tmp_path / "site" / missing, "a file\n")
    monkeypatch.setattr(layout, "__file__", str(fake))
    with pytest.raises(FileNotFoundError) as info:
        layout.course_root()
    assert str(info.value) == (
        f"gorun_kit is not installed from a course checkout ({tmp_path / 'site'} has no notebooks/ and labs_go/); "
        "the course's labs and notebooks need one: clone the course and `pip install -e .` there, "
        "or pass the checkout's directory (--source DIR, --labs DIR)")
