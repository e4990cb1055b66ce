"""The edges of the student/checker channel (gorun_kit.course.rpc): the limits on what
crosses, the exceptions that come back, and what each side does with a peer that
breaks the protocol. The peer is either the real other side in a thread or a socket
this test writes to by hand."""
from __future__ import annotations

import dataclasses
import json
import socket
import threading
from pathlib import PurePath, PurePosixPath

import pytest
from hypothesis import given, settings, strategies as st

from gorun_kit.course import rpc
from gorun_kit.course.selfcheck import Check
from test_grade_rpc import student  # noqa: F401  (the served student side)


# ---------------------------------------------------------------------------
# values


def test_integers_beyond_double_precision_travel_as_text():
    edge = 1 << 53
    assert rpc.encode(edge - 1) == edge - 1 and rpc.encode(-(edge - 1)) == -(edge - 1)
    assert rpc.encode(edge) == {"int": str(edge)} and rpc.encode(-edge) == {"int": str(-edge)}
    assert rpc.decode(rpc.encode(edge)) == edge
    assert json.loads(json.dumps(rpc.encode(3 ** 200))) == {"int": str(3 ** 200)}
    assert rpc.decode({"int": "-" + "9" * 4000}) == -int("9" * 4000)
    for bad in ({"int": "9" * 5000}, {"int": 5}):
        with pytest.raises(rpc.ProtocolError, match=r"^a value of kind 'int' is not accepted here$"):
            rpc.decode(bad)


@pytest.mark.parametrize("data", [{"int": "12x"}, {"int": ""}, {"int": "9" * 4999}, {"bytes": "not base64!"},
                                  {"bytes": "YWI"}])
def test_a_malformed_number_or_byte_string_is_a_protocol_error(data):
    # not a ValueError, which a check could take for one the student's function raised
    with pytest.raises(rpc.ProtocolError, match="malformed"):
        rpc.decode(data)


def test_floats_that_json_cannot_hold_travel_as_text():
    assert rpc.encode(1.5) == 1.5 and rpc.encode(-0.0) == -0.0
    assert rpc.encode(float("inf")) == {"float": "inf"} and rpc.encode(float("-inf")) == {"float": "-inf"}
    assert rpc.encode(float("nan")) == {"float": "nan"}
    assert rpc.decode({"float": "-inf"}) == float("-inf") and rpc.decode({"float": "inf"}) == float("inf")
    back = rpc.decode(rpc.encode(float("nan")))
    assert back != back
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"float": "1e999"})


def test_bytes_and_bytearrays_arrive_as_bytes_and_bad_base64_is_refused():
    assert rpc.decode(rpc.encode(bytearray(b"\x00\xff"))) == b"\x00\xff"
    assert rpc.encode(b"ab") == {"bytes": "YWI="}
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"bytes": 12})


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_is_limited_to_the_same_depth_on_both_sides():
    deepest = _nested(rpc._MAX_DEPTH)
    assert rpc.decode(rpc.encode(deepest)) == deepest
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.encode(_nested(rpc._MAX_DEPTH + 1))
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.decode(_nested(rpc._MAX_DEPTH + 1))
    # every container kind counts a level
    for wrap in (lambda v: (v,), lambda v: {0: v}, lambda v: {"k": v}):
        value = 1
        for _ in range(rpc._MAX_DEPTH + 1):
            value = wrap(value)
        with pytest.raises(rpc.ProtocolError):
            rpc.encode(value)


