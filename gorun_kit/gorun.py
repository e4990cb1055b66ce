"""What ``go run`` really does, measured on the installed toolchain.

* :func:`action_graph` runs ``go run``/``go build`` with the hidden
  ``-debug-actiongraph`` flag (written by ``(*Builder).Do``) and returns its
  actions: mode, package, dependencies, command and Go's own timings.
* :func:`command_log` runs ``go run -x -work`` and splits the log into
  phases (compile per package, link, cache copies, run), timed from the same
  run's action graph; it shows the flags ``go run`` adds (``-dwarf=false``
  on compile, ``-s -w`` on link) and, run twice, that the second ``go run``
  starts the binary stored in the build cache without linking again.
* :func:`go_run_fresh_hello` runs ``go run hello.go`` on a hello world whose
  string is new every time (so main is compiled and linked again), under an
  instrument the caller passes, e.g. ``trace.run`` or ``trace.strace_run``.
* :func:`go_run_executable` finds the executable ``go run`` built (kept in
  GOCACHE) and the compile and link flags it used, beside ``go build``'s.
* :func:`entry_points` cites ``run.runRun``, ``(*Builder).Do`` and
  ``buildRunProgram`` in the installed GOROOT, so the citations follow the release.

The target is copied into a private directory under the cache (optionally
with a fresh comment, so the first run really compiles and links), and
``-work`` directories are removed afterwards: nothing is left behind.
"""
from __future__ import annotations

import atexit
import dataclasses
import datetime as _dt
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Iterable

from . import build, goroot, sessions
from .cache import cache_dir, scratch_dir, sweep
from .records import Record
from .toolchain import GoToolchain, find_go, go_env

__all__ = ["Action", "ActionGraph", "Phase", "CommandLog", "action_graph", "command_log",
           "run_twice", "ExitStatus", "exit_status", "entry_points", "CACHES_EXECUTABLE_SINCE", "caches_executable",
           "second_run_matches_release", "is_std", "GoRunBinary", "go_run_executable", "write_fresh_hello", "go_run_fresh_hello"]


def is_std(package: str) -> bool:
    """Standard-library import paths have no dot in their first element."""
    if package in ("", "command-line-arguments", "main"):
        return False
    return "." not in package.split("/")[0]


def _ts(text: str | None) -> float | None:
    if not text or text.startswith("0001-"):
        return None
    # Go writes RFC 3339 with nanoseconds; Python wants at most microseconds.
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        return None
    base, frac, zone = m.groups()
    zone = "+00:00" if zone == "Z" else zone
    stamp = _dt.datetime.fromisoformat(base + zone).timestamp()
    return stamp + (int(frac) / 10 ** len(frac) if frac else 0.0)


@dataclasses.dataclass(frozen=True)
class Action(Record):
    """One node of Go's action graph (``cmd/go/internal/work.Action``)."""

    id: int
    mode: str  # "go run", "link", "build", "build check cache", "built-in package", "nop", ...
    package: str
    deps: tuple[int, ...]
    cmd: tuple[str, ...]  # the tool commands it ran (empty when served from the cache)
    start: float | None  # seconds since the graph's first start
    done: float | None
    need_build: bool
    built: str
    target: str

    @property
    def seconds(self) -> float | None:
        return None if self.start is None or self.done is None else self.done - self.start

    @property
    def std(self) -> bool:
        return is_std(self.package)


