"""A new thread at its first instruction: gdb stopped at ``runtime.mstart``.

``runtime·clone``'s child branch sets the stack pointer to ``g0.stack.hi``,
stores g0 into the TLS slot and R14, and calls ``mstart`` (the ``fn`` it was
given). :func:`mstart_entries` runs a Go program under gdb with a breakpoint on
the first instruction of ``runtime.mstart`` and records, for every thread that
enters it, the registers and the runtime words it starts with -- chapter 4
uses it to show that a Go-made thread *starts* on g0 (no switch), with only a
return address into ``runtime.clone`` on its stack and an empty ``g0.sched``.

The gdb side (``gdbscripts/mstart_entry.py``) knows no Go type: the field
offsets come from the binary's DWARF through :func:`gorun_kit.binary.struct_layouts`,
and the breakpoint address from its symbol table, so two readers of the same
binary (pyelftools here, gdb's ptrace there) must agree for the result to
make sense. gdb runs in its own session and is killed with its inferior on a
timeout: nothing is left stopped.
"""
from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Sequence

from .. import binary
from ..records import Record
from ..sessions import run_tool
from ..toolchain import find_tool

__all__ = ["MstartEntry", "mstart_entries", "runtime_offsets", "GdbProbeError"]

_SCRIPT = ("gdbscripts", "mstart_entry.py")  # package data of gorun_kit.threads, loaded by gdb
_PREFIX = "GORUN_KIT_MSTART "


class GdbProbeError(RuntimeError):
    """gdb could not run the program to the end (the message has gdb's output)."""


@dataclasses.dataclass(frozen=True)
class MstartEntry(Record):
    """One thread at the first instruction of ``runtime.mstart``. Addresses are ints."""

    dict_properties = ("main_thread", "on_g0")

    pid: int
    tid: int
    rsp: int
    r14: int
    fs_base: int
    gs_base: int
    tls_g: int  # the word at fs_base-8: the g this thread runs as
    g_m: int  # that g's m
    m_g0: int  # that m's g0
    m_tls: int  # address of m.tls
    g0_stack_lo: int
    g0_stack_hi: int
    g0_sched_sp: int
    g0_sched_pc: int
    return_address: int  # the word at rsp
    return_symbol: str  # the function holding it, e.g. "runtime.clone.abi0"

    @property
    def main_thread(self) -> bool:
        """m0 also enters mstart, from rt0_go, on the process's own stack."""
        return self.tid == self.pid

    @property
    def on_g0(self) -> bool:
        """The TLS slot and R14 both hold this thread's g0."""
        return self.tls_g == self.m_g0 == self.r14

    @property
    def below_stack_hi(self) -> int:
        """``g0.stack.hi - rsp``: 8 when the only thing on the stack is a return address."""
        return self.g0_stack_hi - self.rsp


def runtime_offsets(path: str | os.PathLike) -> dict[str, int]:
    """The field offsets the gdb script needs, read from ``path``'s DWARF.

    Raises ValueError naming the type when the binary has no DWARF for it
    (built with ``-ldflags=-w`` or by ``go run``).
    """
    want = {"runtime.g": ("m", "stack", "sched"), "runtime.m": ("g0", "tls"),
            "runtime.stack": ("lo", "hi"), "runtime.gobuf": ("sp", "pc")}
    out = {}
    layouts = binary.struct_layouts(path, list(want))
    for type_name, fields in want.items():
        layout = layouts[type_name]
        missing = [f for f in fields if f not in layout]
        if missing:
            raise ValueError(f"{os.fspath(path)}: no DWARF layout of {type_name} (fields {missing}); "
                             "build it with go build and without -ldflags=-w")
        short = type_name.split(".", 1)[1]
        out.update({f"{short}.{f}": layout[f] for f in fields})
    return out


def mstart_entries(program: str | os.PathLike, args: Sequence[str] = (), *, limit: int = 16,
                   timeout: float = 120, env: dict[str, str] | None = None) -> tuple[MstartEntry, ...]:
    """Run the Go executable ``program`` under gdb; every thread's state at ``runtime.mstart``.

    Records at most ``limit`` threads (the breakpoint is then disabled and the
    program runs to its end). Raises FileNotFoundError for a missing
    program, ValueError for a binary without the symbols or DWARF this needs,
    :class:`~gorun_kit.toolchain.ToolchainMissing` without gdb, and
    :class:`GdbProbeError` when gdb fails or ``timeout`` seconds pass (gdb and
    the program are killed then).
    """
    path = Path(program)
    if not path.is_file():
        raise FileNotFoundError(f"program {os.fspath(program)!r} does not exist (give a built Go executable)")
    if limit < 1:
        raise ValueError(f"limit={limit}: record at least one thread")
    symbols = binary.read_symbols(path)
    mstart = next((s for s in symbols if s.name == "runtime.mstart" or s.name == "runtime.mstart.abi0"), None)
    if mstart is None:
        raise ValueError(f"{os.fspath(program)}: no runtime.mstart in its symbol table "
                         "(a Go binary built with go build, without -ldflags=-s)")
    offsets = runtime_offsets(path)
    gdb = find_tool("gdb").path
    run_env = dict(os.environ if env is None else env)
    run_env.update(GORUN_KIT_GDB_OFFSETS=json.dumps(offsets), GORUN_KIT_GDB_LIMIT=str(limit),
                   GORUN_KIT_GDB_MSTART=hex(mstart.address))
    # as_file: gdb needs a file on disk, which an unpacked install already has
    with resources.as_file(resources.files("gorun_kit.threads").joinpath(*_SCRIPT)) as script:
        cmd = [gdb, "--batch", "-nx", "-iex", "set auto-load off", "-x", str(script), "--args", str(path), *args]
        done = run_tool(cmd, env=run_env, timeout=timeout)  # gdb and the program end together, whatever happens
    if done.timed_out:
        raise GdbProbeError(f"gdb on {path.name} did not finish within {timeout} s; gdb and the program were killed")
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    records = [json.loads(line[len(_PREFIX):]) for line in out.splitlines() if line.startswith(_PREFIX)]
    if done.returncode != 0 or not records:
        tail = "\n".join((err + out).strip().splitlines()[-15:])
        raise GdbProbeError(f"gdb on {path.name} exited {done.returncode} with {len(records)} records:\n{tail}")
    entries = []
    for r in records:
        at = binary.symbol_at(symbols, r["return_address"])
        entries.append(MstartEntry(**r, return_symbol=at.name if at else "?"))
    return tuple(entries)
