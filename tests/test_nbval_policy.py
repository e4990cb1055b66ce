"""nbval policy: outputs are compared unless a cell truly cannot be.

Every chapter and exercise notebook is committed with outputs and re-run by
nbval; PIDs, TIDs, addresses, timings, paths and versions are masked by
tests/nbval_sanitize.cfg, and widgets/plots are compared through their static
fallbacks. What is left that cannot be compared is small: a live benchmark's
raw numbers or a process listing whose *length* varies. So the bound is:

* at most 10% of all code cells (and at most 5 in any one notebook) may carry
  ``# NBVAL_IGNORE_OUTPUT`` or ``# NBVAL_SKIP`` (or their tags) -- a notebook
  that needs more should print ratios, shapes or booleans instead;
* ``NBVAL_SKIP`` (the cell does not run at all) never on a cell tagged
  ``claim:<ID>``: a claim cell must run, or its assertion proves nothing;
* never both markers on one cell.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
FRACTION = 0.10
PER_NOTEBOOK = 5


@dataclasses.dataclass(frozen=True)
class Marked:
    notebook: str
    cell: int
    marker: str  # "ignore" | "skip"
    claim: bool


def _markers(cell) -> set[str]:
    first_lines = "\n".join(cell.source.splitlines()[:3])
    tags = set(cell.get("metadata", {}).get("tags", []))
    found = set()
    if "NBVAL_IGNORE_OUTPUT" in first_lines or "nbval-ignore-output" in tags:
        found.add("ignore")
    if "NBVAL_SKIP" in first_lines or "nbval-skip" in tags:
        found.add("skip")
    return found


def scan(paths) -> tuple[int, list[Marked]]:
    code, marked = 0, []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            code += 1
            claim = any(t.startswith("claim:") for t in cell.get("metadata", {}).get("tags", []))
            for m in sorted(_markers(cell)):
                marked.append(Marked(str(Path(path).relative_to(ROOT)) if Path(path).is_relative_to(ROOT)
                                     else str(path), index, m, claim))
    return code, marked


def violations(code: int, marked: list[Marked]) -> list[str]:
    problems = []
    cells = {(m.notebook, m.cell) for m in marked}
    if len(cells) > FRACTION * code:
        problems.append(f"{len(cells)} of {code} code cells ignore or skip nbval (bound {FRACTION:.0%}); "
                        "mask the varying values in tests/nbval_sanitize.cfg or print ratios/booleans")
    per_nb: dict[str, int] = {}
    for nb, _ in cells:
        per_nb[nb] = per_nb.get(nb, 0) + 1
    problems += [f"{nb}: {n} cells ignore or skip nbval (bound {PER_NOTEBOOK})"
                 for nb, n in per_nb.items() if n > PER_NOTEBOOK]
    problems += [f"{m.notebook} cell {m.cell}: NBVAL_SKIP on a claim cell (it must run)"
                 for m in marked if m.marker == "skip" and m.claim]
    both = {(m.notebook, m.cell) for m in marked if m.marker == "skip"} & \
        {(m.notebook, m.cell) for m in marked if m.marker == "ignore"}
    problems += [f"{nb} cell {c}: both NBVAL_SKIP and NBVAL_IGNORE_OUTPUT" for nb, c in sorted(both)]
    return problems


def course_notebooks() -> list[Path]:
    return sorted(p for p in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/exercises/*.ipynb")])


def test_course_notebooks_keep_nbval_comparisons(capsys):
    paths = course_notebooks()
    assert paths, "no notebooks found under notebooks/"
    code, marked = scan(paths)
    ignored = len({(m.notebook, m.cell) for m in marked})
    with capsys.disabled():
        print(f"\nnbval policy: {ignored} of {code} code cells in {len(paths)} notebooks ignore or skip "
              f"output comparison (bound {int(FRACTION * code)})")
    assert violations(code, marked) == []


def test_policy_catches_too_many_ignores_and_skipped_claims(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)") for _ in range(6)]
    nb.cells += [nbformat.v4.new_code_cell("# NBVAL_SKIP\nx", metadata={"tags": ["claim:1-1"]}),
                 nbformat.v4.new_code_cell("y", metadata={"tags": ["nbval-skip", "nbval-ignore-output"]})]
    nb.cells += [nbformat.v4.new_code_cell("z") for _ in range(10)]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    code, marked = scan([path])
    assert code == 18 and len(marked) == 9
    text = "\n".join(violations(code, marked))
    assert "8 of 18 code cells" in text
    assert "8 cells ignore or skip nbval (bound 5)" in text
    assert "cell 6: NBVAL_SKIP on a claim cell" in text
    assert "cell 7: both" in text
    clean = nbformat.v4.new_notebook()
    clean.cells = [nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)")] + \
        [nbformat.v4.new_code_cell("z") for _ in range(10)]
    nbformat.write(clean, path)
    assert violations(*scan([path])) == []
