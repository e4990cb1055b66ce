"""Run notebook cells in a plain IPython shell: the two processes of grading.

``python -m gorun_kit.course.cellrun student --channel-fd N``
    The student's side, in the student's sandbox. Reads ``{"cells": [source,
    ...]}`` on stdin (the student's own cells, never a test cell), runs them
    in order (an error does not stop the rest), then answers the checker's
    requests on the socket ``N`` from the names they defined (:mod:`.rpc`).

``python -m gorun_kit.course.cellrun check --channel-fd N --results-fd M``
    The checker's side, in a sandbox of its own. Reads ``{"cells": [{"source":
    ..., "bind": [names] or null}, ...]}`` on stdin: the instructor's
    notebook, where each answer cell is replaced by the names it defines
    (``bind``), which become proxies for the student's. Writes one JSON line
    per cell to ``M`` as soon as it finished: its outputs in nbformat's shape
    (streams, the last expression's value, displays, the error without its
    traceback), and what ``nb.live`` said it had to skip.

A plain ``InteractiveShell`` rather than a Jupyter kernel: magics and
``get_ipython()`` work as in a notebook, and no ZMQ ports or connection files
exist for anything else to reach.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys

__all__ = ["main"]

_TEXT_LIMIT = 20000  # characters of a stream or value kept per cell


def _shell():
    from IPython.core.displayhook import DisplayHook
    from IPython.core.interactiveshell import InteractiveShell

    class Keep(DisplayHook):
        """Keeps the last expression's formatted value instead of printing ``Out[n]:``."""
        last: dict | None = None

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            type(self).last = {k: v for k, v in format_dict.items() if k == "text/plain"}

    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no file of the cells run (the checks' would hold hidden tests)
    shell = InteractiveShell.instance(displayhook_class=Keep, colors="NoColor", config=config)
    return shell, Keep


def _outputs(captured, error, result_data) -> list[dict]:
    outs = []
    if captured.stdout:
        outs.append({"output_type": "stream", "name": "stdout", "text": captured.stdout[-_TEXT_LIMIT:]})
    if captured.stderr:
        outs.append({"output_type": "stream", "name": "stderr", "text": captured.stderr[-_TEXT_LIMIT:]})
    for out in captured.outputs:
        text = out.data.get("text/plain") if isinstance(out.data, dict) else None
        if text is not None:
            outs.append({"output_type": "display_data", "data": {"text/plain": str(text)[:_TEXT_LIMIT]},
                         "metadata": {}})
    if result_data:
        outs.append({"output_type": "execute_result", "data": {"text/plain": result_data[:_TEXT_LIMIT]},
                     "metadata": {}, "execution_count": None})
    if error is not None:
        outs.append({"output_type": "error", "ename": type(error).__name__,
                     "evalue": str(error)[:2000], "traceback": []})
    return outs


def _run_cell(shell, keep, source: str) -> list[dict]:
    from IPython.utils.capture import capture_output

    keep.last = None
    with capture_output(display=True) as captured:
        result = shell.run_cell(source, store_history=True, silent=False)
    error = result.error_before_exec or result.error_in_exec
    value = (keep.last or {}).get("text/plain")
    return _outputs(captured, error, value)


def _skips_since(seen: int) -> tuple[str, int]:
    log = os.environ.get("GORUN_KIT_SKIP_LOG")
    if not log or not os.path.exists(log):
        return "", seen
    with open(log, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    return "; ".join(lines[seen:]), len(lines)


def student(channel_fd: int) -> int:
    from .rpc import Channel, serve

    sock = socket.socket(fileno=channel_fd)
    sock.set_inheritable(False)
    job = json.load(sys.stdin)
    shell, keep = _shell()
    for source in job.get("cells", []):
        _run_cell(shell, keep, str(source))
    serve(Channel(sock), shell.user_ns)
    return 0


def check(channel_fd: int, results_fd: int) -> int:
    from .rpc import Channel, Student

    sock = socket.socket(fileno=channel_fd)
    sock.set_inheritable(False)
    os.set_inheritable(results_fd, False)
    results = os.fdopen(results_fd, "w", buffering=1, encoding="utf-8")
    job = json.load(sys.stdin)
    student = Student(Channel(sock))
    shell, keep = _shell()
    seen = 0
    for index, cell in enumerate(job.get("cells", [])):
        if cell.get("bind") is not None:
            try:
                missing = student.bind(cell["bind"], shell.user_ns)
                line = {"index": index, "bound": True, "missing": missing}
            except Exception as exc:  # the student's process is gone or broke the protocol
                line = {"index": index, "bound": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        else:
            outputs = _run_cell(shell, keep, str(cell.get("source", "")))
            skipped, seen = _skips_since(seen)
            line = {"index": index, "outputs": outputs, "skipped": skipped}
        results.write(json.dumps(line) + "\n")
    results.close()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gorun_kit.course.cellrun")
    parser.add_argument("side", choices=("student", "check"))
    parser.add_argument("--channel-fd", type=int, required=True)
    parser.add_argument("--results-fd", type=int)
    args = parser.parse_args(argv)
    if args.side == "student":
        return student(args.channel_fd)
    if args.results_fd is None:
        parser.error("check needs --results-fd")
    return check(args.channel_fd, args.results_fd)


if __name__ == "__main__":
    sys.exit(main())
