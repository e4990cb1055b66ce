"""Notebook sources: every notebook is a jupytext pair, and chapters stay prose-sized.

Each ``notebooks/**/X.ipynb`` (committed with outputs, checked by nbval) has a
percent script ``X.py`` beside it, the file a maintainer edits
(``notebooks/jupytext.toml``; ``make notebooks`` syncs and executes them).
This file fails when

* a notebook has no script or a script no notebook;
* the two disagree on any cell: its type, source, tags or other metadata (the
  per-run keys the jupytext.toml filter drops, such as execution timings, are
  not compared);
* a chapter notebook (``notebooks/0*.ipynb``) has a code cell that imports
  ``subprocess``, ``re`` or ``tempfile`` -- that plumbing belongs in
  ``gorun_kit`` under a name a reader understands -- or one longer than
  ``MAX_CELL_LINES`` lines.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import jupytext
import nbformat

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MAX_CELL_LINES = 15
PLUMBING = frozenset({"subprocess", "re", "tempfile"})


def _dropped_metadata_keys(config: Path) -> frozenset[str]:
    """The cell metadata keys jupytext.toml keeps out of the scripts ("-key" entries)."""
    spec = tomllib.loads(config.read_text()).get("cell_metadata_filter", "")
    return frozenset(k[1:] for k in spec.split(",") if k.startswith("-"))


DROPPED = _dropped_metadata_keys(NOTEBOOKS / "jupytext.toml")


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, {k: v for k, v in c.get("metadata", {}).items() if k not in DROPPED})
            for c in nb.cells]


def pair_problems(ipynb: Path) -> list[str]:
    """Every difference between a notebook and its percent script, as sentences; [] when in sync."""
    script = ipynb.with_suffix(".py")
    if not script.exists():
        return [f"{ipynb}: no paired script {script.name}; run `jupytext --sync {ipynb}`"]
    left, right = _cells(nbformat.read(ipynb, as_version=4)), _cells(jupytext.read(script))
    problems = []
    if len(left) != len(right):
        problems.append(f"{ipynb.name}: {len(left)} cells, {script.name}: {len(right)} cells")
    for index, (a, b) in enumerate(zip(left, right)):
        for what, x, y in (("type", a[0], b[0]), ("source", a[1], b[1]), ("metadata", a[2], b[2])):
            if x != y:
                problems.append(f"{ipynb.name} cell {index}: {what} differs from {script.name}")
    if problems:
        problems.append(f"edit {script.name} and run `make notebooks NB={script}` (or `jupytext --sync`)")
    return problems


def orphan_scripts(folder: Path) -> list[Path]:
    """Percent scripts under ``folder`` without their notebook."""
    return sorted(p for p in folder.rglob("*.py")
                  if p.read_text().lstrip().startswith("# ---") and not p.with_suffix(".ipynb").exists())


def _code(source: str) -> str:
    # IPython magics (%matplotlib inline) are not Python; blank them so ast can parse the rest.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def imported_modules(source: str) -> set[str]:
    """Top-level module names a cell imports (``import a.b`` and ``from a.b import c`` give ``a``)."""
    found = set()
    for node in ast.walk(ast.parse(_code(source))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__"
              and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(str(node.args[0].value).split(".")[0])
    return found


def chapter_cell_problems(ipynb: Path) -> list[str]:
    """Plumbing imports and over-long code cells in a chapter notebook, as sentences."""
    problems = []
    for index, cell in enumerate(nbformat.read(ipynb, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        lines = len(cell.source.splitlines())
        if lines > MAX_CELL_LINES:
            problems.append(f"{ipynb.name} cell {index}: {lines} lines (at most {MAX_CELL_LINES}); "
                            "split it or move the mechanics into gorun_kit")
        plumbing = sorted(imported_modules(cell.source) & PLUMBING)
        if plumbing:
            problems.append(f"{ipynb.name} cell {index}: imports {', '.join(plumbing)}; "
                            "call a gorun_kit function instead")
    return problems


def all_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def chapter_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("0*.ipynb"))


def test_every_notebook_is_in_sync_with_its_script():
    notebooks = all_notebooks()
    assert len(notebooks) >= 6, "the chapter notebooks are missing"
    problems = [p for nb in notebooks for p in pair_problems(nb)]
    problems += [f"{p}: no paired notebook" for p in orphan_scripts(NOTEBOOKS)]
    assert problems == [], "\n".join(problems)


def test_chapter_cells_hold_no_plumbing_and_stay_short():
    chapters = chapter_notebooks()
    assert chapters, "no chapter notebooks under notebooks/"
    problems = [p for nb in chapters for p in chapter_cell_problems(nb)]
    assert problems == [], "\n".join(problems)


def test_the_checks_catch_drift_plumbing_and_long_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"),
                nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["claim:1-1"],
                                                             "nbgrader": {"grade_id": "a", "points": 1}})]
    ipynb = tmp_path / "01_t.ipynb"
    nbformat.write(nb, ipynb)
    assert "no paired script" in pair_problems(ipynb)[0]
    jupytext.write(nb, ipynb.with_suffix(".py"), fmt="py:percent")
    assert pair_problems(ipynb) == []  # tags and nbgrader metadata survive the script
    nb.cells[1].metadata["tags"] = ["claim:1-2"]
    nb.cells[1].source = "x = 2"
    nb.cells[1].metadata["execution"] = {"iopub.status.idle": "now"}  # per-run: not compared
    nbformat.write(nb, ipynb)
    text = "\n".join(pair_problems(ipynb))
    assert "cell 1: source differs" in text and "cell 1: metadata differs" in text
    ipynb.unlink()
    assert orphan_scripts(tmp_path) == [ipynb.with_suffix(".py")]

    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport re, os\nfrom subprocess import run"),
                nbformat.v4.new_code_cell("__import__('tempfile')"),
                nbformat.v4.new_code_cell("\n".join(f"y{i} = {i}" for i in range(MAX_CELL_LINES + 1))),
                nbformat.v4.new_code_cell("from gorun_kit import trace\nrecord = 1")]
    nbformat.write(nb, ipynb)
    text = "\n".join(chapter_cell_problems(ipynb))
    assert "cell 0: imports re, subprocess" in text
    assert "cell 1: imports tempfile" in text
    assert f"cell 2: {MAX_CELL_LINES + 1} lines" in text
    assert "cell 3" not in text
