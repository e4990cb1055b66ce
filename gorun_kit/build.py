"""Building Go and C programs into a content-addressed cache.

The cache key is a SHA-256 over everything that can change the output: the
toolchain (version and root), every source file's bytes, the flags, the target,
and for ``-overlay`` builds the overlay mapping *and the bytes of every
replacement file*. The same inputs never rebuild; any changed input always
does.

An entry is built in a private temporary directory and renamed into place only
when complete, with its ``meta.json`` written last, so an interrupted build
never leaves a half-written entry (the rename is atomic on one filesystem, and
a directory without ``meta.json`` is never treated as an entry). A
``meta.json`` that cannot be read as a whole record (truncated, ``{}``) or
names a missing file makes the entry missing: it is rebuilt and replaced.

The compiler runs in a process group of its own that dies with the caller,
even when the caller is SIGKILLed (``sessions.run_tool(die_with_parent=True)``):
no ``go build`` or ``compile`` is left running.

Nothing is ever written into GOROOT or into the source tree: outputs, overlay
files and temporaries live under :func:`gorun_kit.cache.cache_dir`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from . import progress, sessions
from .cache import cache_dir, scratch_dir, sweep, write_atomic
from .records import Record
from .toolchain import GoToolchain, Tool, find_go, find_tool, go_env

__all__ = ["Binary", "BuildError", "Diagnostic", "build_go", "build_c", "write_overlay",
           "overlay_gocache", "module_requires_nothing"]

_SOURCE_SUFFIXES = {".go", ".c", ".h", ".s", ".S", ".syso", ".mod", ".sum"}
# Environment variables that change what `go build` produces (GOFLAGS can add
# -trimpath or -race, GOAMD64 the instruction set, CGO_* and CC the C side).
# GOCACHE, GOPROXY and the like change where things come from, not the output.
_GO_ENV_KEYS = ("GOFLAGS", "GOAMD64", "GO386", "GOARM", "GOARM64", "GOEXPERIMENT", "GOFIPS140", "GOPPC64",
                "GORISCV64", "GOMIPS", "GOMIPS64", "GOWASM", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS",
                "CGO_FFLAGS", "CGO_LDFLAGS", "CC", "CXX", "AR", "PKG_CONFIG")
# ... and what changes what the C compiler finds (for build_c, and for go build under cgo,
# where pkg-config's search path also decides the flags of a `#cgo pkg-config:` line).
_C_ENV_KEYS = ("CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH")
_CGO_ENV_KEYS = _C_ENV_KEYS + ("CPLUS_INCLUDE_PATH", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR")


@dataclasses.dataclass(frozen=True)
class Binary(Record):
    """A built program in the cache."""

    path: str  # absolute path of the executable (or shared library)
    kind: str  # "go", "c", "c-shared"
    command: tuple[str, ...]  # the command that built it
    toolchain: str  # "go1.27.3" or the C compiler's version line
    key: str  # the cache key (hex SHA-256)
    cached: bool  # True when this call found it already built


@dataclasses.dataclass(frozen=True)
class Diagnostic(Record):
    """One ``file:line[:col]: message`` line of compiler output."""

    file: str
    line: int
    column: int | None
    message: str


class BuildError(RuntimeError):
    """A compile or link failed; carries the compiler's own messages.

    ``output`` is the compiler's stderr/stdout verbatim, ``diagnostics`` the
    ``file:line`` lines parsed from it, ``command`` what was run.
    """

    def __init__(self, what: str, command: Sequence[str], output: str):
        self.what = what
        self.command = tuple(command)
        self.output = output
        self.diagnostics = tuple(parse_diagnostics(output))
        super().__init__(f"build of {what} failed:\n{output.rstrip()}")


_DIAG = re.compile(r"^(?P<file>[^\s:][^:]*?):(?P<line>\d+)(?::(?P<col>\d+))?:\s*(?P<msg>.*)$")


def parse_diagnostics(output: str) -> list[Diagnostic]:
    """The ``file:line[:col]: message`` lines of compiler output, in order."""
    found = []
    for raw in output.splitlines():
        m = _DIAG.match(raw.strip())
        if m:
            col = m.group("col")
            found.append(Diagnostic(m.group("file"), int(m.group("line")), int(col) if col else None, m.group("msg")))
    return found


# ---------------------------------------------------------------------------
# hashing

class _Hasher:
    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def field(self, name: str, value: object) -> None:
        data = json.dumps(value, sort_keys=True, default=str).encode()
        self._h.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    def file(self, label: str, path: Path) -> None:
        self.field("file", label)
        self._h.update(path.read_bytes())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def _find_module_root(start: Path) -> Path | None:
    for d in [start, *start.parents]:
        if (d / "go.mod").is_file():
            return d
    return None


def module_requires_nothing(directory: str | os.PathLike) -> bool:
    """True when ``directory`` is inside a Go module whose go.mod has no ``require``
    (the course's labs, the kit's LookPath oracle). Such a module is built with
    ``-mod=mod``: there is nothing to download and no go.sum to keep."""
    root = _find_module_root(Path(directory).resolve())
    if root is None:
        return False
    return not re.search(r"^\s*require\b", (root / "go.mod").read_text(errors="replace"), re.M)


def _module_path(root: Path) -> str:
    # a stray non-UTF-8 byte is go's to report (as a BuildError), not a UnicodeDecodeError here
    m = re.search(r"^module\s+(\S+)", (root / "go.mod").read_text(errors="replace"), re.M)
    return m.group(1).strip('"') if m else ""


_IMPORT_BLOCK = re.compile(r"^import\s*\((.*?)\)", re.S | re.M)
_IMPORT_LINE = re.compile(r'^import\s+(?:\w+\s+|\.\s+|_\s+)?"([^"]+)"', re.M)
_QUOTED = re.compile(r'"([^"]+)"')


def _imports(go_file: Path) -> set[str]:
    text = go_file.read_text(errors="replace")
    found = set(_IMPORT_LINE.findall(text))
    for block in _IMPORT_BLOCK.findall(text):
        found.update(_QUOTED.findall(block))
    return found


def _package_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in _SOURCE_SUFFIXES)


def _go_inputs(source: Path) -> tuple[list[Path], Path | None]:
    """The files whose bytes decide a Go build's output, and the module root.

    For a file: that file. For a directory: its package files. In both cases,
    the module's go.mod/go.sum and the files of every package of the same
    module it imports (transitively), found by reading import lines.
    """
    module_root = _find_module_root(source if source.is_dir() else source.parent)
    files = [source] if source.is_file() else _package_files(source)
    if module_root is None:
        return files, None
    mod_path = _module_path(module_root)
    seen_dirs: set[Path] = set()
    pending = [f for f in files if f.suffix == ".go"]
    result = list(files)
    for extra in ("go.mod", "go.sum"):
        if (module_root / extra).is_file():
            result.append(module_root / extra)
    while pending:
        go_file = pending.pop()
        for imp in _imports(go_file):
            if mod_path and (imp == mod_path or imp.startswith(mod_path + "/")):
                d = module_root / imp[len(mod_path):].lstrip("/")
                if d.is_dir() and d not in seen_dirs:
                    seen_dirs.add(d)
                    pkg = _package_files(d)
                    result.extend(pkg)
                    pending.extend(p for p in pkg if p.suffix == ".go")
    return sorted(set(result)), module_root


# ---------------------------------------------------------------------------
# the cache entry life cycle

def _entry_dir(kind: str, key: str) -> Path:
    return cache_dir() / "build" / kind / key[:2] / key


_META_FIELDS = {f.name for f in dataclasses.fields(Binary)} - {"cached"}


def _load_entry(entry: Path) -> Binary | None:
    """The entry's Binary, or None when it is missing or not whole: no or an
    unreadable ``meta.json`` (truncated, ``{}``, other fields) or no executable."""
    try:
        data = json.loads((entry / "meta.json").read_text())
    except (OSError, ValueError):  # missing, unreadable, not JSON (truncated), not UTF-8
        return None
    if not isinstance(data, dict) or set(data) != _META_FIELDS or not isinstance(data["command"], list) \
            or not isinstance(data["path"], str):
        return None
    binary = Binary(**{**data, "command": tuple(map(str, data["command"])), "cached": True})
    return binary if os.path.isfile(binary.path) else None


def _publish(work: Path, final: Path) -> Binary | None:
    """Rename the finished ``work`` to ``final``; return the winner's Binary
    when another process published a whole entry first, else None.

    A ``final`` that is not a whole entry (a crash before meta.json, a damaged
    meta.json) is renamed into the scratch area first -- a reader sees the
    damaged entry or the new one, never a mix -- and removed afterwards.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        winner = _load_entry(final)
        if winner is not None:
            return winner
        trash = scratch_dir("tmp", "damaged")
        try:
            os.rename(final, trash / "entry")
        except FileNotFoundError:
            pass  # another builder moved it away first
        finally:
            shutil.rmtree(trash, ignore_errors=True)
    work.chmod(0o755)  # an entry is shared: a sandboxed run of it may be another uid's
    try:
        os.rename(work, final)
    except OSError:
        winner = _load_entry(final)
        if winner is None:
            raise
        return winner
    return None


