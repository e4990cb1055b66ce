"""gorun_kit.labsrc: student copies generated from solutions."""
from __future__ import annotations

import random
import string

import pytest

from gorun_kit import labsrc

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
    out = labsrc.student_text(SOLUTION)
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
        out = labsrc.student_text(text)
        for s in secrets:
            assert s not in out
        for i, keep in enumerate(outside):
            assert keep in out
            assert f"TODO {i + 1}: YOUR CODE HERE" in out
            assert f"\n  stub_{i}();\n" in out
        assert [r.todo for r in labsrc.regions(text)] == [f"TODO {i + 1}" for i in range(len(secrets))]


@pytest.mark.parametrize("text, what", [
    ("/* ### BEGIN SOLUTION */\nx\n", "never closed"),
    ("x\n/* ### END SOLUTION */\n", "without a BEGIN"),
    ("/* ### BEGIN SOLUTION */\n/* ### BEGIN SOLUTION */\n/* ### END SOLUTION */\n", "inside the region"),
    ("int x; /* ### BEGIN SOLUTION */\n/* ### END SOLUTION */\n", "malformed marker"),
    ("no markers at all\n", "nothing to hand out"),
])
def test_bad_markup_names_file_and_line(text, what):
    with pytest.raises(labsrc.LabSourceError, match=what) as info:
        labsrc.student_text(text, "lab.c")
    assert "lab.c" in str(info.value)


def test_generate_and_stale(tmp_path):
    sol = tmp_path / "t.c"
    sol.write_text(SOLUTION)
    dest = labsrc.generate(sol)
    assert dest == tmp_path / "student" / "t.c"
    assert dest.read_text().startswith("/* GENERATED from ../t.c")
    assert not labsrc.stale(sol)
    # a change inside a solution region does not touch the student copy...
    sol.write_text(SOLUTION.replace("x * 2", "x * 3"))
    assert not labsrc.stale(sol)
    # ...a change outside one does
    sol.write_text(SOLUTION.replace("int f", "int g"))
    assert labsrc.stale(sol)
    assert not list(tmp_path.rglob("*.tmp"))


def test_committed_ptrace_lab_student_copy_is_current(repo):
    solution = repo / "labs_c" / "ptrace_lab" / "tracer.c"
    assert not labsrc.stale(solution), "regenerate: python -m gorun_kit.labsrc labs_c/ptrace_lab/tracer.c"
    assert len(labsrc.regions(solution.read_text())) == 4


def test_missing_solution_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        labsrc.generate(tmp_path / "nope.c")
