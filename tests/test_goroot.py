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
