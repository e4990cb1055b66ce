"""Release and grading, proven on the fixture course in tests/fixtures/course
(two exercise notebooks, a C lab and a Go lab), independent of the chapters."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from gorun_kit import cli
import gorun_kit.course.grade as grade_mod
from gorun_kit.course.markup import MarkupError, nbgrader_meta
from gorun_kit.course.release import release, student_notebook

FIXTURE = Path(__file__).parent / "fixtures" / "course"
EXERCISES = FIXTURE / "notebooks" / "exercises"
PY_NB = "91_fixture_py_exercises.ipynb"
LABS_NB = "90_fixture_labs_exercises.ipynb"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "release"
    result = release(out, source=FIXTURE)
    return out, result


def _sources(nb):
    return "\n".join(c.source for c in nb.cells)


def test_release_strips_solutions_and_hidden_tests_keeps_metadata(released):
    out, result = released
    assert sorted(result.notebooks) == [f"notebooks/exercises/{LABS_NB}", f"notebooks/exercises/{PY_NB}"]
    for name in (PY_NB, LABS_NB):
        teacher = nbformat.read(EXERCISES / name, as_version=4)
        student = nbformat.read(out / "notebooks" / "exercises" / name, as_version=4)
        text = _sources(student)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marker not in text
        assert [nbgrader_meta(c) for c in student.cells] == [nbgrader_meta(c) for c in teacher.cells]
        assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
                   for c in student.cells if c.cell_type == "code")
    py = nbformat.read(out / "notebooks" / "exercises" / PY_NB, as_version=4)
    text = _sources(py)
    assert "# YOUR CODE HERE\n    raise NotImplementedError()" in text  # indented like the answer
    assert "return sum(ch in" not in text  # the answer itself is gone
    assert "count_vowels('') == 0" not in text  # hidden test gone
    assert "assert all(count_vowels(w)" in text  # visible test kept
    assert "YOUR ANSWER HERE" in text and "no fixed answer" not in text  # written answer stubbed


def test_release_lab_sources(released):
    out, result = released
    assert set(result.lab_files) == {"labs_c/fixture_digits/digits.c", "labs_go/fixture_rev/main.go",
                                     "labs_go/go.mod"}
    c = (out / "labs_c/fixture_digits/digits.c").read_text()
    assert "/* YOUR CODE HERE */" in c and "total += n % 10" not in c and "SOLUTION" not in c
    go = (out / "labs_go/fixture_rev/main.go").read_text()
    assert "panic(" in go and "[]rune(s)" not in go and "SOLUTION" not in go
    assert (out / "labs_go/go.mod").read_bytes() == (FIXTURE / "labs_go/go.mod").read_bytes()


def test_release_is_deterministic_and_refuses_foreign_dirs(released, tmp_path):
    out, _ = released
    again = tmp_path / "again"
    release(again, source=FIXTURE)
    files = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert all((again / f).read_bytes() == (out / f).read_bytes() for f in files)
    release(again, source=FIXTURE)  # an earlier release may be replaced
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an earlier student release"):
        release(foreign, source=FIXTURE)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_bad_markup_names_file_and_cell(tmp_path):
    nb = nbformat.read(EXERCISES / PY_NB, as_version=4)
    nb.cells[3].source = nb.cells[3].source.replace("### END SOLUTION", "")
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nb, bad)
    with pytest.raises(MarkupError, match=r"bad\.ipynb cell 3.*never closed"):
        student_notebook(bad)


def _grade(path, **kw):
    return grade_mod.grade(path, source=FIXTURE, **kw)


@pytest.mark.slow
def test_solutions_full_release_zero_and_json(released, tmp_path):
    out, _ = released
    full = _grade(EXERCISES, json_file=tmp_path / "full.json")
    assert [e.exercise for e in full.exercises] == [LABS_NB, PY_NB]
    assert full.full_marks and full.max_points == 7
    assert all(c.status == "passed" for e in full.exercises for c in e.cells)
    data = json.loads((tmp_path / "full.json").read_text())
    assert data["points"] == data["max_points"] == 7
    zero = _grade(out / "notebooks" / "exercises")
    assert zero.max_points == 7 and zero.points == 0
    assert all(c.status == "failed" for e in zero.exercises for c in e.cells)


def _student_copy(released, tmp_path):
    """A student's copy of the fixture release: (root, PY_NB's path, the notebook, its answer cell)."""
    out, _ = released
    root = tmp_path / "student"
    shutil.copytree(out, root)
    path = root / "notebooks" / "exercises" / PY_NB
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "count_vowels")
    return root, path, nb, answer


@pytest.mark.slow
def test_student_cannot_remove_or_weaken_checks(released, tmp_path):
    root, path, nb, answer = _student_copy(released, tmp_path)
    # An answer wrong only on the empty string, which only a hidden test tries.
    answer.source = "def count_vowels(s):\n    return sum(ch in 'aeiouAEIOU' for ch in s) if s else 1"
    weak = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "test_count_vowels_random")
    weak.source = "pass"
    weak.metadata["nbgrader"]["points"] = 100
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") != "test_count_vowels"]
    copies = [nbformat.from_dict(dict(weak, id="copy-test")), nbformat.from_dict(dict(answer, id="copy-answer"))]
    nb.cells += copies  # a copied graded cell must not score twice
    nbformat.write(nb, path)
    result = _grade(path).exercises[0]
    cells = {c.grade_id: c for c in result.cells}
    assert set(cells) == {"test_count_vowels", "test_count_vowels_random"}  # deleted check is back
    assert cells["test_count_vowels"].status == "passed"
    assert cells["test_count_vowels_random"].status == "failed"  # hidden test restored and failing
    assert "AssertionError" in cells["test_count_vowels_random"].detail
    assert (result.points, result.max_points) == (1, 3)


def _procs_with(arg: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if arg in (d / "cmdline").read_bytes().split(b"\0")[1:]:
                    found.append(int(d.name))
            except OSError:
                pass
    return found


@pytest.mark.slow
def test_timeout_scores_zero_and_leaves_no_process(released, tmp_path):
    root, path, nb, answer = _student_copy(released, tmp_path)
    marker = f"{os.getpid() % 1000 + 4000}.5"  # a sleep length nobody else uses
    answer.source = (f"import subprocess\nchild = subprocess.Popen(['sleep', '{marker}'])\n"
                     "while True:\n    pass")
    nbformat.write(nb, path)
    start = time.monotonic()
    result = _grade(path, timeout=6).exercises[0]
    assert time.monotonic() - start < 60
    assert "timed out" in result.note
    assert result.points == 0 and {c.status for c in result.cells} == {"not run"}
    for _ in range(50):
        if not _procs_with(marker.encode()):
            break
        time.sleep(0.1)
    assert _procs_with(marker.encode()) == []


def test_cli_errors_are_clear(tmp_path, capsys):
    stray = tmp_path / "homework.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), stray)
    assert cli.main(["course", "grade", str(stray), "--source", str(FIXTURE)]) == 2
    err = capsys.readouterr().err
    assert "homework.ipynb is not one of the course's exercises" in err and PY_NB in err
    assert cli.main(["course", "grade", str(tmp_path / "missing"), "--source", str(FIXTURE)]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["course", "grade", str(stray), "--source", str(FIXTURE), "--timeout", "0"])
    assert exit_.value.code == 2 and "--timeout" in capsys.readouterr().err


@pytest.mark.slow
def test_a_broken_notebook_is_reported_and_the_others_graded(tmp_path, capsys):
    shutil.copytree(FIXTURE, tmp_path / "course")  # the solutions, labs included
    sub = tmp_path / "course" / "notebooks" / "exercises"
    (sub / PY_NB).write_text('{"cells": [')
    js = tmp_path / "g.json"
    assert cli.main(["course", "grade", str(sub), "--source", str(FIXTURE), "--json", str(js)]) == 1
    out = capsys.readouterr().out
    assert "not a readable notebook" in out and f"{LABS_NB}: 4/4" in out, out
    data = json.loads(js.read_text())
    assert [(e["exercise"], e["points"]) for e in data["exercises"]] == [(LABS_NB, 4), (PY_NB, 0)]


@pytest.mark.slow
def test_cli_exit_status_follows_points(released, tmp_path, capsys):
    out, _ = released
    js = tmp_path / "g.json"
    assert cli.main(["course", "grade", str(EXERCISES / PY_NB), "--source", str(FIXTURE),
                     "--json", str(js)]) == 0
    assert "TOTAL 3/3" in capsys.readouterr().out
    assert json.loads(js.read_text())["exercises"][0]["points"] == 3
    assert cli.main(["course", "grade", str(out / "notebooks" / "exercises" / PY_NB),
                     "--source", str(FIXTURE)]) == 1
    assert "TOTAL 0/3" in capsys.readouterr().out


@pytest.mark.slow
def test_lone_notebook_gets_stubbed_labs_not_solutions(tmp_path):
    """A notebook graded outside a release-shaped tree sees the *student* lab
    sources: grading never lends it the instructor's answers."""
    lone = tmp_path / "homework" / LABS_NB
    lone.parent.mkdir()
    shutil.copy(EXERCISES / LABS_NB, lone)  # the instructor's notebook, but no lab sources beside it
    result = _grade(lone).exercises[0]
    assert result.points == 0 and {c.status for c in result.cells} == {"failed"}
    assert (FIXTURE / "labs_c/fixture_digits/digits.c").read_text().count("BEGIN SOLUTION") == 1  # source untouched


