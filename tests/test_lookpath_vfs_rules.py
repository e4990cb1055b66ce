"""The virtual filesystem's rules at their edges: which entries it refuses, how a
lookup treats a trailing separator, the root and case, and what materialise
writes when the scenario is unusual (no parent entries, links above their targets).
"""
from __future__ import annotations

import os
import stat

import pytest

from gorun_kit.lookpath.vfs import NAME_MAX, VFS, Entry, FsError


def code_of(fs: VFS, path: str, *, cwd: str = "/", **kw) -> str:
    try:
        fs.lookup(path, cwd=cwd, **kw)
    except FsError as exc:
        return exc.code
    return "ok"


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# ---------------------------------------------------------------- refusing entries


def test_the_longest_name_is_found_wherever_it_is():
    with pytest.raises(ValueError, match=f"a name of {NAME_MAX + 1} bytes"):
        VFS.posix().file("/z/" + "a" * (NAME_MAX + 1))
    with pytest.raises(ValueError, match=f"a name of {NAME_MAX + 1} bytes"):
        VFS.posix().file("/" + "a" * (NAME_MAX + 1) + "/z")
    with pytest.raises(ValueError, match=f"a name of {NAME_MAX + 1} bytes"):
        VFS.windows().file("C:\\z\\" + "a" * (NAME_MAX + 1) + "\\b")


@pytest.mark.parametrize("root", ["C:\\", "C:/", "d:\\"])
def test_a_windows_drive_root_cannot_be_an_entry(root):
    with pytest.raises(ValueError, match=r"cannot replace the root directory"):
        VFS.windows().dir(root)


@pytest.mark.parametrize("path", ["C:", "C:x", "\\x", "x", ""])
def test_a_windows_entry_needs_a_drive_and_a_separator(path):
    with pytest.raises(ValueError, match="must be absolute"):
        VFS.windows().file(path)


def test_case_insensitive_parents_are_shared():
    fs = VFS.posix(case_sensitive=False).file("/Bin/t").file("/bin/u")
    assert [e.path for e in fs.entries] == ["/Bin", "/Bin/t", "/bin/u"]
    assert fs.lookup("/BIN/U", cwd="/").path == ("bin", "u")
    win = VFS.windows().file("C:\\Go\\t.exe").file("c:\\go\\u.exe")
    assert [e.path for e in win.entries] == ["C:\\Go", "C:\\Go\\t.exe", "c:\\go\\u.exe"]


def test_a_case_sensitive_filesystem_keeps_both_spellings_apart():
    fs = VFS.posix().file("/a/Tool", 0o700).file("/a/tool", 0o644)
    assert fs.lookup("/a/Tool", cwd="/").mode == 0o700 and fs.lookup("/a/tool", cwd="/").mode == 0o644


def test_symlinks_are_refused_where_they_are_not_modelled():
    with pytest.raises(ValueError) as info:
        VFS.windows().symlink("C:\\l", "C:\\t")
    assert str(info.value) == "symlinks are modelled for posix filesystems only"
    with pytest.raises(ValueError) as info:
        VFS.posix().symlink("/l", "")
    assert str(info.value) == ("symlink '/l': the target is empty; Linux refuses an empty target "
                               "(symlink(2) fails with ENOENT), give the path it points to")


# ---------------------------------------------------------------- lookups


def test_a_trailing_separator_after_a_windows_file_is_not_a_directory():
    fs = VFS.windows().file("C:\\t.exe").dir("C:\\d")
    assert code_of(fs, "C:\\t.exe\\", cwd="C:\\") == "ENOTDIR"
    assert code_of(fs, "t.exe/", cwd="C:\\") == "ENOTDIR"
    assert code_of(fs, "C:\\d\\", cwd="C:\\") == "ok" and code_of(fs, "C:\\", cwd="C:\\d") == "ok"
    assert code_of(fs, "C:\\t.exe", cwd="C:\\") == "ok"


def test_a_trailing_slash_after_a_posix_file_is_not_a_directory():
    fs = VFS.posix().file("/t").dir("/d")
    assert code_of(fs, "t/", cwd="/") == "ENOTDIR" and code_of(fs, "/t/") == "ENOTDIR"
    assert code_of(fs, "d/") == "ok" and code_of(fs, "/") == "ok" and code_of(fs, "//") == "ok"


