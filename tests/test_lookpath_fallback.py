"""The model's ``faccessat2`` argument against real Go under a seccomp filter.

Go's LookPath asks ``unix.Eaccess`` -> ``syscall.Faccessat`` -> faccessat2.
Each run here installs (in the child, before exec) a seccomp filter that makes
syscall 439 fail with ENOSYS (an old kernel) or EPERM (a container profile),
or no filter ("ok"), runs a tiny Go program as some uid/gid, and compares its
``exec.LookPath`` answer with ``lookpath(..., faccessat2=...)``. The program
also calls faccessat2 itself, so every run proves the filter was in force.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from gorun_kit import lookpath as lp
from gorun_kit.build import build_go
from gorun_kit.lookpath import unix

sys.path.insert(0, os.path.dirname(__file__))
from seccomp_helpers import ENOSYS, EPERM, failing_syscall  # noqa: E402

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not (sys.platform == "linux" and platform.machine() == "x86_64"),
                       reason="the seccomp filter checks AUDIT_ARCH_X86_64 and syscall 439: Linux x86_64 only"),
]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="running Go as other uids (and dropping caps) needs root")

GO_PROGRAM = r'''package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

// probe calls faccessat2(AT_FDCWD, "/", X_OK, AT_EACCESS) directly: "ok" or the errno's name.
func probe() string {
	p, _ := syscall.BytePtrFromString("/")
	_, _, e := syscall.Syscall6(439, uintptr(0xffffffffffffff9c), uintptr(unsafe.Pointer(p)), 1, 0x200, 0, 0)
	switch e {
	case 0:
		return "ok"
	case syscall.ENOSYS:
		return "ENOSYS"
	case syscall.EPERM:
		return "EPERM"
	}
	return "errno:" + e.Error()
}

// classify names err as gorun_kit.lookpath.result.ERRORS does; an errno is
// told apart from fs.ErrPermission, which lp_unix.go's own fallback returns.
func classify(err error) string {
	switch {
	case errors.Is(err, exec.ErrDot):
		return "ErrDot"
	case errors.Is(err, exec.ErrNotFound):
		return "ErrNotFound"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		names := map[syscall.Errno]string{syscall.ENOENT: "ENOENT", syscall.ENOTDIR: "ENOTDIR",
			syscall.EACCES: "EACCES", syscall.EISDIR: "EISDIR", syscall.ELOOP: "ELOOP"}
		if n, ok := names[errno]; ok {
			return n
		}
		return "errno:" + errno.Error()
	}
	if errors.Is(err, fs.ErrPermission) {
		return "ErrPermission"
	}
	return "other"
}

func main() {
	out := map[string]string{"probe": probe()}
	p, err := exec.LookPath(os.Args[1])
	out["path"] = p
	if err != nil {
		out["error"] = classify(err)
		out["message"] = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
'''

ERRNO = {"ENOSYS": ENOSYS, "EPERM": EPERM}
NR_FACCESSAT2 = 439
CAP_DAC_OVERRIDE = 1


def _child_setup(faccessat2: str, uid: int, gid: int, drop_dac_override: bool):
    """preexec_fn: drop CAP_DAC_OVERRIDE from the bounding set (so exec as root
    does not get it back), switch ids, then install the filter (last, so the
    steps before it are not filtered)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def ids() -> None:
        PR_CAPBSET_DROP = 24
        if drop_dac_override and libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP CAP_DAC_OVERRIDE")
        if (uid, gid) != (os.geteuid(), os.getegid()):
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

    return ids if faccessat2 == "ok" else failing_syscall(NR_FACCESSAT2, ERRNO[faccessat2], before=ids)


class GoLookPath:
    """The built program, copied where every uid can run it, plus a scratch area."""

    def __init__(self, base: Path, binary: Path):
        self.base = base
        self.binary = binary

    def ask(self, fs: lp.VFS, name: str, *, path: str = "", faccessat2: str = "ok", uid: int = 0,
            gid: int = 0, drop_dac_override: bool = False) -> tuple[lp.LookPathResult, str]:
        """(Go's answer with the scenario prefix taken off, the faccessat2 probe)."""
        root = Path(tempfile.mkdtemp(dir=self.base))
        try:
            os.chmod(root, 0o755)
            fs.materialise(root)
            prefix = os.fspath(root)
            arg = prefix + name if name.startswith("/") else name
            env = {"PATH": ":".join(prefix + d for d in unix.split_list(path))}
            p = subprocess.run([os.fspath(self.binary), arg], env=env, cwd=root, capture_output=True, text=True,
                               timeout=30, preexec_fn=_child_setup(faccessat2, uid, gid, drop_dac_override))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        assert p.returncode == 0, (p.returncode, p.stderr)
        out = json.loads(p.stdout)
        strip = lambda s: s.replace(prefix, "")  # noqa: E731
        return (lp.LookPathResult(strip(out.get("path", "")), out.get("error"), strip(out.get("message", "")),
                                  "real"), out["probe"])


@pytest.fixture(scope="module")
def go():
    base = Path(tempfile.mkdtemp(prefix="gorun-kit-lp-fallback-"))
    try:
        os.chmod(base, 0o755)
        (base / "src").mkdir()
        (base / "src" / "main.go").write_text(GO_PROGRAM)
        binary = base / "lookpath"
        shutil.copyfile(build_go(base / "src" / "main.go").path, binary)
        os.chmod(binary, 0o755)
        yield GoLookPath(base, binary)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def scenario(mode: int, owner: tuple[int, int]) -> lp.VFS:
    return lp.default_fs("linux").dir("/w").file("/w/f", mode, *owner)