def test_paths_and_records_cross_only_where_allowed():
    assert rpc.encode(PurePosixPath("/a/b"), records=True) == {"path": "/a/b"}
    assert rpc.decode({"path": "/a/b"}, records=True) == PurePath("/a/b")
    with pytest.raises(rpc.ProtocolError, match=r"^a value of type PurePosixPath cannot be passed between the student's code and the checks \(use None, bool, int, float, str, bytes, list, tuple, set or dict\)$"):
        rpc.encode(PurePosixPath("/a/b"))
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"path": "/a/b"})
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"path": 1}, records=True)
    check = Check("c1", 2.0, "passed", "", True)
    data = rpc.encode({"c": [check]}, records=True)
    assert data == {"dict": [["c", [{"record": "gorun_kit.course.selfcheck:Check",
                                     "fields": {"grade_id": "c1", "points": 2.0, "status": "passed",
                                                "detail": "", "hidden": True}}]]]}
    assert rpc.decode(data, records=True) == {"c": [check]}
    with pytest.raises(rpc.ProtocolError, match="Check cannot be passed"):
        rpc.encode(check)
    with pytest.raises(rpc.ProtocolError):
        rpc.decode(data)
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"record": "gorun_kit.course.selfcheck:Check", "fields": [1]}, records=True)


def test_only_the_kits_dataclass_instances_are_records():
    @dataclasses.dataclass
    class Mine:
        x: int = 1
    with pytest.raises(rpc.ProtocolError, match="Mine cannot be passed"):
        rpc.encode(Mine(), records=True)
    with pytest.raises(rpc.ProtocolError, match="type cannot be passed"):
        rpc.encode(Check, records=True)
    for name in ("os:system", "gorun_kit.course.rpc:encode", "gorun_kit.course.selfcheck:Check()",
                 "gorun_kit.course.selfcheck:", "xgorun_kit.course.selfcheck:Check",
                 "gorun_kit.course.selfcheck:x:Check", "gorun_kit.no_such_module:Check",
                 "gorun_kit.course.selfcheck:NoSuchRecord",
                 "pstats:FunctionProfile"):  # a dataclass, but not the kit's
        with pytest.raises(rpc.ProtocolError, match="not one of the kit's records"):
            rpc.decode({"record": name, "fields": {}}, records=True)


def test_callables_become_numbered_callbacks_only_on_the_checkers_side():
    callbacks: dict = {}
    first, second = (lambda: 1), (lambda: 2)
    assert rpc.encode([first, second], callbacks=callbacks) == [{"callback": 1}, {"callback": 2}]
    assert callbacks == {1: first, 2: second}
    with pytest.raises(rpc.ProtocolError, match="function cannot be passed"):
        rpc.encode(first)
    assert rpc.decode({"callback": 2}, call_back=lambda ref: ("ref", ref)) == ("ref", 2)
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"callback": "2"}, call_back=lambda ref: ref)
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"callback": 2})


def test_the_refusals_say_what_was_refused():
    with pytest.raises(rpc.ProtocolError, match=r"^malformed value '\{\}'$"):
        rpc.decode({})
    with pytest.raises(rpc.ProtocolError, match="^malformed value \"b'" + "x" * 78 + "\"$"):
        rpc.decode(b"x" * 200)
    with pytest.raises(rpc.ProtocolError, match=r"^malformed int '12x'$"):
        rpc.decode({"int": "12x"})
    with pytest.raises(rpc.ProtocolError, match=r"^malformed bytes 'YWI' \(not base64\)$"):
        rpc.decode({"bytes": "YWI"})
    with pytest.raises(rpc.ProtocolError, match=r"^not one of the kit's records: 'os:system'$"):
        rpc.decode({"record": "os:system", "fields": {}}, records=True)
    with pytest.raises(rpc.ProtocolError, match=r"^not one of the kit's records: 'gorun_kit.course.rpc:encode'$"):
        rpc.decode({"record": "gorun_kit.course.rpc:encode", "fields": {}}, records=True)


@pytest.mark.parametrize("data", [{}, {"a": 1, "b": 2, "c": 3}, {"set": "ab"}, {"tuple": 1}, {"dict": {"a": 1}},
                                  {"what": 1}, b"raw", {"frozenset": None}])
def test_malformed_values_are_refused(data):
    with pytest.raises(rpc.ProtocolError):
        rpc.decode(data, records=True, call_back=lambda ref: ref)


def test_a_value_and_a_second_key_decode_by_the_first():
    assert rpc.decode({"tuple": [1, 2], "x": 0}) == (1, 2)
    assert rpc.decode({"set": [1, 1, 2]}) == {1, 2} and type(rpc.decode({"frozenset": []})) is frozenset


