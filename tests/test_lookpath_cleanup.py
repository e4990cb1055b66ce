"""Nothing is left running: after LookPath sessions close, their oracle
processes are reaped, their scenario directories removed, and (when no other
session uses the prefix) no Wine process of the kit's prefix remains.
Kept in its own module so no module-scoped session of another test is open."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from gorun_kit import lookpath as lp
from gorun_kit.lookpath import wine
from gorun_kit.lookpath.real import session


def _processes_with_env(needle: bytes) -> list[int]:
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as fh:
                    if needle in fh.read():
                        found.append(int(d))
            except OSError:
                pass
    return found


def test_sessions_leave_no_process_behind():
    ok, why = wine.available()
    if not ok:
        pytest.skip(f"Windows runs need Wine: {why}")
    system_tmp = Path(tempfile.gettempdir())
    wine_dirs_before = set(system_tmp.glob("wine-*"))
    with session("linux") as go_l, session("windows") as go_w:
        assert go_w.ask("x", path="", fs=lp.default_fs("windows"), cwd="C:\\").error == "ErrNotFound"
        procs = (go_l._proc, go_w._proc)
        base = (go_l._base, go_w._base)
    assert all(p.poll() is not None for p in procs)
    assert not any(b.exists() for b in base)
    prefix = wine.wine_env()["WINEPREFIX"]
    assert _processes_with_env(b"WINEPREFIX=" + prefix.encode() + b"\0") == []
    assert _wineservers_of(prefix) == []
    # wineserver's socket directory went to the kit's cache, not to /tmp
    assert set(system_tmp.glob("wine-*")) == wine_dirs_before
    assert list(Path(wine.wine_env()["TMPDIR"]).glob("wine-*/server-*"))


def _wineservers_of(prefix: str) -> list[int]:
    """Processes of this prefix: wineserver runs in a directory named server-DEV-INODE
    (of the prefix), and Wine's helper programs run inside the prefix."""
    st = os.stat(prefix)
    server = f"server-{st.st_dev:x}-{st.st_ino:x}"
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cwd = os.readlink(f"/proc/{d}/cwd")
            except OSError:
                continue
            if os.path.basename(cwd) == server or cwd.startswith(prefix + "/") or cwd == prefix:
                found.append(int(d))
    return found


def test_two_windows_sessions_share_the_prefix():
    ok, why = wine.available()
    if not ok:
        pytest.skip(f"Windows runs need Wine: {why}")
    fs = lp.default_fs("windows").file("C:\\bin\\tool.exe")
    first = session("windows")
    a = first.__enter__()
    with session("windows") as b:
        assert a._lease.letter != b._lease.letter  # each session has its own scenario drive
        first.__exit__(None, None, None)  # closing one session must not stop the other's Wine
        assert b.ask("tool", path="C:\\bin", fs=fs, cwd="C:\\").key() == ("C:\\bin\\tool.exe", None)
    prefix = wine.wine_env()["WINEPREFIX"]
    assert _wineservers_of(prefix) == []
