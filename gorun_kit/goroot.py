"""Citations into the installed GOROOT, resolved at run time.

A notebook never types "proc.go:1875": it asks :func:`find_func` for the
function and prints where *this* toolchain has it, so a citation follows the
Go release instead of going stale. A function that is not there raises
:class:`SourceNotFound`, which a claim cell turns into a failed assertion.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from .records import Record
from .toolchain import GoToolchain, find_go

__all__ = ["Citation", "SourceNotFound", "find_func", "find_asm", "grep", "func_source", "enclosing",
           "ChainLink", "call_chain", "Constant", "constant", "digest"]


class SourceNotFound(LookupError):
    """The symbol or text is not in this GOROOT (the message names both)."""


@dataclasses.dataclass(frozen=True)
class Citation(Record):
    """A place in GOROOT: ``file`` is relative to GOROOT (``src/runtime/proc.go``)."""

    file: str
    line: int
    symbol: str
    text: str  # the line itself, stripped
    go_version: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.symbol})"


def _go_files(tc: GoToolchain, pkg: str, suffixes=(".go",)) -> list[Path]:
    directory = Path(tc.goroot, "src", pkg)
    if not directory.is_dir():
        raise SourceNotFound(f"package directory src/{pkg} is not in GOROOT {tc.goroot} ({tc.version})")
    return sorted(p for p in directory.iterdir()
                  if p.suffix in suffixes and not p.name.endswith("_test.go"))


def _func_pattern(name: str) -> re.Pattern:
    """``newosproc``, ``Builder.Do`` or ``(*Builder).Do`` -> a regex for its ``func`` line."""
    m = re.fullmatch(r"\(?\*?(\w+)\)?\.(\w+)", name)
    if m:
        recv, meth = m.groups()
        return re.compile(rf"^func \(\s*\w*\s*\*?{recv}(\[[^\]]*\])?\s*\)\s+{meth}\s*[(\[]")
    return re.compile(rf"^func {re.escape(name)}\s*[(\[]")


def find_func(name: str, pkg: str = "runtime", *, goos: str | None = "linux",
              toolchain: GoToolchain | None = None) -> Citation:
    """Where the Go function (or method) ``name`` of package ``pkg`` is defined.

    ``pkg`` is a directory under GOROOT/src (``runtime``, ``os/exec``,
    ``cmd/go/internal/run``). Files for other GOOS (``_windows.go``...) are
    skipped unless ``goos`` is None.
    """
    tc = toolchain or find_go()
    pattern = _func_pattern(name)
    others = ("windows", "darwin", "freebsd", "openbsd", "netbsd", "plan9", "solaris", "aix",
              "dragonfly", "illumos", "wasip1", "js", "wasm", "ios", "android")
    files = [p for p in _go_files(tc, pkg) if not (goos and any(f"_{o}" in p.stem for o in others if o != goos))]
    # A function defined in several files (exec_bsd.go, exec_libc.go, exec_linux.go) is compiled from
    # the one for this system: look in files named for ``goos`` first.
    files.sort(key=lambda p: not (goos and f"_{goos}" in p.stem))
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.match(line):
                return Citation(str(path.relative_to(tc.goroot)), number, f"{pkg}.{name}", line.strip(), tc.version)
    raise SourceNotFound(f"func {name} not found in src/{pkg} of {tc.version} ({tc.goroot})")


def find_asm(symbol: str, pkg: str = "runtime", *, arch: str = "amd64", goos: str = "linux",
             toolchain: GoToolchain | None = None) -> Citation:
    """Where the assembly TEXT symbol ``pkg·symbol`` is defined for ``goos``/``arch``."""
    tc = toolchain or find_go()
    pattern = re.compile(rf"^TEXT\s+(\w+)?·{re.escape(symbol)}(<ABIInternal>)?\(SB\)")
    candidates = [p for p in _go_files(tc, pkg, (".s",)) if arch in p.stem]
    candidates.sort(key=lambda p: (goos not in p.stem, p.name))
    for path in candidates:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.match(line):
                return Citation(str(path.relative_to(tc.goroot)), number, f"{pkg}·{symbol}", line.strip(), tc.version)
    raise SourceNotFound(f"TEXT ·{symbol} not found in src/{pkg}/*{arch}*.s of {tc.version}")


def grep(pattern: str, pkg: str = "runtime", *, toolchain: GoToolchain | None = None,
         suffixes=(".go", ".s")) -> list[Citation]:
    """Every line of package ``pkg`` matching the regex ``pattern``."""
    tc = toolchain or find_go()
    rx = re.compile(pattern)
    hits = []
    for path in _go_files(tc, pkg, suffixes):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if rx.search(line):
                hits.append(Citation(str(path.relative_to(tc.goroot)), number, pattern, line.strip(), tc.version))
    return hits


def func_source(citation: Citation, *, max_lines: int = 80, toolchain: GoToolchain | None = None) -> str:
    """The text of the function starting at ``citation``, up to its closing brace."""
    tc = toolchain or find_go()
    lines = Path(tc.goroot, citation.file).read_text(errors="replace").splitlines()
    body = []
    for line in lines[citation.line - 1:citation.line - 1 + max_lines]:
        body.append(line)
        if line.startswith("}") or (line.startswith("RET") and citation.file.endswith(".s")):
            break
    return "\n".join(body)


_GO_FUNC = re.compile(r"^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)")
_ASM_TEXT = re.compile(r"^TEXT\s+([^\s(]+)\(SB\)")


def enclosing(citation: Citation, *, toolchain: GoToolchain | None = None) -> str:
    """The Go function or assembly ``TEXT`` symbol whose body holds ``citation``'s line.

    Returns the bare name (``libInit``, ``_rt0_arm64_linux_lib``, with
    assembly's ``runtime·`` prefix dropped); raises :class:`SourceNotFound`
    for a line outside any function (a package-level declaration).
    """
    tc = toolchain or find_go()
    lines = Path(tc.goroot, citation.file).read_text(errors="replace").splitlines()
    rx = _ASM_TEXT if citation.file.endswith(".s") else _GO_FUNC
    for i in range(citation.line - 1, -1, -1):
        m = rx.match(lines[i])
        if m:
            return m.group(1).split("\u00b7")[-1]
        if rx is _GO_FUNC and lines[i].startswith("}") and i != citation.line - 1:
            break  # the end of an earlier function: the line is at package level
    raise SourceNotFound(f"{citation.file}:{citation.line} is not inside a function in {tc.version}")


@dataclasses.dataclass(frozen=True)
class ChainLink(Record):
    """One function of a call chain: where it is defined, and the line of its body
    that calls the next function (None when that call is no longer there)."""

    function: Citation
    call: Citation | None


def call_chain(steps, *, goos: str | None = "linux", toolchain: GoToolchain | None = None) -> tuple[ChainLink, ...]:
    """Follow a call chain through the installed source, one definition at a time.

    ``steps`` are ``(pkg, func, call)`` triples: ``func`` of package ``pkg`` is
    found with :func:`find_func` and its body is searched for the text ``call``
    (``"forkExec("``), the call into the next step. A step whose call is
    missing gets ``call=None``, so a chain a release rewired shows where it
    broke; a function that is gone raises :class:`SourceNotFound`.
    """
    tc = toolchain or find_go()
    links = []
    for pkg, func, call in steps:
        where = find_func(func, pkg, goos=goos, toolchain=tc)
        body = func_source(where, max_lines=400, toolchain=tc).splitlines()
        hit = next((i for i, line in enumerate(body) if call in line), None)
        found = None if hit is None else Citation(where.file, where.line + hit, call, body[hit].strip(), tc.version)
        links.append(ChainLink(where, found))
    return tuple(links)


@dataclasses.dataclass(frozen=True)
class Constant(Record):
    """A package-level Go constant: where it is defined, its expression, and the
    identifiers the expression is made of (``_CLONE_VM``, ``_CLONE_FS``...)."""

    citation: Citation
    expression: str
    names: tuple[str, ...]


_IDENT = re.compile(r"[A-Za-z_]\w*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/")


def constant(name: str, pkg: str = "runtime", *, toolchain: GoToolchain | None = None) -> Constant:
    """The definition of constant ``name`` in ``pkg``, including a multi-line one.

    Reads from ``name =`` to the end of the expression: the end of the line,
    or, when the line ends in an operator (``|``, ``+``...), the lines that
    continue it. Comments (``//`` and ``/* */`` on one line) are dropped.
    """
    tc = toolchain or find_go()
    hits = grep(rf"^\s*(const\s+)?{re.escape(name)}\s*(\w+\s*)?=", pkg, toolchain=tc, suffixes=(".go",))
    if not hits:
        raise SourceNotFound(f"const {name} not found in src/{pkg} of {tc.version} ({tc.goroot})")
    where = dataclasses.replace(hits[0], symbol=f"{pkg}.{name}")
    lines = Path(tc.goroot, where.file).read_text(errors="replace").splitlines()[where.line - 1:]
    parts = []
    for line in lines:
        code = _BLOCK_COMMENT.sub(" ", line).split("//")[0].strip()
        parts.append(code)
        if code and not code.endswith(("|", "+", "-", "*", "&", "^", "<<", ">>", "(", ",")):
            break
    expression = " ".join(parts).split("=", 1)[1].strip()
    names = tuple(dict.fromkeys(n for n in _IDENT.findall(expression) if not n[0].isdigit()))
    return Constant(where, expression, names)


def digest(pkg: str = "runtime", *, toolchain: GoToolchain | None = None) -> str:
    """A SHA-256 over every file under GOROOT/src/``pkg`` (names and bytes, in
    sorted order): take it before and after an experiment to show GOROOT was
    not written."""
    import hashlib

    tc = toolchain or find_go()
    root = Path(tc.goroot, "src", pkg)
    if not root.is_dir():
        raise SourceNotFound(f"package directory src/{pkg} is not in GOROOT {tc.goroot} ({tc.version})")
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