# ------------------------------------------------------------------ the filter itself
@pytest.mark.parametrize("faccessat2", unix.FACCESSAT2)
def test_filter_makes_faccessat2_fail_as_asked(go, faccessat2):
    _, probe = go.ask(scenario(0o755, (0, 0)), "/w/f", faccessat2=faccessat2,
                      uid=os.geteuid(), gid=os.getegid())
    assert probe == faccessat2  # "ok" also shows this kernel has faccessat2 (Linux >= 5.8)


# ------------------------------------------------------------------ model == Go
OWNERS = [(0, 0), (1000, 1000), (1000, 0), (0, 1000)]
CALLERS = [(0, 0), (1000, 1000), (2000, 1000), (2000, 2000)]  # (2000, 1000): in the file's group


@needs_root
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.integers(0, 0o777), owner=st.sampled_from(OWNERS), caller=st.sampled_from(CALLERS),
       faccessat2=st.sampled_from(unix.FACCESSAT2), via_path=st.booleans())
# Root: any x bit will do, whoever owns the file; none is EACCES.
@example(mode=0o644, owner=(0, 0), caller=(0, 0), faccessat2="ENOSYS", via_path=False)
@example(mode=0o744, owner=(0, 0), caller=(0, 0), faccessat2="EPERM", via_path=False)
@example(mode=0o700, owner=(1000, 1000), caller=(0, 0), faccessat2="ENOSYS", via_path=False)
@example(mode=0o111, owner=(1000, 1000), caller=(0, 0), faccessat2="EPERM", via_path=True)
# Not root: the owner's class decides, not "some x bit" -- lp_unix.go's m&0111
# would say yes here; Go's Faccessat fallback (and the kernel) say EACCES.
@example(mode=0o011, owner=(1000, 1000), caller=(1000, 1000), faccessat2="ENOSYS", via_path=False)
@example(mode=0o001, owner=(1000, 1000), caller=(2000, 1000), faccessat2="EPERM", via_path=False)
@example(mode=0o010, owner=(1000, 1000), caller=(2000, 1000), faccessat2="EPERM", via_path=True)
@example(mode=0o644, owner=(1000, 1000), caller=(1000, 1000), faccessat2="ENOSYS", via_path=False)
def test_model_matches_go_under_faccessat2_failure(go, mode, owner, caller, faccessat2, via_path):
    fs = scenario(mode, owner)
    name, path = ("f", "/w") if via_path else ("/w/f", "")
    model = lp.lookpath(name, goos="linux", path=path, fs=fs, uid=caller[0], gid=caller[1], faccessat2=faccessat2)
    real, probe = go.ask(fs, name, path=path, faccessat2=faccessat2, uid=caller[0], gid=caller[1])
    assert probe == faccessat2
    assert model.key() == real.key(), (oct(mode), owner, caller, model, real)
    assert model.message == real.message  # the same file, so even the text agrees
    if real.error == "EACCES":
        assert real.message.endswith(": permission denied")


def test_default_is_the_eaccess_model():
    fs = scenario(0o644, (0, 0))
    assert lp.lookpath("/w/f", goos="linux", path="", fs=fs) == \
        lp.lookpath("/w/f", goos="linux", path="", fs=fs, faccessat2="ok")


@pytest.mark.parametrize("kw, match", [
    (dict(goos="linux", faccessat2="enosys"), "choose one of ok, ENOSYS, EPERM"),
    (dict(goos="darwin", faccessat2="ENOSYS"), "Linux setting"),
    (dict(goos="windows", faccessat2="EPERM"), "Linux setting"),
])
def test_faccessat2_values_are_checked(kw, match):
    with pytest.raises(ValueError, match=match):
        lp.lookpath("f", path="", **kw)


# ------------------------------------------------------------------ where the fallback is not the kernel
def _has_cap(bit: int) -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return False


@needs_root
@pytest.mark.skipif(not _has_cap(8), reason="dropping a capability from the bounding set needs CAP_SETPCAP")
def test_root_without_cap_dac_override_is_where_the_fallback_differs(go):
    """Not in the model (it takes uid 0 to hold CAP_DAC_OVERRIDE): the kernel
    then checks root like anyone else, Faccessat's fallback still says "root"."""
    fs = scenario(0o010, (1000, 1000))  # root is "other" here, and other has no bits
    kernel, probe = go.ask(fs, "/w/f", faccessat2="ok", drop_dac_override=True)
    assert probe == "ok" and kernel.error == "EACCES", kernel
    for failing in ("ENOSYS", "EPERM"):
        fallback, probe = go.ask(fs, "/w/f", faccessat2=failing, drop_dac_override=True)
        assert probe == failing and fallback.key() == ("/w/f", None), fallback
    # With the capability both agree, and so does the model.
    for value in unix.FACCESSAT2:
        real, _ = go.ask(fs, "/w/f", faccessat2=value)
        assert real.key() == lp.lookpath("/w/f", goos="linux", path="", fs=fs, faccessat2=value).key() \
            == ("/w/f", None)
