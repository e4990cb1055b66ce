"""The trace model on made-up records: reading JSON Lines (and refusing what
is not the schema, naming the line), the spawn classification, the process
and thread views, lifetimes, output, and the ptrace stops a trace implies.
No tracer runs here: every test takes milliseconds."""
from __future__ import annotations

import io
import json
import zlib

import pytest

from gorun_kit.trace import (SPAWN_KINDS, ExecEvent, ExecFailedEvent, ExitEvent, SpawnEvent, SyscallEvent, Trace,
                             TraceFormatError, apply_env_edits, classify_spawn, env_edits, escape, from_lines, load)
from gorun_kit.trace.flags import CLONE_FLAGS, flag_names, flags_value, signal_name
from gorun_kit.trace.stops import child_stops, spawn_event_name, stop_counts


def F(*names: str) -> int:
    return sum(CLONE_FLAGS[n] for n in names)


GO_THREAD = F("CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_SYSVSEM", "CLONE_THREAD")
PTHREAD = F("CLONE_VM", "CLONE_THREAD", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID")
SIGCHLD = 17


def spawn(ts, parent, child, *, thread=False, syscall="clone", flags=None, parent_tid=None, exit_signal="SIGCHLD"):
    if flags is None:
        flags = GO_THREAD if thread else F("CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID") | SIGCHLD
    return SpawnEvent(ts_ns=ts, parent_pid=parent, parent_tid=parent_tid or parent,
                      child_pid=parent if thread else child, child_tid=child, syscall=syscall, flags=flags,
                      flag_names=flag_names(flags), exit_signal=None if thread else exit_signal, is_thread=thread)


def run_exec(ts, pid, filename="/bin/prog", *, tid=None, former=None, source="entry"):
    return ExecEvent(ts_ns=ts, pid=pid, tid=tid or pid, syscall="execve", filename=filename,
                     argv=(filename.rsplit("/", 1)[-1],), envp=("A=1",), former_tid=former, source=source)


def failed_exec(ts, pid, filename="/nonexistent"):
    return ExecFailedEvent(ts_ns=ts, pid=pid, tid=pid, syscall="execve", filename=filename, argv=("x",),
                           envp=(), errno="ENOENT")


def task_exit(ts, pid, *, tid=None, code=0, signal=None, last=True):
    return ExitEvent(ts_ns=ts, pid=pid, tid=tid or pid, exit_code=code, signal=signal, last_thread=last)


def make_trace(*events, root=10, start_ns=1, **kw):
    kw = {"command": ("sh", "-c", "x"), "mode": "events", "returncode": 0, **kw}
    return Trace(root_pid=root, events=tuple(events), start_ns=start_ns, **kw)


# --- reading JSON Lines --------------------------------------------------------

START = {"type": "start", "ts_ns": 1, "pid": 10, "mode": "events", "argv": ["sh", "-c", "x"], "attached": False}
DELTA_START = {**START, "version": 2, "env": "delta", "envp": ["A=1", "B=2"]}
RECORDS = {
    "spawn": {"type": "spawn", "ts_ns": 2, "parent_pid": 10, "parent_tid": 10, "child_pid": 11, "child_tid": 11,
              "syscall": "clone", "flags": 0x1200011, "flag_names": ["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"],
              "exit_signal": "SIGCHLD", "is_thread": False},
    "exec": {"type": "exec", "ts_ns": 3, "pid": 11, "tid": 11, "syscall": "execve", "filename": "/bin/true",
             "argv": ["true"], "envp": ["A=1"], "former_tid": None, "source": "entry", "complete": True},
    "exec_failed": {"type": "exec_failed", "ts_ns": 3, "pid": 11, "tid": 11, "syscall": "execve",
                    "filename": "/nope", "argv": ["nope"], "envp": ["A=1"], "errno": "ENOENT"},
    "exit": {"type": "exit", "ts_ns": 4, "pid": 11, "tid": 11, "exit_code": 0, "signal": None, "last_thread": True},
}
REQUIRED = {
    "spawn": ["ts_ns", "parent_pid", "parent_tid", "child_pid", "child_tid", "syscall", "flags", "flag_names",
              "exit_signal", "is_thread"],
    "exec": ["ts_ns", "pid", "tid", "syscall", "filename", "argv", "envp", "former_tid"],
    "exec_failed": ["ts_ns", "pid", "tid", "syscall", "filename", "argv", "envp", "errno"],
    "exit": ["ts_ns", "pid", "tid", "exit_code", "signal", "last_thread"],
}


def jsonl(*records) -> list[str]:
    return [r if isinstance(r, str) else json.dumps(r) for r in records]


def delta(record: dict, base: int = 10, edits=()) -> dict:
    """An exec record as delta mode writes it: env_base/env_edits for envp."""
    out = {k: v for k, v in record.items() if k != "envp"}
    return {**out, "env_base": base, "env_edits": [list(e) for e in edits]}


def test_every_record_kind_is_read_with_arrays_as_tuples():
    t = from_lines(jsonl(START, *RECORDS.values(), {"type": "end", "ts_ns": 5, "exit_status": 3}))
    spawn_e, exec_e, fail_e, exit_e = t.events
    assert isinstance(spawn_e, SpawnEvent) and spawn_e.flag_names == ("CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID")
    assert isinstance(exec_e, ExecEvent) and exec_e.argv == ("true",) and exec_e.envp == ("A=1",)
    assert isinstance(fail_e, ExecFailedEvent) and fail_e.errno == "ENOENT"
    assert fail_e.source == "entry" and fail_e.complete is True  # defaults of fields the record leaves out
    assert isinstance(exit_e, ExitEvent) and exit_e.core_dumped is False
    assert hash(exec_e)  # frozen records with tuples: usable as dict keys
    assert t.returncode == 3 and t.stats == {"type": "end", "ts_ns": 5, "exit_status": 3}
    assert (t.command, t.mode, t.root_pid, t.start_ns, t.attached) == (("sh", "-c", "x"), "events", 10, 1, False)
    assert t.to_dicts() == [RECORDS["spawn"], RECORDS["exec"],
                            {**RECORDS["exec_failed"], "source": "entry", "complete": True},
                            {**RECORDS["exit"], "core_dumped": False}]


def test_from_lines_takes_the_callers_command_and_returncode_first():
    lines = jsonl({**START, "attached": True, "mode": "seccomp"}, {"type": "end", "ts_ns": 5, "exit_status": 3})
    t = from_lines(lines, command=("mine",), returncode=7)
    assert (t.command, t.returncode, t.mode, t.attached) == (("mine",), 7, "seccomp", True)
    bare = from_lines(jsonl({"type": "start", "pid": 4}))
    assert (bare.command, bare.mode, bare.returncode, bare.start_ns, bare.stats) == ((), "?", None, None, {})


def test_load_reads_a_file(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text("\n".join(jsonl(START, RECORDS["exec"])) + "\n")
    assert load(p, command=("c",)).execs[0].filename == "/bin/true"
    assert load(p).command == ("sh", "-c", "x")


def test_blank_lines_are_skipped_and_still_counted():
    lines = jsonl(START, "", "   ", RECORDS["exit"], "{bad")
    with pytest.raises(TraceFormatError, match=r"^line 5 is not JSON .*\{bad"):
        from_lines(lines)
    assert len(from_lines(lines[:4])) == 1


def test_a_bad_line_is_quoted_cut_to_80_characters():
    with pytest.raises(TraceFormatError) as info:
        from_lines(jsonl(START, "x" * 79 + "yz"))
    assert str(info.value).endswith(repr("x" * 79 + "y"))
    with pytest.raises(TraceFormatError) as info:
        from_lines(jsonl(START, "[" + "1," * 50 + "1]"))
    assert str(info.value).endswith(repr(("[" + "1," * 50)[:80]))


@pytest.mark.parametrize("line", ["[1, 2]", "5", '"spawn"', "null"])
def test_a_line_that_is_not_an_object_names_its_line(line):
    with pytest.raises(TraceFormatError, match=r"^line 2 is not a record"):
        from_lines(jsonl(START, line))


@pytest.mark.parametrize("record", [{"type": "signal", "ts_ns": 2}, {"ts_ns": 2}, {"type": 5}])
def test_an_unknown_record_type_is_refused_not_skipped(record):
    with pytest.raises(TraceFormatError, match=r"^line 2: unknown record type"):
        from_lines(jsonl(START, record))


def test_fields_the_schema_does_not_know_are_ignored():
    t = from_lines(jsonl(START, {**RECORDS["exit"], "future_field": [1]}))
    assert t.exits == (ExitEvent(ts_ns=4, pid=11, tid=11, exit_code=0, signal=None, last_thread=True),)


@pytest.mark.parametrize("start", [START, DELTA_START], ids=["full", "delta"])
@pytest.mark.parametrize("kind,field", [(k, f) for k, fs in REQUIRED.items() for f in fs if f != "envp"])
def test_a_missing_field_names_the_record_and_its_line(start, kind, field):
    record = RECORDS[kind] if start is START or kind not in ("exec", "exec_failed") else delta(RECORDS[kind])
    broken = {k: v for k, v in record.items() if k != field}
    with pytest.raises(TraceFormatError, match=rf"^line 2: {kind} record lacks \['{field}'\]"):
        from_lines(jsonl(start, broken, RECORDS["exit"]))


@pytest.mark.parametrize("kind", ["exec", "exec_failed"])
def test_envp_is_required_in_full_mode_and_rebuilt_otherwise(kind):
    broken = {k: v for k, v in RECORDS[kind].items() if k != "envp"}
    with pytest.raises(TraceFormatError, match=rf"^line 2: {kind} record lacks \['envp'\]"):
        from_lines(jsonl(START, broken))
    none = from_lines(jsonl({**DELTA_START, "env": "none"}, broken))
    assert none.events[0].envp == ()


@pytest.mark.parametrize("field,value", [("argv", 5), ("argv", "true"), ("envp", ["A=1", 2]), ("argv", None)])
def test_an_array_field_of_the_wrong_type_names_its_line(field, value):
    with pytest.raises(TraceFormatError, match=rf"^line 2: exec record's '{field}' must be an array of strings"):
        from_lines(jsonl(START, {**RECORDS["exec"], field: value}))


def test_flag_names_must_be_an_array_too():
    with pytest.raises(TraceFormatError, match=r"^line 3: spawn record's 'flag_names'"):
        from_lines(jsonl(START, RECORDS["exit"], {**RECORDS["spawn"], "flag_names": "CLONE_VM"}))


@pytest.mark.parametrize("start", [{"type": "start"}, {**START, "pid": "10"}, {**START, "version": "2"},
                                   {**DELTA_START, "envp": "A=1"}, {**DELTA_START, "envp": [1]}])
def test_a_start_record_without_a_usable_pid_version_or_envp_is_refused(start):
    with pytest.raises(TraceFormatError, match=r"^line 1: the start record needs an integer 'pid'"):
        from_lines(jsonl(start, RECORDS["exit"]))


def test_records_without_a_start_record_are_not_a_trace():
    with pytest.raises(TraceFormatError, match="no 'start' record"):
        from_lines(jsonl(RECORDS["exit"]))


# --- envp in delta mode --------------------------------------------------------

def test_delta_mode_keeps_each_live_processs_environment():
    lines = jsonl(
        DELTA_START,
        {**RECORDS["spawn"], "child_pid": 11, "child_tid": 11},                   # inherits pid 10's
        delta(RECORDS["exec"], 11, [[1, 2, ["B=3"]]]),
        {**RECORDS["spawn"], "parent_pid": 11, "child_pid": 12, "child_tid": 12},  # inherits pid 11's new one
        delta({**RECORDS["exec"], "pid": 12, "tid": 12}, 12),
        {**RECORDS["spawn"], "parent_pid": 99, "child_pid": 13, "child_tid": 13},  # a creator we know nothing of
        delta({**RECORDS["exec"], "pid": 13, "tid": 13}, 13),
        {**RECORDS["exit"], "pid": 11, "tid": 11, "last_thread": False},          # pid 11 lives on
        delta({**RECORDS["exec_failed"], "pid": 11}, 11, [[0, 1, []]]),           # changes nothing
        delta({**RECORDS["exec"], "pid": 14, "tid": 14}, 11),
        delta({**RECORDS["exec"], "pid": 15, "tid": 15}, 0),                      # base 0: the last exec's
        {**RECORDS["exit"], "pid": 11, "tid": 11},                                # now pid 11 is gone
        delta({**RECORDS["exec"], "pid": 16, "tid": 16}, 11, [[0, 0, ["Z=1"]]]),
    )
    envps = [e.envp for e in from_lines(lines).events if hasattr(e, "envp")]
    assert envps == [("A=1", "B=3"), ("A=1", "B=3"), (), ("B=3",), ("A=1", "B=3"), ("A=1", "B=3"), ("Z=1",)]


def test_schema_1_ignores_an_env_mode_it_did_not_have():
    lines = jsonl({**START, "env": "delta", "envp": ["X=1"]}, RECORDS["exec"])
    assert from_lines(lines).execs[0].envp == ("A=1",)


def test_an_edit_with_strings_that_are_not_strings_names_its_line():
    with pytest.raises(TraceFormatError, match=r"^line 2: env edit \[0, 0, \.\.\.\]"):
        from_lines(jsonl(DELTA_START, delta(RECORDS["exec"], 10, [[0, 0, [1]]])))


def test_the_checksum_check_counts_into_the_verify_record_only():
    good = zlib.crc32(b"A=1\0")
    lines = [START, {**RECORDS["exec"], "environ_crc32": good}, {**RECORDS["exec"], "environ_crc32": good + 1},
             {**RECORDS["exec"], "pid": 12, "environ_crc32": good + 1}]
    v = from_lines(jsonl(*lines, {"type": "end", "verify": {"execs": 3, "mismatches": 2}})).stats["verify"]
    assert v == {"execs": 3, "mismatches": 2 + 2, "rebuilt_checked": 3, "first": v["first"]}
    assert v["first"].startswith("pid 11:")  # the first mismatch, not the last
    told = from_lines(jsonl(*lines, {"type": "end", "verify": {"first": "the tracer's"}})).stats["verify"]
    assert told["first"] == "the tracer's" and told["mismatches"] == 2
    assert from_lines(jsonl(*lines, {"type": "end"})).stats == {"type": "end"}
    clean = from_lines(jsonl(lines[0], lines[1], {"type": "end", "verify": {}})).stats["verify"]
    assert clean == {"rebuilt_checked": 1, "mismatches": 0, "first": None}


def test_env_edits_is_one_hunk_between_prefix_and_suffix():
    assert env_edits(["A", "B", "C"], ["A", "B", "C"]) == []
    assert env_edits([], []) == []
    assert env_edits(["A", "B", "C"], ["A", "X", "Y", "C"]) == [[1, 2, ["X", "Y"]]]
    assert env_edits(["A", "A"], ["A", "A", "A"]) == [[2, 2, ["A"]]]
    assert env_edits(["A", "B"], []) == [[0, 2, []]]
    assert env_edits(["A"], ["B"]) == [[0, 1, ["B"]]]


@pytest.mark.parametrize("edit", [[0, 1], (0, 1, "AB"), "abc", [0, "1", []], [-1, 0, []], [1, 0, []], [0, 3, []]])
def test_apply_env_edits_refuses_an_edit_that_does_not_fit(edit):
    with pytest.raises(ValueError, match="env edit"):
        apply_env_edits(("A", "B"), [edit])


def test_apply_env_edits_applies_in_order():
    assert apply_env_edits(("A", "B"), []) == ("A", "B")
    assert apply_env_edits(("A", "B"), [(2, 2, ("C",)), [0, 1, []]]) == ("B", "C")


# --- records -------------------------------------------------------------------

def test_has_wants_every_flag_named():
    s = spawn(1, 10, 11, flags=F("CLONE_VM", "CLONE_VFORK"))
    assert s.has("CLONE_VM") and s.has("CLONE_VM", "CLONE_VFORK") and s.has()
    assert not s.has("CLONE_VM", "CLONE_THREAD") and not s.has("CLONE_THREAD", "CLONE_VM")
    assert not s.has("CLONE_PIDFD")


def test_exec_bytes_and_program():
    e = ExecEvent(ts_ns=1, pid=1, tid=1, syscall="execve", filename="/usr/bin/caf\udcc3", argv=("a", "\udcff"),
                  envp=("K=\udcfe",), former_tid=None)
    assert e.filename_bytes == b"/usr/bin/caf\xc3" and e.argv_bytes == (b"a", b"\xff") and e.envp_bytes == (b"K=\xfe",)
    assert e.program == "caf\udcc3"
    f = ExecFailedEvent(ts_ns=1, pid=1, tid=1, syscall="execve", filename="/x\udcff", argv=("\udcfe",),
                        envp=("E=\udcfd",), errno="ENOENT")
    assert (f.filename_bytes, f.argv_bytes, f.envp_bytes) == (b"/x\xff", (b"\xfe",), (b"E=\xfd",))
    assert "envp" not in repr(e)


@pytest.mark.parametrize("text,shown", [
    ("plain text, ünïcode 字", "plain text, ünïcode 字"), ("a\nb\tc\rd\\", "a\\nb\\tc\\rd\\\\"),
    ("\v\f", "\\v\\f"), ("\x1b[31m", "\\x1b[31m"), ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
    ("\u202e", "\\u202e"), ("\ufeff", "\\ufeff"), ("\udcff\udc80", "\\xff\\x80"), ("\U000e0001", "\\U000e0001"),
    ("\u2028", "\\u2028"), (" ", " "), ("\udc7f", "\\udc7f"), ("\udd00", "\\udd00"), ("\xad", "\\xad"),
    ("\uffff", "\\uffff"), ("\U0010ffff", "\\U0010ffff"),
])
def test_escape_shows_untrusted_text_safely(text, shown):
    assert escape(text) == shown


# --- the spawn classification --------------------------------------------------

CLASSIFY = [
    # (syscall, flags, is_thread, child_execs, kind)
    ("clone", GO_THREAD | F("CLONE_SETTLS"), True, False, "go-thread"),
    ("clone", GO_THREAD, True, False, "go-thread"),
    ("clone3", GO_THREAD, True, False, "thread"),
    ("clone", GO_THREAD & ~CLONE_FLAGS["CLONE_SYSVSEM"], True, False, "thread"),
    ("clone", PTHREAD, True, False, "pthread"),
    ("clone3", PTHREAD | GO_THREAD, True, False, "pthread"),
    ("clone", F("CLONE_VM", "CLONE_THREAD", "CLONE_PARENT_SETTID"), True, False, "thread"),
    ("clone", F("CLONE_VM", "CLONE_THREAD", "CLONE_CHILD_CLEARTID"), True, False, "thread"),
    ("vfork", F("CLONE_VM", "CLONE_VFORK"), False, True, "vfork"),
    ("fork", 0, False, True, "fork"),
    ("fork", F("CLONE_VM", "CLONE_VFORK"), False, True, "fork"),
    ("clone", F("CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD") | SIGCHLD, False, True, "go-exec"),
    ("clone", F("CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD") | SIGCHLD, False, False, "go-pidfd-probe"),
    ("clone", F("CLONE_VM", "CLONE_VFORK") | SIGCHLD, False, True, "go-exec-nopidfd"),
    ("clone", F("CLONE_VM", "CLONE_VFORK") | SIGCHLD, False, False, "go-exec-nopidfd"),
    ("clone", F("CLONE_VM", "CLONE_PIDFD") | SIGCHLD, False, True, "process"),
    ("clone", F("CLONE_VFORK", "CLONE_PIDFD") | SIGCHLD, False, True, "process"),
    ("clone3", F("CLONE_VM", "CLONE_VFORK"), False, True, "posix_spawn"),
    ("clone3", F("CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD"), False, False, "posix_spawn"),
    ("clone3", F("CLONE_VFORK"), False, True, "process"),
    ("clone3", F("CLONE_VM"), False, True, "process"),
    ("clone", F("CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID") | SIGCHLD, False, False, "glibc-fork"),
    ("clone", F("CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID"), False, True, "glibc-fork"),
    ("clone", F("CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID", "CLONE_NEWNS") | SIGCHLD, False, False, "process"),
    ("clone", F("CLONE_CHILD_SETTID") | SIGCHLD, False, False, "process"),
    ("clone3", F("CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID"), False, False, "process"),
    ("clone", SIGCHLD, False, False, "process"),
    ("clone", PTHREAD, False, False, "process"),
]


@pytest.mark.parametrize("syscall,flags,is_thread,child_execs,kind", CLASSIFY)
def test_classify_spawn_on_made_up_flags(syscall, flags, is_thread, child_execs, kind):
    s = SpawnEvent(ts_ns=1, parent_pid=10, parent_tid=10, child_pid=10 if is_thread else 11, child_tid=11,
                   syscall=syscall, flags=flags, flag_names=flag_names(flags), exit_signal=None, is_thread=is_thread)
    assert classify_spawn(s, child_execs) == kind
    assert kind in SPAWN_KINDS


# --- the views of a trace ------------------------------------------------------

PROBE = F("CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD") | SIGCHLD


def tree() -> Trace:
    """Root 10 with a thread 20; child 11 (os/exec, exec fails then works), child 12
    (os/exec, only a failed exec), child 13 (the pidfd probe, never exits), and 11's
    thread 21 that execs and so takes the leader's tid."""
    return make_trace(
        spawn(2, 10, 20, thread=True),
        spawn(3, 10, 11, flags=PROBE, parent_tid=20),
        failed_exec(4, 11),
        run_exec(5, 11, "/bin/sh"),
        spawn(6, 11, 21, thread=True),
        run_exec(7, 11, "/usr/bin/env", tid=11, former=21),
        spawn(8, 10, 12, flags=PROBE),
        failed_exec(9, 12),
        task_exit(10, 12, code=127),
        spawn(11, 10, 13, flags=PROBE),
        task_exit(12, 11, code=0),
        task_exit(13, 10, tid=20, last=False),
        task_exit(14, 10, code=None, signal="SIGKILL"),
        task_exit(15, 99),  # a task no spawn named
    )


def test_processes_in_order_of_appearance():
    procs = tree().processes()
    assert list(procs) == [10, 11, 12, 13]
    root, a, b, probe = procs.values()
    assert (root.parent_pid, root.spawn, root.kind, root.start_ns, root.tids) == (None, None, None, 1, (10, 20))
    assert (root.end_ns, root.exit_code, root.signal) == (14, None, "SIGKILL")
    assert root.program is None
    assert (a.parent_pid, a.kind, a.start_ns, a.end_ns, a.exit_code, a.tids) == (10, "go-exec", 3, 12, 0, (11, 21))
    assert [e.filename for e in a.execs] == ["/bin/sh", "/usr/bin/env"] and a.program == "env"
    assert [e.filename for e in a.exec_failures] == ["/nonexistent"]
    assert b.kind == "go-exec" and b.execs == () and len(b.exec_failures) == 1  # only its exec failed
    assert (b.end_ns, b.exit_code, b.program) == (10, 127, None)
    assert probe.kind == "go-pidfd-probe" and probe.tids == (13,)
    assert (probe.end_ns, probe.exit_code, probe.signal) == (None, None, None)  # never exited


def test_a_pid_spawned_twice_is_one_process_with_the_later_spawn():
    procs = make_trace(spawn(2, 10, 11), task_exit(3, 11), spawn(4, 10, 11, syscall="fork"),
                       spawn(5, 11, 30, thread=True), spawn(5, 11, 30, thread=True)).processes()
    assert list(procs) == [10, 11]
    assert procs[11].spawn.ts_ns == 4 and procs[11].kind == "fork" and procs[11].tids == (11, 30)


def test_threads_and_their_ends():
    th = tree().threads()
    assert list(th) == [10, 20, 11, 21, 12, 13]
    assert (th[10].pid, th[10].parent_tid, th[10].spawn, th[10].start_ns, th[10].end_ns) == (10, None, None, 1, 14)
    assert th[10].exit.signal == "SIGKILL"
    assert (th[20].pid, th[20].parent_tid, th[20].start_ns, th[20].end_ns) == (10, 10, 2, 13)
    assert th[20].exit.last_thread is False
    assert th[11].parent_tid == 20 and th[11].spawn.ts_ns == 3
    assert (th[21].pid, th[21].end_ns, th[21].exit) == (11, 7, None)  # its exec made it the leader
    assert (th[13].end_ns, th[13].exit) == (None, None)


def test_an_exec_without_a_former_tid_ends_no_thread():
    th = make_trace(spawn(2, 10, 20, thread=True), run_exec(3, 10, tid=10), run_exec(4, 10, former=77)).threads()
    assert th[20].end_ns is None and th[10].end_ns is None and 77 not in th


def test_trees_edges_and_thread_tids():
    t = tree()
    assert t.process_tree() == {10: (11, 12, 13)}
    assert t.edges() == frozenset({(10, 11), (10, 12), (10, 13)})
    assert t.thread_tids(10) == frozenset({20}) and t.thread_tids(11) == frozenset({21})
    assert t.thread_tids(12) == frozenset()
    nested = make_trace(spawn(2, 10, 20, thread=True), spawn(3, 10, 22, thread=True, parent_tid=20),
                        spawn(4, 10, 23, thread=True, parent_tid=20), spawn(5, 10, 11), spawn(6, 11, 24, thread=True))
    assert nested.thread_tree(10) == {10: (20,), 20: (22, 23)}
    assert nested.thread_tree(11) == {11: (24,)} and nested.thread_tree(12) == {}
    assert nested.process_tree() == {10: (11,)}


def test_classify_counts_a_failed_exec_as_an_exec():
    t = tree()
    kinds = {s.child_tid: k for s, k in t.classify().items()}
    assert kinds == {20: "go-thread", 11: "go-exec", 21: "go-thread", 12: "go-exec", 13: "go-pidfd-probe"}
    assert t.spawn_kinds() == {"go-thread": 2, "go-exec": 2, "go-pidfd-probe": 1}


def test_lifetimes_of_tasks_that_never_exited_end_at_the_last_record():
    life = {(x.kind, x.id): x for x in tree().lifetimes()}
    assert len(life) == 4 + 6
    assert (life["process", 13].start_ns, life["process", 13].end_ns, life["process", 13].label) == (11, 15, "?")
    assert (life["process", 11].start_ns, life["process", 11].end_ns, life["process", 11].label) == (3, 12, "env")
    assert (life["process", 10].start_ns, life["process", 10].end_ns) == (1, 14)
    assert (life["thread", 21].pid, life["thread", 21].end_ns, life["thread", 21].label) == (11, 7, "tid 21")
    assert (life["thread", 13].start_ns, life["thread", 13].end_ns) == (11, 15)
    assert (life["thread", 10].start_ns, life["thread", 10].end_ns) == (1, 14)


def test_lifetimes_without_a_start_time_or_events():
    assert [(x.start_ns, x.end_ns) for x in make_trace(start_ns=None).lifetimes()] == [(0, 0), (0, 0)]
    assert [(x.start_ns, x.end_ns) for x in make_trace(start_ns=5).lifetimes()] == [(5, 5), (5, 5)]
    late = make_trace(spawn(9, 10, 11), start_ns=None).lifetimes()
    assert [(x.kind, x.id, x.start_ns, x.end_ns) for x in late] == [
        ("process", 10, 0, 9), ("process", 11, 9, 9), ("thread", 10, 0, 9), ("thread", 11, 9, 9)]


def test_selections_and_syscalls():
    t = tree()
    assert [e.ts_ns for e in t.spawns] == [2, 3, 6, 8, 11]
    assert [e.ts_ns for e in t.execs] == [5, 7] and [e.ts_ns for e in t.exec_failures] == [4, 9]
    assert [e.ts_ns for e in t.exits] == [10, 12, 13, 14, 15]
    assert len(t) == 14 and list(t) == list(t.events)
    calls = tuple(SyscallEvent(tid=tid, ts_ns=i, name=n, args=(), ret=0)
                  for i, (tid, n) in enumerate([(1, "openat"), (2, "openat"), (1, "read")]))
    c = make_trace(calls=calls)
    assert c.syscalls() == calls
    assert c.syscalls("openat") == calls[:2] and c.syscalls(tid=1) == (calls[0], calls[2])
    assert c.syscalls("openat", tid=2) == (calls[1],) and c.syscalls("write") == ()


# --- output ----------------------------------------------------------------------

def test_to_dict_has_retried_only_when_a_run_was_repeated():
    t = make_trace(run_exec(2, 10), stats={"stops": {}})
    d = t.to_dict()
    assert "retried" not in d
    assert d["events"] == [{"type": "exec", "ts_ns": 2, "pid": 10, "tid": 10, "syscall": "execve",
                            "filename": "/bin/prog", "argv": ["prog"], "envp": ["A=1"], "former_tid": None,
                            "source": "entry", "complete": True}]
    assert list(d["events"][0])[0] == "type"
    assert {k: d[k] for k in ("command", "mode", "root_pid", "returncode", "tool", "attached", "stats")} == {
        "command": ["sh", "-c", "x"], "mode": "events", "root_pid": 10, "returncode": 0, "tool": "tracer",
        "attached": False, "stats": {"stops": {}}}
    assert make_trace(retried="strace: ptrace(...): EIO").to_dict()["retried"] == "strace: ptrace(...): EIO"


def test_write_jsonl_reads_back_the_same_trace(tmp_path, capsys):
    t = make_trace(*tree().events, stats={"type": "end", "exit_status": 0, "stops": {"initial": 4}}, attached=True)
    p = tmp_path / "t.jsonl"
    t.write_jsonl(p)
    back = load(p)
    assert back == t and back.stats == t.stats and back.attached
    assert json.loads(p.read_text().splitlines()[0])["version"] == 2
    buf = io.StringIO()
    t.write_jsonl(buf)
    assert buf.getvalue() == p.read_text()
    t.write_jsonl("-")
    assert capsys.readouterr().out == p.read_text()
    bare = make_trace(run_exec(2, 10, "/bin/\udcff"), start_ns=None)
    bare.write_jsonl(tmp_path / "b.jsonl")
    assert (tmp_path / "b.jsonl").read_bytes().isascii()
    again = load(tmp_path / "b.jsonl")
    assert again.events == bare.events and again.stats == {} and again.start_ns == 0


def test_stats_without_a_type_are_still_written_as_the_end_record(tmp_path):
    t = make_trace(task_exit(2, 10), stats={"exit_status": 0})
    t.write_jsonl(tmp_path / "t.jsonl")
    assert load(tmp_path / "t.jsonl").stats == {"type": "end", "exit_status": 0}


def test_summary_counts_and_escapes():
    t = make_trace(*tree().events, command=("sh", "-c", "echo \x1b[2J"), returncode=3)
    lines = t.summary().splitlines()
    assert lines[0] == "sh -c echo \\x1b[2J: exit status 3"
    assert lines[1] == "  4 processes, 2 threads created, 2 execs, 2 failed exec attempts"
    assert lines[2] == "  spawns: go-thread x2, go-exec x2, go-pidfd-probe x1"
    assert lines[3] == "  programs: sh, env"
    assert len(lines) == 4


def test_summary_status_lines():
    assert make_trace(returncode=None).summary().splitlines() == [
        "sh -c x: exit status unknown (it did not end while traced)", "  1 processes, 0 threads created, 0 execs, "
        "0 failed exec attempts"]
    assert make_trace(returncode=None, attached=True).summary().startswith("sh -c x: detached, still running\n")
    stopped = make_trace(returncode=130, stats={"interrupted_by": "SIGINT"}).summary().splitlines()[0]
    assert stopped == "sh -c x: exit status 130 (the tracer got SIGINT and stopped the traced processes)"
    assert "tracer got" not in make_trace(stats={"interrupted_by": None}).summary()


def test_summary_programs_most_common_first_and_cut_at_twelve():
    execs = [run_exec(i, 10, f"/bin/p{i:02}") for i in range(14)] + [run_exec(20, 10, "/bin/p\udcff")] * 3
    line = make_trace(*execs).summary().splitlines()[-1]
    assert line.startswith("  programs: p\\xff x3, p00, p01, ") and line.endswith("p10 ...")
    assert "p11" not in line
    exactly = make_trace(*execs[:12]).summary().splitlines()[-1]
    assert exactly.endswith("p11") and "..." not in exactly


# --- flags -----------------------------------------------------------------------

def test_flag_names_and_values():
    v = F("CLONE_VM", "CLONE_VFORK") | SIGCHLD
    assert flag_names(v) == ("CLONE_VM", "CLONE_VFORK")
    assert flag_names(v, exit_signal=True) == ("CLONE_VM", "CLONE_VFORK", "SIGCHLD")
    assert flag_names(F("CLONE_NEWTIME", "CLONE_VM"), clone3=True) == ("CLONE_NEWTIME", "CLONE_VM")
    assert flag_names(F("CLONE_NEWTIME"), exit_signal=True) == ("SIG128",)
    assert flag_names(1 << 40 | F("CLONE_IO")) == ("CLONE_IO", hex(1 << 40))
    assert flag_names(0, exit_signal=True) == ()
    assert flags_value("CLONE_VM|CLONE_VFORK|SIGCHLD") == v
    assert flags_value(" CLONE_VM | 0x4000 | 17 ") == v and flags_value("") == 0
    assert flags_value("SIGNOPE|CLONE_VM") == F("CLONE_VM")
    with pytest.raises(ValueError, match="'CLONE_BOGUS' is not a flag"):
        flags_value("CLONE_VM|CLONE_BOGUS")
    assert signal_name(17) == "SIGCHLD" and signal_name(200) == "SIG200"


# --- the ptrace stops ----------------------------------------------------------

def stop_trace(*events, stops=None, **kw):
    return make_trace(*events, stats={"type": "end", "stops": stops or {}}, **kw)


def test_spawn_event_names():
    assert spawn_event_name(spawn(1, 10, 11, flags=PROBE)) == "PTRACE_EVENT_VFORK"
    assert spawn_event_name(spawn(1, 10, 11)) == "PTRACE_EVENT_FORK"
    assert spawn_event_name(spawn(1, 10, 11, exit_signal=None)) == "PTRACE_EVENT_CLONE"
    assert spawn_event_name(spawn(1, 10, 11, exit_signal="SIGUSR1")) == "PTRACE_EVENT_CLONE"
    thread = spawn(1, 10, 20, thread=True)
    assert spawn_event_name(SpawnEvent(**{**thread.__dict__, "exit_signal": "SIGCHLD"})) == "PTRACE_EVENT_CLONE"


def test_child_stops_of_the_first_child_that_execd():
    t = stop_trace(spawn(2, 10, 11, flags=PROBE, exit_signal=None), spawn(3, 10, 12, flags=PROBE),
                   run_exec(4, 12, "/bin/a"), run_exec(5, 12, "/usr/bin/b"),
                   task_exit(6, 12, code=None, signal="SIGTERM"), task_exit(7, 10))
    stops = child_stops(t)
    assert [(s.order, s.task, s.pid, s.kind, s.ts_ns) for s in stops] == [
        (0, "parent", 10, "spawn_event", 3), (1, "child", 12, "initial", None), (2, "child", 12, "seccomp", None),
        (3, "child", 12, "exec_event", 4), (4, "child", 12, "seccomp", None), (5, "child", 12, "exec_event", 5),
        (6, "child", 12, "exit", 6), (7, "parent", 10, "signal", None)]
    assert stops[0].ptrace == "PTRACE_EVENT_VFORK"
    assert stops[0].detail == "clone(VM|PIDFD|VFORK): the tracer reads the flags, learns the new pid 12"
    assert "(a)" in stops[2].detail and "(b)" in stops[4].detail
    assert stops[6].detail == "killed by SIGTERM" and "SIGCHLD" in stops[7].ptrace
    other = child_stops(t, 11)
    assert [s.kind for s in other] == ["spawn_event", "initial"]  # no exec, no end, no exit signal
    done = child_stops(stop_trace(spawn(2, 10, 11), run_exec(3, 11), task_exit(4, 11, code=3)))
    assert done[-2].detail == "exit code 3" and done[-1].kind == "signal"


def test_child_stops_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="no child process that exec'd in the trace of 'sh -c x'"):
        child_stops(stop_trace(spawn(2, 10, 11)))
    with pytest.raises(ValueError, match="no child process 12 in"):
        child_stops(stop_trace(spawn(2, 10, 11), spawn(3, 10, 12, thread=True)), 12)
    with pytest.raises(ValueError, match="strace in mode 'events'"):
        child_stops(stop_trace(spawn(2, 10, 11), tool="strace"))
    with pytest.raises(ValueError, match="tracer in mode 'seccomp'"):
        stop_counts(stop_trace(mode="seccomp"))
    with pytest.raises(ValueError, match="no end record"):
        stop_counts(make_trace(stats={"type": "end"}))


def test_stop_counts_predicted_from_the_records():
    t = stop_trace(spawn(2, 10, 20, thread=True), spawn(3, 10, 11), run_exec(4, 11), run_exec(5, 11, source="proc"),
                   failed_exec(6, 11), spawn(7, 10, 12, exit_signal=None), spawn(8, 10, 13), task_exit(9, 11),
                   task_exit(10, 12), task_exit(11, 10), spawn(12, 10, 14), task_exit(13, 13),
                   stops={"spawn_event": 5, "initial": 6, "seccomp": 2, "exec_event": 2, "signal": 9})
    counts = {c.kind: (c.predicted, c.counted) for c in stop_counts(t)}
    # SIGCHLD: 11 (parent outlived it); not 12 (no exit signal), 13 (ended after its parent), 14 (never ended)
    assert counts == {"spawn_event": (5, 5), "initial": (5, 6), "seccomp": (2, 2), "exec_event": (2, 2),
                      "signal": (1, 9)}
    assert [c.kind for c in stop_counts(stop_trace())] == ["spawn_event", "initial", "seccomp", "exec_event", "signal"]
    assert all(c.counted == 0 and c.note for c in stop_counts(stop_trace()))


def test_a_parent_still_running_outlived_its_child():
    t = stop_trace(spawn(2, 10, 11), task_exit(3, 11), spawn(4, 11, 12), task_exit(5, 12), task_exit(6, 11))
    assert {c.kind: c.predicted for c in stop_counts(t)}["signal"] == 2


# --- running: what is refused before the tracer starts, and reading its output ----

def test_run_refuses_bad_arguments_before_building_anything(tmp_path):
    from gorun_kit.trace import CommandNotExecutable, CommandNotFound, run

    for cmd in ("ls", b"ls", [], ()):
        with pytest.raises(ValueError, match="cmd must be a non-empty list"):
            run(cmd)
    with pytest.raises(ValueError, match="mode='fast': use one of events, seccomp, syscalls"):
        run(["true"], mode="fast")
    with pytest.raises(ValueError, match="env_records='some': use one of delta, full, none"):
        run(["true"], env_records="some")
    with pytest.raises(CommandNotFound, match="empty string"):
        run([""])
    with pytest.raises(CommandNotFound, match=r"'\./nope' does not exist \(looked at " + str(tmp_path)):
        run(["./nope"], cwd=tmp_path)
    with pytest.raises(CommandNotFound, match="'no-such-prog' not found on PATH") as info:
        run(["no-such-prog"], env={"PATH": str(tmp_path)})
    assert not isinstance(info.value, CommandNotExecutable)
    (tmp_path / "d").mkdir()
    with pytest.raises(CommandNotExecutable, match="is a directory"):
        run(["./d"], cwd=tmp_path)
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    with pytest.raises(CommandNotExecutable, match="no execute permission"):
        run([str(plain)])
    script = tmp_path / "script"
    script.write_text("#!/no/such/interp -x\necho\n")
    script.chmod(0o755)
    with pytest.raises(CommandNotExecutable, match="interpreter '/no/such/interp' does not exist"):
        run(["script"], env={"PATH": str(tmp_path)})


def test_attach_refuses_bad_arguments_before_building_anything():
    import os

    from gorun_kit.trace import ProcessNotFound, attach

    for pid in (0, -3, True, "12", 1.0):
        with pytest.raises(ValueError, match="give the positive process id"):
            attach(pid)
    with pytest.raises(ValueError, match="attaching supports events, syscalls"):
        attach(1, mode="seccomp")
    with pytest.raises(ValueError, match="env_records="):
        attach(1, env_records="all")
    with pytest.raises(ValueError, match="this Python process"):
        attach(os.getpid())
    with pytest.raises(ProcessNotFound, match=r"no process with pid 2147483646"):
        attach(2**31 - 2)


def tracer_output(*records) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in records).encode())


