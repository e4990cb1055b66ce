"""The Linux LookPath oracle (gorun_kit.lookpath.real) as a program talking to real Go.

Each test opens its own oracle session (a process start, milliseconds once the
oracle is built), so every test is a separate run of the code it checks. The
model is the reference for what a scenario's answer must be; the oracle's job
is to put the scenario on disk, ask, and translate the answer back without a
trace of where the scenario lived. Stand-in oracles (small scripts) show what
happens when the process misbehaves.
"""
from __future__ import annotations

import importlib
import os
import re
import stat
import sys
import tempfile
import textwrap
import types

import pytest

from gorun_kit import lookpath as lp
from gorun_kit.lookpath import wine
from gorun_kit.lookpath.real import Unsupported, session

real = importlib.import_module("gorun_kit.lookpath.real")  # the package's `real` is a function

pytestmark = [pytest.mark.live, pytest.mark.skipif(sys.platform != "linux", reason="the oracle runs on Linux")]

FS = (lp.default_fs("linux").dir("/opt/bin").file("/opt/bin/tool").dir("/w").dir("/w/bin").file("/w/bin/here")
      .file("/w/secret", 0o700).file("/w/plain", 0o644))


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The oracle's temporary directories go under tmp_path, to be counted."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _agree(oracle, name, *, path, cwd="/", fs=FS, env=None):
    """The real answer equals the model's, message included, and carries no on-disk path."""
    model = lp.lookpath(name, goos="linux", path=path, fs=fs, cwd=cwd, env=env)
    got = oracle.ask(name, path=path, fs=fs, cwd=cwd, env=env)
    assert (got.path, got.error, got.message) == (model.path, model.error, model.message), (model, got)
    assert got.source == "real"
    assert tempfile.gettempdir() not in got.path + got.message
    return got


def test_an_absolute_find_comes_back_as_the_scenario_path(scratch):
    with session("linux") as oracle:
        assert _agree(oracle, "tool", path="/usr/bin:/opt/bin").path == "/opt/bin/tool"


def test_a_failure_message_names_the_scenario_path_not_the_disk(scratch):
    with session("linux") as oracle:
        got = _agree(oracle, "/opt/bin/missing", path="")
        assert got.error == "ENOENT" and "/opt/bin/missing" in got.message


def test_relative_entries_and_names_are_asked_from_the_cwd(scratch):
    with session("linux") as oracle:
        assert _agree(oracle, "here", path="bin", cwd="/w").key() == ("bin/here", "ErrDot")
        assert _agree(oracle, "./bin/here", path="", cwd="/w").key() == ("./bin/here", None)
        assert _agree(oracle, "../opt/bin/tool", path="", cwd="/w").key() == ("../opt/bin/tool", None)
        assert _agree(oracle, "tool", path="/opt/bin", cwd="/w/bin/").path == "/opt/bin/tool"
        fs = FS.dir("/wX").dir("/wX/bin").file("/wX/bin/there")
        assert _agree(oracle, "there", path="bin", cwd="/wX", fs=fs).key() == ("bin/there", "ErrDot")


def test_the_environment_reaches_go(scratch):
    with session("linux") as oracle:
        assert _agree(oracle, "here", path="bin", cwd="/w").error == "ErrDot"
        assert _agree(oracle, "here", path="bin", cwd="/w", env={"GODEBUG": "execerrdot=0"}).error is None


@pytest.mark.parametrize("name, path, cwd", [
    ("../../tool", "", "/w"),         # a relative name
    ("tool", "../..", "/w"),          # a relative PATH entry
    ("tool", "a/../../..", "/w"),
    ("tool", "./../..", "/w"),        # "." stays where it is
    ("/../opt/bin/tool", "", "/"),    # an absolute name
    ("tool", "/opt/bin/../../..", "/"),  # an absolute PATH entry
    ("tool", "/w:/..", "/"),
    ("tool", "/opt/bin", "/.."),      # the cwd itself
])
def test_a_scenario_that_climbs_above_its_root_is_refused(scratch, name, path, cwd):
    # "/.." is "/" on a real system; on disk it is the directory holding the scenario, so
    # Go would answer about another place than the model's. The oracle refuses instead.
    relative = (name if "/" in name and not name.startswith("/") else
                next((d for d in path.split(":") if d and not d.startswith("/")), None))
    if relative is not None:
        why = (rf"^{re.escape(repr(relative))} from cwd {re.escape(repr(cwd))} climbs above the scenario's root; "
               r"on disk that would leave the scenario directory, so it cannot be asked$")
    else:
        why = "^'[^']*'" + re.escape(""" climbs above the scenario's root ("/.." is "/" on a real system, but on """
                                     "disk it would leave the scenario directory), so it cannot be asked") + "$"
    with session("linux") as oracle:
        with pytest.raises(Unsupported, match=why):
            oracle.ask(name, path=path, fs=FS, cwd=cwd)
        assert oracle._proc.poll() is None  # refused before asking: the session goes on
        assert _agree(oracle, "tool", path="/opt/bin").path == "/opt/bin/tool"


