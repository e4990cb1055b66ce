"""The chapter 2.3 and 2.5 experiments around LookPath, run live.

* :func:`cmdenv`: what a child really receives for each way of setting
  ``exec.Cmd.Env`` / ``Dir``, and that PATH is resolved in ``exec.Command``
  (``labs_go/cmdenv``).
* :func:`linkname_hooks`: the seed's ``//go:linkname`` hook and its variants,
  built for real; the compiler's or linker's own message is the result.
* :func:`ldpreload_hooks`: an execve-wrapping ``LD_PRELOAD`` library
  (``labs_c/ldpreload_hook``) under a C program, a pure-Go and a cgo program.
* :func:`split_list`: real Go's ``filepath.SplitList`` on Linux and on
  Windows under Wine (``labs_go/lookpath_splitlist``).
* :func:`which`: what Debian's ``which`` prints for a program in the current directory.
* :func:`overlay_hook`: what does work -- ``go build -overlay`` replacing
  the file that defines ``os/exec.LookPath`` with a LookPath that looks somewhere else first.

The programs are the course's labs; every function takes ``labs``, the course
checkout that holds ``labs_c/`` and ``labs_go/`` (e.g. ``course.layout.course_root()``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import build
from ..cache import cache_dir, write_atomic
from ..records import Record
from ..toolchain import GoToolchain, find_go

__all__ = ["cmdenv", "HookAttempt", "linkname_hooks", "PreloadRun", "ldpreload_hooks", "OverlayRun",
           "overlay_hook", "LINKNAME_VARIANTS", "split_list", "which"]

_TIMEOUT = 120


def cmdenv(*, labs: str | os.PathLike) -> dict:
    """Run ``labs_go/cmdenv`` with ``FC_PARENT=inherited``; its JSON report as a dict."""
    binary = build.build_go(Path(labs, "labs_go", "cmdenv"))
    env = dict(os.environ, FC_PARENT="inherited")
    env.pop("FC_X", None)
    proc = subprocess.run([binary.path], env=env, capture_output=True, text=True, timeout=_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"labs_go/cmdenv failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


@dataclasses.dataclass(frozen=True)
class HookAttempt(Record):
    """One attempt to hook LookPath by building a program."""

    variant: str
    what: str
    built: bool
    message: str  # the last line of the compiler/linker output, or the program's output
    ldflags: str = ""


LINKNAME_VARIANTS = {
    "nounsafe": "the seed's snippet as printed (no unsafe import)",
    "body": "the snippet with import _ \"unsafe\": linkname on a function with a body",
    "pull_private": "body-less pull of the unexported os/exec.findExecutable",
    "pull_exported": "body-less pull of os/exec.LookPath",
}


def _try_build(directory: Path, variant: str, what: str, ldflags: str = "") -> HookAttempt:
    try:
        binary = build.build_go(directory, tags=["hookdemo"], ldflags=ldflags or None)
    except build.BuildError as exc:
        lines = [l for l in exc.output.strip().splitlines() if not l.startswith("#")]
        return HookAttempt(variant, what, False, lines[-1] if lines else exc.output.strip(), ldflags)
    proc = subprocess.run([binary.path], capture_output=True, text=True, timeout=_TIMEOUT,
                          stdin=subprocess.DEVNULL, env=dict(os.environ, PATH="/usr/bin:/bin"))
    return HookAttempt(variant, what, True, (proc.stdout + proc.stderr).strip(), ldflags)


def linkname_hooks(*, labs: str | os.PathLike, include_checklinkname_off: bool = True) -> list[HookAttempt]:
    """Build each ``labs_go/hook_linkname/<variant>``; return what the toolchain said."""
    variants = Path(labs, "labs_go", "hook_linkname")
    out = [_try_build(variants / v, v, what) for v, what in LINKNAME_VARIANTS.items()]
    if include_checklinkname_off:
        out.append(_try_build(variants / "pull_private", "pull_private",
                              "the same pull with the linker check turned off", "-checklinkname=0"))
    return out


@dataclasses.dataclass(frozen=True)
class PreloadRun(Record):
    """One program run with ``LD_PRELOAD=hook.so``."""

    program: str  # "C (libc execve)", "Go, CGO_ENABLED=0", "Go with cgo"
    dynamic: bool  # whether the ELF has a PT_INTERP (is loaded by ld.so)
    constructor_ran: bool
    execve_intercepted: bool
    stderr: str
    stdout: str


def _has_interp(path: str) -> bool:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as fh:
        return any(seg["p_type"] == "PT_INTERP" for seg in ELFFile(fh).iter_segments())


def ldpreload_hooks(*, labs: str | os.PathLike) -> list[PreloadRun]:
    """Run a C program, a pure-Go and a cgo program under the execve-wrapping hook.so."""
    src = Path(labs, "labs_c", "ldpreload_hook")
    go_src = Path(labs, "labs_go", "hook_ldpreload")
    hook = build.build_c(src / "hook.c", shared=True, ldflags=["-ldl"], name="hook")
    caller = build.build_c(src / "caller.c", name="caller")
    programs = [
        ("C (libc execve)", caller.path),
        ("Go, CGO_ENABLED=0", build.build_go(go_src, cgo=False).path),
        ("Go with cgo", build.build_go(go_src, cgo=True).path),
    ]
    runs = []
    for label, path in programs:
        proc = subprocess.run([path], env=dict(os.environ, LD_PRELOAD=hook.path), capture_output=True,
                              text=True, timeout=_TIMEOUT, stdin=subprocess.DEVNULL)
        runs.append(PreloadRun(label, _has_interp(path), "[hook.so] constructor ran" in proc.stderr,
                               "[hook.so] execve intercepted" in proc.stderr, proc.stderr.strip(),
                               proc.stdout.strip()))
    return runs


@dataclasses.dataclass(frozen=True)
class OverlayRun(Record):
    """``labs_go/hook_overlay`` built without and with the LookPath overlay."""

    replaced: str  # the GOROOT file the overlay replaces (never written to)
    without_overlay: str
    without_rc: int
    with_overlay: str
    with_rc: int


_LOOKPATH_HEADER = "func LookPath(file string) (string, error) {"

# Appended to the file that defines LookPath, whose own LookPath is renamed
# lookPathBeforeHook. The imports are aliased so they never clash with the
# file's own (a package may be imported twice under different names).
_HOOKED_LOOKPATH = '''
import (
	hookfilepath "path/filepath"
	hookos "os"
	hookstrings "strings"
)

func LookPath(file string) (string, error) {
	// gorun-kit overlay: look in $FCTOOL_DIR first, then fall back to Go's own search.
	if dir := hookos.Getenv("FCTOOL_DIR"); dir != "" && !hookstrings.ContainsAny(file, `/\\`) {
		candidate := hookfilepath.Join(dir, file)
		if fi, err := hookos.Stat(candidate); err == nil && fi.Mode().IsRegular() {
			return candidate, nil
		}
	}
	return lookPathBeforeHook(file)
}
'''


def overlay_source(go: GoToolchain | None = None) -> tuple[Path, str]:
    """(the GOROOT file that defines os/exec.LookPath on Linux, the text that replaces it).

    That file is ``lookpath.go`` from Go 1.26 (a wrapper over the per-OS
    ``lookPath``) and ``lp_unix.go`` before. Its LookPath is renamed
    ``lookPathBeforeHook`` and the hooked LookPath is added after the
    file's imports, so the same edit works on both layouts.
    """
    tc = go or find_go()
    pkg = Path(tc.goroot, "src", "os", "exec")
    for name in ("lookpath.go", "lp_unix.go"):
        original = pkg / name
        text = original.read_text() if original.is_file() else ""
        if _LOOKPATH_HEADER in text:
            break
    else:
        raise RuntimeError(f"neither lookpath.go nor lp_unix.go in {pkg} defines {_LOOKPATH_HEADER!r} "
                           f"({tc.version}); update gorun_kit/lookpath/experiments.py")
    text = text.replace(_LOOKPATH_HEADER, "func lookPathBeforeHook(file string) (string, error) {", 1)
    imports = re.search(r"^import \($.*?^\)$|^import \"[^\"]+\"$", text, re.M | re.S)
    at = imports.end() if imports else text.index("\n", re.search(r"^package exec\b", text, re.M).start()) + 1
    return original, text[:at] + "\n" + _HOOKED_LOOKPATH + text[at:]


def overlay_hook(*, labs: str | os.PathLike) -> OverlayRun:
    """Build ``labs_go/hook_overlay`` twice and run both with ``fctool`` only in ``$FCTOOL_DIR``."""
    original, text = overlay_source()
    gen = cache_dir() / "overlays" / "lookpath"
    replacement = gen / f"lookpath-{hashlib.sha256(text.encode()).hexdigest()[:16]}.go"
    if not replacement.exists() or replacement.read_text() != text:
        write_atomic(replacement, text)
    program = Path(labs, "labs_go", "hook_overlay")
    plain = build.build_go(program)
    hooked = build.build_go(program, overlay={original: replacement})
    tmp = Path(tempfile.mkdtemp(prefix="gorun-kit-fctool-"))
    try:
        tool_dir = tmp / "fakehome" / ".local" / "bin"
        tool_dir.mkdir(parents=True)
        (tool_dir / "fctool").write_text("#!/bin/sh\necho custom-tool-ran\n")
        (tool_dir / "fctool").chmod(0o755)
        env = dict(os.environ, FCTOOL_DIR=str(tool_dir), PATH="/usr/bin:/bin")
        a = subprocess.run([plain.path], env=env, capture_output=True, text=True, timeout=_TIMEOUT,
                           stdin=subprocess.DEVNULL)
        b = subprocess.run([hooked.path], env=env, capture_output=True, text=True, timeout=_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return OverlayRun(str(original), a.stdout.strip(), a.returncode, b.stdout.strip(), b.returncode)


def split_list(paths: list[str], *, goos: str, labs: str | os.PathLike) -> list[list[str]]:
    """Real Go's ``filepath.SplitList`` of each string in ``paths``, built for ``goos``.

    ``labs_go/lookpath_splitlist`` reads one JSON string per line and prints
    the list as JSON; for ``goos="windows"`` it runs under Wine (see
    :mod:`gorun_kit.lookpath.wine`), whose server is stopped afterwards.
    """
    from . import wine

    if goos not in ("linux", "windows"):
        raise ValueError(f"goos={goos!r}: split_list runs real Go for 'linux' or 'windows'")
    exe = build.build_go(Path(labs, "labs_go", "lookpath_splitlist"), goos=goos, goarch="amd64").path
    cmd, env = (wine.wine_command(exe), wine.wine_env(wine.prefix())) if goos == "windows" else ([exe], None)
    try:
        out = subprocess.run(cmd, input="".join(json.dumps(p) + "\n" for p in paths), capture_output=True,
                             text=True, env=env, timeout=_TIMEOUT)
    finally:
        if goos == "windows":
            wine.kill_server()
    result = [json.loads(line) for line in out.stdout.splitlines()]
    if out.returncode != 0 or len(result) != len(paths):
        raise RuntimeError(f"lookpath_splitlist for {goos} exited {out.returncode} with {len(result)} of "
                           f"{len(paths)} answers: {out.stderr.strip()[-500:]}")
    return result


def which(name: str, *, path: str) -> str:
    """What ``which name`` prints, run with ``PATH=path`` in a fresh directory that
    holds an executable script called ``name`` (so an empty PATH element finds it)."""
    if "/" in name or not name:
        raise ValueError(f"name={name!r}: give a bare program name such as 'myprog'")
    found = shutil.which("which")
    if found is None:
        raise FileNotFoundError("which is not installed (Debian: apt-get install -y debianutils)")
    with tempfile.TemporaryDirectory(prefix="gorun-kit-which-") as tmp:
        script = Path(tmp, name)
        script.write_text("#!/bin/sh\n")
        script.chmod(0o755)
        done = subprocess.run([found, name], cwd=tmp, env={"PATH": path}, capture_output=True, text=True,
                              timeout=_TIMEOUT, stdin=subprocess.DEVNULL)
    return done.stdout.strip()