@dataclasses.dataclass(frozen=True)
class ActionGraph(Record):
    """The whole graph of one ``go`` command, with what was asked."""

    command: tuple[str, ...]
    actions: tuple[Action, ...]

    @property
    def root(self) -> Action:
        return self.actions[0]

    def by_id(self, i: int) -> Action:
        return self.actions[i]

    def modes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.mode] = out.get(a.mode, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def chain(self) -> list[Action]:
        """The spine a student should see: root -> link -> build of the main package."""
        spine = [self.root]
        for mode in ("link", "build"):
            nxt = [self.by_id(d) for d in spine[-1].deps if self.by_id(d).mode == mode
                   and not self.by_id(d).std]
            if not nxt:
                break
            spine.append(nxt[0])
        return spine

    def std_packages(self) -> list[str]:
        return sorted({a.package for a in self.actions if a.std and a.mode == "build"})


def _parse_graph(data: list[dict], command: list[str]) -> ActionGraph:
    starts = [t for t in (_ts(a.get("TimeStart")) for a in data) if t is not None]
    t0 = min(starts) if starts else 0.0
    actions = []
    for a in data:
        s, d = _ts(a.get("TimeStart")), _ts(a.get("TimeDone"))
        actions.append(Action(
            id=a["ID"], mode=a["Mode"], package=a.get("Package", ""), deps=tuple(a.get("Deps") or ()),
            cmd=tuple(a.get("Cmd") or ()), start=None if s is None else s - t0,
            done=None if d is None else d - t0, need_build=bool(a.get("NeedBuild")),
            built=a.get("Built", ""), target=a.get("Target", "")))
    return ActionGraph(tuple(command), tuple(actions))


# ---------------------------------------------------------------------------
# running go in a private copy of the target

def _workspace(target: str | os.PathLike, fresh: bool) -> tuple[Path, str, bool, Path]:
    """Copy ``target`` (a .go file or a package directory) into a private directory.

    Returns (cwd, the argument to pass to go, whether it is a labs module, the directory to remove).
    ``fresh`` appends a unique comment so the compile and link really happen.
    """
    src = Path(target).expanduser().resolve()
    if not src.exists():
        raise FileNotFoundError(f"go run target {os.fspath(target)!r} does not exist (give a .go file or a package directory)")
    if src.is_file() and src.suffix != ".go":
        raise ValueError(f"go run target {os.fspath(target)!r} is not a .go file or a directory")
    base = cache_dir() / "work"
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="gorun-", dir=base))
    files = [src] if src.is_file() else sorted(p for p in src.iterdir() if p.suffix == ".go" and not p.name.endswith("_test.go"))
    if not files:
        shutil.rmtree(tmp)
        raise ValueError(f"go run target {os.fspath(target)!r} has no .go files")
    for f in files:
        shutil.copyfile(f, tmp / f.name)
    if fresh:
        with open(tmp / files[0].name, "a") as fh:
            fh.write(f"\n// gorun-kit fresh build {uuid.uuid4().hex}\n")
    arg = files[0].name if src.is_file() else "."
    if not src.is_file():
        (tmp / "go.mod").write_text("module gorunkit.local/scratch\n\ngo 1.22\n")
    return tmp, arg, False, tmp


