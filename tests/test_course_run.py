"""`gorun-kit course run`: claim cells re-run on other Go releases.

The fast tests prove the dependency slicing and the report on a fixture
notebook; the slow one is the CI run on the oldest supported release (1.22),
claim cells only, cross-checked against the pinned release.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import layout
from gorun_kit.course import run as R

FIXTURE = Path(__file__).parent / "fixtures" / "claims" / "claims_fixture.ipynb"


def _nb(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) if not s.startswith("#md") else nbformat.v4.new_markdown_cell(s)
                for s in sources]
    return nb


def test_dependency_slice_follows_names_mutations_and_imports():
    nb = _nb("stamp()",                      # 0 always
             "import os\nfrom a.b import c as d",  # 1 defines os, d
             "x = 1",                        # 2 x
             "slow = 2",                     # 3 not needed
             "cfg = {}\ncfg['k'] = d",       # 4 cfg (uses d -> 1)
             "#md prose",                    # 5 markdown
             "cfg['v'] = x",                 # 6 mutates cfg, uses x -> 2
             "def f():\n    return os.sep",  # 7 defines f, uses os
             "%time y = f() + cfg['k']",     # 8 magic: target
             "z = slow")                     # 9 after the target: never
    assert R.dependency_slice(nb, [8]) == [0, 1, 2, 4, 6, 7, 8]
    assert R.dependency_slice(nb, [9]) == [0, 3, 9]
    # An unparsable cell keeps everything before it (it might need anything).
    bad = _nb("stamp()", "a = 1", "b = 2", "this is not ) python", "print(a)")
    assert R.dependency_slice(bad, [3]) == [0, 1, 2, 3]
    assert R.dependency_slice(bad, [4]) == [0, 1, 2, 3, 4]  # 3 might define a, and needs all before it


def _report(*runs):
    return R.MatrixReport(tuple(R.ReleaseRun(v, "/go", tuple(o), (), 0.0) for v, o in runs))


def test_report_lists_claims_that_change():
    a = R.CellOutcome("n.ipynb", 5, ("2.2-5",), "passed")
    b_old = R.CellOutcome("n.ipynb", 6, ("S1",), "failed", "ClaimFailed: no")
    b_new = R.CellOutcome("n.ipynb", 6, ("S1",), "passed")
    rep = _report(("go1.22.10", [a, b_old]), ("go1.27.3", [a, b_new]))
    assert rep.changed() == ["S1"]
    md = rep.render_markdown()
    assert "| S1 | **fails** | holds |" in md and "| 2.2-5 | holds | holds |" in md
    assert rep.to_dict()["claims"]["S1"]["go1.22.10"]["status"] == "failed"
    # A claim with two cells holds only if both pass.
    worse = R.CellOutcome("m.ipynb", 1, ("2.2-5",), "failed", "x")
    assert _report(("go1.27.3", [a, worse])).runs[0].claim_status()["2.2-5"].status == "failed"


def _pinned_has_pidfd_probe():
    from gorun_kit.toolchain import find_go
    return find_go().version_tuple >= (1, 23)


@pytest.mark.slow
def test_claims_only_run_on_fixture_skips_unneeded_cells(tmp_path):
    outcomes, notes = R.run_notebooks(None, [FIXTURE], claims_only=True, root=FIXTURE.parent)
    status = {o.claims: o.status for o in outcomes}
    assert status == {("2.2-5",): "passed", ("S1",): "passed" if _pinned_has_pidfd_probe() else "failed"}
    # cell 3 raises if run: the slice must have left it out, so no non-claim error is noted
    assert notes == [notes[0]] and "ran 5/5 cells" in notes[0] and "error" not in notes[0]


@pytest.mark.slow
def test_oldest_supported_release_claim_cells(tmp_path):
    """CI's second release: every claim cell of the course, on Go 1.22.

    A claim cell may fail there (that is what the report is for), but not
    with an error that means the run itself is broken (a NameError from a
    cell the slice left out, a missing module, a timeout): that check is what
    proves the slicing leaves nothing out. On the pinned release only the
    fixture runs as well (nbval runs every chapter's cells there), for the
    report's comparison of releases.
    """
    root = layout.course_root()
    paths = [FIXTURE] + [p for p in layout.chapter_notebooks(root) + layout.exercise_notebooks(root)
                         if R.claim_cells(nbformat.read(p, as_version=4))]
    tc, go = R._toolchain_for(R.OLDEST_SUPPORTED)
    assert tc.version.startswith("go1.22")
    old, old_notes = R.run_notebooks(go, paths, claims_only=True, root=root)
    new, new_notes = R.run_notebooks(None, [FIXTURE], claims_only=True, root=root)
    report = R.MatrixReport((R.ReleaseRun(tc.version, tc.go, tuple(old), tuple(old_notes), 0),
                             R.ReleaseRun("pinned", "", tuple(new), tuple(new_notes), 0)))
    out = root / "test-artifacts" / "course-run-1.22"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report.render_markdown())
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2))
    assert len(old) > len(new) > 0 and {o.notebook for o in old} >= {o.notebook for o in new}
    broken = [o for o in new if o.status != "passed"]
    assert not broken, f"claim cells fail on the pinned release in a claims-only run: {broken}"
    # The detail starts with the root cause (the first failing cell the claim cell needs).
    odd = [o for o in old if o.status == "not run" or o.detail.startswith(R.BROKEN_RUN_ERRORS)]
    assert not odd, f"claim cells on {tc.version} failed for reasons other than Go's behaviour: {odd}"
    fixture = {o.claims: o.status for o in old if o.notebook.endswith("claims_fixture.ipynb")}
    assert fixture == {("2.2-5",): "passed", ("S1",): "failed"}  # ErrDot since 1.19, checkPidfd since 1.23
    assert "S1" in report.changed()


@pytest.mark.slow
def test_claim_failure_names_the_upstream_cause(tmp_path):
    nb = _nb("from gorun_kit import nb, goroot",
             "where = goroot.find_func('noSuchFunctionAnywhere', 'os')",
             "nb.confirm('1-1', where is not None, 'found')")
    nb.cells[2].metadata["tags"] = ["claim:1-1"]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    (o,), notes = R.run_notebooks(None, [path], claims_only=True, root=tmp_path)
    assert o.status == "failed"
    assert o.detail.startswith("SourceNotFound: func noSuchFunctionAnywhere not found")
    assert "(in cell 1, which cell 2 needs); then NameError" in o.detail
