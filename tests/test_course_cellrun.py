"""The two processes of grading (gorun_kit.course.cellrun), run in this process: the
student's side serves its names over a socket pair, the checker's side runs cells and
writes one JSON line per cell. Each side runs in a thread, its stdin a string."""
from __future__ import annotations

import io
import json
import os
import socket
import struct
import sys
import threading

import pytest

from gorun_kit.course import cellrun, rpc


@pytest.fixture(autouse=True)
def fresh_shell():
    """Each test its own shell, as each grading process has (the shell is a singleton)."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    yield
    InteractiveShell.clear_instance()


def _run(source: str) -> list[dict]:
    shell, keep = cellrun._shell()
    return cellrun._run_cell(shell, keep, source)


def test_a_cell_gives_its_streams_value_displays_and_error_in_nbformat_shape():
    outs = _run("import sys\nprint('out')\nprint('err', file=sys.stderr)\n"
                "from IPython.display import display\ndisplay(7 * 6)\n'val' + 'ue'")
    assert outs == [
        {"output_type": "stream", "name": "stdout", "text": "out\n"},
        {"output_type": "stream", "name": "stderr", "text": "err\n"},
        {"output_type": "display_data", "data": {"text/plain": "42"}, "metadata": {}},
        {"output_type": "execute_result", "data": {"text/plain": "'value'"}, "metadata": {},
         "execution_count": None}]
    err = _run("print('before')\nraise KeyError('no such key')")
    # the shell prints the traceback as a notebook would; the error output itself has none
    assert err[0]["name"] == "stdout" and err[0]["text"].startswith("before\n") and "KeyError" in err[0]["text"]
    assert err[1:] == [{"output_type": "error", "ename": "KeyError", "evalue": "'no such key'", "traceback": []}]
    assert _run("x_cellrun = 1") == []


def test_a_cell_that_does_not_parse_is_an_error_and_a_value_is_not_kept_from_before():
    assert _run("1 + 1")[-1]["data"] == {"text/plain": "2"}
    outs = _run("def (:")
    assert outs[-1]["output_type"] == "error" and outs[-1]["ename"] == "SyntaxError"
    assert "execute_result" not in [o["output_type"] for o in outs]
    assert _run("y_cellrun = 2") == []  # the earlier cell's value is not repeated


def test_outputs_are_cut_to_their_limit():
    limit = cellrun._TEXT_LIMIT
    outs = _run(f"print('a' * {limit} + 'TAIL', end='')\n"
                f"import sys; print('e' * {limit} + 'ETAIL', end='', file=sys.stderr)\n"
                f"from IPython.display import display; display('d' * {limit + 50})\n"
                f"'v' * {limit + 50}\n")
    stdout, stderr, shown, value = outs
    assert stdout["text"] == ("a" * limit + "TAIL")[-limit:]
    assert stderr["text"] == ("e" * limit + "ETAIL")[-limit:]
    assert len(shown["data"]["text/plain"]) == limit and shown["data"]["text/plain"].startswith("'d")
    assert len(value["data"]["text/plain"]) == limit and value["data"]["text/plain"].startswith("'v")
    long_error = _run(f"raise ValueError('x' * 3000)")[-1]
    assert long_error["evalue"] == "x" * 2000


def test_a_display_without_plain_text_is_left_out():
    outs = _run("from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))")
    assert [o["output_type"] for o in outs] == ["display_data"]
    assert outs[0]["data"] == {"text/plain": "<IPython.core.display.HTML object>"}

    class Raw:
        data = "not a dict"

    class Captured:
        stdout = stderr = ""
        outputs = [Raw()]
    assert cellrun._outputs(Captured(), None, None) == []
    assert cellrun._outputs(Captured(), None, "") == []


def test_skips_are_read_from_the_log_since_the_last_cell(tmp_path, monkeypatch):
    monkeypatch.delenv("GORUN_KIT_SKIP_LOG", raising=False)
    assert cellrun._skips_since(3) == ("", 3)
    log = tmp_path / "skips.log"
    monkeypatch.setenv("GORUN_KIT_SKIP_LOG", str(log))
    assert cellrun._skips_since(0) == ("", 0)
    log.write_text("needs go (missing)\nneeds gcc (missing)\n")
    assert cellrun._skips_since(0) == ("needs go (missing); needs gcc (missing)", 2)
    assert cellrun._skips_since(1) == ("needs gcc (missing)", 2)
    assert cellrun._skips_since(2) == ("", 2)
    log.write_text("é\n".encode().decode())
    assert cellrun._skips_since(0) == ("é", 1)


def _stdin(monkeypatch, job: dict) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(job)))


def test_the_student_side_runs_its_cells_then_serves_their_names(monkeypatch):
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    theirs.set_inheritable(True)
    fd = theirs.fileno()
    # a program the student's code starts does not get the channel
    _stdin(monkeypatch, {"cells": ["base_cr = 10", "raise ValueError('the rest still runs')",
                                   "def add_cr(n):\n    return n + base_cr",
                                   f"import os\nCHILD_HAS_CHANNEL = os.system('test -e /proc/self/fd/{fd}') == 0"]})
    result = []
    side = threading.Thread(target=lambda: result.append(cellrun.student(theirs.detach())), daemon=True)
    side.start()
    try:
        handle = rpc.Student(rpc.Channel(ours))
        mine: dict = {}
        assert handle.bind(["base_cr", "add_cr", "never_defined_cr", "CHILD_HAS_CHANNEL"], mine) == \
            ["never_defined_cr"]
        assert mine["base_cr"] == 10 and mine["add_cr"](5) == 15
        assert mine["CHILD_HAS_CHANNEL"] is False
    finally:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()
    side.join(5)
    assert result == [0]


def test_the_student_side_with_no_cells_serves_an_empty_namespace(monkeypatch):
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    _stdin(monkeypatch, {})
    result = []
    side = threading.Thread(target=lambda: result.append(cellrun.main(["student", "--channel-fd",
                                                                       str(theirs.detach())])), daemon=True)
    side.start()
    try:
        handle = rpc.Student(rpc.Channel(ours))
        assert handle.describe("surely_not_defined_cr") == {"kind": "missing", "value": None}
    finally:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()
    side.join(5)
    assert result == [0]


def _checker(monkeypatch, job, namespace, *, student_gone=False, via_main=False):
    """Run the checker's side against a student served from ``namespace``; its result lines."""
    ours, theirs = socket.socketpair()
    # the descriptor is handed over bare: a receive that waits 5 s fails instead of hanging
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 5, 0))
    if student_gone:
        theirs.close()
        server = None
    else:
        server = threading.Thread(target=rpc.serve, args=(rpc.Channel(theirs), namespace), daemon=True)
        server.start()
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    ours.set_inheritable(True)
    fd = ours.detach()
    for cell in job.get("cells", []):  # the descriptors a program started by a cell must not get
        cell["source"] = cell.get("source", "").replace("FDS", repr([fd, write_end])) \
            .replace("READ_END", str(read_end)) if "source" in cell else None
        if cell["source"] is None:
            del cell["source"]
    _stdin(monkeypatch, job)
    # a second handle on the channel: the checker closes its own once nothing refers to the student
    hang_up = socket.socket(fileno=os.dup(fd)) if server is not None else None
    try:
        if via_main:
            rc = cellrun.main(["check", "--channel-fd", str(fd), "--results-fd", str(write_end)])
        else:
            rc = cellrun.check(fd, write_end)
        with os.fdopen(read_end, encoding="utf-8") as fh:
            text = fh.read()
    finally:
        if server is not None:
            # the checker's process would exit here; its shell still holds the channel: hang up for it
            with hang_up:
                hang_up.shutdown(socket.SHUT_RDWR)
            server.join(5)
            theirs.close()
    assert rc == 0
    assert text.endswith("\n") or (text == "" and not job.get("cells"))
    return [json.loads(line) for line in text.splitlines()]