def test_reading_the_tracers_output():
    from gorun_kit.trace import TracerError
    from gorun_kit.trace.runner import _parse

    out = tracer_output(START, RECORDS["exit"], {"type": "end", "exit_status": 0})
    out.seek(0, 2)  # read from the start wherever the file position is
    t = _parse(out, ["sh"], 5, b"o", b"e", strict=True)
    assert (t.command, t.returncode, len(t.events), t.stdout, t.stderr) == (("sh",), 5, 1, b"o", b"e")
    cut = io.BytesIO(tracer_output(START, RECORDS["exit"]).getvalue() + b'{"type": "exit", "ts_')
    assert len(_parse(cut, ["sh"], None, None, None, strict=False).events) == 1
    with pytest.raises(TracerError, match="'sh' failed: line 3 is not JSON"):
        _parse(cut, ["sh"], 0, None, None, strict=True)
    with pytest.raises(TracerError, match="'sh' failed: tracer: cannot write$"):
        _parse(cut, ["sh"], 0, None, b"x\ntracer: cannot write\n", strict=True)
    assert _parse(io.BytesIO(b""), ["sh"], None, None, None, strict=False) is None
    with pytest.raises(TracerError, match="failed: tracer: error: no ptrace$") as info:
        _parse(io.BytesIO(b""), ["sh"], 125, None, b"noise\ntracer: error: no ptrace\n", strict=True)
    assert "noise" in info.value.stderr
    with pytest.raises(TracerError, match="killed by SIGKILL before it could write"):
        _parse(tracer_output(START), ["sh"], -9, None, None, strict=True)
    with pytest.raises(TracerError, match="killed by signal 99 "):
        _parse(tracer_output(START), ["sh"], -99, None, None, strict=True)
    assert _parse(tracer_output(START), ["sh"], -9, None, None, strict=False).returncode == -9
    with pytest.raises(TracerError, match="failed: tracer: error: bad"):
        _parse(tracer_output(START), ["sh"], 125, None, b"tracer: error: bad\n", strict=True)
    said = b"the command said: tracer: error:"  # the traced command's stderr is not the tracer's
    assert _parse(tracer_output(START), ["sh"], 125, None, said, strict=True).returncode == 125