@pytest.mark.parametrize("name, path, cwd", [
    ("../opt/bin/tool", "", "/w"), ("tool", "x/../../opt/bin", "/w"), ("tool", "/w/../opt/bin", "/"),
    ("tool", "/opt/bin", "/w/.."), ("/w/../opt/bin/tool", "", "/"),
])
def test_dot_dot_that_stays_inside_is_asked(scratch, name, path, cwd):
    fs = FS.dir("/w/x")
    with session("linux") as oracle:
        _agree(oracle, name, path=path, cwd=cwd, fs=fs)


def test_a_cwd_the_scenario_lacks_is_reported_as_unaskable(scratch):
    with session("linux") as oracle:
        with pytest.raises(RuntimeError, match=r"^lookpath oracle could not run the scenario: chdir: "):
            oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/nowhere")


def test_every_scenario_directory_is_removed_and_close_removes_the_rest(scratch):
    with session("linux") as oracle:
        (base,) = scratch.iterdir()
        assert base.name.startswith("gorun-kit-lookpath-linux-")
        assert stat.S_IMODE(base.stat().st_mode) == 0o755
        for n in range(3):
            _agree(oracle, "tool", path="/opt/bin")
            assert list(base.iterdir()) == []
        with pytest.raises(Unsupported):
            oracle.ask("tool", path="..", fs=FS, cwd="/")
        assert list(base.iterdir()) == []
        assert oracle.asked == 4
        proc = oracle._proc
    assert proc.returncode == 0  # its stdin closed, the oracle ended by itself
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="asking as another user needs root")
def test_another_user_is_refused_what_root_may_run():
    # (the default temporary directory: another user cannot enter pytest's tmp_path)
    # /w/secret is 0700 root's: root may run it, uid 65534 may not (EACCES, as the model says).
    with session("linux") as oracle:
        assert _agree(oracle, "/w/secret", path="").error is None
    with session("linux", uid=65534) as oracle:
        assert (oracle.uid, oracle.gid) == (65534, 65534)
        model = lp.lookpath("/w/secret", goos="linux", path="", fs=FS, cwd="/", uid=65534, gid=65534)
        got = oracle.ask("/w/secret", path="", fs=FS, cwd="/")
        assert got.key() == model.key() == ("", "EACCES")
        assert got.message == model.message
    assert lp.lookpath("/w/secret", goos="linux", path="", fs=FS, cwd="/", uid=65534).error == "EACCES"
    assert real.ask("/w/secret", goos="linux", path="", fs=FS, cwd="/", uid=65534).error == "EACCES"
    assert real.ask("/w/secret", goos="linux", path="", fs=FS, cwd="/", uid=0).error is None


@pytest.mark.skipif(os.geteuid() != 0, reason="asking as another user needs root")
def test_the_group_is_asked_as_given():
    fs = FS.file("/w/group", 0o710, uid=0, gid=4242)
    with session("linux", uid=65534, gid=4242) as oracle:
        assert oracle.gid == 4242
        assert oracle.ask("/w/group", path="", fs=fs, cwd="/").error is None
    with session("linux", uid=65534) as oracle:
        assert oracle.ask("/w/group", path="", fs=fs, cwd="/").error == "EACCES"
    assert real.ask("/w/group", goos="linux", path="", fs=fs, cwd="/", uid=65534, gid=4242).error is None


@pytest.mark.skipif(os.geteuid() != 0, reason="asking as another user needs root")
def test_a_temporary_directory_closed_to_the_user_is_named(tmp_path, monkeypatch):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(closed))
    with pytest.raises(Unsupported, match=rf"^uid 65534 cannot enter {closed}/gorun-kit-lookpath-linux-\w+: a "
                                          r"directory above it is closed to that user; set TMPDIR to a directory "
                                          r"every user may enter \(such as /tmp\)$"):
        real.Oracle("linux", uid=65534)
    assert list(closed.iterdir()) == []


