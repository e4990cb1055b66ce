"""gorun_kit.course.grade on a made-up exercise with the two sandboxes replaced by a
stand-in that answers with chosen outputs: checks that lean on a skipped live run,
the directory a notebook is handed in from, the modules the student's sandbox hides,
and the report's words. No process is started."""
from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

import gorun_kit
import gorun_kit.course.grade as grade_mod
from gorun_kit.course.grade import CellResult, ExerciseResult, GradeReport
from gorun_kit.course.markup import nbgrader_meta

NB = "96_model_exercises.ipynb"


def _code(source, gid=None, **flags):
    meta = {}
    if gid is not None:
        meta = {"nbgrader": {"grade": False, "solution": False, "locked": False, "grade_id": gid,
                             "schema_version": 3, **flags}}
    return nbformat.v4.new_code_cell(source, metadata=meta)


INSTRUCTOR = nbformat.v4.new_notebook(cells=[
    _code("LIVE = nb.live('go')\nOTHER = 1", "setup", locked=True),                      # 0
    _code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "f", solution=True),  # 1
    _code("assert f() == 1  # CC is for a later check", "t_plain", grade=True, locked=True, points=1),              # 2
    _code("assert LIVE.ok and f()", "t_live", grade=True, locked=True, points=2),        # 3
    _code("assert LIVE_X and OTHER", "t_word", grade=True, locked=True, points=3),       # 4
    _code("CC = nb.live('cc')", "setup2", locked=True),                                   # 5
    _code("assert CC", "t_cc", grade=True, locked=True, points=4),                       # 6
])


LAB = "/* ### BEGIN SOLUTION TODO 1 */\nint answer(void) { return 42; }\n/* ### END SOLUTION */\n//| int answer(void) { return 0; }\n"
STUB = "/* TODO 1: YOUR CODE HERE */\nint answer(void) { return 0; }\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    src = tmp_path_factory.mktemp("course")
    (src / "notebooks" / "exercises").mkdir(parents=True)
    nbformat.write(INSTRUCTOR, src / "notebooks" / "exercises" / NB)
    nbformat.write(nbformat.v4.new_notebook(), src / "notebooks" / "exercises" / "95_other.ipynb")
    (src / "labs_c" / "lab1").mkdir(parents=True)
    (src / "labs_c" / "lab1" / "work.c").write_text(LAB)
    return src


@pytest.fixture
def answers(monkeypatch):
    """Every check runs clean unless ``outputs`` says otherwise; ``skipped`` as nb.live reported."""
    calls = []

    def install(outputs=None, skipped=None, note=""):
        def fake(student_cells, checker_cells, where, **kw):
            trees = {name: {str(p.relative_to(kw[name])): p.read_text() for p in kw[name].rglob("*") if p.is_file()}
                     for name in ("student_tree", "check_tree")}
            modes = {str(p.relative_to(kw["check_tree"])): p.stat().st_mode & 0o777
                     for p in kw["check_tree"].rglob("*") if p.is_file()}
            calls.append(dict(kw, student_cells=student_cells, checker_cells=checker_cells, modes=modes, **trees))
            return grade_mod._Run({i: (outputs or {}).get(i, []) for i in where}, skipped or {}, note, "")
        monkeypatch.setattr(grade_mod, "_run_sandboxed", fake)
        return calls
    return install


def _submit(root):
    path = root / "notebooks" / "exercises" / NB
    path.parent.mkdir(parents=True)
    nbformat.write(INSTRUCTOR, path)
    return path


def _cells(result):
    assert {c.grade_id: c.max_points for c in result.cells} == {"t_plain": 1.0, "t_live": 2.0, "t_word": 3.0,
                                                                "t_cc": 4.0}
    return {c.grade_id: (c.points, c.status, c.detail) for c in result.cells}


def test_a_check_reading_a_skipped_live_run_is_not_run(course, answers, tmp_path):
    answers(skipped={0: "needs go (missing)"})
    cells = _cells(grade_mod.grade_notebook(_submit(tmp_path / "s"), source=course))
    skipped = (0.0, "not run", "this machine cannot run the check: needs go (missing); see gorun-kit doctor")
    assert cells == {"t_plain": (1.0, "passed", ""), "t_live": skipped, "t_word": (3.0, "passed", ""),
                     "t_cc": (4.0, "passed", "")}


