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

__all__ = ["stamp", "stamp_lines", "live", "confirm", "claims_table", "ClaimCheck", "ClaimsTable", "cite", "run",
           "ProgramRun", "ClaimFailed"]


class ClaimFailed(AssertionError):
    """A ledger claim's demonstration no longer holds on this toolchain."""


def stamp_lines(info: Mapping[str, str]) -> list[str]:
    """The stamp as short lines: ``outputs made with:`` then one indented ``key: value`` line per
    entry, values aligned. Each line is as long as its value plus the widest key, so nothing wraps
    mid-word in a notebook's output area (tests/nbval_sanitize.cfg's [common-stamp] masks them)."""
    width = max((len(k) for k in info), default=0) + 1
    return ["outputs made with:"] + [f"  {k + ':':<{width}} {v}" for k, v in info.items()]


def stamp() -> dict:
    """Print where this chapter's outputs come from (:func:`stamp_lines`), and return it as a dict."""
    info = version_stamp()
    print("\n".join(stamp_lines(info)))
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


@dataclasses.dataclass(frozen=True)
class ClaimCheck(Record):
    """One ledger claim checked in this kernel: what was measured, on which release."""

    claim: str
    what: str
    measured: str
    release: str


_CHECKED: dict[str, ClaimCheck] = {}  # this kernel's checks, in order; a re-run cell replaces its row
TABLE_TITLE = "Claims checked in this chapter"


def confirm(claim_id: str, ok: bool, what: str, *, measured: object = None, quiet: bool = False) -> None:
    """Assert a ledger claim's measured behaviour.

    ``what`` says what holds; ``measured`` is the value it was read from (a
    number, a list, a short string), shown in :func:`claims_table`. When the
    claim holds, one line is printed, unless ``quiet`` (a section shows at
    most one such line; the chapter's closing table lists every check).
    Raises :class:`ClaimFailed` when it does not hold.
    """
    if not ok:
        raise ClaimFailed(f"claim {claim_id}: expected {what}, but the measurement disagrees "
                          "(did the Go release change this behaviour?)")
    _CHECKED[claim_id] = ClaimCheck(claim_id, what, "" if measured is None else _short(measured), _release())
    if not quiet:
        print(f"claim {claim_id}: confirmed: {what}")


def _short(value: object, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _release() -> str:
    try:
        from .toolchain import find_go

        tc = find_go()
        return f"{tc.version} {tc.goos}/{tc.goarch}"
    except Exception:  # noqa: BLE001 - a chapter read without Go still gets its table
        return "no Go found"


class ClaimsTable:
    """The chapter's closing table: every claim checked, what was measured, the release.

    Shown as HTML in JupyterLab and as aligned text elsewhere (the text is
    what nbval compares and what ``gorun-kit course claims`` reads).
    """

    def __init__(self, checks: Sequence[ClaimCheck]):
        self.checks = tuple(checks)

    def __repr__(self) -> str:
        if not self.checks:
            return f"{TABLE_TITLE}: none (run the chapter's cells first)"
        lines = [f"{TABLE_TITLE} ({len(self.checks)}):"]
        for c in self.checks:
            lines.append(f"{c.claim}  {c.what}")
            if c.measured:
                lines.append(f"    measured: {c.measured}")
        lines.append(f"release: {', '.join(sorted({c.release for c in self.checks}))}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        if not self.checks:
            return f"<p>{escape(repr(self))}</p>"
        rows = "".join(f"<tr><td>{escape(c.claim)}</td><td style='text-align:left'>{escape(c.what)}</td>"
                       f"<td style='text-align:left'>{escape(c.measured)}</td><td>{escape(c.release)}</td></tr>"
                       for c in self.checks)
        return (f"<table><caption>{escape(TABLE_TITLE)}</caption><thead><tr><th>claim</th>"
                f"<th>what holds</th><th>measured</th><th>release</th></tr></thead><tbody>{rows}</tbody></table>")


def claims_table() -> ClaimsTable:
    """Every claim :func:`confirm` checked in this kernel, in order (the chapter's last cell shows it)."""
    return ClaimsTable(list(_CHECKED.values()))


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
