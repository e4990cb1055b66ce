"""Student mode: the working copy a student edits, its refresh, and the checks
that build the student's own files (gorun_kit.course.workspace, ``make lab``).

The browser walk through the same working copy is tests/test_browser_student.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import workspace
from gorun_kit.course.files import course_path, is_reference_solution
from gorun_kit.course.layout import course_root
from gorun_kit.course.markup import lab_regions, student_lab_text

ROOT = course_root()
TRACER = "labs_c/ptrace_lab/tracer.c"
PTRACE_EXERCISE = "notebooks/exercises/03_ptrace_exercises.ipynb"
SOLUTION_WORDS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "BEGIN SOLUTION")


def solved_lab_text(stub: str, reference: str) -> str:
    """What a student who completed every TODO of a lab holds: the stub ``stub`` with
    each ``TODO n: YOUR CODE HERE`` line and the stub lines after it replaced by the
    body of the matching solution region of ``reference`` (no markers left)."""
    assert student_lab_text(reference) == stub, "the stub is not the release's copy of this reference"
    lines = reference.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for region in lab_regions(reference):
        out.extend(lines[pos:region.begin - 1])  # up to the BEGIN marker
        out.extend(lines[region.begin:region.end - 1])  # the solution body
        pos = region.end + len(region.stub)  # past the END marker and the stub
    out.extend(lines[pos:])
    return "".join(out)


def _tree_text(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): p.read_text(errors="replace")
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def copy(tmp_path) -> Path:
    result = workspace.make_workspace(tmp_path / "course")
    assert result.added and not (result.updated or result.kept or result.edited or result.unchanged)
    return Path(result.directory)


def solution_lines() -> set[str]:
    """Lines (over 25 characters) of the instructor's solution regions -- the lab's and
    every exercise notebook's -- that the student copies do not hold anyway."""
    lines: set[str] = set()
    stubs: set[str] = set()
    reference = (ROOT / TRACER).read_text()
    ref_lines = reference.splitlines()
    for region in lab_regions(reference):
        lines.update(ref_lines[region.begin:region.end - 1])
    stubs.update(student_lab_text(reference).splitlines())
    for path in (ROOT / "notebooks" / "exercises").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for body in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
                lines.update(body.splitlines())
    for path in (ROOT / "release" / "notebooks" / "exercises").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            stubs.update(cell.source.splitlines())
    return {line.strip() for line in lines if len(line.strip()) > 25} - {line.strip() for line in stubs}


def test_working_copy_is_the_release_and_the_chapters_without_any_solution(copy):
    files = _tree_text(copy)
    release = ROOT / "release"
    for rel in (p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()):
        if rel != "README.md":
            assert (copy / rel).read_bytes() == (release / rel).read_bytes(), rel
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert chapters and sorted(p.name for p in (copy / "notebooks").glob("*.ipynb")) == chapters
    secret = solution_lines()
    assert len(secret) > 20  # the scan has something to look for
    for rel, text in files.items():
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{rel} holds solution lines: {leaked[:3]}"
        if rel.startswith(("notebooks/exercises/", "labs_")):
            assert not any(word in text for word in SOLUTION_WORDS), f"{rel} carries solution markup"
    # The working copy's own README (not the release's "do not edit these files").
    assert "This directory is yours" in files["README.md"] and "Do not edit" not in files["README.md"]
    assert not is_reference_solution(copy / TRACER)
    manifest = json.loads((copy / workspace.MANIFEST).read_text())
    assert set(manifest["files"]) == set(files) - {workspace.MANIFEST}


def test_the_exercise_finds_the_students_stub_and_the_checkout_labels_its_solution(copy):
    exercises = copy / "notebooks" / "exercises"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        found = course_path(TRACER, exercises)
    assert found == copy / TRACER and out.getvalue() == ""
    assert "YOUR CODE HERE" in found.read_text()
    # In the instructor's checkout the same call finds the reference solution and says so.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        found = course_path(TRACER, ROOT / "notebooks" / "exercises")
    assert found == ROOT / TRACER and is_reference_solution(found)
    assert out.getvalue().startswith("instructor copy: labs_c/ptrace_lab/tracer.c here is the reference solution")


def _fake_course(src: Path, version: str) -> None:
    """A minimal course tree: a release with one exercise and one lab, one chapter."""
    for rel, text in {
        "release/README.md": "# Student release (generated)\n",
        "release/notebooks/exercises/01_x.ipynb": f'{{"cells": [], "v": "{version}"}}\n',
        "release/labs_c/lab/a.c": f"/* TODO 1: YOUR CODE HERE */ /* {version} */\n",
        "release/labs_c/lab/b.c": f"int b; /* {version} */\n",
        "release/labs_c/lab/c.c": "int c;\n",
        "notebooks/00_start_here.ipynb": f'{{"chapter": "{version}"}}\n',
        "labs_go/go.mod": "module x\n",
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)