def test_a_skip_after_a_check_or_in_an_unnamed_cell_does_not_touch_it(course, answers, tmp_path):
    answers(skipped={5: "needs cc (missing)", 3: "needs strace (missing)"})
    cells = _cells(grade_mod.grade_notebook(_submit(tmp_path / "s"), source=course))
    assert cells["t_plain"] == (1.0, "passed", "") and cells["t_word"] == (3.0, "passed", "")
    assert cells["t_live"][1:] == ("not run", "this machine cannot run the check: needs strace (missing); "
                                              "see gorun-kit doctor")
    assert cells["t_cc"][1:] == ("not run", "this machine cannot run the check: needs cc (missing); "
                                            "see gorun-kit doctor")


def test_a_failed_check_is_failed_whatever_it_reads(course, answers, tmp_path):
    error = [{"output_type": "error", "ename": "AssertionError", "evalue": "no", "traceback": []}]
    stderr = [{"output_type": "stream", "name": "stderr", "text": "warning\n"}]
    answers(outputs={3: error, 6: stderr}, skipped={0: "needs go (missing)", 5: "needs cc (missing)"})
    cells = _cells(grade_mod.grade_notebook(_submit(tmp_path / "s"), source=course))
    assert cells["t_live"] == (0.0, "failed", "AssertionError: no")
    assert cells["t_cc"][:2] == (0.0, "not run")  # stderr is no error: the skip explains it


def test_a_notebook_outside_the_directory_handed_in_is_refused(course, answers, tmp_path):
    calls = answers()
    path = _submit(tmp_path / "s")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for within in (elsewhere, tmp_path / "s" / "notebooks" / "exercises" / "sub"):
        result = grade_mod.grade_notebook(path, source=course, within=within)
        assert result.points == 0 and "symbolic link, not a regular file, or larger than 50 MiB" in result.note
    (tmp_path / "link").symlink_to(tmp_path / "s")  # same directory by another name
    result = grade_mod.grade_notebook(path, source=course, within=tmp_path / "link")
    assert result.points == 0 and "symbolic link" in result.note
    assert not calls
    result = grade_mod.grade_notebook(path, source=course, within=tmp_path / "s")
    assert result.points == 10.0 and len(calls) == 1


def test_a_linked_directory_inside_the_submission_is_refused(course, answers, tmp_path):
    calls = answers()
    path = _submit(tmp_path / "real")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "bob").symlink_to(tmp_path / "real")
    linked = tmp_path / "class" / "bob" / "notebooks" / "exercises" / NB
    result = grade_mod.grade_notebook(linked, source=course, within=tmp_path / "class")
    assert "symbolic link" in result.note and not calls
    assert grade_mod.grade_notebook(path, source=course, within=tmp_path / "real").points == 10.0


def test_a_single_file_module_is_hidden_with_its_bytecode(monkeypatch):
    monkeypatch.setitem(grade_mod.WITHHELD, "97_x.ipynb", ("gorun_kit.records", "gorun_kit.no_such_module",
                                                           "gorun_kit.records", "gorun_kit.course"))
    origin = Path(importlib.util.find_spec("gorun_kit.records").origin)
    hidden = grade_mod.withheld_paths("97_x.ipynb")
    expected = [str(p) for p in sorted(origin.parent.glob("records.*"))]
    cache = Path(importlib.util.cache_from_source(str(origin))).parent
    if cache.is_dir():
        expected.append(str(cache))
    expected.append(str(Path(gorun_kit.__file__).parent / "course"))
    assert hidden == expected
    assert str(origin) in hidden and grade_mod.withheld_paths("98_nothing.ipynb") == []


