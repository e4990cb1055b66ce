"""Chrome Trace Event JSON of a timeline: the writer keeps the format's rules
(nesting, flows bound to slices, tracks named and ordered), problems() catches
each kind of malformed document, and `gorun-kit trace --perfetto` writes one."""
from __future__ import annotations

import copy
import json
import math
import os
from collections import Counter, defaultdict

import pytest

from gorun_kit import cli
from gorun_kit.timeline import Arrow, Mark, Span, ThreadJoin, Timeline, chrome

T0 = 1_000


def _timeline(**changes) -> Timeline:
    """A Go process 100 (main thread, thread 101 cloned by it) that spawns process 200."""
    spans = (
        Span(100, 100, "pid 100", "process", T0, 90_000, (("exit_code", "0"),)),
        Span(100, 101, "tid 101", "thread", 5_000, 80_000),
        Span(100, 101, "clone -> minit M1", "creation", 5_000, 6_000, (("creator_tid", "100"),)),
        Span(100, 101, "G1", "goroutine", 10_001, 20_000, (("p", "0"),)),
        Span(100, 101, "syscall", "syscall", 20_000, 30_000),
        Span(100, 101, "P0", "proc", 9_000, 25_000),  # handed over inside the syscall: crosses it
        Span(100, None, "GC (mark phase)", "gc", 40_000, 50_000),
        Span(200, 200, "pid 200", "process", 60_000, 70_000),
    )
    marks = (Mark(100, 100, "exec main", "exec", 2_000, (("argv", "main"),)),
             Mark(100, 101, "exit 0", "exit", 80_000),
             Mark(200, 200, "exec true", "exec", 65_000))
    arrows = (Arrow("thread", 100, 100, 5_000, 100, 101, 5_000),
              Arrow("process", 100, 101, 60_000, 200, 200, 60_000))
    joins = (ThreadJoin(pid=100, tid=100, m=0, creator_tid=None, asked_by_m=None, start_fn="none", reason=None,
                        t_clone=None, t_start=3_000, t_first_event=10_001, t_exit=90_000, exectrace="events"),
             ThreadJoin(pid=100, tid=101, m=1, creator_tid=100, asked_by_m=0, start_fn="runtime.sysmon",
                        reason="sysmon", t_clone=5_000, t_start=6_000, t_first_event=10_001, t_exit=80_000,
                        exectrace="events"))
    fields = dict(command=("main",), root_pid=100, exit_status=0, t0_ns=T0, t_end_ns=90_000, spans=spans,
                  marks=marks, arrows=arrows, names=((100, "main"), (200, "true")), threads=joins,
                  go_version="go1.27.3", kernel="6.1.0", exectrace_from_ns=8_000, notes=("a note",))
    fields.update(changes)
    return Timeline(**fields)


def _by_ph(doc, ph, **match):
    return [e for e in doc["traceEvents"] if e["ph"] == ph and all(e.get(k) == v for k, v in match.items())]


def _slices(doc, pid, tid):
    return _by_ph(doc, "X", pid=pid, tid=tid)


def _encloses(doc, pid, tid, ts):
    return [e for e in _slices(doc, pid, tid) if e["ts"] <= ts < e["ts"] + e["dur"]]


# -- the writer ---------------------------------------------------------------------


