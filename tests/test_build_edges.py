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
from test_build_cache_key import compiles, rebuilt, tc  # noqa: F401

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