@given(st.recursive(st.integers() | st.text(max_size=3) | st.binary(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner)
                    | st.dictionaries(st.text(max_size=2), inner, max_size=2), max_leaves=8))
@settings(max_examples=60, deadline=None)
def test_values_survive_a_real_json_line(value):
    line = json.dumps(rpc.encode(value), separators=(",", ":"))
    assert rpc.decode(json.loads(line)) == value


# ---------------------------------------------------------------------------
# exceptions


def test_an_error_keeps_four_plain_arguments_and_a_cut_text():
    exc = ValueError(1, "two", b"3", 4.0, "five")
    data = rpc.encode_error(exc)
    assert data["type"] == "ValueError" and data["args"] == [1, "two", {"bytes": "Mw=="}, 4.0]
    assert data["text"] == str(exc)
    back = rpc.decode_error(data)
    assert type(back) is ValueError and back.args == (1, "two", b"3", 4.0)
    odd = rpc.encode_error(KeyError(object()))
    assert odd["args"][0].startswith("<object object at")
    class Long:
        def __str__(self):
            return "y" * 3000
    assert rpc.encode_error(RuntimeError(Long()))["args"] == ["y" * 2000]
    long = rpc.encode_error(RuntimeError("x" * 3000, object()))
    assert long["text"] == str(RuntimeError("x" * 3000, object()))[:2000] and len(long["args"][1]) <= 2000


@pytest.mark.parametrize("name", ["KeyboardInterrupt", "SystemExit", "BaseException", "StopIteration",
                                  "StopAsyncIteration", "GeneratorExit", "Sneaky", "print", "True", "Warning2"])
def test_anything_but_a_plain_builtin_exception_arrives_as_student_error(name):
    back = rpc.decode_error({"type": name, "args": ["a"], "text": "the text"})
    assert type(back) is rpc.StudentError and str(back) == f"{name}: the text"


def test_builtin_exceptions_keep_their_type():
    for cls in (OSError, UserWarning, ZeroDivisionError, NotImplementedError):
        back = rpc.decode_error(rpc.encode_error(cls("m")))
        assert type(back) is cls and back.args == ("m",)
    os_error = rpc.decode_error(rpc.encode_error(FileNotFoundError(2, "gone", "/x")))
    assert type(os_error) is FileNotFoundError and (os_error.errno, os_error.strerror) == (2, "gone")


def test_exceptions_that_cannot_be_rebuilt_or_decoded_still_arrive():
    # UnicodeDecodeError needs five arguments of given types
    back = rpc.decode_error({"type": "UnicodeDecodeError", "args": ["only one"], "text": "bad byte"})
    assert type(back) is rpc.StudentError and str(back) == "UnicodeDecodeError: bad byte"
    back = rpc.decode_error({"type": "ValueError", "args": [{"what": 1}], "text": "undecodable"})
    assert type(back) is ValueError and back.args == ("undecodable",)
    back = rpc.decode_error({"type": "ValueError", "args": [{"what": 1}]})
    assert type(back) is ValueError and back.args == ("",)
    back = rpc.decode_error({})
    assert type(back) is Exception and back.args == ()
    back = rpc.decode_error({"type": "Nope", "text": "y" * 3000})
    assert type(back) is rpc.StudentError and str(back) == ("Nope: " + "y" * 3000)[:2000]
    assert str(rpc.decode_error({"type": "Nope"})) == "Nope: "


# ---------------------------------------------------------------------------
# the wire


def test_a_message_over_the_limit_is_neither_sent_nor_received(monkeypatch):
    monkeypatch.setattr(rpc, "MAX_MESSAGE", 40)
    a, b = socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)
    with a, b:
        ca, cb = rpc.Channel(a), rpc.Channel(b)
        fits = {"v": "x" * (40 - len('{"v":""}\n'))}
        ca.send(fits)
        assert cb.receive() == fits
        with pytest.raises(rpc.ProtocolError, match="^a message of 41 bytes is over the limit of 40$"):
            ca.send({"v": fits["v"] + "x"})
        b.sendall(json.dumps({"v": "y" * 40}).encode() + b"\n")
        with pytest.raises(rpc.ProtocolError, match="^a message over the size limit, or cut short$"):
            ca.receive()


