"""What a class server lets students read of the course checkout (deploy/jupyterhub/classroom.py):
nothing that holds a solution or a hidden test, wherever in the checkout it sits, and still
everything the students' servers need. No accounts are made; modes are read, not tried."""
from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from gorun_kit.course import layout

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy" / "jupyterhub"))
import classroom  # noqa: E402


def _readable_files(root: Path, hidden: list[Path]) -> list[Path]:
    """Every file of the checkout the plan leaves to students (installed third-party code aside)."""
    out = []
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        dirs[:] = [d for d in dirs if here / d not in hidden and d not in (".venv", "node_modules")]
        out += [here / f for f in files if here / f not in hidden and (here / f).is_file()]
    return out


def test_no_file_students_read_in_the_checkout_holds_a_solution():
    hidden = classroom.instructor_only_paths(REPO)
    marked = [p for p in _readable_files(REPO, []) if classroom.holds_solutions(p)]
    # the release's own recogniser of lab solutions agrees, and there is something to hide
    assert marked and set(layout.marked_lab_sources(REPO)) <= set(marked)
    leaked = [p for p in _readable_files(REPO, hidden) if classroom.holds_solutions(p)]
    assert leaked == [], f"students could read solutions in {leaked}"
    # the students' servers still reach what they run: no part of STUDENTS_READ is hidden whole
    for rel in classroom.STUDENTS_READ:
        assert not any(h == REPO / rel or h in (REPO / rel).parents for h in hidden), rel


def _notebook(source: str, cell_type: str = "code") -> str:
    return json.dumps({"cells": [{"cell_type": cell_type, "source": source.splitlines(keepends=True),
                                  "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_hiding_takes_students_access_from_marked_files_only(tmp_path):
    files = {
        "notebooks/00_start_here.ipynb": (_notebook("Answers sit between `### BEGIN SOLUTION` markers.", "markdown"), False),
        "notebooks/exercises/ex.ipynb": (_notebook("x = 1\n"), True),  # instructor-only by place
        "notebooks/worked.ipynb": (_notebook("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"), True),
        "labs_c/lab/answer.c": ("int f(void) {\n    /* ### BEGIN SOLUTION TODO 1 */\n    return 1;\n"
                                "    /* ### END SOLUTION */\n    //| return 0;\n}\n", True),
        "labs_c/lab/helper.c": ("int g(void) { return 2; }\n", False),
        # what labs_c/Makefile builds from a solution is closed with it, and only that
        "labs_c/build/lab/answer": ("\x7fELF compiled answer\n", True),
        "labs_c/build/lab/helper": ("\x7fELF compiled helper\n", False),
        "labs_c/build/solo": ("\x7fELF one-program lab\n", True),
        "labs_c/solo/main.c": ("int main(void) {\n    /* ### BEGIN SOLUTION TODO 1 */\n    return 0;\n"
                               "    /* ### END SOLUTION */\n    //| return 1;\n}\n", True),
        "labs_go/x/main.go": ("package main\n// ### BEGIN SOLUTION\nfunc main() {}\n// ### END SOLUTION\n", True),
        "gorun_kit/markup.py": ('BEGIN = "### BEGIN SOLUTION"\n"""\n    /* ### BEGIN SOLUTION TODO 1 */\n"""\n', False),
        "scripts/ex_script.py": ("def f():\n    ### BEGIN HIDDEN TESTS\n    assert f()\n    ### END HIDDEN TESTS\n", True),
    }
    for rel, (text, _) in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    changed = classroom.hide_instructor_files(tmp_path)
    assert tmp_path / "notebooks" / "exercises" in changed
    for rel, (text, secret) in files.items():
        mode = stat.S_IMODE((tmp_path / rel).stat().st_mode)
        if rel.startswith("notebooks/exercises/"):
            continue  # closed by its directory
        assert (mode & 0o077 == 0) is secret, (rel, oct(mode))
    assert classroom.hide_instructor_files(tmp_path) == []  # once is enough