def test_the_checker_binds_the_students_names_and_reports_each_cell(tmp_path, monkeypatch):
    log = tmp_path / "skips.log"
    log.write_text("")
    monkeypatch.setenv("GORUN_KIT_SKIP_LOG", str(log))
    job = {"cells": [
        {"source": "print('setup')", "bind": None},
        {"bind": ["double_cr", "LIMIT_CR", "absent_cr"]},
        {"source": "double_cr(LIMIT_CR)"},
        {"source": "from gorun_kit.nb import _log_skip\n_log_skip('needs go (missing)')\n"
                   "_log_skip('needs gcc (missing)')"},
        {"source": "assert double_cr(1) == 3, 'wrong'"},
        {},
        {"source": "import os\n[os.system(f'test -e /proc/self/fd/{n}') == 0 for n in FDS]"},
    ]}
    lines = _checker(monkeypatch, job, {"double_cr": lambda n: 2 * n, "LIMIT_CR": 21}, via_main=True)
    assert lines[:4] + lines[5:] == [
        {"index": 0, "outputs": [{"output_type": "stream", "name": "stdout", "text": "setup\n"}], "skipped": ""},
        {"index": 1, "bound": True, "missing": ["absent_cr"]},
        {"index": 2, "outputs": [{"output_type": "execute_result", "data": {"text/plain": "42"}, "metadata": {},
                                  "execution_count": None}], "skipped": ""},
        {"index": 3, "outputs": [], "skipped": "needs go (missing); needs gcc (missing)"},
        {"index": 5, "outputs": [], "skipped": ""},
        {"index": 6, "outputs": [{"output_type": "execute_result", "data": {"text/plain": "[False, False]"},
                                  "metadata": {}, "execution_count": None}], "skipped": ""},
    ]
    assert lines[4]["index"] == 4 and lines[4]["skipped"] == ""
    assert lines[4]["outputs"][-1] == {"output_type": "error", "ename": "AssertionError", "evalue": "wrong",
                                       "traceback": []}


