"""Edges of the LookPath models that the property tests reach rarely: Go's path
cleaning at the root and above it, Windows environment names in any case, the
faccessat fallback's owner/group/other choice, and the exact error texts.

Each expected value is what Go 1.27 returns (filepath.Clean/Join/SplitList and
exec.LookPath); tests/test_lookpath_property.py checks the models against real Go.
"""
from __future__ import annotations

import pytest

from gorun_kit import lookpath as lp
from gorun_kit.lookpath import unix, windows
from gorun_kit.lookpath.vfs import Node


@pytest.mark.parametrize("path, cleaned", [
    ("", "."), (".", "."), ("..", ".."), ("../..", "../.."), ("../../", "../.."), ("a/../..", ".."),
    ("a/b/../../..", ".."), ("../a/..", ".."), ("/..", "/"), ("/../..", "/"), ("/a/../..", "/"),
    ("//a//b/./c/", "/a/b/c"), ("a/./b/", "a/b"), ("./", "."), ("/", "/"), ("a/..", "."),
    ("../../a/../b", "../../b"),
])
def test_unix_clean_follows_go(path, cleaned):
    assert unix.clean(path) == cleaned


@pytest.mark.parametrize("elems, joined", [
    (("", ""), ""), (("a", ""), "a"), (("", "b"), "b"), (("/", "b"), "/b"), (("a", "../.."), ".."),
    (("..", "..", "x"), "../../x"), (("/a", "/b/"), "/a/b"),
])
def test_unix_join_follows_go(elems, joined):
    assert unix.join(*elems) == joined


def test_unix_split_list_and_is_abs():
    assert unix.split_list("") == []
    assert unix.split_list(":") == ["", ""]
    assert unix.split_list("/a::b") == ["/a", "", "b"]
    assert unix.is_abs("/x") and not unix.is_abs("x/") and not unix.is_abs("")


@pytest.mark.parametrize("path, cleaned", [
    ("", "."), ("..", ".."), ("..\\..", "..\\.."), ("../..", "..\\.."), ("a\\..\\..", ".."),
    ("C:", "C:."), ("C:..\\..", "C:..\\.."), ("C:\\..\\..", "C:\\"), ("C:\\a\\..\\..\\b", "C:\\b"),
    ("C:/a//b/./", "C:\\a\\b"), ("\\a\\..", "\\"), ("a:b", "a:b"), ("ab:c", "ab:c"), ("ab:c\\", "ab:c"),
    ("x\\..\\ab:c", ".\\ab:c"), ("a/b:c", "a\\b:c"), ("ab:c\\tool", "ab:c\\tool"),
    ("..\\a\\..\\b", "..\\b"), ("c:\\", "c:\\"),
])
def test_windows_clean_follows_go(path, cleaned):
    assert windows.clean(path) == cleaned


@pytest.mark.parametrize("elems, joined", [
    (("C:", "f"), "C:f"), (("C:\\", "\\f"), "C:\\f"), (("a", "b"), "a\\b"), (("", "b"), "b"),
    (("a", ""), "a"), (("", ""), ""), (("a/", "/b"), "a\\b"), (("..", "..", "x"), "..\\..\\x"),
    (("ab:c", "tool"), "ab:c\\tool"), (("x", "..", "ab:c"), ".\\ab:c"),
])
def test_windows_join_follows_go(elems, joined):
    assert windows.join(*elems) == joined


def test_windows_paths_split_quote_and_name_volumes():
    assert windows.split_list("") == []
    assert windows.split_list('a;"b;c";;d"') == ["a", "b;c", "", "d"]
    assert windows.split_list(";") == ["", ""]
    assert windows.is_abs("C:\\x") and windows.is_abs("c:/x")
    assert not windows.is_abs("C:x") and not windows.is_abs("C:") and not windows.is_abs("\\x")
    assert windows.volume_name_len("C:x") == 2 and windows.volume_name_len("x:") == 2
    assert windows.volume_name_len("\\x") == 0 and windows.volume_name_len("") == 0
    for unc in ("\\\\server\\share", "//server/share"):
        with pytest.raises(ValueError, match="UNC and device paths are not modelled"):
            windows.volume_name_len(unc)


@pytest.mark.parametrize("file, has", [
    ("a.exe", True), ("a", False), ("dir.d\\a", False), ("dir.d/a", False), ("C:a.b", True),
    ("x.", True), (".x", True), ("C:.", True), ("a.b\\", False),
])
def test_windows_has_ext(file, has):
    assert windows.has_ext(file) is has


