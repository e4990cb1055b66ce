"""The build cache: compiler errors carried through, hits, misses, atomic entries."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from gorun_kit import build
from gorun_kit.build import BuildError

pytestmark = pytest.mark.live

HELLO_GO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi from %s") }\n'


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def entries(cache: Path) -> list[Path]:
    return sorted(p.parent for p in (cache / "build").rglob("meta.json"))


def test_broken_go_file_raises_with_compiler_messages(go, tmp_path, private_cache):
    src = tmp_path / "broken.go"
    src.write_text("package main\n\nfunc main() {\n\tundefinedThing()\n}\n")
    with pytest.raises(BuildError) as err:
        build.build_go(src)
    diag = err.value.diagnostics
    assert any(d.line == 4 and "undefined: undefinedThing" in d.message for d in diag), err.value.output
    assert "broken.go:4" in str(err.value)
    assert entries(private_cache) == [], "a failed build must not leave an entry"


def test_broken_c_file_raises_with_compiler_messages(tmp_path, private_cache):
    src = tmp_path / "broken.c"
    src.write_text("int main(void)\n{\n\treturn missing_symbol;\n}\n")
    with pytest.raises(BuildError) as err:
        build.build_c(src)
    assert any(d.file.endswith("broken.c") and d.line == 3 for d in err.value.diagnostics), err.value.output
    assert "missing_symbol" in err.value.output


def test_same_inputs_hit_and_one_byte_change_misses(go, tmp_path, private_cache):
    tree = tmp_path / "src"
    tree.mkdir()
    src = tree / "hello.go"
    src.write_text(HELLO_GO % "a")
    before = tree_digest(tree)
    first = build.build_go(src)
    second = build.build_go(src)
    assert not first.cached and second.cached
    assert first.path == second.path
    assert first.key == second.key
    assert subprocess.run([first.path], capture_output=True, text=True).stdout == "hi from a\n"

    src.write_text(HELLO_GO % "b")  # one byte differs
    third = build.build_go(src)
    assert not third.cached and third.key != first.key
    assert subprocess.run([third.path], capture_output=True, text=True).stdout == "hi from b\n"
    assert len(entries(private_cache)) == 2
    # The source tree holds only what we wrote: no binaries, no go.sum.
    src.write_text(HELLO_GO % "a")
    assert tree_digest(tree) == before


def test_flags_are_part_of_the_key(go, tmp_path, private_cache):
    src = tmp_path / "hello.go"
    src.write_text(HELLO_GO % "x")
    plain = build.build_go(src)
    stripped = build.build_go(src, ldflags="-s -w")
    assert plain.key != stripped.key
    assert "-ldflags=-s -w" in stripped.command


def test_build_affecting_environment_is_part_of_the_key(go, tmp_path, private_cache, monkeypatch):
    src = tmp_path / "hello.go"
    src.write_text(HELLO_GO % "env")
    plain = build.build_go(src)
    monkeypatch.setenv("GOFLAGS", "-trimpath")
    trimmed = build.build_go(src)
    assert not trimmed.cached and trimmed.key != plain.key
    # -trimpath really reached go build: the binary names no directory of ours
    assert str(tmp_path).encode() in Path(plain.path).read_bytes()
    assert str(tmp_path).encode() not in Path(trimmed.path).read_bytes()
    monkeypatch.delenv("GOFLAGS")
    monkeypatch.setenv("GOPROXY", "off")  # where modules come from, not what is built
    assert build.build_go(src).cached


def test_a_header_in_another_directory_is_part_of_the_key(tmp_path, private_cache):
    (tmp_path / "inc").mkdir()
    header = tmp_path / "inc" / "word.h"
    header.write_text('#define WORD "one"\n')
    src = tmp_path / "main.c"
    src.write_text('#include <stdio.h>\n#include "inc/word.h"\nint main(void) { puts(WORD); return 0; }\n')
    first = build.build_c(src)
    assert subprocess.run([first.path], capture_output=True, text=True).stdout == "one\n"
    assert build.build_c(src).cached
    header.write_text('#define WORD "two"\n')
    second = build.build_c(src)
    assert not second.cached and second.key != first.key
    assert subprocess.run([second.path], capture_output=True, text=True).stdout == "two\n"


def test_changed_overlay_file_rebuilds(go, tmp_path, private_cache):
    src = tmp_path / "hello.go"
    src.write_text(HELLO_GO % "original")
    replacement = tmp_path / "replacement.go"
    replacement.write_text(HELLO_GO % "overlay one")
    goroot_digest = tree_digest(Path(go.goroot, "src", "os", "exec"))

    one = build.build_go(src, overlay={str(src): str(replacement)})
    assert subprocess.run([one.path], capture_output=True, text=True).stdout == "hi from overlay one\n"
    again = build.build_go(src, overlay={str(src): str(replacement)})
    assert again.cached and again.key == one.key

    replacement.write_text(HELLO_GO % "overlay two")  # same overlay JSON, new contents
    two = build.build_go(src, overlay={str(src): str(replacement)})
    assert not two.cached and two.key != one.key
    assert subprocess.run([two.path], capture_output=True, text=True).stdout == "hi from overlay two\n"
    assert tree_digest(Path(go.goroot, "src", "os", "exec")) == goroot_digest


def test_interrupted_build_leaves_no_entry(go, tmp_path, private_cache, monkeypatch):
    src = tmp_path / "hello.go"
    src.write_text(HELLO_GO % "interrupted")
    real_compile = build._compile

    def interrupted(cmd, *args, **kwargs):
        real_compile(cmd, *args, **kwargs)  # the compiler really wrote its output...
        raise KeyboardInterrupt  # ...and then the user pressed Ctrl-C

    monkeypatch.setattr(build, "_compile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build.build_go(src)
    monkeypatch.setattr(build, "_compile", real_compile)
    assert entries(private_cache) == []
    assert list((private_cache / "tmp").iterdir()) == [], "the temporary build directory must be removed"
    assert not build.build_go(src).cached  # and the next call builds it properly


def test_a_directory_without_meta_is_not_an_entry(go, tmp_path, private_cache):
    src = tmp_path / "hello.go"
    src.write_text(HELLO_GO % "partial")
    first = build.build_go(src)
    entry = Path(first.path).parent
    (entry / "meta.json").unlink()  # as if a crash happened before the entry was complete
    rebuilt = build.build_go(src)
    assert not rebuilt.cached and Path(rebuilt.path).is_file()


def test_lab_programs_build_with_the_pinned_toolchain(go, repo, private_cache):
    hello = build.build_go(repo / "labs_go" / "hello")
    out = subprocess.run([hello.path], capture_output=True, text=True).stdout
    assert out == f"hello from {go.goos}/{go.goarch} built by {go.version}\n"
    c_hello = build.build_c(repo / "labs_c" / "hello" / "hello.c")
    assert subprocess.run([c_hello.path], capture_output=True, text=True).stdout.startswith("hello from C, pid ")


def test_labs_makefile_builds_into_build_dir(repo, tmp_path):
    proc = subprocess.run(["make", "-C", str(repo / "labs_c"), "build/hello"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "labs_c" / "build" / "hello").is_file()
    assert not (repo / "labs_c" / "hello" / "hello").exists()


def test_bad_inputs_are_named(tmp_path, private_cache):
    with pytest.raises(FileNotFoundError, match="nope.go"):
        build.build_go(tmp_path / "nope.go")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a .go file"):
        build.build_go(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="missing.c"):
        build.build_c(tmp_path / "missing.c")
    (tmp_path / "ok.c").write_text("int main(void) { return 0; }\n")
    with pytest.raises(ValueError, match="cross='plan9'"):
        build.build_c(tmp_path / "ok.c", cross="plan9")
    with pytest.raises(ValueError, match="absolute"):
        build.write_overlay({"relative/path.go": str(tmp_path / "notes.txt")})
