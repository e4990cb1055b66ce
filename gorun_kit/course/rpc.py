"""The one channel between a student's sandboxed code and the grader's checks.

The checks never run in the student's process, and the student's code never
runs in the checker's. The checker holds *proxies* for the names an exercise's
answer cells define; calling one sends the arguments over a Unix socket to the
student's process, which calls its own function and sends back the result.

What crosses is data, decoded afresh on each side, never an object of the
other side's making: None, bool, int, float, str, bytes, list, tuple, set,
frozenset and dict (any keys of those types), plus, from the checker only, the
kit's own records (rebuilt from their fields in the student's process) and
callables (which become call-backs into the checker: ``read_c_string(mem.peek,
addr)`` calls the checker's ``peek``). So a student's value cannot carry an
``__eq__`` that says yes to everything, and an exception from the student
arrives as a builtin exception type with plain arguments, or as
:class:`StudentError`.

Messages are one JSON object per line. A reply, or a call-back's request,
longer than :data:`MAX_MESSAGE` bytes is refused.
"""
from __future__ import annotations

import base64
import builtins
import dataclasses
import importlib
import json
import socket
from pathlib import PurePath
from typing import Any, Callable

__all__ = ["StudentError", "ProtocolError", "Channel", "encode", "decode", "serve", "Student", "MAX_MESSAGE"]

MAX_MESSAGE = 64 << 20
_MAX_DEPTH = 64


class StudentError(RuntimeError):
    """An exception the student's code raised whose type is not a builtin one."""


class ProtocolError(RuntimeError):
    """The other side broke the protocol: a malformed, oversized or forbidden message."""


# ---------------------------------------------------------------------------
# values

def encode(value: Any, *, callbacks: dict[int, Callable] | None = None, records: bool = False,
           depth: int = 0) -> Any:
    """``value`` as JSON-ready data. ``callbacks`` (checker side): callables are
    registered there and sent as references. ``records``: the kit's records may
    be sent (checker to student only)."""
    if depth > _MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    kw = {"callbacks": callbacks, "records": records, "depth": depth + 1}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(value)} if abs(value) >= 1 << 53 else value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else {"float": repr(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list):
        return [encode(v, **kw) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [encode(v, **kw) for v in value]}
    if isinstance(value, (set, frozenset)):
        key = "frozenset" if isinstance(value, frozenset) else "set"
        return {key: [encode(v, **kw) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k, **kw), encode(v, **kw)] for k, v in value.items()]}
    if isinstance(value, PurePath) and records:
        return {"path": str(value)}
    if records and dataclasses.is_dataclass(value) and not isinstance(value, type) \
            and type(value).__module__.startswith("gorun_kit."):
        cls = type(value)
        fields = {f.name: encode(getattr(value, f.name), **kw) for f in dataclasses.fields(value)}
        return {"record": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if callable(value) and callbacks is not None:
        ref = len(callbacks) + 1
        callbacks[ref] = value
        return {"callback": ref}
    raise ProtocolError(f"a value of type {type(value).__name__} cannot be passed between the student's code "
                        "and the checks (use None, bool, int, float, str, bytes, list, tuple, set or dict)")


def decode(data: Any, *, call_back: Callable[[int], Callable] | None = None, records: bool = False,
           depth: int = 0) -> Any:
    """The value ``data`` stands for. ``call_back`` (student side) turns a
    call-back reference into a callable; ``records``: rebuild the kit's records."""
    if depth > _MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    kw = {"call_back": call_back, "records": records, "depth": depth + 1}
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, **kw) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ProtocolError(f"malformed value {str(data)[:80]!r}")
    (key, inner), = list(data.items())[:1]
    if key == "int" and isinstance(inner, str) and len(inner) < 5000:
        try:
            return int(inner)
        except ValueError:  # not a ValueError of the student's function: the message is bad
            raise ProtocolError(f"malformed int {inner[:80]!r}") from None
    if key == "float" and inner in ("nan", "inf", "-inf"):
        return float(inner)
    if key == "bytes" and isinstance(inner, str):
        try:
            return base64.b64decode(inner, validate=True)
        except ValueError:
            raise ProtocolError(f"malformed bytes {inner[:80]!r} (not base64)") from None
    if key in ("tuple", "set", "frozenset") and isinstance(inner, list):
        items = [decode(v, **kw) for v in inner]
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[key](items)
    if key == "dict" and isinstance(inner, list):
        return {decode(k, **kw): decode(v, **kw) for k, v in inner}
    if key == "path" and records and isinstance(inner, str):
        return PurePath(inner)
    if key == "record" and records and isinstance(data.get("fields"), dict):
        return _record(inner, {k: decode(v, **kw) for k, v in data["fields"].items()})
    if key == "callback" and call_back is not None and isinstance(inner, int):
        return call_back(inner)
    raise ProtocolError(f"a value of kind {key!r} is not accepted here")


