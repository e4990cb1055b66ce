"""Small helpers every chapter notebook uses: the version stamp, live/skip
decisions, claim checks and source citations, so notebooks hold prose and
experiments rather than plumbing."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import Mapping, Sequence

from . import goroot
from .records import Record
from .toolchain import ToolchainMissing, version_stamp

__all__ = ["stamp", "live", "confirm", "cite", "run", "ProgramRun", "ClaimFailed"]


class ClaimFailed(AssertionError):
    """A ledger claim's demonstration no longer holds on this toolchain."""


def stamp() -> dict:
    """Print where this chapter's outputs come from, and return it as a dict."""
    info = version_stamp()
    print("outputs made with: " + " | ".join(f"{k} {v}" for k, v in info.items()))
    return info


def live(*needs: str) -> bool:
    """True when this machine can run the live cells that need ``needs``.

    ``needs`` are doctor check names ("go", "cc", "ptrace", "strace", "wine64",
    "mingw-w64", "dot", "java"). When something is missing, prints one line
    saying which part is skipped and why, and returns False.
    """
    if sys.platform != "linux":
        why = f"live labs run on Linux; this is {sys.platform}"
        print(f"skipped: {why}. The recorded outputs below show what Linux produced.")
        _log_skip(why)
        return False
    from .doctor import diagnose

    report = diagnose()
    missing = [c for c in report.checks if c.name in needs and not c.ok]
    for c in missing:
        print(f"skipped: needs {c.name} ({c.found}); fix: {c.fix}")
    if missing:
        _log_skip("needs " + ", ".join(f"{c.name} ({c.found})" for c in missing))
    return not missing


def _log_skip(why: str) -> None:
    # The grader (gorun_kit.course.grade) sets this: a check that skipped for
    # want of a tool must not earn its points as if it had passed.
    log = os.environ.get("GORUN_KIT_SKIP_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(why.replace("\n", " ") + "\n")


def confirm(claim_id: str, ok: bool, what: str) -> None:
    """Assert a ledger claim's measured behaviour; print it when it holds."""
    if not ok:
        raise ClaimFailed(f"claim {claim_id}: expected {what}, but the measurement disagrees "
                          "(did the Go release change this behaviour?)")
    print(f"claim {claim_id}: confirmed: {what}")


def cite(name: str, pkg: str = "runtime", *, asm: bool = False) -> goroot.Citation:
    """Print and return where ``pkg.name`` lives in the installed GOROOT."""
    try:
        c = goroot.find_asm(name, pkg) if asm else goroot.find_func(name, pkg)
    except ToolchainMissing as exc:
        print(f"(no Go installed: {exc})")
        raise
    print(f"{c.symbol}: {c.file}:{c.line} in {c.go_version}")
    return c


@dataclasses.dataclass(frozen=True)
class ProgramRun(Record):
    """What a program printed and how it ended (text, decoded as UTF-8 with replacement)."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run(argv: Sequence[str | os.PathLike], *, env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike | None = None, timeout: float = 60, check: bool = True) -> ProgramRun:
    """Run one program to its end, as a cell shows it, and return what it printed.

    ``env`` replaces the environment when given (None: inherit the kernel's).
    With ``check`` a non-zero exit status raises RuntimeError naming the
    command, its status and the end of its stderr; ``check=False`` returns
    the run whatever its status. A program still running after ``timeout``
    seconds is killed and RuntimeError says so.
    """
    args = [os.fspath(a) for a in argv]
    if not args:
        raise ValueError("run: argv is empty; give the program and its arguments as a list")
    try:
        done = subprocess.run(args, env=None if env is None else dict(env), cwd=cwd, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(args)!r} did not finish within {timeout} s and was killed") from None
    result = ProgramRun(tuple(args), done.returncode, done.stdout.decode(errors="replace"),
                        done.stderr.decode(errors="replace"))
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)!r} exited with status {done.returncode}: {result.stderr[-800:].strip()}")
    return result