def test_a_message_cut_short_or_not_an_object_is_refused_and_a_hang_up_is_eof():
    a, b = socket.socketpair()
    a.settimeout(5)
    with a:
        channel = rpc.Channel(a)
        b.sendall(b'{"op": "return"}\n' + b"not json\n" + b"17\n" + b'{"op": "cut')
        assert channel.receive() == {"op": "return"}
        with pytest.raises(rpc.ProtocolError, match="^a message that is not JSON: "):
            channel.receive()
        with pytest.raises(rpc.ProtocolError, match="^a message that is not a JSON object$"):
            channel.receive()
        b.close()
        with pytest.raises(rpc.ProtocolError, match="^a message over the size limit, or cut short$"):
            channel.receive()
        with pytest.raises(EOFError, match="^the other side closed the channel$"):
            channel.receive()


def test_messages_are_compact_json_lines():
    a, b = socket.socketpair()
    with a, b:
        rpc.Channel(a).send({"op": "call", "args": [1, 2]})
        assert b.recv(100) == b'{"op":"call","args":[1,2]}\n'


# ---------------------------------------------------------------------------
# the two sides


def test_a_value_that_cannot_cross_is_a_type_error_naming_it(student):
    handle, ns = student
    ns.update(handle_=open, ok=(1, 2))
    ns["lock"] = threading.Lock()
    with pytest.raises(TypeError, match="^lock: a value of type lock cannot be passed"):
        handle.describe("lock")
    assert handle.describe("ok") == {"kind": "value", "value": (1, 2)}
    assert handle.describe("handle_") == {"kind": "callable", "value": None}
    assert handle.describe("gone") == {"kind": "missing", "value": None}


def test_calls_pass_keywords_records_and_callbacks_and_report_what_fails(student):
    handle, ns = student
    ns.update(by_keyword=lambda *, cb, check: cb(check.grade_id))
    assert handle.call("by_keyword", (), {"cb": lambda gid: gid + "!", "check": Check("k1", 1.0, "passed")}) == "k1!"
    ns.update(kw=lambda *a, **k: [list(a), sorted(k.items())], grade_id=lambda c: c.grade_id,
              back=lambda f, x: f(x, y=2), give=lambda: threading.Lock())
    assert handle.call("kw", (1,), {"b": 2}) == [[1], [("b", 2)]]
    assert handle.proxy("grade_id")(Check("g9", 1.0, "failed")) == "g9"
    assert handle.proxy("back")(lambda x, y: x * 10 + y, 4) == 42
    with pytest.raises(NameError, match="^name 'nothing' is not defined$"):
        handle.call("nothing", (), {})
    with pytest.raises(TypeError, match="^give returned a value of type lock"):
        handle.call("give", (), {})


def test_a_callback_that_raises_raises_in_the_students_code(student):
    handle, ns = student

    def student(peek):
        try:
            return peek(1)
        except KeyError as exc:
            return f"caught {exc.args[0]}"
    ns["student"] = student

    def peek(_):
        raise KeyError("missing page")
    assert handle.proxy("student")(peek) == "caught missing page"


def test_the_proxy_is_named_after_the_students_function(student):
    handle, ns = student
    ns["area"] = lambda w, h: w * h
    proxy = handle.proxy("area")
    assert proxy.__name__ == proxy.__qualname__ == "area"
    assert proxy.__doc__ == "the student's area, called in the student's sandbox"
    assert proxy(w=3, h=4) == 12


def test_bind_drops_a_stale_name_the_student_no_longer_defines(student):
    handle, ns = student
    ns["v"] = 5
    mine = {"gone": "stale", "v": 0}
    assert handle.bind(["gone", "v"], mine) == ["gone"]
    assert mine == {"v": 5}