def test_the_report_words(tmp_path):
    cells = (CellResult("a", 1.0, 1.0, "passed", "kept"), CellResult("b", 0.0, 2.5, "failed", ""),
             CellResult("essay", 0.0, 3.0, "manual"))
    e = ExerciseResult("x.ipynb", "x.ipynb", cells)
    assert (e.points, e.max_points, e.note) == (1.0, 3.5, "")
    assert e.to_dict()["points"] == 1.0 and e.to_dict()["max_points"] == 3.5
    report = GradeReport((e, ExerciseResult("y.ipynb", "y.ipynb", ())))
    assert report.render().splitlines() == [
        "x.ipynb: 1/3.5", f"  {'a':<32}    1/1    passed", f"  {'b':<32}    0/2.5  failed",
        f"  {'essay':<32}    0/3    manual", "y.ipynb: 0/0", "TOTAL 1/3.5"]
    assert GradeReport((ExerciseResult("z", "z", (CellResult("c", 2.0, 2.0, "passed"),)),)).full_marks


def test_bad_markup_of_the_instructors_exercise_is_refused(answers, tmp_path):
    calls = answers()
    src = tmp_path / "course"
    (src / "notebooks" / "exercises").mkdir(parents=True)
    bad = nbformat.v4.new_notebook(cells=[_code("assert True", "t", grade=True, locked=True, points=1),
                                          _code("assert True", "t", grade=True, locked=True, points=1)])
    nbformat.write(bad, src / "notebooks" / "exercises" / NB)
    path = _submit(tmp_path / "s")
    with pytest.raises(ValueError, match=rf"{NB} cell 1: grade_id 't' is also used by cell 0"):
        grade_mod.grade_notebook(path, source=src)
    report = grade_mod.grade(tmp_path / "s", source=src)  # in a directory: reported, not raised
    assert "grade_id 't' is also used" in report.exercises[0].note and not calls
    empty = tmp_path / "empty"
    (empty / "notebooks" / "exercises").mkdir(parents=True)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} is not one of the course's exercises \(known: none in "):
        grade_mod.grade_notebook(path, source=empty)


@pytest.mark.parametrize("text, points, why", [
    ("nan", 2.0, ""), ("-inf", 2.0, ""), ("-0.0", 0.0, "partial credit: the cell's value is -0"),
    ("inf", 0.0, "the cell's value inf is more than its 2 points"), ("2.0", 2.0, "partial credit: the cell's value is 2"),
])
def test_a_value_that_is_no_number_of_points_scores_as_nbgrader_does(text, points, why):
    result = [{"output_type": "execute_result", "data": {"text/plain": text}}]
    assert grade_mod.cell_points(result, 2.0) == (points, why)


def test_restored_checks_carry_none_of_the_instructors_outputs():
    teacher = nbformat.v4.new_notebook(cells=[
        _code("print(1)", "a", grade=True, locked=True, points=1), _code("print(2)", "b", locked=True),
        _code("print(3)", "c", grade=True, locked=True, points=1)])
    for n, cell in enumerate(teacher.cells, 1):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{n}\n")]
        cell.execution_count = n
    student = nbformat.v4.new_notebook(cells=[_code("print('edited')", "a", grade=True, points=9),
                                              nbformat.v4.new_markdown_cell("mine")])
    out = grade_mod.restore_protected(student, teacher)
    assert [(c.get("source"), c.get("outputs"), c.get("execution_count")) for c in out.cells] == [
        ("print(1)", [], None), ("print(2)", [], None), ("print(3)", [], None), ("mine", None, None)]
    assert teacher.cells[0].execution_count == 1 and teacher.cells[2].outputs  # the instructor's untouched


def test_both_trees_hold_the_students_lab_source_and_only_a_release_tree_gives_it(course, answers, tmp_path):
    calls = answers()
    path = _submit(tmp_path / "s")
    (tmp_path / "s" / "labs_c" / "lab1").mkdir(parents=True)
    (tmp_path / "s" / "labs_c" / "lab1" / "work.c").write_text("int answer(void) { return 7; }\n")
    grade_mod.grade_notebook(path, source=course)
    for tree in ("student_tree", "check_tree"):
        assert calls[-1][tree]["labs_c/lab1/work.c"] == "int answer(void) { return 7; }\n"
    # a notebook in some other exercises/ directory: no release tree, the lab is the stub
    lone = tmp_path / "t" / "sub" / "exercises" / NB
    lone.parent.mkdir(parents=True)
    nbformat.write(INSTRUCTOR, lone)
    (tmp_path / "t" / "labs_c" / "lab1").mkdir(parents=True)
    (tmp_path / "t" / "labs_c" / "lab1" / "work.c").write_text("int answer(void) { return 7; }\n")
    grade_mod.grade_notebook(lone, source=course)
    assert calls[-1]["student_tree"]["labs_c/lab1/work.c"] == calls[-1]["check_tree"]["labs_c/lab1/work.c"] == STUB


