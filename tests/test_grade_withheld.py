"""A module the grader withholds cannot be loaded in the student's sandbox by any route: not by
import, not from its compiled bytecode in ``__pycache__`` (which loads without the source), not
from a legacy ``.pyc`` beside it. Built on a made-up package, compiled here, so that the
bytecode exists whatever PYTHONDONTWRITEBYTECODE says. See docs/grading.md."""
from __future__ import annotations

import importlib.util
import json
import py_compile
import subprocess
import sys

import pytest

import gorun_kit.course.grade as grade_mod
from gorun_kit.course import sandbox as sb

ANSWER = "the withheld module's answer 7f3a"
EXERCISE = "99_made_up_exercise.ipynb"


@pytest.fixture
def withheld_kit(tmp_path, monkeypatch):
    """A package ``kitx`` with a module ``answer`` (withheld for EXERCISE) and one ``free``,
    each compiled to ``__pycache__`` (unchecked hash: an import trusts it without the source)
    and ``answer`` also to a legacy ``answer.pyc`` beside it."""
    site = tmp_path / "site"
    pkg = site / "kitx"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "answer.py").write_text(f"def answer():\n    return {ANSWER!r}\n")
    (pkg / "free.py").write_text("def free():\n    return 'free'\n")
    for name in ("answer", "free"):
        src = str(pkg / f"{name}.py")
        py_compile.compile(src, cfile=importlib.util.cache_from_source(src), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    py_compile.compile(str(pkg / "answer.py"), cfile=str(pkg / "answer.pyc"), doraise=True)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(grade_mod.WITHHELD, EXERCISE, ("kitx.answer",))
    yield site
    for name in ("kitx", "kitx.answer", "kitx.free"):
        sys.modules.pop(name, None)


def test_the_hidden_paths_cover_the_source_and_its_bytecode(withheld_kit):
    hidden = grade_mod.withheld_paths(EXERCISE)
    pkg = withheld_kit / "kitx"
    assert {str(pkg / "answer.py"), str(pkg / "answer.pyc"), str(pkg / "__pycache__")} <= set(hidden)
    assert str(pkg / "free.py") not in hidden and str(pkg) not in hidden


PROBE = r'''
import importlib.machinery, json, os, sys
sys.path.insert(0, SITE)
seen = {}
try:
    import kitx.answer
    seen["import"] = kitx.answer.answer()
except ImportError as exc:
    seen["import"] = "ImportError"
import kitx.free
seen["free"] = kitx.free.free()
pkg = os.path.join(SITE, "kitx")
for directory, _, files in os.walk(pkg):
    for name in files:
        path = os.path.join(directory, name)
        try:
            data = open(path, "rb").read()
        except OSError as exc:
            seen[path] = type(exc).__name__
            continue
        seen[path] = "ANSWER" if ANSWER.encode() in data else len(data)
        if name.endswith(".pyc"):
            try:
                module = importlib.machinery.SourcelessFileLoader("stolen", path).load_module()
                seen[path] = module.answer() if hasattr(module, "answer") else seen[path]
            except Exception as exc:
                seen[path + " load"] = type(exc).__name__
print(json.dumps(seen))
'''


@pytest.mark.skipif(sb.available() is not None, reason=f"no sandbox here: {sb.available()}")
def test_no_route_loads_a_withheld_module_in_the_sandbox(withheld_kit, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    work.chmod(0o777)
    code = f"SITE = {str(withheld_kit)!r}\nANSWER = {ANSWER!r}\n" + PROBE
    with sb.slot() as n:
        with sb.Sandbox(n, 0, read_only=[str(withheld_kit)], writable=[str(work)],
                        hidden=grade_mod.withheld_paths(EXERCISE)) as box:
            proc = box.start([sys.executable, "-I", "-c", code], cwd=str(work), env=sb.environment(home=str(work)),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    seen = json.loads(out)
    assert seen["import"] == "ImportError"
    assert seen["free"] == "free"  # the rest of the package still loads
    leaks = {path: what for path, what in seen.items() if ANSWER in str(what) or what == "ANSWER"}
    assert leaks == {}
    # the hidden source cannot be opened at all (docs/grading.md says so)
    assert seen[str(withheld_kit / "kitx" / "answer.py")] == "PermissionError"


# "check my work" in the student's own kernel, where the kit imports: an answer that leans on a
# withheld module passes its checks there, so the check says it will score 0 at grading.
CHEATS = {
    "a module global": "from gorun_kit import lookpath as lp\n"
                       "def predict_linux(name):\n    return lp.__name__\n",
    "an import in the body": "def predict_linux(name):\n    import gorun_kit.lookpath\n    return name\n",
    "a helper's import": "from gorun_kit.lookpath import lookpath\n"
                         "def _helper(name):\n    return lookpath\n"
                         "def predict_linux(name):\n    return _helper(name)\n",
    "a dynamic import": "import importlib\n"
                        "def predict_linux(name):\n    return importlib.import_module('gorun_kit.lookpath')\n",
}
HONEST = ("import os\nfrom gorun_kit import procfs\n"
          "def predict_linux(name):\n    return os.path.join('/bin', name) if procfs else None\n")


def _selfcheck(tmp_path, answer: str):
    import nbformat

    from gorun_kit.course import selfcheck

    nb = nbformat.v4.new_notebook()
    answer_cell = nbformat.v4.new_code_cell("def predict_linux(name):\n    ### BEGIN SOLUTION\n    return name\n"
                                            "    ### END SOLUTION\n")
    answer_cell.metadata["nbgrader"] = {"grade": False, "grade_id": "answer", "locked": False,
                                        "schema_version": 3, "solution": True}
    check = nbformat.v4.new_code_cell("assert predict_linux('ls') is not None")
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "answer_check", "locked": True, "points": 1,
                                  "schema_version": 3, "solution": False}
    nb.cells = [answer_cell, check]
    path = tmp_path / "02_lookpath_linux_exercises.ipynb"
    nbformat.write(nb, path)
    namespace = {"__name__": "__main__"}
    exec(compile(answer, "<answer cell>", "exec"), namespace)  # noqa: S102 - the made-up answer
    return selfcheck.evaluate("02_lookpath_linux_exercises", namespace, notebook=path)


@pytest.mark.parametrize("how", sorted(CHEATS))
def test_check_my_work_warns_of_an_answer_that_needs_a_withheld_module(tmp_path, how):
    result = _selfcheck(tmp_path, CHEATS[how])
    assert [c.status for c in result.checks] == ["passed"]  # it does pass in the student's kernel
    assert result.withheld and all("gorun_kit.lookpath" in use for use in result.withheld), result.withheld
    assert result.withheld[0].startswith("predict_linux")
    assert not result.passed
    assert "WARNING" in result.render() and "gorun_kit.lookpath" in result.render()


def test_check_my_work_says_nothing_of_an_answer_without_them(tmp_path):
    result = _selfcheck(tmp_path, HONEST)
    assert result.withheld == () and result.passed
    assert "WARNING" not in result.render()
