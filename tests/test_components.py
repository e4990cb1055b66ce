"""gorun_kit.components: the seed's component table rebuilt from GOROOT.

The search is cross-checked against gorun_kit.goroot (a second, independent
search) and against the symbols really linked into a hello world binary.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gorun_kit import binary, components, goroot
from gorun_kit.build import build_go

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():
    syms = binary.read_symbols(build_go(REPO / "labs_go" / "ch1_hello").path)
    return {r.component.name: r for r in components.component_table(symbols=syms)}


def test_every_definition_is_found(table):
    for row in table.values():
        assert row.missing == (), (row.component.name, row.missing)


def test_funcs_agree_with_goroot_find_func(table):
    for row in table.values():
        for f in row.findings:
            if f.definition.kind in ("func", "method"):
                cit = goroot.find_func(f.definition.name)
                assert (f.file, f.line) == (cit.file, cit.line), f


def test_seed_table_is_incomplete_where_the_ledger_says(table):
    gpm, gc, alloc, sysmon = (table[c.name] for c in components.COMPONENTS)
    # The g, m and p structs are declared outside proc.go.
    assert any(f.endswith("runtime2.go") for f in gpm.files) and gpm.seed_file_holds_some
    # mgcpacer.go holds the pacer only; marking and sweeping live elsewhere.
    assert gc.seed_file_holds_some and not gc.seed_file_is_whole_story
    assert {"src/runtime/mgc.go", "src/runtime/mgcmark.go", "src/runtime/mgcsweep.go"} <= set(gc.files)
    assert any(f.endswith("mcentral.go") for f in alloc.files)
    assert next(f for f in sysmon.findings if f.definition.name == "sysmon").file.endswith("proc.go")


def test_in_binary_column(table):
    gpm = table["G-P-M model"]
    assert all(f.in_binary for f in gpm.findings if f.definition.kind == "func")
    assert all(f.in_binary is None for f in gpm.findings if f.definition.kind == "type")


def test_a_missing_definition_is_reported_not_invented(tmp_path):
    fake = components.Component("fake", "none", "runtime/nothing.go",
                                (components.Definition("func", "noSuchRuntimeFunction", "-"),))
    row, = components.component_table([fake])
    assert row.missing and row.files == () and not row.seed_file_holds_some
    # find_definition on a file we control: found, and a non-.go file is ignored.
    src = tmp_path / "x.go"
    src.write_text("package x\n\nfunc (c *cache) fill(n int) {}\n")
    d = components.Definition("method", "cache.fill", "-")
    assert components.find_definition(d, [src], str(tmp_path)) == ("x.go", 3, "func (c *cache) fill(n int) {}")
    assert components.find_definition(d, [tmp_path / "x.s"], str(tmp_path)) == ("", 0, "")
    with pytest.raises(ValueError, match="kind"):
        components.find_definition(components.Definition("var", "x", "-"), [src], str(tmp_path))
