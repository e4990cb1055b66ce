"""gorun_kit.course.markup on made-up cells and lab sources: which lines are markers,
what a stripped region leaves, the regions of a lab source line by line, the exact
student copy in each comment style, and the messages bad markup gets."""
from __future__ import annotations

import nbformat
import pytest

from gorun_kit.course import markup
from gorun_kit.course.markup import LabRegion, MarkupError


# --- notebook cells ----------------------------------------------------------------------------

def test_markers_are_found_by_kind():
    assert markup.has_marker("x\n### BEGIN SOLUTION\n")
    assert not markup.has_marker("x\n### BEGIN HIDDEN TESTS\n")
    assert markup.has_marker("### BEGIN HIDDEN TESTS", "hidden")
    assert not markup.has_marker("### BEGIN SOLUTION", "hidden")
    assert not markup.has_marker("### END SOLUTION")  # only a region's start counts


@pytest.mark.parametrize("line", ["### BEGIN SOLUTION", "  # ### BEGIN SOLUTION  ", "/* ### BEGIN SOLUTION */",
                                  "// ### BEGIN SOLUTION -*-", "\t### BEGIN SOLUTION\t"])
def test_a_marker_line_holds_only_comment_punctuation(line):
    assert markup.strip_region(f"a\n{line}\nsecret\n### END SOLUTION\nb", "solution", None, "w") == "a\nb"


@pytest.mark.parametrize("line", ["x = '### BEGIN SOLUTION'", "### BEGIN SOLUTION here", "print(### BEGIN SOLUTION)"])
def test_a_line_that_mentions_a_marker_is_kept(line):
    text = f"a\n{line}\nb"
    assert markup.strip_region(text, "solution", ["stub"], "w") == text


def test_a_stub_replaces_each_region_and_keeps_the_rest():
    text = "a\n  ### BEGIN HIDDEN TESTS\n  h1\n  ### END HIDDEN TESTS\nb\n### BEGIN HIDDEN TESTS\nh2\n### END HIDDEN TESTS"
    assert markup.strip_region(text, "hidden", ["s1", "s2"], "w") == "a\n  s1\n  s2\nb\ns1\ns2"
    assert markup.strip_region(text, "hidden", [], "w") == "a\nb"
    assert markup.strip_region(text, "solution", ["s"], "w") == text  # the other kind is left alone
    assert markup.strip_hidden_tests("### BEGIN HIDDEN TESTS\nh\n### END HIDDEN TESTS", "w").split("\n") == \
        markup.HIDDEN_STUB


@pytest.mark.parametrize("text, message", [
    ("a\nb\n### END SOLUTION", r"^cell 4: line 3: '### END SOLUTION' without a '### BEGIN SOLUTION' before it$"),
    ("a\n### BEGIN SOLUTION\nb", r"^cell 4: '### BEGIN SOLUTION' at line 2 is never closed; add '### END SOLUTION'$"),
    ("### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", r"^cell 4: line 3: '### END SOLUTION' without"),
])
def test_unbalanced_regions_are_named_by_line(text, message):
    with pytest.raises(MarkupError, match=message):
        markup.strip_region(text, "solution", None, "cell 4")


def test_cells_without_a_source_or_metadata_are_plain():
    assert not markup.is_solution_cell({"cell_type": "code"})
    assert not markup.is_test_cell({"cell_type": "code"})
    assert markup.nbgrader_meta({"cell_type": "code"}) == {}
    assert markup.nbgrader_meta({"metadata": {"nbgrader": {"grade_id": "g", "points": 1}}}) == \
        {"grade_id": "g", "points": 1}
    bare = nbformat.v4.new_notebook()
    bare.cells = [{"cell_type": "markdown", "metadata": {}}, {"cell_type": "code", "metadata": {}}]
    markup.check_notebook_markup(bare, "ex.ipynb")


