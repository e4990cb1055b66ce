"""The build cache key: every input that changes what `go build` or the C compiler
produces gives a new entry, and the same inputs give the cached one.

The compiler is replaced by a stand-in that writes the executable it is asked for
and records the command, so each case costs milliseconds: these tests check what
`build_go`/`build_c` decide (rebuild or not, which command, which errors), not Go.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gorun_kit import build
from gorun_kit.toolchain import GoToolchain


@pytest.fixture
def compiles(monkeypatch, private_cache):
    """Replace the compiler: each call writes its ``-o`` output and is recorded."""
    calls: list[dict] = []

    def fake(cmd, *, cwd, env=None):
        out = Path(cmd[cmd.index("-o") + 1])
        out.write_bytes(b"\x7fELF stand-in")
        out.chmod(0o755)
        calls.append({"cmd": list(cmd), "cwd": Path(cwd), "env": dict(env or {})})
        return subprocess.CompletedProcess(list(cmd), 0, "", "")

    monkeypatch.setattr(build, "_compile", fake)
    return calls


def toolchain(root: Path, version: str = "go1.27.3") -> GoToolchain:
    root.mkdir(parents=True, exist_ok=True)
    return GoToolchain(go=str(root / "bin" / "go"), goroot=str(root), version=version,
                       goos="linux", goarch="amd64", source="test")


@pytest.fixture
def tc(tmp_path) -> GoToolchain:
    return toolchain(tmp_path / "goroot")


def module(tmp_path: Path, files: dict[str, str]) -> Path:
    """A Go module ``example.test/m`` at ``tmp_path/m`` with ``files`` (path: text)."""
    root = tmp_path / "m"
    for rel, text in {"go.mod": "module example.test/m\n\ngo 1.22\n", **files}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


MAIN = 'package main\n\nimport (\n\t"fmt"\n\t"example.test/m/a"\n)\n\nfunc main() { fmt.Println(a.A) }\n'


def rebuilt(first: build.Binary, second: build.Binary) -> bool:
    """True when the second build made a new entry (checked both ways: key and cache flag)."""
    assert second.cached == (first.key == second.key)
    return not second.cached


def test_same_inputs_hit_the_cache_and_reuse_the_entry(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": MAIN, "a/a.go": 'package a\n\nconst A = 1\n'})
    first = build.build_go(src, go=tc)
    second = build.build_go(src, go=tc)
    assert (first.cached, second.cached, second.path, second.key) == (False, True, first.path, first.key)
    assert len(compiles) == 1
    assert os.path.isfile(second.path) and second.kind == "go" and second.toolchain == "go1.27.3"


@pytest.mark.parametrize("rel, text", [
    ("go.mod", "module example.test/m\n\ngo 1.23\n"),
    ("go.sum", "example.test/x v1.0.0 h1:abc=\n"),
    ("a/a.go", 'package a\n\nconst A = 2\n'),  # a package of the same module that main imports
    ("a/b/b.go", 'package b\n\nconst B = 3\n'),  # ... and one that package imports
    ("a/a.h", "#define X 1\n"),
    ("main_extra.go", "package main\n"),
])
def test_a_changed_input_of_the_module_rebuilds(tmp_path, tc, compiles, rel, text):
    src = module(tmp_path, {"main.go": MAIN,
                            "a/a.go": 'package a\n\nimport _ "example.test/m/a/b"\n\nconst A = 1\n',
                            "a/b/b.go": 'package b\n\nconst B = 1\n'})
    first = build.build_go(src, go=tc)
    (src / rel).write_text(text)
    assert rebuilt(first, build.build_go(src, go=tc))


@pytest.mark.parametrize("spelling", [
    'import "example.test/m/a"',
    'import a "example.test/m/a"',
    'import . "example.test/m/a"',
    'import _ "example.test/m/a"',
    'import (\n\t"os"\n\tx "example.test/m/a"\n)',
])
def test_every_import_spelling_makes_the_package_an_input(tmp_path, tc, compiles, spelling):
    src = module(tmp_path, {"main.go": f"package main\n\n{spelling}\n\nfunc main() {{}}\n",
                            "a/a.go": "package a\n\nconst A = 1\n"})
    first = build.build_go(src / "main.go", go=tc)
    (src / "a" / "a.go").write_text("package a\n\nconst A = 2\n")
    assert rebuilt(first, build.build_go(src / "main.go", go=tc))


def test_what_is_not_an_input_does_not_rebuild(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": MAIN, "a/a.go": "package a\n\nconst A = 1\n",
                            "unused/u.go": "package unused\n", "README.md": "notes\n"})
    first = build.build_go(src, go=tc)
    (src / "unused" / "u.go").write_text("package unused\n\nconst U = 1\n")
    (src / "README.md").write_text("other notes\n")
    assert not rebuilt(first, build.build_go(src, go=tc))


def test_a_program_outside_any_module_is_its_own_input(tmp_path, tc, compiles):
    src = tmp_path / "solo"
    src.mkdir()
    (src / "main.go").write_text("package main\n\nfunc main() {}\n")
    first = build.build_go(src, go=tc)
    assert not rebuilt(first, build.build_go(src, go=tc))
    (src / "main.go").write_text("package main\n\nfunc main() { println() }\n")
    assert rebuilt(first, build.build_go(src, go=tc))


@pytest.mark.parametrize("change", [
    {"gcflags": "all=-N -l"}, {"gcflags": ["-N", "-l"]}, {"ldflags": "-s -w"}, {"tags": ["netgo"]},
    {"goarch": "arm64"}, {"goos": "windows"}, {"cgo": True},
])
def test_each_flag_is_part_of_the_key(tmp_path, tc, compiles, change):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    first = build.build_go(src, go=tc)
    assert rebuilt(first, build.build_go(src, go=tc, **change))


def test_the_goroot_path_and_the_release_are_part_of_the_key(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    first = build.build_go(src, go=tc)
    assert rebuilt(first, build.build_go(src, go=toolchain(tmp_path / "another-goroot")))
    assert rebuilt(first, build.build_go(src, go=toolchain(tmp_path / "goroot", "go1.27.2")))


@pytest.mark.parametrize("name", ["CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH", "PKG_CONFIG_PATH", "CGO_CFLAGS"])
def test_the_c_environment_is_part_of_a_cgo_key_only(tmp_path, tc, compiles, monkeypatch, name):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    monkeypatch.delenv(name, raising=False)
    cgo, plain = build.build_go(src, go=tc, cgo=True), build.build_go(src, go=tc)
    monkeypatch.setenv(name, str(tmp_path / "include"))
    assert rebuilt(cgo, build.build_go(src, go=tc, cgo=True))
    if name != "CGO_CFLAGS":  # CGO_* also changes a pure-Go build's go command line, by design
        assert not rebuilt(plain, build.build_go(src, go=tc))


def test_the_go_command_line_says_what_was_asked(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n", "tool/main.go": "package main\n"})
    repl = tmp_path / "repl.go"
    repl.write_text("package main\n")
    exe = build.build_go(src, go=tc, gcflags=["-N", "-l"], ldflags="-s", tags=["a", "b"],
                         overlay={str(src / "main.go"): str(repl)}, goos="windows")
    cmd, cwd, env = compiles[-1]["cmd"], compiles[-1]["cwd"], compiles[-1]["env"]
    assert cmd[:2] == [tc.go, "build"] and cmd[-1] == "." and cwd == src
    assert cmd[cmd.index("-o") + 1].endswith("/m.exe") and exe.path.endswith("/m.exe")
    assert [a for a in cmd if a.startswith(("-gcflags", "-ldflags", "-tags"))] == \
        ["-gcflags=-N", "-gcflags=-l", "-ldflags=-s", "-tags=a,b"]
    overlay = next(a for a in cmd if a.startswith("-overlay="))
    assert json.loads(Path(overlay.split("=", 1)[1]).read_text())["Replace"] == {str(src / "main.go"): str(repl)}
    assert (env["GOOS"], env["GOARCH"], env["CGO_ENABLED"], env["GOTOOLCHAIN"]) == ("windows", "amd64", "0", "local")
    assert "-mod=mod" in env["GOFLAGS"]  # a module that requires nothing
    assert exe.command[cmd.index("-o") + 1] == exe.path  # the record names the published file

    build.build_go(src / "tool" / "main.go", go=tc, cgo=True)
    cmd, cwd, env = compiles[-1]["cmd"], compiles[-1]["cwd"], compiles[-1]["env"]
    assert (cmd[-1], cwd, env["CGO_ENABLED"], env["GOOS"]) == ("main.go", src / "tool", "1", "linux")
    assert cmd[cmd.index("-o") + 1].endswith("/main") and not any(a.startswith("-tags") for a in cmd)


def test_an_overlay_replacement_is_an_input(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    repl = tmp_path / "repl.go"
    repl.write_text("package main\n\nfunc main() {}\n")
    overlay = {str(src / "main.go"): str(repl)}
    first = build.build_go(src, go=tc, overlay=overlay)
    assert not rebuilt(first, build.build_go(src, go=tc, overlay=overlay))
    repl.write_text("package main\n\nfunc main() { println() }\n")
    assert rebuilt(first, build.build_go(src, go=tc, overlay=overlay))
    deleted = build.build_go(src, go=tc, overlay={str(src / "extra.go"): None})
    assert rebuilt(first, deleted)


def test_overlay_errors_name_the_file(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    with pytest.raises(ValueError, match="must be an absolute path"):
        build.write_overlay({"main.go": str(src / "main.go")})
    with pytest.raises(FileNotFoundError, match="replacement file .*missing.go"):
        build.write_overlay({str(src / "main.go"): str(tmp_path / "missing.go")})
    with pytest.raises(FileNotFoundError, match="overlay file .*nothing.json"):
        build.build_go(src, go=tc, overlay=tmp_path / "nothing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"Other": {}}')
    with pytest.raises(ValueError, match=r"bad\.json.*is not a go -overlay JSON"):
        build.build_go(src, go=tc, overlay=bad)
    assert compiles == []


def test_overlay_json_is_named_by_its_content(private_cache, tmp_path):
    repl = tmp_path / "r.go"
    repl.write_text("package r\n")
    one = build.write_overlay({"/x/a.go": repl})
    assert one == build.write_overlay({"/x/a.go": str(repl)})
    assert one.parent == private_cache.resolve() / "overlays"
    assert json.loads(one.read_text()) == {"Replace": {"/x/a.go": str(repl)}}
    assert build.write_overlay({"/x/a.go": None}) != one


def test_overlays_of_goroot_files_get_a_go_cache_per_goroot(tmp_path, private_cache):
    one, two = toolchain(tmp_path / "go1"), toolchain(tmp_path / "go2")
    inside = {os.path.join(one.goroot, "src", "runtime", "proc.go"): "/x.go"}
    assert build.overlay_gocache(one, {"/elsewhere/main.go": "/x.go"}) is None
    assert build.overlay_gocache(one, {one.goroot + "-other/src/a.go": "/x.go"}) is None
    gocache = build.overlay_gocache(one, inside)
    assert gocache.parent == private_cache.resolve() / "go-build"
    assert gocache == build.overlay_gocache(one, inside) != build.overlay_gocache(two, {
        os.path.join(two.goroot, "src", "runtime", "proc.go"): "/x.go"})


def test_a_goroot_overlay_builds_with_that_go_cache(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    repl = tmp_path / "proc.go"
    repl.write_text("package runtime\n")
    build.build_go(src, go=tc, overlay={os.path.join(tc.goroot, "src", "runtime", "proc.go"): str(repl)})
    assert compiles[-1]["env"]["GOCACHE"] == os.fspath(build.overlay_gocache(
        tc, {os.path.join(tc.goroot, "src", "runtime", "proc.go"): str(repl)}))
    build.build_go(src, go=tc, gocache=tmp_path / "mine")
    assert compiles[-1]["env"]["GOCACHE"] == str(tmp_path / "mine")


def test_bad_go_sources_are_named(tmp_path, tc, compiles):
    with pytest.raises(FileNotFoundError, match="Go source .*nowhere.* does not exist"):
        build.build_go(tmp_path / "nowhere", go=tc)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"notes\.txt.* is not a \.go file or a directory"):
        build.build_go(tmp_path / "notes.txt", go=tc)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.c").write_text("int x;\n")
    with pytest.raises(ValueError, match="empty.* contains no .go files"):
        build.build_go(tmp_path / "empty", go=tc)
    assert compiles == []


def test_a_failed_compile_raises_with_its_messages_and_leaves_no_entry(tmp_path, tc, monkeypatch, private_cache):
    src = module(tmp_path, {"main.go": "package main\n"})

    def failing(cmd, *, cwd, env=None):
        return subprocess.CompletedProcess(list(cmd), 1, "out\n", "./main.go:3:5: undefined: x\n")

    monkeypatch.setattr(build, "_compile", failing)
    with pytest.raises(build.BuildError) as info:
        build.build_go(src, go=tc)
    err = info.value
    assert err.what == os.fspath(src) and err.command[:2] == (tc.go, "build")
    assert err.output == "./main.go:3:5: undefined: x\nout\n"
    assert err.diagnostics == (build.Diagnostic("./main.go", 3, 5, "undefined: x"),)
    assert str(err) == f"build of {src} failed:\n./main.go:3:5: undefined: x\nout"
    assert not list((private_cache / "build").rglob("meta.json"))
    assert not any((private_cache / "tmp").iterdir())


def test_parse_diagnostics_reads_file_line_column_lines_only():
    out = "# example\n  a.go:12: missing return\nb/c.go:3:14: syntax error\nnote: not one\n:1: no file\n"
    assert build.parse_diagnostics(out) == [build.Diagnostic("a.go", 12, None, "missing return"),
                                            build.Diagnostic("b/c.go", 3, 14, "syntax error")]


def test_module_requires_nothing(tmp_path):
    assert not build.module_requires_nothing(tmp_path)  # no module at all
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.22\n")
    (tmp_path / "sub").mkdir()
    assert build.module_requires_nothing(tmp_path / "sub")
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.22\n\nrequire example.test/y v1.0.0\n")
    assert not build.module_requires_nothing(tmp_path / "sub")
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.22\n\n  require (\n\texample.test/y v1.0.0\n)\n")
    assert not build.module_requires_nothing(tmp_path)


def test_a_damaged_entry_is_rebuilt_and_replaced(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    first = build.build_go(src, go=tc)
    meta = Path(first.path).parent / "meta.json"
    for damage in ("{}", '{"path": 1}', meta.read_text()[:20], json.dumps({**json.loads(meta.read_text()),
                                                                          "command": "go build"})):
        meta.write_text(damage)
        again = build.build_go(src, go=tc)
        assert (again.cached, again.key, again.path) == (False, first.key, first.path)
        assert build.build_go(src, go=tc).cached
    os.unlink(first.path)
    assert not build.build_go(src, go=tc).cached
    assert len(compiles) == 6


def test_an_entry_is_readable_by_everyone(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    entry = Path(build.build_go(src, go=tc).path).parent
    assert entry.stat().st_mode & 0o777 == 0o755
    entry.chmod(0o700)  # as entries were published before they were made readable
    assert build.build_go(src, go=tc).cached and entry.stat().st_mode & 0o777 == 0o755


def test_c_environment_and_flags_are_part_of_a_c_key(tmp_path, compiles, monkeypatch):
    src = tmp_path / "p.c"
    src.write_text("int main(void) { return 0; }\n")
    monkeypatch.delenv("CPATH", raising=False)
    first = build.build_c(src)
    assert not rebuilt(first, build.build_c(str(src)))
    monkeypatch.setenv("CPATH", str(tmp_path))
    assert rebuilt(first, build.build_c(src))
    monkeypatch.delenv("CPATH")
    for change in ({"cflags": ["-O2"]}, {"ldflags": ["-lm"]}, {"shared": True}):
        assert rebuilt(first, build.build_c(src, **change))


def test_c_outputs_are_named_as_the_platform_expects(tmp_path, compiles):
    src = tmp_path / "hook.c"
    src.write_text("int f(void) { return 0; }\n")
    assert Path(build.build_c(src).path).name == "hook"
    lib = build.build_c(src, shared=True)
    assert (Path(lib.path).name, lib.kind) == ("libhook.so", "c-shared")
    assert {"-shared", "-fPIC"} <= set(compiles[-1]["cmd"])
    assert Path(build.build_c(src, shared=True, name="libx").path).name == "libx.so"
    assert Path(build.build_c(src, name="tool").path).name == "tool"
    with pytest.raises(ValueError, match="cross='mac'.*supported cross targets"):
        build.build_c(src, cross="mac")
    with pytest.raises(FileNotFoundError, match="C source .*gone.c"):
        build.build_c([src, tmp_path / "gone.c"])
    with pytest.raises(ValueError, match="at least one source"):
        build.build_c([])


def test_the_module_path_is_read_as_go_writes_it(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": MAIN, "a/a.go": "package a\n\nconst A = 1\n"})
    (src / "go.mod").write_text('// a comment first\nmodule "example.test/m"\n\ngo 1.22\n')
    first = build.build_go(src, go=tc)
    (src / "a" / "a.go").write_text("package a\n\nconst A = 2\n")
    assert rebuilt(first, build.build_go(src, go=tc))
    (src / "go.mod").write_text("go 1.22\n")  # no module line: nothing of the module is followed
    build.build_go(src, go=tc)


def test_a_source_that_is_not_utf8_is_still_read_for_imports(tmp_path, tc, compiles):
    src = module(tmp_path, {"a/a.go": "package a\n\nconst A = 1\n"})
    (src / "main.go").write_bytes(b'package main\n\n// \xff\xfe latin-1 comment\nimport "example.test/m/a"\n\n'
                                  b"func main() {}\n")
    first = build.build_go(src, go=tc)
    (src / "a" / "a.go").write_text("package a\n\nconst A = 2\n")
    assert rebuilt(first, build.build_go(src, go=tc))


def test_every_header_a_c_program_includes_is_an_input(tmp_path, compiles):
    d = tmp_path / "c"
    d.mkdir()
    (d / "p.c").write_text('#include "a.h"\n#include "x.hpp"\nint main(void) { return 0; }\n')
    (d / "a.h").write_text("#define A 1\n")
    (d / "x.hpp").write_text("#define X 1\n")
    (d / "c.h").write_text("#define C 1\n")
    first = build.build_c(d / "p.c")
    (d / "x.hpp").write_text("#define X 2\n")
    second = build.build_c(d / "p.c")
    assert rebuilt(first, second)
    (d / "c.h").write_text("#define C 2\n")  # not included (yet)
    assert not rebuilt(second, build.build_c(d / "p.c"))
    (d / "a.h").write_text('#include "c.h"\n#define A 2\n')  # now a.h brings in c.h
    third = build.build_c(d / "p.c")
    assert rebuilt(second, third)
    (d / "c.h").write_text("#define C 3\n")
    assert rebuilt(third, build.build_c(d / "p.c"))


def test_when_the_preprocessor_fails_every_header_beside_the_source_is_an_input(tmp_path, compiles):
    d = tmp_path / "c"
    d.mkdir()
    (d / "p.c").write_text('#include "missing.h"\nint main(void) { return 0; }\n')
    (d / "other.h").write_text("#define O 1\n")
    first = build.build_c(d / "p.c")
    (d / "other.h").write_text("#define O 2\n")
    assert rebuilt(first, build.build_c(d / "p.c"))
