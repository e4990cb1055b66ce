# Runs inside gdb's own Python (gdb -x), not in the course's venv: standard
# library only. gorun_kit.threads.gdb.snapshot starts gdb with this file and
# reads what it prints.
#
# Two probes in one run:
#   * the first time a thread other than the main one reaches runtime.gogo,
#     its backtrace (the new M's first schedule: mstart ... execute -> gogo);
#   * at the first instruction of the program's snapshot function (every
#     thread stopped: gdb runs in all-stop mode), for each thread its FS base,
#     the g in the TLS slot, that g's M and the M's fields, the P the M holds,
#     and every P in runtime.allp.
# A thread that gdb stopped right after its clone, before runtime.clone's child
# branch stored g0 in the TLS slot, has 0 at FS-8; its M is then the one on
# runtime.allm whose &m.tls+8 is the FS base (clone set FS with CLONE_SETTLS,
# and newm puts the M on allm before it clones).
# Field offsets come from GORUN_KIT_GDB_OFFSETS (the binary's DWARF, read by
# gorun_kit.binary), so this script knows no Go type.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # gdbsetup.py, beside this file
from gdbsetup import OFFSETS, quiet_go_session, u64 as _u64  # noqa: E402

import gdb

ALLP = int(os.environ["GORUN_KIT_GDB_ALLP"], 16)
ALLM = int(os.environ["GORUN_KIT_GDB_ALLM"], 16)

quiet_go_session()


def _u32(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 4)), "little")


def _reg(name):
    return int(gdb.parse_and_eval(f"(unsigned long)${name}"))


def _goid(g):
    return _u64(g + OFFSETS["g.goid"]) if g else 0


def _status(g):
    return _u32(g + OFFSETS["g.atomicstatus"]) if g else 0


class FirstSchedule(gdb.Breakpoint):
    def stop(self):
        thread = gdb.selected_thread()
        pid, tid = thread.ptid[0], thread.ptid[1]
        if tid == pid:
            return False
        frames = []
        frame = gdb.newest_frame()
        while frame is not None and len(frames) < 16:
            frames.append(frame.name() or hex(frame.pc()))
            try:
                frame = frame.older()
            except gdb.error:
                break
        print("GORUN_KIT_SCHEDULE " + json.dumps({"tid": tid, "frames": frames}), flush=True)
        self.enabled = False
        return False


def ms_by_fs_base():
    """Every M on runtime.allm (linked by m.alllink), keyed by the FS base its
    thread gets: &m.tls+8."""
    out = {}
    m = _u64(ALLM)
    while m and m + OFFSETS["m.tls"] + 8 not in out:
        out[m + OFFSETS["m.tls"] + 8] = m
        m = _u64(m + OFFSETS["m.alllink"])
    return out


def read_snapshot():
    inferior = gdb.selected_inferior()
    current = gdb.selected_thread()
    threads = []
    by_fs = ms_by_fs_base()
    for thread in sorted(inferior.threads(), key=lambda t: t.ptid[1]):
        thread.switch()
        fs = _reg("fs_base")
        g = _u64(fs - 8)
        m = _u64(g + OFFSETS["g.m"]) if g else by_fs.get(fs, 0)
        rec = {"tid": thread.ptid[1], "fs_base": fs, "tls_g": g, "tls_goid": _goid(g), "m": m,
               "top": gdb.newest_frame().name() or hex(gdb.newest_frame().pc())}
        if m:
            g0 = _u64(m + OFFSETS["m.g0"])
            curg = _u64(m + OFFSETS["m.curg"])
            pp = _u64(m + OFFSETS["m.p"])
            rec.update(m_id=_u64(m + OFFSETS["m.id"]), procid=_u64(m + OFFSETS["m.procid"]),
                       m_tls=m + OFFSETS["m.tls"], g0=g0,
                       g0_lo=_u64(g0 + OFFSETS["g.stack"] + OFFSETS["stack.lo"]),
                       g0_hi=_u64(g0 + OFFSETS["g.stack"] + OFFSETS["stack.hi"]),
                       curg=curg, curg_goid=_goid(curg), curg_status=_status(curg), p=pp,
                       p_id=_u32(pp + OFFSETS["p.id"]) if pp else -1,
                       mstartfn=_u64(_u64(m + OFFSETS["m.mstartfn"])) if _u64(m + OFFSETS["m.mstartfn"]) else 0)
        threads.append(rec)
    current.switch()
    ps = []
    base, n = _u64(ALLP), _u64(ALLP + 8)
    for i in range(n):
        pp = _u64(base + 8 * i)
        ps.append({"p": pp, "id": _u32(pp + OFFSETS["p.id"]), "status": _u32(pp + OFFSETS["p.status"]),
                   "m": _u64(pp + OFFSETS["p.m"])})
    print("GORUN_KIT_SNAPSHOT " + json.dumps({"pid": inferior.pid, "threads": threads, "ps": ps}), flush=True)


# Other threads can only be read once gdb has stopped them all, not inside a
# breakpoint's stop(): the snapshot breakpoint stops, is read, and the program runs on.
FirstSchedule("*" + os.environ["GORUN_KIT_GDB_GOGO"])
at = gdb.Breakpoint("*" + os.environ["GORUN_KIT_GDB_SNAPSHOT"])
gdb.execute("run")
if at.hit_count:
    read_snapshot()
    at.enabled = False
    gdb.execute("continue")