def _graded(source, gid, **flags):
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": gid, **flags}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def test_only_graded_answer_or_locked_cells_need_a_unique_id():
    ok = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade_id": ""}}),  # nothing asked of it
        _graded("y", "a", locked=True),
        _graded("z", "b", grade=True, points=1.5),
        _graded("w", "c", grade=True, points=0),
    ])
    markup.check_notebook_markup(ok, "ex.ipynb")
    ok.cells.append(_graded("v", "b", solution=True))
    with pytest.raises(MarkupError, match=r"^ex\.ipynb cell 4: grade_id 'b' is also used by cell 2; grade_ids must "
                                          r"be unique in a notebook$"):
        markup.check_notebook_markup(ok, "ex.ipynb")


def test_hidden_tests_belong_in_a_graded_code_cell_only():
    hidden = "assert f()\n### BEGIN HIDDEN TESTS\nassert g()\n### END HIDDEN TESTS"
    markup.check_notebook_markup(nbformat.v4.new_notebook(cells=[_graded(hidden, "t", grade=True, points=1)]), "w")
    for cell in (nbformat.v4.new_code_cell(hidden), _graded(hidden, "t", locked=True),
                 nbformat.v4.new_markdown_cell(hidden, metadata={"nbgrader": {"grade": True, "grade_id": "t",
                                                                              "points": 1}})):
        with pytest.raises(MarkupError, match=r"^w cell 0: hidden tests in a cell that is not a graded test cell; "
                                              r'give it metadata \{"nbgrader": \{"grade": true, "solution": false'):
            markup.check_notebook_markup(nbformat.v4.new_notebook(cells=[cell]), "w")


def test_a_cell_is_checked_after_cells_without_metadata():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("intro"),
                                         _graded("x", "t", grade=True, points=-0.5)])
    with pytest.raises(MarkupError, match=r"^w cell 1 \(t\): graded cell needs numeric points >= 0, has -0\.5$"):
        markup.check_notebook_markup(nb, "w")
    nb.cells[1] = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n")
    with pytest.raises(MarkupError, match=r"^w cell 1: '### BEGIN HIDDEN TESTS' at line 1 is never closed"):
        markup.check_notebook_markup(nb, "w")


# --- lab sources -------------------------------------------------------------------------------

GO = """\
package main

func limit() int {
\t// ### BEGIN SOLUTION TODO  2
\treturn 64
\t// ### END SOLUTION
\t//| return MAX
\t//|x := 0
}
"""


def test_lab_regions_name_their_lines_todo_and_stub():
    assert markup.lab_regions(GO) == [LabRegion(4, 6, "TODO 2", ("\treturn MAX", "\tx := 0"))]
    text = "/* ### BEGIN SOLUTION */\nsecret\n/* ### END SOLUTION */\n# ### BEGIN SOLUTION TODO 9\n#### END SOLUTION\n"
    assert markup.lab_regions(text) == [LabRegion(1, 3, "", ()), LabRegion(4, 5, "TODO 9", ())]


def test_the_student_copy_in_each_comment_style():
    assert markup.student_lab_text(GO) == \
        "package main\n\nfunc limit() int {\n\t// TODO 2: YOUR CODE HERE\n\treturn MAX\n\tx := 0\n}\n"
    py = "def f():\n    #   ### BEGIN SOLUTION\n    return 1\n    # ### END SOLUTION  \n    #| return 0\nf()\n"
    assert markup.student_lab_text(py) == "def f():\n    # YOUR CODE HERE\n    return 0\nf()\n"
    c = "int a;\n  /* ### BEGIN SOLUTION TODO 3 */\n  a = 1;\n  /* ### END SOLUTION */\nint b;\n"
    assert markup.student_lab_text(c) == "int a;\n  /* TODO 3: YOUR CODE HERE */\nint b;\n"