def test_reading_the_tracers_output_from_a_path(tmp_path):
    from gorun_kit.trace.runner import _parse

    p = tmp_path / "out.jsonl"
    p.write_bytes(tracer_output(START, RECORDS["exec"]).getvalue())
    assert _parse(p, ["sh"], 0, None, None, strict=True).execs[0].argv == ("true",)
    assert _parse(tmp_path / "missing", ["sh"], None, None, None, strict=False) is None


# --- strace's text: the corners of the parser --------------------------------------

def hx(b: bytes) -> str:
    return '"' + "".join(f"\\x{c:02x}" for c in b) + '"'


def strace_text(*lines: str) -> list[str]:
    return [line + "\n" for line in lines]


def test_strace_lines_of_other_shapes_are_skipped_and_times_are_microseconds():
    from gorun_kit.trace import parse_strace

    t = parse_strace(strace_text("strace: Process 5 attached", "garbage", "",
                                 "5 1700000000.5 fork() = 6", "5 1700000000.000002 vfork() = 7",
                                 "6 1700000001.25 +++ exited with 2 +++"))
    assert (t.root_pid, t.start_ns) == (5, 1_700_000_000_500_000_000)
    fork, vfork = t.spawns
    # the flags the kernel uses for fork and vfork; their exit signal is SIGCHLD
    assert (fork.syscall, fork.flags, fork.exit_signal) == ("fork", 0, "SIGCHLD")
    assert (fork.child_pid, fork.is_thread) == (6, False)
    assert vfork.flags == F("CLONE_VM", "CLONE_VFORK") and vfork.ts_ns == 1_700_000_000_000_002_000
    assert vfork.flag_names == ("CLONE_VM", "CLONE_VFORK") and vfork.exit_signal == "SIGCHLD"
    assert t.exits[0].ts_ns == 1_700_000_001_250_000_000 and t.exits[0].pid == 6
    empty = parse_strace(["nothing here\n"])
    assert (empty.root_pid, empty.start_ns, empty.events, empty.mode, empty.tool) == (0, None, (), "strace", "strace")