def _peer(script):
    """A checker handle whose student is a thread answering each message with ``script(message)``."""
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    channel = rpc.Channel(theirs)

    def run():
        try:
            while True:
                message = channel.receive()
                for reply in script(message):
                    theirs.sendall(reply if isinstance(reply, bytes) else json.dumps(reply).encode() + b"\n")
        except (EOFError, OSError):
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return rpc.Student(rpc.Channel(ours)), ours, thread


def _hang_up(ours, thread):
    ours.shutdown(socket.SHUT_RDWR)
    ours.close()
    thread.join(5)


def test_the_checker_refuses_a_student_that_breaks_the_protocol():
    seen = []

    def script(message):
        seen.append(message)
        if message.get("op") == "return":  # the answer to a call-back
            return []
        if message.get("op") == "describe":
            if message["name"] == "raise_bare":
                return [{"op": "raise"}]
            if message["name"] == "callable":
                return [{"op": "described", "kind": "callable", "value": 5}]
            return [{"op": "described", "kind": message["name"]}]
        if message["name"] == "raise":
            return [{"op": "raise", "error": {"type": "ValueError", "args": ["no"]}}]
        if message["name"] == "stranger":
            return [{"op": "hello"}]
        if message["name"] == "long_stranger":
            return [{"op": "hello", "pad": "p" * 300}]
        if message["name"] == "raise_bare":
            return [{"op": "raise"}]
        if message["name"] == "callback_bare":
            return [{"op": "callback", "ref": 1}, {"op": "return", "value": "bare done"}]
        if message["name"] == "unknown_ref":
            return [{"op": "callback", "ref": 99, "args": [], "kwargs": {"dict": []}}]
        if message["name"] == "bad_args":
            return [{"op": "callback", "ref": 1, "args": {"tuple": [1]}, "kwargs": {"dict": []}}]
        if message["name"] == "bad_kwargs":
            return [{"op": "callback", "ref": 1, "args": [], "kwargs": {"dict": [[1, 2]]}}]
        if message["name"] == "not_dict":
            return [{"op": "callback", "ref": 1, "args": [], "kwargs": [1]}]
        if message["name"] == "callback_then_return":
            return [{"op": "callback", "ref": 1, "args": [3]}, {"op": "return", "value": "done"}]
        return [{"op": "return"}]

    handle, ours, thread = _peer(script)
    try:
        assert handle.describe("missing") == {"kind": "missing", "value": None}
        assert handle.describe("callable") == {"kind": "callable", "value": None}
        with pytest.raises(Exception) as info:
            handle.describe("raise_bare")
        assert type(info.value) is Exception
        with pytest.raises(rpc.ProtocolError, match="^malformed description of 'weird'$"):
            handle.describe("weird")
        with pytest.raises(ValueError, match="no"):
            handle.call("raise", (), {})
        with pytest.raises(rpc.ProtocolError, match=r"^unexpected message from the student's process: \{'op': 'hello'\}$"):
            handle.call("stranger", (), {})
        with pytest.raises(rpc.ProtocolError, match="unexpected message"):
            handle.call("unknown_ref", (print,), {})
        for name in ("bad_args", "bad_kwargs", "not_dict"):
            with pytest.raises(rpc.ProtocolError, match="^malformed call-back arguments$"):
                handle.call(name, (print,), {})
        with pytest.raises(rpc.ProtocolError) as info:
            handle.call("long_stranger", (), {})
        long = {"op": "hello", "pad": "p" * 300}
        assert str(info.value) == "unexpected message from the student's process: " + str(long)[:120]
        with pytest.raises(Exception) as info:
            handle.call("raise_bare", (), {})
        assert type(info.value) is Exception
        called = []
        assert handle.call("callback_bare", (lambda *a, **k: called.append((a, k)),), {}) == "bare done"
        assert called == [((), {})]
        got = []
        assert handle.call("callback_then_return", (got.append,), {}) == "done"
        assert got == [3]
        assert handle.call("plain", (), {}) is None
    finally:
        _hang_up(ours, thread)
    # a call-back's own result goes back as a return message
    assert {"op": "return", "value": None} in seen