def test_asking_as_another_user_without_root_says_so(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "getegid", lambda: 1000)
    with pytest.raises(Unsupported, match=r"^asking Go as uid 0 needs root \(this is uid 1000\)$"):
        real.Oracle("linux", uid=0)
    with pytest.raises(Unsupported, match=r"^asking Go as uid 1000 needs root \(this is uid 1000\)$"):
        real.Oracle("linux", uid=1000, gid=0)


def test_what_cannot_be_asked_is_refused_with_the_reason(monkeypatch):
    with pytest.raises(Unsupported, match=r"^darwin: there is no macOS here to ask; darwin results are modeled only$"):
        real.Oracle("darwin")
    with pytest.raises(ValueError, match=r"^goos 'plan9': real runs exist for linux and windows$"):
        real.Oracle("plan9")
    with pytest.raises(ValueError, match=r"^pathext is a Windows setting$"):
        real.ask("tool", goos="linux", path="", fs=FS, cwd="/", pathext=".EXE")
    monkeypatch.setattr(wine, "available", lambda: (False, "wine64 not found"))
    with pytest.raises(Unsupported, match=r"^windows runs need Wine and mingw-w64: wine64 not found$"):
        real.Oracle("windows")
    monkeypatch.setattr(wine, "available", lambda: (True, "wine-8.0"))
    with pytest.raises(ValueError, match=r"^uid applies to linux runs only$"):
        real.Oracle("windows", uid=os.geteuid() + 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(Unsupported, match=r"^real runs need Linux \(this is darwin\)$"):
        real.Oracle("linux")


# ------------------------------------------------------------------ stand-in oracles
def _stand_in(tmp_path, monkeypatch, body: str):
    script = tmp_path / "oracle.py"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n" + textwrap.dedent(body))
    script.chmod(0o755)
    monkeypatch.setattr(real, "oracle_binary", lambda goos: types.SimpleNamespace(path=os.fspath(script)))


def test_an_oracle_that_dies_is_reported_with_its_status_and_stderr(scratch, monkeypatch):
    _stand_in(scratch, monkeypatch, """
        sys.stdin.readline()
        sys.stderr.write("panic: out of luck")
        sys.exit(3)
    """)
    with session("linux") as oracle:
        with pytest.raises(RuntimeError, match=r"oracle died \(exit status 3\); its stderr: 'panic: out of luck'"):
            oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/")
        with pytest.raises(RuntimeError, match=r"^the linux lookpath oracle exited \(3\): $"):
            oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/")
    assert [p.name for p in scratch.iterdir()] == ["oracle.py"]


def test_an_oracle_that_does_not_answer_is_stopped(scratch, monkeypatch):
    _stand_in(scratch, monkeypatch, """
        sys.stdin.readline()
        open(sys.argv[0] + ".pid", "w").write(str(__import__("os").getpid()))
        time.sleep(60)
    """)
    monkeypatch.setattr(real, "_TIMEOUT", 1)
    with session("linux") as oracle:
        with pytest.raises(TimeoutError, match=r"^the linux lookpath oracle did not answer within 1 s; it was stopped$"):
            oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/")
        assert oracle._proc.poll() is not None  # stopped, not left sleeping
    assert sorted(p.name for p in scratch.iterdir()) == ["oracle.py", "oracle.py.pid"]


def test_an_oracle_that_lingers_after_close_is_killed(scratch, monkeypatch):
    _stand_in(scratch, monkeypatch, """
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.stdin.readline()
        time.sleep(60)
    """)
    monkeypatch.setattr(real, "_TIMEOUT", 1)
    oracle = real.Oracle("linux")
    oracle.close()
    assert oracle._proc.returncode == -9
    assert [p.name for p in scratch.iterdir()] == ["oracle.py"]


def test_the_one_question_function_asks_as_root_with_the_environment_given(scratch):
    assert real.ask("/w/secret", goos="linux", path="", fs=FS, cwd="/").key() == ("/w/secret", None)
    assert real.ask("here", goos="linux", path="bin", fs=FS, cwd="/w").error == "ErrDot"
    assert real.ask("here", goos="linux", path="bin", fs=FS, cwd="/w",
                    env={"GODEBUG": "execerrdot=0"}).key() == ("bin/here", None)
    assert list(scratch.iterdir()) == []


def test_an_oracle_that_exited_is_reported_with_the_end_of_its_stderr(scratch, monkeypatch):
    said = "".join(chr(ord("a") + i % 26) for i in range(2990))
    _stand_in(scratch, monkeypatch, f"""
        sys.stderr.write({said!r})
        sys.exit(4)
    """)
    with session("linux") as oracle:
        oracle._proc.wait()
        with pytest.raises(RuntimeError) as err:
            oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/")
    assert str(err.value) == "the linux lookpath oracle exited (4): " + said[-2000:]


# ------------------------------------------------------------------ Windows, under Wine
def _wine_or_skip():
    ok, why = wine.available()
    if not ok:
        pytest.skip(f"Windows runs need Wine: {why}")


WIN = lp.default_fs("windows").dir("C:\\bin").file("C:\\bin\\tool.exe").file("C:\\bin\\tool.com")


def test_windows_paths_come_back_in_the_drive_and_case_they_were_asked_in():
    _wine_or_skip()
    for path in ("C:\\bin", "c:\\bin"):
        model = lp.lookpath("tool", goos="windows", path=path, fs=WIN, cwd="C:\\", pathext=".EXE")
        got = real.ask("tool", goos="windows", path=path, fs=WIN, cwd="C:\\", pathext=".EXE")
        assert (got.path, got.error, got.message) == (model.path, model.error, model.message), (model, got)
        assert got.path == path + "\\tool.exe" and got.source == "real (Go under Wine)"


def test_windows_questions_carry_pathext_and_the_environment():
    _wine_or_skip()
    for pathext, env in ((".COM;.EXE", None), (".BAT", None), (".EXE", {"NoDefaultCurrentDirectoryInExePath": "1"})):
        model = lp.lookpath("tool", goos="windows", path="C:\\bin", fs=WIN, cwd="C:\\bin", pathext=pathext, env=env)
        got = real.ask("tool", goos="windows", path="C:\\bin", fs=WIN, cwd="C:\\bin", pathext=pathext, env=env)
        assert got.key() == model.key(), (pathext, env, model, got)
    assert got.key() == ("C:\\bin\\tool.exe", None)


def test_a_user_whose_group_is_not_their_uid_asks_as_themselves(scratch, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "getegid", lambda: 100)
    with session("linux") as oracle:
        assert (oracle.uid, oracle.gid) == (1000, 100)
        assert oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/").path == "/opt/bin/tool"
    assert real.ask("tool", goos="linux", path="/opt/bin", fs=FS, cwd="/", uid=1000).path == "/opt/bin/tool"
    assert real.ask("tool", goos="linux", path="/opt/bin", fs=FS, cwd="/", uid=1000, gid=100).error is None


@pytest.mark.skipif(os.geteuid() != 0, reason="asking as another user needs root")
def test_another_user_gets_none_of_the_askers_groups():
    # 0710 root:4242: only group 4242 may run it. The asker is put in that group for the test;
    # uid 65534 must not keep the asker's supplementary groups.
    fs = FS.file("/w/grouped", 0o710, uid=0, gid=4242)
    model = lp.lookpath("/w/grouped", goos="linux", path="", fs=fs, cwd="/", uid=65534)
    groups = os.getgroups()
    os.setgroups([*groups, 4242])
    try:
        with session("linux", uid=65534) as oracle:
            assert oracle.ask("/w/grouped", path="", fs=fs, cwd="/").key() == model.key() == ("", "EACCES")
    finally:
        os.setgroups(groups)


def test_an_oracle_that_died_is_reported_with_the_end_of_its_stderr(scratch, monkeypatch):
    said = "".join(chr(ord("a") + i % 26) for i in range(2990))
    _stand_in(scratch, monkeypatch, f"""
        sys.stdin.readline()
        sys.stderr.write({said!r})
        sys.exit(5)
    """)
    with session("linux") as oracle:
        with pytest.raises(RuntimeError) as err:
            oracle.ask("tool", path="/opt/bin", fs=FS, cwd="/")
    assert str(err.value) == f"the linux lookpath oracle died (exit status 5); its stderr: {said[-2000:]!r}"


def test_windows_questions_ignore_the_uid():
    _wine_or_skip()
    got = real.ask("tool", goos="windows", path="C:\\bin", fs=WIN, cwd="C:\\", pathext=".EXE", uid=65534)
    assert got.key() == ("C:\\bin\\tool.exe", None)  # Windows LookPath checks no permission
