"""gorun_kit.progress: lines for long work (stderr, or stdout in a kernel), a heartbeat while it runs, silence when off."""
from __future__ import annotations

import sys
import time
import types

import pytest

from gorun_kit import progress


def test_a_long_step_says_it_is_still_working(monkeypatch, capsys):
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    monkeypatch.setenv("GORUN_KIT_PROGRESS_EVERY", "0.05")
    start = time.monotonic()
    with progress.step("building the runtime"):
        time.sleep(0.3)
    elapsed = time.monotonic() - start
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "[gorun-kit] building the runtime ..."
    assert lines[-1].startswith("[gorun-kit] building the runtime: done in ")
    beats = [l for l in lines if "still working" in l]
    assert 2 <= len(beats) <= elapsed / 0.05 + 1, lines  # one line per interval, no more
    time.sleep(0.15)  # the heartbeat has stopped with the step
    assert capsys.readouterr().err == ""


def test_a_failed_step_says_so_and_re_raises(monkeypatch, capsys):
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    with pytest.raises(KeyError):
        with progress.step("linking"):
            raise KeyError("x")
    assert "[gorun-kit] linking: failed after" in capsys.readouterr().err


def test_off_means_silent(monkeypatch, capsys):
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "0")
    monkeypatch.setenv("GORUN_KIT_PROGRESS_EVERY", "0.01")
    with progress.step("quiet"):
        time.sleep(0.05)
    progress.note("nothing")
    assert capsys.readouterr().err == ""


def test_in_a_kernel_lines_go_to_stdout(monkeypatch, capsys):
    # nbgrader gives 0 to a graded cell with any stderr output, so a cold build's
    # progress must not land there.
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", fake)
    with progress.step("cc tracer.c"):
        pass
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.splitlines()[0] == "[gorun-kit] cc tracer.c ..."


def test_a_pipe_gets_no_progress_unless_asked(monkeypatch, capsys):
    monkeypatch.delenv("GORUN_KIT_PROGRESS", raising=False)
    progress.note("hidden")  # pytest's capture is not a terminal
    assert capsys.readouterr() == ("", "")