def test_dotdot_stops_at_the_root():
    fs = VFS.posix().file("/t")
    assert fs.lookup("../../t", cwd="/").path == ("t",)
    win = VFS.windows().file("C:\\t.exe")
    assert win.lookup("..\\..\\t.exe", cwd="C:\\").path == ("C:", "t.exe")
    assert win.lookup("C:\\..\\t.exe", cwd="D:\\").path == ("C:", "t.exe")


def test_a_missing_windows_drive_is_empty():
    fs = VFS.windows().file("C:\\t.exe")
    assert code_of(fs, "D:\\t.exe", cwd="C:\\") == "ENOENT"
    assert code_of(fs, "D:\\a\\t.exe", cwd="C:\\") == "ENOENT_PATH"
    assert fs.lookup("D:\\", cwd="C:\\").is_dir


def test_a_windows_directory_never_refuses_a_search():
    fs = VFS.windows().dir("C:\\d", 0o000, uid=5, gid=5).file("C:\\d\\t.exe", 0o000)
    assert code_of(fs, "C:\\d\\t.exe", cwd="C:\\", uid=7, gid=7) == "ok"


def test_a_symlink_in_the_middle_is_followed_even_without_follow():
    fs = VFS.posix().file("/d/t").symlink("/l", "d").symlink("/d/last", "t")
    assert fs.lookup("/l/t", cwd="/", follow=False).path == ("d", "t")
    node = fs.lookup("/l/last", cwd="/", follow=False)
    assert (node.path, node.kind, node.target) == (("d", "last"), "symlink", "t")


def test_a_relative_link_resolves_from_its_own_directory():
    fs = VFS.posix().file("/a/t").file("/b/t", 0o700).symlink("/a/l", "t").symlink("/a/up", "../b/t")
    assert fs.lookup("/a/l", cwd="/b").path == ("a", "t")
    assert fs.lookup("up", cwd="/a").mode == 0o700


def test_a_link_to_a_directory_needs_search_permission_there():
    fs = VFS.posix().dir("/locked", 0o700).file("/locked/t").symlink("/l", "/locked/t")
    assert code_of(fs, "/l", uid=1000, gid=1000) == "EACCES" and code_of(fs, "/l") == "ok"


# ---------------------------------------------------------------- on disk


def test_materialise_makes_parents_the_entries_do_not_name(tmp_path):
    fs = VFS("posix", True, (Entry("/a/b/t", "file", 0o700), Entry("/c/d", "dir", 0o750),
                             Entry("/e/f/l", "symlink", 0o777, 0, 0, "x")))
    fs.materialise(tmp_path)
    assert mode_of(tmp_path / "a" / "b" / "t") == 0o700 and mode_of(tmp_path / "c" / "d") == 0o750
    assert os.readlink(tmp_path / "e" / "f" / "l") == "x"


def test_materialise_leaves_a_links_target_its_own_mode(tmp_path):
    fs = VFS.posix().file("/d/t", 0o700).symlink("/l", "/d/t").symlink("/dangling", "/nowhere")
    fs.materialise(tmp_path)
    assert mode_of(tmp_path / "d" / "t") == 0o700
    assert os.readlink(tmp_path / "dangling") == f"{tmp_path}/nowhere"


def test_materialise_a_windows_scenario_on_another_drive(tmp_path):
    fs = VFS.windows().file("D:\\x\\t.exe", 0o700)
    fs.materialise(tmp_path, drive="D:")
    assert mode_of(tmp_path / "x" / "t.exe") == 0o700
    with pytest.raises(ValueError, match=r"is not on drive C:"):
        fs.materialise(tmp_path)


def test_materialise_writes_a_directory_once_however_its_entries_spell_it(tmp_path):
    win = VFS.windows().dir("C:\\Go", 0o750).file("c:\\go\\bin\\t.exe").file("C:\\GO\\BIN\\u.exe")
    (tmp_path / "win").mkdir()
    win.materialise(tmp_path / "win")
    assert sorted(p.relative_to(tmp_path / "win").as_posix() for p in (tmp_path / "win").rglob("*")) == [
        "Go", "Go/bin", "Go/bin/t.exe", "Go/bin/u.exe"]
    assert mode_of(tmp_path / "win" / "Go") == 0o750
    darwin = VFS.posix(case_sensitive=False).dir("/Apps").file("/apps/t")
    (tmp_path / "darwin").mkdir()
    darwin.materialise(tmp_path / "darwin")
    assert [p.name for p in (tmp_path / "darwin").iterdir()] == ["Apps"] and (tmp_path / "darwin/Apps/t").is_file()
    linux = VFS.posix().dir("/Apps").file("/apps/t")
    (tmp_path / "linux").mkdir()
    linux.materialise(tmp_path / "linux")
    assert sorted(p.name for p in (tmp_path / "linux").iterdir()) == ["Apps", "apps"]


