"""The chapter 2.3 and 2.5 experiments around LookPath, run live.

* :func:`cmdenv`: what a child really receives for each way of setting
  ``exec.Cmd.Env`` / ``Dir``, and that PATH is resolved in ``exec.Command``
  (``labs_go/cmdenv``).
* :func:`linkname_hooks`: the seed's ``//go:linkname`` hook and its variants,
  built for real; the compiler's or linker's own message is the result.
* :func:`ldpreload_hooks`: an execve-wrapping ``LD_PRELOAD`` library
  (``labs_c/ldpreload_hook``) under a C program, a pure-Go and a cgo program.
* :func:`overlay_hook`: what does work -- ``go build -overlay`` replacing
  the file that defines ``os/exec.LookPath`` with a LookPath that looks somewhere else first.
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
from ..toolchain import GoToolchain, find_go

__all__ = ["cmdenv", "HookAttempt", "linkname_hooks", "PreloadRun", "ldpreload_hooks", "OverlayRun",
           "overlay_hook", "LINKNAME_VARIANTS"]

_REPO = Path(__file__).resolve().parents[2]
_LABS = _REPO / "labs_go"
_TIMEOUT = 120


def cmdenv() -> dict:
    """Run ``labs_go/cmdenv`` with ``FC_PARENT=inherited``; its JSON report as a dict."""
    binary = build.build_go(_LABS / "cmdenv")
    env = dict(os.environ, FC_PARENT="inherited")
    env.pop("FC_X", None)
    proc = subprocess.run([binary.path], env=env, capture_output=True, text=True, timeout=_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"labs_go/cmdenv failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


@dataclasses.dataclass(frozen=True)
class HookAttempt:
    """One attempt to hook LookPath by building a program."""

    variant: str
    what: str
    built: bool
    message: str  # the last line of the compiler/linker output, or the program's output
    ldflags: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


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


def linkname_hooks(*, include_checklinkname_off: bool = True) -> list[HookAttempt]:
    """Build each ``labs_go/hook_linkname/<variant>``; return what the toolchain said."""
    out = [_try_build(_LABS / "hook_linkname" / v, v, what) for v, what in LINKNAME_VARIANTS.items()]
    if include_checklinkname_off:
        out.append(_try_build(_LABS / "hook_linkname" / "pull_private", "pull_private",
                              "the same pull with the linker check turned off", "-checklinkname=0"))
    return out


@dataclasses.dataclass(frozen=True)
class PreloadRun:
    """One program run with ``LD_PRELOAD=hook.so``."""

    program: str  # "C (libc execve)", "Go, CGO_ENABLED=0", "Go with cgo"
    dynamic: bool  # whether the ELF has a PT_INTERP (is loaded by ld.so)
    constructor_ran: bool
    execve_intercepted: bool
    stderr: str
    stdout: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _has_interp(path: str) -> bool:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as fh:
        return any(seg["p_type"] == "PT_INTERP" for seg in ELFFile(fh).iter_segments())


def ldpreload_hooks() -> list[PreloadRun]:
    """Run a C program, a pure-Go and a cgo program under the execve-wrapping hook.so."""
    src = _REPO / "labs_c" / "ldpreload_hook"
    hook = build.build_c(src / "hook.c", shared=True, ldflags=["-ldl"], name="hook")
    caller = build.build_c(src / "caller.c", name="caller")
    programs = [
        ("C (libc execve)", caller.path),
        ("Go, CGO_ENABLED=0", build.build_go(_LABS / "hook_ldpreload", cgo=False).path),
        ("Go with cgo", build.build_go(_LABS / "hook_ldpreload", cgo=True).path),
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
class OverlayRun:
    """``labs_go/hook_overlay`` built without and with the LookPath overlay."""

    replaced: str  # the GOROOT file the overlay replaces (never written to)
    without_overlay: str
    without_rc: int
    with_overlay: str
    with_rc: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


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
    at = imports.end() if imports else text.index("\n", text.index("package exec")) + 1
    return original, text[:at] + "\n" + _HOOKED_LOOKPATH + text[at:]


def overlay_hook() -> OverlayRun:
    """Build ``labs_go/hook_overlay`` twice and run both with ``fctool`` only in ``$FCTOOL_DIR``."""
    original, text = overlay_source()
    gen = build.cache_dir() / "overlays" / "lookpath"
    gen.mkdir(parents=True, exist_ok=True)
    replacement = gen / f"lookpath-{hashlib.sha256(text.encode()).hexdigest()[:16]}.go"
    if not replacement.exists() or replacement.read_text() != text:
        part = replacement.with_suffix(f".{os.getpid()}.part")
        part.write_text(text)
        os.replace(part, replacement)
    plain = build.build_go(_LABS / "hook_overlay")
    hooked = build.build_go(_LABS / "hook_overlay", overlay={original: replacement})
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
