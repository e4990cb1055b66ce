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


def test_words_after_the_double_dash_are_the_programs_wherever_the_options_stand():
    from gorun_kit.cli import build_parser

    parse = build_parser().parse_args
    after = parse(["timeline", "prog", "-o", "t.json", "--", "2", "-x", "--", "y"])
    before = parse(["timeline", "-o", "t.json", "prog", "--", "2", "-x", "--", "y"])
    for ns in (after, before):
        assert (ns.program, ns.output, ns.args) == ("prog", "t.json", ["2", "-x", "--", "y"])
    assert parse(["threads", "prog", "--json", "t.json", "--", "-n", "3"]).args == ["-n", "3"]
    assert parse(["trace", "ls", "--", "-l"]).cmd == ["ls", "-l"]
    assert parse(["trace", "--json", "t.json", "--", "--json"]).cmd == ["--json"]
    assert parse(["course", "lab", "--", "--port", "9999"]).jupyter_args == ["--port", "9999"]


def test_a_double_dash_for_a_command_that_runs_nothing_is_a_usage_error():
    proc = gorun_kit("doctor", "--", "x")
    assert proc.returncode == 2
    assert "unrecognized arguments: '--' 'x'" in proc.stderr
