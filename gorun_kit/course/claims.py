"""Every row of the seed-claims ledger is covered: demonstrated, cited or not checkable.

A row is *demonstrated* when a notebook cell carries the tag ``claim:<ID>``
and asserts the behaviour with ``nb.confirm("<ID>", ...)`` (the committed
output shows the confirmation, and nbval re-runs it). Otherwise ``claims.toml``
at the repo root must *cite* it -- each citation resolved now, in the
installed GOROOT, with :mod:`gorun_kit.goroot` (so a renamed or removed
function makes the check fail) -- or say why it is *not checkable* here.

``claims.toml`` also holds the list of ledger IDs, because the ledger itself
lives outside the repository (``../shared/reference/``); when that file is
present the two lists are compared.

Citation forms (``pkg`` is a directory under GOROOT/src, default ``runtime``;
``file``, when given, must be where the symbol is found)::

    { func = "newosproc", pkg = "runtime", file = "src/runtime/os_linux.go" }
    { asm = "clone", file = "src/runtime/sys_linux_amd64.s" }
    { grep = "GreenTeaGC:\\s*true", pkg = "internal/buildcfg" }       # with file = ..., that file only
    { func = "pathExt", pkg = "os/exec", goos = "windows" }
    { absent_func = "Run", pkg = "cmd/go/internal/work" }     # the seed names a function that does not exist
    { absent_asm = "newosproc" }
    { absent_grep = "Invocation", pkg = "cmd/go", recursive = true }
    { glob = "src/runtime/*.c", count = 0 }                   # or min = N
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nbformat

from .. import goroot
from ..records import Record
from ..toolchain import GoToolchain, find_go
from . import layout

__all__ = ["LedgerRow", "RowStatus", "Coverage", "parse_ledger", "load_claims", "scan_tags",
           "resolve_citation", "coverage", "LEDGER_RELPATH", "CITATION_KINDS"]

LEDGER_RELPATH = Path("..", "shared", "reference", "seed-claims-ledger.md")
CITATION_KINDS = ("func", "asm", "grep", "absent_func", "absent_asm", "absent_grep", "glob")
_ROW = re.compile(r"^\|\s*(\d+(?:\.\d+)?-\d+)\s*\|\s*((?:\\\||[^|])*?)\s*\|")  # \| is a literal bar
_EXTRA = re.compile(r"^(\d+)\.\s+\*\*(.+?)\*\*")
TAG_PREFIX = "claim:"
# The first words of nb.claims_table()'s text; nb is a front end above this layer, so the words are
# repeated here (tests/test_claims.py checks the two agree).
TABLE_TITLE = "Claims checked in this chapter"


@dataclasses.dataclass(frozen=True)
class LedgerRow(Record):
    id: str
    claim: str


@dataclasses.dataclass(frozen=True)
class RowStatus(Record):
    id: str
    status: str  # demonstrated | cited | not_checkable | missing | broken
    evidence: tuple[str, ...]  # notebook cells, resolved citations, or the reason


@dataclasses.dataclass(frozen=True)
class Coverage(Record):
    rows: tuple[RowStatus, ...]
    problems: tuple[str, ...]  # anything wrong besides rows (unknown tags, ledger mismatch)
    go_version: str

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.status in ("demonstrated", "cited", "not_checkable") for r in self.rows)

    def to_dict(self) -> dict:
        # with the count of rows per status, which is computed, not stored
        return {"go_version": self.go_version, "ok": self.ok,
                "counts": {s: self.count(s) for s in ("demonstrated", "cited", "not_checkable", "missing", "broken")},
                "rows": [r.to_dict() for r in self.rows], "problems": list(self.problems)}

    def summary(self) -> str:
        return (f"{len(self.rows)} ledger rows: {self.count('demonstrated')} demonstrated, "
                f"{self.count('cited')} cited, {self.count('not_checkable')} not checkable"
                + (f", {self.count('missing')} MISSING" if self.count("missing") else "")
                + (f", {self.count('broken')} BROKEN" if self.count("broken") else "")
                + f" (citations resolved in {self.go_version})")

    def render(self) -> str:
        lines = [f"{r.id:<7} {r.status:<13} {r.evidence[0] if r.evidence else ''}"
                 + (f" (+{len(r.evidence) - 1})" if len(r.evidence) > 1 else "") for r in self.rows]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        lines.append(self.summary())
        return "\n".join(lines)


def parse_ledger(text: str) -> list[LedgerRow]:
    """The table rows (``1-1`` ... ``5-4``) and the numbered extra behaviours (``S1`` ...)."""
    rows, in_extra = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            in_extra = line.startswith("## Real behaviours")
        m = _ROW.match(line)
        if m:
            rows.append(LedgerRow(m.group(1), m.group(2)))
        elif in_extra and (m := _EXTRA.match(line)):
            rows.append(LedgerRow(f"S{m.group(1)}", m.group(2)))
    return rows


def _toml():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError as exc:
            raise RuntimeError("reading claims.toml needs Python >= 3.11 or `pip install tomli`") from exc
    return tomllib


def load_claims(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; it lists how every ledger row is covered")
    with open(path, "rb") as fh:
        data = _toml().load(fh)
    claims = data.get("claims")
    if not isinstance(claims, dict) or not claims:
        raise ValueError(f"{path}: no [claims.\"<ID>\"] tables")
    return data


def scan_tags(root: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Claim tags in every notebook: ID -> ["notebooks/x.ipynb#cell-N", ...], plus problems.

    A tagged cell must call ``confirm`` with its ID and its committed outputs
    must show the confirmation: a tag on a cell that asserts nothing is not a
    demonstration.
    """
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in sorted((root / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        tabled = _tabled_claims(nb)
        for index, cell in enumerate(nb.cells):
            for tag in cell.get("metadata", {}).get("tags", []):
                if not tag.startswith(TAG_PREFIX):
                    continue
                cid = tag[len(TAG_PREFIX):]
                where = f"{rel}#cell-{index}"
                source = cell.get("source", "")
                shown = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
                if cell.get("cell_type") != "code" or "confirm(" not in source:
                    problems.append(f"{where}: tagged {tag} but does not call nb.confirm")
                    continue
                if f"claim {cid}: confirmed" not in shown and cid not in tabled:
                    problems.append(f"{where}: tagged {tag} but its committed output has no "
                                    f"'claim {cid}: confirmed' line and the chapter's claims table "
                                    "has no row for it (execute the notebook and commit it)")
                    continue
                found.setdefault(cid, []).append(where)
    return found, problems


def _tabled_claims(nb) -> set[str]:
    """Claim IDs in the committed output of the notebook's ``nb.claims_table()`` (its text form)."""
    ids: set[str] = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else ():
            text = out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if not text.startswith(TABLE_TITLE):
                continue
            ids.update(m.group(1) for m in re.finditer(r"(?m)^(\S+)  \S", text))
    return ids


def resolve_citation(spec: dict, tc: GoToolchain) -> str:
    """Resolve one citation in ``tc``'s GOROOT; returns ``file:line (symbol)``.

    Raises :class:`goroot.SourceNotFound` (or ValueError for a malformed entry)
    when it does not hold in this release.
    """
    kinds = [k for k in CITATION_KINDS if k in spec]
    if len(kinds) != 1:
        raise ValueError(f"citation {spec} needs exactly one of {', '.join(CITATION_KINDS)}")
    kind = kinds[0]
    pkg = spec.get("pkg", "runtime")
    want_file = spec.get("file")

    def cited(c: goroot.Citation) -> str:
        return f"{c.file}:{c.line} ({c.symbol})"

    if kind in ("func", "asm") and want_file:
        # Look in the named file only: several files of a package can define the
        # same name for different systems (exec_linux.go, exec_bsd.go, ...).
        name = spec[kind]
        pattern = goroot._func_pattern(name).pattern if kind == "func" else \
            rf"^TEXT\s+(\w+)?·{re.escape(name)}(<ABIInternal>)?\(SB\)"
        hits = _grep(pattern, pkg, tc, False, want_file)
        if not hits:
            raise goroot.SourceNotFound(f"{kind} {name} is not defined in {want_file} of {tc.version}")
        return f"{want_file}:{hits[0].line} ({pkg}.{name})"
    if kind == "func":
        return cited(goroot.find_func(spec["func"], pkg, goos=spec.get("goos", "linux"), toolchain=tc))
    if kind == "asm":
        return cited(goroot.find_asm(spec["asm"], pkg, toolchain=tc))
    if kind == "grep":
        hits = _grep(spec["grep"], pkg, tc, spec.get("recursive", False), want_file)
        if not hits:
            raise goroot.SourceNotFound(f"/{spec['grep']}/ matches nothing in "
                                        f"{want_file or 'src/' + pkg} of {tc.version}")
        return f"{hits[0].file}:{hits[0].line} /{spec['grep']}/" + (f" (+{len(hits) - 1})" if len(hits) > 1 else "")
    if kind in ("absent_func", "absent_asm"):
        name = spec[kind]
        finder = goroot.find_func if kind == "absent_func" else goroot.find_asm
        try:
            c = finder(name, pkg, toolchain=tc)
        except goroot.SourceNotFound:
            return f"no {'func' if kind == 'absent_func' else 'TEXT'} {name} in src/{pkg} (as the ledger says)"
        raise goroot.SourceNotFound(f"{name} now exists at {c.file}:{c.line} in {tc.version}; "
                                    "the ledger says it does not")
    if kind == "absent_grep":
        hits = _grep(spec["absent_grep"], pkg, tc, spec.get("recursive", False), want_file)
        if hits:
            raise goroot.SourceNotFound(f"/{spec['absent_grep']}/ now matches {hits[0].file}:{hits[0].line} "
                                        f"in {tc.version}; the ledger says nothing does")
        return f"/{spec['absent_grep']}/ matches nothing in src/{pkg} (as the ledger says)"
    # glob: a count of files, e.g. no .c files in src/runtime
    matches = sorted(Path(tc.goroot).glob(spec["glob"]))
    n = len(matches)
    if "count" in spec and n != spec["count"]:
        raise goroot.SourceNotFound(f"{spec['glob']}: {n} files in {tc.version}, the ledger says {spec['count']}")
    if "min" in spec and n < spec["min"]:
        raise goroot.SourceNotFound(f"{spec['glob']}: {n} files in {tc.version}, expected at least {spec['min']}")
    return f"{spec['glob']}: {n} files"


def _grep(pattern: str, pkg: str, tc: GoToolchain, recursive: bool, file: str | None) -> list[goroot.Citation]:
    if file:  # one named file, whatever its kind (.go, .s, .h, .md)
        path = Path(tc.goroot, file)
        if not path.is_file():
            raise goroot.SourceNotFound(f"{file} is not in GOROOT of {tc.version}")
        rx = re.compile(pattern)
        return [goroot.Citation(file, n, pattern, line.strip(), tc.version)
                for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if rx.search(line)]
    if not recursive:
        return goroot.grep(pattern, pkg, toolchain=tc)
    base = Path(tc.goroot, "src", pkg)
    if not base.is_dir():
        raise goroot.SourceNotFound(f"src/{pkg} is not in GOROOT of {tc.version}")
    hits = []
    for d in sorted([base, *(p for p in base.rglob("*") if p.is_dir() and "testdata" not in p.parts)]):
        if any(f.suffix in (".go", ".s") for f in d.iterdir()):
            hits += goroot.grep(pattern, d.relative_to(Path(tc.goroot, "src")).as_posix(), toolchain=tc)
    return hits


def coverage(root: Path | None = None, *, claims_file: Path | None = None, ledger_file: Path | None = None,
             toolchain: GoToolchain | None = None) -> Coverage:
    """How every ledger row is covered now, with every citation resolved live."""
    root = root or layout.course_root()
    data = load_claims(claims_file or root / "claims.toml")
    claims: dict = data["claims"]
    tc = toolchain or find_go()
    problems: list[str] = []
    ledger = ledger_file or (root / LEDGER_RELPATH)
    if ledger.is_file():
        ids = [r.id for r in parse_ledger(ledger.read_text())]
        if sorted(ids) != sorted(claims):
            problems.append(f"claims.toml and {ledger} list different rows: only in the ledger "
                            f"{sorted(set(ids) - set(claims))}, only in claims.toml {sorted(set(claims) - set(ids))}")
    tags, tag_problems = scan_tags(root)
    problems += tag_problems
    problems += [f"notebook tag claim:{cid} ({', '.join(w)}) names no ledger row" for cid, w in tags.items()
                 if cid not in claims]
    rows = []
    for cid, entry in claims.items():
        cites = entry.get("cite", [])
        reason = entry.get("not_checkable")
        if cid in tags:
            status, evidence = "demonstrated", list(tags[cid])
        elif cites:
            status, evidence = "cited", []
        elif reason:
            status, evidence = "not_checkable", [str(reason)]
        else:
            status, evidence = "missing", ["no claim-tagged notebook cell, no citation, no not_checkable reason"]
        # Citations are resolved even for demonstrated rows: a stale one is an error wherever it is.
        for spec in cites:
            try:
                resolved = resolve_citation(spec, tc)
            except (goroot.SourceNotFound, ValueError) as exc:
                status = "broken"
                evidence.insert(0, f"citation {spec} does not resolve: {exc}")
            else:
                if status == "cited":
                    evidence.append(resolved)
        if reason and cites:
            problems.append(f"claims.toml [{cid}] is both cited and not_checkable; choose one")
        rows.append(RowStatus(cid, status, tuple(evidence)))
    return Coverage(tuple(rows), tuple(problems), tc.version)