def test_windows_path_ext():
    assert windows.path_ext(None) == windows.path_ext("") == [".com", ".exe", ".bat", ".cmd"]
    assert windows.path_ext(".EXE;bat;;.Ps1") == [".exe", ".bat", ".ps1"]


WIN_FS = lp.default_fs("windows").file("C:\\bin\\tool.exe").file("C:\\work\\tool.exe")


@pytest.mark.parametrize("spelling", ["NoDefaultCurrentDirectoryInExePath", "NODEFAULTCURRENTDIRECTORYINEXEPATH",
                                      "nodefaultcurrentdirectoryinexepath"])
def test_windows_env_names_ignore_case_no_default_current_directory(spelling):
    at_work = dict(path="C:\\bin", fs=WIN_FS, cwd="C:\\work")
    # without the variable the current directory's tool is found first, and a different file in %PATH%
    # does not clear its ErrDot
    assert windows.look_path("tool", **at_work).key() == ("tool.exe", "ErrDot")
    assert windows.look_path("tool", env={spelling: ""}, **at_work).key() == ("C:\\bin\\tool.exe", None)


@pytest.mark.parametrize("spelling", ["GODEBUG", "godebug", "GoDebug"])
def test_windows_env_names_ignore_case_godebug(spelling):
    found = windows.look_path("tool", path="C:\\bin", fs=WIN_FS, cwd="C:\\work", env={spelling: "execerrdot=0"})
    assert found.key() == ("tool.exe", None)
    rel = windows.look_path("tool", path="bin", fs=WIN_FS, cwd="C:\\", env={spelling: "execerrdot=0"})
    assert rel.key() == ("bin\\tool.exe", None)


def test_windows_same_file_in_dot_and_path_is_no_error():
    res = windows.look_path("tool", path="C:\\work", fs=WIN_FS, cwd="C:\\work")
    assert res.key() == ("C:\\work\\tool.exe", None)


def test_windows_relative_path_entries():
    fs = lp.default_fs("windows").file("C:\\bin\\tool.exe").file("C:\\abs\\tool.exe")
    assert windows.look_path("tool", path="bin", fs=fs).key() == ("bin\\tool.exe", "ErrDot")
    assert windows.look_path("tool", path="bin;C:\\abs", fs=fs).key() == ("bin\\tool.exe", "ErrDot")
    assert windows.look_path("tool", path=";C:\\abs", fs=fs).key() == ("C:\\abs\\tool.exe", None)


def test_windows_errors_and_their_messages():
    fs = lp.default_fs("windows").file("C:\\bin\\tool.exe").dir("C:\\bin\\d.exe").file("C:\\bin\\x.bat.exe")
    cases = {
        "": ("", "ErrNotFound", 'exec: "": executable file not found in %PATH%'),
        ".": ("", "ErrNotFound", 'exec: ".": executable file not found in %PATH%'),
        "..": ("", "ErrNotFound", 'exec: "..": executable file not found in %PATH%'),
        "nope": ("", "ErrNotFound", 'exec: "nope": executable file not found in %PATH%'),
        "C:\\bin\\none.exe": ("", "ErrNotExist", 'exec: "C:\\\\bin\\\\none.exe": file does not exist'),
        "C:\\bin\\d.exe": ("", "ErrNotExist", 'exec: "C:\\\\bin\\\\d.exe": file does not exist'),
        "C:\\bin\\tool": ("C:\\bin\\tool.exe", None, ""),
        "C:\\bin\\tool.exe": ("C:\\bin\\tool.exe", None, ""),
        "x.bat": ("C:\\bin\\x.bat.exe", None, ""),
    }
    for name, want in cases.items():
        got = windows.look_path(name, path="C:\\bin", fs=fs, pathext=".exe")
        assert (got.path, got.error, got.message) == want, name
    assert windows.look_path("d", path="C:\\bin", fs=fs, pathext=".exe").key() == ("", "ErrNotFound")
    assert windows.find_executable(fs, "C:\\bin\\d.exe", [], "C:\\") == ("", "ErrPermission")
    assert windows.find_executable(fs, "C:\\bin\\tool.exe", [], "C:\\") == ("C:\\bin\\tool.exe", None)