def test_benchmarks_come_without_hidden_files_and_keep_their_execute_bit(answers, tmp_path):
    calls = answers()
    src = tmp_path / "course"
    (src / "notebooks" / "exercises").mkdir(parents=True)
    nbformat.write(INSTRUCTOR, src / "notebooks" / "exercises" / NB)
    for rel, mode in (("r.json", 0o662), ("run", 0o605), (".env", 0o600), ("__pycache__/x.pyc", 0o600),
                      ("build/out", 0o600)):
        (src / "benchmarks" / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / "benchmarks" / rel).write_text("x")
        (src / "benchmarks" / rel).chmod(mode)
    grade_mod.grade_notebook(_submit(tmp_path / "s"), source=src)
    assert calls[0]["modes"] == {"benchmarks/r.json": 0o644, "benchmarks/run": 0o755,
                                 f"notebooks/exercises/{NB}": 0o644}


def test_restoring_leaves_both_notebooks_alone_and_keeps_plain_cells():
    teacher = nbformat.v4.new_notebook(cells=[
        _code("x = 1", "plain"), _code("def f(): ...", "f", solution=True),
        _code("assert f()", "t", grade=True, locked=True, points=1), _code("BASE = 2", "base", locked=True),
        _code("assert f() == 2", "t2", grade=True, locked=True, points=1)])
    student = nbformat.v4.new_notebook()
    student.cells = [_code("x = 2", "plain"), nbformat.from_dict({"cell_type": "markdown", "source": "no metadata"}),
                     _code("def f(): return 2", "f", solution=True, points=50), _code("pass", "t", grade=True)]
    before = (copy.deepcopy(student), copy.deepcopy(teacher))
    out = grade_mod.restore_protected(student, teacher)
    # an instructor's cell with a grade_id but no grading stays the student's; a deleted check comes
    # back after the last cell before it that is present
    assert [(c.source, nbgrader_meta(c).get("grade_id")) for c in out.cells] == [
        ("x = 2", "plain"), ("no metadata", None), ("def f(): return 2", "f"), ("assert f()", "t"),
        ("BASE = 2", "base"), ("assert f() == 2", "t2")]
    for cell in out.cells:
        cell.source += "  # changed"
        cell.setdefault("metadata", {}).setdefault("nbgrader", {})["points"] = 99
    assert (student, teacher) == before


def test_a_check_after_a_deleted_answer_comes_back_after_the_cell_before_them():
    teacher = nbformat.v4.new_notebook(cells=[
        _code("A = 1", "a", locked=True), _code("def f(): ...", "f", solution=True),
        _code("assert f()", "t", grade=True, locked=True, points=1), _code("print('end')")])
    student = nbformat.v4.new_notebook(cells=[_code("A = 1", "a", locked=True), _code("print('end')")])
    out = grade_mod.restore_protected(student, teacher)
    assert [c.source for c in out.cells] == ["A = 1", "assert f()", "print('end')"]


def test_outputs_without_data_text_or_an_error_stream():
    assert grade_mod.cell_points([{"output_type": "execute_result"}], 2.0) == (2.0, "")
    assert grade_mod.cell_points([{"output_type": "stream", "name": "stdout", "text": "0"}], 2.0) == (2.0, "")
    assert grade_mod.cell_points([{"output_type": "stream", "name": "stderr"}], 2.0) == (
        0.0, "wrote to stderr (nbgrader scores that 0): ")


def test_cells_without_a_source_run_as_empty_cells(course, answers, tmp_path):
    calls = answers()
    path = _submit(tmp_path / "s")
    data = json.loads(path.read_text())
    del data["cells"][1]["source"]  # the answer cell
    path.write_text(json.dumps(data))
    grade_mod.grade_notebook(path, source=course)
    assert calls[0]["student_cells"] == [INSTRUCTOR.cells[0].source, ""]
    assert calls[0]["checker_cells"][1] == {"bind": ["f"]}


