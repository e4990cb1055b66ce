"""The channel between the student's process and the checks (gorun_kit.course.rpc),
over a real socket pair, the student's side in a thread."""
from __future__ import annotations

import errno
import socket
import threading

import pytest
from hypothesis import given, settings, strategies as st

from gorun_kit.course import rpc
from gorun_kit.threads.records import MRecord

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.frozensets(st.integers() | st.text(), max_size=4)
    | st.dictionaries(st.integers() | st.text() | st.tuples(st.integers()), inner, max_size=4),
    max_leaves=20)


@given(plain)
@settings(max_examples=200, deadline=None)
def test_plain_values_cross_unchanged(value):
    back = rpc.decode(rpc.encode(value))
    assert back == value and type(back) is type(value)


@pytest.fixture
def student():
    """A Student handle on a namespace served in a thread; yields (handle, namespace)."""
    ours, theirs = socket.socketpair()
    ours.settimeout(5)  # a broken serve fails the test instead of hanging it
    namespace: dict = {}
    server = threading.Thread(target=rpc.serve, args=(rpc.Channel(theirs), namespace), daemon=True)
    server.start()
    yield rpc.Student(rpc.Channel(ours)), namespace
    ours.shutdown(socket.SHUT_RDWR)  # the channel's reader keeps the socket open past close()
    ours.close()
    server.join(timeout=5)
    assert not server.is_alive()
    theirs.close()


def test_calls_values_and_missing_names(student):
    handle, ns = student
    ns.update(add=lambda a, b=1: a + b, ANSWER="/usr/bin/fmt", bad=object())
    mine: dict = {}
    assert handle.bind(["add", "ANSWER", "nothing"], mine) == ["nothing"]
    assert mine["add"](2, b=3) == 5 and mine["ANSWER"] == "/usr/bin/fmt" and "nothing" not in mine
    with pytest.raises(TypeError, match="cannot be passed"):
        handle.bind(["bad"], mine)


def test_callbacks_run_in_the_checker_and_count(student):
    handle, ns = student
    calls = []

    def peek(addr):
        calls.append(addr)
        if addr >= 0x2000:
            raise OSError(errno.EIO, "not mapped")
        return addr * 2

    def read_two(peek, addr):
        return [peek(addr), peek(addr + 8)]

    def read_far(peek):
        return peek(0x3000)

    ns.update(read_two=read_two, read_far=read_far)
    assert handle.proxy("read_two")(peek, 0x10) == [0x20, 0x30] and calls == [0x10, 0x18]
    with pytest.raises(OSError) as info:
        handle.proxy("read_far")(peek)
    assert info.value.errno == errno.EIO


def test_student_errors_arrive_as_data(student):
    handle, ns = student

    class Sneaky(Exception):
        def __str__(self):
            return "raised by the student"

    def not_written():
        raise NotImplementedError("write it")

    def sneaky():
        raise Sneaky()

    def lying():
        class Yes:
            def __eq__(self, other):
                return True
        return Yes()

    ns.update(not_written=not_written, sneaky=sneaky, lying=lying)
    with pytest.raises(NotImplementedError, match="write it"):
        handle.proxy("not_written")()
    with pytest.raises(rpc.StudentError, match="Sneaky: raised by the student"):
        handle.proxy("sneaky")()
    with pytest.raises(TypeError, match="cannot be passed"):
        handle.proxy("lying")()


def test_records_go_to_the_student_not_back(student):
    handle, ns = student
    blank = {f: None for f in MRecord.__dataclass_fields__}
    m = MRecord(**{**blank, "m": 3, "start_fn": "runtime.sysmon", "extra": (("syscall", 1),), "asked_by_m": 0})
    ns.update(echo=lambda r: r, describe=lambda r: (type(r).__name__, r.m, r.get("syscall")))
    assert handle.proxy("describe")(m) == ("MRecord", 3, 1)
    with pytest.raises(TypeError, match="cannot be passed"):
        handle.proxy("echo")(m)


def test_malformed_messages_are_refused():
    for data in ({"record": "os:system", "fields": {}}, {"callback": 1}, {"what": 1}, {"int": "9" * 6000}):
        with pytest.raises(rpc.ProtocolError):
            rpc.decode(data)
    with pytest.raises(rpc.ProtocolError):
        rpc.decode({"record": "os:system", "fields": {}}, records=True)
    a, b = socket.socketpair()
    with a, b:
        b.sendall(b"[1, 2]\n")
        with pytest.raises(rpc.ProtocolError):
            rpc.Channel(a).receive()