def _record(name: str, fields: dict):
    module, _, qualname = str(name).partition(":")
    if not module.startswith("gorun_kit.") or not qualname.isidentifier():
        raise ProtocolError(f"not one of the kit's records: {name!r}")
    try:
        cls = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        raise ProtocolError(f"not one of the kit's records: {name!r}") from None
    if not dataclasses.is_dataclass(cls):
        raise ProtocolError(f"not one of the kit's records: {name!r}")
    return cls(**fields)


def encode_error(exc: BaseException) -> dict:
    args = []
    for a in exc.args[:4]:
        try:
            args.append(encode(a))
        except ProtocolError:
            args.append(str(a)[:2000])
    return {"type": type(exc).__name__, "args": args, "text": str(exc)[:2000]}


def decode_error(data: dict) -> BaseException:
    """A builtin exception of the same name with plain arguments, or StudentError."""
    name = str(data.get("type", "Exception"))
    cls = getattr(builtins, name, None)
    try:
        args = [decode(a) for a in data.get("args", [])]
    except ProtocolError:
        args = [str(data.get("text", ""))]
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins" \
            and not issubclass(cls, (StopIteration, StopAsyncIteration)):  # would end a check's map() quietly
        try:
            return cls(*args)
        except Exception:
            pass
    return StudentError(f"{name}: {data.get('text', '')}"[:2000])


# ---------------------------------------------------------------------------
# the wire