def test_refresh_updates_untouched_files_and_never_overwrites_the_students(tmp_path):
    src, ws = tmp_path / "src", tmp_path / "ws"
    _fake_course(src, "v1")
    first = workspace.make_workspace(ws, source=src)
    assert sorted(first.added) == ["README.md", "labs_c/lab/a.c", "labs_c/lab/b.c", "labs_c/lab/c.c",
                                   "notebooks/00_start_here.ipynb", "notebooks/exercises/01_x.ipynb"]
    mine = "int a = 42; /* the student's answer */\n"
    (ws / "labs_c/lab/a.c").write_text(mine)  # edited; the handout changes too
    (ws / "labs_c/lab/c.c").write_text("int c = 1;\n")  # edited; the handout stays the same
    (ws / "notebooks/exercises/01_x.ipynb").unlink()  # deleted: comes back fresh
    (ws / "notes.txt").write_text("my notes\n")  # the student's own file
    _fake_course(src, "v2")
    second = workspace.make_workspace(ws, source=src)
    assert second.kept == ("labs_c/lab/a.c",)
    assert second.edited == 1
    assert sorted(second.updated) == ["labs_c/lab/b.c", "notebooks/00_start_here.ipynb"]
    assert second.added == ("notebooks/exercises/01_x.ipynb",)
    assert (ws / "labs_c/lab/a.c").read_text() == mine
    assert (ws / "labs_c/lab/c.c").read_text() == "int c = 1;\n"
    assert "v2" in (ws / "labs_c/lab/b.c").read_text() and "v2" in (ws / "notebooks/exercises/01_x.ipynb").read_text()
    assert (ws / "notes.txt").read_text() == "my notes\n"
    assert "a newer version exists of your changed file labs_c/lab/a.c" in second.render()
    # Still the student's on the next refresh, although nothing changed in between.
    third = workspace.make_workspace(ws, source=src)
    assert third.kept == ("labs_c/lab/a.c",) and not third.updated and not third.added
    assert (ws / "labs_c/lab/a.c").read_text() == mine
    assert not [p for p in ws.rglob("*.part")], "a temporary file was left behind"


def test_refresh_without_its_record_keeps_every_file_that_differs(tmp_path, capsys):
    src, ws = tmp_path / "src", tmp_path / "ws"
    _fake_course(src, "v1")
    workspace.make_workspace(ws, source=src)
    (ws / workspace.MANIFEST).write_text("{not json")
    _fake_course(src, "v2")
    result = workspace.make_workspace(ws, source=src)
    assert "unreadable" in capsys.readouterr().err
    assert not result.updated and "labs_c/lab/b.c" in result.kept
    assert "v1" in (ws / "labs_c/lab/b.c").read_text()


def test_a_student_id_stamps_the_copy_and_picks_that_students_variant(tmp_path, monkeypatch):
    from gorun_kit.course import variant

    monkeypatch.delenv(variant.ENV, raising=False)
    ws = Path(workspace.make_workspace(tmp_path / "ada", student="ada").directory)
    exercises = ws / "notebooks" / "exercises"
    assert variant.student_id(exercises) == "ada"
    assert variant.student_id(Path(workspace.make_workspace(tmp_path / "plain").directory)
                              / "notebooks" / "exercises") == variant.DEFAULT_STUDENT
    with pytest.raises(ValueError, match="is not a student id"):
        workspace.make_workspace(tmp_path / "bad", student="../x")
    assert not (tmp_path / "bad").exists()


def test_bad_places_are_refused_and_nothing_is_written(tmp_path):
    src = tmp_path / "src"
    _fake_course(src, "v1")
    before = _tree_text(src)
    with pytest.raises(ValueError, match="overlaps the course checkout"):
        workspace.make_workspace(src / "work", source=src)
    with pytest.raises(ValueError, match="overlaps the course checkout"):
        workspace.make_workspace(tmp_path, source=src)
    assert _tree_text(src) == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(ValueError, match="not empty and is not a course working copy"):
        workspace.make_workspace(other, source=src)
    assert [p.name for p in other.iterdir()] == ["thesis.tex"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="is not a directory"):
        workspace.make_workspace(tmp_path / "afile", source=src)
    with pytest.raises(FileNotFoundError, match="no student release"):
        workspace.make_workspace(tmp_path / "fresh", source=tmp_path / "other")
    with pytest.raises(ValueError, match="is not a directory name"):
        workspace.make_workspace("", source=src)
    with pytest.raises(ValueError, match="does not exist; create it first"):
        workspace.make_workspace(tmp_path / "no" / "such" / "place", source=src)
    assert not (tmp_path / "no").exists()
    if sys.platform == "linux":
        with pytest.raises(ValueError, match="cannot write the working copy /proc/gorun-course"):
            workspace.make_workspace("/proc/gorun-course", source=src)


