"""A process that exits while its threads are still starting threads.

A task whose clone event never came has pid -1 and is no one's last thread,
and every process the trace knows ends exactly once. Known gap: a new thread
whose first stop reaches the tracer before its death but after exit_group can
be taken for a process of its own, and its exit then says ``last_thread``
with its own tid as pid (a process the trace has no spawn record of); the
check below allows that and only that.
"""
from __future__ import annotations

from collections import Counter

from trace_helpers import c_prog

from gorun_kit import trace


def test_exits_racing_with_clone_end_each_process_once():
    exe = c_prog("exit_while_cloning")
    unknown = 0
    for _ in range(15):
        t = trace.run([exe], timeout=60)
        assert t.returncode == 0, t.stderr
        # a request on a task that died under it (ESRCH) is expected here, not worth a warning
        assert b"No such process" not in (t.stderr or b""), t.stderr
        procs = t.processes()
        ended = Counter(e.pid for e in t.exits if e.last_thread)
        assert all(ended[pid] == 1 for pid in procs), ended
        assert not [e for e in t.exits if e.pid == -1 and e.last_thread]
        strays = [e for e in t.exits if e.last_thread and e.pid not in procs]
        assert all(e.tid == e.pid for e in strays), strays  # the known gap, nothing else
        unknown += sum(e.pid == -1 for e in t.exits)
    print(f"exits of tasks never announced by a clone event: {unknown} in 15 runs")
