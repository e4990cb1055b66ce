"""Edges of the build cache the main key tests pass by: a module path that ends in a
quote-like character, overlay files named by their mapping whatever its order, two
sources alike in size and time, sources alike in text but not in name, and the
message for no source at all. The compiler is the recording stand-in of
``test_build_cache_key``; header discovery asks the real C compiler."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gorun_kit import build
from test_build_cache_key import compiles, module, rebuilt, tc  # noqa: F401

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="header discovery needs a C compiler (cc -MM)")


def test_a_module_path_ending_in_an_upper_case_x_is_followed(tmp_path, tc, compiles):
    root = tmp_path / "m"
    for rel, text in {"go.mod": "module example.test/boX\n\ngo 1.22\n",
                      "main.go": 'package main\n\nimport "example.test/boX/a"\n\nfunc main() { println(a.A) }\n',
                      "a/a.go": "package a\n\nconst A = 1\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    first = build.build_go(root, go=tc)
    (root / "a" / "a.go").write_text("package a\n\nconst A = 2\n")
    assert rebuilt(first, build.build_go(root, go=tc))


def test_overlays_deleting_different_files_are_different_builds(tmp_path, tc, compiles):
    root = tmp_path / "m"
    root.mkdir()
    (root / "go.mod").write_text("module example.test/m\n\ngo 1.22\n")
    for name in ("main.go", "x.go", "y.go"):
        (root / name).write_text("package main\n" + ("\nfunc main() {}\n" if name == "main.go" else ""))
    without_x = build.build_go(root, go=tc, overlay={str(root / "x.go"): None})
    without_y = build.build_go(root, go=tc, overlay={str(root / "y.go"): None})
    assert rebuilt(without_x, without_y)


def test_an_overlay_is_named_by_its_mapping_whatever_the_order(private_cache, tmp_path):
    a, b = tmp_path / "a.go", tmp_path / "b.go"
    a.write_text("package a\n")
    b.write_text("package b\n")
    one = build.write_overlay({"/x/a.go": a, "/x/b.go": b})
    assert build.write_overlay({"/x/b.go": b, "/x/a.go": a}) == one
    assert len(list(one.parent.iterdir())) == 1


@needs_cc
def test_sources_alike_in_size_and_time_keep_their_own_headers(tmp_path, compiles):
    one, two = tmp_path / "one", tmp_path / "two"
    for d, header in ((one, "x.h"), (two, "y.h")):
        d.mkdir()
        (d / header).write_text("#define H 1\n")
        (d / "p.c").write_text(f'#include "{header}"\nint main(void) {{ return 0; }}\n')
    st = (one / "p.c").stat()
    os.utime(two / "p.c", ns=(st.st_atime_ns, st.st_mtime_ns))  # as a copy that keeps times leaves them
    build.build_c(one / "p.c")
    first = build.build_c(two / "p.c")
    (two / "y.h").write_text("#define H 2\n")
    assert rebuilt(first, build.build_c(two / "p.c"))


def test_sources_alike_in_text_are_built_each_under_its_own_name(tmp_path, compiles):
    a, b = tmp_path / "a.c", tmp_path / "b.c"
    for p in (a, b):
        p.write_text("int main(void) { return 0; }\n")
    built = build.build_c(a), build.build_c(b)
    assert [Path(x.path).name for x in built] == ["a", "b"]
    assert not built[1].cached and built[0].key != built[1].key


def test_no_source_at_all_is_refused_saying_so(private_cache):
    with pytest.raises(ValueError) as err:
        build.build_c([])
    assert str(err.value) == "build_c needs at least one source file"


# ------------------------------------------------------------------ what the module decides


@pytest.mark.parametrize("rel, text", [("go.mod", "module example.test/m\n\ngo 1.23\n"),
                                       ("go.sum", "example.test/x v1.0.0 h1:abc=\n")])
def test_the_module_files_are_inputs_of_a_program_below_them(tmp_path, tc, compiles, rel, text):
    src = module(tmp_path, {"cmd/app/main.go": "package main\n\nfunc main() {}\n", "go.sum": ""})
    for target in (src / "cmd" / "app", src / "cmd" / "app" / "main.go"):
        first = build.build_go(target, go=tc)
        (src / rel).write_text(text + str(target))
        assert rebuilt(first, build.build_go(target, go=tc)), (rel, target)


def test_a_standard_import_does_not_make_the_module_root_an_input(tmp_path, tc, compiles):
    # "os" is shorter than the module path; it names no package of the module.
    src = module(tmp_path, {"cmd/app/main.go": 'package main\n\nimport "os"\n\nfunc main() { os.Exit(0) }\n',
                            "root.go": "package m\n"})
    first = build.build_go(src / "cmd" / "app", go=tc)
    (src / "root.go").write_text("package m\n\nconst R = 1\n")
    assert not rebuilt(first, build.build_go(src / "cmd" / "app", go=tc))


def test_a_package_whose_name_starts_with_x_is_followed(tmp_path, tc, compiles):
    src = module(tmp_path, {"main.go": 'package main\n\nimport "example.test/m/X11"\n\nfunc main() { _ = X11.D }\n',
                            "X11/x.go": "package X11\n\nconst D = 1\n"})
    first = build.build_go(src, go=tc)
    (src / "X11" / "x.go").write_text("package X11\n\nconst D = 2\n")
    assert rebuilt(first, build.build_go(src, go=tc))


def test_imports_go_cannot_build_are_left_for_go_to_report(tmp_path, tc, compiles):
    # A missing package and an import cycle are Go's errors to name; reading the imports
    # for the cache key neither fails on them nor loops.
    src = module(tmp_path, {"main.go": 'package main\n\nimport (\n\t"example.test/m/gone"\n\t"example.test/m/a"\n)\n',
                            "a/a.go": 'package a\n\nimport "example.test/m/b"\n',
                            "b/b.go": 'package b\n\nimport "example.test/m/a"\n'})
    first = build.build_go(src, go=tc)
    assert len(compiles) == 1
    (src / "b" / "b.go").write_text('package b\n\nimport "example.test/m/a"\n\nconst B = 1\n')
    assert rebuilt(first, build.build_go(src, go=tc))


def test_the_same_bytes_in_another_place_are_another_build(tmp_path, tc, compiles):
    # A Go binary records its source paths (DWARF, panics' file:line): a copy elsewhere differs.
    files = {"main.go": "package main\n\nfunc main() {}\n"}
    here, there = module(tmp_path / "here", files), module(tmp_path / "there", files)
    first = build.build_go(here, go=tc)
    assert rebuilt(first, build.build_go(there, go=tc))
    assert not rebuilt(first, build.build_go(here, go=tc))


def test_a_package_directory_with_a_dot_names_the_program_in_full(tmp_path, tc, compiles):
    src = module(tmp_path, {"tool.v2/main.go": "package main\n\nfunc main() {}\n"})
    assert Path(build.build_go(src / "tool.v2", go=tc).path).name == "tool.v2"
    assert Path(build.build_go(src / "tool.v2" / "main.go", go=tc).path).name == "main"
    assert Path(build.build_go(src / "tool.v2", go=tc, goos="windows").path).name == "tool.v2.exe"


def test_go_keeps_its_work_files_inside_the_build_s_own_directory(tmp_path, tc, compiles, private_cache):
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    build.build_go(src, go=tc)
    (call,) = compiles
    out = Path(call["cmd"][call["cmd"].index("-o") + 1])
    assert call["env"]["GOTMPDIR"] == str(out.parent)
    assert out.parent.is_relative_to(private_cache)


def test_an_entry_open_to_all_is_used_without_changing_it(tmp_path, tc, compiles, monkeypatch):
    # In a cache shared with another user, that user's entries cannot be chmod-ed.
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    first = build.build_go(src, go=tc)
    entry = Path(first.path).parent
    entry.chmod(0o775)

    def refuse(self, mode, **kw):
        raise PermissionError(1, "Operation not permitted", str(self))

    monkeypatch.setattr(Path, "chmod", refuse)
    again = build.build_go(src, go=tc)
    assert (again.cached, again.path) == (True, first.path)
    assert entry.stat().st_mode & 0o777 == 0o775


def test_a_build_that_loses_the_race_returns_the_winner(tmp_path, tc, compiles, monkeypatch, private_cache):
    # Another process publishes the same entry between our check and our rename.
    src = module(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    won = build.build_go(src, go=tc)
    entry = Path(won.path).parent
    saved = tmp_path / "winner"
    shutil.copytree(entry, saved)
    shutil.rmtree(entry)
    rename = os.rename

    def racing(src_path, dst_path):
        if Path(dst_path) == entry and not entry.exists():
            shutil.copytree(saved, entry)
            (entry / "winner-mark").write_text("")
        return rename(src_path, dst_path)

    monkeypatch.setattr(build.os, "rename", racing)
    got = build.build_go(src, go=tc)
    assert (entry / "winner-mark").exists()
    assert got.path == won.path and got.key == won.key and Path(got.path).is_file()
    assert list((private_cache / "tmp").iterdir()) == []  # our own work was removed