@pytest.mark.parametrize("uid, gid, mode, owner, group, allowed", [
    (0, 0, 0o001, 5, 5, True), (0, 0, 0o600, 5, 5, False),
    (5, 9, 0o100, 5, 6, True), (5, 6, 0o010, 5, 6, False),  # the owner's bits decide for the owner
    (7, 6, 0o010, 5, 6, True), (7, 6, 0o101, 5, 6, False),  # the group's bits for a group member
    (7, 8, 0o001, 5, 6, True), (7, 8, 0o110, 5, 6, False),  # the others' bits for anyone else
])
def test_faccessat_fallback_picks_owner_group_or_other_bits(uid, gid, mode, owner, group, allowed):
    assert unix.faccessat_fallback(Node(("f",), "file", mode, owner, group), uid, gid) is allowed


def test_faccessat2_settings_are_checked():
    unix.check_faccessat2("ok", "darwin")
    unix.check_faccessat2("EPERM")
    with pytest.raises(ValueError, match="faccessat2 'maybe': choose one of ok, ENOSYS, EPERM"):
        unix.check_faccessat2("maybe")
    with pytest.raises(ValueError, match="faccessat2='ENOSYS' is a Linux setting; on goos='darwin'"):
        unix.check_faccessat2("ENOSYS", "darwin")
    with pytest.raises(ValueError, match="Linux setting"):
        unix.look_path("x", path="/", fs=lp.default_fs("darwin"), goos="darwin", faccessat2="EPERM")


def test_kernel_check_and_fallback_agree_on_mode_bits():
    fs = lp.default_fs("linux").file("/bin/tool", 0o744, uid=5, gid=5).file("/bin/none", 0o644, uid=5, gid=5)
    for faccessat2 in unix.FACCESSAT2:
        assert unix.look_path("tool", path="/bin", fs=fs, faccessat2=faccessat2).key() == ("/bin/tool", None)
        assert unix.look_path("none", path="/bin", fs=fs, faccessat2=faccessat2).key() == ("", "ErrNotFound")
        assert unix.look_path("tool", path="/bin", fs=fs, uid=6, faccessat2=faccessat2).key() == ("", "ErrNotFound")


def test_unix_errors_and_their_messages():
    fs = (lp.default_fs("linux").file("/bin/tool").file("/bin/plain", 0o644).dir("/bin/dir")
          .symlink("/bin/loop", "/bin/loop").file("/work/here"))
    cases = {
        "": ("", "ErrNotFound", 'exec: "": executable file not found in $PATH'),
        ".": ("", "ErrNotFound", 'exec: ".": executable file not found in $PATH'),
        "..": ("", "ErrNotFound", 'exec: "..": executable file not found in $PATH'),
        "/bin/dir": ("", "EISDIR", 'exec: "/bin/dir": is a directory'),
        "/bin/plain": ("", "EACCES", 'exec: "/bin/plain": permission denied'),
        "/bin/none": ("", "ENOENT", 'exec: "/bin/none": stat /bin/none: no such file or directory'),
        "/bin/tool/x": ("", "ENOTDIR", 'exec: "/bin/tool/x": stat /bin/tool/x: not a directory'),
        "/bin/loop": ("", "ELOOP", 'exec: "/bin/loop": stat /bin/loop: too many levels of symbolic links'),
        "./here": ("./here", None, ""),
        "tool": ("/bin/tool", None, ""),
        "plain": ("", "ErrNotFound", 'exec: "plain": executable file not found in $PATH'),
    }
    for name, want in cases.items():
        got = unix.look_path(name, path="/bin", fs=fs, cwd="/work")
        assert (got.path, got.error, got.message) == want, name


def test_unix_relative_hits_come_with_err_dot_unless_godebug_says_otherwise():
    fs = lp.default_fs("linux").file("/work/tool").file("/work/sub/tool")
    dot = unix.look_path("tool", path=":/bin", fs=fs, cwd="/work")
    assert (dot.path, dot.error, dot.message) == (
        "tool", "ErrDot", 'exec: "tool": cannot run executable found relative to current directory')
    assert unix.look_path("tool", path="sub", fs=fs, cwd="/work").key() == ("sub/tool", "ErrDot")
    assert unix.look_path("tool", path="../work/sub", fs=fs, cwd="/work").key() == ("../work/sub/tool", "ErrDot")
    for godebug in ("execerrdot=0", "x=1,execerrdot=0", "execerrdot=1,execerrdot=0"):
        assert unix.look_path("tool", path="", fs=fs, cwd="/work", env={"GODEBUG": godebug}).key() == ("", "ErrNotFound")
        assert unix.look_path("tool", path=".", fs=fs, cwd="/work", env={"GODEBUG": godebug}).key() == ("tool", None)
    assert unix.look_path("tool", path=".", fs=fs, cwd="/work",
                          env={"GODEBUG": "execerrdot=0,execerrdot=1"}).key() == ("tool", "ErrDot")
    assert unix.look_path("tool", path=".", fs=fs, cwd="/work", env={"godebug": "execerrdot=0"}).key() == \
        ("tool", "ErrDot")  # Unix environment names keep their case