def test_strace_exits_know_the_last_thread_and_core_dumps():
    from gorun_kit.trace import parse_strace

    t = parse_strace(strace_text(
        "5 1.000001 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = 8",
        "5 1.000002 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = -1 EAGAIN (busy)",
        "5 1.000003 clone(child_stack=NULL, flags=SIGCHLD) = 9",
        "8 1.000004 +++ exited with 0 +++",
        "9 1.000005 +++ killed by SIGSEGV (core dumped) +++",
        "5 1.000006 +++ killed by SIGTERM +++"), command=["c"], returncode=143)
    assert (t.command, t.returncode) == (("c",), 143)
    assert [(s.child_pid, s.child_tid, s.is_thread, s.exit_signal) for s in t.spawns] == [
        (5, 8, True, None), (9, 9, False, "SIGCHLD")]
    assert [(e.pid, e.tid, e.exit_code, e.signal, e.last_thread, e.core_dumped) for e in t.exits] == [
        (5, 8, 0, None, False, False), (9, 9, None, "SIGSEGV", True, True), (5, 5, None, "SIGTERM", True, False)]


def test_strace_clone3_exit_signal_and_an_unreadable_struct():
    from gorun_kit.trace import parse_strace

    t = parse_strace(strace_text(
        "5 1.000001 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x1}, 88) = 6",
        "5 1.000002 clone3({flags=CLONE_PIDFD, exit_signal=10}, 88) = 7",
        "5 1.000003 clone3(0x7ffd0000, 88) = 8",
        "5 1.000004 clone3() = 9"))
    assert [(s.flags, s.exit_signal) for s in t.spawns] == [
        (F("CLONE_VM", "CLONE_VFORK"), "SIGCHLD"), (F("CLONE_PIDFD"), "SIGUSR1"), (0, None), (0, None)]
    assert t.classify()[t.spawns[0]] == "posix_spawn"


