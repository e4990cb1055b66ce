# Runs inside gdb's own Python (gdb -x), not in the course's venv: standard
# library only. gorun_kit.threads.gdb starts gdb with this file and reads what it
# prints.
#
# A breakpoint on the first instruction of runtime.mstart records, for each
# thread that enters it, the registers and the runtime words a thread starts
# with. The field offsets come from the environment (GORUN_KIT_GDB_OFFSETS,
# computed by gorun_kit.binary.struct_layout from the binary's DWARF), so this
# script knows no Go type and works with gdb's language set to C.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # gdbsetup.py, beside this file
from gdbsetup import OFFSETS, quiet_go_session, u64 as _u64  # noqa: E402

import gdb

LIMIT = int(os.environ.get("GORUN_KIT_GDB_LIMIT", "16"))

quiet_go_session()


def _reg(name):
    return int(gdb.parse_and_eval(f"(unsigned long)${name}"))


class MstartEntry(gdb.Breakpoint):
    hits = 0

    def stop(self):
        thread = gdb.selected_thread()
        pid, tid = thread.ptid[0], thread.ptid[1]
        rec = {"pid": pid, "tid": tid, "rsp": _reg("rsp"), "r14": _reg("r14"),
               "fs_base": _reg("fs_base"), "gs_base": _reg("gs_base")}
        rec["tls_g"] = g = _u64(rec["fs_base"] - 8)
        rec["g_m"] = m = _u64(g + OFFSETS["g.m"])
        rec["m_g0"] = _u64(m + OFFSETS["m.g0"])
        rec["m_tls"] = m + OFFSETS["m.tls"]
        g0 = rec["m_g0"]
        rec["g0_stack_lo"] = _u64(g0 + OFFSETS["g.stack"] + OFFSETS["stack.lo"])
        rec["g0_stack_hi"] = _u64(g0 + OFFSETS["g.stack"] + OFFSETS["stack.hi"])
        rec["g0_sched_sp"] = _u64(g0 + OFFSETS["g.sched"] + OFFSETS["gobuf.sp"])
        rec["g0_sched_pc"] = _u64(g0 + OFFSETS["g.sched"] + OFFSETS["gobuf.pc"])
        rec["return_address"] = _u64(rec["rsp"])
        print("GORUN_KIT_MSTART " + json.dumps(rec), flush=True)
        MstartEntry.hits += 1
        if MstartEntry.hits >= LIMIT:
            self.enabled = False
        return False


MstartEntry("*" + os.environ["GORUN_KIT_GDB_MSTART"])
gdb.execute("run")