def test_the_written_file_is_a_valid_document(tmp_path):
    path = chrome.write(_timeline(), tmp_path / "t.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert chrome.problems(doc) == []
    assert doc["displayTimeUnit"] == "ns"
    phases = [e["ph"] for e in doc["traceEvents"]]
    assert set(phases[:phases.count("M")]) == {"M"}  # metadata first
    assert Counter(phases) == {"M": 10, "X": 6, "i": 3, "b": 2, "e": 2, "s": 2, "f": 2}
    per_track = defaultdict(list)
    for e in doc["traceEvents"]:
        if e["ph"] != "M":
            per_track[(e["pid"], e.get("tid"))].append(e["ts"])
    assert all(ts == sorted(ts) for ts in per_track.values())


def test_times_are_microseconds_since_t0_with_nanoseconds_kept():
    doc = chrome.to_chrome(_timeline())
    g1 = _by_ph(doc, "X", name="G1")[0]
    assert (g1["ts"], g1["dur"]) == (9.001, 9.999)
    assert g1["args"] == {"p": "0"} and g1["cat"] == "goroutine"
    assert _by_ph(doc, "i", name="exec main")[0]["ts"] == 1.0
    assert _by_ph(doc, "i", name="exec main")[0]["s"] == "t"


def test_tracks_are_named_and_ordered_as_the_timeline_orders_them():
    tl = _timeline()
    doc = chrome.to_chrome(tl)
    names = {(e["pid"], e.get("tid")): e["args"]["name"] for e in _by_ph(doc, "M")
             if e["name"] in ("process_name", "thread_name")}
    assert names == {(100, None): "pid 100: main", (200, None): "pid 200: true", (100, 100): "tid 100 M0",
                     (100, 101): "tid 101 M1 (runtime.sysmon)", (200, 200): "tid 200"}
    process_rank = {e["pid"]: e["args"]["sort_index"] for e in _by_ph(doc, "M", name="process_sort_index")}
    thread_rank = {(e["pid"], e["tid"]): e["args"]["sort_index"] for e in _by_ph(doc, "M", name="thread_sort_index")}
    threads = [k for k in tl.tracks() if k[1] is not None]
    assert sorted(threads, key=lambda k: (process_rank[k[0]], thread_rank[k])) == threads
    assert list(process_rank) == list(dict.fromkeys(pid for pid, _ in tl.tracks()))


def test_a_process_wide_span_is_an_async_pair_on_the_process():
    doc = chrome.to_chrome(_timeline())
    (b,) = _by_ph(doc, "b", name="GC (mark phase)")
    (e,) = _by_ph(doc, "e", id=b["id"])
    assert (b["cat"], b["pid"], b["tid"], b["ts"]) == ("gc", 100, 100, 39.0)
    assert (e["name"], e["cat"], e["ts"]) == ("GC (mark phase)", "gc", 49.0)
    assert not _by_ph(doc, "X", name="GC (mark phase)")


def test_a_span_that_would_cross_another_on_its_thread_becomes_async():
    doc = chrome.to_chrome(_timeline())
    assert [x["name"] for x in _slices(doc, 100, 101)] == ["tid 101", "clone -> minit M1", "G1", "syscall"]
    (b,) = _by_ph(doc, "b", name="P0 (tid 101)")
    assert (b["cat"], b["tid"], b["args"]["tid"]) == ("proc", 101, "101")
    assert _by_ph(doc, "e", id=b["id"])[0]["ts"] == 24.0
    # when nothing crosses it, the P stays on the thread
    calm = _timeline(spans=tuple(s for s in _timeline().spans if s.name != "syscall"))
    assert [x["name"] for x in _slices(chrome.to_chrome(calm), 100, 101)] == [
        "tid 101", "clone -> minit M1", "P0", "G1"]


def test_every_flow_end_is_enclosed_by_a_slice_of_its_track():
    doc = chrome.to_chrome(_timeline())
    flows = {}
    for e in _by_ph(doc, "s") + _by_ph(doc, "f"):
        flows.setdefault(e["id"], {})[e["ph"]] = e
    assert sorted(f["s"]["cat"] for f in flows.values()) == ["process-creation", "thread-creation"]
    for f in flows.values():
        assert f["s"]["name"] == f["f"]["name"] and f["f"]["bp"] == "e"
        for end in f.values():
            assert _encloses(doc, end["pid"], end["tid"], end["ts"]), end
    assert not _by_ph(doc, "X", name="clone") and not _by_ph(doc, "X", name="start")


def test_an_uncovered_flow_end_gets_a_one_nanosecond_slice():
    tl = _timeline(arrows=(Arrow("process", 100, 102, 55_000, 200, 200, 59_000),))
    doc = chrome.to_chrome(tl)
    (clone,) = _by_ph(doc, "X", name="clone")
    (start,) = _by_ph(doc, "X", name="start")
    assert (clone["pid"], clone["tid"], clone["ts"], clone["dur"]) == (100, 102, 54.0, 0.001)
    assert (start["pid"], start["tid"], start["ts"], start["cat"]) == (200, 200, 58.0, "process-creation")
    assert chrome.problems(json.loads(json.dumps(doc))) == []
    assert any(e["args"]["name"] == "tid 102" for e in _by_ph(doc, "M", name="thread_name"))


def test_other_data_carries_the_run_and_the_thread_joins():
    other = chrome.to_chrome(_timeline())["otherData"]
    assert (other["command"], other["go_version"], other["kernel"]) == (["main"], "go1.27.3", "6.1.0")
    assert other["t0_ns"] == T0
    assert (other["exectrace_from_ns"], other["notes"]) == (8_000, ["a note"])
    assert [(j["tid"], j["m"], j["reason"]) for j in other["threads"]] == [(100, 0, None), (101, 1, "sysmon")]


def test_a_span_ending_before_it_starts_is_refused():
    bad = _timeline(spans=(Span(100, 100, "pid 100", "process", 5_000, 4_000),))
    with pytest.raises(ValueError, match="ends .* before it starts"):
        chrome.to_chrome(bad)


def test_write_replaces_atomically_and_leaves_nothing_else(tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    path.write_text("old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(OSError, match="disk gone"):
        chrome.write(_timeline(), path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["t.json"]
    monkeypatch.undo()
    chrome.write(_timeline(), path)
    assert os.listdir(tmp_path) == ["t.json"] and json.loads(path.read_text())["traceEvents"]


def test_write_into_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first") as err:
        chrome.write(_timeline(), tmp_path / "nowhere" / "t.json")
    assert str(tmp_path / "nowhere") in str(err.value)
    assert os.listdir(tmp_path) == []


# -- the check ----------------------------------------------------------------------


def _valid() -> dict:
    return {"traceEvents": [
        {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "p"}},
        {"ph": "X", "name": "a", "ts": 0.0, "dur": 5.0, "pid": 1, "tid": 1},
        {"ph": "B", "name": "b", "ts": 1.0, "pid": 1, "tid": 1},
        {"ph": "s", "name": "fl", "cat": "c", "id": 7, "ts": 1.5, "pid": 1, "tid": 1},
        {"ph": "E", "name": "b", "ts": 2.0, "pid": 1, "tid": 1},
        {"ph": "i", "name": "m", "s": "t", "ts": 3.0, "pid": 1, "tid": 1},
        {"ph": "b", "name": "as", "cat": "c", "id": 1, "ts": 0.0, "pid": 1, "tid": 2},
        {"ph": "f", "name": "fl", "cat": "c", "id": 7, "ts": 2.0, "pid": 1, "tid": 2, "bp": "e"},
        {"ph": "e", "name": "as", "cat": "c", "id": 1, "ts": 4.0, "pid": 1, "tid": 2},
    ]}


def _ev(doc, ph):
    return next(e for e in doc["traceEvents"] if e["ph"] == ph)


def _bad_ph(d): _ev(d, "i")["ph"] = "Q"
def _no_dur(d): del _ev(d, "X")["dur"]
def _negative_dur(d): _ev(d, "X")["dur"] = -1.0
def _decreasing_ts(d): _ev(d, "i")["ts"] = 0.5
def _e_without_b(d): d["traceEvents"].remove(_ev(d, "B"))
def _b_without_e(d): d["traceEvents"].remove(_ev(d, "E"))
def _e_other_name(d): _ev(d, "E")["name"] = "z"
def _async_unended(d): d["traceEvents"].remove(_ev(d, "e"))
def _async_wrong_id(d): _ev(d, "e")["id"] = 2
def _flow_without_s(d): d["traceEvents"].remove(_ev(d, "s"))
def _flow_without_f(d): d["traceEvents"].remove(_ev(d, "f"))
def _f_before_s(d): _ev(d, "f")["ts"] = 1.0
def _f_unbound(d): del _ev(d, "f")["bp"]
def _nan(d): _ev(d, "i")["ts"] = math.nan
def _nan_in_args(d): _ev(d, "i")["args"] = {"x": math.inf}
def _crossing(d): d["traceEvents"].insert(2, {"ph": "X", "name": "x", "ts": 0.5, "dur": 10.0, "pid": 1, "tid": 1})
def _bad_metadata(d): _ev(d, "M")["name"] = "colour"
def _no_list(d): d["traceEvents"] = {"ph": "X"}
def _bad_scope(d): _ev(d, "i")["s"] = "x"


@pytest.mark.parametrize("break_it, words", [
    (_bad_ph, "ph is not a phase"), (_no_dur, "no 'dur'"), (_negative_dur, "negative"),
    (_decreasing_ts, "must not decrease"), (_e_without_b, "ends no open B"), (_b_without_e, "never ended by an E"),
    (_e_other_name, "names differ"), (_async_unended, "never ended by an e"), (_async_wrong_id, "ends no open b"),
    (_flow_without_s, "0 start events"), (_flow_without_f, "no end event"), (_f_before_s, "before its start"),
    (_f_unbound, "bp"), (_nan, "not finite"), (_nan_in_args, "not finite"), (_crossing, "must nest"),
    (_bad_metadata, "metadata name"), (_no_list, "not a list"), (_bad_scope, "scope"),
])
def test_problems_names_each_broken_rule(break_it, words):
    doc = _valid()
    assert chrome.problems(doc) == []
    broken = copy.deepcopy(doc)
    break_it(broken)
    found = chrome.problems(broken)
    assert found and any(words in p for p in found), found


def test_problems_accepts_the_array_form_and_caps_its_list():
    assert chrome.problems(_valid()["traceEvents"]) == []
    many = [{"ph": "Q", "ts": 0, "pid": 1, "tid": 1}] * 80
    found = chrome.problems({"traceEvents": many})
    assert len(found) == 51 and found[-1] == "... and 30 more"


# -- gorun-kit trace --perfetto -------------------------------------------------------


@pytest.mark.parametrize("extra, words", [
    (["--perfetto", "OUT.txt"], "name a .json file"),
    (["--strace", "--perfetto", "OUT.json"], "not --strace"),
])
def test_trace_perfetto_refuses_before_running(tmp_path, capsys, extra, words):
    extra = [x.replace("OUT", str(tmp_path / "t")) for x in extra]
    assert cli.main(["trace", *extra, "--", "/bin/true"]) == 2
    assert words in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.live
def test_trace_perfetto_writes_the_process_tree(tmp_path, capsys):
    out = tmp_path / "sh.json"
    assert cli.main(["trace", "--perfetto", str(out), "--", "sh", "-c", "/bin/true; /bin/true"]) == 0
    assert str(out) in capsys.readouterr().err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert chrome.problems(doc) == []
    names = [e["args"]["name"] for e in _by_ph(doc, "M", name="process_name")]
    assert len(names) == 3 and sum(n.endswith(": true") for n in names) == 2, names
    starts = _by_ph(doc, "s", cat="process-creation")
    ends = _by_ph(doc, "f", cat="process-creation")
    assert len(starts) == 2 and sorted(e["id"] for e in ends) == sorted(e["id"] for e in starts)
    assert os.listdir(tmp_path) == ["sh.json"]
