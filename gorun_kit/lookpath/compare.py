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
from .result import LookPathResult
from .vfs import VFS

__all__ = ["to_windows", "parse_files", "Row", "CrossOS", "cross_os", "Step", "explain"]


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
    return CrossOS(name, path, tuple(files), pathext, cwd, tuple(rows))


@dataclasses.dataclass(frozen=True)
class Step(Record):
    """One candidate LookPath tried, and why it was or was not taken."""

    order: int
    source: str  # "name" (checked directly), "cwd (implicit)", or the PATH element
    candidate: str
    verdict: str  # "hit", or the reason it was skipped


def explain(name: str, *, goos: str, path: str, fs: VFS | None = None, cwd: str | None = None,
            pathext: str | None = None, env: dict | None = None, uid: int = 0) -> tuple[Step, ...]:
    """The candidates Go tries, in order (the search stops at the first acceptable hit)."""
    fs = fs or default_fs(goos)
    cwd = cwd or ("C:\\" if goos == "windows" else "/")
    env = env or {}
    steps: list[Step] = []
    if name in ("", ".", ".."):
        return (Step(1, "name", name, "rejected by validateLookPath"),)
    if goos != "windows":
        if "/" in name:
            bad = unix.find_executable(fs, name, cwd=cwd, uid=uid, gid=uid)
            return (Step(1, "name", name, "hit" if bad is None else bad[0]),)
        for d in unix.split_list(path):
            cand = unix.join(d or ".", name)
            bad = unix.find_executable(fs, cand, cwd=cwd, uid=uid, gid=uid)
            steps.append(Step(len(steps) + 1, d if d else '"" (means .)', cand, "hit" if bad is None else bad[0]))
            if bad is None:
                break
        return tuple(steps)
    exts = windows.path_ext(pathext)
    if any(c in name for c in ":\\/"):
        found, code = windows.find_executable(fs, name, exts, cwd)
        return (Step(1, "name", found or name, "hit" if code is None else code),)
    if not any(k.upper() == "NODEFAULTCURRENTDIRECTORYINEXEPATH" for k in env):
        found, code = windows.find_executable(fs, windows.join(".", name), exts, cwd)
        steps.append(Step(1, "cwd (implicit)", found or name + "{" + ",".join(exts) + "}",
                          "hit (ErrDot unless PATH has the same file)" if code is None else code))
    for d in windows.split_list(path):
        if d == "":
            steps.append(Step(len(steps) + 1, '""', "", "skipped (empty element)"))
            continue
        cand = windows.join(d, name)
        found, code = windows.find_executable(fs, cand, exts, cwd)
        steps.append(Step(len(steps) + 1, d, found or cand + "{" + ",".join(exts) + "}",
                          "hit" if code is None else code))
        if code is None and windows.is_abs(found):
            break
    return tuple(steps)