def test_timeouts_are_positive_seconds(course, answers, tmp_path):
    answers()
    path = _submit(tmp_path / "s")
    for bad in (0, -1):
        with pytest.raises(ValueError, match=rf"^timeout={bad}: give a positive number of seconds$"):
            grade_mod.grade_notebook(path, source=course, timeout=bad)
        with pytest.raises(ValueError, match=rf"^timeout={bad}: give a positive number of seconds$"):
            grade_mod.grade(path, source=course, timeout=bad)
    assert grade_mod.grade_notebook(path, source=course, timeout=0.5).points == 10.0
    assert grade_mod.grade(path, source=course, timeout=1).points == 10.0


def test_the_course_tree_is_the_default_source(course, answers, tmp_path, monkeypatch):
    calls = answers()
    monkeypatch.setattr(grade_mod.layout, "course_root", lambda: course)
    path = _submit(tmp_path / "s")
    assert grade_mod.grade_notebook(path).points == 10.0
    report = grade_mod.grade()  # the instructor's own exercises
    assert [e.exercise for e in report.exercises] == ["95_other.ipynb", NB] and len(calls) == 3
    with pytest.raises(ValueError, match=rf"^{re.escape(str(tmp_path / 'x.ipynb'))} is not one of the course's "
                                         rf"exercises \(known: 95_other\.ipynb, {NB} in "
                                         rf"{re.escape(str(course / 'notebooks' / 'exercises'))}\)$"):
        grade_mod.grade_notebook(tmp_path / "x.ipynb")


@pytest.mark.parametrize("exc, said", [
    (ValueError(), "ValueError"), (OSError("x" * 300 + "\nsecond line"), "x" * 200)])
def test_an_unreadable_notebook_says_why_in_one_short_line(course, answers, tmp_path, monkeypatch, exc, said):
    calls = answers()
    path = _submit(tmp_path / "s")
    read = grade_mod.nbformat.read

    def failing(where, *args, **kw):
        if Path(where) == path:
            raise exc
        return read(where, *args, **kw)

    monkeypatch.setattr(grade_mod.nbformat, "read", failing)
    result = grade_mod.grade_notebook(path, source=course)
    why = (f"not a readable notebook ({said}); hand in the notebook file itself, restored from the release "
           "with your answers copied back")
    assert (result.notebook, result.exercise, result.note) == (str(path), NB, why) and not calls
    assert {c.status for c in result.cells} == {"not run"} and result.max_points == 10.0


def test_partial_credit_is_partial_below_one_point(course, answers, tmp_path):
    half = [{"output_type": "execute_result", "data": {"text/plain": "0.5"}}]
    answers(outputs={2: half})
    cells = {c.grade_id: c for c in grade_mod.grade_notebook(_submit(tmp_path / "s"), source=course).cells}
    assert (cells["t_plain"].points, cells["t_plain"].status) == (0.5, "partial")


def test_a_class_directory_given_through_a_link_is_graded(course, answers, tmp_path):
    answers()
    real = tmp_path / "real"
    _submit(real / "ann")
    _submit(tmp_path / "elsewhere" / "bob")
    (real / "bob").symlink_to(tmp_path / "elsewhere" / "bob")
    (real / "notes.ipynb").write_text("{}")
    (tmp_path / "class").symlink_to(real)
    lines = []
    report = grade_mod.grade(tmp_path / "class", tmp_path / "out.json", source=course, echo=lines.append)
    ann, notes = report.exercises  # a linked directory inside is not searched
    assert (ann.points, ann.notebook) == (10.0, str(tmp_path / "class" / "ann" / "notebooks" / "exercises" / NB))
    assert (notes.notebook, notes.exercise, notes.cells) == (str(tmp_path / "class" / "notes.ipynb"), "notes.ipynb", ())
    assert "not one of the course's exercises" in notes.note
    assert lines[0] == "\n".join(GradeReport((ann,)).render().splitlines()[:-1])
    assert (tmp_path / "out.json").read_text() == json.dumps(report.to_dict(), indent=2) + "\n"