def test_a_describe_answered_with_an_error_raises_it():
    handle, ours, thread = _peer(lambda m: [{"op": "raise", "error": {"type": "TypeError", "args": ["x: no"]}}])
    try:
        with pytest.raises(TypeError, match="x: no"):
            handle.describe("x")
    finally:
        _hang_up(ours, thread)
    handle, ours, thread = _peer(lambda m: [{"op": "other", "kind": "value"}])
    try:
        with pytest.raises(rpc.ProtocolError):
            handle.describe("x")
    finally:
        _hang_up(ours, thread)


def _student_side(namespace):
    """(checker's raw channel, its socket, the student's serving thread)."""
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    server = threading.Thread(target=rpc.serve, args=(rpc.Channel(theirs), namespace), daemon=True)
    server.start()
    return rpc.Channel(ours), ours, server, theirs


def test_the_student_side_answers_an_unknown_request_and_a_raw_call():
    channel, ours, server, theirs = _student_side({"f": lambda *a, **k: [list(a), k], "None": 1, "XXXX": 2})
    try:
        channel.send({"op": "dance"})
        reply = channel.receive()
        assert reply["op"] == "raise" and reply["error"]["type"] == "ValueError"
        assert reply["error"]["text"] == "unknown request 'dance'"
        channel.send({"op": "call", "name": "f"})  # no args or kwargs: none
        assert channel.receive() == {"op": "return", "value": [[], {"dict": []}]}
        channel.send({"op": "describe"})  # no name: the empty name, which is missing
        assert channel.receive() == {"op": "described", "kind": "missing"}
        channel.send({"op": "call", "name": "f", "args": [{"path": "/p"}], "kwargs": {"dict": []}})
        reply = channel.receive()  # a path reaches the student, but cannot come back
        assert reply["op"] == "raise" and reply["error"]["type"] == "TypeError"
        assert reply["error"]["text"].startswith("f returned a value of type")
    finally:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()
    server.join(5)
    assert not server.is_alive()
    theirs.close()


def test_the_student_side_ends_when_the_checker_hangs_up_during_a_call():
    started = threading.Event()

    def slow(peek):
        started.set()
        return peek(1)  # the checker is gone before it answers
    channel, ours, server, theirs = _student_side({"slow": slow})
    channel.send({"op": "call", "name": "slow", "args": [{"callback": 1}], "kwargs": {"dict": []}})
    assert channel.receive() == {"op": "callback", "ref": 1, "args": [1], "kwargs": {"dict": []}}
    ours.shutdown(socket.SHUT_RDWR)
    ours.close()
    server.join(5)
    assert started.is_set() and not server.is_alive()
    theirs.close()


def test_a_callback_answered_with_an_error_raises_it_in_the_student():
    channel, ours, server, theirs = _student_side({"use": lambda cb: cb()})
    try:
        channel.send({"op": "call", "name": "use", "args": [{"callback": 1}], "kwargs": {"dict": []}})
        assert channel.receive()["op"] == "callback"
        channel.send({"op": "raise", "error": rpc.encode_error(LookupError("not mapped"))})
        reply = channel.receive()
        assert reply["op"] == "raise" and reply["error"]["type"] == "LookupError"
        assert reply["error"]["args"] == ["not mapped"]
        channel.send({"op": "call", "name": "use", "args": [{"callback": 2}], "kwargs": {"dict": []}})
        assert channel.receive()["ref"] == 2
        channel.send({"op": "return", "value": {"tuple": [1]}})
        assert channel.receive() == {"op": "return", "value": {"tuple": [1]}}
        channel.send({"op": "call", "name": "use", "args": [{"callback": 3}], "kwargs": {"dict": []}})
        assert channel.receive()["ref"] == 3
        channel.send({"op": "raise"})
        reply = channel.receive()
        assert reply["op"] == "raise" and reply["error"]["type"] == "Exception"
    finally:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()
    server.join(5)
    theirs.close()


