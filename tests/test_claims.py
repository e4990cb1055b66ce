"""Course-wide truth: every ledger row is demonstrated by a claim-tagged notebook
cell, cited in the installed GOROOT (resolved now), or marked not checkable."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from gorun_kit import goroot
from gorun_kit.course import claims as C
from gorun_kit.toolchain import GoToolchain, find_go

ROOT = Path(__file__).resolve().parents[1]
LEDGER = ROOT / C.LEDGER_RELPATH


def test_every_ledger_row_is_covered(capsys):
    cov = C.coverage(ROOT)
    bad = [r for r in cov.rows if r.status in ("missing", "broken")]
    with capsys.disabled():  # the counts belong in every test log, passing or not
        print(f"\nclaims: {cov.summary()}")
    assert not bad, "\n".join(f"{r.id}: {r.status}: {'; '.join(r.evidence)}" for r in bad)
    assert not cov.problems, "\n".join(cov.problems)
    assert cov.ok
    # Every row has exactly one status, and the counts add up.
    assert sum(cov.count(s) for s in ("demonstrated", "cited", "not_checkable")) == len(cov.rows)


@pytest.mark.skipif(not LEDGER.is_file(), reason=f"ledger {LEDGER} not beside the repo (it is in CI and the workspace)")
def test_claims_toml_lists_exactly_the_ledger_rows():
    ledger_ids = [r.id for r in C.parse_ledger(LEDGER.read_text())]
    listed = list(C.load_claims(ROOT / "claims.toml")["claims"])
    assert len(ledger_ids) == len(set(ledger_ids)) > 90
    assert sorted(listed) == sorted(ledger_ids)


def test_parse_ledger_rows_and_extras():
    text = ("## Chapter 9\n| ID | Seed claim |\n|---|---|\n| 9-1 | A `x\\|y` claim. | true |\n"
            "| 9.2-10 | Another. | false |\n## Real behaviours the course should teach\n"
            "1. **First extra.** More.\n2. **Second.** x\n## Method\n3. **not a row**\n")
    assert [(r.id, r.claim) for r in C.parse_ledger(text)] == [
        ("9-1", "A `x\\|y` claim."), ("9.2-10", "Another."), ("S1", "First extra."), ("S2", "Second.")]


def _fake_goroot(tmp_path: Path) -> GoToolchain:
    """A copy of a few real GOROOT files that the test then changes, as a new Go release might."""
    real = find_go()
    for rel in ("src/os/exec/lp_unix.go", "src/runtime/os_linux.go", "src/runtime/sys_linux_amd64.s"):
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(real.goroot, rel), dest)
    (tmp_path / "src/cmd/go/internal/work").mkdir(parents=True)
    (tmp_path / "src/cmd/go/internal/work/action.go").write_text("package work\n")
    return GoToolchain(go="/nonexistent/go", goroot=str(tmp_path), version="go9.99-fake", goos="linux",
                       goarch="amd64", source="test")


def test_every_citation_form_fails_when_go_changes(tmp_path):
    tc = _fake_goroot(tmp_path)
    good = [
        {"func": "findExecutable", "pkg": "os/exec", "file": "src/os/exec/lp_unix.go"},
        {"func": "newosproc"},
        {"asm": "clone", "file": "src/runtime/sys_linux_amd64.s"},
        {"grep": r"^\s*cloneFlags = _CLONE_VM", "file": "src/runtime/os_linux.go"},
        {"absent_func": "Run", "pkg": "cmd/go/internal/work"},
        {"absent_grep": "PR_SET_NAME"},
        {"glob": "src/runtime/*.c", "count": 0},
    ]
    for spec in good:
        assert C.resolve_citation(spec, tc)
    # Now "Go changes": rename, remove, add.
    lp = tmp_path / "src/os/exec/lp_unix.go"
    lp.write_text(lp.read_text().replace("func findExecutable(", "func findExec("))
    osl = tmp_path / "src/runtime/os_linux.go"
    osl.write_text(osl.read_text().replace("func newosproc(", "func newOSProc(")
                   .replace("cloneFlags = _CLONE_VM", "cloneFlags = _CLONE_FS") + "\n// PR_SET_NAME\n")
    asm = tmp_path / "src/runtime/sys_linux_amd64.s"
    asm.write_text(asm.read_text().replace("TEXT runtime·clone(SB)", "TEXT runtime·clone3(SB)"))
    (tmp_path / "src/cmd/go/internal/work/action.go").write_text("package work\n\nfunc Run() {}\n")
    (tmp_path / "src/runtime/new.c").write_text("int x;\n")
    for spec in good:
        with pytest.raises(goroot.SourceNotFound):
            C.resolve_citation(spec, tc)
    with pytest.raises(ValueError, match="exactly one"):
        C.resolve_citation({"func": "a", "grep": "b"}, tc)


def _mini_course(tmp_path: Path, claims_toml: str, cells) -> Path:
    (tmp_path / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    (tmp_path / "claims.toml").write_text(claims_toml)
    return tmp_path


def _tagged(cid, source, output):
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [f"claim:{cid}"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    return cell


MINI = '''
[claims."1-1"]
claim = "a"
[claims."1-2"]
claim = "b"
cite = [ { func = "newosproc" } ]
[claims."1-3"]
claim = "c"
not_checkable = "needs macOS"
'''


def test_rows_without_coverage_and_bad_tags_fail(tmp_path):
    ok_cell = _tagged("1-1", 'nb.confirm("1-1", True, "x")', "claim 1-1: confirmed: x\n")
    root = _mini_course(tmp_path, MINI, [ok_cell])
    cov = C.coverage(root, ledger_file=tmp_path / "none.md")
    assert cov.ok and [r.status for r in cov.rows] == ["demonstrated", "cited", "not_checkable"]

    # Drop the demonstration: row 1-1 has nothing left.
    root = _mini_course(tmp_path / "b", MINI, [])
    cov = C.coverage(root, ledger_file=tmp_path / "none.md")
    assert not cov.ok and cov.rows[0].status == "missing"

    # A tag naming no row, a tagged cell that asserts nothing, one never executed.
    cells = [ok_cell, _tagged("7-7", 'nb.confirm("7-7", True, "x")', "claim 7-7: confirmed: x\n"),
             _tagged("1-2", "print('hi')", "hi\n"), _tagged("1-3", 'nb.confirm("1-3", True, "x")', "")]
    root = _mini_course(tmp_path / "c", MINI, cells)
    cov = C.coverage(root, ledger_file=tmp_path / "none.md")
    text = "\n".join(cov.problems)
    assert not cov.ok
    assert "claim:7-7" in text and "names no ledger row" in text
    assert "cell-2: tagged claim:1-2 but does not call nb.confirm" in text
    assert "cell-3: tagged claim:1-3 but its committed output has no" in text

    # A ledger that lists a row claims.toml lacks.
    ledger = tmp_path / "ledger.md"
    ledger.write_text("| 1-1 | a | x |\n| 1-2 | b | x |\n| 1-3 | c | x |\n| 1-4 | d | x |\n")
    cov = C.coverage(_mini_course(tmp_path / "d", MINI, [ok_cell]), ledger_file=ledger)
    assert not cov.ok and "only in the ledger ['1-4']" in cov.problems[0]


def test_a_quiet_check_is_demonstrated_by_the_chapters_claims_table(tmp_path, monkeypatch):
    from gorun_kit import nb as nbmod

    assert C.TABLE_TITLE == nbmod.TABLE_TITLE
    monkeypatch.setattr(nbmod, "_CHECKED", {})
    monkeypatch.setattr(nbmod, "_release", lambda: "go1.0 linux/amd64")
    nbmod.confirm("1-1", True, "the thing holds", measured=[1, 2, 3], quiet=True)
    table = nbmod.claims_table()
    assert [c.measured for c in table.checks] == ["[1, 2, 3]"]
    assert "<td>1-1</td>" in table._repr_html_()

    def table_cell(text):
        cell = nbformat.v4.new_code_cell("nb.claims_table()")
        cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=1)]
        return cell

    quiet = _tagged("1-1", 'nb.confirm("1-1", True, "x", quiet=True)', "")
    root = _mini_course(tmp_path / "a", MINI, [quiet, table_cell(repr(table))])
    assert C.coverage(root, ledger_file=tmp_path / "none.md").rows[0].status == "demonstrated"
    # The same table without the row: the quiet check shows nowhere.
    nbmod._CHECKED.clear()
    nbmod.confirm("1-2", True, "another", quiet=True)
    root = _mini_course(tmp_path / "b", MINI, [quiet, table_cell(repr(nbmod.claims_table()))])
    cov = C.coverage(root, ledger_file=tmp_path / "none.md")
    assert not cov.ok and "claims table has no row for it" in "\n".join(cov.problems)
