"""The record every LookPath answer (modelled or real) is returned as."""
from __future__ import annotations

import dataclasses

from ..records import Record

__all__ = ["LookPathResult", "ERRORS", "quote", "execerrdot_off"]

# The error names a result can carry, and what each means in Go.
ERRORS = {
    "ErrNotFound": "exec.ErrNotFound: no PATH entry (or PATHEXT variant) held an executable",
    "ErrDot": "exec.ErrDot: found, but only relative to the current directory (path is also returned)",
    "ErrNotExist": "fs.ErrNotExist (Windows): a name with an extension and a separator was not there",
    "ErrPermission": "fs.ErrPermission (Windows chkStat): the name is a directory",
    "ENOENT": "stat: no such file or directory",
    "ENOTDIR": "stat: a path component is not a directory",
    "EACCES": "a directory on the way is not searchable, or the file is not executable for this uid",
    "EISDIR": "the name is a directory",
    "ELOOP": "too many levels of symbolic links",
    "ENAMETOOLONG": "a path component is longer than NAME_MAX (255 bytes) or the path longer than PATH_MAX",
}


@dataclasses.dataclass(frozen=True)
class LookPathResult(Record):
    """What ``exec.LookPath(name)`` returned.

    ``path`` is the returned string (Go returns it together with ErrDot);
    ``error`` is None or one of :data:`ERRORS`; ``message`` is ``err.Error()``
    (paths inside stat messages differ between a model and a real run, so
    compare ``path`` and ``error``, as :meth:`key` does); ``source`` says
    whether it was "modeled" or asked of "real" Go (and on which system).
    """

    path: str
    error: str | None
    message: str = ""
    source: str = "modeled"

    @property
    def ok(self) -> bool:
        return self.error is None

    def key(self) -> tuple[str, str | None]:
        return (self.path, self.error)


    def short(self) -> str:
        """``path`` / ``path (ErrDot)`` / ``ErrNotFound`` -- for tables."""
        if self.error is None:
            return self.path
        return f"{self.path} ({self.error})" if self.path else self.error


def quote(name: str) -> str:
    """Go's strconv.Quote: ``\\a``-style escapes for the C control characters,
    ``\\xNN`` for the other ASCII ones (and for a byte that is not UTF-8,
    which ``os.fsdecode`` turned into a lone surrogate), ``\\uNNNN`` or
    ``\\UNNNNNNNN`` for a character that is not printable (by Python's Unicode
    tables, which may be older than Go's: a character assigned since then is
    escaped here and printed by Go)."""
    out = []
    for ch in name:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif code < 0x20 or code == 0x7f:
            out.append(f"\\x{code:02x}")
        elif 0xdc80 <= code <= 0xdcff:
            out.append(f"\\x{code - 0xdc00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code <= 0xffff:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


_NAMED_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def execerrdot_off(godebug: str | None) -> bool:
    """True when GODEBUG sets execerrdot=0 (later settings win, as internal/godebug parses)."""
    value = None
    for item in (godebug or "").split(","):
        name, eq, arg = item.partition("=")
        if eq and name == "execerrdot":
            value = arg.split("#", 1)[0]
    return value == "0"