def test_cli_run_rejects_bad_versions(capsys):
    assert cli.main(["course", "run", "--go", "banana"]) == 2
    assert "--go 'banana' is not a Go release" in capsys.readouterr().err
    for outside in ("1.21", "1.99", "1.22,1.30.1"):
        assert cli.main(["course", "run", "--go", outside]) == 2
        err = capsys.readouterr().err
        assert "the course supports Go 1.22" in err and "Traceback" not in err, err


def test_cli_claims_prints_counts(capsys):
    rc = cli.main(["course", "claims"])
    out = capsys.readouterr().out
    assert "ledger rows:" in out and "demonstrated" in out and "not checkable" in out
    assert rc == 0, out[-3000:]


def test_a_check_that_skipped_for_want_of_a_tool_earns_nothing(monkeypatch):
    """A graded cell guarded by nb.live(...) finishes without an error when the
    tool is missing; the grader must call that "not run", not "passed"."""
    root = Path(__file__).resolve().parents[1]
    solved = root / "notebooks" / "exercises" / "04_newosproc_threads_exercises.ipynb"
    monkeypatch.setenv("GORUN_KIT_GO", "/nonexistent/go")
    result = grade_mod.grade_notebook(solved, source=root)
    live = {c.grade_id: c for c in result.cells if c.grade_id.startswith("hook-")}
    assert live and all(c.status == "not run" and c.points == 0 for c in live.values()), live
    assert all("this machine cannot run the check: needs go" in c.detail for c in live.values())
    assert result.points < result.max_points


