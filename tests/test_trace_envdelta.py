"""Exec records with the environment as a difference (the tracer's --env delta,
schema 2): the edit format, rebuilding every envp while parsing, old files, and
one live run where the C tracer's edits are checked against the Python encoder."""
from __future__ import annotations

import json
import subprocess
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gorun_kit import trace
from gorun_kit.trace import TraceFormatError, apply_env_edits, env_edits, from_lines

# --- the edit format -------------------------------------------------------

# environment strings as the tracer writes them: any text, bytes that are not
# UTF-8 as U+DC80..U+DCFF, strings without '=', empty strings, duplicates
_chars = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   st.sampled_from(["=", "\udc80", "\udcff"]))
_strings = st.text(_chars, max_size=6)
_envs = st.lists(st.sampled_from(["A=1", "A=1", "NOEQ", "", "=x", "B=\udcff"]) | _strings, max_size=12)


@settings(max_examples=300, deadline=None)
@given(_envs, _envs)
def test_any_pair_of_environments_round_trips(base, new):
    edits = env_edits(base, new)
    assert apply_env_edits(tuple(base), edits) == tuple(new)
    assert len(edits) <= 1
    assert (edits == []) == (base == new)


def test_edits_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="does not fit"):
        apply_env_edits(("A=1",), [[0, 2, []]])
    with pytest.raises(ValueError, match=r"\[start, end, \[strings\]\]"):
        apply_env_edits(("A=1",), [[0, 1]])


# --- rebuilding while parsing: made-up records -------------------------------

def _lines(*records):
    return [json.dumps(r) for r in records]


START = {"type": "start", "ts_ns": 1, "pid": 10, "mode": "events", "argv": ["sh"], "attached": False,
         "version": 2, "env": "delta", "envp": ["A=1", "B=2", "C=3"]}
END = {"type": "end", "ts_ns": 99, "exit_status": 0, "tracer_cpu_ns": 1, "interrupted_by": None, "stops": {},
       "mem_read_calls": 0, "mem_read_bytes": 0, "peek_words": 0, "records": 9}


def _exec(ts, pid, base, edits, **kw):
    return {"type": "exec", "ts_ns": ts, "pid": pid, "tid": pid, "syscall": "execve", "filename": "/bin/x",
            "argv": ["x"], "env_base": base, "env_edits": edits, "former_tid": None, "source": "entry",
            "complete": True, **kw}


def _spawn(ts, parent, child, thread=False):
    return {"type": "spawn", "ts_ns": ts, "parent_pid": parent, "parent_tid": parent, "child_pid": parent if thread else child,
            "child_tid": child, "syscall": "clone", "flags": 0, "flag_names": [], "exit_signal": "SIGCHLD",
            "is_thread": thread}


def test_delta_records_rebuild_every_envp():
    lines = _lines(
        START,
        _exec(2, 10, 10, []),                                   # the command: the start record's envp
        _spawn(3, 10, 11),                                      # the child inherits pid 10's
        _exec(4, 11, 11, [[1, 2, ["B=changed", "NEW"]]]),
        {**_exec(5, 11, 11, [[0, 1, []]]), "type": "exec_failed", "errno": "ENOENT"},  # does not change pid 11's
        _exec(6, 11, 11, [[3, 4, []]]),
        _spawn(7, 10, 12), _spawn(8, 12, 13, thread=True),      # a thread changes nothing
        {"type": "exit", "ts_ns": 8, "pid": 11, "tid": 11, "exit_code": 0, "signal": None, "last_thread": True},
        _exec(9, 12, 0, []),                                    # 0: the envp of the last exec record
        _exec(10, 14, 11, [[0, 0, ["ONLY=1"]]]),                # a pid that ended: an empty base
        END)
    t = from_lines(lines)
    assert [e.envp for e in t.events if hasattr(e, "envp")] == [
        ("A=1", "B=2", "C=3"),
        ("A=1", "B=changed", "NEW", "C=3"),
        ("B=changed", "NEW", "C=3"),
        ("A=1", "B=changed", "NEW"),
        ("A=1", "B=changed", "NEW"),
        ("ONLY=1",),
    ]
    assert t.execs[0].to_dict()["envp"] == ["A=1", "B=2", "C=3"]  # written back in full


def test_none_mode_and_schema_1_files_load():
    none = from_lines(_lines({**START, "env": "none"}, {k: v for k, v in _exec(2, 10, 0, []).items()
                                                         if not k.startswith("env_")}, END))
    assert none.execs[0].envp == ()
    v1_start = {k: v for k, v in START.items() if k not in ("version", "env", "envp")}
    v1_exec = {**{k: v for k, v in _exec(2, 10, 0, []).items() if not k.startswith("env_")}, "envp": ["Z=9"]}
    assert from_lines(_lines(v1_start, v1_exec, END)).execs[0].envp == ("Z=9",)


def test_a_delta_record_that_does_not_fit_names_its_line():
    with pytest.raises(TraceFormatError, match="line 2: env edit"):
        from_lines(_lines(START, _exec(2, 10, 10, [[2, 9, []]]), END))
    with pytest.raises(TraceFormatError, match="line 2: .*lacks env_base"):
        from_lines(_lines(START, {k: v for k, v in _exec(2, 10, 10, []).items() if k != "env_edits"}, END))


