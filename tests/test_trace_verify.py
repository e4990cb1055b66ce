"""The tracer's --verify: every exec record compared with /proc/<pid>/cmdline and
environ at the exec stop, on the programs that break careless tracers; and the
exit status of ``gorun-kit trace --verify``."""
from __future__ import annotations

import argparse
import os
import shlex
import sys

import pytest

from gorun_kit import trace
from gorun_kit.commands import trace as trace_cmd

sys.path.insert(0, os.path.dirname(__file__))
from test_trace_envdelta import env_torture  # noqa: E402
from trace_helpers import c_prog  # noqa: E402


@pytest.fixture(scope="module")
def verified(tmp_path_factory):
    """One traced run of every torture program in turn, under --verify."""
    prog, script = env_torture(tmp_path_factory)
    steps = [
        [c_prog("exec_from_thread")],  # exec from a non-leader thread
        [c_prog("execvp_path"), "/nonexistent-1:/usr/bin", "true", "arg"],  # failed execs on the way
        [c_prog("many_env"), "20", "30"],  # 30 KB environments, each child its own
        [c_prog("weird_argv")],  # newlines, empty strings, bytes that are not UTF-8
        [c_prog("spawn_kinds")],  # fork, vfork, clone3/posix_spawn, threads
        [prog, script],  # duplicates and strings without '=' in envp, argv NULL, a #! script
        ["/usr/bin/env", "-i", "ONLY=1", "/bin/true"],  # a whole new environment
    ]
    cmd = ["/bin/sh", "-c", "; ".join(shlex.join(s) + " >/dev/null" for s in steps)]
    return trace.run(cmd, timeout=120, verify=True)


@pytest.mark.live
def test_every_exec_of_the_torture_programs_agrees_with_proc(verified):
    v = verified.stats["verify"]
    assert v["mismatches"] == 0, v["first"]
    assert v["execs"] == len(verified.execs) > 40
    assert v["rebuilt_checked"] == len(verified.execs)  # and the envp rebuilt here, checksum by checksum
    assert {e.program for e in verified.execs} >= {"echo", "true", "many_env", "weird_argv", "script.sh"}
    assert verified.exec_failures and verified.returncode == 0


def _args(**kw):
    ns = dict(json=None, perfetto=None, mode="events", env_records="delta", verify=True, timeout=None,
              strace=False, execs=False, attach=None, duration=None, cmd=["/bin/true"])
    return argparse.Namespace(**{**ns, **kw})


@pytest.mark.parametrize("mismatches, status", [(0, 0), (1, 3)])
def test_the_command_exits_3_on_a_mismatch(monkeypatch, capsys, mismatches, status):
    made_up = trace.Trace(command=("/bin/true",), mode="events", root_pid=1, returncode=0, events=(),
                          stats={"verify": {"execs": 4, "mismatches": mismatches, "rebuilt_checked": 4,
                                            "first": "pid 7: envp differs" if mismatches else None}})
    monkeypatch.setattr(trace, "run", lambda *a, **kw: made_up)
    assert trace_cmd.run(_args()) == status
    err = capsys.readouterr().err
    assert "4 exec records checked" in err and f"{mismatches} mismatches" in err
    assert ("pid 7: envp differs" in err) == bool(mismatches)


def test_verify_is_refused_with_strace(capsys):
    assert trace_cmd.run(_args(strace=True)) == 2
    assert "--verify" in capsys.readouterr().err