def test_skips_are_tied_to_the_cells_that_use_them():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("LIVE = nb.live('go')"),
        nbformat.v4.new_code_cell("assert 1 + 1 == 2"),
        nbformat.v4.new_code_cell("if LIVE:\n    assert run_it()"),
        nbformat.v4.new_code_cell("OTHER = nb.live('cc')\nif OTHER:\n    pass"),
    ])
    skipped = {0: "needs go (missing)", 3: "needs cc (missing)"}
    assert grade_mod._skipped_check(nb, 1, skipped) is None  # pure Python: keeps its points
    assert grade_mod._skipped_check(nb, 2, skipped) == "needs go (missing)"
    assert grade_mod._skipped_check(nb, 3, skipped) == "needs cc (missing)"
    assert grade_mod._skipped_check(nb, 2, {}) is None


# --- nbgrader's scoring rule, course files, the nbgrader export ---------------------------

def _stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


def _result(text):
    return {"output_type": "execute_result", "data": {"text/plain": text}, "metadata": {}, "execution_count": 1}


@pytest.mark.parametrize("outputs, points", [
    ([], 3.0),
    ([_stream("stdout", "ok\n")], 3.0),
    ([_stream("stdout", "ok\n"), {"output_type": "error", "ename": "AssertionError", "evalue": "x"}], 0.0),
    ([_stream("stderr", "[gorun-kit] cc tracer.c ...\n")], 0.0),  # nbgrader: any stderr scores 0
    ([_result("1.5")], 1.5),  # a number as the cell's value is partial credit
    ([_result("'all good'")], 3.0),
    ([_result("-1")], 3.0),
    ([_result("7")], 0.0),  # above the cell's points
    ([_result("2"), _stream("stderr", "late\n")], 2.0),  # nbgrader stops at the first result
])
def test_cell_points_follow_nbgrader(outputs, points):
    got, why = grade_mod.cell_points(outputs, 3.0)
    assert got == points
    assert (why == "") == (points == 3.0)