def test_unix_search_order_and_empty_entries():
    fs = lp.default_fs("linux").file("/a/tool", 0o644).file("/b/tool").file("/c/tool")
    assert unix.look_path("tool", path="/a:/b:/c", fs=fs).key() == ("/b/tool", None)
    assert unix.look_path("tool", path="/c:/b", fs=fs).key() == ("/c/tool", None)
    assert unix.look_path("tool", path="", fs=fs).key() == ("", "ErrNotFound")


def test_root_searches_directories_that_others_may_not():
    fs = lp.default_fs("linux").dir("/private", 0o700, uid=5, gid=5).file("/private/tool", 0o755, uid=5, gid=5)
    assert unix.look_path("tool", path="/private", fs=fs).key() == ("/private/tool", None)
    assert unix.look_path("tool", path="/private", fs=fs, uid=5).key() == ("/private/tool", None)
    denied = unix.look_path("/private/tool", path="", fs=fs, uid=6)
    assert (denied.error, denied.message) == ("EACCES", 'exec: "/private/tool": stat /private/tool: permission denied')
    assert unix.look_path("tool", path="/private", fs=fs, uid=7, gid=5).key() == ("", "ErrNotFound")


def test_names_go_refuses_are_refused_even_when_a_path_entry_is_a_program():
    fs = lp.default_fs("linux").file("/bin/tool").file("/bin/tool2/x")
    for name in ("", ".", ".."):  # join("/bin/tool", ".") would be /bin/tool itself
        assert unix.look_path(name, path="/bin/tool:/bin/tool2/x", fs=fs).key() == ("", "ErrNotFound"), name
    wfs = lp.default_fs("windows").file("C:\\bin\\tool.exe").file("C:\\d\\x\\y.exe")
    for name in ("", ".", ".."):
        assert windows.look_path(name, path="C:\\bin\\tool.exe;C:\\d\\x\\y.exe", fs=wfs).key() == \
            ("", "ErrNotFound"), name


@pytest.mark.parametrize("faccessat2", unix.FACCESSAT2)
def test_the_group_defaults_to_the_uid_and_decides_for_members(faccessat2):
    fs = lp.default_fs("linux").file("/g/tool", 0o010, uid=9, gid=5).file("/o/tool", 0o700, uid=5, gid=9)
    kw = dict(fs=fs, faccessat2=faccessat2)
    assert unix.look_path("tool", path="/g", uid=5, **kw).key() == ("/g/tool", None)  # gid defaults to 5
    assert unix.look_path("/g/tool", path="", uid=5, **kw).key() == ("/g/tool", None)
    assert unix.look_path("tool", path="/g", uid=5, gid=6, **kw).key() == ("", "ErrNotFound")
    assert unix.look_path("tool", path="/g", uid=6, gid=5, **kw).key() == ("/g/tool", None)
    assert unix.look_path("/o/tool", path="", uid=5, gid=1, **kw).key() == ("/o/tool", None)
    assert unix.look_path("/o/tool", path="", uid=6, gid=9, **kw).error == "EACCES"


@pytest.mark.parametrize("path, cleaned", [
    ("a\\..", "."), ("C:a\\..", "C:."), ("x\\..\\a\\b:c\\d", "a\\b:c\\d"), ("x\\..\\a:b\\c", ".\\a:b\\c"),
])
def test_windows_clean_relative_results(path, cleaned):
    assert windows.clean(path) == cleaned


@pytest.mark.parametrize("file, has", [("a.b\\c.d", True), ("a\\b.c\\d", False), ("a.X", True)])
def test_windows_has_ext_looks_at_the_last_element(file, has):
    assert windows.has_ext(file) is has


def test_windows_names_are_paths_only_with_a_separator_or_colon():
    fs = lp.default_fs("windows").file("C:\\bin\\X.exe").file("C:\\bin\\XX.exe")
    assert windows.look_path("X", path="C:\\bin", fs=fs).key() == ("C:\\bin\\X.exe", None)
    assert windows.look_path("XX", path="C:\\bin", fs=fs).key() == ("C:\\bin\\XX.exe", None)
    with pytest.raises(ValueError, match="UNC"):
        windows.volume_name_len("\\\\")
