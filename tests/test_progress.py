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


def test_in_a_real_kernel_progress_is_stdout_and_stderr_stays_empty(tmp_path):
    """A real ipykernel (as JupyterLab runs it): the progress of a step, heartbeat included,
    arrives as stdout stream output; stderr, shown as an error box, gets nothing."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.manager import KernelManager
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, time\n"
        "os.environ.pop('GORUN_KIT_PROGRESS', None)  # the default: on in a kernel\n"
        "os.environ['GORUN_KIT_PROGRESS_EVERY'] = '0.05'\n"
        "from gorun_kit import progress\n"
        "with progress.step('go build hello'):\n"
        "    time.sleep(0.3)\n")]
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = nbclient.NotebookClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    finally:
        # nbclient leaves a kernel it was handed running: stop it and remove its connection file.
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        km.cleanup_resources()
    outputs = nb.cells[0].outputs
    assert [o.get("name") for o in outputs if o.output_type == "stream" and o.get("name") == "stderr"] == []
    text = "".join(o.text for o in outputs if o.output_type == "stream")
    lines = text.splitlines()
    assert lines[0] == "[gorun-kit] go build hello ...", outputs
    assert any("still working" in l for l in lines), lines
    assert lines[-1].startswith("[gorun-kit] go build hello: done in "), lines
