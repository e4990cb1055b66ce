"""One scenario on all three systems: the same directories and files, written
the way each OS writes paths, asked of each OS's LookPath.

A *portable* scenario is written in Unix form (``/bin::/usr/bin``, files as
``/bin/tool`` or ``/bin/tool:644``); for Windows every absolute path
``/x/y`` becomes ``C:\\x\\y``, relative ones swap ``/`` for ``\\``, and the
PATH is joined with ``;``. :func:`explain` lists the candidates each OS
tries, in order, which the pictures and widgets show.
"""
from __future__ import annotations

import dataclasses

from ..records import Record
from . import GOOSES, default_fs, lookpath, unix, windows
from .result import LookPathResult, execerrdot_off
from .vfs import VFS

__all__ = ["to_windows", "parse_files", "Row", "CrossOS", "cross_os", "cross_os_many", "Step", "explain",
           "explain_cross"]


def to_windows(path: str) -> str:
    if path.startswith("/"):
        return "C:\\" + path[1:].replace("/", "\\")
    return path.replace("/", "\\")


def parse_files(specs) -> list[tuple[str, str, int]]:
    """``["/bin/tool", "/bin/x:644", "/d/"]`` -> [(kind, path, mode)]; a trailing / is a directory."""
    out = []
    for raw in specs:
        spec = raw.strip()
        if not spec or spec.startswith("#"):
            continue
        head, sep, tail = spec.rpartition(":")
        mode = 0o755
        if sep and tail and all(c in "01234567" for c in tail):
            spec, mode = head, int(tail, 8)
        if not spec.startswith("/"):
            raise ValueError(f"file {raw!r}: write an absolute Unix-style path such as /bin/tool (or /bin/tool:644)")
        kind = "dir" if spec.endswith("/") and len(spec) > 1 else "file"
        out.append((kind, spec.rstrip("/") or "/", mode))
    return out


def build_fs(goos: str, files) -> VFS:
    fs = default_fs(goos)
    for kind, path, mode in parse_files(files):
        p = to_windows(path) if goos == "windows" else path
        fs = fs.dir(p, mode) if kind == "dir" else fs.file(p, mode)
    return fs


@dataclasses.dataclass(frozen=True)
class Row(Record):
    goos: str
    path: str  # the PATH string this OS was given
    name: str
    result: LookPathResult

    def to_dict(self) -> dict:
        # flat: the result's fields beside the scenario's, one table row
        return {"goos": self.goos, "path": self.path, "name": self.name, **self.result.to_dict()}


@dataclasses.dataclass(frozen=True)
class CrossOS(Record):
    """The answers of linux, darwin and windows for one portable scenario."""

    name: str
    path: str
    files: tuple[str, ...]
    pathext: str | None
    cwd: str
    rows: tuple[Row, ...]
    env: tuple[tuple[str, str], ...] = ()  # extra variables every OS was given, e.g. NoDefaultCurrentDirectoryInExePath

    def result(self, goos: str) -> LookPathResult:
        return next(r.result for r in self.rows if r.goos == goos)

    def differs(self) -> bool:
        return len({r.result.short() for r in self.rows}) > 1


def cross_os(name: str, *, path: str, files=(), pathext: str | None = None, cwd: str = "/",
             env: dict | None = None, real: bool = False, oracles: dict | None = None) -> CrossOS:
    """Ask every OS (model; with ``real`` also linux and windows of real Go, marked so)."""
    rows = []
    for goos in GOOSES:
        win = goos == "windows"
        os_path = ";".join(to_windows(e) for e in path.split(":")) if win and path else path
        os_name = to_windows(name) if win else name
        os_cwd = to_windows(cwd) if win else cwd
        try:
            fs = build_fs(goos, files)
            if not fs.exists_dir(os_cwd):
                fs = fs.dir(os_cwd)
            kw = dict(goos=goos, path=os_path, fs=fs, cwd=os_cwd, env=env,
                      pathext=pathext if win else None)
            if real and goos != "darwin":
                oracle = (oracles or {}).get(goos)
                if oracle is not None:
                    kw.pop("goos")
                    res = oracle.ask(os_name, **kw)
                else:
                    from . import real as real_lookpath  # the function, see __init__
                    res = real_lookpath(os_name, **kw)
            else:
                res = lookpath(os_name, **kw)
        except ValueError as exc:
            res = LookPathResult("", "invalid scenario", str(exc), "modeled")
        rows.append(Row(goos, os_path, os_name, res))
    return CrossOS(name, path, tuple(files), pathext, cwd, tuple(rows), tuple(sorted((env or {}).items())))


def cross_os_many(scenarios: dict[str, dict], *, real: bool = False) -> dict[str, CrossOS]:
    """:func:`cross_os` for each named scenario (keyword dicts), in order.

    With ``real`` one linux and one windows (Wine) oracle answer every
    scenario, so Wine starts once; without it every answer is modeled.
    """
    if not real:
        return {title: cross_os(**sc) for title, sc in scenarios.items()}
    from .real import session

    with session("linux") as go_linux, session("windows") as go_windows:
        return {title: cross_os(**sc, real=True, oracles={"linux": go_linux, "windows": go_windows})
                for title, sc in scenarios.items()}


@dataclasses.dataclass(frozen=True)
class Step(Record):
    """One candidate LookPath tried, and why it was or was not taken."""

    order: int
    source: str  # "name" (checked directly), "cwd (implicit)", or the PATH element
    candidate: str
    verdict: str  # "hit", "held back: ...", "skipped ...", or the reason it was not taken
    returned: bool = False  # this candidate is what LookPath returns (with or without ErrDot)


