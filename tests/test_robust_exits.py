"""One exit record per process, even for a child its parent never reaps: the
zombie is handed to the tracer (the child subreaper) when the parent exits,
and that second report of the same death must not become a second record."""
from __future__ import annotations

import pytest

from gorun_kit import build, trace

pytestmark = pytest.mark.live

NEVER_WAITS = r"""
#include <time.h>
#include <unistd.h>

/* Three children that _exit(7) at once; the parent sleeps 200 ms and exits
 * without ever waiting for them. */
int main(void)
{
	for (int i = 0; i < 3; i++)
		if (fork() == 0)
			_exit(7);
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return 0;
}
"""


@pytest.fixture(scope="module")
def never_waits(tmp_path_factory) -> str:
    src = tmp_path_factory.mktemp("never_waits") / "never_waits.c"
    src.write_text(NEVER_WAITS)
    return build.build_c([src], name="never_waits").path


@pytest.mark.parametrize("mode", trace.MODES)
def test_an_unreaped_child_exits_once(never_waits, mode):
    t = trace.run([never_waits], mode=mode, timeout=60)
    assert t.returncode == 0
    children = [s.child_pid for s in t.spawns if not s.is_thread]
    assert len(children) == 3
    assert [e for e in t.exits if e.pid == -1] == []
    for pid in children:
        exits = [e for e in t.exits if e.tid == pid]
        assert len(exits) == 1, exits
        assert exits[0].exit_code == 7 and exits[0].last_thread
        # the thread ends at its own death, not 200 ms later at its parent's
        assert t.threads()[pid].end_ns == exits[0].ts_ns
        assert t.processes()[pid].exit_code == 7


def test_strace_agrees(never_waits):
    s = trace.strace_run([never_waits], timeout=60)
    t = trace.run([never_waits], timeout=60)
    assert sorted(e.exit_code for e in s.exits) == sorted(e.exit_code for e in t.exits)