class Channel:
    """Line-delimited JSON over a connected stream socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._reader = sock.makefile("rb")

    def send(self, message: dict) -> None:
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        if len(data) > MAX_MESSAGE:
            raise ProtocolError(f"a message of {len(data)} bytes is over the limit of {MAX_MESSAGE}")
        self.sock.sendall(data)

    def receive(self) -> dict:
        line = self._reader.readline(MAX_MESSAGE + 1)
        if not line:
            raise EOFError("the other side closed the channel")
        if len(line) > MAX_MESSAGE or not line.endswith(b"\n"):
            raise ProtocolError("a message over the size limit, or cut short")
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise ProtocolError(f"a message that is not JSON: {exc}") from None
        if not isinstance(message, dict):
            raise ProtocolError("a message that is not a JSON object")
        return message


# ---------------------------------------------------------------------------
# the student's side: serve the names of a namespace

def serve(channel: Channel, namespace: dict) -> None:
    """Answer the checker's requests from ``namespace`` until it hangs up.

    Requests: ``{"op": "describe", "name"}`` -> what the name is (a callable,
    a value, or missing); ``{"op": "call", "name", "args", "kwargs"}`` -> the
    result. While a call runs, a call-back sends ``{"op": "callback"}`` and
    waits for the checker's ``{"op": "return"}`` or ``{"op": "raise"}``.
    """
    def call_back(ref: int) -> Callable:
        def remote(*args, **kwargs):
            channel.send({"op": "callback", "ref": ref, "args": encode(list(args)),
                          "kwargs": encode(dict(kwargs))})
            reply = channel.receive()
            if reply.get("op") == "raise":
                raise decode_error(reply.get("error", {}))
            return decode(reply.get("value"))
        return remote

    while True:
        try:
            request = channel.receive()
        except EOFError:
            return
        op, name = request.get("op"), str(request.get("name", ""))
        if op == "describe":
            if name not in namespace:
                channel.send({"op": "described", "kind": "missing"})
            elif callable(namespace[name]):
                channel.send({"op": "described", "kind": "callable"})
            else:
                try:
                    channel.send({"op": "described", "kind": "value", "value": encode(namespace[name])})
                except ProtocolError as exc:
                    channel.send({"op": "raise", "error": encode_error(TypeError(f"{name}: {exc}"))})
            continue
        if op != "call":
            channel.send({"op": "raise", "error": encode_error(ValueError(f"unknown request {op!r}"))})
            continue
        try:
            args = decode(request.get("args", []), call_back=call_back, records=True)
            kwargs = decode(request.get("kwargs", {"dict": []}), call_back=call_back, records=True)
            if name not in namespace:
                raise NameError(f"name {name!r} is not defined")
            result = namespace[name](*args, **kwargs)
            try:
                value = encode(result)
            except ProtocolError as exc:
                raise TypeError(f"{name} returned {exc}") from None
            channel.send({"op": "return", "value": value})
        except (EOFError, BrokenPipeError):
            return
        except BaseException as exc:  # the student's error travels back as data
            channel.send({"op": "raise", "error": encode_error(exc)})


# ---------------------------------------------------------------------------
# the checker's side

class Student:
    """The checker's handle on the student's process."""

    def __init__(self, channel: Channel):
        self.channel = channel

    def _wait(self, callbacks: dict[int, Callable]):
        while True:
            reply = self.channel.receive()
            op = reply.get("op")
            if op == "return":
                return decode(reply.get("value"))
            if op == "raise":
                raise decode_error(reply.get("error", {}))
            if op != "callback" or reply.get("ref") not in callbacks:
                raise ProtocolError(f"unexpected message from the student's process: {str(reply)[:120]}")
            try:
                args = decode(reply.get("args", []))
                kwargs = decode(reply.get("kwargs", {"dict": []}))
                if not isinstance(args, list) or not isinstance(kwargs, dict) \
                        or not all(isinstance(k, str) for k in kwargs):
                    raise ProtocolError("malformed call-back arguments")
                value = callbacks[reply["ref"]](*args, **kwargs)
                self.channel.send({"op": "return", "value": encode(value)})
            except ProtocolError:
                raise
            except Exception as exc:
                self.channel.send({"op": "raise", "error": encode_error(exc)})

    def describe(self, name: str) -> dict:
        """``{"kind": "missing" | "callable" | "value", "value": ...}`` for the student's ``name``."""
        self.channel.send({"op": "describe", "name": name})
        reply = self.channel.receive()
        if reply.get("op") == "raise":
            raise decode_error(reply.get("error", {}))
        kind = reply.get("kind")
        if reply.get("op") != "described" or kind not in ("missing", "callable", "value"):
            raise ProtocolError(f"malformed description of {name!r}")
        return {"kind": kind, "value": decode(reply.get("value")) if kind == "value" else None}

    def call(self, name: str, args: tuple, kwargs: dict):
        callbacks: dict[int, Callable] = {}
        self.channel.send({"op": "call", "name": name,
                           "args": encode(list(args), callbacks=callbacks, records=True),
                           "kwargs": encode(dict(kwargs), callbacks=callbacks, records=True)})
        return self._wait(callbacks)

    def proxy(self, name: str) -> Callable:
        def student_function(*args, **kwargs):
            return self.call(name, args, kwargs)
        student_function.__name__ = student_function.__qualname__ = name
        student_function.__doc__ = f"the student's {name}, called in the student's sandbox"
        return student_function

    def bind(self, names, namespace: dict) -> list[str]:
        """Put each of ``names`` into ``namespace``: a proxy for a function, a
        copy for a value. Returns the names the student's code did not define."""
        missing = []
        for name in names:
            what = self.describe(name)
            if what["kind"] == "callable":
                namespace[name] = self.proxy(name)
            elif what["kind"] == "value":
                namespace[name] = what["value"]
            else:
                namespace.pop(name, None)
                missing.append(name)
        return missing