def test_adjacent_regions_are_each_stubbed():
    text = ("/* ### BEGIN SOLUTION TODO 1 */\none\n/* ### END SOLUTION */\n//| stub1\n"
            "/* ### BEGIN SOLUTION TODO 2 */\ntwo\n/* ### END SOLUTION */\n"
            "/* ### BEGIN SOLUTION TODO 3 */\nthree\n/* ### END SOLUTION */\nend\n")
    assert [(r.begin, r.end, r.todo) for r in markup.lab_regions(text)] == \
        [(1, 3, "TODO 1"), (5, 7, "TODO 2"), (8, 10, "TODO 3")]
    assert markup.student_lab_text(text) == ("/* TODO 1: YOUR CODE HERE */\nstub1\n/* TODO 2: YOUR CODE HERE */\n"
                                             "/* TODO 3: YOUR CODE HERE */\nend\n")


@pytest.mark.parametrize("text, message", [
    ("a\n/* ### BEGIN SOLUTION */\nb\n", r"^lab\.c:2: BEGIN SOLUTION is never closed with ### END SOLUTION$"),
    ("a\nb\n// ### END SOLUTION\n", r"^lab\.c:3: END SOLUTION without a BEGIN SOLUTION before it$"),
    ("a\n/* ### BEGIN SOLUTION */\n\n/* ### BEGIN SOLUTION TODO 2 */\n/* ### END SOLUTION */\n",
     r"^lab\.c:4: BEGIN SOLUTION inside the region opened at line 2; close it with ### END SOLUTION first$"),
    ("a\n  x(); // ### END SOLUTION\n", r"^lab\.c:2: malformed marker 'x\(\); // ### END SOLUTION'; write it alone"),
    ("/* ### BEGIN SOLUTION TODO */\n/* ### END SOLUTION */\n", r"^lab\.c:1: malformed marker"),
    ("// ### BEGIN SOLUTION X\n// ### END SOLUTION\n", r"^lab\.c:1: malformed marker '// ### BEGIN SOLUTION X'"),
])
def test_bad_lab_markers_name_file_and_line(text, message):
    with pytest.raises(MarkupError, match=message):
        markup.lab_regions(text, "lab.c")


def test_a_lab_source_is_named_source_by_default():
    with pytest.raises(MarkupError, match=r"^<source>: no ### BEGIN SOLUTION region; nothing to hand out$"):
        markup.student_lab_text("int x;\n")
    with pytest.raises(MarkupError, match=r"^<source>:1: END SOLUTION without"):
        markup.lab_regions("/* ### END SOLUTION */\n")


@pytest.mark.parametrize("points", [float("nan"), float("inf"), -float("inf")])
def test_points_are_a_finite_number(points):
    nb = nbformat.v4.new_notebook(cells=[_graded("x", "t", grade=True, points=points)])
    with pytest.raises(MarkupError, match=rf"^w cell 0 \(t\): graded cell needs numeric points >= 0, has {points!r}$"):
        markup.check_notebook_markup(nb, "w")


def test_stubs_keep_their_trailing_text_and_hidden_tests_name_the_cell():
    assert markup.student_lab_text("# ### BEGIN SOLUTION\nx = 1\n# ### END SOLUTION\n#| x = 0  \n") == \
        "# YOUR CODE HERE\nx = 0  \n"
    with pytest.raises(MarkupError, match=r"^nb cell 3: '### BEGIN HIDDEN TESTS' at line 1 is never closed"):
        markup.strip_hidden_tests("### BEGIN HIDDEN TESTS\nassert f()", "nb cell 3")


def test_a_malformed_lab_marker_gets_the_two_right_forms():
    with pytest.raises(MarkupError) as info:
        markup.lab_regions("f(); /* ### BEGIN SOLUTION */\n", "lab.c")
    assert str(info.value) == ("lab.c:1: malformed marker 'f(); /* ### BEGIN SOLUTION */'; write it alone on its "
                               "line as '/* ### BEGIN SOLUTION TODO n */' or '/* ### END SOLUTION */'")
