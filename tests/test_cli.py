"""The gorun-kit command: subcommands found, bad input answered with a message, not a traceback."""
from __future__ import annotations

import subprocess
import sys


def gorun_kit(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gorun_kit", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def test_help_lists_the_subcommands():
    proc = gorun_kit("--help")
    assert proc.returncode == 0
    for name in ("doctor", "bench"):
        assert name in proc.stdout


def test_unknown_subcommand_is_a_usage_error():
    proc = gorun_kit("frobnicate")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_console_script_is_installed():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("gorun-kit") == "gorun_kit.cli:main"
