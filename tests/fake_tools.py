"""Stand-ins for the external tools the kit runs, put first on PATH for one test."""
from __future__ import annotations

import os
from pathlib import Path


def fake_objdump(tmp_path: Path, monkeypatch, text: str) -> None:
    """An ``objdump`` that prints ``text``; it keeps its arguments in ``args.txt`` and
    what it read on stdin in ``stdin.txt`` (both in ``tmp_path``)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "out.txt").write_text(text)
    (bindir / "objdump").write_text(f"#!/bin/sh\necho \"$@\" > '{tmp_path / 'args.txt'}'\n"
                                    f"cat > '{tmp_path / 'stdin.txt'}'\ncat '{tmp_path / 'out.txt'}'\n")
    (bindir / "objdump").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
