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

__all__ = ["MstartEntry", "mstart_entries", "runtime_offsets", "GdbProbeError", "ThreadState", "PState",
           "SchedulerSnapshot", "snapshot", "P_STATUS", "G_STATUS"]

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


_MSTART_FIELDS = {"runtime.g": ("m", "stack", "sched"), "runtime.m": ("g0", "tls"),
                  "runtime.stack": ("lo", "hi"), "runtime.gobuf": ("sp", "pc")}


def runtime_offsets(path: str | os.PathLike, want: dict[str, Sequence[str]] | None = None) -> dict[str, int]:
    """The field offsets a gdb script needs, read from ``path``'s DWARF.

    ``want`` maps a type to its fields (default: what the mstart probe
    reads); the result maps ``"g.m"``-style names to byte offsets. Raises
    ValueError naming the type when the binary has no DWARF for it (built
    with ``-ldflags=-w`` or by ``go run``).
    """
    want = _MSTART_FIELDS if want is None else want
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


# The runtime's state numbers (runtime2.go), for printing what the probe read.
P_STATUS = {0: "_Pidle", 1: "_Prunning", 2: "_Psyscall_unused", 3: "_Pgcstop", 4: "_Pdead"}
G_STATUS = {0: "_Gidle", 1: "_Grunnable", 2: "_Grunning", 3: "_Gsyscall", 4: "_Gwaiting", 6: "_Gdead"}
_SNAPSHOT_SCRIPT = ("gdbscripts", "snapshot.py")
_SNAPSHOT_FIELDS = {"runtime.g": ("m", "stack", "goid", "atomicstatus"),
                    "runtime.m": ("g0", "tls", "id", "procid", "curg", "p", "mstartfn", "alllink"),
                    "runtime.p": ("id", "status", "m"), "runtime.stack": ("lo", "hi")}


@dataclasses.dataclass(frozen=True)
class ThreadState(Record):
    """One thread of a program stopped at its snapshot function, as gdb read it.

    ``fs_base`` is the thread's FS base register; ``tls_g`` the word at
    ``fs_base - 8`` (the g it runs as); the rest are fields of that g's M.
    ``tls_g`` is 0 for a new thread stopped in ``runtime.clone``'s child
    branch before it stored its g0 there (the clone itself set FS); its M is
    then the one on ``runtime.allm`` whose ``&m.tls+8`` is the FS base, and
    that M's ``procid`` is still 0 (the child branch sets it with gettid
    first). ``m_id`` is -1 when no M was found. ``p_id`` is -1 when the M holds no P; ``curg_goid``
    0 when it runs no goroutine of the program's."""

    dict_properties = ("on_g0", "fs_is_m_tls_plus_8", "role")

    tid: int
    top: str  # the function the thread is stopped in
    fs_base: int
    tls_g: int
    tls_goid: int
    m: int  # address of the M
    m_id: int
    procid: int
    m_tls: int
    g0: int
    g0_lo: int
    g0_hi: int
    curg: int
    curg_goid: int
    curg_status: str
    p_id: int
    start_fn: str  # the symbol of m.mstartfn ("" for none)

    @property
    def on_g0(self) -> bool:
        """The thread runs on its M's g0 (scheduler or runtime code), not a goroutine."""
        return self.tls_g == self.g0

    @property
    def fs_is_m_tls_plus_8(self) -> bool:
        return self.fs_base == self.m_tls + 8

    @property
    def role(self) -> str:
        """What the thread is doing, in a few words, from the fields above."""
        if not self.tls_g:
            return f"starting: no g in its TLS slot yet, in {self.top.rsplit('/', 1)[-1]}"
        if self.m_id < 0:
            return "no M found"
        if self.start_fn.startswith("runtime.sysmon"):
            return "sysmon"
        if self.start_fn.startswith("runtime.templateThread"):
            return "template thread"
        if self.curg_goid and self.curg_status == "_Gsyscall":
            return f"in a syscall (g{self.curg_goid})"
        if self.curg_goid and not self.on_g0:
            return f"running g{self.curg_goid}, stopped in {self.top.rsplit('/', 1)[-1]}"
        if self.p_id >= 0:
            return "scheduling (on g0)"
        return "idle, no P"


@dataclasses.dataclass(frozen=True)
class PState(Record):
    """One P of ``runtime.allp`` at the snapshot: its id, status and the M holding it (0: none)."""

    id: int
    status: str
    m: int


@dataclasses.dataclass(frozen=True)
class SchedulerSnapshot(Record):
    """Every thread and P of a program stopped at one instant, plus a new M's first schedule.

    ``schedule_tid`` / ``schedule_frames`` are the backtrace (innermost
    first) of the first thread other than the main one to reach
    ``runtime.gogo``: the path a new M takes into its first goroutine.
    """

    program: str
    pid: int
    threads: tuple[ThreadState, ...]
    ps: tuple[PState, ...]
    schedule_tid: int | None
    schedule_frames: tuple[str, ...]

    def table(self) -> str:
        """One line per thread: tid, M, FS base, g0 bounds, P, goroutine, role."""
        rows = [f"{'tid':>8} {'M':>3} {'FS base':>14} {'&m.tls+8':>14} {'g0 stack lo..hi':>29} "
                f"{'KiB':>5} {'P':>3} {'g':>4}  role"]
        for t in self.threads:
            rows.append(f"{t.tid:>8} {t.m_id:>3} {t.fs_base:>#14x} {t.m_tls + 8:>#14x} "
                        f"{t.g0_lo:>#14x}..{t.g0_hi:<#14x} {(t.g0_hi - t.g0_lo) // 1024:>5} "
                        f"{'P' + str(t.p_id) if t.p_id >= 0 else '-':>3} "
                        f"{'g' + str(t.curg_goid) if t.curg_goid else '-':>4}  {t.role}")
        return "\n".join(rows)