def test_strace_exec_variants():
    from gorun_kit.trace import parse_strace

    t = parse_strace(strace_text(
        f"5 1.000001 execveat(3, {hx(b'/bin/a')}, [{hx(b'a')}], [{hx(b'E=1')}], 0) = 0",
        f"5 1.000002 execve({hx(b'/bin/b')}, [{hx(b'b')}...], []) = 0",
        f"5 1.000003 execve(NULL, [{hx(b'c')}], [{hx(b'E')}...]) = -1 EFAULT (Bad address)",
        f"5 1.000004 execve({hx(b'/bin/d')}, [{hx(b'd')}]) = 0",
        f"5 1.000005 execve({hx(b'/bin/e')}, [], []) = -1",
        f"5 1.000006 execve({hx(b'/bin/f')}, [], [{hx(b'L=' + bytes(3))}]) = 0"))
    a, b, f = t.execs
    assert (a.syscall, a.filename, a.argv, a.envp, a.complete, a.source) == (
        "execveat", "/bin/a", ("a",), ("E=1",), True, "strace")
    assert (b.filename, b.argv, b.complete) == ("/bin/b", ("b",), False)
    assert f.envp_bytes == (b"L=\0\0\0",) and f.complete
    (c,) = t.exec_failures
    assert (c.filename, c.argv, c.envp, c.errno, c.complete) == ("", ("c",), ("E",), "EFAULT", False)


