"""The cross-OS comparison and its explanation at the edges: file specs with
colons, names that hold unusual letters, the group bit, and the real-Go
branches with stand-ins for Go (no Go process starts here).
"""
from __future__ import annotations

import contextlib
import sys

import pytest

import gorun_kit.lookpath as lp
from gorun_kit.lookpath import compare
from gorun_kit.lookpath.compare import cross_os, explain, parse_files
from gorun_kit.lookpath.result import LookPathResult

real_module = sys.modules["gorun_kit.lookpath.real"]  # the package's attribute "real" is the function


def test_a_mode_is_read_after_the_last_colon_only():
    assert parse_files(["/a:b/c:644", "/a:700/t", "/bin/a:X", "/bin/a:8", "/d:1/:700"]) == [
        ("file", "/a:b/c", 0o644), ("file", "/a:700/t", 0o755), ("file", "/bin/a:X", 0o755),
        ("file", "/bin/a:8", 0o755), ("dir", "/d:1", 0o700)]


def test_a_relative_spec_is_refused_even_with_a_mode():
    for spec in ("755", "t:644", ":644"):
        with pytest.raises(ValueError, match=f"file {spec!r}: write an absolute Unix-style path"):
            parse_files([spec])


def test_comment_lines_and_blank_lines_are_skipped_only_at_their_start():
    assert parse_files(["  # note", "\t", "/a#b"]) == [("file", "/a#b", 0o755)]


@pytest.mark.parametrize("name", ["Xt", "XX", "t"])
def test_windows_names_with_any_letters_are_searched_for(name):
    steps = explain(name, goos="windows", path="C:\\b", fs=compare.build_fs("windows", [f"/b/{name}.exe"]))
    assert [(s.source, s.candidate, s.returned) for s in steps] == [
        ("cwd (implicit)", f"{name}{{.com,.exe,.bat,.cmd}}", False), ("C:\\b", f"C:\\b\\{name}.exe", True)]


def test_a_backslash_alone_makes_a_windows_name_a_path():
    fs = compare.build_fs("windows", ["/w/sub/t.exe", "/b/t.exe"]).dir("C:\\w")
    steps = explain("sub\\t", goos="windows", path="C:\\b", fs=fs, cwd="C:\\w")
    assert [(s.source, s.candidate, s.verdict, s.returned) for s in steps] == [("name", "sub\\t.exe", "hit", True)]


def test_explain_on_unix_uses_the_uid_as_the_group():
    fs = lp.default_fs("linux").file("/b/t", 0o010, uid=5, gid=1000)
    assert [(s.verdict, s.returned) for s in explain("t", goos="linux", path="/b", fs=fs, uid=1000)] == [("hit", True)]
    assert [(s.verdict, s.returned) for s in explain("t", goos="linux", path="/b", fs=fs, uid=1001)] == [
        ("EACCES", False)]
    direct = explain("/b/t", goos="linux", path="", fs=fs, uid=1000)
    assert [(s.verdict, s.returned) for s in direct] == [("hit", True)]


def test_explain_defaults_to_an_empty_filesystem_at_the_root():
    assert [(s.candidate, s.verdict) for s in explain("t", goos="linux", path="/b")] == [("/b/t", "ENOENT")]
    assert [(s.candidate, s.verdict) for s in explain("t", goos="windows", path="", pathext=".EXE")] == [
        ("t{.exe}", "ErrNotFound")]


def test_explain_agrees_with_the_model_on_the_relative_path_element():
    fs = compare.build_fs("linux", ["/w/t"]).dir("/w")
    steps = explain("t", goos="linux", path="/a:.", fs=fs, cwd="/w")
    model = lp.lookpath("t", goos="linux", path="/a:.", fs=fs, cwd="/w")
    assert [(s.candidate, s.returned) for s in steps][-1] == (model.path, True) and model.error == "ErrDot"


# ---------------------------------------------------------------- real Go, stood in for


def test_cross_os_without_oracles_asks_real_go_once_per_os(monkeypatch):
    asked = []

    def fake_real(name, **kw):
        asked.append((name, kw["goos"], kw["path"], kw["cwd"], kw["pathext"], kw["env"]))
        return LookPathResult(f"{kw['goos']}:{name}", None, "", f"real {kw['goos']}")

    monkeypatch.setattr(lp, "real", fake_real)
    c = cross_os("sub/t", path="/a", files=["/a/t"], cwd="/w", pathext=".X", env={"K": "v"}, real=True)
    assert asked == [("sub/t", "linux", "/a", "/w", None, {"K": "v"}),
                     ("sub\\t", "windows", "C:\\a", "C:\\w", ".X", {"K": "v"})]
    assert [(r.goos, r.result.source) for r in c.rows] == [("linux", "real linux"), ("darwin", "modeled"),
                                                           ("windows", "real windows")]
    assert c.result("linux").path == "linux:sub/t"