def _build_entry(kind: str, key: str, produce) -> Binary:
    """Run ``produce(tmpdir) -> Binary`` in a private directory and publish it atomically."""
    final = _entry_dir(kind, key)
    existing = _load_entry(final)
    if existing is not None:
        if final.stat().st_mode & 0o005 != 0o005:
            final.chmod(0o755)  # published before entries were made readable to all
        return existing
    sweep(cache_dir() / "tmp")  # builds killed before they finished left their directories there
    work = scratch_dir("tmp", key[:12])
    try:
        binary = produce(work)
        # Paths in the record point at the final location.
        rel = Path(binary.path).relative_to(work)
        binary = dataclasses.replace(
            binary, path=str(final / rel),
            command=tuple(arg.replace(str(work), str(final)) for arg in binary.command))
        record = binary.to_dict()
        record.pop("cached")
        write_atomic(work / "meta.json", json.dumps(record, indent=2))
        winner = _publish(work, final)
        return winner if winner is not None else dataclasses.replace(binary, cached=False)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _compile(cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a compiler to its end: its whole tree (``go build``'s compile,
    asm, link) is killed if we are interrupted or killed. Text output."""
    done = sessions.run_tool(cmd, cwd=cwd, env=env, die_with_parent=True)
    return subprocess.CompletedProcess(list(cmd), done.returncode, os.fsdecode(done.stdout or b""),
                                       os.fsdecode(done.stderr or b""))


# ---------------------------------------------------------------------------
# Go

def _flag_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def write_overlay(replace: Mapping[str | os.PathLike, str | os.PathLike | None]) -> Path:
    """Write a ``go build -overlay`` JSON for ``{original path: replacement path}``.

    A ``None`` replacement deletes the file from the build. The JSON goes into
    the cache, named by its content, and its path is returned.
    """
    mapping = {os.fspath(k): (os.fspath(v) if v is not None else "") for k, v in replace.items()}
    for original, repl in mapping.items():
        if not os.path.isabs(original):
            raise ValueError(f"overlay: {original!r} must be an absolute path")
        if repl and not os.path.isfile(repl):
            raise FileNotFoundError(f"overlay: replacement file {repl!r} for {original!r} does not exist")
    text = json.dumps({"Replace": mapping}, indent=2, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = cache_dir() / "overlays" / f"{digest}.json"
    if not path.exists():
        write_atomic(path, text)
    return path


def _overlay_fields(overlay: str | os.PathLike | Mapping | None, h: _Hasher) -> tuple[Path | None, dict]:
    if overlay is None:
        return None, {}
    path = write_overlay(overlay) if isinstance(overlay, Mapping) else Path(overlay)
    if not path.is_file():
        raise FileNotFoundError(f"overlay file {os.fspath(path)!r} does not exist")
    try:
        replace = json.loads(path.read_text())["Replace"]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"overlay file {os.fspath(path)!r} is not a go -overlay JSON ({{\"Replace\": {{...}}}}): {exc}")
    h.field("overlay", replace)
    for original, repl in sorted(replace.items()):
        if repl:
            h.file(f"overlay:{original}", Path(repl))
    return path, replace


def overlay_gocache(tc: GoToolchain, replace: Mapping[str, str | None]) -> Path | None:
    """The GOCACHE a build with overlay ``replace`` must use, or None for the default one.

    An overlay that replaces or adds files under GOROOT gets a Go build cache
    of its own per GOROOT directory. The reason is a gap in cmd/go: the
    compiler records a replaced file under its absolute path (an overlay
    rewrite in ``Action.trimpath`` stops ``objabi.AbsFile`` from writing
    ``$GOROOT``), while the action ID of a GOROOT package leaves the
    directory out (``Builder.buildActionID``: "The Go compiler always hides
    the exact value of $GOROOT"). Sharing one cache between two installs of
    the same Go release at different paths -- two checkouts of this course,
    each with its own .venv -- would hand the second a runtime whose
    tracebacks name the first one's proc.go.
    """
    root = os.path.join(tc.goroot, "")
    if not any(os.path.abspath(original).startswith(root) for original in replace):
        return None
    return cache_dir() / "go-build" / hashlib.sha256(tc.goroot.encode()).hexdigest()[:16]


def _go_source(source: str | os.PathLike) -> Path:
    """``source`` made absolute, once it is known to be a .go file or a directory."""
    src = Path(source).expanduser().resolve()
    if not src.exists():
        raise FileNotFoundError(f"Go source {os.fspath(source)!r} does not exist (give a .go file or a package directory)")
    if src.is_file() and src.suffix != ".go":
        raise ValueError(f"Go source {os.fspath(source)!r} is not a .go file or a directory")
    return src


def _go_key(tc: GoToolchain, src: Path, inputs: Sequence[Path], flags: dict, env: Mapping[str, str],
            overlay: str | os.PathLike | Mapping | None) -> tuple[str, Path | None, dict]:
    """(cache key, overlay JSON path, its Replace mapping) of a Go build: the key
    covers the toolchain, every input's bytes, the flags, the environment that
    changes the output, the C compiler and its environment under cgo and every overlay file's bytes."""
    h = _Hasher()
    h.field("toolchain", [tc.version, tc.goroot])
    h.field("source", str(src))
    for p in inputs:
        h.file(str(p), p)
    h.field("flags", flags)
    h.field("env", {k: env[k] for k in _GO_ENV_KEYS if env.get(k)})
    if flags["cgo"]:
        cc = find_tool("cc")
        h.field("cgo-compiler", [cc.path, cc.version])
        h.field("cgo-env", {k: env[k] for k in _CGO_ENV_KEYS if env.get(k)})
    overlay_path, replace = _overlay_fields(overlay, h)
    return h.hexdigest(), overlay_path, replace


def _go_build_argv(tc: GoToolchain, out: Path, src: Path, flags: dict, overlay_path: Path | None) -> list[str]:
    """The ``go build`` command line writing ``out``."""
    cmd = [tc.go, "build", "-o", str(out)]
    cmd += [f"-gcflags={g}" for g in flags["gcflags"]] + [f"-ldflags={l}" for l in flags["ldflags"]]
    if flags["tags"]:
        cmd.append("-tags=" + ",".join(flags["tags"]))
    if overlay_path is not None:
        cmd.append(f"-overlay={overlay_path}")
    cmd.append(src.name if src.is_file() else ".")
    return cmd


def build_go(source: str | os.PathLike, *, overlay: str | os.PathLike | Mapping | None = None,
             gcflags: str | Sequence[str] | None = None, ldflags: str | Sequence[str] | None = None,
             cgo: bool = False, goos: str | None = None, goarch: str | None = None,
             tags: Sequence[str] = (), go: GoToolchain | None = None,
             gocache: str | os.PathLike | None = None) -> Binary:
    """Build the Go program at ``source`` (a ``.go`` file or a package directory).

    ``overlay`` is a ``-overlay`` JSON path or a ``{original: replacement}``
    mapping; ``gcflags``/``ldflags`` are passed as given (a string or a list of
    separate flag values); ``cgo`` sets CGO_ENABLED; ``goos``/``goarch``
    cross-compile. ``gocache`` is a private GOCACHE; without it, overlays of
    GOROOT files get one per GOROOT (:func:`overlay_gocache`) and other
    builds use the user's. Returns the cached :class:`Binary`; raises
    :class:`BuildError` with the compiler's messages on failure and
    :class:`FileNotFoundError` when ``source`` does not exist.
    """
    src = _go_source(source)
    tc = go or find_go()
    inputs, module_root = _go_inputs(src)
    if not any(p.suffix == ".go" for p in inputs):
        raise ValueError(f"Go source {os.fspath(source)!r} contains no .go files")
    target_os, target_arch = goos or tc.goos, goarch or tc.goarch
    env = go_env(labs=module_root is not None and module_requires_nothing(module_root), toolchain=tc)
    env.update(CGO_ENABLED="1" if cgo else "0", GOOS=target_os, GOARCH=target_arch)
    gc, ld = _flag_list(gcflags), _flag_list(ldflags)
    flags = {"gcflags": gc, "ldflags": ld, "cgo": cgo, "goos": target_os, "goarch": target_arch, "tags": list(tags)}
    key, overlay_path, replace = _go_key(tc, src, inputs, flags, env, overlay)
    if gocache is None:
        gocache = overlay_gocache(tc, replace)
    if gocache is not None:
        env["GOCACHE"] = os.fspath(gocache)
    name = (src.stem if src.is_file() else src.name) + (".exe" if target_os == "windows" else "")

    def produce(work: Path) -> Binary:
        cmd = _go_build_argv(tc, work / name, src, flags, overlay_path)
        with progress.step(f"go build {src.name}" + (" (with overlay)" if overlay_path else "")):
            # go's own work directory (go-build*) goes inside ours: a killed build leaves it
            # where sweep() finds it, not in /tmp
            proc = _compile(cmd, cwd=src.parent if src.is_file() else src, env=dict(env, GOTMPDIR=str(work)))
            if proc.returncode != 0:  # inside the step: its last line says "failed", not "done"
                raise BuildError(os.fspath(source), cmd, proc.stderr + proc.stdout)
        return Binary(path=str(work / name), kind="go", command=tuple(cmd), toolchain=tc.version, key=key,
                      cached=False)

    return _build_entry("go", key, produce)


# ---------------------------------------------------------------------------
# C

_CROSS = {"windows": "x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32": "x86_64-w64-mingw32-gcc"}


def _stats(paths: Iterable[Path]) -> tuple:
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


# (compiler, cflags, the sources' stats) -> (headers, the headers' stats): the
# preprocessor runs again only when a source or one of its headers changed,
# not on every cache hit (the tracer is looked up before every trace).
_HEADERS: dict[tuple, tuple[list[Path], tuple]] = {}


def _c_headers(compiler: str, srcs: Sequence[Path], cflags: Sequence[str]) -> list[Path]:
    """The non-system headers ``srcs`` include, as the compiler finds them (``-MM``).

    When the preprocessor fails (a missing header, a syntax error the compile
    will report anyway) every ``*.h`` beside the sources stands in.
    """
    memo_key = (compiler, tuple(cflags), _stats(srcs))
    known = _HEADERS.get(memo_key)
    if known is not None and _stats(known[0]) == known[1]:
        return known[0]
    proc = subprocess.run([compiler, *cflags, "-MM", *map(str, srcs)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, cwd=srcs[0].parent)
    if proc.returncode != 0:
        return sorted({hdr for s in srcs for hdr in s.parent.glob("*.h")})
    words = proc.stdout.replace("\\\n", " ").split()
    found = {(srcs[0].parent / w).resolve() for w in words if w.endswith((".h", ".hpp", ".inc"))}
    headers = sorted(p for p in found if p.is_file())
    _HEADERS[memo_key] = (headers, _stats(headers))
    return headers


def build_c(sources: str | os.PathLike | Iterable[str | os.PathLike], *, cflags: Sequence[str] = (),
            ldflags: Sequence[str] = (), shared: bool = False, cross: str | None = None,
            name: str | None = None) -> Binary:
    """Compile and link C ``sources`` (one path or several) into one program.

    ``shared`` builds a shared library (.so, or .dll with ``cross="windows"``);
    ``cross="windows"`` uses mingw-w64. Headers in the sources' directories are
    part of the cache key. Raises :class:`BuildError` with the compiler's
    messages on failure.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    srcs = [Path(s).expanduser().resolve() for s in sources]
    if not srcs:
        raise ValueError("build_c needs at least one source file")
    for s in srcs:
        if not s.is_file():
            raise FileNotFoundError(f"C source {os.fspath(s)!r} does not exist")
    if cross is not None and cross not in _CROSS:
        raise ValueError(f"cross={cross!r}: supported cross targets are {sorted(_CROSS)}")
    compiler: Tool = find_tool(_CROSS[cross] if cross else "cc")

    h = _Hasher()
    h.field("compiler", [compiler.path, compiler.version])
    headers = _c_headers(compiler.path, srcs, cflags)
    for p in sorted(set(srcs)) + headers:
        h.file(str(p), p)
    # the output's name too: an entry holds one file, named as the first caller asked
    h.field("flags", {"cflags": list(cflags), "ldflags": list(ldflags), "shared": shared, "cross": cross,
                      "name": name})
    h.field("env", {k: os.environ[k] for k in _C_ENV_KEYS if os.environ.get(k)})
    key = h.hexdigest()

    windows = cross is not None
    stem = name or srcs[0].stem
    suffix = (".dll" if windows else ".so") if shared else (".exe" if windows else "")
    filename = (stem if (not shared or windows or stem.startswith("lib")) else "lib" + stem) + suffix

    def produce(work: Path) -> Binary:
        out = work / filename
        cmd = [compiler.path, *cflags]
        if shared:
            cmd += ["-shared", "-fPIC"]
        cmd += ["-o", str(out), *map(str, srcs), *ldflags]
        with progress.step(f"cc {' '.join(s.name for s in srcs)}"):
            proc = _compile(cmd, cwd=work)
            if proc.returncode != 0:
                raise BuildError(", ".join(map(str, srcs)), cmd, proc.stderr + proc.stdout)
        return Binary(path=str(out), kind="c-shared" if shared else "c", command=tuple(cmd),
                      toolchain=compiler.version, key=key, cached=False)

    return _build_entry("c", key, produce)