def test_strace_a_resumption_without_its_first_half_is_still_read():
    from gorun_kit.trace import parse_strace

    t = parse_strace(strace_text("5 1.000001 <... clone resumed>flags=SIGCHLD) = 6",
                                 "5 1.000002 <... openat resumed>) = 3"), syscalls=["openat"])
    assert [(s.child_pid, s.flags) for s in t.spawns] == [(6, 17)]
    assert [(c.name, c.args, c.ret) for c in t.syscalls()] == [("openat", (), 3)]


def test_struct_fields_and_strace_args():
    from gorun_kit.trace.strace import STRACE_ARGS, strace_args, struct_fields

    assert struct_fields("{flags=CLONE_VM, set_tid=[1, 2], x} => {parent_tid=[12]}") == {
        "flags": "CLONE_VM", "set_tid": "[1, 2]"}
    for bad in ("0x7ffd", "{a=1", "a=1}"):
        with pytest.raises(ValueError, match="is not a struct as strace prints it"):
            struct_fields(bad)
    assert strace_args() == STRACE_ARGS
    args = strace_args(["openat", "execve", "%file", "openat"])
    assert args[-3] == "trace=clone,clone3,fork,vfork,execve,execveat,openat,%file"
    assert args[-2:] == ("-e", "signal=none")
    for bad in ("", "a,b", "!openat", 5, None):
        with pytest.raises(ValueError, match="is not one syscall name"):
            strace_args([bad])


