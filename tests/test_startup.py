"""gorun_kit.bench.startup: shapes, never timings.

The launcher's ru_maxrss is cross-checked against the VmHWM each program
reports itself, and the reason for the launcher (a child of a big Python
process inherits its size in ru_maxrss) is checked too.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gorun_kit.bench import startup
from gorun_kit.course.layout import course_root

COURSE = course_root()  # the labs the probes are built from

# slow: it waits for the shared benchmark lock, which another benchmark may hold.
pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="/proc and wait4 rusage are Linux"),
              pytest.mark.slow]


@pytest.fixture(scope="module")
def report():
    return startup.measure(3, labs=COURSE, only=["c-static", "c-dynamic", "go", "go-cgo", "python"])


def test_go_has_more_threads_than_c_and_python(report):
    c, go, cgo = report.result("c-static"), report.result("go"), report.result("go-cgo")
    assert all(r.ok for r in report.results)
    assert c.threads == 1 and report.result("python").threads == 1
    # sysmon plus the Ms started for the GC's background goroutines.
    assert go.threads >= 3 and go.threads > c.threads and cgo.threads >= 3


def test_ru_maxrss_agrees_with_the_programs_own_vmhwm(report):
    for result in report.ran():
        for run in result.runs:
            # The kernel's per-cpu RSS counters make the two drift a little.
            assert abs(run.maxrss_kb - run.hwm_kb) <= max(512, 0.3 * run.hwm_kb), run


def test_static_c_is_smallest_in_memory(report):
    smallest = min(report.ran(), key=lambda r: r.median_maxrss_kb)
    assert smallest.probe.name == "c-static"
    assert report.result("python").median_maxrss_kb > report.result("go").median_maxrss_kb


def test_why_a_launcher_python_children_report_pythons_size():
    # Make this process big, spawn /bin/true the ordinary way, and read its ru_maxrss.
    ballast = bytearray(64 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/bin/true", ["true"])
        finally:
            os._exit(127)
    _, _, ru = os.wait4(pid, 0)
    direct = ru.ru_maxrss
    via = subprocess.run([startup.launcher(COURSE), "/bin/true"], capture_output=True, text=True).stderr
    via_kb = int(via.split("maxrss_kb=")[1].split()[0])
    assert direct > 60 * 1024 > via_kb * 10, (direct, via_kb)
    del ballast


def test_table_and_skips(report, monkeypatch):
    table = report.table()
    assert table.count("\n") == len(report.results) + 1 and "C, static" in table
    monkeypatch.setattr(startup.shutil, "which", lambda name: None)
    probe = startup._java_probe()
    assert probe.skipped.startswith("no java") and probe.command == ()


def test_bad_input():
    with pytest.raises(ValueError, match="repeats"):
        startup.measure(0, labs=COURSE)
    with pytest.raises(ValueError, match="unknown probe"):
        startup.measure(1, labs=COURSE, only=["cobol"])
    with pytest.raises(RuntimeError, match="did not report"):
        startup.run_once(startup.Probe("x", "x", ("/nonexistent/prog",)), startup.launcher(COURSE))


def test_figure_and_cli(report, capsys):
    from matplotlib.figure import Figure

    from gorun_kit import cli
    from gorun_kit.viz.startup import startup_figure

    fig = startup_figure(report)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    empty = startup.StartupReport((), 1, {})
    with pytest.raises(ValueError, match="no probe"):
        startup_figure(empty)
    assert cli.main(["bench", "startup", "--repeats", "1", "--only", "c-static", "go"]) == 0
    out = capsys.readouterr().out
    assert "| C, static |" in out and "| Go, go build |" in out and "Python" not in out
    assert cli.main(["bench", "startup", "--repeats", "0"]) == 2
