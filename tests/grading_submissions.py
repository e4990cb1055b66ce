"""Student submissions made from the fixture course's release, for the grader's tests
(tests/test_grade_hostile.py, tests/test_grade_escapes.py). The fixture course's Python
exercise has one answer cell, ``count_vowels``, and two test cells worth 3 points."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course.markup import nbgrader_meta
from gorun_kit.course.release import release

FIXTURE = Path(__file__).parent / "fixtures" / "course"
PY_NB = "91_fixture_py_exercises.ipynb"
LABS_NB = "90_fixture_labs_exercises.ipynb"
WRONG = "def count_vowels(s):\n    return 0\n"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "release"
    release(out, source=FIXTURE)
    return out


@pytest.fixture
def submit(released, tmp_path):
    """submit(answer, name="alice") -> the Python exercise of a release-shaped submission
    ``tmp_path/class/<name>`` whose answer cell is ``answer``."""
    def make(answer: str, name: str = "alice") -> Path:
        root = tmp_path / "class" / name
        shutil.copytree(released, root)
        path = root / "notebooks" / "exercises" / PY_NB
        nb = nbformat.read(path, as_version=4)
        next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "count_vowels").source = answer
        nbformat.write(nb, path)
        return path
    return make