def test_cross_os_many_puts_every_scenario_to_one_oracle_per_os(monkeypatch):
    opened = []

    class Oracle:
        def __init__(self, goos):
            self.goos = goos
            self.names = []

        def ask(self, name, **kw):
            self.names.append(name)
            return LookPathResult(name, None, "", f"real {self.goos}")

    @contextlib.contextmanager
    def fake_session(goos, **kw):
        oracle = Oracle(goos)
        opened.append(oracle)
        yield oracle

    monkeypatch.setattr(real_module, "session", fake_session)
    many = compare.cross_os_many({"first": dict(name="a", path="/x"), "second": dict(name="b", path="/y")}, real=True)
    assert [o.goos for o in opened] == ["linux", "windows"]
    assert [o.names for o in opened] == [["a", "b"], ["a", "b"]]
    assert list(many) == ["first", "second"]
    assert [r.result.source for r in many["second"].rows] == ["real linux", "modeled", "real windows"]


def test_cross_os_many_without_real_starts_no_oracle(monkeypatch):
    def no_session(goos, **kw):
        raise AssertionError("no oracle is needed")

    monkeypatch.setattr(real_module, "session", no_session)
    many = compare.cross_os_many({"only": dict(name="t", path="/x", files=["/x/t"])})
    assert {r.result.source for r in many["only"].rows} == {"modeled"}


def test_explain_cross_names_the_systems_a_record_has():
    c = cross_os("t", path="/b")
    partial = compare.CrossOS(c.name, c.path, c.files, c.pathext, c.cwd, c.rows[:2], c.env)
    with pytest.raises(ValueError) as info:
        compare.explain_cross(partial, "windows")
    assert str(info.value) == "goos 'windows': the record has linux, darwin"


def steps(name, goos, path, files, cwd=None, **kw):
    fs = compare.build_fs(goos, files)
    if cwd and not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return [(s.order, s.source, s.candidate, s.verdict, s.returned)
            for s in explain(name, goos=goos, path=path, fs=fs, cwd=cwd, **kw)]


def test_explain_refuses_a_missing_cwd_and_says_how_to_add_it():
    with pytest.raises(ValueError) as info:
        explain("t", goos="linux", path="/b", cwd="/home/me")
    assert str(info.value) == ("cwd '/home/me' is not a directory of the scenario's filesystem; add it (a files "
                               "entry ending in '/', or fs.dir(...))")


@pytest.mark.parametrize("goos", ["linux", "darwin", "windows"])
def test_explain_rejects_dot_names_on_every_system(goos):
    for name in ("", ".", ".."):
        assert steps(name, goos, "/b", ["/b/t"]) == [(1, "name", name, "rejected by validateLookPath", False)]


def test_an_empty_unix_element_is_named_in_every_step():
    assert steps("t", "linux", ":/b", ["/b/t"], cwd="/w") == [
        (1, '"" (means .)', "t", "ENOENT", False), (2, "/b", "/b/t", "hit", True)]


def test_explain_on_unix_checks_a_direct_name_as_the_uid():
    fs = lp.default_fs("linux").file("/b/t", 0o100, uid=1000, gid=5)
    assert [(s.verdict, s.returned) for s in explain("/b/t", goos="linux", path="", fs=fs, uid=1000)] == [
        ("hit", True)]
    assert [(s.verdict, s.returned) for s in explain("/b/t", goos="linux", path="", fs=fs, uid=5)] == [
        ("EACCES", False)]


def test_explain_on_windows_starts_in_the_root_of_c():
    assert steps("t", "windows", "", ["/t.exe"]) == [(1, "cwd (implicit)", "t.exe", compare._HELD, True)]
    skipped = explain("t", goos="windows", path="", env={"NoDefaultCurrentDirectoryInExePath": "1"})
    assert [(s.candidate, s.verdict) for s in skipped] == [
        ("C:\\", "skipped: NoDefaultCurrentDirectoryInExePath is set")]


def test_every_windows_step_names_its_path_element():
    same = steps("t", "windows", ".;C:\\w", ["/w/t.exe"], cwd="C:\\w")
    assert same == [(1, "cwd (implicit)", "t.exe", compare._HELD, False),
                    (2, ".", "t.exe", "hit: the same file, but relative: still ErrDot", False),
                    (3, "C:\\w", "C:\\w\\t.exe", "hit: the same file as the cwd hit; returned, no error", True)]
    other = steps("t", "windows", "C:\\b", ["/w/t.exe", "/b/t.exe"], cwd="C:\\w")
    assert other[1] == (2, "C:\\b", "C:\\b\\t.exe",
                        "hit: another file, so the held-back cwd hit is returned (ErrDot)", False)
    relative = steps("t", "windows", "sub;C:\\b", ["/w/sub/t.exe", "/b/t.exe"], cwd="C:\\w",
                     env={"NoDefaultCurrentDirectoryInExePath": "1"})
    assert relative[1] == (2, "sub", "sub\\t.exe", "hit, relative: held back (ErrDot)", True)
