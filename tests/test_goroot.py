"""gorun_kit.goroot: citations resolved in a GOROOT, and the function around a line."""
from __future__ import annotations

from pathlib import Path

import pytest

from gorun_kit import goroot
from gorun_kit.toolchain import GoToolchain

GO_FILE = """package runtime

var x = newosproc0(1, 2)

func libInit() {
\tif ok {
\t\tnewosproc0(stackSize, fn)
\t}
}

func (mp *m) method() {
\tnewosproc0(0, 0)
}
"""

ASM_FILE = """#include "textflag.h"

TEXT _rt0_amd64_lib(SB),NOSPLIT|NOFRAME,$0
\tMOVQ\t$runtime\u00b7newosproc0(SB), AX
\tCALL\tAX
\tRET

TEXT runtime\u00b7other(SB),NOSPLIT,$0
\tCALL\truntime\u00b7newosproc0(SB)
"""


@pytest.fixture
def fake(tmp_path) -> GoToolchain:
    src = tmp_path / "src" / "runtime"
    src.mkdir(parents=True)
    (src / "libinit.go").write_text(GO_FILE)
    (src / "asm_amd64.s").write_text(ASM_FILE)
    return GoToolchain(go="/nonexistent/go", goroot=str(tmp_path), version="go1.99", goos="linux",
                       goarch="amd64", source="test")


def test_enclosing_names_go_functions_methods_and_asm_text(fake):
    hits = goroot.grep(r"newosproc0\(", toolchain=fake)
    where = {(Path(c.file).name, c.line): c for c in hits}
    assert set(where) == {("libinit.go", 3), ("libinit.go", 7), ("libinit.go", 12),
                          ("asm_amd64.s", 4), ("asm_amd64.s", 9)}
    assert goroot.enclosing(where["libinit.go", 7], toolchain=fake) == "libInit"
    assert goroot.enclosing(where["libinit.go", 12], toolchain=fake) == "method"
    assert goroot.enclosing(where["asm_amd64.s", 4], toolchain=fake) == "_rt0_amd64_lib"
    assert goroot.enclosing(where["asm_amd64.s", 9], toolchain=fake) == "other"
    with pytest.raises(goroot.SourceNotFound, match="libinit.go:3 is not inside a function in go1.99"):
        goroot.enclosing(where["libinit.go", 3], toolchain=fake)


def test_enclosing_in_the_installed_goroot(go):
    newm1 = goroot.find_func("newm1")
    body = goroot.func_source(newm1).splitlines()
    inner = goroot.Citation(newm1.file, newm1.line + len(body) - 2, "newm1", body[-2].strip(), go.version)
    assert goroot.enclosing(inner) == "newm1"


# ------------------------------------------------- call chains, constants, digests

CHAIN_FILES = {
    "exec_bsd.go": "package syscall\n\nfunc spawn() {\n\tbsdOnly()\n}\n",
    "exec_linux.go": "package syscall\n\nfunc spawn() {\n\tx := 1\n\tclone(x)\n}\n",
    "exec_unix.go": ("package syscall\n\nfunc Start() {\n\tspawn()\n}\n\nfunc Gone() {\n\tnothing()\n}\n\n"
                     "const (\n\tflags = _A | /* first */\n\t\t_B | // second\n\t\t_C\n\tother = 3\n)\n"),
}


@pytest.fixture
def fake_syscall(tmp_path) -> GoToolchain:
    src = tmp_path / "src" / "syscall"
    src.mkdir(parents=True)
    for name, text in CHAIN_FILES.items():
        (src / name).write_text(text)
    return GoToolchain(go="/nonexistent/go", goroot=str(tmp_path), version="go1.99", goos="linux",
                       goarch="amd64", source="test")


def test_find_func_takes_this_systems_file_before_another_systems(fake_syscall):
    assert goroot.find_func("spawn", "syscall", toolchain=fake_syscall).file == "src/syscall/exec_linux.go"
    # without a goos the first file in name order wins, as before
    assert goroot.find_func("spawn", "syscall", goos=None, toolchain=fake_syscall).file == "src/syscall/exec_bsd.go"


def test_call_chain_cites_each_call_and_shows_where_a_chain_broke(fake_syscall):
    chain = goroot.call_chain([("syscall", "Start", "spawn("), ("syscall", "spawn", "clone("),
                               ("syscall", "Gone", "clone(")], toolchain=fake_syscall)
    assert [(l.function.symbol, l.function.line) for l in chain] == [
        ("syscall.Start", 3), ("syscall.spawn", 3), ("syscall.Gone", 7)]
    assert (chain[0].call.file, chain[0].call.line, chain[0].call.text) == ("src/syscall/exec_unix.go", 4, "spawn()")
    assert (chain[1].call.file, chain[1].call.line) == ("src/syscall/exec_linux.go", 5)
    assert chain[2].call is None
    with pytest.raises(goroot.SourceNotFound, match="func Missing"):
        goroot.call_chain([("syscall", "Missing", "x(")], toolchain=fake_syscall)


def test_constant_reads_a_multiline_expression_without_comments(fake_syscall):
    c = goroot.constant("flags", "syscall", toolchain=fake_syscall)
    assert c.expression == "_A | _B | _C" and c.names == ("_A", "_B", "_C")
    assert (c.citation.file, c.citation.line, c.citation.symbol) == ("src/syscall/exec_unix.go", 12, "syscall.flags")
    assert goroot.constant("other", "syscall", toolchain=fake_syscall).expression == "3"
    with pytest.raises(goroot.SourceNotFound, match="const nothere"):
        goroot.constant("nothere", "syscall", toolchain=fake_syscall)


def test_digest_changes_with_any_file_and_only_then(fake_syscall):
    first = goroot.digest("syscall", toolchain=fake_syscall)
    assert goroot.digest("syscall", toolchain=fake_syscall) == first
    path = Path(fake_syscall.goroot, "src", "syscall", "exec_bsd.go")
    path.write_text(path.read_text() + "// one more line\n")
    assert goroot.digest("syscall", toolchain=fake_syscall) != first
    with pytest.raises(goroot.SourceNotFound, match="src/nothere"):
        goroot.digest("nothere", toolchain=fake_syscall)


def test_clone_flags_and_the_spawn_chain_in_the_installed_goroot(go):
    flags = goroot.constant("cloneFlags")
    assert flags.citation.file.endswith("runtime/os_linux.go")
    assert {"_CLONE_VM", "_CLONE_THREAD"} <= set(flags.names)
    chain = goroot.call_chain([("syscall", "forkAndExecInChild", "forkAndExecInChild1("),
                               ("syscall", "forkAndExecInChild1", "rawVforkSyscall(SYS_CLONE")])
    assert all(l.function.file.endswith("exec_linux.go") and l.call for l in chain)


def test_find_func_skips_wasm_files_on_linux(go):
    # os_wasm.go defines preemptM too; on linux the one compiled is signal_unix.go's
    assert goroot.find_func("preemptM").file.endswith("signal_unix.go")
