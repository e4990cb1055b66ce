"""The claims ledger's coverage (gorun_kit.course.claims) against a GOROOT written in
tmp_path: each citation form as it resolves and as it fails, the notebook tags, the
ledger's rows, and the coverage report."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from gorun_kit import goroot
from gorun_kit.course import claims as C
from gorun_kit.toolchain import GoToolchain

FILES = {
    "src/runtime/os_linux.go": "package runtime\n\n// newosproc starts an M\nfunc newosproc(mp *m) {\n}\n",
    "src/runtime/os_windows.go": "package runtime\n\nfunc newosproc(mp *m) {\n}\nfunc onlyWindows() {}\n",
    "src/runtime/proc.go": "package runtime\n\nfunc schedule() {\n\t// GreenTea\n}\n\nfunc findRunnable() {}\n",
    "src/runtime/sys_linux_amd64.s": "#include \"textflag.h\"\n\nTEXT runtime·clone(SB),NOSPLIT,$0\n\tRET\n",
    "src/os/exec/lp_unix.go": "package exec\n\nfunc findExecutable(file string) error {\n\treturn nil\n}\n",
    "src/os/exec/exec_linux.go": "package exec\n\nfunc findExecutable(file string) error {\n}\n",
    "src/cmd/go/main.go": "package main\n",
    "src/cmd/go/internal/work/exec.go": "package work\n\nfunc (b *Builder) Do() {}\n// Invocation\n",
    "src/cmd/go/internal/work/testdata/x.go": "package x\n// Invocation\n",
    "src/cmd/go/internal/empty/README": "no sources\n",
    "src/cmd/go/internal/load/pkg.go": "package load\n// Invocation of load\n",
    "src/cmd/go/internal/asm/a_amd64.s": "// Invocation in assembly\n",
    "src/internal/buildcfg/exp.go": "package buildcfg\n\nvar x = 1 // GreenTeaGC: true\n",
    "src/internal/buildcfg/more.go": "package buildcfg\n// GreenTeaGC: true\n",
    "doc/notes.md": "GreenTea is on\n",
    "src/runtime/internal/sys/sys.go": "package sys\n// OnlyInSubdir\n",
    "src/internal/bytealg/count_amd64.s": "TEXT bytealg·Count(SB),NOSPLIT,$0\n",
}


@pytest.fixture
def tc(tmp_path) -> GoToolchain:
    root = tmp_path / "goroot"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return GoToolchain(go="/nonexistent/go", goroot=str(root), version="go9.9-fake", goos="linux", goarch="amd64",
                       source="test")


# ---------------------------------------------------------------------------
# citations


def test_each_citation_form_resolves_to_file_line_and_symbol(tc):
    r = C.resolve_citation
    assert r({"func": "newosproc"}, tc) == "src/runtime/os_linux.go:4 (runtime.newosproc)"
    assert r({"func": "newosproc", "file": "src/runtime/os_linux.go"}, tc) == \
        "src/runtime/os_linux.go:4 (runtime.newosproc)"
    assert r({"func": "onlyWindows", "goos": "windows"}, tc) == "src/runtime/os_windows.go:5 (runtime.onlyWindows)"
    assert r({"func": "findExecutable", "pkg": "os/exec"}, tc) == "src/os/exec/exec_linux.go:3 (os/exec.findExecutable)"
    assert r({"func": "findExecutable", "pkg": "os/exec", "file": "src/os/exec/lp_unix.go"}, tc) == \
        "src/os/exec/lp_unix.go:3 (os/exec.findExecutable)"
    assert r({"func": "(*Builder).Do", "pkg": "cmd/go/internal/work", "file": "src/cmd/go/internal/work/exec.go"},
             tc) == "src/cmd/go/internal/work/exec.go:3 (cmd/go/internal/work.(*Builder).Do)"
    assert r({"asm": "clone"}, tc) == "src/runtime/sys_linux_amd64.s:3 (runtime·clone)"
    assert r({"asm": "clone", "file": "src/runtime/sys_linux_amd64.s"}, tc) == \
        "src/runtime/sys_linux_amd64.s:3 (runtime.clone)"
    assert r({"grep": "GreenTeaGC:\\s*true", "pkg": "internal/buildcfg"}, tc) == \
        "src/internal/buildcfg/exp.go:3 /GreenTeaGC:\\s*true/ (+1)"
    assert r({"grep": "GreenTea", "file": "doc/notes.md"}, tc) == "doc/notes.md:1 /GreenTea/"
    assert r({"grep": "^func findRunnable"}, tc) == "src/runtime/proc.go:7 /^func findRunnable/"
    assert r({"absent_func": "Run", "pkg": "cmd/go/internal/work"}, tc) == \
        "no func Run in src/cmd/go/internal/work (as the ledger says)"
    assert r({"absent_asm": "newosproc"}, tc) == "no TEXT newosproc in src/runtime (as the ledger says)"
    assert r({"absent_grep": "PR_SET_NAME"}, tc) == "/PR_SET_NAME/ matches nothing in src/runtime (as the ledger says)"
    assert r({"asm": "Count", "pkg": "internal/bytealg"}, tc) == "src/internal/bytealg/count_amd64.s:1 (internal/bytealg·Count)"
    assert r({"absent_func": "schedule", "pkg": "os/exec"}, tc) == "no func schedule in src/os/exec (as the ledger says)"
    assert r({"absent_asm": "clone", "pkg": "internal/bytealg"}, tc) == \
        "no TEXT clone in src/internal/bytealg (as the ledger says)"
    assert r({"absent_grep": "OnlyInSubdir"}, tc).startswith("/OnlyInSubdir/ matches nothing")  # not recursive
    assert r({"glob": "src/runtime/*.c", "count": 0}, tc) == "src/runtime/*.c: 0 files"
    assert r({"glob": "src/runtime/*.go", "min": 3}, tc) == "src/runtime/*.go: 3 files"
    assert r({"glob": "src/runtime/*.go"}, tc) == "src/runtime/*.go: 3 files"


def test_each_citation_form_fails_with_a_message_naming_what_changed(tc):
    def fails(spec, message):
        with pytest.raises(goroot.SourceNotFound) as info:
            C.resolve_citation(spec, tc)
        assert str(info.value) == message

    fails({"func": "newosproc", "file": "src/runtime/proc.go"},
          "func newosproc is not defined in src/runtime/proc.go of go9.9-fake")
    fails({"asm": "clone", "file": "src/runtime/os_linux.go"},
          "asm clone is not defined in src/runtime/os_linux.go of go9.9-fake")
    fails({"func": "schedule", "file": "src/runtime/os_linux.go"},
          "func schedule is not defined in src/runtime/os_linux.go of go9.9-fake")
    fails({"grep": "NoSuchThing"}, "/NoSuchThing/ matches nothing in src/runtime of go9.9-fake")
    fails({"grep": "NoSuchThing", "file": "doc/notes.md"}, "/NoSuchThing/ matches nothing in doc/notes.md of go9.9-fake")
    fails({"absent_func": "schedule"}, "schedule now exists at src/runtime/proc.go:3 in go9.9-fake; "
                                       "the ledger says it does not")
    fails({"absent_asm": "clone"}, "clone now exists at src/runtime/sys_linux_amd64.s:3 in go9.9-fake; "
                                   "the ledger says it does not")
    fails({"absent_grep": "GreenTea"}, "/GreenTea/ now matches src/runtime/proc.go:4 in go9.9-fake; "
                                       "the ledger says nothing does")
    fails({"absent_grep": "is on", "file": "doc/notes.md"}, "/is on/ now matches doc/notes.md:1 in go9.9-fake; "
                                                            "the ledger says nothing does")
    fails({"func": "onlyWindows"}, f"func onlyWindows not found in src/runtime of go9.9-fake ({tc.goroot})")
    fails({"grep": "OnlyInSubdir"}, "/OnlyInSubdir/ matches nothing in src/runtime of go9.9-fake")
    fails({"glob": "src/runtime/*.go", "count": 2}, "src/runtime/*.go: 3 files in go9.9-fake, the ledger says 2")
    fails({"glob": "src/runtime/*.go", "min": 4}, "src/runtime/*.go: 3 files in go9.9-fake, expected at least 4")
    fails({"grep": "x", "file": "src/none.go"}, "src/none.go is not in GOROOT of go9.9-fake")
    fails({"absent_grep": "x", "pkg": "none", "recursive": True}, "src/none is not in GOROOT of go9.9-fake")


def test_a_malformed_citation_is_a_value_error(tc):
    for spec in ({}, {"func": "a", "asm": "b"}, {"file": "x"}, {"glob": "x", "grep": "y"}):
        with pytest.raises(ValueError, match="needs exactly one of func, asm, grep, absent_func, absent_asm, "
                                             "absent_grep, glob"):
            C.resolve_citation(spec, tc)


def test_a_recursive_grep_searches_every_source_directory_but_testdata(tc):
    assert C.resolve_citation({"grep": "Invocation", "pkg": "cmd/go", "recursive": True}, tc) == \
        "src/cmd/go/internal/asm/a_amd64.s:1 /Invocation/ (+2)"
    hits = C._grep("Invocation", "cmd/go", tc, True, None)
    assert [h.file for h in hits] == ["src/cmd/go/internal/asm/a_amd64.s", "src/cmd/go/internal/load/pkg.go",
                                      "src/cmd/go/internal/work/exec.go"]
    with pytest.raises(goroot.SourceNotFound):
        C.resolve_citation({"absent_grep": "Invocation", "pkg": "cmd/go", "recursive": True}, tc)
    assert C.resolve_citation({"absent_grep": "Invocation", "pkg": "cmd/go"}, tc) == \
        "/Invocation/ matches nothing in src/cmd/go (as the ledger says)"
    hits = C._grep("package", "cmd/go", tc, True, None)
    assert [h.file for h in hits] == ["src/cmd/go/main.go", "src/cmd/go/internal/load/pkg.go",
                                      "src/cmd/go/internal/work/exec.go"]


def test_grep_in_a_named_file_reads_bytes_that_are_not_utf8(tc):
    path = Path(tc.goroot, "src/runtime/odd.go")
    path.write_bytes(b"package runtime\n// \xff\xfe odd bytes\nfunc odd() {}\n")
    hits = C._grep("odd", "runtime", tc, False, "src/runtime/odd.go")
    assert [(h.line, h.text) for h in hits] == [(2, "// \ufffd\ufffd odd bytes"), (3, "func odd() {}")]


def test_grep_in_a_named_file_reads_any_kind_of_file(tc):
    hits = C._grep("Green", "runtime", tc, False, "doc/notes.md")
    assert [(h.file, h.line, h.symbol, h.text, h.go_version) for h in hits] == [
        ("doc/notes.md", 1, "Green", "GreenTea is on", "go9.9-fake")]


# ---------------------------------------------------------------------------
# ledger and claims.toml


def test_parse_ledger_reads_rows_and_only_the_extras_section():
    text = ("| 1-1 | a claim | x |\n|  2.3-10  |  spaced  |\n| ID | header |\n|---|---|\n"
            "1. **not an extra yet** x\n"
            "## Real behaviours of Go\n1. **First.** x\n2.  **not bold enough\n10. **Tenth** y\n"
            "| 3-1 | a row in the extras | x |\n"
            "## Real behaviours, again\n4. **Fourth**\n"
            "## Other\n5. **not a row**\n")
    assert [(r.id, r.claim) for r in C.parse_ledger(text)] == [
        ("1-1", "a claim"), ("2.3-10", "spaced"), ("S1", "First."), ("S10", "Tenth"), ("3-1", "a row in the extras"),
        ("S4", "Fourth")]
    assert C.parse_ledger("") == []


def test_load_claims_needs_a_file_with_claims(tmp_path):
    with pytest.raises(FileNotFoundError, match="claims.toml is missing; it lists how every ledger row"):
        C.load_claims(tmp_path / "claims.toml")
    for text in ("", "[other]\nx = 1\n", "claims = 3\n", "[claims]\n"):
        (tmp_path / "claims.toml").write_text(text)
        with pytest.raises(ValueError, match=r"claims.toml: no \[claims.\"<ID>\"\] tables"):
            C.load_claims(tmp_path / "claims.toml")
    (tmp_path / "claims.toml").write_text('[claims."1-1"]\nclaim = "a"\n')
    assert C.load_claims(tmp_path / "claims.toml") == {"claims": {"1-1": {"claim": "a"}}}


# ---------------------------------------------------------------------------
# notebook tags


def _tagged(tags, source, text="", kind="code"):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = tags
    if kind == "code" and text:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return cell


def _course(root: Path, *notebooks, claims_toml=None) -> Path:
    for i, cells in enumerate(notebooks):
        nb = nbformat.v4.new_notebook()
        nb.cells = list(cells)
        path = root / "notebooks" / f"0{i}_x.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    if claims_toml is not None:
        (root / "claims.toml").write_text(claims_toml)
    return root


def _table(*rows, kind="execute_result", as_list=False):
    text = C.TABLE_TITLE + " (go1.27.3)\n" + "".join(f"{r}  holds  measured\n" for r in rows)
    cell = nbformat.v4.new_code_cell("nb.claims_table()")
    data = {"text/plain": text.splitlines(keepends=True) if as_list else text}
    cell.outputs = [nbformat.v4.new_output(kind, data=data)]
    return cell


def test_scan_tags_finds_demonstrations_and_what_is_wrong_with_tags(tmp_path):
    ok = _tagged(["claim:1-1", "other", "claim:1-2"], 'nb.confirm("1-1", x)\nnb.confirm("1-2", y)',
                 "claim 1-1: confirmed: x\nclaim 1-2: confirmed: y\n")
    quiet = _tagged(["claim:2-1"], 'nb.confirm("2-1", z, quiet=True)')
    prose = _tagged(["claim:3-1", "claim:3-2"], "nb.confirm( in prose", kind="markdown")
    nothing = _tagged(["claim:4-1"], "print('x')", "claim 4-1: confirmed\n")
    unrun = _tagged(["claim:5-1"], 'nb.confirm("5-1", v)')
    again = _tagged(["claim:1-1"], 'nb.confirm("1-1", w)', "claim 1-1: confirmed\n")
    partly = _tagged(["claim:6-1", "claim:6-2"], 'nb.confirm("6-1")\nnb.confirm("6-2")', "claim 6-2: con")
    partly.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="firmed\n"))
    root = _course(tmp_path, [ok, quiet, prose, nothing, unrun, _table("2-1")], [again, partly])
    found, problems = C.scan_tags(root)
    assert found == {"1-1": ["notebooks/00_x.ipynb#cell-0", "notebooks/01_x.ipynb#cell-0"],
                     "1-2": ["notebooks/00_x.ipynb#cell-0"], "2-1": ["notebooks/00_x.ipynb#cell-1"],
                     "6-2": ["notebooks/01_x.ipynb#cell-1"]}
    assert problems == [
        "notebooks/00_x.ipynb#cell-2: tagged claim:3-1 but does not call nb.confirm",
        "notebooks/00_x.ipynb#cell-2: tagged claim:3-2 but does not call nb.confirm",
        "notebooks/00_x.ipynb#cell-3: tagged claim:4-1 but does not call nb.confirm",
        "notebooks/00_x.ipynb#cell-4: tagged claim:5-1 but its committed output has no 'claim 5-1: confirmed' "
        "line and the chapter's claims table has no row for it (execute the notebook and commit it)",
        "notebooks/01_x.ipynb#cell-1: tagged claim:6-1 but its committed output has no 'claim 6-1: confirmed' "
        "line and the chapter's claims table has no row for it (execute the notebook and commit it)"]


def test_scan_tags_skips_checkpoints_and_reads_subdirectories(tmp_path):
    cell = _tagged(["claim:1-1"], 'nb.confirm("1-1")', "claim 1-1: confirmed\n")
    _course(tmp_path / "notebooks" / "exercises", [cell])
    _course(tmp_path / "notebooks" / ".ipynb_checkpoints", [_tagged(["claim:9-9"], "x")])
    found, problems = C.scan_tags(tmp_path)
    assert found == {"1-1": ["notebooks/exercises/notebooks/00_x.ipynb#cell-0"]} and problems == []


def test_the_claims_table_counts_in_its_text_form_only(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [_table("1-1", "S2"), _table("2-2", as_list=True), _table("3-3", kind="display_data"),
                nbformat.v4.new_markdown_cell("x")]
    assert C._tabled_claims(nb) == {"1-1", "S2", "2-2", "3-3"}
    other = nbformat.v4.new_code_cell("x")
    other.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "Not the table\n4-4  holds  x"}),
                     nbformat.v4.new_output("stream", name="stdout", text=C.TABLE_TITLE + "\n5-5  holds\n")]
    nb.cells = [other]
    assert C._tabled_claims(nb) == set()
    after_other = _table("4-5")
    after_other.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout", text="first\n"))
    nb.cells = [after_other]
    assert C._tabled_claims(nb) == {"4-5"}
    odd = _table("6-6")
    odd.outputs[0]["data"]["text/plain"] = C.TABLE_TITLE + "\n6-6 single space\n 7-7  indented\n8-8  ok\n"
    nb.cells = [odd]
    assert C._tabled_claims(nb) == {"8-8"}
    md = nbformat.v4.new_markdown_cell("m")
    md["outputs"] = _table("9-9").outputs
    nb.cells = [md]
    assert C._tabled_claims(nb) == set()


# ---------------------------------------------------------------------------
# coverage


TOML = '''
[claims."1-1"]
claim = "demonstrated"
[claims."1-2"]
claim = "cited"
cite = [ { func = "newosproc" }, { asm = "clone" } ]
[claims."1-3"]
claim = "not checkable"
not_checkable = "needs macOS"
[claims."1-4"]
claim = "nothing"
[claims."1-5"]
claim = "stale"
cite = [ { func = "gone" }, { func = "newosproc" } ]
[claims."1-6"]
claim = "both"
cite = [ { func = "newosproc" } ]
not_checkable = "and a reason"
[claims."1-7"]
claim = "demonstrated, with a stale citation"
cite = [ { func = "gone" } ]
'''


def test_coverage_of_each_kind_of_row(tmp_path, tc):
    shown = _tagged(["claim:1-1"], 'nb.confirm("1-1")', "claim 1-1: confirmed\n")
    shown7 = _tagged(["claim:1-7"], 'nb.confirm("1-7")', "claim 1-7: confirmed\n")
    stray = _tagged(["claim:8-8"], 'nb.confirm("8-8")', "claim 8-8: confirmed\n")
    stray2 = _tagged(["claim:8-8"], 'nb.confirm("8-8")', "claim 8-8: confirmed\n")
    root = _course(tmp_path / "course", [shown, shown7, stray, stray2], claims_toml=TOML)
    cov = C.coverage(root, toolchain=tc, ledger_file=tmp_path / "none.md")
    rows = {r.id: (r.status, r.evidence) for r in cov.rows}
    assert [r.id for r in cov.rows] == ["1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7"]
    assert rows["1-1"] == ("demonstrated", ("notebooks/00_x.ipynb#cell-0",))
    assert rows["1-2"] == ("cited", ("src/runtime/os_linux.go:4 (runtime.newosproc)",
                                     "src/runtime/sys_linux_amd64.s:3 (runtime·clone)"))
    assert rows["1-3"] == ("not_checkable", ("needs macOS",))
    assert rows["1-4"] == ("missing", ("no claim-tagged notebook cell, no citation, no not_checkable reason",))
    status, evidence = rows["1-5"]
    assert status == "broken" and len(evidence) == 1  # what did resolve is not listed under a broken row
    assert evidence[0].startswith("citation {'func': 'gone'} does not resolve: func gone not found in src/runtime")
    assert rows["1-6"][0] == "cited"
    status, evidence = rows["1-7"]
    assert status == "broken" and evidence[0].startswith("citation {'func': 'gone'}")
    assert evidence[1] == "notebooks/00_x.ipynb#cell-1"
    assert cov.problems == (
        "notebook tag claim:8-8 (notebooks/00_x.ipynb#cell-2, notebooks/00_x.ipynb#cell-3) names no ledger row",
        "claims.toml [1-6] is both cited and not_checkable; choose one")
    assert cov.go_version == "go9.9-fake" and not cov.ok


def test_a_malformed_citation_makes_its_row_broken(tmp_path, tc):
    root = _course(tmp_path, [], claims_toml='[claims."1-1"]\ncite = [ { func = "a", grep = "b" } ]\n')
    (row,) = C.coverage(root, toolchain=tc, ledger_file=tmp_path / "none.md").rows
    assert row.status == "broken" and "needs exactly one of" in row.evidence[0]


def test_coverage_compares_the_ledger_when_it_is_there(tmp_path, tc):
    root = _course(tmp_path / "course", [], claims_toml='[claims."1-1"]\nnot_checkable = "x"\n'
                                                        '[claims."S1"]\nnot_checkable = "y"\n')
    ledger = tmp_path / "ledger.md"
    ledger.write_text("| 1-1 | a |\n## Real behaviours\n1. **one**\n")
    cov = C.coverage(root, toolchain=tc, ledger_file=ledger)
    assert cov.ok and cov.problems == ()
    ledger.write_text("| 1-1 | a |\n| 1-2 | b |\n")
    cov = C.coverage(root, toolchain=tc, ledger_file=ledger)
    assert cov.problems == (f"claims.toml and {ledger} list different rows: only in the ledger ['1-2'], "
                            "only in claims.toml ['S1']",)
    # a claims file given by name
    inner = root / "inner"
    inner.mkdir()
    assert C.coverage(inner, claims_file=root / "claims.toml", toolchain=tc, ledger_file=ledger).problems == \
        cov.problems


def test_coverage_reads_the_ledger_beside_the_course(tmp_path, tc):
    root = _course(tmp_path / "work" / "course", [], claims_toml='[claims."1-1"]\nnot_checkable = "x"\n')
    ledger = tmp_path / "work" / "shared" / "reference" / "seed-claims-ledger.md"
    ledger.parent.mkdir(parents=True)
    ledger.write_text("| 1-1 | a |\n| 1-2 | b |\n")
    cov = C.coverage(root, toolchain=tc)
    assert len(cov.problems) == 1 and "only in the ledger ['1-2']" in cov.problems[0]


def test_the_coverage_report():
    rows = (C.RowStatus("1-1", "demonstrated", ("nb#cell-1", "nb#cell-2", "nb#cell-3")),
            C.RowStatus("1-2", "cited", ("f.go:1 (x)", "g.go:2 (y)")),
            C.RowStatus("1-3", "not_checkable", ("macOS",)),
            C.RowStatus("1-4", "missing", ()),
            C.RowStatus("1-5", "broken", ("citation x does not resolve",)),
            C.RowStatus("1-6", "broken", ()))
    cov = C.Coverage(rows, ("a problem",), "go1.27.3")
    assert [cov.count(s) for s in ("demonstrated", "cited", "not_checkable", "missing", "broken")] == [1, 1, 1, 1, 2]
    assert cov.summary() == ("6 ledger rows: 1 demonstrated, 1 cited, 1 not checkable, 1 MISSING, 2 BROKEN "
                             "(citations resolved in go1.27.3)")
    assert cov.render().splitlines() == [
        "1-1     demonstrated  nb#cell-1 (+2)",
        "1-2     cited         f.go:1 (x) (+1)",
        "1-3     not_checkable macOS",
        "1-4     missing       ",
        "1-5     broken        citation x does not resolve",
        "1-6     broken        ",
        "PROBLEM: a problem",
        cov.summary()]
    data = cov.to_dict()
    assert data["counts"] == {"demonstrated": 1, "cited": 1, "not_checkable": 1, "missing": 1, "broken": 2}
    assert data["ok"] is False and data["go_version"] == "go1.27.3" and data["problems"] == ["a problem"]
    assert data["rows"][0] == {"id": "1-1", "status": "demonstrated", "evidence": ["nb#cell-1", "nb#cell-2",
                                                                                   "nb#cell-3"]} \
        or data["rows"][0]["evidence"] in (("nb#cell-1", "nb#cell-2", "nb#cell-3"),
                                           ["nb#cell-1", "nb#cell-2", "nb#cell-3"])
    good = C.Coverage(rows[:3], (), "go1.27.3")
    assert good.ok and good.summary() == ("3 ledger rows: 1 demonstrated, 1 cited, 1 not checkable "
                                          "(citations resolved in go1.27.3)")
    assert not C.Coverage(rows[:3], ("p",), "g").ok
    assert not C.Coverage(rows[3:4], (), "g").ok and not C.Coverage(rows[4:5], (), "g").ok
    assert C.Coverage((), (), "g").ok


def test_reading_claims_toml_without_a_toml_reader_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    (tmp_path / "claims.toml").write_text('[claims."1-1"]\nclaim = "a"\n')
    with pytest.raises(RuntimeError) as info:
        C.load_claims(tmp_path / "claims.toml")
    assert str(info.value) == "reading claims.toml needs Python >= 3.11 or `pip install tomli`"
    assert isinstance(info.value.__cause__, ImportError)
