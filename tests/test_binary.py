"""gorun_kit.binary: per-package text, link facts, runtime functions, go run's binary.

Every number is checked against a second instrument: Go's own ``go tool nm``
for the symbol table, the GOROOT source search for the DWARF file names, a C
compiler's static/dynamic output for the link facts.
"""
from __future__ import annotations

import collections
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from gorun_kit import binary, goroot, gorun
from gorun_kit.build import build_c, build_go
from gorun_kit.toolchain import find_go, go_env

REPO = Path(__file__).resolve().parents[1]
live = pytest.mark.skipif(sys.platform != "linux", reason="reads Linux ELF binaries built here")


# ---------------------------------------------------------------- names (pure)

segment = st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=8).filter(
    lambda s: not s[0].isdigit())
package_path = st.lists(segment, min_size=1, max_size=4).map("/".join)
ident = st.text(string.ascii_letters + "_", min_size=1, max_size=10)


@given(package_path, ident, st.sampled_from(["", ".func1", ".abi0", ".gowrap2"]))
def test_package_of_plain_functions(pkg, name, suffix):
    assert binary.package_of(f"{pkg}.{name}{suffix}") == pkg


@given(package_path, ident, ident, package_path)
def test_package_of_methods_and_generics(pkg, recv, meth, inner):
    assert binary.package_of(f"{pkg}.(*{recv}).{meth}") == pkg
    # Another package's path inside the brackets must not be taken for ours.
    assert binary.package_of(f"{pkg}.(*{recv}[{inner}.T]).{meth}") == pkg


def test_package_of_linker_names_and_bare_assembly():
    assert binary.package_of("type:.eq.main.T") == "type:"
    assert binary.package_of("go:buildid") == "go:"
    assert binary.package_of("gogo") == binary.GO_NO_PACKAGE
    assert binary.package_of("vendor/golang.org/x/net/http2/hpack.(*Decoder).Write") == \
        "vendor/golang.org/x/net/http2/hpack"
    assert binary.is_runtime_package("internal/runtime/maps")
    assert not binary.is_runtime_package("runtimex")
    assert binary.is_runtime_package("runtime")
    # libraries under runtime/ and the cgo glue are not the runtime
    for lib in ("runtime/pprof", "runtime/trace", "runtime/metrics", "runtime/race", "runtime/debug", "runtime/cgo"):
        assert not binary.is_runtime_package(lib), lib


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 50)), min_size=1, max_size=30),
       st.integers(0, 10_100))
@settings(max_examples=200)
def test_symbol_at_matches_a_linear_scan(spans, address):
    # Non-overlapping symbols laid out from the random sizes.
    syms, at = [], 0
    for gap, size in spans:
        at += gap % 40
        syms.append(binary.Symbol(f"s{at}", at, size, "func", "p", True))
        at += size
    expect = next((s for s in syms if s.address <= address < s.address + s.size), None)
    assert binary.symbol_at(syms, address) == expect


def test_bad_input_names_the_file(tmp_path):
    with pytest.raises(binary.NotAnELF, match="does not exist"):
        binary.read_binary(tmp_path / "nope")
    text = tmp_path / "notes.txt"
    text.write_text("not a program")
    with pytest.raises(binary.NotAnELF, match="notes.txt.*not an ELF"):
        binary.link_info(text)
    with pytest.raises(ValueError, match="unknown runtime function"):
        binary.runtime_functions(text, ["nosuchthing"])


# ---------------------------------------------------------------- real binaries

@pytest.fixture(scope="module")
def hello():
    return build_go(REPO / "labs_go" / "ch1_hello").path