def test_one_spelling_replaces_another_of_the_same_path():
    win = VFS.windows().file("C:\\a\\t.exe", 0o700).file("c:/a/t.exe", 0o750)
    assert [(e.path, e.mode) for e in win.entries] == [("C:\\a", 0o755), ("c:/a/t.exe", 0o750)]
    darwin = VFS.posix(case_sensitive=False).file("//a/t", 0o700).file("/a//t", 0o750)
    assert [(e.path, e.mode) for e in darwin.entries] == [("/a", 0o755), ("/a//t", 0o750)]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root could set the owners this test expects to be left alone")
def test_materialise_sets_owners_only_as_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    VFS.posix().file("/t", 0o700, uid=7, gid=8).materialise(tmp_path)
    st = os.stat(tmp_path / "t")
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


def test_files_and_directories_default_to_0755_owned_by_root():
    fs = VFS.posix().dir("/d").file("/d/t")
    assert [(e.kind, e.mode, e.uid, e.gid) for e in fs.entries] == [("dir", 0o755, 0, 0), ("file", 0o755, 0, 0)]


def test_refusals_say_what_is_wrong_and_what_to_do():
    with pytest.raises(ValueError) as info:
        VFS.windows().lookup("\\\\host\\share\\t.exe", cwd="C:\\")
    assert str(info.value) == ("path '\\\\\\\\host\\\\share\\\\t.exe': UNC and device paths (\\\\host\\share, \\\\?\\) "
                               "are not modelled; use a drive-letter path such as C:\\dir")
    with pytest.raises(ValueError) as info:
        VFS.posix().file("/a\0b")
    assert str(info.value) == "entry '/a\\x00b': its path contains a NUL byte, which no file name can hold"
    long_path = "/" + "/".join(["d" * 200] * 20)
    with pytest.raises(ValueError) as info:
        VFS.posix().file(long_path)
    assert str(info.value) == (f"entry {long_path[:60]!r}...: the path is {len(long_path)} bytes; the scenario keeps "
                               "paths to 3840 bytes so they fit in PATH_MAX on disk, use a shorter one")


@pytest.mark.parametrize("mode, uid, gid, allowed", [
    (0o001, 5, 6, False),  # the owner's bits decide for the owner, even when others may
    (0o011, 5, 6, False), (0o101, 7, 6, False),  # the group's bits decide for the group
    (0o100, 5, 6, True),
])
def test_only_the_first_matching_class_decides(mode, uid, gid, allowed):
    fs = VFS.posix().file("/t", mode, uid=5, gid=6)
    assert fs.may_execute(fs.lookup("/t", cwd="/"), uid, gid) is allowed


def test_may_execute_asks_as_root_by_default():
    fs = VFS.posix().file("/owned", 0o100, uid=5, gid=6).file("/none", 0o600, uid=5, gid=6)
    assert fs.may_execute(fs.lookup("/owned", cwd="/")) is True
    assert fs.may_execute(fs.lookup("/none", cwd="/")) is False


def test_materialise_reuses_a_directory_already_under_root(tmp_path):
    (tmp_path / "bin").mkdir()
    VFS.posix().dir("/bin", 0o700).file("/bin/t").materialise(tmp_path)
    assert mode_of(tmp_path / "bin") == 0o700 and (tmp_path / "bin" / "t").is_file()


def test_a_forward_slash_is_a_windows_separator_in_every_position():
    fs = VFS.windows().file("C:\\t.exe", 0o700).file("C:\\a\\t.exe", 0o750)
    assert fs.lookup("C:/t.exe", cwd="C:\\a").mode == 0o700  # absolute, not relative to the cwd's directory
    assert fs.lookup("/t.exe", cwd="C:\\a").mode == 0o700  # rooted on the cwd's drive
    assert fs.lookup("C:t.exe", cwd="C:\\a").mode == 0o750  # drive-relative: the cwd's directory


def test_lookup_searches_as_root_group_by_default():
    fs = VFS.posix().dir("/g", 0o010, uid=5, gid=0).file("/g/t")
    assert code_of(fs, "/g/t", uid=1000) == "ok"
    assert code_of(fs, "/g/t", uid=1000, gid=1000) == "EACCES"