def test_strace_run_refuses_bad_arguments_before_running():
    from gorun_kit.trace import strace_run

    for cmd in ("ls", b"ls", []):
        with pytest.raises(ValueError, match="cmd must be a non-empty list"):
            strace_run(cmd)
    with pytest.raises(ValueError, match=r"give a list of names, e.g. \['openat'\]"):
        strace_run(["true"], syscalls="openat")


# --- more corners of the model -----------------------------------------------------

def test_load_passes_the_command_and_reads_lone_surrogates(tmp_path):
    p = tmp_path / "t.jsonl"
    exec_line = json.dumps({**RECORDS["exec"], "filename": "/bin/X"}).replace("X", "\udcff", 1)
    p.write_bytes((json.dumps(START) + "\n").encode() + exec_line.encode("utf-8", "surrogatepass") + b"\n")
    t = load(p, command=("c",))
    assert t.command == ("c",) and t.execs[0].filename_bytes == b"/bin/\xff"
    with pytest.raises(TraceFormatError, match="^no 'start' record: this is not a complete tracer output$"):
        from_lines([])
    assert from_lines(jsonl({"type": "start", "pid": 4})).attached is False


def test_env_edits_when_the_new_list_is_the_shorter():
    assert env_edits(["A", "B", "A"], ["A"]) == [[1, 3, []]]
    assert apply_env_edits(("A", "B", "A"), env_edits(["A", "B", "A"], ["A"])) == ("A",)


