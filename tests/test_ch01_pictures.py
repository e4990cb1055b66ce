"""Chapter 1's thread picture and the Markdown tables chapters 1 and 5 print."""
from __future__ import annotations

import pytest

from gorun_kit.threads.proc import Task, ThreadRole
from gorun_kit.viz.idle import idle_threads_graph
from gorun_kit.viz.tables import markdown_table


def _thread(tid, role, *, leader=False, m_id=None, certain=True, syscall="futex"):
    return ThreadRole(Task(tid, "ch1_idle", "S", syscall, (), "futex_do_wait"), leader, role, "evidence", m_id, certain)


def test_idle_threads_graph_one_box_per_thread():
    threads = (_thread(100, "main thread (m0); waiting in the network poller", leader=True, m_id=0,
                       syscall="epoll_pwait"),
               _thread(101, "sysmon, asleep because every P is idle"),
               _thread(102, "an idle M, parked (stopm) on its m.park", m_id=2),
               _thread(103, "unknown", certain=False))
    src = idle_threads_graph(threads).source
    assert "pid 100" in src and "4 threads" in src
    for tid in (100, 101, 102, 103):
        assert f"process -> t{tid}" in src
    assert 'label="leader (tid = pid)"' in src
    assert "tid 100 · M0" in src and "tid 101 · M?" in src
    assert "main thread (m0)\\nblocked in epoll_pwait" in src  # the role stops at its first ";"
    assert "dashed" in src.split("t103 [", 1)[1].split("]", 1)[0]  # an inferred role is drawn dashed
    assert "4 threads, one comm" in src
    renamed = threads[:3] + (ThreadRole(Task(104, "worker", "S", "futex", (), "futex_do_wait"), False, "unknown",
                                        "evidence", None, False),)
    assert "4 threads, 2 different comms" in idle_threads_graph(renamed).source  # counted, not assumed
    with pytest.raises(ValueError, match="at least one"):
        idle_threads_graph(())


def test_markdown_table_escapes_and_aligns():
    table = markdown_table(["name", "KiB"], [["a|b", 3], ["c", 12]], right=(1,))
    assert repr(table).splitlines() == ["| name | KiB |", "|---|---:|", "| a\\|b | 3 |", "| c | 12 |"]
    assert table._repr_markdown_() == repr(table)
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 columns"):
        markdown_table(["a", "b"], [["only one"]])
