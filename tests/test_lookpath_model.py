"""The pieces under the LookPath models, checked on made-up scenarios: the virtual
filesystem (limits, refusals, lookups, writing it to disk, listing it), the
result record and its helpers, the cross-OS comparison and its step-by-step
explanation, and the plumbing of the chapter experiments with stand-in builds.
"""
from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from gorun_kit import build
from gorun_kit.lookpath import compare, experiments
from gorun_kit.lookpath.compare import CrossOS, Row, Step, cross_os, explain, explain_cross, parse_files
from gorun_kit.lookpath.result import LookPathResult, execerrdot_off, quote
from gorun_kit.lookpath.vfs import ENTRY_PATH_MAX, MAX_SYMLINKS, NAME_MAX, PATH_MAX, VFS, Entry, FsError, Node
from gorun_kit.toolchain import GoToolchain


def code_of(fs: VFS, path: str, *, cwd: str = "/", **kw) -> str:
    """The error code of looking ``path`` up, or "ok"."""
    try:
        fs.lookup(path, cwd=cwd, **kw)
    except FsError as exc:
        assert str(exc) == f"{exc.code}: {path}" and exc.path == path and isinstance(exc, OSError)
        return exc.code
    return "ok"


# ---------------------------------------------------------------------------
# records


def test_entry_and_node_records():
    assert Entry("/a", "file", 0o644, 1, 2).to_dict() == {"path": "/a", "kind": "file", "mode": "0o644", "uid": 1,
                                                           "gid": 2, "target": ""}
    assert Entry("/a", "file").mode == 0o755 and Entry("/a", "file").uid == 0
    assert Node(("a",), "dir", 0o755, 0, 0).is_dir and not Node(("a",), "file", 0o755, 0, 0).is_dir


def test_lookpath_result_views():
    ok = LookPathResult("/bin/tool", None)
    dot = LookPathResult("tool", "ErrDot", "exec: ...")
    missing = LookPathResult("", "ErrNotFound", "exec: not found", "real linux")
    assert (ok.ok, dot.ok, missing.ok) == (True, False, False)
    assert (ok.short(), dot.short(), missing.short()) == ("/bin/tool", "tool (ErrDot)", "ErrNotFound")
    assert dot.key() == ("tool", "ErrDot") and missing.source == "real linux" and ok.source == "modeled"
    assert ok.message == ""


def test_quote_is_go_strconv_quote_for_ascii():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("t\tn\nx") == '"t\\tn\\nx"'
    assert quote("\x01\x1f\x7f ~") == '"\\x01\\x1f\\x7f ~"'
    assert quote("") == '""'


@pytest.mark.parametrize("godebug, off", [
    (None, False), ("", False), ("execerrdot=0", True), ("execerrdot=1", False), ("execerrdot=1,execerrdot=0", True),
    ("execerrdot=0,execerrdot=1", False), ("execerrdot=0#note", True), ("xexecerrdot=0", False),
    ("execerrdot", False), ("http2debug=1,execerrdot=0", True), ("execerrdot=00", False),
])
def test_execerrdot_off_reads_the_last_setting(godebug, off):
    assert execerrdot_off(godebug) is off


# ---------------------------------------------------------------------------
# the filesystem: building it


def test_flavours_and_case_rules():
    assert (VFS.posix().flavor, VFS.posix().case_sensitive) == ("posix", True)
    assert VFS.posix(case_sensitive=False).case_sensitive is False
    assert (VFS.windows().flavor, VFS.windows().case_sensitive) == ("windows", False)
    with pytest.raises(ValueError, match="VFS flavor 'plan9': use 'posix' or 'windows'"):
        VFS("plan9")


def test_parents_are_made_like_mkdir_p():
    fs = VFS.windows().file("c:\\A\\b\\T.exe", 0o700, uid=3, gid=4)
    assert [(e.path, e.kind, e.mode, e.uid) for e in fs.entries] == [
        ("C:\\A", "dir", 0o755, 0), ("C:\\A\\b", "dir", 0o755, 0), ("c:\\A\\b\\T.exe", "file", 0o700, 3)]
    posix = VFS.posix().dir("/x").file("/x/y/z")
    assert [e.path for e in posix.entries] == ["/x", "/x/y", "/x/y/z"]


def test_the_same_path_again_replaces_the_entry():
    fs = VFS.posix().file("/a/t", 0o644).file("/a/t", 0o700)
    assert [(e.path, e.mode) for e in fs.entries] == [("/a", 0o755), ("/a/t", 0o700)]
    darwin = VFS.posix(case_sensitive=False).file("/a/t", 0o644).file("/a/t", 0o700)
    assert [(e.path, e.mode) for e in darwin.entries] == [("/a", 0o755), ("/a/t", 0o700)]
    with pytest.raises(ValueError, match=r"entry '/a/T' clashes with '/a/t' \(this filesystem ignores case\)"):
        VFS.posix(case_sensitive=False).file("/a/t").file("/a/T")
    linux = VFS.posix().file("/a/t").file("/a/T")
    assert len(linux.entries) == 3


@pytest.mark.parametrize("flavor, path, example", [("posix", "bin/t", "/dir/name"), ("windows", "bin\\t", "C:\\dir\\name"),
                                                   ("windows", "C:t", "C:\\dir\\name"), ("windows", "\\t", "C:\\dir\\name")])
