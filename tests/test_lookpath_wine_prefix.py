"""The kit's own Wine prefix (gorun_kit.lookpath.wine), with stand-in Wine tools.

Wine itself is slow to start; what this module decides is not: where the
prefix lives, when it is (re)built, how sessions share it and when its
wineserver is stopped. Stand-in ``wine64``, ``wineboot``, ``wineserver`` and
mingw scripts on PATH log what they were asked, into tmp_path; the kit's cache
is a private one. The real Wine runs are in test_lookpath_regressions.py and
test_lookpath_cleanup.py.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import types
from pathlib import Path

import pytest

from gorun_kit.lookpath import wine
from gorun_kit.toolchain import ToolchainMissing


@pytest.fixture
def tools(tmp_path, monkeypatch, private_cache):
    """A PATH whose Wine tools are stand-ins; returns the file they log their calls to."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    scripts = {
        "wine64": 'echo "wine-8.0 (stand-in)"',
        "x86_64-w64-mingw32-gcc": 'echo "x86_64-w64-mingw32-gcc 12 (stand-in)"',
        "wineserver": f'echo "wineserver $* $WINEPREFIX" >> {log}',
        "wineboot": f'echo "wineboot $* $WINEPREFIX $WINEDEBUG" >> {log}\nmkdir -p "$WINEPREFIX"\n'
                    'if [ -n "$WINEBOOT_FAILS" ]; then echo "wineboot: $WINEBOOT_FAILS" >&2; exit 1; fi\n'
                    '[ -n "$WINEBOOT_EMPTY" ] || mkdir -p "$WINEPREFIX/drive_c/windows/system32"',
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _shim(tmp_path, monkeypatch, key="k1", text=b"MZ shim"):
    dll = tmp_path / f"shim-{key}.dll"
    dll.write_bytes(text)
    monkeypatch.setattr(wine, "shim_dll", lambda: types.SimpleNamespace(path=os.fspath(dll), key=key))


# ------------------------------------------------------------------ finding the tools
def test_available_names_wine_and_what_is_missing(tools, monkeypatch):
    assert wine.available() == (True, "wine-8.0 (stand-in)")
    monkeypatch.setenv("PATH", str(tools.parent / "bin"))  # /usr/bin may hold the real ones
    (tools.parent / "bin" / "x86_64-w64-mingw32-gcc").unlink()
    ok, why = wine.available()
    assert not ok and "x86_64-w64-mingw32-gcc" in why and "\n" not in why
    (tools.parent / "bin" / "wine64").unlink()
    ok, why = wine.available()
    assert not ok and "wine64" in why


def test_wine_command_runs_the_exe_with_the_wine_found(tools):
    assert wine.wine_command("C:/x.exe") == [str(tools.parent / "bin" / "wine64"), "C:/x.exe"]


