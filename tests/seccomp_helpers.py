"""Seccomp filters for tests: one x86_64 system call fails with a chosen errno
in a child and everything it starts (as a container profile or an old kernel
would make it), every other call is allowed."""
from __future__ import annotations

import ctypes
import struct
from typing import Callable

AUDIT_ARCH_X86_64 = 0xC000003E
EPERM, ENOSYS = 1, 38


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def errno_filter(nr: int, errno: int) -> bytes:
    """The classic-BPF program: syscall ``nr`` -> SECCOMP_RET_ERRNO|errno."""
    ld, jeq, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
    return b"".join([
        _bpf(ld, 0, 0, 4),  # seccomp_data.arch
        _bpf(jeq, 0, 3, AUDIT_ARCH_X86_64),  # another arch: allow
        _bpf(ld, 0, 0, 0),  # seccomp_data.nr
        _bpf(jeq, 0, 1, nr),
        _bpf(ret, 0, 0, 0x00050000 | errno),  # SECCOMP_RET_ERRNO
        _bpf(ret, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
    ])


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def failing_syscall(nr: int, errno: int = EPERM, *, before: Callable[[], None] | None = None) -> Callable[[], None]:
    """A ``preexec_fn``: run ``before`` (e.g. switch uid), then PR_SET_NO_NEW_PRIVS
    and install :func:`errno_filter` -- last, so the steps before it are not
    filtered. The program is built here, in the parent: the child only makes
    system calls."""
    code = ctypes.create_string_buffer(errno_filter(nr, errno))
    prog = _SockFprog(len(code.raw) // 8, ctypes.cast(code, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NO_NEW_PRIVS, NR_SECCOMP, SECCOMP_SET_MODE_FILTER = 38, 317, 1

    def install() -> None:
        if before is not None:
            before()
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if libc.syscall(NR_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(prog)):
            raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_SET_MODE_FILTER)")

    install.program = code  # keep the buffer alive as long as the function
    return install