def test_entries_must_be_absolute(flavor, path, example):
    fs = VFS.posix() if flavor == "posix" else VFS.windows()
    with pytest.raises(ValueError) as info:
        fs.file(path)
    assert str(info.value) == f"entry path {path!r} must be absolute (like {example})"


def test_what_a_filesystem_refuses_to_hold():
    with pytest.raises(ValueError, match="kind 'fifo' is not file, dir or symlink"):
        VFS("posix", True, (Entry("/p", "fifo"),))
    with pytest.raises(ValueError, match="cannot replace the root directory"):
        VFS("posix", True, (Entry("/", "dir"),))
    with pytest.raises(ValueError, match="cannot replace the root directory"):
        VFS("windows", False, (Entry("C:\\", "dir"),))
    with pytest.raises(ValueError, match=r"entry '/a' clashes with '/a'$"):
        VFS("posix", True, (Entry("/a", "dir"), Entry("/a", "file")))
    with pytest.raises(ValueError, match=r"clashes with '/a' \(this filesystem ignores case\)"):
        VFS("posix", False, (Entry("/a", "dir"), Entry("/A", "file")))
    assert len(VFS("posix", True, (Entry("/a", "dir"), Entry("/a", "dir"))).entries) == 2  # the same entry twice
    with pytest.raises(ValueError) as info:
        VFS("posix", True, (Entry("/f", "file"), Entry("/f/x", "file")))
    assert str(info.value) == ("entry '/f/x' is inside '/f', which is a file, not a directory; "
                               "make the parent a directory")
    with pytest.raises(ValueError, match=r"which is a symlink, not a directory; make the parent a directory "
                                         r"\(or put the entry under the link's target\)"):
        VFS.posix().symlink("/l", "/d").file("/l/x")
    with pytest.raises(ValueError, match="UNC and device paths"):
        VFS.windows().lookup("\\\\host\\share\\t.exe", cwd="C:\\")


def test_symlinks_are_posix_only_and_need_a_target():
    with pytest.raises(ValueError, match="symlinks are modelled for posix filesystems only"):
        VFS.windows().symlink("C:\\l", "C:\\t")
    with pytest.raises(ValueError, match=r"symlink '/l': the target is empty"):
        VFS.posix().symlink("/l", "")
    link = VFS.posix().symlink("/d/l", "t").entries[-1]
    assert (link.kind, link.mode, link.uid, link.gid, link.target) == ("symlink", 0o777, 0, 0, "t")


