# Shared by the gdb scripts beside it; runs inside gdb's own Python (standard
# library and the gdb module only).
import json
import os

import gdb

OFFSETS = json.loads(os.environ["GORUN_KIT_GDB_OFFSETS"])


def quiet_go_session():
    """gdb settings for a Go program: no paging or questions, C expressions, no shell,
    and the signals the Go runtime uses itself passed on without stopping."""
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set language c")
    gdb.execute("set startup-with-shell off")
    for sig in ("SIGURG", "SIGPIPE", "SIGCHLD", "SIGPROF"):
        gdb.execute(f"handle {sig} nostop noprint pass")


def u64(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")
