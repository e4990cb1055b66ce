"""gorun_kit.course.markup on lab sources: student copies of C/Go solutions (TODO line + compiling stub)."""
from __future__ import annotations

import random
import string

import pytest

from gorun_kit.course import markup

SOLUTION = """\
int f(int x)
{
    /* ### BEGIN SOLUTION TODO 7 */
    return x * 2;
    /* ### END SOLUTION */
    //| return 0;
}
"""


def test_region_replaced_by_todo_and_stub():
    out = markup.student_lab_text(SOLUTION)
    assert "x * 2" not in out
    assert "    /* TODO 7: YOUR CODE HERE */\n    return 0;\n}" in out
    assert "//|" not in out and "### " not in out


def test_random_regions_keep_everything_outside(tmp_path):
    rng = random.Random(1234)
    for _ in range(50):
        outside, pieces, secrets = [], [], []
        for i in range(rng.randint(1, 5)):
            keep = "".join(rng.choice(string.ascii_letters + " ;(){}") for _ in range(rng.randint(0, 30)))
            secret = "SECRET" + "".join(rng.choice(string.ascii_letters) for _ in range(10))
            stub = f"stub_{i}();"
            outside.append(keep)
            secrets.append(secret)
            style = rng.choice(["c", "line", "py"])
            begin, end, lead = {
                "c": (f"/* ### BEGIN SOLUTION TODO {i + 1} */", "/* ### END SOLUTION */", "//|"),
                "line": (f"// ### BEGIN SOLUTION TODO {i + 1}", "// ### END SOLUTION", "//|"),
                "py": (f"# ### BEGIN SOLUTION TODO {i + 1}", "# ### END SOLUTION", "#|"),
            }[style]
            pieces += [keep, "  " + begin, "  " + secret, "  " + end, f"  {lead} {stub}"]
        text = "\n".join(pieces) + "\n"
        out = markup.student_lab_text(text)
        for s in secrets:
            assert s not in out
        for i, keep in enumerate(outside):
            assert keep in out
            assert f"TODO {i + 1}: YOUR CODE HERE" in out
            assert f"\n  stub_{i}();\n" in out
        assert [r.todo for r in markup.lab_regions(text)] == [f"TODO {i + 1}" for i in range(len(secrets))]


@pytest.mark.parametrize("text, what", [
    ("/* ### BEGIN SOLUTION */\nx\n", "never closed"),
    ("x\n/* ### END SOLUTION */\n", "without a BEGIN"),
    ("/* ### BEGIN SOLUTION */\n/* ### BEGIN SOLUTION */\n/* ### END SOLUTION */\n", "inside the region"),
    ("int x; /* ### BEGIN SOLUTION */\n/* ### END SOLUTION */\n", "malformed marker"),
    ("no markers at all\n", "nothing to hand out"),
])
def test_bad_markup_names_file_and_line(text, what):
    with pytest.raises(markup.MarkupError, match=what) as info:
        markup.student_lab_text(text, "lab.c")
    assert "lab.c" in str(info.value)


def test_ptrace_lab_has_four_todos_and_the_student_copy_compiles(repo, tmp_path):
    import shutil
    import subprocess

    solution = repo / "labs_c" / "ptrace_lab" / "tracer.c"
    regions = markup.lab_regions(solution.read_text())
    assert [r.todo for r in regions] == ["TODO 1", "TODO 2", "TODO 3", "TODO 4"]
    student = tmp_path / "tracer.c"
    student.write_text(markup.student_lab_text(solution.read_text(), str(solution)))
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    proc = subprocess.run([cc, "-std=gnu11", "-fsyntax-only", str(student)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
