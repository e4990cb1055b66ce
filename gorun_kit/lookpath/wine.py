"""The Wine prefix the kit owns, for running GOOS=windows builds on Linux.

Go >= 1.22 calls ``ProcessPrng`` from ``bcryptprimitives.dll`` while the
runtime starts; Wine 8 (Debian 12) has no such DLL, so every Go program
aborts before ``main``. The kit cross-builds a one-function shim
(``gorun_kit/_src/winshim``, mingw-w64) and installs it into *its own* prefix under
``cache.cache_dir()/wine`` -- never into the user's ``~/.wine``.

The prefix is created once (``wineboot -i``, quietly: ``WINEDEBUG=-all``, no
display, Mono/Gecko installers off) and marked ready by a stamp file written
last, so an interrupted creation is redone rather than trusted. Scenario
directories are mapped to a drive letter of their session (a :class:`Lease`)
by pointing its ``dosdevices`` link at them. :func:`kill_server` stops this prefix's
wineserver (and only it) so nothing is left running.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

from .. import _src, build
from ..cache import cache_dir
from ..toolchain import ToolchainMissing, find_tool

__all__ = ["Lease", "available", "shim_dll", "prefix", "wine_env", "kill_server", "wine_command"]
_SHIM_SOURCE = _src.source("winshim", "bcryptprimitives.c")


def available() -> tuple[bool, str]:
    """(True, wine version) or (False, why not) -- for skips that say why."""
    try:
        wine = find_tool("wine64")
        find_tool("x86_64-w64-mingw32-gcc")
    except ToolchainMissing as exc:
        return False, str(exc).splitlines()[0]
    return True, wine.version


def shim_dll() -> build.Binary:
    """The ProcessPrng shim DLL, built from gorun_kit/_src/winshim into the build cache."""
    if not _SHIM_SOURCE.is_file():
        raise FileNotFoundError(f"the Wine shim source {_SHIM_SOURCE} is missing from this checkout")
    return build.build_c(_SHIM_SOURCE, cross="windows", shared=True, ldflags=["-ladvapi32"],
                         name="bcryptprimitives")


def _root() -> Path:
    return cache_dir() / "wine"


def wine_env(prefix_dir: Path | None = None) -> dict[str, str]:
    """The environment every Wine command of the kit runs with."""
    env = dict(os.environ)
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)  # never open a window
    # wineserver makes its socket directory (wine-XXXXXX/server-...) under
    # TMPDIR and never removes it: keep it in the kit's cache, not in /tmp.
    # (The path stays short: a unix socket's path has 108 bytes at most.)
    tmp = _root() / "t"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        WINEPREFIX=os.fspath(prefix_dir or _root() / "prefix"),
        WINEDEBUG="-all",
        WINEDLLOVERRIDES="mscoree,mshtml=",  # do not offer to install Mono or Gecko
        WINEARCH="win64",
        TMPDIR=os.fspath(tmp),
    )
    return env


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    _root().mkdir(parents=True, exist_ok=True)
    with open(_root() / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def prefix() -> Path:
    """The kit's Wine prefix with the shim installed (created on first use, ~15 s)."""
    ok, why = available()
    if not ok:
        raise ToolchainMissing("wine64", why)
    dll = shim_dll()
    pdir = _root() / "prefix"
    stamp = pdir / ".gorun-kit-ready"
    want = f"shim {dll.key}\n"
    if stamp.is_file() and stamp.read_text() == want:
        return pdir
    with _lock():
        if stamp.is_file() and stamp.read_text() == want:
            return pdir
        if not stamp.is_file() and pdir.exists():
            kill_server(pdir)
            shutil.rmtree(pdir, ignore_errors=True)  # an interrupted creation: start again
        if not pdir.exists():
            from .. import progress

            with progress.step("creating the kit's Wine prefix (wineboot, once)"):
                try:
                    proc = subprocess.run(["wineboot", "-i"], env=wine_env(pdir), capture_output=True,
                                          text=True, stdin=subprocess.DEVNULL, timeout=300)
                finally:
                    kill_server(pdir)
            if proc.returncode != 0 or not (pdir / "drive_c" / "windows" / "system32").is_dir():
                shutil.rmtree(pdir, ignore_errors=True)
                raise RuntimeError(f"wineboot could not create the prefix {pdir}:\n{proc.stderr[-2000:]}")
        system32 = pdir / "drive_c" / "windows" / "system32"
        part = system32 / "bcryptprimitives.dll.part"
        shutil.copyfile(dll.path, part)
        os.replace(part, system32 / "bcryptprimitives.dll")
        (pdir / ".gorun-kit-ready.part").write_text(want)
        os.replace(pdir / ".gorun-kit-ready.part", stamp)
    return pdir


_LETTERS = "mnopqrstuvwxy"  # scenario drives; C: stays the prefix's own drive_c, Z: is /


class Lease:
    """One session's hold on the prefix: a drive letter of its own, and a share of the prefix.

    Several sessions (a notebook and a test run) may use the prefix at once:
    each gets its own drive letter (a lock file per letter), and only the last
    one to close stops the wineserver.
    """

    def __init__(self, prefix_dir: Path):
        self.prefix = prefix_dir
        self._share = open(prefix_dir / ".sessions.lock", "a+")
        fcntl.flock(self._share, fcntl.LOCK_SH)
        self._drive_fh = None
        for letter in _LETTERS:
            fh = open(prefix_dir / f".drive-{letter}.lock", "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self.letter, self._drive_fh = letter.upper(), fh
            break
        if self._drive_fh is None:
            self._share.close()
            raise RuntimeError(f"all {len(_LETTERS)} scenario drives of {prefix_dir} are in use; close other sessions")

    def map(self, target: str | os.PathLike) -> None:
        """Point this lease's drive at the directory ``target`` (atomically)."""
        link = self.prefix / "dosdevices" / (self.letter.lower() + ":")
        tmp = link.with_name(f".{self.letter.lower()}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.fspath(target), tmp)
        os.replace(tmp, link)

    def release(self) -> None:
        """Give the drive back; stop this prefix's wineserver if no other session uses it."""
        if self._drive_fh is None:
            return
        link = self.prefix / "dosdevices" / (self.letter.lower() + ":")
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        self._drive_fh.close()
        self._drive_fh = None
        fcntl.flock(self._share, fcntl.LOCK_UN)
        try:
            fcntl.flock(self._share, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # another session still runs Wine programs in this prefix
        else:
            kill_server(self.prefix)
        finally:
            self._share.close()


def wine_command(exe: str) -> list[str]:
    return [find_tool("wine64").path, exe]


def kill_server(prefix_dir: Path | None = None) -> None:
    """Stop the wineserver of this prefix (``wineserver -k``); other prefixes are untouched."""
    pdir = prefix_dir or _root() / "prefix"
    if not pdir.exists() or shutil.which("wineserver") is None:
        return
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        subprocess.run(["wineserver", "-k"], env=wine_env(pdir), capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        subprocess.run(["wineserver", "-w"], env=wine_env(pdir), capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
