""""Check my work" in detail (gorun_kit.course.selfcheck): how each way a check can end is
reported, the rendered text, which checks count as hidden, where the notebook is found,
and how an answer's use of a withheld kit module is traced through what it reads."""
from __future__ import annotations

import contextlib
import functools
import io
import sys
import types

import nbformat
import pytest

from gorun_kit.course import selfcheck
from gorun_kit.course.markup import HIDDEN_STUB
from gorun_kit.course.selfcheck import Check, SelfCheck

LINUX = "02_lookpath_linux_exercises"


def _test_cell(gid, source, points=1, **extra):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "schema_version": 3,
                                 "solution": False, **({"points": points} if points is not None else {}), **extra}
    return cell


def _answer_cell(gid, source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3,
                                 "solution": True}
    return cell


# ---------------------------------------------------------------------------
# one check


def _one(source: str, namespace: dict | None = None) -> tuple[str, str]:
    return selfcheck._run_one("gid", source, namespace if namespace is not None else {})


def test_each_way_a_check_ends():
    assert _one("x = 1") == ("passed", "")
    assert _one("raise NotImplementedError") == ("failed", "not written yet (NotImplementedError)")
    assert _one("raise NotImplementedError('part 2')") == ("failed",
                                                           "not written yet (NotImplementedError: part 2)")
    assert _one("y = 1\nassert y == 2") == ("failed", "assertion failed [check line 2: assert y == 2]")
    assert _one("assert 0, 'too small'") == ("failed", "assertion failed: too small [check line 1: assert 0, "
                                                       "'too small']")
    assert _one("\n  \nundefined_name_x") == ("failed", "name 'undefined_name_x' is not defined "
                                                       "(run the cells above first) [check line 3: undefined_name_x]")
    assert _one("{}['k']") == ("failed", "KeyError: 'k' [check line 1: {}['k']]")
    assert _one("import sys\nsys.exit(3)") == ("failed", "SystemExit: 3 [check line 2: sys.exit(3)]")
    assert _one("raise KeyboardInterrupt") == ("not run", "interrupted")
    status, detail = _one("def (:")
    assert status == "failed" and detail.startswith("SyntaxError: ")


def test_a_failure_in_a_function_names_the_checks_line_that_called_it():
    def helper():
        raise ValueError("deep")
    status, detail = _one("a = 1\nhelper()\nb = 2", {"helper": helper})
    assert (status, detail) == ("failed", "ValueError: deep [check line 2: helper()]")


def test_a_check_that_writes_to_stderr_fails_with_its_first_line():
    assert _one("import sys\nprint('', file=sys.stderr)\nprint('  ', file=sys.stderr)\n"
                "print('warning: odd', file=sys.stderr)\nprint('second', file=sys.stderr)") == (
        "failed", "wrote to stderr (graded as a failure): warning: odd")
    assert _one("import sys\nprint(file=sys.stderr)") == ("passed", "")


def test_a_skipped_check_is_not_run_and_says_why():
    assert _one("print('ok')\nprint('skipped: needs go (missing); fix: install go')") == (
        "not run", "this machine cannot run it: needs go (missing); fix: install go")
    assert _one("print(' skipped: indented is not nb.live')") == ("passed", "")
    assert _one("print('skipped: ')") == ("passed", "")


def test_a_check_of_the_instructors_file_passes_with_that_label():
    label = "instructor copy: labs_c/x.c here is the reference solution"
    assert _one(f"print('other')\nprint({label!r})\nprint('instructor copy: second')") == ("passed", label)
    assert _one("print(' instructor copy: indented')") == ("passed", "")


def test_details_are_cut_to_600_characters():
    status, detail = _one("raise ValueError('x' * 1000)")
    assert status == "failed" and len(detail) == 600 and detail.startswith("ValueError: xxx")
    status, detail = _one("import sys\nprint('e' * 1000, file=sys.stderr)")
    assert len(detail) == 600 and detail.startswith("wrote to stderr")
    assert len(_one("print('instructor copy: ' + 'i' * 1000)")[1]) == 600