def test_plain_sets_and_records_inside_sets_and_keys_cross():
    assert rpc.encode({1}) == {"set": [1]}
    back = rpc.decode(rpc.encode({1, 2}))
    assert back == {1, 2} and type(back) is set
    check = Check("s1", 1.0, "passed")
    for value in (frozenset({check}), {check: 1}, {(check,): [check]}):
        assert rpc.decode(rpc.encode(value, records=True), records=True) == value
    deep = frozenset({_nested_tuple(rpc._MAX_DEPTH)})
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.encode(deep)
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.decode({"frozenset": [rpc.encode(_nested_tuple(rpc._MAX_DEPTH))]})


def _nested_tuple(depth: int):
    value: tuple = ()
    for _ in range(depth):
        value = (value,)
    return value


@pytest.mark.parametrize("text", ["YW!I=", "Y W I =", "YWI=\n", "YW*I="])
def test_base64_with_characters_outside_its_alphabet_is_refused(text):
    # a lenient decoder drops the stray characters and reads b"ab"; a message holding them is malformed
    with pytest.raises(rpc.ProtocolError, match=r"^malformed bytes .* \(not base64\)$"):
        rpc.decode({"bytes": text})


def test_a_refused_int_or_byte_string_is_quoted_to_80_characters():
    for data, what in (({"int": "7" * 100 + "x"}, "int"), ({"bytes": "!" * 100}, "bytes")):
        with pytest.raises(rpc.ProtocolError) as info:
            rpc.decode(data)
        quoted = str(info.value).split("'")[1]
        assert str(info.value).startswith(f"malformed {what} '") and quoted == data[what][:80]


def test_record_fields_carry_records_paths_callbacks_and_the_depth():
    inner = Check("in", 1.0, "passed")
    outer = Check(inner, PurePosixPath("/x"), "passed")  # fields hold whatever they are given
    data = rpc.encode(outer, records=True)
    assert data["fields"]["grade_id"]["record"] == "gorun_kit.course.selfcheck:Check"
    assert data["fields"]["points"] == {"path": "/x"}
    assert rpc.decode(data, records=True) == Check(inner, PurePath("/x"), "passed")
    callbacks: dict = {}
    hook = lambda: 1  # noqa: E731
    with_hook = rpc.encode(Check("h", 1.0, hook), callbacks=callbacks, records=True)
    assert with_hook["fields"]["status"] == {"callback": 1} and callbacks == {1: hook}
    back = rpc.decode(with_hook, records=True, call_back=lambda ref: ("ref", ref))
    assert back.status == ("ref", 1)
    deep = Check(_nested(rpc._MAX_DEPTH), 1.0, "passed")
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.encode(deep, records=True)
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.decode({"record": "gorun_kit.course.selfcheck:Check",
                    "fields": {"grade_id": rpc.encode(_nested(rpc._MAX_DEPTH)), "points": 1.0, "status": "p"}},
                   records=True)


def test_sets_and_dict_keys_carry_callbacks_and_the_depth():
    callbacks: dict = {}
    hook = lambda: 1  # noqa: E731
    assert rpc.encode({hook}, callbacks=callbacks) == {"set": [{"callback": 1}]} and callbacks == {1: hook}
    assert rpc.encode({hook: 1}, callbacks={}) == {"dict": [[{"callback": 1}, 1]]}
    assert rpc.decode({"set": [{"callback": 3}]}, call_back=lambda ref: ("ref", ref)) == {("ref", 3)}
    assert rpc.decode({"dict": [[{"callback": 3}, 1]]}, call_back=lambda ref: ("ref", ref)) == {("ref", 3): 1}
    assert rpc.decode({"frozenset": [{"path": "/a"}]}, records=True) == frozenset({PurePath("/a")})
    assert rpc.decode({"dict": [[{"path": "/a"}, 1]]}, records=True) == {PurePath("/a"): 1}
    deep_key = {_nested_tuple(rpc._MAX_DEPTH): 1}
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.encode(deep_key)
    with pytest.raises(rpc.ProtocolError, match="^value nested too deeply$"):
        rpc.decode({"dict": [[rpc.encode(_nested_tuple(rpc._MAX_DEPTH)), 1]]})
