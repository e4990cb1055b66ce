"""The virtual filesystem and the path ports under the LookPath models."""
from __future__ import annotations

import os
import stat

import pytest

from gorun_kit import lookpath as lp
from gorun_kit.lookpath import unix, windows
from gorun_kit.lookpath.vfs import FsError


def test_vfs_is_immutable_and_creates_parents():
    empty = lp.default_fs("linux")
    fs = empty.file("/a/b/tool", 0o700, uid=5, gid=6)
    assert empty.entries == () and {e.path for e in fs.entries} == {"/a", "/a/b", "/a/b/tool"}
    node = fs.lookup("b/tool", cwd="/a")
    assert (node.kind, node.mode, node.uid, node.gid) == ("file", 0o700, 5, 6)


def test_lookup_errors_follow_linux():
    fs = (lp.default_fs("linux").file("/f").dir("/locked", 0o700).file("/locked/x")
          .symlink("/loop", "/loop").symlink("/l", "f"))
    with pytest.raises(FsError) as e:
        fs.lookup("/f/x", cwd="/")
    assert e.value.code == "ENOTDIR"
    with pytest.raises(FsError) as e:
        fs.lookup("/locked/x", cwd="/", uid=1000, gid=1000)
    assert e.value.code == "EACCES"
    assert fs.lookup("/locked/x", cwd="/").kind == "file"  # root may search any directory
    with pytest.raises(FsError) as e:
        fs.lookup("/loop", cwd="/")
    assert e.value.code == "ELOOP"
    assert fs.lookup("/l", cwd="/").path == ("f",)
    with pytest.raises(FsError) as e:
        fs.lookup("/f/", cwd="/")
    assert e.value.code == "ENOTDIR"


def test_case_rules():
    assert lp.default_fs("darwin").file("/bin/Tool").lookup("/BIN/tool", cwd="/").kind == "file"
    with pytest.raises(FsError):
        lp.default_fs("linux").file("/bin/Tool").lookup("/bin/tool", cwd="/")
    assert lp.default_fs("windows").file("C:\\Bin\\T.EXE").lookup("c:/bin/t.exe", cwd="C:\\").kind == "file"


@pytest.mark.skipif(os.geteuid() != 0, reason="setting owners needs root")
def test_materialise_writes_modes_owners_and_links(tmp_path):
    fs = (lp.default_fs("linux").dir("/d", 0o711, uid=65534, gid=65534).file("/d/x", 0o640, uid=1, gid=2)
          .symlink("/d/abs", "/d/x").symlink("/d/rel", "x"))
    fs.materialise(tmp_path)
    st = os.stat(tmp_path / "d" / "x")
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1, 2)
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o711
    assert os.readlink(tmp_path / "d" / "abs") == f"{tmp_path}/d/x"  # kept inside the scenario
    assert os.path.samefile(tmp_path / "d" / "rel", tmp_path / "d" / "x")


@pytest.mark.parametrize("args,want", [
    (("/a", "b/../c"), "/a/c"), (("", "x"), "x"), ((".", "x"), "x"), (("//a/", "x"), "/a/x"),
    (("..", "x"), "../x"), (("/", ".."), "/"),
])
def test_unix_join_is_go_join(args, want):
    assert unix.join(*args) == want


@pytest.mark.parametrize("args,want", [
    # examples from Go's path/filepath documentation and path_windows.go comments
    (("C:", "f"), "C:f"), (("C:", "\\f"), "C:\\f"), (("a\\..", "c:"), ".\\c:"),
    (("C:\\a", "..\\..\\b"), "C:\\b"), ((".", "tool"), "tool"), (("C:/x/", "y"), "C:\\x\\y"),
    (("\\a", "b"), "\\a\\b"), (("..\\..", "x"), "..\\..\\x"),
])
def test_windows_join_is_go_join(args, want):
    assert windows.join(*args) == want


def test_windows_abs_and_ext():
    assert windows.is_abs("C:\\x") and not windows.is_abs("\\x") and not windows.is_abs("C:x")
    assert windows.has_ext("a.b") and not windows.has_ext("a.b\\c") and not windows.has_ext("tool")
    assert windows.path_ext(".EXE;;bat") == [".exe", ".bat"] and windows.path_ext("") == list(windows.DEFAULT_PATHEXT)
    with pytest.raises(ValueError, match="UNC"):
        windows.clean("\\\\host\\share\\x")
