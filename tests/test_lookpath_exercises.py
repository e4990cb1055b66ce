"""The chapter 2 exercise checks must test behaviour: the committed solution
passes them, and the stub a student receives (solution stripped) fails them."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.slow
EXERCISES = sorted((Path(__file__).resolve().parents[1] / "notebooks" / "exercises").glob("02_*.ipynb"))
_SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?### END SOLUTION[ \t]*\n", re.S | re.M)


def _run(nb, path: Path):
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def test_there_are_at_least_two():
    assert len(EXERCISES) >= 2


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_stub_fails_the_checks(path):
    nb = nbformat.read(path, as_version=4)
    stripped = 0
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source, n = _SOLUTION.subn("", cell.source)
            stripped += n
    assert stripped >= 1
    with pytest.raises(CellExecutionError, match="NotImplementedError"):
        _run(nb, path)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_solution_passes_the_checks(path):
    nb = nbformat.read(path, as_version=4)
    _run(nb, path)
    graded = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert graded and not any(o.get("output_type") == "error" for c in graded for o in c.outputs)
    # the random scenarios, not only the examples, were checked
    assert any("hidden checks passed: True" in "".join(o.get("text", "") for o in c.outputs) for c in graded)