def _go_tool_nm(path: str) -> list[tuple[int, int, str, str]]:
    tc = find_go()
    out = subprocess.run([tc.go, "tool", "nm", "-size", "-type", path], capture_output=True, text=True,
                         env=go_env(toolchain=tc), check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            rows.append((int(parts[0], 16), int(parts[1]), parts[2], parts[3]))
    return rows


@live
def test_runtime_text_agrees_with_go_tool_nm(hello):
    report = binary.read_binary(hello)
    seen, per_pkg = set(), collections.Counter()
    for addr, size, typ, name in _go_tool_nm(hello):
        if typ in "Tt" and addr not in seen and size > 0:
            seen.add(addr)
            per_pkg[binary.package_of(name)] += size
    assert per_pkg["runtime"] > 0
    for pkg in ("runtime", "fmt", "main"):
        assert report.bytes_of(pkg) == per_pkg[pkg], pkg
    # The runtime is the largest single package of hello world.
    assert report.packages[0].package == "runtime"
    assert 0 < report.runtime_share < 1


@live
def test_link_facts_static_dynamic_and_stripped(hello):
    info = binary.link_info(hello)
    assert info.static and info.needed == () and info.has_symtab and info.has_dwarf and info.is_go
    cgo = binary.link_info(build_go(REPO / "labs_go" / "ch1_cgo", cgo=True).path)
    assert not cgo.static and "libc.so.6" in cgo.needed and "ld-linux" in cgo.interpreter
    stripped = binary.link_info(build_go(REPO / "labs_go" / "ch1_hello", ldflags="-s -w").path)
    assert stripped.stripped and stripped.file_bytes < info.file_bytes
    # Same reader on C programs: the compiler, not Go, decides static vs dynamic.
    src = REPO / "labs_c" / "hello_probe" / "hello_probe.c"
    c_dyn = binary.link_info(build_c(src).path)
    c_static = binary.link_info(build_c(src, ldflags=["-static"], name="hello_probe_static").path)
    assert not c_dyn.static and c_static.static and not c_dyn.is_go


@live
def test_cgo_binary_has_c_code_outside_go_text():
    report = binary.read_binary(build_go(REPO / "labs_go" / "ch1_cgo", cgo=True).path)
    c_names = {s.name for s in binary.read_symbols(report.link.path) if s.package == binary.C_CODE}
    assert "x_cgo_init" in c_names  # runtime/cgo's C half
    assert not any(n.startswith("runtime.") for n in c_names)


@live
def test_runtime_functions_dwarf_agrees_with_goroot(hello):
    rows = {r.name: r for r in binary.runtime_functions(hello)}
    assert set(rows) == {n for n, _ in binary.RUNTIME_FUNCTIONS}
    text = binary.link_info(hello)
    for r in rows.values():
        assert r.address and r.source_from == "DWARF line table", r
        cit = goroot.find_asm(r.name) if r.language == "assembly" else goroot.find_func(r.name)
        assert r.source_file == cit.file, r
        # The line table's first row is at or just after the TEXT/func line.
        assert cit.line <= r.source_line < cit.line + 20, (r, cit)
    assert rows["mstart"].symbol == "runtime.mstart.abi0" and rows["newobject"].language == "Go"
    assert text.text_section_bytes > 0


@live
def test_go_run_strips_and_says_so():
    g = gorun.go_run_executable(REPO / "labs_go" / "ch1_hello")
    assert g.output.strip() == "hello, world"
    assert "-s" in g.link_flags and "-w" in g.link_flags and "-dwarf=false" in g.compile_flags
    assert "-s" not in g.build_link_flags and "-dwarf=false" not in g.build_compile_flags
    info = binary.link_info(g.path)
    assert info.stripped and binary.read_symbols(g.path) == ()
    rows = binary.runtime_functions(g.path, ["newosproc"])
    assert rows[0].address == 0 and rows[0].source_from == "GOROOT search"
    assert rows[0].source_file == goroot.find_func("newosproc").file


@live
def test_struct_layout_and_symbol_at(hello):
    m = binary.struct_layout(hello, "runtime.m")
    assert {"id", "procid", "park", "g0"} <= set(m)
    offsets = list(m.values())
    assert offsets == sorted(offsets) and offsets[0] == 0  # declaration order; zero-size fields may share
    assert m["g0"] < m["procid"] < m["park"]
    assert binary.field_at(m, m["park"]) == "park"
    assert binary.struct_layout(hello, "runtime.nosuchtype") == {}
    many = binary.struct_layouts(hello, ["runtime.m", "runtime.g", "runtime.nosuchtype"])
    assert many == {"runtime.m": m, "runtime.g": binary.struct_layout(hello, "runtime.g"), "runtime.nosuchtype": {}}
    syms = binary.read_symbols(hello)
    newobject = next(s for s in syms if s.name == "runtime.newobject")
    assert binary.symbol_at(syms, newobject.address + newobject.size // 2) == newobject


@live
def test_package_bars_figure(hello):
    from matplotlib.figure import Figure

    from gorun_kit.viz.binary import package_bars

    fig = package_bars({"hello": binary.read_binary(hello)}, top=3)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "runtime" and labels[-1] == "other"
    with pytest.raises(ValueError, match="at least one"):
        package_bars({})


@live
@pytest.mark.parametrize("cgo", [False, True], ids=["static", "cgo"])
def test_nm_symbols_is_what_gnu_nm_prints(cgo, hello):
    import shutil
    if shutil.which("nm") is None:
        pytest.skip("GNU nm (binutils) is not installed")
    path = build_go(REPO / "labs_go" / "ch1_cgo", cgo=True).path if cgo else hello
    gnu = subprocess.run(["nm", path], capture_output=True, text=True, env={"LC_ALL": "C"}, check=True).stdout
    assert [str(s) for s in binary.nm_symbols(path)] == gnu.splitlines()


@live
def test_nm_symbols_of_a_stripped_binary_and_of_a_text_file(tmp_path):
    stripped = build_go(REPO / "labs_go" / "ch1_hello", ldflags="-s -w").path
    assert binary.nm_symbols(stripped) == ()
    note = tmp_path / "note.txt"
    note.write_text("not a program\n")
    with pytest.raises(binary.NotAnELF, match="note.txt"):
        binary.nm_symbols(note)
    with pytest.raises(binary.NotAnELF, match="note.txt"):
        binary.disassemble(note)


@live
def test_disassemble_gives_instruction_lines_only(hello):
    import shutil
    if shutil.which("objdump") is None:
        pytest.skip("objdump (binutils) is not installed")
    lines = binary.disassemble(hello)
    assert len(lines) > 10_000
    assert all(":\t" in l and l.startswith(" ") for l in lines)
    # the runtime reads the current g through -8(FS) on linux/amd64
    assert any("%fs:0xfffffffffffffff8" in l for l in lines)