def test_feeding_a_process_that_is_gone_is_quiet():
    class Gone:
        closed = False

        def write(self, data):
            raise BrokenPipeError(32, "Broken pipe")

        def close(self):
            self.closed = True
            raise OSError(9, "Bad file descriptor")

    pipe = Gone()
    grade_mod._feed(pipe, b"data")
    assert pipe.closed


def test_without_a_bytecode_path_the_cache_beside_the_module_is_hidden(monkeypatch):
    def no_cache(path, *args, **kw):
        raise ValueError("sys.implementation.cache_tag is None")  # what a pycache_prefix mix-up raises

    monkeypatch.setitem(grade_mod.WITHHELD, "97_x.ipynb", ("gorun_kit.records",))
    with_cache = grade_mod.withheld_paths("97_x.ipynb")
    monkeypatch.setattr(importlib.util, "cache_from_source", no_cache)
    assert grade_mod.withheld_paths("97_x.ipynb") == with_cache  # the __pycache__ beside it, found anyway


def test_a_notebook_the_grader_fails_on_is_named_in_the_report(course, monkeypatch, tmp_path):
    def broken(*args, **kw):
        raise RuntimeError("the checks' process ended")

    monkeypatch.setattr(grade_mod, "_run_sandboxed", broken)
    path = _submit(tmp_path / "class" / "s")
    (failed,) = grade_mod.grade(tmp_path / "class", source=course).exercises
    assert (failed.notebook, failed.exercise, failed.cells) == (str(path), NB, ())
    with pytest.raises(ValueError, match="^timeout=0: give a positive number of seconds$"):
        grade_mod.grade(tmp_path / "class", source=course, timeout=0)  # refused before any notebook


@pytest.fixture
def made_up_kit(tmp_path, monkeypatch):
    """A package ``kity``: a module ``answer`` compiled to ``__pycache__`` and to a legacy
    ``answer.pyc`` beside it, a neighbour ``answers`` whose name only starts alike, a
    subpackage ``sub``."""
    import py_compile
    import sys

    pkg = tmp_path / "site" / "kity"
    (pkg / "sub").mkdir(parents=True)
    for rel in ("__init__.py", "sub/__init__.py", "answers.py"):
        (pkg / rel).write_text("")
    (pkg / "answer.py").write_text("A = 1\n")
    src = str(pkg / "answer.py")
    py_compile.compile(src, cfile=importlib.util.cache_from_source(src), doraise=True)
    py_compile.compile(src, cfile=str(pkg / "answer.pyc"), doraise=True)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield pkg
    for name in [m for m in sys.modules if m == "kity" or m.startswith("kity.")]:
        del sys.modules[name]


def test_withheld_modules_hide_their_files_their_bytecode_and_their_packages(made_up_kit, monkeypatch):
    pkg = made_up_kit
    monkeypatch.setitem(grade_mod.WITHHELD, "97_x.ipynb", ("kity.missing", "kity.sub", "kity.answer",
                                                           "kity.answer"))
    assert grade_mod.withheld_paths("97_x.ipynb") == [
        str(pkg / "sub"), str(pkg / "answer.py"), str(pkg / "answer.pyc"), str(pkg / "__pycache__")]


def test_bytecode_under_a_pycache_prefix_is_hidden_too(made_up_kit, monkeypatch, tmp_path):
    import py_compile
    import sys

    pkg = made_up_kit
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "pyc"))
    src = str(pkg / "answer.py")
    py_compile.compile(src, cfile=importlib.util.cache_from_source(src), doraise=True)
    elsewhere = Path(importlib.util.cache_from_source(src)).parent
    assert elsewhere.is_dir() and tmp_path / "pyc" in elsewhere.parents
    monkeypatch.setitem(grade_mod.WITHHELD, "97_x.ipynb", ("kity.answer",))
    assert grade_mod.withheld_paths("97_x.ipynb") == [
        str(pkg / "answer.py"), str(pkg / "answer.pyc"), *sorted([str(pkg / "__pycache__"), str(elsewhere)])]
    (pkg / "__pycache__" / next((pkg / "__pycache__").iterdir()).name).unlink()
    (pkg / "__pycache__").rmdir()  # a directory that is not there is not hidden
    assert grade_mod.withheld_paths("97_x.ipynb") == [str(pkg / "answer.py"), str(pkg / "answer.pyc"),
                                                      str(elsewhere)]
