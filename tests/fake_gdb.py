"""A stand-in for the ``gdb`` module that gdb's own Python gives the scripts in
gorun_kit/threads/gdbscripts, so that those scripts run inside pytest (where
mutmut can reach them) against a made-up stopped program.

It models the part of gdb's API the scripts use and nothing more: an inferior
with sparse little-endian memory and threads (registers, a backtrace),
``gdb.Breakpoint`` on ``*ADDRESS`` with ``stop()``, ``enabled`` (a bool, as
gdb insists) and ``hit_count``, ``gdb.execute`` for settings, ``run`` and ``continue``, and
``gdb.parse_and_eval("(unsigned long)$reg")``. ``run``/``continue`` replay a
list of hits ``(address, tid)``: a hit on an enabled breakpoint whose ``stop()``
returns False is not counted and the program runs on, as in gdb; any other hit
counts and stops the program there. When the list is used up the program exits.

The real-gdb tests (tests/test_threads_gdb.py, tests/test_ch04_scheduler.py)
check that the scripts agree with real gdb on real Go programs.
"""
from __future__ import annotations

import re
import types


class error(RuntimeError):
    pass


class MemoryError(error):  # noqa: A001 - gdb's own name
    pass


class Frame:
    def __init__(self, frames, i):
        self._frames, self._i = frames, i

    def name(self):
        name = self._frames[self._i]
        return None if isinstance(name, int) else name

    def pc(self):
        name = self._frames[self._i]
        return name if isinstance(name, int) else 0x400000 + self._i

    def older(self):
        if self._i + 1 < len(self._frames):
            nxt = self._frames[self._i + 1]
            if nxt == "error":
                raise error("Backtrace stopped: previous frame inner to this frame (corrupt stack?)")
            return Frame(self._frames, self._i + 1)
        return None


class Thread:
    def __init__(self, gdb, pid, tid, regs, frames):
        self._gdb, self.ptid, self.regs, self.frames = gdb, (pid, tid, 0), dict(regs), list(frames)
        self.num = tid

    def switch(self):
        self._gdb.switches.append(self.ptid[1])
        self._gdb.current = self


class Inferior:
    def __init__(self, gdb, pid):
        self._gdb, self.pid, self.memory, self._threads = gdb, pid, {}, []

    def threads(self):
        return tuple(reversed(self._threads))  # gdb lists the newest thread first

    def read_memory(self, addr, length):
        self._gdb.reads.append((addr, length))
        try:
            return memoryview(bytes(self.memory[a] for a in range(addr, addr + length)))
        except KeyError:
            raise MemoryError(f"Cannot access memory at address {addr:#x}") from None


def make(pid=100):
    """A fresh fake ``gdb`` module for one program with process id ``pid``."""
    gdb = types.ModuleType("gdb")
    gdb.error, gdb.MemoryError = error, MemoryError
    gdb.commands, gdb.switches, gdb.reads, gdb.breakpoints, gdb.hits = [], [], [], [], []
    gdb.inferior = Inferior(gdb, pid)
    gdb.current = None
    gdb.exited = False

    class Breakpoint:
        def __init__(self, spec):
            self.location, self._enabled, self.hit_count = spec, True, 0
            gdb.breakpoints.append(self)

        @property
        def enabled(self):
            return self._enabled

        @enabled.setter
        def enabled(self, value):
            if not isinstance(value, bool):  # as gdb's own setter
                raise TypeError("The value of `enabled' must be a boolean.")
            self._enabled = value

        def stop(self):
            return True

    gdb.Breakpoint = Breakpoint

    def add_thread(tid, regs=None, frames=("main.main",)):
        t = Thread(gdb, pid, tid, regs or {}, frames)
        gdb.inferior._threads.append(t)
        if gdb.current is None:
            gdb.current = t
        return t

    def write(addr, value, size=8):
        for i, b in enumerate(int(value).to_bytes(size, "little")):
            gdb.inferior.memory[addr + i] = b

    def resume():
        while gdb.hits:
            addr, tid = gdb.hits.pop(0)
            for bp in gdb.breakpoints:
                if bp.enabled and bp.location == f"*{addr:#x}":
                    gdb.current = next(t for t in gdb.inferior._threads if t.ptid[1] == tid)
                    if bp.stop():
                        bp.hit_count += 1
                        return
        gdb.exited = True

    def execute(command, to_string=False):
        gdb.commands.append(command)
        if command in ("run", "continue"):
            resume()

    def parse_and_eval(expr):
        m = re.fullmatch(r"\(unsigned long\)\$(\w+)", expr)
        if m is None:
            raise error(f"fake gdb cannot evaluate {expr!r}")
        return gdb.current.regs[m.group(1)]

    gdb.add_thread, gdb.write, gdb.execute, gdb.parse_and_eval = add_thread, write, execute, parse_and_eval
    gdb.selected_thread = lambda: gdb.current
    gdb.selected_inferior = lambda: gdb.inferior
    gdb.newest_frame = lambda: Frame(gdb.current.frames, 0)
    return gdb
