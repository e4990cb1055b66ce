"""The clone flags by name: the kit's one table of them.

The values are the kernel's (``<linux/sched.h>``); the production tracer
(``_src/tracer/tracer.c``) names flags with a table of the same names, and a
test fails when the two disagree or differ from the header.

clone() packs the child's exit signal into the low byte of its flags, where
clone3() has a separate ``exit_signal`` field and bit 0x80 means
CLONE_NEWTIME: :func:`flag_names` names the low byte accordingly.
"""
from __future__ import annotations

import signal as _signal

__all__ = ["CLONE_FLAGS", "EXIT_SIGNAL_MASK", "flag_names", "flags_value", "signal_name"]

CLONE_FLAGS: dict[str, int] = {
    "CLONE_NEWTIME": 0x80, "CLONE_VM": 0x100, "CLONE_FS": 0x200, "CLONE_FILES": 0x400,
    "CLONE_SIGHAND": 0x800, "CLONE_PIDFD": 0x1000, "CLONE_PTRACE": 0x2000, "CLONE_VFORK": 0x4000,
    "CLONE_PARENT": 0x8000, "CLONE_THREAD": 0x10000, "CLONE_NEWNS": 0x20000, "CLONE_SYSVSEM": 0x40000,
    "CLONE_SETTLS": 0x80000, "CLONE_PARENT_SETTID": 0x100000, "CLONE_CHILD_CLEARTID": 0x200000,
    "CLONE_DETACHED": 0x400000, "CLONE_UNTRACED": 0x800000, "CLONE_CHILD_SETTID": 0x1000000,
    "CLONE_NEWCGROUP": 0x2000000, "CLONE_NEWUTS": 0x4000000, "CLONE_NEWIPC": 0x8000000,
    "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000, "CLONE_NEWNET": 0x40000000,
    "CLONE_IO": 0x80000000, "CLONE_CLEAR_SIGHAND": 0x100000000, "CLONE_INTO_CGROUP": 0x200000000,
}
EXIT_SIGNAL_MASK = 0xff  # clone(): the exit signal's bits


def signal_name(sig: int) -> str:
    """``SIGCHLD`` for 17; ``SIG<n>`` for a number this system has no name for."""
    try:
        return _signal.Signals(sig).name
    except ValueError:
        return f"SIG{sig}"


def flag_names(value: int, *, clone3: bool = False, exit_signal: bool = False) -> tuple[str, ...]:
    """The CLONE_* names of the bits set in ``value``, lowest bit first.

    For clone() (``clone3=False``) the low byte is the exit signal, not
    flags: it is named (``SIGCHLD``) at the end when ``exit_signal`` is
    True, and left out otherwise. Bits no name is known for come last as one
    hex number (``0x...``), so no set bit goes unshown.
    """
    low = 0 if clone3 else EXIT_SIGNAL_MASK
    names = [n for n, bit in CLONE_FLAGS.items() if value & bit and not bit & low]
    unknown = value & ~low & ~sum(CLONE_FLAGS.values())
    if unknown:
        names.append(hex(unknown))
    if exit_signal and value & low:
        names.append(signal_name(value & low))
    return tuple(names)


def flags_value(text: str) -> int:
    """The number behind strace's ``CLONE_VM|CLONE_VFORK|SIGCHLD`` (names,
    signal names and numbers joined by ``|``). A signal this system has no
    name for counts as 0: the flags stay right, only the exit signal is lost."""
    value = 0
    for tok in (t.strip() for t in text.split("|")):
        if tok in CLONE_FLAGS:
            value |= CLONE_FLAGS[tok]
        elif tok.startswith("SIG"):
            value |= int(getattr(_signal, tok, 0))
        elif tok:
            try:
                value |= int(tok, 0)
            except ValueError:
                raise ValueError(f"clone flags {text!r}: {tok!r} is not a flag, signal or number") from None
    return value