_HELD = "found; held back: ErrDot, unless %PATH% finds this same file"


def explain(name: str, *, goos: str, path: str, fs: VFS | None = None, cwd: str | None = None,
            pathext: str | None = None, env: dict | None = None, uid: int = 0) -> tuple[Step, ...]:
    """The candidates Go tries, in order, and which one it returns (``Step.returned``).

    Follows the same code as :func:`gorun_kit.lookpath.lookpath` (lp_unix.go,
    lp_windows.go). On Windows a hit in the current directory is *held back*;
    the search goes on through %PATH%, and the first %PATH% hit decides: the
    same file (os.SameFile) is returned by its %PATH% name with no error, a
    different file makes LookPath return the held-back one with ErrDot.
    ``NoDefaultCurrentDirectoryInExePath`` (any value) skips the current
    directory, and ``GODEBUG=execerrdot=0`` returns a current-directory hit at once.
    """
    fs = fs or default_fs(goos)
    cwd = cwd or ("C:\\" if goos == "windows" else "/")
    env = env or {}
    if not fs.exists_dir(cwd):
        raise ValueError(f"cwd {cwd!r} is not a directory of the scenario's filesystem; add it (a files entry "
                         "ending in '/', or fs.dir(...))")
    steps: list[Step] = []

    def add(source: str, candidate: str, verdict: str, returned: bool = False) -> None:
        steps.append(Step(len(steps) + 1, source, candidate, verdict, returned))

    def mark_returned(i: int) -> tuple[Step, ...]:
        steps[i] = dataclasses.replace(steps[i], returned=True)
        return tuple(steps)

    if name in ("", ".", ".."):
        return (Step(1, "name", name, "rejected by validateLookPath"),)
    if goos != "windows":
        if "/" in name:
            bad = unix.find_executable(fs, name, cwd=cwd, uid=uid, gid=uid)
            return (Step(1, "name", name, "hit" if bad is None else bad[0], bad is None),)
        for d in unix.split_list(path):
            cand = unix.join(d or ".", name)
            bad = unix.find_executable(fs, cand, cwd=cwd, uid=uid, gid=uid)
            if bad is None:
                rel = not unix.is_abs(cand) and not execerrdot_off(env.get("GODEBUG"))
                add(d if d else '"" (means .)', cand, "hit, relative: returned with ErrDot" if rel else "hit", True)
                break
            add(d if d else '"" (means .)', cand, bad[0])
        return tuple(steps)
    exts = windows.path_ext(pathext)
    dot_off = execerrdot_off(next((v for k, v in env.items() if k.upper() == "GODEBUG"), ""))
    if any(c in name for c in ":\\/"):
        found, code = windows.find_executable(fs, name, exts, cwd)
        return (Step(1, "name", found or name, "hit" if code is None else code, code is None),)
    held = None  # index of the held-back step
    if any(k.upper() == "NODEFAULTCURRENTDIRECTORYINEXEPATH" for k in env):
        add("cwd (implicit)", cwd, "skipped: NoDefaultCurrentDirectoryInExePath is set")
    else:
        found, code = windows.find_executable(fs, windows.join(".", name), exts, cwd)
        if code is None and dot_off:
            add("cwd (implicit)", found, "hit (GODEBUG=execerrdot=0: returned at once)", True)
            return tuple(steps)
        add("cwd (implicit)", found or name + "{" + ",".join(exts) + "}", _HELD if code is None else code)
        held = len(steps) - 1 if code is None else None
    for d in windows.split_list(path):
        if d == "":
            add('""', "", "skipped (empty element)")
            continue
        cand = windows.join(d, name)
        found, code = windows.find_executable(fs, cand, exts, cwd)
        if code is not None:
            add(d, cand + "{" + ",".join(exts) + "}", code)
            continue
        if held is not None:
            if _same_file(fs, steps[held].candidate, found, cwd):
                if not windows.is_abs(found) and not dot_off:
                    add(d, found, "hit: the same file, but relative: still ErrDot")
                    continue
                add(d, found, "hit: the same file as the cwd hit; returned, no error", True)
                return tuple(steps)
            add(d, found, "hit: another file, so the held-back cwd hit is returned (ErrDot)")
            return mark_returned(held)
        if not windows.is_abs(found) and not dot_off:
            add(d, found, "hit, relative: held back (ErrDot)")
            held = len(steps) - 1
            continue
        add(d, found, "hit", True)
        return tuple(steps)
    if held is not None:
        return mark_returned(held)
    return tuple(steps)


def _same_file(fs: VFS, a: str, b: str, cwd: str) -> bool:
    return windows._same_file(fs, a, b, cwd)


def explain_cross(cross: CrossOS, goos: str) -> tuple[Step, ...]:
    """:func:`explain` for one OS of a :class:`CrossOS` record: the same files, cwd,
    PATH, PATHEXT and environment that OS was given (its cwd added when missing,
    as :func:`cross_os` does)."""
    row = next((r for r in cross.rows if r.goos == goos), None)
    if row is None:
        raise ValueError(f"goos {goos!r}: the record has {', '.join(r.goos for r in cross.rows)}")
    win = goos == "windows"
    cwd = to_windows(cross.cwd) if win else cross.cwd
    fs = build_fs(goos, cross.files)
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return explain(row.name, goos=goos, path=row.path, fs=fs, cwd=cwd,
                   pathext=cross.pathext if win else None, env=dict(cross.env))