def test_reason_of_an_exception_raised_outside_the_check():
    try:
        raise RuntimeError("elsewhere")
    except RuntimeError as exc:
        assert selfcheck._reason(exc, "<check g>", ["x"]) == "RuntimeError: elsewhere"
    exc = AssertionError()
    assert selfcheck._reason(exc, "<check g>", []) == "assertion failed"
    # a frame line past the lines known is not quoted
    code = compile("\n\nraise ValueError('v')", "<check g>", "exec")
    try:
        exec(code, {})
    except ValueError as exc2:
        assert selfcheck._reason(exc2, "<check g>", ["only one line"]) == "ValueError: v"
        assert selfcheck._reason(exc2, "<check g>", ["a", "b", "raise ValueError('v')  "]) == \
            "ValueError: v [check line 3: raise ValueError('v')]"


# ---------------------------------------------------------------------------
# the report


def test_the_report_aligns_checks_and_names_the_hidden_ones():
    result = SelfCheck("ex", "ex.ipynb", (Check("a", 1.0, "passed", "instructor copy: x"),
                                          Check("longer_id", 2.5, "failed", "assertion failed", True),
                                          Check("c", 0.0, "not run", "")), "variant: v1 (student s)")
    assert result.render().splitlines() == [
        "check my work: ex, variant: v1 (student s)",
        "  passed  a          (1 point)",
        "  failed  longer_id  (2.5 points): assertion failed",
        "  not run c          (0 points)",
        "hidden checks, run only at grading (their code is not in your copy):",
        "  longer_id  (2.5 points)",
        "passing the visible checks above does not guarantee these points."]
    assert not result.passed
    assert result.to_dict()["passed"] is False


def test_a_report_without_hidden_checks_variant_or_checks():
    result = SelfCheck("ex", "ex.ipynb", (Check("a", 2.0, "passed"),))
    assert result.render().splitlines() == ["check my work: ex", "  passed  a  (2 points)",
                                            "no hidden checks: the visible checks above are all there is."]
    assert result.passed
    empty = SelfCheck("ex", "ex.ipynb", ())
    assert empty.passed and empty.render().splitlines()[1] == "no hidden checks: the visible checks above are " \
                                                                "all there is."
    unknown = SelfCheck("ex", "ex.ipynb", (Check("a", 1.0, "passed", hidden=True),), hidden_known=False)
    assert unknown.render().splitlines()[2:] == [
        "this copy does not record which checks have hidden parts (nbgrader removes them without a trace): "
        "any check may have more at grading."]


def test_a_report_of_an_answer_using_a_withheld_module_does_not_pass():
    result = SelfCheck("ex", "ex.ipynb", (Check("a", 1.0, "passed"),), withheld=("f uses gorun_kit.lookpath",
                                                                                 "g uses gorun_kit.lookpath"))
    assert not result.passed
    assert result.render().splitlines()[:5] == [
        "check my work: ex",
        "WARNING: your answer uses kit modules that are withheld while this exercise is graded:",
        "  f uses gorun_kit.lookpath",
        "  g uses gorun_kit.lookpath",
        "at grading they cannot be imported, so the checks below that call this answer score 0 there, even if "
        "they pass here. Write the answer without them."]


# ---------------------------------------------------------------------------
# which checks are hidden