def _go(tc: GoToolchain, args: list[str], cwd: Path, timeout: float = 600) -> tuple[subprocess.CompletedProcess, list[tuple[float, str]]]:
    """Run go, recording when each stderr line arrived (monotonic seconds from start)."""
    env = go_env(toolchain=tc)
    t0 = time.monotonic()
    lines: list[tuple[float, str]] = []
    out_chunks: list[str] = []
    # on an error or ^C the session ends go *and* the compile/link processes it started
    with sessions.tool_session([tc.go, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
        reader.start()
        for line in proc.stderr:
            lines.append((time.monotonic() - t0, line.rstrip("\n")))
        proc.wait(timeout=timeout)
        reader.join(timeout=timeout)
    proc.stdout.close()  # (on an error the session's stop has read and closed them)
    proc.stderr.close()
    lines.append((time.monotonic() - t0, ""))  # the exit, so the last phase has an end
    done = subprocess.CompletedProcess(proc.args, proc.returncode, "".join(out_chunks),
                                       "\n".join(l for _, l in lines))
    return done, lines


def action_graph(target: str | os.PathLike, *, mode: str = "run", fresh: bool = False,
                 go: GoToolchain | None = None) -> ActionGraph:
    """The action graph of ``go run TARGET`` (or ``go build`` with ``mode="build"``)."""
    if mode not in ("run", "build"):
        raise ValueError(f"mode {mode!r}: use 'run' or 'build'")
    tc = go or find_go()
    cwd, arg, _, cleanup = _workspace(target, fresh)
    try:
        graph_file = cwd / "actiongraph.json"
        args = [mode, f"-debug-actiongraph={graph_file}"]
        if mode == "build":
            args += ["-o", os.devnull]
        args.append(arg)
        proc, _ = _go(tc, args, cwd)
        if proc.returncode != 0 and not graph_file.exists():
            raise build.BuildError(os.fspath(target), [tc.go, *args], proc.stderr)
        data = json.loads(graph_file.read_text())
        return _parse_graph(data, ["go", *args[:1], "-debug-actiongraph=FILE", *args[2:]])
    finally:
        shutil.rmtree(cleanup, ignore_errors=True)


# ---------------------------------------------------------------------------
# the -x log

@dataclasses.dataclass(frozen=True)
class Phase(Record):
    """One command of the ``-x`` log that does real work."""

    kind: str  # "compile", "link", "cache-put", "run"
    package: str
    command: str  # the line as go printed it ($WORK kept)
    flags: tuple[str, ...]  # the interesting flags on it (-dwarf=false, -s, -w, ...)
    seconds: float | None  # from the action graph (compile/link) or the log's clock (run)


@dataclasses.dataclass(frozen=True)
class CommandLog(Record):
    """One ``go run -x -work`` of a target, split into phases.

    ``command`` is the go command line exactly as it ran, with the kit's own
    ``-debug-actiongraph=PATH`` (see :attr:`shown` for a stable form);
    ``target`` and ``args`` are what go was given, stored as run, not sliced
    out of ``command``.
    """

    command: tuple[str, ...]
    target: str  # what go run was given: the .go file name or "." (a package directory)
    args: tuple[str, ...]  # the arguments go passed to the program (after the target)
    work: str  # the WORK directory go printed (already removed)
    lines: tuple[str, ...]
    phases: tuple[Phase, ...]
    output: str  # what the program printed
    returncode: int
    ran: str  # the path of the binary go started
    graph: ActionGraph
    # A copy of the $WORK executable, kept when this release's go run stored none in the
    # build cache (before Go 1.24); "" otherwise. See command_log.
    kept_executable: str = ""

    @property
    def ran_cached_binary(self) -> bool:
        """True when go started a binary from the build cache, not from $WORK."""
        return not self.ran.startswith("$WORK")

    def kinds(self) -> list[str]:
        return [p.kind for p in self.phases]

    def phase(self, kind: str) -> list[Phase]:
        return [p for p in self.phases if p.kind == kind]

    @property
    def shown(self) -> str:
        """``command`` as one line, with the action-graph file (a private temporary
        path) written ``FILE``: the same text on every run."""
        return " ".join(re.sub(r"^(-debug-actiongraph=).+$", r"\1FILE", w) for w in self.command)

    @property
    def cached_executable(self) -> str:
        """Where the executable lives in the build cache: the file this run started
        (a cache hit), or the destination of its ``cp ... # internal`` (a fresh link).

        Raises ValueError when the log shows neither (a build that failed).
        """
        if self.ran and self.ran_cached_binary:
            return self.ran
        puts = self.phase("cache-put")
        if puts:
            return puts[0].command.split()[2]
        raise ValueError(f"{' '.join(self.command)}: the -x log shows no executable in the build cache")

    @property
    def program(self) -> tuple[str, str]:
        """(path, where) of an executable of the program this run built, to start
        again without go: the build-cache copy (``where`` = "build cache") when go
        run stored one (Go 1.24 and later), else the kit's copy of the $WORK file
        (``where`` = "$WORK copy": before 1.24, go run linked into $WORK only and
        removed it). Raises ValueError when the log shows neither.
        """
        try:
            return self.cached_executable, "build cache"
        except ValueError:
            if self.kept_executable:
                return self.kept_executable, "$WORK copy"
            raise ValueError(f"{' '.join(self.command)}: the -x log shows no executable in the build cache, "
                             "and no copy of the $WORK executable was kept") from None

    @property
    def go_said(self) -> str:
        """go's own ``exit status N`` line when the program failed, else ""."""
        return next((l for l in reversed(self.lines) if re.fullmatch(r"exit status \d+", l)), "")


_RUN_LINE = re.compile(r"^(\$WORK/b\d+/exe/[^/\s]+|/\S*/[0-9a-f]{2}/[0-9a-f]{64}-d/[^/\s]+)$")
_INTERESTING = ("-dwarf=false", "-s", "-w", "-buildmode=exe", "-complete", "-std", "-trimpath")


def _phases(lines: list[tuple[float, str]], graph: ActionGraph) -> tuple[list[Phase], str]:
    compile_secs = {a.package: a.seconds for a in graph.actions if a.mode == "build" and a.cmd}
    link_secs = [a.seconds for a in graph.actions if a.mode == "link" and a.cmd]
    phases, ran = [], ""
    for t, line in lines:
        words = line.split()
        if not words:
            continue
        tool = next((w for w in words if not re.match(r"^\w+=", w)), "")
        if tool.endswith("/compile"):
            pkg = words[words.index("-p") + 1] if "-p" in words else ""
            key = "command-line-arguments" if pkg == "main" else pkg
            phases.append(Phase("compile", pkg, line, tuple(w for w in words if w in _INTERESTING),
                                compile_secs.get(key)))
        elif tool.endswith("/link"):
            phases.append(Phase("link", "main", line, tuple(w for w in words if w in _INTERESTING),
                                link_secs[0] if link_secs else None))
        elif words[0] == "cp" and line.endswith("# internal") and "/exe/" in line:
            phases.append(Phase("cache-put", "main", line, (), None))
        elif _RUN_LINE.match(words[0]):
            # go -x prints the program it starts: the linked $WORK/bNNN/exe/NAME, or the
            # executable stored in the build cache (GOCACHE/xx/<hash>-d/NAME).
            ran = words[0]
            phases.append(Phase("run", "main", line, (), lines[-1][0] - t))
    return phases, ran


_KEPT_AREA = "gorun-exe"


def _keep_work_executable(work: str, ran: str) -> str:
    """Copy the executable ``go run`` started from ``$WORK`` (``ran``) into a
    scratch directory of the kit's cache (area ``gorun-exe``, named with this
    process's pid) and return the copy's path, or "" when the file is not there.

    Only for releases whose go run keeps no executable in the build cache
    (before Go 1.24), so :func:`exit_status` can still start the program. The
    copy lives as long as this process, at most :data:`gorun_kit.cache.STALE_SECONDS`:
    it is removed when the process exits normally (atexit), and each
    :func:`command_log` sweeps the copies whose owner is gone or that are older.
    """
    src = Path(work, ran[len("$WORK/"):]) if work else None
    if src is None or not src.is_file():
        return ""
    sweep(cache_dir() / _KEPT_AREA)
    home = scratch_dir(_KEPT_AREA, "exe")
    atexit.register(shutil.rmtree, home, True)
    dst = home / src.name
    shutil.copy2(src, dst)
    return os.fspath(dst)


def command_log(target: str | os.PathLike, *, fresh: bool = True, args: tuple[str, ...] = (),
                go: GoToolchain | None = None, _workspace_dir: tuple | None = None) -> CommandLog:
    """``go run -x -work TARGET ARGS``: the log split into phases, with timings.

    ``fresh`` (default) makes the first compile and link really happen (a
    unique comment is added to the private copy); see :func:`run_twice`.
    When go run started the program from ``$WORK`` and stored no copy in the
    build cache (releases before Go 1.24), the executable is copied before
    ``$WORK`` is removed (:attr:`CommandLog.kept_executable`).
    """
    tc = go or find_go()
    if (cache_dir() / _KEPT_AREA).is_dir():
        sweep(cache_dir() / _KEPT_AREA)  # copies kept by processes that are gone
    cwd, arg, _, cleanup = _workspace_dir or _workspace(target, fresh)
    graph_file = cwd / f"actiongraph-{uuid.uuid4().hex[:8]}.json"
    cmd = ["run", "-x", "-work", f"-debug-actiongraph={graph_file}", arg, *args]
    work = ""
    try:
        proc, lines = _go(tc, cmd, cwd)
        work = next((l.split("=", 1)[1] for _, l in lines if l.startswith("WORK=")), "")
        if not graph_file.exists():
            raise build.BuildError(os.fspath(target), [tc.go, *cmd], proc.stderr)
        graph = _parse_graph(json.loads(graph_file.read_text()), ["go", *cmd])
        graph_file.unlink()
        phases, ran = _phases(lines, graph)
        kept = _keep_work_executable(work, ran) if ran.startswith("$WORK/") and not any(
            p.kind == "cache-put" for p in phases) else ""
        return CommandLog(("go", *cmd), arg, tuple(args), work, tuple(l for _, l in lines[:-1]),
                          tuple(phases), proc.stdout, proc.returncode, ran, graph, kept)
    finally:
        if work and Path(work).name.startswith("go-build"):
            shutil.rmtree(work, ignore_errors=True)  # -work keeps it; we do not
        if _workspace_dir is None:
            shutil.rmtree(cleanup, ignore_errors=True)


def run_twice(target: str | os.PathLike, *, go: GoToolchain | None = None) -> tuple[CommandLog, CommandLog]:
    """Two ``go run`` of the same fresh copy: the first compiles and links, the second reuses the cache."""
    ws = _workspace(target, True)
    try:
        first = command_log(target, go=go, _workspace_dir=ws)
        second = command_log(target, go=go, _workspace_dir=ws)
    finally:
        shutil.rmtree(ws[3], ignore_errors=True)
    return first, second


@dataclasses.dataclass(frozen=True)
class ExitStatus(Record):
    """How one ``go run`` ended, beside how its program ends when started directly."""

    target: str  # what go run was given (the .go file or ".")
    args: tuple[str, ...]
    child: int  # the program's own exit status, started directly from the build cache
    go_said: str  # the "exit status N" line go printed, or ""
    go_run: int  # go run's own exit status
    started_from: str = "build cache"  # where the executable started directly came from: "build cache" or "$WORK copy"


def exit_status(log: CommandLog, *, timeout: float = 60) -> ExitStatus:
    """Start the executable ``log``'s ``go run`` built, directly (no go), with the
    same arguments, and set its exit status beside go run's.

    The executable is :attr:`CommandLog.program`: the copy in the build cache
    (Go 1.24 and later), or, for a release whose go run stores none, the copy of
    the ``$WORK`` executable :func:`command_log` kept; ``started_from`` says
    which. Nothing is built again. stdin is /dev/null; output is discarded.
    Raises ValueError when the log has neither, FileNotFoundError (naming
    the target and the missing file, and saying to run :func:`command_log`
    again) when that file is gone (``go clean -cache``, cache trimming, or
    the kept copy swept), RuntimeError when the program runs longer than
    ``timeout`` seconds (it is killed).
    """
    exe, where = log.program
    place = "build cache" if where == "build cache" else "kit's cache (its copy of the $WORK executable)"
    try:
        done = subprocess.run([exe, *log.args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=timeout)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the executable that `go run {log.target}` built is no longer in the {place} ({exe}); "
            f"the cache was cleaned or trimmed since that run. Run gorun.command_log on {log.target} "
            f"again (it builds it anew) and pass the new log to exit_status") from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{exe} did not exit within {timeout} s and was killed") from None
    return ExitStatus(log.target, log.args, done.returncode, log.go_said, log.returncode, where)


# Go 1.24 made go run store the executable it links in the build cache
# (cmd/go/internal/run: CacheExecutable); before, it linked into $WORK, ran it
# from there and removed it, and every go run linked again.
CACHES_EXECUTABLE_SINCE = (1, 24)


def caches_executable(go: GoToolchain | None = None) -> goroot.Citation | None:
    """The line of ``cmd/go/internal/run`` that makes go run keep its executable
    in the build cache (``... .CacheExecutable = true``), in the installed GOROOT;
    None when this release has none (before Go 1.24: the executable lives in
    $WORK only). Read from the source, so it follows the release; see
    :data:`CACHES_EXECUTABLE_SINCE` for the release that changed it."""
    tc = go or find_go()
    hits = goroot.grep(r"\.CacheExecutable\s*=\s*true", "cmd/go/internal/run", toolchain=tc)
    return hits[0] if hits else None


# ---------------------------------------------------------------------------
# the executable go run runs

@dataclasses.dataclass(frozen=True)
class GoRunBinary(Record):
    """The executable ``go run`` built and ran, and the flags it gave compile and link."""

    path: str  # the copy go run keeps in GOCACHE
    compile_flags: tuple[str, ...]  # flags of main's compile line, from ``go run -a -n``
    link_flags: tuple[str, ...]  # flags of the link line, from ``go run -a -n``
    build_compile_flags: tuple[str, ...]  # the same two lines for ``go build -a -n``, to compare
    build_link_flags: tuple[str, ...]
    output: str  # what the program printed


def _tool_flags(lines: Iterable[str], tool: str, package: str | None = None) -> tuple[str, ...]:
    """The flag words of the first ``tool`` command line (for ``package`` when given)."""
    for line in lines:
        if f"/{tool} " not in line or (package and f" -p {package} " not in line):
            continue
        words = shlex.split(line)
        for i, w in enumerate(words):
            if w.endswith(f"/{tool}"):
                return tuple(x for x in words[i + 1:] if x.startswith("-"))
    return ()


def _ran_executable(x_log: str, gocache: str) -> str:
    """The executable ``go run -x`` ran, from its log: the ``cp`` into GOCACHE
    after a fresh link, or the cached file it runs directly on a cache hit."""
    path = ""
    for line in x_log.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "cp" and words[2].startswith(gocache):
            path = words[2]
        elif len(words) == 1 and words[0].startswith(gocache + "/"):
            path = words[0]
    if not path or not os.path.isfile(path):
        raise RuntimeError(f"could not find the executable go run used in its -x output (GOCACHE={gocache})")
    return path


def go_run_executable(source: str | os.PathLike, *, toolchain: GoToolchain | None = None,
                      timeout: float = 300) -> GoRunBinary:
    """Run ``go run`` on ``source`` (a package directory) and return the binary it ran.

    ``go run -a -n`` prints every compile and link command it would use without
    running any (``-a`` so that cached packages are listed too; their flags are
    the evidence of what go run passes, set beside ``go build -a -n``'s);
    ``go run -x`` then builds and runs
    for real and prints where it put the executable: either the ``cp`` into
    GOCACHE on a fresh link or, when cached, the GOCACHE path it runs directly.
    CGO_ENABLED=0, as for :func:`gorun_kit.build.build_go`'s default.
    """
    src = Path(source).expanduser().resolve()
    if not src.is_dir():
        raise FileNotFoundError(f"go run source {os.fspath(source)!r} is not a package directory")
    tc = toolchain or find_go()
    env = go_env(labs=build.module_requires_nothing(src), toolchain=tc)
    env["CGO_ENABLED"] = "0"

    def go(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tc.go, *args], cwd=src, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    plans = {}
    for verb in ("run", "build"):
        dry = go(verb, "-a", "-n", ".")
        if dry.returncode != 0:
            raise RuntimeError(f"go {verb} -a -n in {src} failed:\n{dry.stderr.strip()}")
        plans[verb] = dry.stderr.splitlines()
    real = go("run", "-x", ".")
    if real.returncode != 0:
        raise RuntimeError(f"go run -x in {src} failed:\n{real.stderr.strip()}")
    gocache = go("env", "GOCACHE").stdout.strip()
    path = _ran_executable(real.stderr, gocache)
    return GoRunBinary(path=path, compile_flags=_tool_flags(plans["run"], "compile", "main"),
                       link_flags=_tool_flags(plans["run"], "link"),
                       build_compile_flags=_tool_flags(plans["build"], "compile", "main"),
                       build_link_flags=_tool_flags(plans["build"], "link"), output=real.stdout)


def entry_points(go: GoToolchain | None = None) -> dict[str, goroot.Citation]:
    """Where ``go run`` is implemented in the installed GOROOT (resolved now, not typed)."""
    tc = go or find_go()
    return {
        "run.runRun": goroot.find_func("runRun", "cmd/go/internal/run", toolchain=tc),
        "run.buildRunProgram": goroot.find_func("buildRunProgram", "cmd/go/internal/run", toolchain=tc),
        "work.(*Builder).Do": goroot.find_func("Builder.Do", "cmd/go/internal/work", toolchain=tc),
        "work.(*Builder).LinkAction": goroot.find_func("Builder.LinkAction", "cmd/go/internal/work", toolchain=tc),
        "base.RunStdin": goroot.find_func("RunStdin", "cmd/go/internal/base", toolchain=tc),
    }


_HELLO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello, %s") }\n'


def write_fresh_hello(directory: str | os.PathLike) -> Path:
    """Write ``directory/hello.go``, a hello world printing ``hello, <8 random hex digits>``.

    The string is new on every call, so the build cache cannot supply main's
    compile or link: a ``go run`` of it really builds main.
    """
    path = Path(directory, "hello.go")
    path.write_text(_HELLO % uuid.uuid4().hex[:8])
    return path


def go_run_fresh_hello(run=None, *, warm_cache: bool = False, timeout: float = 300,
                       go: GoToolchain | None = None):
    """``go run hello.go`` on a fresh hello world (:func:`write_fresh_hello`) in a
    temporary directory, which is removed afterwards.

    ``run`` is the instrument, called as ``run(cmd, cwd=..., env=..., timeout=...)``
    and returning something with ``returncode`` and ``stderr`` (``trace.run``,
    ``trace.strace_run``); None runs go plainly and returns the
    CompletedProcess. ``warm_cache`` first runs another fresh hello world
    without the instrument, so the standard library is in the build cache and
    the measured run does the same work whether the cache was cold or warm.
    A non-zero exit status raises RuntimeError with the end of go's stderr.
    """
    tc = go or find_go()
    cmd, env = [tc.go, "run", "hello.go"], go_env(toolchain=tc)

    def plain(cmd, *, cwd, env, timeout):
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory(prefix="gorun-kit-hello-") as tmp:
        if warm_cache:
            write_fresh_hello(tmp)
            _check_hello(plain(cmd, cwd=tmp, env=env, timeout=timeout), "go run")
        write_fresh_hello(tmp)
        return _check_hello((run or plain)(cmd, cwd=tmp, env=env, timeout=timeout), getattr(run, "__name__", "go run"))


def _check_hello(result, how: str):
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace") if isinstance(result.stderr, bytes) else (result.stderr or "")
        raise RuntimeError(f"go run hello.go exited {result.returncode} under {how}: {said[-500:]}")
    return result


def second_run_matches_release(first: CommandLog, second: CommandLog, caches: goroot.Citation | None, *,
                               go: GoToolchain | None = None) -> bool:
    """Whether the two logs of :func:`run_twice` show what this release's go run
    does, ``caches`` being :func:`caches_executable`:

    * it caches (Go 1.24 and later): the first run copies the executable into
      the build cache (a ``cache-put``), the second only runs (no link), and it
      starts that very copy;
    * it does not (before Go 1.24): neither run copies anything, the second
      links into ``$WORK`` again and starts the program from there.

    False too when the source and the release number disagree (see
    :data:`CACHES_EXECUTABLE_SINCE`): a change nobody has described."""
    tc = go or find_go()
    if (caches is not None) != (tc.version_tuple >= CACHES_EXECUTABLE_SINCE):
        return False
    if caches is not None:
        return (bool(first.phase("cache-put")) and second.kinds() == ["run"] and second.ran_cached_binary
                and second.ran == first.cached_executable)
    return (not (first.phase("cache-put") or second.phase("cache-put") or second.ran_cached_binary)
            and second.kinds() == ["link", "run"])