def test_cell_points_agree_with_nbgrader_itself():
    utils = pytest.importorskip("nbgrader.utils")
    cases = [[], [_stream("stdout", "x")], [_stream("stderr", "x")], [_result("1.5")], [_result("'a'")],
             [{"output_type": "error", "ename": "E", "evalue": "v", "traceback": []}]]
    for outputs in cases:
        cell = nbformat.v4.new_code_cell("pass", outputs=[nbformat.from_dict(o) for o in outputs],
                                         metadata={"nbgrader": {"grade": True, "solution": False,
                                                                "grade_id": "g", "points": 3}})
        assert utils.determine_grade(cell)[0] == grade_mod.cell_points(outputs, 3.0)[0], outputs


def test_course_path_looks_beside_then_above(tmp_path):
    from gorun_kit.course.files import course_path

    (tmp_path / "labs_c" / "lab").mkdir(parents=True)
    (tmp_path / "labs_c" / "lab" / "x.c").write_text("int main(void){return 0;}\n")
    deep = tmp_path / "notebooks" / "exercises"
    deep.mkdir(parents=True)
    assert course_path("labs_c/lab/x.c", deep) == tmp_path / "labs_c" / "lab" / "x.c"
    (deep / "labs_c" / "lab").mkdir(parents=True)  # an nbgrader assignment: the lab beside the notebook
    (deep / "labs_c" / "lab" / "x.c").write_text("mine\n")
    assert course_path("labs_c/lab/x.c", deep).read_text() == "mine\n"
    with pytest.raises(FileNotFoundError, match="labs_c/lab/y.c"):
        course_path("labs_c/lab/y.c", deep)
    for bad in ("../labs_c/lab/x.c", "/etc/passwd", "notebooks/x.ipynb", "labs_c/../../x"):
        with pytest.raises(ValueError, match="course path"):
            course_path(bad, deep)


def test_needs_reads_literal_course_paths():
    from gorun_kit.course.files import needs

    assert needs(EXERCISES / LABS_NB) == ["labs_c/fixture_digits/digits.c", "labs_go/fixture_rev"]
    assert needs(EXERCISES / PY_NB) == []


def test_export_nbgrader_writes_a_course_directory(tmp_path, capsys):
    out = tmp_path / "nbg"
    assert cli.main(["course", "export-nbgrader", str(out), "--source", str(FIXTURE)]) == 0
    assert "source/ch90" in capsys.readouterr().out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["nbgrader_config.py",
                     "source/ch90/90_fixture_labs_exercises.ipynb",
                     "source/ch90/labs_c/fixture_digits/digits.c",
                     "source/ch90/labs_go/fixture_rev/main.go",
                     "source/ch90/labs_go/go.mod",
                     "source/ch91/91_fixture_py_exercises.ipynb"]
    # the instructor's notebooks as they are (nbgrader strips them), with the record of which
    # checks have hidden parts ("check my work" lists them), lab solutions stubbed
    exported = nbformat.read(out / "source/ch90" / LABS_NB, as_version=4)
    record = exported.metadata.pop("gorun_kit")
    assert record["exercise"] == LABS_NB[:-len(".ipynb")] and isinstance(record["hidden_checks"], list)
    assert exported == nbformat.read(EXERCISES / LABS_NB, as_version=4)
    digits = (out / "source/ch90/labs_c/fixture_digits/digits.c").read_text()
    assert "BEGIN SOLUTION" not in digits and "YOUR CODE HERE" in digits
    config = (out / "nbgrader_config.py").read_text()
    namespace = {"get_config": lambda: _Config()}
    exec(compile(config, "nbgrader_config.py", "exec"), namespace)
    c = namespace["c"]
    assert c.Autograde.exclude_overwriting == {"ch90": ["labs_c/fixture_digits/digits.c",
                                                        "labs_go/fixture_rev/main.go"]}
    assert c.Execute.timeout >= 300
    # an earlier export is replaced; a foreign directory is refused
    (out / "source" / "ch91" / "stale.txt").write_text("x")
    assert cli.main(["course", "export-nbgrader", str(out), "--source", str(FIXTURE)]) == 0
    assert not (out / "source" / "ch91" / "stale.txt").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    assert cli.main(["course", "export-nbgrader", str(foreign), "--source", str(FIXTURE)]) == 2
    assert "not an earlier export" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "keep"


class _Config:
    """Enough of traitlets' Config for reading nbgrader_config.py: c.Section.option = value."""

    def __getattr__(self, name):
        section = type("Section", (), {})()
        object.__setattr__(self, name, section)
        return section
