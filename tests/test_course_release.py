"""The committed student release (release/ at the repo root) is current.

Regenerate it with:  .venv/bin/gorun-kit course release release
"""
from __future__ import annotations

from pathlib import Path

from gorun_kit.course import layout
from gorun_kit.course.release import REGENERATE, release

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / layout.RELEASE_DIR


def _tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_committed_release_is_current(tmp_path):
    fresh = tmp_path / "release"
    result = release(fresh)
    want, have = _tree(fresh), _tree(COMMITTED) if COMMITTED.is_dir() else {}
    hint = f"release/ is out of date: run `{REGENERATE}` and commit it"
    assert sorted(have) == sorted(want), f"{hint} (files differ: only committed " \
        f"{sorted(set(have) - set(want))}, only fresh {sorted(set(want) - set(have))})"
    stale = [rel for rel in want if want[rel] != have[rel]]
    assert not stale, f"{hint} (stale: {stale})"
    # One student notebook per exercise notebook of the course.
    assert [Path(n).name for n in result.notebooks] == [p.name for p in layout.exercise_notebooks(ROOT)]
