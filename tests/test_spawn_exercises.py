"""Chapter 3 exercise notebooks: the solutions pass their graded cells, the
generated student copies fail them, and plausible wrong answers fail the
hidden (random-input) tests."""
from __future__ import annotations

import re

import nbformat
import pytest

from gorun_kit.course.markup import is_test_cell, nbgrader_meta
from gorun_kit.course.release import student_notebook

NOTEBOOKS = ["03_spawn_exercises.ipynb", "03_ptrace_exercises.ipynb"]


def _run(nb, replace: dict[str, str] | None = None) -> dict[str, bool]:
    """Execute the code cells in one namespace; graded cell id -> passed."""
    ns: dict = {}
    results = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = cell.source
        gid = nbgrader_meta(cell).get("grade_id")
        if replace and gid in replace:
            src = replace[gid]
        try:
            exec(compile(src, f"<cell {gid}>", "exec"), ns)
            ok = True
        except Exception:
            ok = False
        if is_test_cell(cell):
            results[gid] = ok
    return results


@pytest.fixture
def in_exercises(repo, monkeypatch):
    monkeypatch.chdir(repo / "notebooks" / "exercises")
    return repo / "notebooks" / "exercises"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_passes_student_copy_fails(in_exercises, name, repo, monkeypatch):
    path = in_exercises / name
    solved = _run(nbformat.read(path, as_version=4))
    assert solved and all(solved.values()), solved
    # The student copy runs where a student's would: in the release tree, whose
    # labs (labs_c/ptrace_lab/tracer.c) are stubbed too.
    monkeypatch.chdir(repo / "release" / "notebooks" / "exercises")
    student = _run(student_notebook(path))
    assert set(student) == set(solved) and not any(student.values()), student


WRONG = {
    # drops unknown bits silently
    "decode_clone": "def decode_clone(value):\n    return {n for n, b in CLONE.items() if value & b}, value & 0xff\n",
    # forgets that vfork shares the stack without naming CLONE_VM
    "child_stack": "def child_stack(s, flags, stack):\n"
                   "    return 'copy' if 'CLONE_VM' not in flags else ('separate' if stack else 'shared')\n",
    # compares against the second size instead of the smallest
    "grows_with_memory": "def grows_with_memory(points, factor):\n"
                         "    by = {}\n"
                         "    for p in points: by.setdefault(p['method'], []).append((p['touched_bytes'], p['median_ns']))\n"
                         "    return {m for m, v in by.items() if sorted(v)[-1][1] >= factor * sorted(v)[min(1, len(v)-1)][1]}\n",
    # peeks one word too many (reads past the NUL's word)
    "read_c_string": "def read_c_string(peek, addr):\n"
                     "    out = bytearray()\n"
                     "    while True:\n"
                     "        w = peek(addr + len(out)).to_bytes(8, 'little'); peek(addr + len(out) + 8)\n"
                     "        if b'\\0' in w: return bytes(out + w[:w.index(b'\\0')])\n"
                     "        out += w\n",
}


@pytest.mark.parametrize("gid", sorted(WRONG))
def test_plausible_wrong_answers_fail(in_exercises, gid):
    for name in NOTEBOOKS:
        nb = nbformat.read(in_exercises / name, as_version=4)
        if any(nbgrader_meta(c).get("grade_id") == gid for c in nb.cells):
            results = _run(nb, {gid: WRONG[gid]})
            assert results[gid + "_tests"] is False, f"{gid}: a wrong answer passed"
            return
    pytest.fail(f"no cell {gid}")


def test_notebooks_have_their_source_and_unique_grade_ids(repo):
    for name in NOTEBOOKS:
        assert (repo / "notebooks" / "exercises" / name).with_suffix(".py").is_file(), f"{name} has no jupytext source"
        nb = nbformat.read(repo / "notebooks" / "exercises" / name, as_version=4)
        ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c)]
        assert len(ids) == len(set(ids)) >= 4
        assert all(re.search(r"### BEGIN SOLUTION", c.source) for c in nb.cells if nbgrader_meta(c).get("solution"))
