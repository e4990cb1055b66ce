"""Imports in gorun_kit go one way: toolchain -> cache/build -> instruments ->
viz -> course -> the front ends (commands, cli, notebook helpers).

Every import of a gorun_kit module, at the top of a file or inside a
function, is read from the source with ``ast`` and checked against the table
below: a module may import its own layer or a lower one, never a higher one.
A module missing from the table fails too, so a new one gets a place.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gorun_kit"

# (layer, the top-level modules and packages of gorun_kit in it), lowest first
LAYERS = [
    ("foundation", {"__init__", "records", "progress", "procfs", "sessions", "toolchain", "goroot", "_src"}),
    ("cache/build", {"cache", "build", "goreleases", "paths"}),
    ("instruments", {"trace", "threads", "gorun", "lookpath", "spawn", "ptrace_lab", "binary", "components",
                     "doctor", "bench", "timeline"}),
    ("viz", {"viz"}),
    ("course", {"course"}),
    ("front ends", {"commands", "cli", "__main__", "nb", "widgets"}),
]
RANK = {name: rank for rank, (_, names) in enumerate(LAYERS) for name in names}


def _top(module: str) -> str:
    """``gorun_kit.trace.runner`` -> ``trace``; ``gorun_kit`` itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    """The dotted name of the source ``path`` of the package at ``root``."""
    parts = ["gorun_kit", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, gorun_kit module) of every import in ``path``, relative ones resolved."""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module is None or module == "gorun_kit":  # from . import trace: the names are modules
                found += [(node.lineno, f"{module}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, module))
    return [(line, m) for line, m in found if m == "gorun_kit" or m.startswith("gorun_kit.")]


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    missing = sorted({_top(_module_name(p)) for p in SOURCES} - RANK.keys())
    assert not missing, f"put these gorun_kit modules into a layer of LAYERS: {missing}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down(path):
    me = _top(_module_name(path))
    if me not in RANK:
        pytest.skip("not in LAYERS (test_every_module_has_a_layer says so)")
    upward = [f"line {line}: {module} ({LAYERS[RANK[_top(module)]][0]})"
              for line, module in _imported(path) if RANK.get(_top(module), -1) > RANK[me]]
    assert not upward, f"{path.relative_to(PACKAGE)} ({LAYERS[RANK[me]][0]}) imports a higher layer: {upward}"


def test_the_scan_sees_every_form_of_import(tmp_path):
    """The scan itself: relative, package-relative, absolute and in-function imports are all found."""
    root = tmp_path / "gorun_kit"
    (root / "trace").mkdir(parents=True)
    src = root / "trace" / "runner.py"
    src.write_text("import os\nfrom . import records\nfrom .. import cache\nimport gorun_kit.build\n"
                   "def f():\n    from ..viz.trace import tree\n")
    assert sorted(_imported(src, root)) == [(2, "gorun_kit.trace.records"), (3, "gorun_kit.cache"),
                                            (4, "gorun_kit.build"), (6, "gorun_kit.viz.trace")]
    assert RANK[_top("gorun_kit.viz.trace")] > RANK[_top(_module_name(src, root))]