def _notebook(*cells, metadata=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    if metadata is not None:
        nb.metadata[selfcheck.METADATA_KEY] = metadata
    return nb


HIDDEN = "assert True\n### BEGIN HIDDEN TESTS\nassert secret\n### END HIDDEN TESTS\n"


def test_hidden_record_lists_the_test_cells_with_hidden_tests():
    nb = _notebook(_test_cell("shown", "assert True"), _test_cell("h1", HIDDEN, 3),
                   _test_cell("h2", HIDDEN, None), nbformat.v4.new_code_cell(HIDDEN),
                   _answer_cell("ans", "x = 1  # ### BEGIN HIDDEN TESTS"))
    assert selfcheck.hidden_record(nb) == [{"grade_id": "h1", "points": 3.0}, {"grade_id": "h2", "points": 0.0}]
    assert all(type(h["points"]) is float for h in selfcheck.hidden_record(nb))


def test_records_hidden_by_metadata_markers_or_the_releases_comment():
    assert not selfcheck.records_hidden(_notebook(_test_cell("a", "assert True")))
    assert not selfcheck.records_hidden(_notebook(_test_cell("a", "x"), metadata={"other": 1}))
    assert selfcheck.records_hidden(_notebook(_test_cell("a", "x"), metadata={"hidden_checks": []}))
    assert selfcheck.records_hidden(_notebook(_test_cell("a", HIDDEN)))
    assert selfcheck.records_hidden(_notebook(_answer_cell("s", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION")))
    assert selfcheck.records_hidden(_notebook(_test_cell("a", "x\n" + "\n".join(HIDDEN_STUB))))
    assert selfcheck.records_hidden(_notebook(_test_cell("a", "x\n" + HIDDEN_STUB[0])))
    bare = nbformat.v4.new_code_cell("x")
    del bare["source"]
    assert not selfcheck.records_hidden(_notebook(bare))


def test_public_checks_cut_hidden_code_and_mark_each_kind_of_hidden_check():
    nb = _notebook(nbformat.v4.new_code_cell("def f(): pass"),
                   _test_cell("plain", "assert f() is None", 2),
                   _test_cell("marked", HIDDEN, 1.5),
                   _test_cell("recorded", "assert True"),
                   _test_cell("stubbed", "assert True\n" + HIDDEN_STUB[0], None),
                   _test_cell("lone_end", "assert True\n### END HIDDEN TESTS"),
                   metadata={"hidden_checks": [{"grade_id": "recorded", "points": 1}]})
    checks = selfcheck.public_checks(nb)
    assert [(g, p, h) for g, p, _, h in checks] == [("plain", 2.0, False), ("marked", 1.5, True),
                                                    ("recorded", 1.0, True), ("stubbed", 0.0, True),
                                                    ("lone_end", 1.0, False)]
    assert checks[4][2] == "assert True\n### END HIDDEN TESTS"  # no region: nothing to cut
    assert "secret" not in checks[1][2] and checks[1][2].startswith("assert True")
    assert checks[0][2] == "assert f() is None"
    broken = _notebook(_test_cell("bad", "### BEGIN HIDDEN TESTS\nassert 1\n"))
    with pytest.raises(Exception, match="my.ipynb cell 0"):
        selfcheck.public_checks(broken, "my.ipynb")
    with pytest.raises(Exception, match="^notebook cell 0: "):
        selfcheck.public_checks(broken)


# ---------------------------------------------------------------------------
# finding the notebook


def test_the_students_copy_beside_the_kernel_comes_first(tmp_path, monkeypatch):
    mine = tmp_path / f"{LINUX}.ipynb"
    mine.write_text("{}")
    assert selfcheck.find_notebook(LINUX, tmp_path) == mine
    monkeypatch.chdir(tmp_path)
    assert selfcheck.find_notebook(LINUX) == mine


def test_the_checkouts_notebook_is_the_fallback(tmp_path, repo):
    assert selfcheck.find_notebook(LINUX, tmp_path) == repo / "notebooks" / "exercises" / f"{LINUX}.ipynb"
    (tmp_path / f"{LINUX}.ipynb").mkdir()  # not a file
    assert selfcheck.find_notebook(LINUX, tmp_path) == repo / "notebooks" / "exercises" / f"{LINUX}.ipynb"


def test_a_notebook_found_nowhere_says_where_to_open_it(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError) as info:
        selfcheck.find_notebook("99_none", tmp_path)
    assert str(info.value) == (f"99_none.ipynb is not in {tmp_path}; open the exercise from its own directory "
                               "(notebooks/exercises/ of your copy) and keep its file name")

    def away():
        raise FileNotFoundError("not a checkout")
    monkeypatch.setattr("gorun_kit.course.layout.course_root", away)
    with pytest.raises(FileNotFoundError, match=f"{LINUX}.ipynb is not in"):
        selfcheck.find_notebook(LINUX, tmp_path)


# ---------------------------------------------------------------------------
# evaluate and check_my_work


def _exercise(tmp_path, name="toy"):
    nb = _notebook(_answer_cell("ans", "### BEGIN SOLUTION\ndef twice(x):\n    return 2 * x\n### END SOLUTION"),
                   _test_cell("t1", "seen_by_t2 = 1\nassert twice(2) == 4", 2),
                   _test_cell("t2", "assert seen_by_t2 == 1\n" + HIDDEN, 1),
                   metadata=None)
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_evaluate_runs_the_checks_in_a_copy_and_labels_the_variant(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_STUDENT", "alice")
    path = _exercise(tmp_path)
    namespace = {"twice": lambda x: 2 * x}
    result = selfcheck.evaluate("toy", namespace, notebook=path)
    assert result.exercise == "toy" and result.notebook == str(path)
    assert [(c.grade_id, c.points, c.status, c.detail, c.hidden) for c in result.checks] == [
        ("t1", 2.0, "passed", "", False), ("t2", 1.0, "passed", "", True)]
    assert result.variant.startswith("variant: ") and result.variant.endswith("(student alice)")
    assert result.hidden_known and result.withheld == () and result.passed
    assert set(namespace) == {"twice"}
    monkeypatch.chdir(tmp_path)
    assert selfcheck.evaluate("toy", namespace).notebook == str(tmp_path / "toy.ipynb")


def test_evaluate_finds_the_answers_use_of_a_withheld_module(tmp_path, home):
    nb = _notebook(_answer_cell("predict", "### BEGIN SOLUTION\ndef predict():\n    return 1\n### END SOLUTION"),
                   _answer_cell("prose", "predict is simple"),
                   nbformat.v4.new_code_cell("def given_helper():\n    import gorun_kit.lookpath"),
                   _test_cell("t", "assert predict() == 1"))
    nb.cells[1].cell_type = "markdown"
    del nb.cells[1]["outputs"], nb.cells[1]["execution_count"]
    path = tmp_path / f"{LINUX}.ipynb"
    nbformat.write(nb, path)
    _define(home, "import gorun_kit.lookpath as lp\ndef predict():\n    return lp and 1\n"
                  "def given_helper():\n    import gorun_kit.lookpath\n"
                  "prose = lp\nis_ = lp")
    result = selfcheck.evaluate(LINUX, home, notebook=path)
    assert result.withheld == ("predict -> gorun_kit.lookpath uses gorun_kit.lookpath",)
    assert [(c.status, c.detail) for c in result.checks] == [("passed", "")] and not result.passed


def test_evaluate_names_the_notebook_of_bad_markup(tmp_path):
    nb = _notebook(_test_cell("t", "### BEGIN HIDDEN TESTS\nassert 1\n"))
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(Exception, match=f"{path} cell 0"):
        selfcheck.evaluate("bad", {}, notebook=path)


def test_evaluate_of_a_name_the_variants_refuse_still_reports(tmp_path):
    path = _exercise(tmp_path)
    result = selfcheck.evaluate("bad/name", {"twice": lambda x: 2 * x}, notebook=path)
    assert result.variant.startswith("variant unknown: exercise 'bad/name'")
    assert result.passed


def test_check_my_work_prints_the_report_or_why_it_could_not_run(tmp_path, monkeypatch):
    _exercise(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        selfcheck.check_my_work("toy", {"twice": lambda x: 3 * x})
    text = out.getvalue()
    assert text.startswith("check my work: toy, variant: ") and "  failed  t1" in text and text.endswith("\n")
    out = io.StringIO()
    (tmp_path / "broken.ipynb").write_text("not a notebook")
    with contextlib.redirect_stdout(out):
        selfcheck.check_my_work("broken", {})
    assert out.getvalue().startswith("check my work could not run: ")


# ---------------------------------------------------------------------------
# withheld modules


@pytest.fixture
def home():
    """A namespace of the student's kernel, as a module of its own (its functions' __module__)."""
    module = types.ModuleType("student_kernel_x")
    sys.modules[module.__name__] = module
    yield module.__dict__
    del sys.modules[module.__name__]


def _define(namespace: dict, source: str) -> dict:
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def test_an_exercise_without_withheld_modules_has_no_uses(home):
    import gorun_kit.lookpath as lp
    home["lp"] = lp
    assert selfcheck.withheld_uses("99_free_exercise", home, ["lp"]) == []


@pytest.mark.parametrize("source, use", [
    ("import gorun_kit.lookpath as lp\ndef f():\n    return lp", "f -> gorun_kit.lookpath uses gorun_kit.lookpath"),
    ("def f():\n    import gorun_kit.lookpath\n    return 1", "f uses gorun_kit.lookpath"),
    ("def f():\n    from gorun_kit import lookpath\n    return lookpath", "f uses gorun_kit.lookpath"),
    ("def f():\n    import importlib\n    return importlib.import_module('gorun_kit.lookpath.unix')",
     "f uses gorun_kit.lookpath"),
    ("def f():\n    return [x for x in ('gorun_kit.lookpath',)]", "f uses gorun_kit.lookpath"),
    ("def f():\n    import gorun_kit.lookpath\n    return [x for x in ()]", "f uses gorun_kit.lookpath"),
    ("def f():\n    g = lambda: 1\n    h = lambda: 2\n    return gorun_kit.lookpath", "f uses gorun_kit.lookpath"),
    ("def make():\n    def helper():\n        import gorun_kit.lookpath\n    def f():\n        return helper()\n"
     "    return f\nf = make()", "f -> make.<locals>.helper uses gorun_kit.lookpath"),
    ("from gorun_kit.lookpath import unix\ndef f(u=unix):\n    return u", "f -> gorun_kit.lookpath.unix uses "
                                                                         "gorun_kit.lookpath"),
    ("from gorun_kit.lookpath import unix\ndef f(*, u=unix):\n    return u", "f -> gorun_kit.lookpath.unix uses "
                                                                             "gorun_kit.lookpath"),
    ("from gorun_kit.lookpath.unix import look_path\ndef f():\n    return look_path",
     "f -> look_path uses gorun_kit.lookpath"),
    ("def helper():\n    import gorun_kit.lookpath\ndef f():\n    return helper()",
     "f -> helper uses gorun_kit.lookpath"),
    ("from gorun_kit.lookpath import unix\ndef make():\n    m = unix\n    def f():\n        return m\n"
     "    return f\nf = make()", "f -> gorun_kit.lookpath.unix uses gorun_kit.lookpath"),
    ("import functools\nfrom gorun_kit.lookpath.unix import look_path\nf = functools.partial(look_path)",
     "f uses gorun_kit.lookpath"),
    ("class F:\n    def m(self):\n        import gorun_kit.lookpath\n", "F.m uses gorun_kit.lookpath"),
    ("class F:\n    @staticmethod\n    def m():\n        import gorun_kit.lookpath\n", "F.m uses gorun_kit.lookpath"),
    ("class F:\n    @classmethod\n    def m(cls):\n        import gorun_kit.lookpath\n",
     "F.m uses gorun_kit.lookpath"),
    ("class F:\n    @property\n    def m(self):\n        import gorun_kit.lookpath\n",
     "F.m uses gorun_kit.lookpath"),
    ("from gorun_kit.lookpath.vfs import VFS\nf = VFS()", "f uses gorun_kit.lookpath"),
    ("import gorun_kit.lookpath\nf = gorun_kit.lookpath", "f uses gorun_kit.lookpath"),
])
def test_each_route_to_a_withheld_module_is_found(home, source, use):
    _define(home, source)
    assert selfcheck.withheld_uses(LINUX, home, ["f", "F", "absent"]) == [use]


@pytest.mark.parametrize("source", [
    "def f():\n    return 'gorun_kit.lookpathology'",
    "def f():\n    import gorun_kit.binary\n    return 1",
    "import os\ndef f(p=os.path):\n    return os.sep",
    "def f():\n    return lookpath_like\nlookpath_like = 3",
    "class F:\n    x = 'gorun_kit.lookpath'\n    def m(self):\n        return 1",
    "def f(n):\n    return f(n - 1) if n else 0",
    "def make():\n    def f():\n        return g\n    g = None\n    del g\n    return f\nf = make()",
    "lookpath = 1\ndef f():\n    return lookpath",
])
def test_an_answer_that_uses_no_withheld_module_is_clear(home, source):
    _define(home, source)
    assert selfcheck.withheld_uses(LINUX, home, ["f", "F"]) == []


def test_a_function_defined_elsewhere_is_not_searched(home):
    home["f"] = functools.reduce  # a builtin of another module
    home["g"] = pytest.approx  # a Python function of another module
    assert selfcheck.withheld_uses(LINUX, home, ["f", "g"]) == []


def test_each_use_is_named_once_and_a_shared_helper_once(home):
    _define(home, "import gorun_kit.lookpath as lp\ndef helper():\n    return lp\n"
                   "def f():\n    return helper() or helper()\ndef g():\n    return helper()")
    assert selfcheck.withheld_uses(LINUX, home, ["f", "g", "f"]) == ["f -> helper -> gorun_kit.lookpath uses "
                                                                     "gorun_kit.lookpath"]


def test_a_parent_and_leaf_name_count_only_together(home):
    _define(home, "def f():\n    return gorun_kit and lookpath")
    assert selfcheck.withheld_uses(LINUX, home, ["f"]) == ["f uses gorun_kit.lookpath"]
    _define(home, "def g():\n    return gorun_kit")
    assert selfcheck.withheld_uses(LINUX, home, ["g"]) == []


def test_an_empty_closure_cell_is_skipped(home):
    def outer():
        def f():
            return later  # noqa: F821 - assigned after f is made
        return f
        later = 1  # noqa: F841 - never reached
    f = outer()
    f.__module__ = home["__name__"]
    home["f"] = f
    assert selfcheck.withheld_uses(LINUX, home, ["f"]) == []
    assert selfcheck._filled(f.__closure__[0]) is False


def test_the_module_of_a_value():
    import gorun_kit.lookpath.unix as unix
    assert selfcheck._module_of(unix) == "gorun_kit.lookpath.unix"
    assert selfcheck._module_of(functools.partial(functools.partial(unix.look_path))) == unix.__name__
    assert selfcheck._module_of(len) == "builtins" and selfcheck._module_of(3) == "builtins"
    assert selfcheck._module_of(Check) == "gorun_kit.course.selfcheck"
    assert selfcheck._module_of(Check("a", 1, "passed").render if hasattr(Check, "render") else
                                Check("a", 1, "passed").to_dict) == "gorun_kit.records"
    odd = types.SimpleNamespace()
    assert selfcheck._module_of(odd) == "types"

    class NoModule:
        pass
    NoModule.__module__ = None
    assert selfcheck._module_of(NoModule) == ""
    assert selfcheck._module_of(NoModule()) == ""


def test_labels_of_what_an_answer_reads():
    assert selfcheck._label(functools.partial) == "partial"
    assert selfcheck._label(types.SimpleNamespace(__name__="n")) == "n"
    assert selfcheck._label(3) == "int"
    assert selfcheck._withheld_name("gorun_kit.lookpath", ("gorun_kit.lookpath",)) == "gorun_kit.lookpath"
    assert selfcheck._withheld_name("gorun_kit.lookpathx", ("gorun_kit.lookpath",)) is None
    assert selfcheck._withheld_name("gorun_kit.lookpath.vfs", ("gorun_kit.trace", "gorun_kit.lookpath")) == \
        "gorun_kit.lookpath"


def test_a_namespace_without_a_module_name_is_searched_too():
    namespace: dict = {}
    _define(namespace, "def f():\n    import gorun_kit.lookpath\n")
    assert namespace["f"].__module__ is None
    assert selfcheck.withheld_uses(LINUX, namespace, ["f"]) == ["f uses gorun_kit.lookpath"]


def test_a_withheld_module_two_levels_down_is_found_by_its_parent_and_leaf(home, monkeypatch):
    from gorun_kit.course import grade

    monkeypatch.setitem(grade.WITHHELD, "99_nested.ipynb", ("gorun_kit.course.variant",))
    _define(home, "def f():\n    from gorun_kit.course import variant\n    return variant")
    assert selfcheck.withheld_uses("99_nested", home, ["f"]) == ["f uses gorun_kit.course.variant"]