def test_names_and_paths_must_fit_on_a_real_disk():
    with pytest.raises(ValueError, match="contains a NUL byte"):
        VFS.posix().file("/a\0b")
    with pytest.raises(ValueError, match="its symlink target contains a NUL byte"):
        VFS.posix().symlink("/l", "t\0")
    VFS.posix().file("/" + "n" * NAME_MAX)  # the longest name Linux allows
    with pytest.raises(ValueError) as info:
        VFS.posix().file("/" + "n" * (NAME_MAX + 1))
    assert str(info.value).startswith(f"entry {('/' + 'n' * 59)!r}...: a name of {NAME_MAX + 1} bytes is longer "
                                      f"than NAME_MAX ({NAME_MAX} bytes); Linux refuses it (ENAMETOOLONG)")
    # bytes, not characters: 128 two-byte letters are 256 bytes, longer than a 200-letter ASCII name
    with pytest.raises(ValueError, match="a name of 256 bytes"):
        VFS.posix().file("/" + "a" * 200 + "/" + "é" * 128)
    with pytest.raises(ValueError, match="a name of 256 bytes"):
        VFS.windows().file("C:\\" + "é" * 128)
    base = "/" + "/".join(["d" * 99] * 38)
    fits = base + "/" + "e" * (ENTRY_PATH_MAX - len(base) - 1)  # under PATH_MAX, and room for a scenario dir
    assert len(fits) == ENTRY_PATH_MAX < PATH_MAX
    VFS.posix().file(fits)
    with pytest.raises(ValueError, match=f"the path is {ENTRY_PATH_MAX + 1} bytes; the scenario keeps paths to "
                                         f"{ENTRY_PATH_MAX} bytes"):
        VFS.posix().file(fits + "e")
    with pytest.raises(ValueError, match=f"the target is {ENTRY_PATH_MAX + 1} bytes; the scenario keeps targets"):
        VFS.posix().symlink("/l", "t" * (ENTRY_PATH_MAX + 1))
    VFS.posix().symlink("/l", "t/" * (ENTRY_PATH_MAX // 2))


# ---------------------------------------------------------------------------
# the filesystem: lookups


def test_lookups_walk_dot_dotdot_and_the_root():
    fs = VFS.posix().file("/a/b/t")
    assert fs.lookup("/", cwd="/") == Node((), "dir", 0o755, 0, 0)
    assert fs.lookup("../../../a/./b/t", cwd="/a/b").path == ("a", "b", "t")
    assert fs.lookup("t", cwd="/a/b").kind == "file" and fs.lookup("b/t", cwd="/a").path == ("a", "b", "t")
    assert code_of(fs, "/a/b/t/") == "ENOTDIR" and code_of(fs, "/a/b/") == "ok" and code_of(fs, "/a/t/x") == "ENOENT"
    assert code_of(fs, "/a/b/t/x") == "ENOTDIR" and code_of(fs, "t/", cwd="/a/b") == "ENOTDIR"
    win = VFS.windows().file("C:\\a\\t.exe").file("D:\\d\\u.exe")
    assert win.lookup("C:\\", cwd="C:\\") == Node(("C:",), "dir", 0o755, 0, 0)
    assert win.lookup("C:/A/T.EXE", cwd="D:\\").path == ("C:", "a", "t.exe")
    assert win.lookup("..\\..\\a\\t.exe", cwd="C:\\a").path == ("C:", "a", "t.exe")
    assert code_of(win, "C:\\a\\t.exe\\") == "ENOTDIR" and code_of(win, "C:\\a\\") == "ok"
    assert code_of(win, "C:\\nowhere\\t.exe") == "ENOENT_PATH" and code_of(win, "C:\\a\\none.exe") == "ENOENT"


def test_windows_drive_relative_and_rooted_paths():
    win = VFS.windows().file("C:\\a\\t.exe").file("C:\\t.exe").file("D:\\a\\u.exe").file("D:\\u.exe")
    assert win.lookup("C:t.exe", cwd="C:\\a").path == ("C:", "a", "t.exe")  # relative to the cwd on its drive
    assert win.lookup("C:t.exe", cwd="D:\\a").path == ("C:", "t.exe")  # another drive: its root
    assert win.lookup("D:u.exe", cwd="C:\\a").path == ("D:", "u.exe")
    assert win.lookup("\\u.exe", cwd="D:\\a").path == ("D:", "u.exe")  # rooted: the cwd's drive
    assert win.lookup("u.exe", cwd="D:\\a").path == ("D:", "a", "u.exe")
    assert win.lookup("C:", cwd="C:\\a").path == ("C:", "a") and win.lookup("D:", cwd="C:\\a").path == ("D:",)
    assert win.is_abs("C:/x") and not win.is_abs("C:") and not win.is_abs("C:x") and not win.is_abs("\\x")
    assert VFS.posix().is_abs("/x") and not VFS.posix().is_abs("x")


def test_symlinks_are_followed_up_to_linux_limit():
    fs = VFS.posix().file("/d/t").symlink("/d/rel", "t").symlink("/abs", "/d/t").symlink("/dl", "d")
    assert fs.lookup("/d/rel", cwd="/").path == ("d", "t") and fs.lookup("/abs", cwd="/").path == ("d", "t")
    assert fs.lookup("/dl/t", cwd="/").path == ("d", "t") and fs.lookup("/dl/", cwd="/").path == ("d",)
    link = fs.lookup("/abs", cwd="/", follow=False)
    assert (link.kind, link.target) == ("symlink", "/d/t")
    assert fs.lookup("/dl/", cwd="/", follow=False).kind == "dir"  # a trailing slash follows anyway
    chain = VFS.posix().file("/t")
    for i in range(MAX_SYMLINKS):
        chain = chain.symlink(f"/l{i}", "/t" if i == 0 else f"/l{i - 1}")
    assert chain.lookup(f"/l{MAX_SYMLINKS - 1}", cwd="/").path == ("t",)  # 40 links: still followed
    longer = chain.symlink(f"/l{MAX_SYMLINKS}", f"/l{MAX_SYMLINKS - 1}")
    assert code_of(longer, f"/l{MAX_SYMLINKS}") == "ELOOP"
    far = VFS.posix().symlink("/far", "/" + "n" * (NAME_MAX + 1))
    assert code_of(far, "/far") == "ENAMETOOLONG"


def test_names_and_paths_too_long_for_linux():
    fs = VFS.posix()
    assert code_of(fs, "/" + "n" * NAME_MAX) == "ENOENT"
    assert code_of(fs, "/" + "n" * (NAME_MAX + 1)) == "ENAMETOOLONG"
    just = "/" + "/".join(["d" * 200] * 21)
    just = just[:PATH_MAX - 1]
    assert code_of(fs, just) == "ENOENT"  # 4095 bytes and the NUL fit
    assert code_of(fs, just + "d") == "ENAMETOOLONG"
    assert code_of(VFS.windows(), "C:\\" + "n" * 300) == "ENOENT"  # the limits are Linux's


@pytest.mark.parametrize("mode, uid, gid, allowed", [
    (0o700, 5, 9, True), (0o070, 5, 6, False), (0o070, 7, 6, True), (0o007, 7, 6, False), (0o001, 7, 8, True),
    (0o000, 0, 0, True), (0o110, 7, 8, False),
])
def test_search_permission_of_directories(mode, uid, gid, allowed):
    fs = VFS.posix().dir("/d", mode, uid=5, gid=6).file("/d/t")
    assert code_of(fs, "/d/t", uid=uid, gid=gid) == ("ok" if allowed else "EACCES")
    win = VFS.windows().dir("C:\\d", mode, uid=5, gid=6).file("C:\\d\\t")
    assert code_of(win, "C:\\d\\t", cwd="C:\\", uid=uid, gid=gid) == "ok"  # no ACLs modelled


@pytest.mark.parametrize("mode, uid, gid, allowed", [
    (0o100, 5, 9, True), (0o010, 5, 6, False), (0o010, 7, 6, True), (0o001, 7, 6, False), (0o001, 7, 8, True),
    (0o000, 0, 0, False), (0o001, 0, 0, True), (0o644, 0, 0, False),
])
def test_execute_permission_of_files(mode, uid, gid, allowed):
    fs = VFS.posix().file("/t", mode, uid=5, gid=6)
    assert fs.may_execute(fs.lookup("/t", cwd="/"), uid, gid) is allowed


def test_exists_dir():
    fs = VFS.posix().file("/a/t")
    assert fs.exists_dir("/a") and fs.exists_dir("a") and fs.exists_dir("/") and not fs.exists_dir("/a/t")
    assert not fs.exists_dir("/b")
    win = VFS.windows().dir("C:\\w")
    assert win.exists_dir("w") and win.exists_dir("C:\\w") and not win.exists_dir("D:\\w")


# ---------------------------------------------------------------------------
# the filesystem: on disk and as text


def test_materialise_writes_files_dirs_links_and_modes(tmp_path):
    fs = (VFS.posix().dir("/ro", 0o555).file("/ro/t", 0o700).file("/bin/s", 0o644)
          .symlink("/bin/abs", "/ro/t").symlink("/bin/rel", "s"))
    assert fs.materialise(tmp_path) == tmp_path
    try:
        assert (tmp_path / "ro" / "t").read_text() == "#!/bin/sh\nexit 0\n"
        assert stat.S_IMODE(os.stat(tmp_path / "ro").st_mode) == 0o555  # set after it was filled
        assert stat.S_IMODE(os.stat(tmp_path / "ro" / "t").st_mode) == 0o700
        assert stat.S_IMODE(os.stat(tmp_path / "bin" / "s").st_mode) == 0o644
        assert os.readlink(tmp_path / "bin" / "abs") == f"{tmp_path}/ro/t"
        assert os.readlink(tmp_path / "bin" / "rel") == "s"
    finally:
        os.chmod(tmp_path / "ro", 0o755)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        fs.materialise(tmp_path / "missing")


def test_materialise_a_windows_drive(tmp_path):
    fs = VFS.windows().file("c:\\Go\\bin\\go.exe", 0o750).dir("C:\\empty")
    fs.materialise(tmp_path, drive="c:")
    assert (tmp_path / "Go" / "bin" / "go.exe").is_file() and (tmp_path / "empty").is_dir()
    assert stat.S_IMODE(os.stat(tmp_path / "Go" / "bin" / "go.exe").st_mode) == 0o750
    with pytest.raises(ValueError, match=r"'D:\\\\x' is not on drive C:"):
        VFS.windows().file("D:\\x").materialise(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="setting owners needs root")
def test_materialise_sets_owners_as_root(tmp_path):
    VFS.posix().dir("/d", 0o750, uid=7, gid=8).file("/d/t", 0o700, uid=9, gid=10).materialise(tmp_path)
    assert (os.stat(tmp_path / "d").st_uid, os.stat(tmp_path / "d").st_gid) == (7, 8)
    assert (os.stat(tmp_path / "d" / "t").st_uid, os.stat(tmp_path / "d" / "t").st_gid) == (9, 10)


def test_describe_is_a_short_ls():
    fs = VFS.posix().symlink("/b/l", "../a/t").file("/a/t", 0o640, uid=5, gid=6).dir("/c", 0o700)
    assert fs.describe() == ["drwxr-xr-x 0:0 /a", "-rw-r----- 5:6 /a/t", "drwxr-xr-x 0:0 /b", "l /b/l -> ../a/t",
                             "drwx------ 0:0 /c"]


# ---------------------------------------------------------------------------
# one scenario on three systems


def test_to_windows_and_parse_files():
    assert compare.to_windows("/x/y") == "C:\\x\\y" and compare.to_windows("/") == "C:\\"
    assert compare.to_windows("a/b") == "a\\b" and compare.to_windows("") == ""
    assert parse_files(["  /bin/tool ", "", "# a note", "/bin/x:644", "/d/", "/e/:700", "/bin/a:b", "/bin/c:",
                        "/bin/d:9", "/", "//"]) == [
        ("file", "/bin/tool", 0o755), ("file", "/bin/x", 0o644), ("dir", "/d", 0o755), ("dir", "/e", 0o700),
        ("file", "/bin/a:b", 0o755), ("file", "/bin/c:", 0o755), ("file", "/bin/d:9", 0o755), ("file", "/", 0o755),
        ("dir", "/", 0o755)]
    with pytest.raises(ValueError) as info:
        parse_files(["bin/tool:644"])
    assert str(info.value) == ("file 'bin/tool:644': write an absolute Unix-style path such as /bin/tool "
                               "(or /bin/tool:644)")


def test_build_fs_writes_each_os_its_way():
    fs = compare.build_fs("windows", ["/opt/bin/tool.exe:700", "/w/"])
    assert {(e.path, e.kind, e.mode) for e in fs.entries} >= {("C:\\opt\\bin\\tool.exe", "file", 0o700),
                                                             ("C:\\w", "dir", 0o755)}
    assert compare.build_fs("darwin", ["/A/t"]).lookup("/a/T", cwd="/").kind == "file"
    assert compare.build_fs("linux", ["/d/:700"]).lookup("/d", cwd="/").mode == 0o700


def test_cross_os_gives_each_os_its_own_spelling():
    c = cross_os("bin/tool", path="/opt/bin::/usr/bin", files=["/w/bin/tool", "/w/bin/tool.exe"], cwd="/w",
                 env={"B": "2", "A": "1"}, pathext=".EXE")
    assert [r.goos for r in c.rows] == ["linux", "darwin", "windows"]
    assert [(r.path, r.name) for r in c.rows] == [("/opt/bin::/usr/bin", "bin/tool"), ("/opt/bin::/usr/bin", "bin/tool"),
                                                  ("C:\\opt\\bin;;C:\\usr\\bin", "bin\\tool")]
    assert c.result("linux").key() == ("bin/tool", None) and c.result("windows").key() == ("bin\\tool.exe", None)
    assert (c.name, c.path, c.files, c.pathext, c.cwd) == ("bin/tool", "/opt/bin::/usr/bin",
                                                          ("/w/bin/tool", "/w/bin/tool.exe"), ".EXE", "/w")
    assert c.env == (("A", "1"), ("B", "2")) and c.differs()
    row = c.rows[2].to_dict()  # flat: the result's fields beside the scenario's (its path wins the name)
    assert row == {"goos": "windows", "path": "bin\\tool.exe", "name": "bin\\tool", "error": None,
                   "message": c.result("windows").message, "source": "modeled"}
    empty = cross_os("tool", path="", cwd="/nowhere/new")
    assert [r.path for r in empty.rows] == ["", "", ""]
    assert all(r.result.error == "ErrNotFound" for r in empty.rows), "the missing cwd is added, not an error"


def test_cross_os_differs_and_pathext_is_windows_only():
    c = cross_os("tool", path="/a", files=["/a/tool.bat"], pathext=".COM")
    assert c.result("windows").error == "ErrNotFound" and c.differs() is False
    d = cross_os("tool", path="/a", files=["/a/tool.bat"])
    assert d.result("windows").key() == ("C:\\a\\tool.bat", None) and d.result("linux").error == "ErrNotFound"
    assert d.differs() is True


def test_cross_os_asks_the_oracles_it_is_given():
    asked = []

    class Oracle:
        def __init__(self, goos):
            self.goos = goos

        def ask(self, name, **kw):
            asked.append((self.goos, name, kw))
            return LookPathResult(f"{self.goos}:{name}", None, "", f"real {self.goos}")

    c = cross_os("tool", path="/a:/b", files=["/a/tool"], cwd="/a", pathext=".X", env={"K": "v"}, real=True,
                 oracles={"linux": Oracle("linux"), "windows": Oracle("windows")})
    assert [r.result.source for r in c.rows] == ["real linux", "modeled", "real windows"]
    (lg, ln, lkw), (wg, wn, wkw) = asked
    assert (lg, ln, lkw["path"], lkw["cwd"], lkw["pathext"], lkw["env"]) == ("linux", "tool", "/a:/b", "/a", None, {"K": "v"})
    assert (wg, wn, wkw["path"], wkw["cwd"], wkw["pathext"]) == ("windows", "tool", "C:\\a;C:\\b", "C:\\a", ".X")
    assert "goos" not in lkw and lkw["fs"].flavor == "posix" and wkw["fs"].flavor == "windows"
    assert wkw["fs"].lookup("C:\\a\\tool", cwd="C:\\").kind == "file"


def test_cross_os_many_keeps_the_order_and_the_titles():
    many = compare.cross_os_many({"b": dict(name="t", path="/x"), "a": dict(name="t", path="/y", files=["/y/t"])})
    assert list(many) == ["b", "a"] and many["a"].result("linux").path == "/y/t"


def test_an_invalid_scenario_is_a_row_with_its_reason():
    c = cross_os("tool", path="/a", files=["/a/t", "/A/T"])
    assert c.result("linux").error == "ErrNotFound"
    bad = c.result("darwin")
    assert (bad.path, bad.error, bad.source) == ("", "invalid scenario", "modeled") and "ignores case" in bad.message


# ---------------------------------------------------------------------------
# explain: the candidates, in order


def steps_of(name, goos, path, files, cwd=None, **kw):
    fs = compare.build_fs(goos, files)
    if cwd and not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return [(s.order, s.source, s.candidate, s.verdict, s.returned)
            for s in explain(name, goos=goos, path=path, fs=fs, cwd=cwd, **kw)]


def test_explain_unix():
    assert steps_of("..", "linux", "/a", []) == [(1, "name", "..", "rejected by validateLookPath", False)]
    assert steps_of("", "windows", "/a", []) == [(1, "name", "", "rejected by validateLookPath", False)]
    assert steps_of("./t", "linux", "/a", ["/w/t"], cwd="/w") == [(1, "name", "./t", "hit", True)]
    assert steps_of("./t", "linux", "/a", ["/w/t:644"], cwd="/w") == [(1, "name", "./t", "EACCES", False)]
    assert steps_of("t", "linux", "/a::/b:/c", ["/w/t", "/b/t"], cwd="/w") == [
        (1, "/a", "/a/t", "ENOENT", False), (2, '"" (means .)', "t", "hit, relative: returned with ErrDot", True)]
    assert steps_of("t", "linux", "/a::/b", ["/w/t"], cwd="/w", env={"GODEBUG": "execerrdot=0"})[-1] == \
        (2, '"" (means .)', "t", "hit", True)
    assert steps_of("t", "linux", "/b", ["/b/t"]) == [(1, "/b", "/b/t", "hit", True)]
    assert steps_of("t", "linux", "/b", ["/b/t:700"], uid=1000) == [(1, "/b", "/b/t", "EACCES", False)]
    assert steps_of("t", "linux", "/b", ["/b/t:700"]) == [(1, "/b", "/b/t", "hit", True)]
    assert steps_of("t", "linux", "", []) == []


def test_explain_windows_direct_names_and_skips():
    assert steps_of("C:\\b\\t", "windows", "", ["/b/t.exe"]) == [(1, "name", "C:\\b\\t.exe", "hit", True)]
    assert steps_of("C:t", "windows", "C:\\b", ["/w/t.exe", "/b/C:t.exe"], cwd="C:\\w") == [
        (1, "name", "C:t.exe", "hit", True)]  # a colon alone makes it a path
    assert steps_of("b/t", "windows", "", []) == [(1, "name", "b/t", "ErrNotFound", False)]
    steps = steps_of("t", "windows", "C:\\a;;C:\\b", ["/b/t.exe"], cwd="C:\\w", pathext=".EXE;.BAT")
    assert steps == [
        (1, "cwd (implicit)", "t{.exe,.bat}", "ErrNotFound", False),
        (2, "C:\\a", "C:\\a\\t{.exe,.bat}", "ErrNotFound", False),
        (3, '""', "", "skipped (empty element)", False), (4, "C:\\b", "C:\\b\\t.exe", "hit", True)]
    skipped = steps_of("t", "windows", "C:\\b", ["/b/t.exe", "/w/t.exe"], cwd="C:\\w",
                       env={"nodefaultcurrentdirectoryinexepath": ""})
    assert skipped[0] == (1, "cwd (implicit)", "C:\\w", "skipped: NoDefaultCurrentDirectoryInExePath is set", False)
    assert skipped[-1][-1] is True and len(skipped) == 2


def test_explain_windows_current_directory_hits():
    at_once = steps_of("t", "windows", "C:\\b", ["/w/t.exe", "/b/t.exe"], cwd="C:\\w", env={"godebug": "execerrdot=0"})
    assert at_once == [(1, "cwd (implicit)", "t.exe", "hit (GODEBUG=execerrdot=0: returned at once)", True)]
    only_cwd = steps_of("t", "windows", "C:\\b", ["/w/t.exe"], cwd="C:\\w")
    assert only_cwd[0][3].startswith("found; held back") and only_cwd[0][4] is True and not only_cwd[1][4]
    relative_same = steps_of("t", "windows", ".;C:\\w", ["/w/t.exe"], cwd="C:\\w")
    assert relative_same[1][3] == "hit: the same file, but relative: still ErrDot" and not relative_same[1][4]
    assert relative_same[2][3] == "hit: the same file as the cwd hit; returned, no error" and relative_same[2][4]
    rel_dir = steps_of("t", "windows", "sub;C:\\b", ["/w/sub/t.exe", "/b/t.exe"], cwd="C:\\w",
                       env={"NoDefaultCurrentDirectoryInExePath": "1"})
    assert rel_dir[1][2:] == ("sub\\t.exe", "hit, relative: held back (ErrDot)", True)
    assert rel_dir[2][2:] == ("C:\\b\\t.exe", "hit: another file, so the held-back cwd hit is returned (ErrDot)",
                              False)
    assert [s[4] for s in rel_dir] == [False, True, False]
    rel_off = steps_of("t", "windows", "sub", ["/w/sub/t.exe"], cwd="C:\\w",
                       env={"NoDefaultCurrentDirectoryInExePath": "1", "GODEBUG": "execerrdot=0"})
    assert rel_off[-1][2:] == ("sub\\t.exe", "hit", True)


def test_explain_cross_uses_what_that_os_was_given():
    c = cross_os("t", path="/b:", files=["/b/t.bat", "/w/t.exe", "/b/t"], cwd="/w", pathext=".BAT",
                 env={"GODEBUG": "execerrdot=0"})
    assert [s.candidate for s in explain_cross(c, "windows")][-1] == "C:\\b\\t.bat"
    linux = explain_cross(c, "linux")
    assert [(s.candidate, s.returned) for s in linux] == [("/b/t", True)]
    assert [(s.candidate, s.verdict) for s in explain_cross(cross_os("t", path="/b", cwd="/new/dir"), "darwin")] == \
        [("/b/t", "ENOENT")]
    one = CrossOS("t", "/b", (), None, "/", (Row("linux", "/b", "t", LookPathResult("", "ErrNotFound")),))
    with pytest.raises(ValueError, match="goos 'windows': the record has linux"):
        explain_cross(one, "windows")
    assert isinstance(explain_cross(one, "linux")[0], Step)


# ---------------------------------------------------------------------------
# the chapter experiments, with stand-in builds


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def builds(monkeypatch, tmp_path):
    """Replace build_go/build_c: each call is recorded and answered by ``answers[name]``
    (a script body, a program's Path, or an exception to raise), name being the built
    directory's or file's name, with "+overlay" or "+cgo" when the call asked for that."""
    calls: list[tuple[str, dict]] = []
    answers: dict[str, object] = {}

    def fake(kind):
        def run(source, **kw):
            src = Path(source)
            key = src.name + ("+overlay" if kw.get("overlay") else "") + ("+cgo" if kw.get("cgo") else "")
            calls.append((key, kw))
            answer = answers.get(key, answers.get(src.name, "exit 0"))
            if isinstance(answer, BaseException):
                raise answer
            n = len(calls)
            exe = answer if isinstance(answer, Path) else script(tmp_path / f"prog{n}", str(answer))
            return build.Binary(str(exe), kind, ("stand-in",), "stand-in", f"key{n}", False)
        return run

    monkeypatch.setattr(build, "build_go", fake("go"))
    monkeypatch.setattr(build, "build_c", fake("c"))
    return calls, answers


def test_cmdenv_runs_the_lab_and_reads_its_report(tmp_path, builds, monkeypatch):
    calls, answers = builds
    answers["cmdenv"] = 'printf \'{"parent": "%s", "x": "%s"}\' "$FC_PARENT" "${FC_X-unset}"'
    monkeypatch.setenv("FC_X", "leaked")
    assert experiments.cmdenv(labs=tmp_path) == {"parent": "inherited", "x": "unset"}
    assert calls == [("cmdenv", {})]
    answers["cmdenv"] = 'echo " broken " >&2; exit 3'
    with pytest.raises(RuntimeError) as info:
        experiments.cmdenv(labs=tmp_path)
    assert str(info.value) == "labs_go/cmdenv failed (3): broken"


def test_linkname_hooks_report_what_the_toolchain_said(tmp_path, builds):
    calls, answers = builds
    answers["nounsafe"] = build.BuildError("x", ["go"], "# example\nfirst\nmissing function body\n")
    answers["body"] = build.BuildError("x", ["go"], "# only a header\n")
    answers["pull_exported"] = 'echo "out"; echo "err $PATH" >&2'
    answers["pull_private"] = build.BuildError("x", ["go"], "link: relocation target not defined\n")
    attempts = experiments.linkname_hooks(labs=tmp_path)
    assert [(a.variant, a.built, a.message, a.ldflags) for a in attempts] == [
        ("nounsafe", False, "missing function body", ""), ("body", False, "# only a header", ""),
        ("pull_private", False, "link: relocation target not defined", ""),
        ("pull_exported", True, "out\nerr /usr/bin:/bin", ""),
        ("pull_private", False, "link: relocation target not defined", "-checklinkname=0")]
    assert [a.what for a in attempts[:4]] == list(experiments.LINKNAME_VARIANTS.values())
    assert attempts[4].what == "the same pull with the linker check turned off"
    assert [kw for _, kw in calls] == [{"tags": ["hookdemo"], "ldflags": None}] * 4 + [
        {"tags": ["hookdemo"], "ldflags": "-checklinkname=0"}]
    assert len(experiments.linkname_hooks(labs=tmp_path, include_checklinkname_off=False)) == 4


def fake_goroot(root: Path, name: str, text: str) -> GoToolchain:
    pkg = root / "src" / "os" / "exec"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / name).write_text(text)
    return GoToolchain(go=str(root / "bin" / "go"), goroot=str(root), version="go1.99", goos="linux",
                       goarch="amd64", source="test")


LOOKPATH_GO = ("package exec\n\nimport (\n\t\"errors\"\n)\n\n"
               "func LookPath(file string) (string, error) {\n\treturn lookPath(file)\n}\n")


def test_overlay_source_renames_lookpath_and_adds_the_hook(tmp_path):
    tc = fake_goroot(tmp_path / "new", "lookpath.go", LOOKPATH_GO)
    original, text = experiments.overlay_source(tc)
    assert original == tmp_path / "new" / "src" / "os" / "exec" / "lookpath.go"
    assert "func lookPathBeforeHook(file string) (string, error) {\n\treturn lookPath(file)" in text
    assert text.count("func LookPath(file string)") == 1
    head, hook = text.split("\n\nimport (\n\thookfilepath", 1)
    assert head == 'package exec\n\nimport (\n\t"errors"\n)' and "FCTOOL_DIR" in hook
    assert hook.index("func LookPath") < hook.index("func lookPathBeforeHook")

    old = fake_goroot(tmp_path / "old", "lp_unix.go", LOOKPATH_GO.replace('import (\n\t"errors"\n)', 'import "errors"'))
    original, text = experiments.overlay_source(old)
    assert original.name == "lp_unix.go" and text.startswith('package exec\n\nimport "errors"\n\nimport (\n\thook')
    bare = fake_goroot(tmp_path / "bare", "lp_unix.go", "package exec // x\n" + LOOKPATH_GO.split(")\n", 1)[1])
    assert experiments.overlay_source(bare)[1].startswith("package exec // x\n\n\nimport (\n\thookfilepath")
    with pytest.raises(RuntimeError, match=r"neither lookpath.go nor lp_unix.go in .* defines .* \(go1.99\)"):
        experiments.overlay_source(fake_goroot(tmp_path / "none", "lookpath.go", "package exec\n"))


def test_overlay_hook_builds_twice_and_runs_with_the_tool_dir(tmp_path, builds, monkeypatch, private_cache):
    calls, answers = builds
    tc = fake_goroot(tmp_path / "goroot", "lookpath.go", LOOKPATH_GO)
    monkeypatch.setattr(experiments, "find_go", lambda: tc)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    answers["hook_overlay"] = 'echo "plain: $PATH"; exit 1'
    answers["hook_overlay+overlay"] = '"$FCTOOL_DIR/fctool"'
    run = experiments.overlay_hook(labs=tmp_path)
    assert run == experiments.OverlayRun(str(tc.goroot) + "/src/os/exec/lookpath.go", "plain: /usr/bin:/bin", 1,
                                         "custom-tool-ran", 0)
    (_, plain), (_, hooked) = calls
    assert plain == {} and list(hooked) == ["overlay"]
    (original, replacement), = hooked["overlay"].items()
    assert Path(original).name == "lookpath.go" and Path(replacement).parent == private_cache / "overlays" / "lookpath"
    assert Path(replacement).read_text() == experiments.overlay_source(tc)[1]
    assert list((tmp_path / "tmp").iterdir()) == [], "the tool directory is removed"
    experiments.overlay_hook(labs=tmp_path)  # the same replacement again: reused
    assert calls[-1][1]["overlay"] == {original: replacement}


def test_split_list_runs_the_lab_once_for_all_paths(tmp_path, builds):
    calls, answers = builds
    answers["lookpath_splitlist"] = 'while read -r line; do echo "[$line]"; done'
    assert experiments.split_list(["/a:/b", ""], goos="linux", labs=tmp_path) == [["/a:/b"], [""]]
    assert calls == [("lookpath_splitlist", {"goos": "linux", "goarch": "amd64"})]
    answers["lookpath_splitlist"] = 'read -r line; echo "[$line]"; echo "it broke" >&2; exit 2'
    with pytest.raises(RuntimeError) as info:
        experiments.split_list(["a", "b"], goos="linux", labs=tmp_path)
    assert str(info.value) == "lookpath_splitlist for linux exited 2 with 1 of 2 answers: it broke"
    answers["lookpath_splitlist"] = 'while read -r line; do echo "[$line]"; done; exit 1'
    with pytest.raises(RuntimeError, match="exited 1 with 1 of 1 answers"):
        experiments.split_list(["a"], goos="linux", labs=tmp_path)
    with pytest.raises(ValueError, match="goos='darwin': split_list runs real Go for 'linux' or 'windows'"):
        experiments.split_list(["a"], goos="darwin", labs=tmp_path)


def test_which_needs_a_bare_name_and_the_which_program(monkeypatch):
    with pytest.raises(ValueError, match="name='': give a bare program name"):
        experiments.which("", path="/bin")
    with pytest.raises(ValueError, match="name='a/b'"):
        experiments.which("a/b", path="/bin")
    monkeypatch.setattr(experiments.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="which is not installed"):
        experiments.which("prog", path="/bin")


@pytest.mark.skipif(not Path("/bin/bash").is_file(), reason="the stand-in programs are bash")
def test_ldpreload_hooks_run_each_program_under_the_hook(tmp_path, builds, monkeypatch):
    calls, answers = builds
    # Each "program" is bash under another name (a dynamic ELF); $BASH_ENV plays the hook's part.
    for name in ("caller", "nocgo", "cgo"):
        (tmp_path / name).symlink_to("/bin/bash")
    answers.update({"caller.c": tmp_path / "caller", "hook_ldpreload": tmp_path / "nocgo",
                    "hook_ldpreload+cgo": tmp_path / "cgo", "hook.c": tmp_path / "hook.so"})
    script(tmp_path / "hook.sh", """case "$0:$LD_PRELOAD" in
*/caller:*/hook.so) echo "[hook.so] constructor ran" >&2; echo "[hook.so] execve intercepted" >&2;;
*/cgo:*/hook.so) echo "[hook.so] constructor ran" >&2;;
esac
echo " out of ${0##*/} " """)
    monkeypatch.setenv("BASH_ENV", str(tmp_path / "hook.sh"))
    runs = experiments.ldpreload_hooks(labs=tmp_path)
    assert [(r.program, r.dynamic, r.constructor_ran, r.execve_intercepted, r.stdout) for r in runs] == [
        ("C (libc execve)", True, True, True, "out of caller"),
        ("Go, CGO_ENABLED=0", True, False, False, "out of nocgo"),
        ("Go with cgo", True, True, False, "out of cgo")]
    assert runs[0].stderr.endswith("[hook.so] constructor ran\n[hook.so] execve intercepted")
    assert calls == [("hook.c", {"shared": True, "ldflags": ["-ldl"], "name": "hook"}),
                     ("caller.c", {"name": "caller"}), ("hook_ldpreload", {"cgo": False}),
                     ("hook_ldpreload+cgo", {"cgo": True})]


@pytest.mark.skipif(sys.platform != "linux" or not shutil.which("which"), reason="needs Debian's which")
def test_which_finds_a_program_through_an_empty_path_element():
    assert experiments.which("myprog", path="/bin:/usr/bin:") == "./myprog"
    assert experiments.which("myprog", path="/nowhere") == ""
