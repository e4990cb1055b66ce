"""Property tests: the Python LookPath model equals real Go, scenario by scenario.

Hypothesis draws random PATH strings (empty elements, relative and absolute
directories, "..", files where directories are expected, quotes on Windows)
and random file layouts (modes, owners, directories named like programs,
symbolic links); each scenario is materialised in a fresh directory and put
to ONE long-lived Go process per OS (natively on Linux, a GOOS=windows build
under Wine). A disagreement shrinks to a small scenario; copy it into
tests/test_lookpath_regressions.py.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, event, given, settings, strategies as st

from gorun_kit import lookpath as lp
from gorun_kit.lookpath import wine
from gorun_kit.lookpath.real import Unsupported, session

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=500, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---------------------------------------------------------------- linux scenarios
UNIX_DIRS = ["/a", "/b", "/a/b", "/w", "/w/sub"]
UNIX_NAMES = ["tool", "tool", "tool", "Tool", "x"]  # weighted: most files and names meet
UIDS = [0, 65534]


@st.composite
def unix_scenarios(draw):
    fs = lp.default_fs("linux")
    for d in draw(st.lists(st.sampled_from(UNIX_DIRS), max_size=5, unique=True)):
        fs = fs.dir(d, mode=draw(st.sampled_from([0o755, 0o755, 0o700, 0o711, 0o000, 0o644])),
                    uid=draw(st.sampled_from(UIDS)), gid=draw(st.sampled_from(UIDS)))
    entries = draw(st.lists(st.tuples(st.sampled_from(UNIX_DIRS + [""]), st.sampled_from(UNIX_NAMES)),
                            min_size=1, max_size=6, unique=True))
    for d, n in entries:
        path = f"{d}/{n}"
        kind = draw(st.sampled_from(["file"] * 6 + ["dir", "symlink"]))
        if any(e.path == path or e.path.startswith(path + "/") for e in fs.entries) or \
                any(path.startswith(e.path + "/") and e.kind != "dir" for e in fs.entries):
            continue
        if kind == "file":
            fs = fs.file(path, mode=draw(st.sampled_from([0o755, 0o755, 0o755, 0o644, 0o700, 0o710, 0o701, 0o100,
                                                          0o001, 0o000])),
                         uid=draw(st.sampled_from(UIDS)), gid=draw(st.sampled_from(UIDS)))
        elif kind == "dir":
            fs = fs.dir(path)
        else:
            targets = ["/a/tool", "tool", "/w", "/nowhere", "x", "/a/b/../tool"] + (["../b/tool"] if d else [])
            fs = fs.symlink(path, draw(st.sampled_from(targets)))
    elements = st.sampled_from(["/a", "/b", "/a/b", "/w"] * 3 + ["", ".", "w", "a", "..", "sub", "/a/../b",
                                                                 "/missing", "/a/tool", "/w/", "//a", "./w/sub"])
    path = ":".join(draw(st.lists(elements, min_size=draw(st.sampled_from([0] + [1] * 9)), max_size=5)))
    name = draw(st.sampled_from(UNIX_NAMES * 3 + ["./tool", "a/tool", "/a/tool", "../tool", "tool/",
                                              "/w", "sub/x", "", ".", "..", "/a/b/../tool"]))
    cwd = draw(st.sampled_from(["/", "/w", "/a", "/w/sub"]))
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    env = draw(st.sampled_from([{}, {}, {}, {"GODEBUG": "execerrdot=0"}]))
    uid = draw(st.sampled_from(UIDS))
    return dict(name=name, path=path, fs=fs, cwd=cwd, env=env, uid=uid)


@pytest.fixture(scope="module")
def linux_oracles():
    if os.geteuid() != 0:
        pytest.skip("the uid 65534 runs need root (to start the oracle as another user)")
    with session("linux") as root, session("linux", uid=65534, gid=65534) as nobody:
        yield {0: root, 65534: nobody}


@SETTINGS
@given(unix_scenarios())
def test_model_equals_go_on_linux(linux_oracles, sc):
    try:
        lp.lookpath(sc["name"], goos="linux", path=sc["path"], fs=sc["fs"], cwd=sc["cwd"], env=sc["env"],
                    uid=sc["uid"])
    except ValueError:
        assume(False)  # the cwd cannot be entered by this uid: not a scenario
    model = lp.lookpath(sc["name"], goos="linux", path=sc["path"], fs=sc["fs"], cwd=sc["cwd"],
                        env=sc["env"], uid=sc["uid"])
    try:
        go = linux_oracles[sc["uid"]].ask(sc["name"], path=sc["path"], fs=sc["fs"], cwd=sc["cwd"], env=sc["env"])
    except Unsupported:
        assume(False)  # climbs above the scenario root: cannot be put on disk faithfully
    event(f"uid {sc['uid']}: {model.error or 'found'}")
    assert model.key() == go.key(), (sc["fs"].describe(), model, go)
    if model.error in ("ErrDot", "ErrNotFound", "EISDIR", "EACCES") or model.error is None:
        assert model.message == go.message


# ---------------------------------------------------------------- windows scenarios
WIN_DIRS = ["C:\\a", "C:\\b", "C:\\a\\b", "C:\\w", "C:\\q;d"]
WIN_FILES = ["tool.exe", "tool.exe", "TOOL.EXE", "tool.bat", "tool.com", "tool", "tool.ps1", "tool.bat.exe",
             "x.ps1", "x.CMD", "x"]


@st.composite
def windows_scenarios(draw):
    fs = lp.default_fs("windows")
    for d in draw(st.lists(st.sampled_from(WIN_DIRS), max_size=5, unique=True)):
        fs = fs.dir(d)
    seen = set()
    for d, n in draw(st.lists(st.tuples(st.sampled_from(WIN_DIRS + ["C:"]), st.sampled_from(WIN_FILES)),
                              min_size=1, max_size=7)):
        path = f"{d}\\{n}"
        if path.lower() in seen:
            continue
        seen.add(path.lower())
        fs = fs.dir(path) if draw(st.integers(0, 7)) == 0 else fs.file(path)
    elements = st.sampled_from(["C:\\a", "C:\\b", "c:\\a\\b", "C:\\w"] * 2 + ["", "a", ".\\w", "w", "\\a",
                                "C:\\a\\..\\b", "C:/a", "C:\\missing", '"C:\\q;d"', "C:\\w\\", "C:\\a\\tool.exe"])
    path = ";".join(draw(st.lists(elements, min_size=draw(st.sampled_from([0] + [1] * 9)), max_size=5)))
    name = draw(st.sampled_from(["tool"] * 8 + ["TOOL", "tool.exe", "tool.bat", "x", "x.ps1", "tool.EXE",
                                 ".\\tool", "a\\tool", "C:\\a\\tool", "C:\\a\\tool.bat", "\\a\\tool",
                                 "a/tool", "C:\\w", "", ".", ".."]))
    pathext = draw(st.sampled_from([None, None, "", ".exe", ".EXE;.bat", "exe;.PS1", ";", ".ps1;;.cmd",
                                    ".COM;.EXE;.BAT;.CMD;.PS1"]))
    cwd = draw(st.sampled_from(["C:\\", "C:\\w", "C:\\a"]))
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    env = draw(st.sampled_from([{}, {}, {"NoDefaultCurrentDirectoryInExePath": ""},
                                {"GODEBUG": "execerrdot=0"}]))
    return dict(name=name, path=path, fs=fs, cwd=cwd, env=env, pathext=pathext)


@pytest.fixture(scope="module")
def windows_oracle():
    ok, why = wine.available()
    if not ok:
        pytest.skip(f"Windows runs need Wine: {why}")
    with session("windows") as oracle:
        yield oracle


@SETTINGS
@given(windows_scenarios())
def test_model_equals_go_on_windows_under_wine(windows_oracle, sc):
    try:
        model = lp.lookpath(sc["name"], goos="windows", path=sc["path"], fs=sc["fs"], cwd=sc["cwd"],
                            env=sc["env"], pathext=sc["pathext"])
    except ValueError:
        assume(False)
    go = windows_oracle.ask(sc["name"], path=sc["path"], fs=sc["fs"], cwd=sc["cwd"], env=sc["env"],
                            pathext=sc["pathext"])
    event(f"{model.error or 'found'}")
    assert model.key() == go.key(), (sc["fs"].describe(), model, go)
    if model.error in ("ErrDot", "ErrNotFound") or model.error is None:
        assert model.message == go.message
