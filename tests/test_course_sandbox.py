"""gorun_kit.course.sandbox probed from inside: what a sandboxed process may use, who it
runs as, what it sees of the machine and of the grader's environment, and that nothing
of it outlives the sandbox. "Student code is hostile until proven otherwise: it never
runs with the grader's rights" -- each test below fails when one of those rights leaks.

Real bubblewrap runs of a fraction of a second each; skipped where there is no sandbox.
Every test makes its own sandbox (mutation testing maps a mutant to the tests that ran it).
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from gorun_kit.course import sandbox as sb

needs_sandbox = pytest.mark.skipif(sb.available() is not None, reason=f"no sandbox here: {sb.available()}")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="a sandbox gets a uid of its own only when the grader is root")

# What the sandboxed process reports of itself; argv[1] is a JSON list of paths to look at.
PROBE = r'''
import json, os, resource, sys

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()

def look(path):
    seen = {}
    if not os.path.lexists(path):
        seen["error"] = "FileNotFoundError"
    try:
        seen["list"] = sorted(os.listdir(path)) if os.path.isdir(path) else None
        if os.path.isfile(path):
            seen["text"] = open(path).read()
    except OSError as exc:
        seen["error"] = type(exc).__name__
    target = os.path.join(path, "written-by-the-sandbox") if os.path.isdir(path) else path
    try:
        with open(target, "a") as fh:
            fh.write("x")
        seen["writable"] = True
    except OSError as exc:
        seen["writable"] = type(exc).__name__
    return seen

mounts = {}
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    mounts[fields[4]] = fields[5].split(",")

print(json.dumps({
    "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "no_new_privs": status("NoNewPrivs"), "cap_eff": int(status("CapEff"), 16),
    "cap_prm": int(status("CapPrm"), 16),
    "rlimits": {name: list(resource.getrlimit(getattr(resource, name)))
                for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CORE")},
    "ns": {n: os.readlink("/proc/self/ns/" + n) for n in ("ipc", "net", "uts", "pid", "mnt", "user", "cgroup")},
    "interfaces": sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]),
    "env": dict(os.environ), "cwd": os.getcwd(),
    "mounts": {p: mounts.get(p) for p in ("/proc/sys", "/proc/sysrq-trigger", "/usr", "/etc")},
    "dev": sorted(os.listdir("/dev")), "tmp": sorted(os.listdir("/tmp")), "run": sorted(os.listdir("/run")),
    "paths": {p: look(p) for p in json.loads(sys.argv[1])},
}))
'''

CAP_SETGID, CAP_SETUID = 6, 7


def _capped(name: str, value: int) -> list[int]:
    """The limit a sandbox gets for ``value``: no more than this process's own hard limit
    (a test run under a CPU limit, as mutation testing does, gives its sandboxes that)."""
    hard = resource.getrlimit(getattr(resource, name))[1]
    v = value if hard == resource.RLIM_INFINITY else min(value, hard)
    return [v, v]


def _work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    work.chmod(0o777)
    return work


def _probe(tmp_path: Path, *, paths=(), role=0, env=None, **box) -> tuple[int, dict]:
    """Run PROBE in a fresh sandbox with ``box`` (Sandbox's fields); (slot, what it reported)."""
    work = _work(tmp_path)
    with sb.slot() as n:
        with sb.Sandbox(n, role, writable=[str(work), *box.pop("writable", ())], **box) as s:
            proc = s.start([sys.executable, "-I", "-c", PROBE, json.dumps([str(p) for p in paths])],
                           cwd=str(work), env=env if env is not None else {"PATH": "/usr/bin:/bin"},
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    return n, json.loads(out)


def _alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _tree(pid: int) -> list[int]:
    from gorun_kit.sessions import descendants

    return descendants(pid)


def _wait_for(predicate, seconds: float = 10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def _cgroup_dirs(pid: int) -> dict[str, Path]:
    """The cgroup directories (by controller; "" for v2) that ``pid`` is in, as seen from here."""
    dirs = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            base = Path("/sys/fs/cgroup") / c if c else Path("/sys/fs/cgroup")
            if c in ("memory", "pids", ""):
                dirs[c] = base / path.lstrip("/")
    return dirs


# -- limits ---------------------------------------------------------------------


@needs_sandbox
def test_the_limits_hold_for_the_sandboxed_code(tmp_path):
    limits = sb.Limits(memory_bytes=3 << 30, processes=77, cpu_seconds=23)
    _, seen = _probe(tmp_path, limits=limits)
    rl = seen["rlimits"]
    assert rl["RLIMIT_CPU"] == _capped("RLIMIT_CPU", 23)
    assert rl["RLIMIT_AS"] == _capped("RLIMIT_AS", 3 << 30)
    assert rl["RLIMIT_CORE"] == [0, 0]  # no core file of the student's memory in the work tree
    if os.geteuid() == 0:  # with a uid of its own, the process limit counts the sandbox alone
        assert rl["RLIMIT_NPROC"] == _capped("RLIMIT_NPROC", 77)


@needs_sandbox
def test_the_default_limits_are_finite(tmp_path):
    _, seen = _probe(tmp_path)
    limits = sb.Limits()
    for name, value in (("RLIMIT_CPU", limits.cpu_seconds), ("RLIMIT_AS", limits.memory_bytes)):
        assert seen["rlimits"][name] == _capped(name, value) and value != resource.RLIM_INFINITY
    assert 0 < limits.processes < 10_000 and 0 < limits.cpu_seconds <= 3600 and 0 < limits.memory_bytes <= 16 << 30


@needs_sandbox
def test_the_cgroup_holds_memory_and_process_limits_and_goes_with_the_sandbox(tmp_path):
    limits = sb.Limits(memory_bytes=1 << 30, processes=91)
    work = _work(tmp_path)
    with sb.slot() as n:
        with sb.Sandbox(n, 0, limits=limits, writable=[str(work)]) as box:
            proc = box.start(["sleep", "60"], cwd=str(work), env={"PATH": "/usr/bin:/bin"})
            kind = box.limit_kind
            if kind == "rlimit":
                pytest.skip("the grader cannot make cgroups here")
            dirs = _cgroup_dirs(proc.pid)
            if kind == "cgroup v2":
                assert (dirs[""] / "memory.max").read_text().strip() == str(limits.memory_bytes)
                assert (dirs[""] / "pids.max").read_text().strip() == "91"
            else:
                assert kind == "cgroup v1"
                assert int((dirs["memory"] / "memory.limit_in_bytes").read_text()) == limits.memory_bytes
                assert (dirs["pids"] / "pids.max").read_text().strip() == "91"
            made = [d for c, d in dirs.items() if "gorun-kit" in d.parts]
            assert made and all(d.is_dir() for d in made)
    assert not any(d.exists() for d in made)


# -- rights -----------------------------------------------------------------------


@needs_sandbox
@as_root
def test_the_student_runs_as_a_uid_of_its_own_without_rights(tmp_path):
    n, seen = _probe(tmp_path, role=0)
    uid = sb.UID_BASE + 3 * n
    assert (seen["uid"], seen["euid"], seen["gid"]) == (uid, uid, uid)
    assert seen["groups"] == []
    assert seen["no_new_privs"] == "1"  # a setuid program cannot give the rights back
    assert seen["cap_eff"] == 0 and seen["cap_prm"] == 0


@needs_sandbox
@as_root
def test_the_checker_keeps_only_setuid_and_setgid(tmp_path):
    _, seen = _probe(tmp_path, role=1, keep_caps=("CAP_SETUID", "CAP_SETGID"),
                     limits=sb.Limits(cpu_seconds=17))
    wanted = 1 << CAP_SETUID | 1 << CAP_SETGID
    assert seen["cap_eff"] == wanted and seen["cap_prm"] == wanted
    assert seen["rlimits"]["RLIMIT_CPU"] == _capped("RLIMIT_CPU", 17)
    assert seen["rlimits"]["RLIMIT_CORE"] == [0, 0]


@needs_sandbox
@as_root
def test_a_checker_without_kept_capabilities_runs_as_its_own_uid(tmp_path):
    n, seen = _probe(tmp_path, role=1)
    assert seen["uid"] == seen["gid"] == sb.UID_BASE + 3 * n + 1
    assert seen["cap_eff"] == 0 and seen["no_new_privs"] == "1"


@given(st.integers(0, 63), st.integers(0, 2), st.integers(0, 63), st.integers(0, 2))
@settings(max_examples=200, deadline=None)
def test_every_slot_and_role_has_a_uid_of_its_own(s1, r1, s2, r2):
    a, b = sb.Sandbox(s1, r1), sb.Sandbox(s2, r2)
    if os.geteuid() != 0:
        assert a.uid is None and b.uid is None
        return
    assert a.uid >= sb.UID_BASE > 0 and b.uid >= sb.UID_BASE
    assert (a.uid == b.uid) == ((s1, r1) == (s2, r2))


@needs_sandbox
def test_without_root_the_sandbox_is_a_user_namespace_of_its_own(tmp_path, monkeypatch):
    """As another user than root, bubblewrap unshares everything, a user namespace included."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    _, seen = _probe(tmp_path)
    ours = {n: os.readlink(f"/proc/self/ns/{n}") for n in seen["ns"]}
    assert all(seen["ns"][n] != ours[n] for n in ("ipc", "net", "uts", "pid", "mnt", "user")), seen["ns"]
    assert seen["interfaces"] == ["lo"]


def test_without_root_a_sandbox_keeps_the_callers_uid(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert sb.Sandbox(3, 0).uid is None and sb.Sandbox(0, 2).uid is None


@as_root
def test_own_gives_the_tree_and_not_what_its_links_point_to(tmp_path):
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "answer.py").write_text("x = 1\n")
    outside.mkdir()
    (outside / "solutions.py").write_text("secret\n")
    (tree / "link").symlink_to(outside / "solutions.py")
    (tree / "dirlink").symlink_to(outside)
    box = sb.Sandbox(5, 0)
    box.own(tree)
    for p in (tree, tree / "sub", tree / "sub" / "answer.py", tree / "link", tree / "dirlink"):
        st_ = p.lstat()
        assert (st_.st_uid, st_.st_gid) == (box.uid, box.uid), p
    for p in (outside, outside / "solutions.py"):
        assert (p.stat().st_uid, p.stat().st_gid) == (0, 0), p


def test_own_changes_nothing_without_root(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("")
    before = (tmp_path / "f").stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    calls = []
    monkeypatch.setattr(os, "lchown", lambda *a: calls.append(a))
    sb.Sandbox(5, 0).own(tmp_path)
    assert calls == [] and (tmp_path / "f").stat().st_uid == before


# -- what it sees -------------------------------------------------------------------


@needs_sandbox
def test_the_environment_is_only_what_the_grader_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_TEST_SECRET", "hunter2")
    given_env = {"PATH": "/usr/bin:/bin", "HOME": "/nowhere", "ANSWER": "42"}
    _, seen = _probe(tmp_path, env=given_env)
    env = seen["env"]
    # bubblewrap sets PWD; Python coerces a C locale through LC_CTYPE
    assert {k: v for k, v in env.items() if k not in ("PWD", "LC_CTYPE")} == given_env
    assert "hunter2" not in json.dumps(seen)


@needs_sandbox
def test_the_sandbox_has_namespaces_of_its_own(tmp_path):
    _, seen = _probe(tmp_path)
    ours = {n: os.readlink(f"/proc/self/ns/{n}") for n in seen["ns"]}
    for n in ("ipc", "net", "uts", "pid", "mnt", "cgroup"):
        assert seen["ns"][n] != ours[n], n
    if os.geteuid() == 0:  # the sandbox's uid is a real one, not one mapped in a user namespace
        assert seen["ns"]["user"] == ours["user"]
    else:
        assert seen["ns"]["user"] != ours["user"]
    assert seen["interfaces"] == ["lo"]  # no network


@needs_sandbox
def test_the_machine_is_read_only_and_the_graders_files_absent(tmp_path):
    secret = tmp_path / "grader-tmp"
    secret.mkdir()
    (secret / "hidden_tests.py").write_text("assert answer == 42\n")
    _, seen = _probe(tmp_path, paths=[secret, "/usr/bin", "/etc/hostname", "/tmp", "/run", "/root"])
    paths = seen["paths"]
    assert paths[str(secret)]["error"] == "FileNotFoundError"
    assert "hunter" not in json.dumps(paths[str(secret)]) and not (secret / "written-by-the-sandbox").exists()
    assert paths["/usr/bin"]["list"] and paths["/usr/bin"]["writable"] != True  # noqa: E712
    assert paths["/etc/hostname"]["writable"] != True  # noqa: E712
    # a private /tmp and /run: nothing in them but the way to the work tree, and to Python and the
    # kit when they live under /tmp (a checkout there, as a CI clone may be)
    way = {Path(p).relative_to("/tmp").parts[0] for p in [tmp_path / "work", *sb.kit_paths()]
           if Path(p).is_relative_to("/tmp")}
    assert set(seen["tmp"]) == way and seen["run"] == []
    assert paths["/tmp"]["writable"] is True  # but a /tmp to write in
    # of root's home, only the way to Python and the kit (when they live there)
    bound = {Path(p).relative_to("/root").parts[0] for p in sb.kit_paths() if Path(p).is_relative_to("/root")}
    assert set(paths["/root"].get("list") or ()) <= bound and paths["/root"]["writable"] != True  # noqa: E712
    for top in ("/usr", "/etc", "/proc/sys"):
        assert "ro" in seen["mounts"][top], top
    if os.path.exists("/proc/sysrq-trigger"):
        assert "ro" in seen["mounts"]["/proc/sysrq-trigger"]
    assert "null" in seen["dev"] and not {"mem", "kmem", "port", "kmsg"} & set(seen["dev"])
    assert not [d for d in seen["dev"] if d.startswith(("sd", "nvme", "vd", "loop", "dm-"))]


@needs_sandbox
def test_read_only_writable_and_hidden_paths(tmp_path):
    ro, deep = tmp_path / "ro", tmp_path / "closed" / "deeper"
    (ro / "withheld").mkdir(parents=True)
    (ro / "withheld" / "model.py").write_text("the model\n")
    (ro / "solution.py").write_text("the solution\n")
    (ro / "free.py").write_text("free\n")
    rw = deep / "rw"
    rw.mkdir(parents=True)
    rw.chmod(0o777)
    (tmp_path / "closed").chmod(0o700)  # root's alone outside: the sandbox must still reach rw
    missing = tmp_path / "not-there"
    _, seen = _probe(tmp_path, read_only=[str(ro), str(missing)], writable=[str(rw)],
                     hidden=[str(ro / "withheld"), str(ro / "solution.py"), str(tmp_path / "no-such-hidden")],
                     paths=[ro / "free.py", ro / "withheld", ro / "solution.py", rw, missing])
    paths = seen["paths"]
    assert paths[str(ro / "free.py")]["text"] == "free\n"
    assert paths[str(ro / "free.py")]["writable"] != True  # noqa: E712
    assert paths[str(ro / "withheld")]["list"] == [] and paths[str(ro / "withheld")]["writable"] != True  # noqa: E712
    assert paths[str(ro / "solution.py")].get("text", "") == ""
    assert paths[str(ro / "solution.py")]["writable"] != True  # noqa: E712
    assert paths[str(rw)]["writable"] is True
    assert (rw / "written-by-the-sandbox").read_text() == "x"
    assert paths[str(missing)]["error"] == "FileNotFoundError"
    assert (ro / "free.py").read_text() == "free\n" and (ro / "solution.py").read_text() == "the solution\n"
    assert (ro / "withheld" / "model.py").read_text() == "the model\n"


@needs_sandbox
@as_root
def test_hidden_paths_stay_hidden_and_read_only_for_a_checker_with_root_uid(tmp_path):
    ro = tmp_path / "ro"
    (ro / "withheld").mkdir(parents=True)
    (ro / "withheld" / "model.py").write_text("the model\n")
    (ro / "solution.py").write_text("the solution\n")
    _, seen = _probe(tmp_path, role=1, keep_caps=("CAP_SETUID", "CAP_SETGID"), read_only=[str(ro)],
                     hidden=[str(ro / "withheld"), str(ro / "solution.py")],
                     paths=[ro / "withheld", ro / "solution.py"])
    assert seen["uid"] == 0
    withheld = seen["paths"][str(ro / "withheld")]
    assert withheld["list"] == [] and withheld["writable"] != True  # noqa: E712
    assert seen["paths"][str(ro / "solution.py")].get("text", "") == ""
    assert seen["paths"][str(ro / "solution.py")]["writable"] != True  # noqa: E712


@needs_sandbox
def test_the_kit_and_python_are_there_read_only(tmp_path):
    import gorun_kit

    kit = Path(gorun_kit.__file__).resolve().parent
    _, seen = _probe(tmp_path, paths=[kit / "records.py", sys.base_prefix])
    assert seen["paths"][str(kit / "records.py")]["text"] == (kit / "records.py").read_text()
    assert seen["paths"][str(kit / "records.py")]["writable"] != True  # noqa: E712
    assert seen["paths"][sys.base_prefix]["list"]


@needs_sandbox
def test_the_command_runs_in_the_directory_given(tmp_path):
    _, seen = _probe(tmp_path)
    assert seen["cwd"] == str(tmp_path / "work")


# -- nothing outlives it ------------------------------------------------------------


@needs_sandbox
def test_nothing_the_sandboxed_code_started_outlives_the_sandbox(tmp_path):
    work = _work(tmp_path)
    marker = f"{os.getpid() % 1000 + 3000}.{time.monotonic_ns() % 1000}"
    script = f"setsid sleep {marker} & (sleep {marker} &) ; exec sleep {marker}"
    with sb.slot() as n:
        with sb.Sandbox(n, 0, writable=[str(work)]) as box:
            proc = box.start(["sh", "-c", script], cwd=str(work), env={"PATH": "/usr/bin:/bin"})

            def three_sleeps():
                found = [p for p in _tree(proc.pid) if _cmdline(p) == ["sleep", marker]]
                return found if len(found) >= 3 else None

            sleeps = _wait_for(three_sleeps)
            assert sleeps, "the sandboxed shell did not start its three sleeps"
            inner = _tree(proc.pid)
    assert proc.returncode is not None  # reaped
    assert not [p for p in [proc.pid, *inner] if _alive(p) and _cmdline(p) in (["sleep", marker], None)]
    assert not [p for p in sleeps if _alive(p)]


def _cmdline(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return None


@needs_sandbox
def test_the_sandboxed_code_dies_with_the_sandbox_process(tmp_path):
    """When the bwrap process itself is killed (the grader died), its command ends too."""
    work = _work(tmp_path)
    marker = f"{os.getpid() % 1000 + 4000}.{time.monotonic_ns() % 1000}"
    with sb.slot() as n:
        with sb.Sandbox(n, 0, writable=[str(work)]) as box:
            proc = box.start(["sleep", marker], cwd=str(work), env={"PATH": "/usr/bin:/bin"})
            sleeper = _wait_for(lambda: [p for p in _tree(proc.pid) if _cmdline(p) == ["sleep", marker]])
            assert sleeper
            os.kill(proc.pid, signal.SIGKILL)  # bwrap alone, not its process group
            proc.wait(timeout=10)
            gone = _wait_for(lambda: not any(_alive(p) for p in sleeper), 5.0)
            assert gone, "the sandboxed command outlived bwrap"


@needs_sandbox
def test_the_sandboxed_code_is_a_session_of_its_own(tmp_path):
    work = _work(tmp_path)
    with sb.slot() as n:
        with sb.Sandbox(n, 0, writable=[str(work)]) as box:
            proc = box.start(["sleep", "30"], cwd=str(work), env={"PATH": "/usr/bin:/bin"})
            assert os.getsid(proc.pid) != os.getsid(0)  # not the grader's terminal session
            sleeper = _wait_for(lambda: [p for p in _tree(proc.pid) if _cmdline(p) == ["sleep", "30"]])
            assert sleeper
            # nor the session of bwrap's own process: no terminal to push input into
            assert os.getsid(sleeper[0]) not in (os.getsid(0), os.getsid(proc.pid))


def test_kill_of_a_sandbox_that_never_started_is_harmless():
    box = sb.Sandbox(0, 0)
    box.kill()
    with sb.Sandbox(0, 0) as other:
        assert other.limit_kind == "rlimit"


@needs_sandbox
def test_kill_after_the_command_ended_reaps_it_and_removes_the_cgroup(tmp_path):
    work = _work(tmp_path)
    with sb.slot() as n:
        box = sb.Sandbox(n, 0, writable=[str(work)])
        proc = box.start(["true"], cwd=str(work), env={"PATH": "/usr/bin:/bin"})
        dirs = _cgroup_dirs(proc.pid) if _alive(proc.pid) else {}
        proc.wait(timeout=30)
        box.kill()
        box.kill()  # twice is harmless
    assert proc.returncode == 0
    assert not [d for d in dirs.values() if "gorun-kit" in d.parts and d.exists()]


# -- nested sandbox for programs built from the student's sources ---------------------


@needs_sandbox
def test_the_confined_program_is_read_only_offline_and_limited(tmp_path):
    limits = sb.Limits(memory_bytes=2 << 30, processes=55, cpu_seconds=26)
    target = tmp_path / "outside"
    target.mkdir()
    target.chmod(0o777)
    with sb.slot() as n:
        argv = [*sb.confine_prefix(n, limits), "--", _system_python(), "-I", "-c", PROBE, json.dumps([str(target)])]
        done = subprocess.run(argv, capture_output=True, timeout=60, cwd=str(tmp_path),
                              env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    seen = json.loads(done.stdout)
    assert seen["paths"][str(target)]["writable"] != True  # noqa: E712
    assert not (target / "written-by-the-sandbox").exists()
    assert seen["interfaces"] == ["lo"]
    ours = {k: os.readlink(f"/proc/self/ns/{k}") for k in ("ipc", "uts", "net")}
    assert all(seen["ns"][k] != ours[k] for k in ours)
    assert seen["rlimits"]["RLIMIT_CPU"] == [26, 26]
    assert seen["rlimits"]["RLIMIT_AS"] == [2 << 30, 2 << 30]
    if os.geteuid() == 0:
        uid = sb.UID_BASE + 3 * n + 2
        assert seen["uid"] != 0 and seen["no_new_privs"] == "1" and seen["groups"] == []
        assert seen["rlimits"]["RLIMIT_NPROC"] == [55, 55]
        # bubblewrap maps its caller's uid to itself: the programs' own, neither the student's nor the
        # checker's, nor any uid of another slot
        assert seen["uid"] == uid
        others = {sb.Sandbox(m, r).uid for m in range(64) for r in (0, 1, 2)} - {uid}
        assert seen["uid"] not in others


def _system_python() -> str:
    # the nested sandbox runs as a uid of its own with the machine's own view: a Python under /root is out of reach
    for python in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(python, os.X_OK):
            return python
    pytest.skip("no system python3 for the nested sandbox to run")


def test_confine_prefix_without_root_adds_no_uid_and_no_process_limit(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    prefix = sb.confine_prefix(4, sb.Limits(memory_bytes=1 << 30, processes=9, cpu_seconds=8))
    assert not [a for a in prefix if a.startswith("--reuid") or a.startswith("--nproc")]
    assert prefix[0] == "prlimit" and "--as=1073741824" in prefix and "--cpu=8" in prefix


# -- slots ----------------------------------------------------------------------------


def test_slots_held_at_once_differ_and_a_released_one_is_given_again(private_cache, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # the per-user lock directory, in the private cache
    with sb.slot() as a:
        with sb.slot() as b:
            assert a != b and {a, b} <= set(range(64))
        with sb.slot() as c:
            assert c == b
    with sb.slot() as d:
        assert d == a
    assert (private_cache / "sandbox-slots").is_dir()


def test_when_every_slot_is_busy_the_grader_is_told_to_use_fewer_workers(private_cache, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with contextlib.ExitStack() as held:
        taken = {held.enter_context(sb.slot()) for _ in range(64)}
        assert taken == set(range(64))
        with pytest.raises(RuntimeError, match="fewer workers"):
            with sb.slot():
                pass
    with sb.slot() as again:  # all released
        assert again == 0


@as_root
def test_as_root_the_slot_locks_are_roots_alone():
    with sb.slot():
        locks = Path("/run/gorun-kit/sandbox-slots")
        st_ = locks.stat()
        assert st_.st_uid == 0 and st_.st_mode & 0o077 == 0


# -- where it cannot run ----------------------------------------------------------------


@pytest.fixture
def fresh_available():
    sb.available.cache_clear()
    yield sb.available
    sb.available.cache_clear()


def test_available_names_the_platform_elsewhere(fresh_available, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    why = fresh_available()
    assert why and "darwin" in why and "Linux" in why


def test_available_says_how_to_install_bubblewrap(fresh_available, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sb.shutil, "which", lambda name: None)
    assert "apt-get install bubblewrap" in fresh_available()


def test_available_says_what_to_allow_when_namespaces_fail(fresh_available, monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'No permission to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sb.shutil, "which", lambda name: str(fake) if name == "bwrap" else None)
    why = fresh_available()
    assert "No permission to create new namespace" in why and "unprivileged_userns_clone" in why


@needs_sandbox
def test_available_is_none_where_bubblewrap_works(fresh_available):
    assert fresh_available() is None


# -- the environment it gets --------------------------------------------------------------

_TOOLS = ("GORUN_KIT_GO", "GORUN_KIT_STRICT", "CC", "GOFLAGS", "GOAMD64", "SOURCE_DATE_EPOCH")


def test_environment_passes_nothing_of_the_graders_but_its_choice_of_tools(monkeypatch, tmp_path):
    for key in ("AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK", "GOPATH", "GOCACHE", "GORUN_KIT_CACHE", "PYTHONPATH",
                "LD_PRELOAD", "GOPROXY"):
        monkeypatch.setenv(key, "/grader/" + key)
    for i, key in enumerate(_TOOLS):
        monkeypatch.setenv(key, f"tool-{i}")
    env = sb.environment(home=str(tmp_path))
    assert not [v for v in env.values() if "/grader/" in v]
    assert {k: env.get(k) for k in _TOOLS} == {k: f"tool-{i}" for i, k in enumerate(_TOOLS)}
    assert env["HOME"] == str(tmp_path) and env["TMPDIR"] == "/tmp"
    assert env["GOPROXY"] == "off" and env["GOTOOLCHAIN"] == "local"  # no downloads
    assert env["GORUN_KIT_PROGRESS"] == "0" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["LANG"] == "C.UTF-8" and env["MPLBACKEND"] == "Agg"
    assert env["MPLCONFIGDIR"] == str(tmp_path / ".matplotlib")
    assert env["PATH"].split(":")[0] == os.path.dirname(sys.executable)
    assert env["PATH"].split(":")[1:] == ["/usr/local/bin", "/usr/bin", "/bin"]


def test_environment_without_the_tools_set_has_none_of_them(monkeypatch, tmp_path):
    for key in _TOOLS:
        monkeypatch.delenv(key, raising=False)
    env = sb.environment(home=str(tmp_path), extra={"GORUN_KIT_STUDENT": "ada", "GOFLAGS": "-mod=mod"})
    assert not set(_TOOLS) - {"GOFLAGS"} & set(env)
    assert env["GORUN_KIT_STUDENT"] == "ada" and env["GOFLAGS"] == "-mod=mod"


def test_environment_extra_wins_over_the_graders_value(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", "gcc-grader")
    env = sb.environment(home=str(tmp_path), extra={"CC": "clang", "HOME": "/elsewhere"})
    assert env["CC"] == "clang" and env["HOME"] == "/elsewhere"


# -- stale cgroups ------------------------------------------------------------------------------


def test_sweep_removes_the_cgroups_of_dead_graders_only(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    base = tmp_path / "gorun-kit"
    for name in (f"{dead.pid}-0-0-1", f"{os.getpid()}-1-0-2", "notapid-0", "1-0-0-3"):
        (base / name).mkdir(parents=True)
    (base / f"{dead.pid}-9-file").write_text("")
    sb._Cgroup.sweep(base)
    left = sorted(p.name for p in base.iterdir())
    assert f"{dead.pid}-0-0-1" not in left
    assert {f"{os.getpid()}-1-0-2", "notapid-0", "1-0-0-3", f"{dead.pid}-9-file"} <= set(left)
    sb._Cgroup.sweep(tmp_path / "absent")  # no directory: nothing to do


# -- what Python and the kit need ----------------------------------------------------------


def test_kit_paths_are_pythons_prefixes_the_kit_and_go_but_never_a_checkout(tmp_path, monkeypatch):
    import gorun_kit
    from gorun_kit import toolchain

    user_site = tmp_path / "home" / ".local" / "lib" / "python3" / "site-packages"
    user_site.mkdir(parents=True)
    goroot = tmp_path / "go"
    (goroot / "bin").mkdir(parents=True)
    (goroot / "bin" / "go").write_text("")
    monkeypatch.setattr(toolchain, "find_go", lambda: type("Go", (), {"go": str(goroot / "bin" / "go")})())
    dist = tmp_path / "venv" / "lib" / "python3" / "dist-packages"  # Debian's name for a site directory
    dist.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path / "checkout"), str(user_site), str(dist),
                                      str(tmp_path / "missing" / "site-packages"),
                                      "/usr/lib/python3/dist-packages", *sys.path])
    paths = sb.kit_paths()
    assert {sys.base_prefix, sys.prefix, str(Path(gorun_kit.__file__).resolve().parent),
            str(user_site), str(goroot.resolve())} <= set(paths)
    assert str(dist) in paths
    assert str(tmp_path / "checkout") not in paths and "" not in paths
    assert str(tmp_path / "missing" / "site-packages") not in paths
    assert "/usr/lib/python3/dist-packages" not in paths  # under /usr, which is bound anyway
    assert paths == sorted(paths)


def test_kit_paths_without_go_still_name_python_and_the_kit(monkeypatch):
    from gorun_kit import toolchain

    def missing():
        raise toolchain.ToolchainMissing("no go")

    monkeypatch.setattr(toolchain, "find_go", missing)
    paths = sb.kit_paths()
    assert sys.prefix in paths and sys.base_prefix in paths


@needs_sandbox
def test_a_grader_under_lower_limits_gives_its_sandboxes_those(tmp_path):
    """A grader started with a hard CPU limit below the sandbox's (``ulimit -t``) cannot raise
    it; the sandbox starts anyway, with the grader's lower limit."""
    work = _work(tmp_path)
    code = (f"import subprocess, sys\nfrom gorun_kit.course import sandbox as sb\n"
            f"with sb.slot() as n, sb.Sandbox(n, 0, limits=sb.Limits(cpu_seconds=1800), writable=[{str(work)!r}]) as b:\n"
            f"    p = b.start(['sh', '-c', 'ulimit -t; ulimit -Ht'], cwd={str(work)!r}, env={{'PATH': '/usr/bin:/bin'}},\n"
            f"                stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
            f"    out, err = p.communicate(timeout=60)\n"
            f"    sys.stdout.write(out.decode() + err.decode())\n")
    done = subprocess.run(["prlimit", "--cpu=900:900", sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=str(Path(__file__).resolve().parent.parent))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["900", "900"]


# -- bubblewrap's arguments, read without running it ----------------------------------------

_ARITY = {"--proc": 1, "--dev": 1, "--tmpfs": 1, "--dir": 1, "--perms": 1, "--remount-ro": 1, "--chdir": 1,
          "--cap-drop": 1, "--cap-add": 1, "--ro-bind": 2, "--bind": 2, "--symlink": 2, "--setenv": 2}


def _ops(args: list[str]) -> list[tuple[str, ...]]:
    """bwrap's argv as (option, its arguments...) in order; "bwrap" first."""
    assert args[0] == "bwrap"
    ops, i = [], 1
    while i < len(args):
        n = _ARITY.get(args[i], 0)
        assert args[i].startswith("--"), args[i:]
        ops.append(tuple(args[i:i + 1 + n]))
        i += 1 + n
    return ops


def _args(**kw):
    base = dict(read_only=[], writable=[], hidden=[], cwd="/w", env={})
    return _ops(sb._bwrap_args(**{**base, **kw}))


def test_bwrap_args_as_root_unshare_all_but_the_user_namespace(monkeypatch):
    monkeypatch.setattr(sb.os, "geteuid", lambda: 0)
    ops = _args()
    assert ops[:8] == [("--unshare-ipc",), ("--unshare-pid",), ("--unshare-net",), ("--unshare-uts",),
                       ("--unshare-cgroup-try",), ("--die-with-parent",), ("--new-session",), ("--clearenv",)]
    assert ("--unshare-all",) not in ops and ("--unshare-user",) not in ops
    monkeypatch.setattr(sb.os, "geteuid", lambda: 1000)
    assert _args()[:4] == [("--unshare-all",), ("--die-with-parent",), ("--new-session",), ("--clearenv",)]


def test_bwrap_args_give_the_system_read_only_and_fresh_proc_dev_tmp_run(monkeypatch):
    monkeypatch.setattr(sb.os, "geteuid", lambda: 1000)  # one --unshare-all: the mounts start at ops[4]
    real_exists = os.path.exists
    for sysrq in (False, True):
        monkeypatch.setattr(sb.os.path, "exists",
                            lambda p, s=sysrq: s if p == "/proc/sysrq-trigger" else real_exists(p))
        ops = _args()
        head = [("--proc", "/proc"), ("--ro-bind", "/proc/sys", "/proc/sys")]
        head += [("--ro-bind", "/proc/sysrq-trigger", "/proc/sysrq-trigger")] if sysrq else []
        head += [("--dev", "/dev"), ("--perms", "1777"), ("--tmpfs", "/tmp"), ("--tmpfs", "/run"),
                 ("--ro-bind", "/usr", "/usr"), ("--ro-bind", "/etc", "/etc")]
        assert ops[4:4 + len(head)] == head
    for name in sb._SYMLINKS:
        p = Path("/") / name
        if p.is_symlink():
            assert ("--symlink", os.readlink(p), str(p)) in ops
        elif p.is_dir():
            assert ("--ro-bind", str(p), str(p)) in ops
        else:
            assert not [op for op in ops if str(p) in op]


def test_bwrap_args_mount_paths_with_open_parents_made_once(tmp_path):
    ro = tmp_path / "a" / "ro"
    ro.mkdir(parents=True)
    w = tmp_path / "a" / "w"
    inner = ro / "x" / "y"
    beside = tmp_path / "a" / "rox" / "z"  # a sibling whose name starts like ro's
    ops = _args(read_only=[str(ro), str(tmp_path / "absent")], writable=[str(w), str(inner), str(beside)],
                hidden=[], cwd="/w", env={"B": "2", "A": "1"})
    made = [op[1] for op in ops if op[0] == "--dir"]
    parents = [str(p) for p in reversed(ro.parents)
               if str(p) not in ("/", "/tmp", "/run") and not str(p).startswith(("/usr/", "/etc/", "/dev/"))]
    assert made == parents + [str(tmp_path / "a" / "rox")]
    for d in made:  # each made 0755: the sandbox's uid must pass through
        i = ops.index(("--dir", d))
        assert ops[i - 1] == ("--perms", "0755")
    i = ops.index(("--ro-bind", str(ro), str(ro)))
    assert ops.index(("--dir", parents[-1])) < i
    assert ops[i + 1:i + 4] == [("--bind", str(w), str(w)), ("--bind", str(inner), str(inner)),
                                ("--perms", "0755")]
    assert ("--bind", str(beside), str(beside)) in ops
    assert not [op for op in ops if str(tmp_path / "absent") in op]  # a read-only path that is not there
    assert ops[-3:] == [("--setenv", "B", "2"), ("--setenv", "A", "1"), ("--chdir", "/w")]


def test_bwrap_args_under_tmp_make_their_parents_and_under_usr_do_not():
    paths = ["/tmp/p/q", "/run/r/s", "/usr/share/x/y", "/etc/e/f", "/proc/p/q", "/dev/d/e"]
    ops = _args(writable=paths)
    assert [op[1] for op in ops if op[0] == "--dir"] == ["/tmp/p", "/run/r"]
    for p in paths:
        assert ("--bind", p, p) in ops


def test_bwrap_args_below_a_path_given_with_a_trailing_slash_or_ending_in_x(tmp_path):
    for name in ("ro/", "boX"):
        ro = tmp_path / name.rstrip("/")
        ro.mkdir()
        given = str(ro) + ("/" if name.endswith("/") else "")
        ops = _args(read_only=[given], writable=[str(ro / "c" / "d")])
        assert ("--ro-bind", given, given) in ops
        # what is below the bind exists there already: nothing made over it
        assert not [op for op in ops if op[0] == "--dir" and op[1].startswith(str(ro) + "/")], name


def test_bwrap_args_bind_top_level_directories_that_are_not_links(monkeypatch):
    monkeypatch.setattr(sb, "_SYMLINKS", ("opt", "srv", "no-such-top"))
    ops = _args()
    assert ("--ro-bind", "/opt", "/opt") in ops and ("--ro-bind", "/srv", "/srv") in ops
    assert not [op for op in ops if "/no-such-top" in op]


def test_bwrap_args_hide_a_directory_as_an_empty_read_only_tmpfs_and_a_file_as_dev_null(tmp_path):
    d = tmp_path / "secret"
    d.mkdir()
    f = tmp_path / "answers.py"
    f.write_text("x")
    ops = _args(hidden=[str(d), str(f), str(tmp_path / "absent")])
    i = ops.index(("--tmpfs", str(d)))
    assert ops[i + 1] == ("--remount-ro", str(d))
    assert ("--ro-bind", "/dev/null", str(f)) in ops
    assert not [op for op in ops if str(tmp_path / "absent") in op]
    assert [op for op in ops if op[0] == "--dir"][-1] == ("--dir", str(tmp_path))  # made once for both


# -- the cgroup, on a made-up cgroup file system ---------------------------------------------


@pytest.fixture
def cgroupfs(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    root.mkdir()
    real = sb.Path
    monkeypatch.setattr(sb, "Path", lambda *a: root if a == ("/sys/fs/cgroup",) else real(*a))
    monkeypatch.setattr(sb.os, "geteuid", lambda: 0)
    return root


def test_a_cgroup_v2_gets_memory_without_swap_and_processes(cgroupfs):
    (cgroupfs / "cgroup.controllers").write_text("cpu memory pids\n")
    (cgroupfs / "cgroup.subtree_control").write_text("cpu memory pids\n")
    (cgroupfs / "gorun-kit" / "1-0-0-1").mkdir(parents=True)  # pid 1 lives: kept
    (cgroupfs / "gorun-kit" / "999999999-0-0-1").mkdir()  # no such process: swept
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **k):  # the kernel fills a new cgroup with its files
        real_mkdir(self, *a, **k)
        if self.parent.name == "gorun-kit":
            (self / "memory.swap.max").write_text("max")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "mkdir", mkdir)
        c = sb._Cgroup("42-1-0-7", sb.Limits(memory_bytes=12345, processes=67))
    d = cgroupfs / "gorun-kit" / "42-1-0-7"
    assert c.kind == "cgroup v2" and c.dirs == [d]
    assert (d / "memory.max").read_text() == "12345" and (d / "pids.max").read_text() == "67"
    assert (d / "memory.swap.max").read_text() == "0"
    assert sorted(p.name for p in (cgroupfs / "gorun-kit").iterdir()) == ["1-0-0-1", "42-1-0-7"]


def test_a_cgroup_v2_on_a_fresh_hierarchy_without_swap_accounting(cgroupfs):
    (cgroupfs / "cgroup.controllers").write_text("memory pids\n")
    (cgroupfs / "cgroup.subtree_control").write_text("memory pids\n")  # exactly the two needed
    c = sb._Cgroup("42-1-0-7", sb.Limits(memory_bytes=12345, processes=67))
    d = cgroupfs / "gorun-kit" / "42-1-0-7"
    assert c.kind == "cgroup v2" and c.dirs == [d]
    assert sorted(p.name for p in d.iterdir()) == ["memory.max", "pids.max"]  # no swap file made up


def test_a_cgroup_v1_on_a_fresh_hierarchy(cgroupfs):
    for ctl in ("memory", "pids"):
        (cgroupfs / ctl).mkdir()
        (cgroupfs / ctl / "cgroup.procs").write_text("")
    c = sb._Cgroup("42-0-1-7", sb.Limits(memory_bytes=2 << 30, processes=9))
    assert c.kind == "cgroup v1" and c.dirs == [cgroupfs / "memory" / "gorun-kit" / "42-0-1-7",
                                                 cgroupfs / "pids" / "gorun-kit" / "42-0-1-7"]


@pytest.mark.parametrize("subtree", ["cpu memory\n", "pids\n", ""])
def test_a_cgroup_v2_without_memory_and_pids_delegated_is_no_cgroup(cgroupfs, subtree):
    (cgroupfs / "cgroup.controllers").write_text("cpu memory pids\n")
    (cgroupfs / "cgroup.subtree_control").write_text(subtree)
    c = sb._Cgroup("42-1-0-7", sb.Limits())
    assert c.kind == "rlimit" and c.dirs == [] and not (cgroupfs / "gorun-kit").exists()


def test_a_cgroup_v1_gets_memory_and_processes(cgroupfs):
    for ctl in ("memory", "pids"):
        (cgroupfs / ctl).mkdir()
        (cgroupfs / ctl / "cgroup.procs").write_text("")
        (cgroupfs / ctl / "gorun-kit" / "999999999-0-0-1").mkdir(parents=True)
    c = sb._Cgroup("42-0-1-7", sb.Limits(memory_bytes=2 << 30, processes=9))
    mem, pids = cgroupfs / "memory" / "gorun-kit" / "42-0-1-7", cgroupfs / "pids" / "gorun-kit" / "42-0-1-7"
    assert c.kind == "cgroup v1" and c.dirs == [mem, pids]
    assert (mem / "memory.limit_in_bytes").read_text() == str(2 << 30) and (pids / "pids.max").read_text() == "9"
    assert [p.name for p in (cgroupfs / "memory" / "gorun-kit").iterdir()] == ["42-0-1-7"]
    assert [p.name for p in (cgroupfs / "pids" / "gorun-kit").iterdir()] == ["42-0-1-7"]


@pytest.mark.parametrize("missing", ["memory", "pids"])
def test_a_cgroup_v1_needs_both_controllers(cgroupfs, missing):
    for ctl in ("memory", "pids"):
        (cgroupfs / ctl).mkdir()
        if ctl != missing:
            (cgroupfs / ctl / "cgroup.procs").write_text("")
    c = sb._Cgroup("42-0-1-7", sb.Limits())
    assert c.kind == "rlimit" and c.dirs == []


def test_a_cgroup_that_cannot_be_made_is_removed_and_falls_back_to_rlimits(cgroupfs):
    for ctl in ("memory", "pids"):
        (cgroupfs / ctl).mkdir()
        (cgroupfs / ctl / "cgroup.procs").write_text("")
    (cgroupfs / "pids" / "gorun-kit" / "42-0-1-7").mkdir(parents=True)  # taken: mkdir fails
    c = sb._Cgroup("42-0-1-7", sb.Limits())
    assert c.kind == "rlimit" and c.dirs == []
    assert not (cgroupfs / "memory" / "gorun-kit" / "42-0-1-7").exists()  # the half made is removed


def test_without_root_there_is_no_cgroup(cgroupfs, monkeypatch):
    (cgroupfs / "cgroup.controllers").write_text("memory pids\n")
    (cgroupfs / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setattr(sb.os, "geteuid", lambda: 1000)
    c = sb._Cgroup("42-0-1-7", sb.Limits())
    assert c.kind == "rlimit" and c.dirs == [] and not (cgroupfs / "gorun-kit").exists()


def test_the_cgroup_lists_its_processes_and_kills_until_empty(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "cgroup.procs").write_text("30\n10\n")
    (b / "cgroup.procs").write_text("10\n20\nbad\n")  # unreadable entries leave that file out
    c = sb._Cgroup.__new__(sb._Cgroup)
    c.dirs = [a, b, tmp_path / "gone"]
    assert c.pids() == [10, 30]
    (b / "cgroup.procs").write_text("20\n")
    assert c.pids() == [10, 20, 30]
    killed = []

    def kill(pid, sig):
        killed.append((pid, sig))
        if pid == 20:
            raise PermissionError
        if pid == 30:
            raise ProcessLookupError
        (a / "cgroup.procs").write_text("")
        (b / "cgroup.procs").write_text("")
    monkeypatch.setattr(sb.os, "kill", kill)
    c.kill_all()
    assert killed == [(10, signal.SIGKILL), (20, signal.SIGKILL), (30, signal.SIGKILL)]
    c.kill_all()  # empty: nothing killed
    assert len(killed) == 3


def test_the_cgroup_kill_gives_up_after_its_patience(tmp_path, monkeypatch):
    (tmp_path / "cgroup.procs").write_text("10\n")
    c = sb._Cgroup.__new__(sb._Cgroup)
    c.dirs = [tmp_path]
    killed = []
    monkeypatch.setattr(sb.os, "kill", lambda pid, sig: killed.append(pid))
    t0 = time.monotonic()
    c.kill_all(patience=0.3)
    took = time.monotonic() - t0
    assert 0.3 <= took < 3 and 2 <= len(killed) <= 10  # a pause between rounds


def test_the_cgroup_is_removed_when_the_kernel_lets_go(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    c = sb._Cgroup.__new__(sb._Cgroup)
    c.dirs = [tmp_path / "gone", a, b]
    refusals = {"a": 3}
    real = Path.rmdir

    def rmdir(self):
        if refusals.get(self.name):
            refusals[self.name] -= 1
            raise OSError(16, "busy")
        real(self)
    monkeypatch.setattr(Path, "rmdir", rmdir)
    t0 = time.monotonic()
    c.remove()
    assert not a.exists() and not b.exists() and refusals["a"] == 0
    assert 0.1 <= time.monotonic() - t0 < 1.0  # a short pause between tries
    refusals["b"] = 10 ** 6
    b.mkdir()
    t0 = time.monotonic()
    c.remove(patience=0.3)  # never let go: given up
    assert b.exists() and 0.3 <= time.monotonic() - t0 < 3
    c.dirs = [b, a]  # one that is never let go does not keep the next one
    a.mkdir()
    c.remove(patience=0.2)
    assert b.exists() and not a.exists()


# -- Sandbox.start's command and process, without starting it --------------------------------


@pytest.fixture
def started(monkeypatch):
    """Sandbox.start with Popen and the cgroup replaced: what it would run, and the limits its
    preexec_fn sets (run in a forked child)."""
    seen = {}

    class Cgroup:
        def __init__(self, name, limits):
            seen["cgroup"] = (name, limits)
            self.kind = "fake"

        def join(self):
            os.write(seen["w"], b"joined\n")

    class Popen:
        def __init__(self, argv, **kw):
            seen["argv"], seen["kw"] = argv, kw

    monkeypatch.setattr(sb, "_Cgroup", Cgroup)
    monkeypatch.setattr(sb.subprocess, "Popen", Popen)
    monkeypatch.setattr(sb, "kit_paths", lambda: ["/kit/a", "/kit/b"])

    def start(box, argv=("prog", "arg"), **kw):
        proc = box.start(list(argv), cwd="/work", env={"K": "v"}, **kw)
        seen["proc"] = proc
        r, seen["w"] = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                seen["kw"]["preexec_fn"]()
                os.write(seen["w"], (json.dumps({name: resource.getrlimit(getattr(resource, name)) for name in
                                                 ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CORE")})
                                      + "\n").encode())
            finally:
                os._exit(0)
        os.close(seen["w"])
        with os.fdopen(r) as fh:
            lines = fh.read().splitlines()
        os.waitpid(pid, 0)
        seen["joined"] = lines[0] == "joined"
        seen["rlimits"] = json.loads(lines[-1])
        return seen
    return start


def _own(name):
    return resource.getrlimit(getattr(resource, name))


def test_start_as_root_runs_the_command_as_the_sandboxes_uid_with_every_limit(started, monkeypatch):
    monkeypatch.setattr(sb.os, "geteuid", lambda: 0)
    limits = sb.Limits(memory_bytes=3 << 30, processes=77, cpu_seconds=23)
    box = sb.Sandbox(5, 1, limits=limits, read_only=["/extra"], writable=["/work"], hidden=["/"])
    monkeypatch.setenv("PATH", "/grader/bin")
    seen = started(box, stdin=1, stdout=2, stderr=3, pass_fds=[7, 8])
    uid = sb.UID_BASE + 3 * 5 + 1
    name, got_limits = seen["cgroup"]
    assert name.startswith(f"{os.getpid()}-5-1-") and name.split("-")[3].isdigit() and got_limits == limits
    assert seen["argv"] == sb._bwrap_args(read_only=["/kit/a", "/kit/b", "/extra"], writable=["/work"],
                                          hidden=["/"], cwd="/work", env={"K": "v"}) + [
        "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
        "--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--", "prog", "arg"]
    kw = seen["kw"]
    assert (kw["stdin"], kw["stdout"], kw["stderr"], kw["pass_fds"]) == (1, 2, 3, (7, 8))
    assert kw["start_new_session"] is True and kw["env"] == {"PATH": "/grader/bin"}
    assert seen["proc"] is box.proc and box.limit_kind == "fake"
    assert seen["joined"]
    assert seen["rlimits"] == {"RLIMIT_CPU": _capped("RLIMIT_CPU", 23), "RLIMIT_AS": _capped("RLIMIT_AS", 3 << 30),
                               "RLIMIT_NPROC": _capped("RLIMIT_NPROC", 77), "RLIMIT_CORE": [0, 0]}


def test_start_of_a_checker_keeping_capabilities_has_no_setpriv_nor_memory_or_process_limit(started, monkeypatch):
    monkeypatch.setattr(sb.os, "geteuid", lambda: 0)
    box = sb.Sandbox(2, 1, limits=sb.Limits(memory_bytes=1 << 30, processes=5, cpu_seconds=40),
                     keep_caps=["CAP_SETUID"])
    monkeypatch.delenv("PATH")
    seen = started(box)
    assert seen["argv"][-9:] == ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                                 "--", "prog", "arg"]
    assert "setpriv" not in seen["argv"] and seen["kw"]["env"] == {"PATH": "/usr/bin:/bin"}
    assert seen["kw"]["stdin"] == subprocess.PIPE and seen["kw"]["stdout"] == subprocess.DEVNULL
    assert seen["kw"]["stderr"] == subprocess.DEVNULL and seen["kw"]["pass_fds"] == ()
    assert seen["rlimits"]["RLIMIT_CPU"] == _capped("RLIMIT_CPU", 40)
    assert seen["rlimits"]["RLIMIT_AS"] == list(_own("RLIMIT_AS"))
    assert seen["rlimits"]["RLIMIT_NPROC"] == list(_own("RLIMIT_NPROC"))
    assert seen["rlimits"]["RLIMIT_CORE"] == [0, 0]


def test_start_without_root_keeps_the_uid_and_limits_memory_not_processes(started, monkeypatch):
    monkeypatch.setattr(sb.os, "geteuid", lambda: 1000)
    box = sb.Sandbox(2, 0, limits=sb.Limits(memory_bytes=1 << 30, processes=5, cpu_seconds=40))
    seen = started(box)
    assert seen["argv"] == sb._bwrap_args(read_only=["/kit/a", "/kit/b"], writable=[], hidden=[], cwd="/work",
                                          env={"K": "v"}) + ["--", "prog", "arg"]
    assert seen["rlimits"]["RLIMIT_AS"] == _capped("RLIMIT_AS", 1 << 30)
    assert seen["rlimits"]["RLIMIT_NPROC"] == list(_own("RLIMIT_NPROC"))


def test_a_limit_above_the_graders_own_hard_limit_is_lowered_to_it(monkeypatch):
    calls = []
    monkeypatch.setattr(sb.resource, "getrlimit",
                        lambda kind: (5, 100) if kind == resource.RLIMIT_CPU else (5, resource.RLIM_INFINITY))
    monkeypatch.setattr(sb.resource, "setrlimit", lambda kind, v: calls.append((kind, v)))
    sb._set_limit(resource.RLIMIT_CPU, 300)
    sb._set_limit(resource.RLIMIT_CPU, 50)
    sb._set_limit(resource.RLIMIT_AS, 300)
    assert calls == [(resource.RLIMIT_CPU, (100, 100)), (resource.RLIMIT_CPU, (50, 50)),
                     (resource.RLIMIT_AS, (300, 300))]


def test_kill_ends_the_session_then_the_process_reaps_it_and_empties_the_cgroup(monkeypatch):
    done = []

    class Proc:
        pid = 4242

        def __init__(self, running):
            self.running = running

        def poll(self):
            return None if self.running else 0

        def kill(self):
            done.append("kill")
            raise ProcessLookupError  # ended meanwhile

        def wait(self, timeout):
            done.append(("wait", timeout))
            raise subprocess.TimeoutExpired("bwrap", timeout)

    class Cgroup:
        def kill_all(self):
            done.append("kill_all")

        def remove(self):
            done.append("remove")

    def killpg(pid, sig):
        done.append(("killpg", pid, sig))
        raise PermissionError
    monkeypatch.setattr(sb.os, "killpg", killpg)
    box = sb.Sandbox(0, 0)
    box.proc, box._cgroup = Proc(True), Cgroup()
    box.kill()
    assert done == [("killpg", 4242, signal.SIGKILL), "kill", ("wait", 10), "kill_all", "remove"]
    done.clear()
    done.clear()

    def gone(pid, sig):
        done.append(("killpg", pid, sig))
        raise ProcessLookupError
    monkeypatch.setattr(sb.os, "killpg", gone)
    box.proc = Proc(True)
    box.kill()
    assert done == [("killpg", 4242, signal.SIGKILL), "kill", ("wait", 10), "kill_all", "remove"]
    done.clear()
    box.proc = Proc(False)  # ended: no signal (its pid may be another process's by now), still reaped
    box.kill()
    assert done == [("wait", 10), "kill_all", "remove"]
