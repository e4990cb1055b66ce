"""Submissions that try to get past the grader's promises through the files
they hand in and the channel they talk over: points not earned, hidden tests
read, a crash with no report. See docs/grading.md.

Built like tests/test_grade_hostile.py, from the fixture course, whose Python
exercise has one answer cell (``count_vowels``) and two test cells (3 points).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

import gorun_kit.course.grade as grade_mod
from gorun_kit.course import sandbox as sb
from gorun_kit.course.rpc import Channel, Student, serve

from grading_submissions import FIXTURE, LABS_NB, PY_NB, WRONG, released, submit  # noqa: F401 (fixtures)

needs_sandbox = pytest.mark.skipif(sb.available() is not None, reason=f"no sandbox here: {sb.available()}")






def _grade(path: Path) -> grade_mod.ExerciseResult:
    report = grade_mod.grade(path, source=FIXTURE, timeout=120)
    return report.exercises[0]


@needs_sandbox
def test_a_notebook_symlinked_to_the_instructors_earns_nothing(submit):
    path = submit(WRONG, "nblink")
    path.unlink()
    path.symlink_to((FIXTURE / "notebooks" / "exercises" / PY_NB).resolve())
    assert _grade(path).points == 0


@needs_sandbox
def test_lab_directories_symlinked_to_the_instructors_earn_nothing(submit):
    path = submit(WRONG, "lablink")
    root = path.parents[2]
    for lab in ("labs_c", "labs_go"):
        shutil.rmtree(root / lab)
        (root / lab).symlink_to((FIXTURE / lab).resolve())
    assert _grade(path.parent / LABS_NB).points == 0


@needs_sandbox
def test_a_module_beside_the_notebook_does_not_run_in_the_checker(submit):
    """The checker runs ``python -m`` with the submission's exercises directory as
    cwd, so sys.path[0] is that directory: a ``base64.py`` there is imported by
    the checker (root) when it loads rpc, and it writes the results itself."""
    forge = ("import os, sys, json\n"
             "if '--results-fd' in sys.argv:\n"
             "    fd = int(sys.argv[sys.argv.index('--results-fd') + 1])\n"
             "    os.write(fd, ''.join(json.dumps({'index': i, 'outputs': [], 'skipped': ''}) + '\\n'\n"
             "                         for i in range(4)).encode())\n"
             "    os._exit(0)\n")
    path = submit(WRONG, "shadow")
    (path.parent / "base64.py").write_text(forge)
    assert _grade(path).points == 0


@needs_sandbox
def test_a_symlink_beside_the_notebook_does_not_show_the_hidden_tests(submit):
    leak = ("def count_vowels(s):\n"
            "    text = open('leak.ipynb').read()\n"
            "    raise ValueError('HIDDEN' in text and text[text.find('BEGIN HIDDEN'):][:200])\n")
    path = submit(leak, "leak")
    (path.parent / "leak.ipynb").symlink_to((FIXTURE / "notebooks" / "exercises" / PY_NB).resolve())
    details = " ".join(c.detail for c in _grade(path).cells)
    assert "count_vowels('')" not in details, details


@needs_sandbox
def test_a_fifo_in_one_submission_does_not_stop_the_class_report(submit, tmp_path):
    submit("def count_vowels(s):\n    return sum(c in 'aeiouAEIOU' for c in s)\n", "a-honest")
    fifo = submit(WRONG, "b-fifo")
    os.mkfifo(fifo.parent / "pipe")
    report = grade_mod.grade(tmp_path / "class", source=FIXTURE, timeout=120)  # must not raise
    honest = [e for e in report.exercises if "a-honest" in e.notebook and e.exercise == PY_NB]
    assert honest and honest[0].points == 3


@needs_sandbox
@pytest.mark.parametrize("meta", [{"grade_id": ["x"]}, "junk", [1, 2]])
def test_malformed_nbgrader_metadata_gets_a_report(submit, meta, tmp_path):
    path = submit(WRONG, "meta")
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "id": "extra", "metadata": {"nbgrader": meta}, "source": "x = 1",
                        "outputs": [], "execution_count": None})
    path.write_text(json.dumps(nb))
    report = grade_mod.grade(tmp_path / "class", source=FIXTURE, timeout=120)  # must not raise
    assert report.points == 0


def test_a_students_stopiteration_does_not_end_a_checks_loop():
    """``all(map(student_fn, xs))`` must not pass because the student raised StopIteration."""
    ours, theirs = socket.socketpair()

    def count_vowels(s):
        raise StopIteration

    threading.Thread(target=serve, args=(Channel(ours), {"count_vowels": count_vowels}), daemon=True).start()
    ns: dict = {}
    Student(Channel(theirs)).bind(["count_vowels"], ns)
    try:
        passed = all(map(lambda w: ns["count_vowels"](w) == 99, ["banana", "xyz"]))
    except Exception:
        passed = False
    finally:
        theirs.close()
    assert passed is False