def test_a_write_that_fails_half_way_leaves_whole_files_and_no_temporaries(tmp_path, monkeypatch):
    src, ws = tmp_path / "src", tmp_path / "ws"
    _fake_course(src, "v1")
    real_replace, calls = os.replace, []

    def failing_replace(a, b):
        calls.append(b)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(b))
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ValueError, match="No space left on device"):
        workspace.make_workspace(ws, source=src)
    monkeypatch.setattr(os, "replace", real_replace)
    assert not [p for p in ws.rglob("*") if p.name.endswith(".part")]
    # The next run finishes the copy: what was written counts as handed out, not as the student's.
    result = workspace.make_workspace(ws, source=src)
    written = [b for b in calls[:-1] if Path(b).name != workspace.MANIFEST]  # before the failure
    assert written and result.unchanged == len(written) and len(result.added) == 6 - len(written)
    assert not result.kept and not result.updated


def test_cli_makes_the_copy_and_refuses_a_bad_directory_in_one_line(tmp_path):
    gk = [sys.executable, "-m", "gorun_kit", "course", "workspace"]
    ok = subprocess.run([*gk, str(tmp_path / "c")], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"working copy {tmp_path / 'c'}: ") and "added" in ok.stdout
    assert (tmp_path / "c" / TRACER).is_file()
    bad = subprocess.run([*gk, str(ROOT / "scratch")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "overlaps" in bad.stderr
    assert not (ROOT / "scratch").exists()
    both = subprocess.run([sys.executable, "-m", "gorun_kit", "course", "lab", "--instructor", "--dir", "x"],
                          capture_output=True, text=True, timeout=120)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_lab_command_puts_the_kit_on_the_terminal_path(tmp_path, monkeypatch):
    """The shell a Lab terminal runs (the command's terminado shell_command, in the
    command's environment) finds gorun-kit, even when the caller's PATH lacks it."""
    bin_dir = workspace.scripts_dir()
    assert (bin_dir / "gorun-kit").is_file(), f"gorun-kit is not installed in {bin_dir}"
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                                if Path(p) != bin_dir))
    command = workspace.lab_command(tmp_path, extra=["--no-browser"])
    argv, env = command.argv, command.env
    assert command.cwd == str(tmp_path.resolve())  # where a new Lab terminal starts
    assert list(argv[1:4]) == ["-m", "jupyter", "lab"] and f"--ServerApp.root_dir={tmp_path.resolve()}" in argv
    assert argv[-1] == "--no-browser" and str(tmp_path.resolve() / workspace.START_NOTEBOOK) in argv
    setting = next(a for a in argv if a.startswith("--ServerApp.terminado_settings="))
    from jupyter_server.serverapp import ServerApp

    app = ServerApp()
    app.parse_command_line([setting])
    shell = app.terminado_settings["shell_command"]
    assert "-l" not in shell and "--login" not in shell  # a login shell would reset PATH from /etc/profile
    found = subprocess.run([*shell, "-c", "command -v gorun-kit"], env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
    assert found.stdout.strip().splitlines()[-1] == str(bin_dir / "gorun-kit"), found
    assert shutil.which("gorun-kit", path=os.environ["PATH"]) != str(bin_dir / "gorun-kit")


def _check_and_setup(notebook: Path) -> tuple[list[str], str]:
    """The code cells a student runs before the C lab check (all but the graded
    test cells), and the check cell itself."""
    cells = nbformat.read(notebook, as_version=4).cells
    at = next(i for i, c in enumerate(cells)
              if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "c-tracer-check")
    setup = [c.source for c in cells[:at]
             if c.cell_type == "code" and not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    return setup, cells[at].source


def _run_check(exercises: Path, monkeypatch) -> tuple[BaseException | None, str]:
    """The exercise's C lab check, run as its cell runs: in the notebook's directory,
    after the cells above it."""
    monkeypatch.chdir(exercises)
    setup, check = _check_and_setup(exercises / "03_ptrace_exercises.ipynb")
    namespace: dict = {}
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        for index, source in enumerate(setup):
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
        out.truncate(0)
        out.seek(0)
        try:
            exec(compile(check, "<c-tracer-check>", "exec"), namespace)
        except AssertionError as exc:
            error = exc
    if "skipped:" in out.getvalue():
        pytest.skip(f"the C lab check cannot run here: {out.getvalue().strip()}")
    return error, out.getvalue()


@pytest.mark.live
def test_c_lab_check_fails_on_the_stub_and_passes_on_the_students_completed_copy(copy, monkeypatch):
    """The check cell builds the working copy's tracer.c: the untouched stub fails,
    the student's completed copy (the stub with every TODO filled in) passes."""
    exercises = copy / "notebooks" / "exercises"
    error, out = _run_check(exercises, monkeypatch)
    assert error is not None and "FAIL" in out, out
    assert "instructor copy" not in out
    stub = (copy / TRACER).read_text()
    (copy / TRACER).write_text(solved_lab_text(stub, (ROOT / TRACER).read_text()))
    error, out = _run_check(exercises, monkeypatch)
    assert error is None, f"{error}\n{out}"
    assert out.count("PASS") == 2 and "instructor copy" not in out
