"""Chapter 5's seccomp demo as a picture (records: :class:`gorun_kit.nb.ProgramRun`
of ``labs_c/seccomp_deny`` starting ``labs_go/ch5_exec``)."""
from __future__ import annotations

import errno
import json
import os

__all__ = ["seccomp_demo_graph", "errno_name"]


def errno_name(error: str) -> str:
    """The errno name (``"EPERM"``) whose C message ends the Go error text
    ``error`` (``"fork/exec /bin/true: operation not permitted"``); "" when
    no errno's message matches. Go prints an ``Errno`` with the same table of
    messages as the C library, lower-cased."""
    text = error.strip().lower()
    for code in sorted(errno.errorcode):
        message = os.strerror(code).lower()
        if message and text.endswith(": " + message):
            return errno.errorcode[code]
    return ""


def _report(run) -> dict:
    try:
        return json.loads(run.stdout)
    except ValueError:
        raise ValueError(f"seccomp_demo_graph: {' '.join(run.argv)} did not print ch5_exec's JSON line "
                         f"(stdout {run.stdout[:200]!r}, stderr {run.stderr[:200]!r})") from None


def seccomp_demo_graph(runs):
    """One lane per run of the demo: launcher -> ch5_exec -> its child's ``execve`` -> what Go saw.

    ``runs`` maps a lane title ("with the filter", "--no-filter") to the
    :class:`~gorun_kit.nb.ProgramRun` of ``seccomp_deny [--no-filter] ch5_exec``.
    Each lane shows the launcher's own line (stderr), the kernel's
    ``Seccomp``/``Seccomp_filters`` values ch5_exec read from
    ``/proc/self/status``, the child's ``execve`` of the target and its
    outcome, and the error ``exec.Command(...).Run()`` returned with the two
    ``errors.Is`` answers. The errno on the refused edge is read from that
    error (:func:`errno_name`), not assumed. A refused step is red. Returns a
    :class:`~gorun_kit.viz.graph.Graph`; ValueError when a run printed no JSON.
    """
    from .graph import Graph

    if not runs:
        raise ValueError("seccomp_demo_graph needs at least one run")
    g = Graph("seccomp_demo", graph_attr={"rankdir": "TB", "fontsize": "10", "nodesep": "0.4"},
              node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "9"},
              edge_attr={"fontname": "Helvetica", "fontsize": "8", "arrowsize": "0.6"})
    for i, (title, run) in enumerate(runs.items()):
        rep = _report(run)
        refused = not rep.get("ok")
        said = (run.stderr.strip().splitlines() or [""])[0].removeprefix("seccomp_deny: ").replace("; ", ";\\n")
        with g.subgraph(name=f"cluster_{i}") as c:
            c.attr(label=f"{title}: exit {run.returncode}", style="rounded", color="#999999")
            c.node(f"l{i}", f"seccomp_deny\\n{said}", fillcolor="#deebf7")
            c.node(f"g{i}", f"ch5_exec (Go)\\nSeccomp: {rep.get('seccomp_mode')}, "
                            f"Seccomp_filters: {rep.get('seccomp_filters')}", fillcolor="#e5f5e0")
            c.node(f"c{i}", f"child of clone\\nexecve(\"{rep.get('target')}\")",
                   fillcolor="#fcbba1" if refused else "#e5f5e0")
            outcome = (f"Run() error:\\n{rep.get('error')}\\nerrors.Is EPERM: {rep.get('is_eperm')}, "
                       f"ErrPermission: {rep.get('is_permission')}") if refused else "Run() error: <nil>\\n/bin/true ran"
            c.node(f"r{i}", outcome, fillcolor="#fcbba1" if refused else "#f0f0f0")
            c.edge(f"l{i}", f"g{i}", label="execveat(fd, \"\", AT_EMPTY_PATH)")
            c.edge(f"g{i}", f"c{i}", label="os/exec: clone")
            sent = errno_name(str(rep.get("error", ""))) or "the errno"
            c.edge(f"c{i}", f"r{i}", label=f"{sent}, sent back through\\nthe CLOEXEC pipe" if refused
                   else "exec succeeded:\\npipe closed, no errno")
    return g