def test_delta_base_0_before_any_exec_is_empty_and_errors_name_the_record_type():
    t = from_lines(jsonl(DELTA_START, delta(RECORDS["exec"], 0)))
    assert t.execs[0].envp == ()
    broken = {k: v for k, v in delta(RECORDS["exec_failed"]).items() if k != "env_base"}
    with pytest.raises(TraceFormatError, match=r"^line 2: exec_failed record of delta mode lacks env_base"):
        from_lines(jsonl(DELTA_START, broken))


def test_processes_corner_cases():
    t = make_trace(spawn(2, 10, 11, flags=PROBE), run_exec(3, 11), spawn(4, 50, 51, thread=True),
                   task_exit(5, 11, tid=11, last=False), attached=True)
    procs = t.processes()
    assert list(procs) == [10, 11]  # a thread of a process the trace never saw created is no process
    assert procs[11].kind == "go-exec" and procs[11].end_ns is None  # a thread's exit is not the process's end
    life = {(x.kind, x.id): x for x in t.lifetimes()}
    assert life["process", 11].pid == 11 and life["process", 11].end_ns == 5


def test_summary_counts_a_program_run_twice_and_cuts_after_twelve():
    line = make_trace(run_exec(1, 10, "/bin/a"), run_exec(2, 10, "/bin/a"), run_exec(3, 10, "/bin/b")).summary()
    assert line.splitlines()[-1] == "  programs: a x2, b"
    thirteen = make_trace(*[run_exec(i, 10, f"/bin/p{i:02}") for i in range(13)]).summary().splitlines()[-1]
    assert thirteen.endswith("p11 ...")


def test_write_jsonl_writes_compact_lines(tmp_path):
    make_trace(run_exec(2, 10)).write_jsonl(tmp_path / "t.jsonl")
    first, exec_line = (tmp_path / "t.jsonl").read_text().splitlines()
    assert exec_line == json.dumps(run_exec(2, 10).to_dict(), separators=(",", ":"))


def test_stop_names_and_what_each_prediction_counts():
    t = stop_trace(spawn(2, 10, 11), run_exec(3, 11), run_exec(4, 11, source="proc"), run_exec(5, 11),
                   task_exit(6, 11), task_exit(6, 10))
    assert [s.ptrace for s in child_stops(t)] == [
        "PTRACE_EVENT_FORK", "PTRACE_EVENT_STOP", "PTRACE_EVENT_SECCOMP", "PTRACE_EVENT_EXEC", "PTRACE_EVENT_SECCOMP",
        "PTRACE_EVENT_EXEC", "PTRACE_EVENT_SECCOMP", "PTRACE_EVENT_EXEC", "exited (waitpid, not a stop)",
        "signal-delivery stop (SIGCHLD)"]
    counts = {c.kind: c.predicted for c in stop_counts(t)}
    # seccomp: the execs read at entry (not the one read from /proc); SIGCHLD: a parent that ended at the same time
    assert counts["seccomp"] == 2 and counts["exec_event"] == 3 and counts["signal"] == 1
    assert flag_names(0x1, clone3=True) == ("0x1",)
