"""Chapter 2 as a student first sees it: opened in JupyterLab (headless Chromium),
nothing run, the notebook untrusted. The LookPath explorer's saved output must
show its static table and say to run the cell, not a raw ``VBox(children=...)``
line; the pictures must show as images. (The live explorer is tested in
test_browser.py.)"""
from __future__ import annotations

import shutil

import nbformat
import pytest

from test_browser import CHAPTER2, CHROMIUM, browser, served  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow]


def test_saved_explorer_and_pictures_show_before_anything_runs(served, browser):  # noqa: F811
    root, base, token = served
    shutil.copy(CHAPTER2, root / "notebooks" / CHAPTER2.name)
    nb = nbformat.read(CHAPTER2, as_version=4)
    target = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "lookpath_explorer(" in c.source)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/notebooks/{CHAPTER2.name}?token={token}")
    sel = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
    page.wait_for_function(f"() => document.querySelectorAll('{sel}').length === {len(nb.cells)}", timeout=120_000)
    out = page.locator(sel).nth(target).locator(".jp-OutputArea-output")
    out.first.wait_for(timeout=60_000)
    text = " ".join(out.all_inner_texts())
    assert "run this cell for the live explorer" in text and "VBox(" not in text, text[:500]
    assert out.locator("table tbody tr").count() == 3  # the saved table: linux, darwin, windows
    pictures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if "image/png" in o.get("data", {}))
    shown = page.locator(f"{sel} .jp-OutputArea-output img").count()
    assert pictures >= 3 and shown >= pictures, (pictures, shown)
    assert page.get_by_text("<Graphviz picture").count() == 0
