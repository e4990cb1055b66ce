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


def fake_gdb_tool(tmp_path: Path, monkeypatch, stdout: str = "", stderr: str = "", status: int = 0,
                  sleep: float = 0) -> Path:
    """A ``gdb`` that prints ``stdout`` and ``stderr`` (surrogate escapes as the bytes
    they stand for) and exits ``status`` (after
    ``sleep`` seconds); ``--version`` answers like gdb. Each other call is kept in
    the returned file as JSON: its arguments, its environment and whether the
    script after ``-x`` existed while it ran."""
    import sys

    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    (tmp_path / "gdb-out.txt").write_bytes(stdout.encode(errors="surrogateescape"))  # bytes that are not UTF-8 too
    (tmp_path / "gdb-err.txt").write_bytes(stderr.encode(errors="surrogateescape"))
    calls = tmp_path / "gdb-call.json"
    (bindir / "gdb").write_text(f"""#!{sys.executable}
import json, os, sys, time
if sys.argv[1:] == ["--version"]:
    print("GNU gdb (fake) 13.1")
    sys.exit(0)
args = sys.argv[1:]
script = args[args.index("-x") + 1] if "-x" in args else None
with open({str(calls)!r}, "w") as f:
    json.dump({{"args": args, "env": dict(os.environ), "script_existed": bool(script) and os.path.isfile(script)}}, f)
sys.stdout.buffer.write(open({str(tmp_path / 'gdb-out.txt')!r}, "rb").read())
sys.stderr.buffer.write(open({str(tmp_path / 'gdb-err.txt')!r}, "rb").read())
sys.stdout.flush()
sys.stderr.flush()
time.sleep({sleep!r})
sys.exit({status!r})
""")
    (bindir / "gdb").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return calls