def test_the_checker_notes_a_student_it_cannot_reach(monkeypatch):
    lines = _checker(monkeypatch, {"cells": [{"bind": ["f"]}, {"source": "1"}]}, {}, student_gone=True)
    assert lines[0]["index"] == 0 and lines[0]["bound"] is False
    assert lines[0]["error"].startswith(("EOFError: ", "ConnectionResetError: ", "BrokenPipeError: "))
    assert lines[1]["index"] == 1 and lines[1]["outputs"][0]["data"] == {"text/plain": "1"}


def test_the_checker_needs_its_results_descriptor(capsys):
    with pytest.raises(SystemExit) as info:
        cellrun.main(["check", "--channel-fd", "99"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m gorun_kit.course.cellrun ")
    assert err.endswith("error: check needs --results-fd\n")
    with pytest.raises(SystemExit):
        cellrun.main(["student"])
    assert "the following arguments are required: --channel-fd" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cellrun.main(["other", "--channel-fd", "3"])
    assert "argument side: invalid choice: 'other'" in capsys.readouterr().err


def test_a_cell_sees_the_history_of_the_cells_before_it_as_in_a_notebook():
    shell, keep = cellrun._shell()
    assert cellrun._run_cell(shell, keep, "6 * 7")[-1]["data"] == {"text/plain": "42"}
    assert cellrun._run_cell(shell, keep, "_ + 1, In[1], Out[1], _i1")[-1]["data"] == \
        {"text/plain": "(43, '6 * 7', 42, '6 * 7')"}


def test_tracebacks_are_plain_text_and_no_history_file_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    outs = _run("raise KeyError('k')")
    assert "KeyError" in outs[0]["text"] and "\x1b[" not in outs[0]["text"]
    history = list((tmp_path / "ipython").rglob("history.sqlite*")) if (tmp_path / "ipython").exists() else []
    assert history == []


def test_streams_and_values_keep_20000_characters():
    outs = _run("print('a' * 20000 + 'b', end='')\n'c' * 20010")
    assert outs[0]["text"] == "a" * 19999 + "b"
    assert outs[1]["data"]["text/plain"] == "'" + "c" * 19999


def test_the_checker_writes_each_line_as_soon_as_its_cell_finished(tmp_path, monkeypatch):
    log = tmp_path / "skips.log"
    monkeypatch.setenv("GORUN_KIT_SKIP_LOG", str(log))
    # the second cell asks how many bytes of results are waiting in the pipe: the first cell's line
    waiting = ("import fcntl, struct, termios\n"
               "struct.unpack('i', fcntl.ioctl(READ_END, termios.FIONREAD, b'0000'))[0]")
    job = {"cells": [{"source": "from gorun_kit.nb import _log_skip\n_log_skip('needs go (missing)')"},
                     {"source": waiting}]}
    lines = _checker(monkeypatch, job, {}, student_gone=True)
    first = {"index": 0, "outputs": [], "skipped": "needs go (missing)"}
    assert lines[0] == first
    assert lines[1]["outputs"][0]["data"] == {"text/plain": str(len(json.dumps(first)) + 1)}


def test_the_checker_with_no_cells_writes_nothing(monkeypatch):
    assert _checker(monkeypatch, {}, {}, student_gone=True, via_main=True) == []


def test_a_failed_bind_is_reported_in_500_characters(monkeypatch):
    name = "v" * 600
    lines = _checker(monkeypatch, {"cells": [{"bind": [name]}]}, {name: object()})
    assert lines[0]["bound"] is False
    assert lines[0]["error"].startswith("TypeError: " + name[:100]) and len(lines[0]["error"]) == 500


def test_a_cell_without_source_is_empty_and_leaves_no_history(monkeypatch):
    job = {"cells": [{"source": "1"}, {}, {"source": "In[1:]"}]}
    lines = _checker(monkeypatch, job, {}, student_gone=True)
    assert lines[1] == {"index": 1, "outputs": [], "skipped": ""}
    assert lines[2]["outputs"][0]["data"] == {"text/plain": "['1', 'In[1:]']"}