def snapshot(program: str | os.PathLike, args: Sequence[str] = (), *, at: str = "main.snapshot",
             timeout: float = 60, env: dict[str, str] | None = None) -> SchedulerSnapshot:
    """Run the Go executable ``program`` under gdb; stop every thread at the first
    instruction of ``at`` and read each thread's M, P, g0 and TLS (and every P).

    The same run records the backtrace of the first non-main thread to reach
    ``runtime.gogo``. Raises FileNotFoundError for a missing program,
    ValueError for a binary without ``at``, the runtime symbols or DWARF,
    :class:`~gorun_kit.toolchain.ToolchainMissing` without gdb, and
    :class:`GdbProbeError` when gdb fails, ``at`` is never reached, or
    ``timeout`` seconds pass (gdb and the program are killed then).
    """
    path = Path(program)
    if not path.is_file():
        raise FileNotFoundError(f"program {os.fspath(program)!r} does not exist (give a built Go executable)")
    symbols = binary.read_symbols(path)
    by_name = {s.name: s for s in symbols}
    need = (at, "runtime.gogo.abi0", "runtime.allp", "runtime.allm")
    missing = [name for name in need if name not in by_name and not (name == "runtime.gogo.abi0" and "runtime.gogo" in by_name)]
    if missing:
        raise ValueError(f"{os.fspath(program)}: no {', '.join(missing)} in its symbol table "
                         "(a Go binary built with go build, without -ldflags=-s, that defines the snapshot function)")
    gogo = by_name.get("runtime.gogo.abi0") or by_name["runtime.gogo"]
    offsets = runtime_offsets(path, _SNAPSHOT_FIELDS)
    gdb = find_tool("gdb").path
    run_env = dict(os.environ if env is None else env)
    run_env.update(GORUN_KIT_GDB_OFFSETS=json.dumps(offsets), GORUN_KIT_GDB_SNAPSHOT=hex(by_name[at].address),
                   GORUN_KIT_GDB_GOGO=hex(gogo.address), GORUN_KIT_GDB_ALLP=hex(by_name["runtime.allp"].address),
                   GORUN_KIT_GDB_ALLM=hex(by_name["runtime.allm"].address))
    with resources.as_file(resources.files("gorun_kit.threads").joinpath(*_SNAPSHOT_SCRIPT)) as script:
        cmd = [gdb, "--batch", "-nx", "-iex", "set auto-load off", "-x", str(script), "--args", str(path), *args]
        done = run_tool(cmd, env=run_env, timeout=timeout)
    if done.timed_out:
        raise GdbProbeError(f"gdb on {path.name} did not finish within {timeout} s; gdb and the program were killed")
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    snap = [json.loads(l.split(" ", 1)[1]) for l in out.splitlines() if l.startswith("GORUN_KIT_SNAPSHOT ")]
    sched = [json.loads(l.split(" ", 1)[1]) for l in out.splitlines() if l.startswith("GORUN_KIT_SCHEDULE ")]
    if done.returncode != 0 or not snap:
        tail = "\n".join((err + out).strip().splitlines()[-15:])
        raise GdbProbeError(f"gdb on {path.name} exited {done.returncode} without stopping at {at}:\n{tail}")

    def fn_name(pc: int) -> str:
        s = binary.symbol_at(symbols, pc) if pc else None
        return s.name if s else ""

    threads = tuple(ThreadState(
        tid=t["tid"], top=t["top"], fs_base=t["fs_base"], tls_g=t["tls_g"], tls_goid=t["tls_goid"], m=t["m"],
        m_id=t.get("m_id", -1), procid=t.get("procid", 0), m_tls=t.get("m_tls", 0), g0=t.get("g0", 0),
        g0_lo=t.get("g0_lo", 0), g0_hi=t.get("g0_hi", 0), curg=t.get("curg", 0), curg_goid=t.get("curg_goid", 0),
        curg_status=G_STATUS.get(t.get("curg_status", 0), str(t.get("curg_status"))), p_id=t.get("p_id", -1),
        start_fn=fn_name(t.get("mstartfn", 0))) for t in snap[0]["threads"])
    ps = tuple(PState(p["id"], P_STATUS.get(p["status"], str(p["status"])), p["m"]) for p in snap[0]["ps"])
    first = sched[0] if sched else {"tid": None, "frames": []}
    return SchedulerSnapshot(os.fspath(program), snap[0]["pid"], threads, ps, first["tid"], _thread_frames(first["frames"]))


def _thread_frames(frames: Sequence[str]) -> tuple[str, ...]:
    """A backtrace cut where the thread began: at ``runtime.clone`` (a Go-made
    thread's first frame), else at the first frame gdb could not name. gdb's
    unwinder may walk on past clone into whatever the stack top holds."""
    out = []
    for name in frames:
        if not name or name.startswith("0x"):
            break
        out.append(name)
        if name.startswith("runtime.clone"):
            break
    return tuple(out)