def test_the_environment_is_quiet_windowless_and_inside_the_kit_cache(tools, private_cache, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("KEEP_ME", "1")
    env = wine.wine_env()
    assert "DISPLAY" not in env and "WAYLAND_DISPLAY" not in env and env["KEEP_ME"] == "1"
    assert env["WINEPREFIX"] == str(private_cache / "wine" / "prefix")
    assert env["WINEDEBUG"] == "-all" and env["WINEARCH"] == "win64"
    assert env["WINEDLLOVERRIDES"] == "mscoree,mshtml="
    assert env["TMPDIR"] == str(private_cache / "wine" / "t") and Path(env["TMPDIR"]).is_dir()
    assert wine.wine_env(Path("/elsewhere/p"))["WINEPREFIX"] == "/elsewhere/p"
    assert os.environ["DISPLAY"] == ":0"  # the caller's environment is not changed


def test_kill_server_stops_this_prefix_only_and_skips_what_is_not_there(tools, tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    wine.kill_server(mine)
    assert _calls(tools) == []  # no prefix: nothing to stop
    mine.mkdir()
    wine.kill_server(mine)
    assert _calls(tools) == [f"wineserver -k {mine}", f"wineserver -w {mine}"]
    monkeypatch.setenv("PATH", "/nonexistent")
    wine.kill_server(mine)  # no wineserver on PATH: nothing to run, no error
    assert len(_calls(tools)) == 2


def test_kill_server_defaults_to_the_kit_prefix(tools, private_cache):
    default = private_cache / "wine" / "prefix"
    default.mkdir(parents=True)
    wine.kill_server()
    assert _calls(tools) == [f"wineserver -k {default}", f"wineserver -w {default}"]


# ------------------------------------------------------------------ the prefix
def test_the_prefix_is_made_once_with_the_shim_and_a_stamp(tools, tmp_path, monkeypatch, private_cache):
    _shim(tmp_path, monkeypatch)
    pdir = wine.prefix()
    assert pdir == private_cache / "wine" / "prefix"
    assert _calls(tools) == [f"wineboot -i {pdir} -all", f"wineserver -k {pdir}", f"wineserver -w {pdir}"]
    assert (pdir / "drive_c/windows/system32/bcryptprimitives.dll").read_bytes() == b"MZ shim"
    assert (pdir / ".gorun-kit-ready").read_text() == "shim k1\n"
    assert sorted(p.name for p in pdir.iterdir()) == [".gorun-kit-ready", "drive_c"]  # no .part left
    assert not list((pdir / "drive_c/windows/system32").glob("*.part"))
    assert wine.prefix() == pdir
    assert len(_calls(tools)) == 3  # ready: not made again


def test_a_new_shim_is_installed_without_a_new_prefix(tools, tmp_path, monkeypatch):
    _shim(tmp_path, monkeypatch)
    pdir = wine.prefix()
    (pdir / "drive_c" / "user-file").write_text("kept")
    _shim(tmp_path, monkeypatch, key="k2", text=b"MZ shim 2")
    assert wine.prefix() == pdir
    assert len(_calls(tools)) == 3
    assert (pdir / "drive_c/windows/system32/bcryptprimitives.dll").read_bytes() == b"MZ shim 2"
    assert (pdir / ".gorun-kit-ready").read_text() == "shim k2\n"
    assert (pdir / "drive_c" / "user-file").read_text() == "kept"


def test_an_interrupted_creation_is_redone(tools, tmp_path, monkeypatch, private_cache):
    _shim(tmp_path, monkeypatch)
    half = private_cache / "wine" / "prefix"
    (half / "drive_c").mkdir(parents=True)
    (half / "drive_c" / "half-written").write_text("")
    pdir = wine.prefix()
    assert not (pdir / "drive_c" / "half-written").exists()
    # its wineserver stopped before the directory was removed, then wineboot made it anew
    assert _calls(tools)[:3] == [f"wineserver -k {half}", f"wineserver -w {half}", f"wineboot -i {half} -all"]
    assert (pdir / ".gorun-kit-ready").read_text() == "shim k1\n"


@pytest.mark.parametrize("failure", ["WINEBOOT_FAILS", "WINEBOOT_EMPTY"])
def test_a_failed_wineboot_leaves_no_prefix_and_says_why(tools, tmp_path, monkeypatch, private_cache, failure):
    _shim(tmp_path, monkeypatch)
    monkeypatch.setenv(failure, "no display driver")
    pdir = private_cache / "wine" / "prefix"
    with pytest.raises(RuntimeError, match=f"^wineboot could not create the prefix {pdir}:\n") as err:
        wine.prefix()
    assert ("wineboot: no display driver" in str(err.value)) == (failure == "WINEBOOT_FAILS")
    assert not pdir.exists()
    assert f"wineserver -k {pdir}" in _calls(tools)  # stopped even though wineboot failed
    monkeypatch.delenv(failure)
    assert (wine.prefix() / ".gorun-kit-ready").is_file()


def test_no_wine_means_no_prefix(tools, tmp_path, monkeypatch, private_cache):
    _shim(tmp_path, monkeypatch)
    (tools.parent / "bin" / "wine64").unlink()
    monkeypatch.setenv("PATH", str(tools.parent / "bin"))
    with pytest.raises(ToolchainMissing, match="wine64"):
        wine.prefix()
    assert not (private_cache / "wine" / "prefix").exists()


def test_a_missing_shim_source_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(wine, "_SHIM_SOURCE", tmp_path / "gone" / "bcryptprimitives.c")
    with pytest.raises(FileNotFoundError, match=r"the Wine shim source .*gone/bcryptprimitives\.c is missing"):
        wine.shim_dll()


# ------------------------------------------------------------------ sessions sharing the prefix
@pytest.fixture
def pdir(tmp_path):
    p = tmp_path / "prefix"
    (p / "dosdevices").mkdir(parents=True)
    return p


def test_each_session_gets_a_drive_of_its_own_and_gives_it_back(tools, pdir):
    a, b = wine.Lease(pdir), wine.Lease(pdir)
    assert (a.letter, b.letter) == ("M", "N")
    a.release()
    c = wine.Lease(pdir)
    assert c.letter == "M"
    b.release(), c.release()


def test_a_drive_points_at_the_scenario_and_is_unmapped_on_release(tools, pdir, tmp_path):
    lease = wine.Lease(pdir)
    link = pdir / "dosdevices" / "m:"
    lease.map(tmp_path / "s1")
    assert os.readlink(link) == str(tmp_path / "s1")
    lease.map(tmp_path / "s2")
    assert os.readlink(link) == str(tmp_path / "s2")
    assert sorted(p.name for p in (pdir / "dosdevices").iterdir()) == ["m:"]  # no temporary link left
    (pdir / "dosdevices" / f".m.{os.getpid()}").symlink_to("/stale")  # a crashed map's leftover
    lease.map(tmp_path / "s3")
    assert os.readlink(link) == str(tmp_path / "s3")
    lease.release()
    assert not os.path.lexists(link)


def test_only_the_last_session_stops_the_wineserver(tools, pdir):
    first, second = wine.Lease(pdir), wine.Lease(pdir)
    first.release()
    assert _calls(tools) == []  # the other session still runs Wine programs
    first.release()  # a second release does nothing
    assert _calls(tools) == []
    second.release()
    assert _calls(tools) == [f"wineserver -k {pdir}", f"wineserver -w {pdir}"]


def test_a_session_of_another_process_keeps_the_wineserver(tools, pdir):
    # Another process's session holds the shared lock on its own open file.
    with open(pdir / ".sessions.lock", "a+") as other:
        fcntl.flock(other, fcntl.LOCK_SH)
        mine = wine.Lease(pdir)
        mine.release()
        assert _calls(tools) == []
    last = wine.Lease(pdir)
    last.release()
    assert len(_calls(tools)) == 2


def test_when_every_drive_is_taken_the_session_is_refused_and_holds_nothing(tools, pdir):
    leases = [wine.Lease(pdir) for _ in wine._LETTERS]
    assert [lease.letter for lease in leases] == list("MNOPQRSTUVWXY")
    with pytest.raises(RuntimeError, match=rf"^all 13 scenario drives of {pdir} are in use; close other sessions$"):
        wine.Lease(pdir)
    for lease in leases:
        lease.release()
    # the refused session let go of its share: the last release stopped the wineserver
    assert _calls(tools) == [f"wineserver -k {pdir}", f"wineserver -w {pdir}"]
    with open(pdir / ".sessions.lock") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody holds it any more


# ------------------------------------------------------------------ what the user sees, and what may hang
def test_no_wine_names_the_tool_where_it_was_looked_for_and_how_to_install_it(tools, tmp_path, monkeypatch):
    _shim(tmp_path, monkeypatch)
    (tools.parent / "bin" / "wine64").unlink()
    monkeypatch.setenv("PATH", str(tools.parent / "bin"))
    with pytest.raises(ToolchainMissing) as err:
        wine.prefix()
    assert err.value.tool == "wine64"
    first, *hints = str(err.value).splitlines()
    assert first.startswith("wine64 not found (wine64 not found (looked for wine64, wine on PATH)")
    assert any(h.strip().startswith("Debian/Ubuntu:") for h in hints)


def test_making_the_prefix_says_so_while_it_runs(tools, tmp_path, monkeypatch, capsys):
    _shim(tmp_path, monkeypatch)
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    wine.prefix()
    assert "creating the kit's Wine prefix (wineboot, once)" in capsys.readouterr().err
    wine.prefix()
    assert "wineboot" not in capsys.readouterr().err  # ready: nothing to say


def test_a_failed_wineboot_quotes_the_end_of_what_it_said(tools, tmp_path, monkeypatch, private_cache):
    _shim(tmp_path, monkeypatch)
    said = "".join(chr(ord("a") + i % 26) for i in range(2990))
    monkeypatch.setenv("WINEBOOT_FAILS", said)
    with pytest.raises(RuntimeError) as err:
        wine.prefix()
    head, tail = str(err.value).split(":\n", 1)
    assert head == f"wineboot could not create the prefix {private_cache / 'wine' / 'prefix'}"
    assert tail == ("wineboot: " + said + "\n")[-2000:]


def test_wine_tools_get_no_input_and_print_nothing_of_theirs(tools, tmp_path, monkeypatch, capfd):
    # Our stdin is a pipe nobody writes to: a tool reading it would wait, not see its end.
    for name in ("wineboot", "wineserver"):
        script = tools.parent / "bin" / name
        script.write_text(script.read_text() + f'timeout 3 sh -c "read line"; echo "{name} stdin $?" >> {tools}\n'
                          'echo "noise on stdout"; echo "noise on stderr" >&2\n')
    _shim(tmp_path, monkeypatch)
    r, w = os.pipe()
    saved = os.dup(0)
    os.dup2(r, 0)
    try:
        wine.prefix()
    finally:
        os.dup2(saved, 0)
        for fd in (r, w, saved):
            os.close(fd)
    reads = [line for line in _calls(tools) if " stdin " in line]
    assert reads == ["wineboot stdin 1", "wineserver stdin 1", "wineserver stdin 1"]  # end of input at once
    out, err = capfd.readouterr()
    assert "noise" not in out + err


def test_a_wineserver_that_cannot_start_or_hangs_does_not_stop_the_kit(tools, tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    server = tools.parent / "bin" / "wineserver"
    server.write_text("#!/nonexistent/interpreter\n")
    with monkeypatch.context() as only_ours:  # (exec would go on to a real wineserver further on PATH)
        only_ours.setenv("PATH", str(server.parent))
        wine.kill_server(mine)  # OSError from exec: nothing to stop
    server.write_text(f'#!/bin/sh\necho "wineserver $*" >> {tools}\nexec sleep 5\n')
    real_run = wine.subprocess.run
    deadlines = []

    def hurried(*args, timeout=None, **kw):
        deadlines.append(timeout)
        return real_run(*args, timeout=None if timeout is None else 0.2, **kw)

    monkeypatch.setattr(wine.subprocess, "run", hurried)
    wine.kill_server(mine)
    assert _calls(tools) == ["wineserver -k", "wineserver -w"]  # the second runs after the first timed out
    assert all(d is not None and d <= 60 for d in deadlines) and len(deadlines) == 2


def test_wineboot_has_a_deadline(tools, tmp_path, monkeypatch):
    _shim(tmp_path, monkeypatch)
    real_run = wine.subprocess.run
    deadlines = {}

    def recorded(args, *rest, timeout=None, **kw):
        deadlines.setdefault(args[0], []).append(timeout)
        return real_run(args, *rest, timeout=timeout, **kw)

    monkeypatch.setattr(wine.subprocess, "run", recorded)
    wine.prefix()
    wine_calls = deadlines["wineboot"] + deadlines["wineserver"]
    assert len(wine_calls) == 3 and all(t is not None and t <= 300 for t in wine_calls)


def test_the_shim_exports_processprng_and_takes_its_bytes_from_rtlgenrandom(private_cache):
    objdump = shutil.which("x86_64-w64-mingw32-objdump")
    if objdump is None or shutil.which("x86_64-w64-mingw32-gcc") is None:
        pytest.skip("the shim is built with mingw-w64 (apt-get install mingw-w64)")
    dll = wine.shim_dll()
    assert Path(dll.path).is_relative_to(private_cache) and dll.kind == "c-shared"
    table = subprocess.run([objdump, "-p", dll.path], capture_output=True, text=True, check=True).stdout
    imports = table.split("DLL Name: ADVAPI32.dll", 1)[1].split("DLL Name:", 1)[0]
    assert "SystemFunction036" in imports  # RtlGenRandom
    exports = table.split("[Ordinal/Name Pointer] Table", 1)[1]
    assert "ProcessPrng" in exports
