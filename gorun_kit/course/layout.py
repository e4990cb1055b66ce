"""Where the course's pieces live in a source tree (the repo, or a fixture that
mirrors it): chapter notebooks, exercise notebooks, lab sources."""
from __future__ import annotations

from pathlib import Path

from .markup import has_marker

__all__ = ["course_root", "chapter_notebooks", "exercise_notebooks", "marked_lab_sources",
           "LAB_DIRS", "LAB_SUFFIXES", "RELEASE_DIR"]

EXERCISES = Path("notebooks", "exercises")
LAB_DIRS = ("labs_c", "labs_go")
# Files of a lab directory that a student needs to build it (build outputs are not).
LAB_SUFFIXES = {".c", ".h", ".go", ".s", ".mk", ".md", ".txt", ".mod", ".sum"}
LAB_NAMES = {"Makefile", "lab.mk", "go.mod", "go.sum"}
# The committed student release, at the repo root (see release/README.md).
RELEASE_DIR = "release"


def course_root() -> Path:
    """The course checkout gorun_kit is installed from (``pip install -e .``).

    The one place that knows where the course tree is: notebooks, tests and the
    ``course`` commands ask here, and hand the labs they need to the kit's
    functions, which never look for the tree themselves. Raises
    FileNotFoundError (saying what to pass instead) when the kit is installed
    from a wheel, away from any checkout.
    """
    root = Path(__file__).resolve().parents[2]  # <root>/gorun_kit/course/layout.py
    if not ((root / "notebooks").is_dir() and (root / "labs_go").is_dir()):
        raise FileNotFoundError(
            f"gorun_kit is not installed from a course checkout ({root} has no notebooks/ and labs_go/); "
            "the course's labs and notebooks need one: clone the course and `pip install -e .` there, "
            "or pass the checkout's directory (--source DIR, --labs DIR)")
    return root


def _visible(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(p.startswith(".") or p in ("build", "__pycache__") for p in parts)


def chapter_notebooks(root: Path) -> list[Path]:
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if _visible(p, root))


def exercise_notebooks(root: Path) -> list[Path]:
    return sorted(p for p in (root / EXERCISES).glob("*.ipynb") if _visible(p, root))


def _lab_files(root: Path):
    for lab in LAB_DIRS:
        base = root / lab
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and _visible(path, root) and (
                    path.suffix in LAB_SUFFIXES or path.name in LAB_NAMES):
                yield path


def marked_lab_sources(root: Path) -> list[Path]:
    """Lab sources (C, Go) that carry solution markers."""
    out = []
    for path in _lab_files(root):
        if path.suffix in (".c", ".h", ".go"):
            if has_marker(path.read_text(errors="replace"), "solution"):
                out.append(path)
    return out


def lab_dir_files(root: Path, lab_dir: Path) -> list[Path]:
    """Every source file of one lab directory (what a student needs to build it)."""
    return [p for p in _lab_files(root) if lab_dir in p.parents]