def test_the_rebuilt_envp_is_checked_against_the_tracers_checksum():
    good = zlib.crc32(b"A=1\0B=2\0C=3\0")
    lines = _lines(START, _exec(2, 10, 10, [], environ_crc32=good), _exec(3, 10, 10, [], environ_crc32=good ^ 1),
                   {**END, "verify": {"execs": 2, "mismatches": 0, "first": None}})
    v = from_lines(lines).stats["verify"]
    assert v["rebuilt_checked"] == 2 and v["mismatches"] == 1 and "pid 10" in v["first"]


# --- live: the C tracer's edits against the Python encoder ------------------

ENV_TORTURE = r"""
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
/* execve with environments a careless delta gets wrong: duplicates, strings
 * without '=', an empty string, bytes that are not UTF-8; a middle insert,
 * a shrink, an empty one; a failed exec; argv NULL; a #! script (argv[1]). */
static void run(char *const argv[], char *const envp[], const char *path)
{
	pid_t p = fork();
	if (p == 0) {
		execve(path, argv, envp);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
}

int main(int argc, char **argv)
{
	char *a[] = {"true", NULL};
	char *e1[] = {"A=1", "NOEQ", "A=1", "B=\xff\xfe", "=lead", "", NULL};
	char *e2[] = {"A=1", "NOEQ", "INSERTED=1", "A=1", "B=\xff\xfe", "=lead", "", NULL};
	char *e3[] = {"NOEQ", "A=1", NULL};
	char *e4[] = {NULL};
	char *s[] = {"script-arg0", "x", NULL};
	run(a, e1, "/bin/true");
	run(a, e2, "/bin/true");
	run(a, e3, "/bin/true");
	run(a, e4, "/bin/true");
	run(a, e2, "/nonexistent/prog");
	run(NULL, e1, "/bin/true");
	if (argc > 1)
		run(s, e1, argv[1]);
	return 0;
}
"""
E1 = (b"A=1", b"NOEQ", b"A=1", b"B=\xff\xfe", b"=lead", b"")
E2 = (b"A=1", b"NOEQ", b"INSERTED=1", b"A=1", b"B=\xff\xfe", b"=lead", b"")
E3 = (b"NOEQ", b"A=1")


def env_torture(tmp_path_factory) -> tuple[str, str]:
    """The program above, built, and a #! script to give it: (program, script)."""
    from gorun_kit import build

    d = tmp_path_factory.mktemp("env_torture")
    (d / "env_torture.c").write_text(ENV_TORTURE)
    script = d / "script.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return build.build_c([d / "env_torture.c"], name="env_torture").path, str(script)


@pytest.fixture(scope="module")
def both_modes(tmp_path_factory):
    prog, script = env_torture(tmp_path_factory)
    out = tmp_path_factory.mktemp("runs")
    files = {}
    for mode in ("full", "delta"):
        files[mode] = out / f"{mode}.jsonl"
        p = subprocess.run([trace.tracer_binary(), "--env", mode, "--output", str(files[mode]), "--", prog, script],
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
    return files


@pytest.mark.live
def test_delta_records_rebuild_exactly_what_full_records_hold(both_modes):
    full, delta = trace.load(both_modes["full"]), trace.load(both_modes["delta"])

    def envs(t):
        return [(type(e).__name__, e.argv_bytes, e.envp_bytes) for e in t.events if hasattr(e, "envp")]

    assert envs(delta) == envs(full)
    children = [e.envp_bytes for e in delta.events if hasattr(e, "envp") and e.pid != delta.root_pid]
    assert children == [E1, E2, E3, (), E2, E1, E1]
    assert delta.exec_failures[0].envp_bytes == E2  # read from the caller's memory after the failure


@pytest.mark.live
def test_the_tracers_edits_are_the_python_encoders(both_modes):
    raw = [json.loads(line) for line in both_modes["delta"].read_text().splitlines()]
    assert raw[0]["version"] == 2 and raw[0]["env"] == "delta"
    t = trace.load(both_modes["delta"])
    envs = {raw[0]["pid"]: tuple(raw[0]["envp"]), 0: ()}  # 0: the last exec's
    rebuilt = iter(e for e in t.events if hasattr(e, "envp"))
    for r in raw[1:-1]:
        if r["type"] == "spawn" and not r["is_thread"]:
            envs[r["child_pid"]] = envs.get(r["parent_pid"], ())
        elif r["type"] == "exit" and r["last_thread"]:
            envs.pop(r["pid"], None)
        elif r["type"] in ("exec", "exec_failed"):
            assert "envp" not in r
            new = next(rebuilt).envp
            assert r["env_edits"] == env_edits(envs.get(r["env_base"], ()), new), r
            if r["type"] == "exec":
                envs[r["pid"]] = envs[0] = new
    root_exec = next(r for r in raw if r["type"] == "exec" and r["pid"] == raw[0]["pid"])
    assert root_exec["env_edits"] == [] and root_exec["env_base"] == raw[0]["pid"]  # our env, unchanged
