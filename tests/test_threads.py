"""The thread-creation hook: patched by structure, GOROOT untouched, invisible
without its variable, and in agreement with the tracer, /proc and schedtrace."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gorun_kit import threads
from gorun_kit.build import build_go
from gorun_kit.cache import cache_dir
from gorun_kit.toolchain import GoToolchain, ToolchainMissing, find_tool

REPO = Path(__file__).resolve().parent.parent
LABS = REPO / "labs_go"


def _tree_hash(directory: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(directory.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(directory)).encode() + b"\0" + p.read_bytes())
        else:
            h.update(str(p.relative_to(directory)).encode() + b"/\0")
    return h.hexdigest()


def _fake_goroot(tmp_path: Path, go: GoToolchain, version: str, edit=None) -> GoToolchain:
    runtime = tmp_path / "goroot" / "src" / "runtime"
    runtime.mkdir(parents=True)
    for name in ("proc.go", "os_linux.go"):
        text = Path(go.goroot, "src", "runtime", name).read_text()
        if edit and name == "proc.go":
            text = edit(text)
        (runtime / name).write_text(text)
    return GoToolchain(go=go.go, goroot=str(tmp_path / "goroot"), version=version, goos="linux",
                       goarch="amd64", source="test")


# ---------------------------------------------------------------------------
# the patch, without building

def test_patch_keeps_every_line_number(go):
    p = threads.patch(go)
    original = Path(go.goroot, "src/runtime/proc.go").read_text().split("\n")
    patched = Path(dict(p.replace)[str(Path(go.goroot, "src/runtime/proc.go"))]).read_text().split("\n")
    assert len(patched) == len(original)
    changed = [i + 1 for i, (a, b) in enumerate(zip(original, patched)) if a != b]
    assert changed == sorted(line for _, line in p.spliced) and len(changed) == len(threads.hook.ANCHORS) == 6
    for call, line in p.spliced:
        assert patched[line - 1].startswith(original[line - 1]) and patched[line - 1].endswith(call)
    overlay = json.loads(Path(p.overlay).read_text())["Replace"]
    assert set(overlay) == {k for k, _ in p.replace}
    assert all(k.startswith(go.goroot) for k in overlay) and not any(v.startswith(go.goroot) for v in overlay.values())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(st.sampled_from(["", "// moved", "var _ = 0", "\t// x"]), min_size=1, max_size=40))
def test_anchors_are_found_by_structure_not_line_numbers(go, tmp_path_factory, extra):
    """Lines added above the hooked functions move them; the splices follow."""
    base = threads.patch(go).spliced
    tmp = tmp_path_factory.mktemp("goroot")
    block = "\n".join(extra)
    shifted = _fake_goroot(tmp, go, go.version, edit=lambda t: t.replace("\nfunc ", "\n" + block + "\nfunc ", 1))
    moved = threads.patch(shifted).spliced
    assert [c for c, _ in moved] == [c for c, _ in base]
    assert [line for _, line in moved] == [line + len(extra) for _, line in base]


@pytest.mark.parametrize("version", ["go1.21.13", "go1.28.0", "go1.9"])
def test_unsupported_release_is_named_with_the_supported_ones(go, tmp_path, version):
    fake = _fake_goroot(tmp_path, go, version)
    with pytest.raises(threads.UnsupportedRelease) as info:
        threads.patch(fake)
    assert version in str(info.value)
    assert "1.22" in str(info.value) and "1.27" in str(info.value)


@pytest.mark.parametrize("what,edit", [
    ("minit", lambda t: re.sub(r"(func mstart1\(\) \{.*?)\n\tminit\(\)\n", r"\1\n\tminitX()\n", t, count=1, flags=re.S)),
    ("allocm", lambda t: t.replace("mp := allocm(pp, fn, id)", "mp := allocm(pp, fn, id, 0)", 1)),
    ("newm1", lambda t: t.replace("func newm1(mp *m) {", "func newm1(mp *m, x int) {", 1)),
])
def test_missing_anchor_stops_with_the_release_named(go, tmp_path, what, edit):
    fake = _fake_goroot(tmp_path, go, go.version, edit=edit)
    with pytest.raises(threads.UnsupportedRelease) as info:
        threads.patch(fake)
    assert go.version in str(info.value) and what in str(info.value)


def test_parse_records_rejects_foreign_lines():
    good = "gorunkit-thread v1 new t=5 m=1 by_m=0 by_tid=10 fn=runtime.sysmon\n"
    assert threads.parse_records(good) == [{"kind": "new", "t": 5, "m": 1, "by_m": 0, "by_tid": 10,
                                            "fn": "runtime.sysmon"}]
    with pytest.raises(ValueError, match="not a thread-hook record"):
        threads.parse_records(good + "hello from the program\n")


# ---------------------------------------------------------------------------
# building and running

PLAIN = """package main

import (
\t"fmt"
\t"os"
\t"runtime"
\t"time"
)

func main() {
\tfmt.Println("out", len(os.Args), os.Args[1:])
\tfmt.Fprintln(os.Stderr, "err line")
\tgo func() {}()
\truntime.Gosched()
\ttime.Sleep(20 * time.Millisecond)
\tif len(os.Args) > 1 && os.Args[1] == "panic" {
\t\tpanic("on purpose")
\t}
\tos.Exit(3)
}
"""


@pytest.fixture(scope="module")
def plain_pair(go, tmp_path_factory):
    src = tmp_path_factory.mktemp("plain") / "plain.go"
    src.write_text(PLAIN)
    runtime_dir = Path(go.goroot, "src", "runtime")
    before = _tree_hash(runtime_dir)
    hooked = threads.build(src, go=go)
    plain = build_go(src, go=go)
    assert _tree_hash(runtime_dir) == before, "building with the hook changed GOROOT/src/runtime"
    return plain, hooked


def _run(path: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != threads.ENV}
    e.update(env or {})
    return subprocess.run([path, *args], capture_output=True, text=True, env=e, timeout=60)


_MASK = re.compile(r"0x[0-9a-f]+|\+0x[0-9a-f]+|goroutine \d+ gp=\S+ m=\d+ mp=\S+|\bm=\d+")


@pytest.mark.live
@pytest.mark.parametrize("args,traceback", [((), None), (("a", "b"), None), (("panic",), "single"),
                                            (("panic",), "system")])
def test_without_the_variable_a_hooked_program_behaves_as_an_unpatched_one(plain_pair, args, traceback):
    plain, hooked = plain_pair
    assert plain.path != hooked.path
    env = {"GOTRACEBACK": traceback} if traceback else {}
    a, b = _run(plain.path, *args, env=env), _run(hooked.path, *args, env=env)
    assert a.returncode == b.returncode and a.returncode in (2, 3)
    assert a.stdout == b.stdout
    # Addresses differ between two binaries; everything else -- including the
    # runtime/proc.go line numbers in a GOTRACEBACK=system dump -- must not.
    # (Under "system" the other goroutines' numbers and states vary from run
    # to run even for one binary, so only the panicking goroutine is compared.)
    first = (lambda t: t.split("\n\n")[0] + t.split("\n\n")[1]) if traceback == "system" else (lambda t: t)
    assert _MASK.sub("X", first(a.stderr)) == _MASK.sub("X", first(b.stderr))
    assert "gorunkit" not in b.stdout + b.stderr
    if traceback == "system":
        assert "runtime/proc.go:" in first(b.stderr)


@pytest.mark.live
def test_a_hooked_runtime_names_the_proc_go_of_its_own_goroot(plain_pair, go, tmp_path):
    # The same Go release reached through a second GOROOT path (a symlink, with
    # a go wrapper that sets GOROOT) stands for a second checkout with its own
    # .venv. Both patched builds use the default caches of the same machine;
    # each traceback must name its own GOROOT's proc.go, not the other's
    # (cmd/go leaves GOROOT out of the cache key of runtime, but an overlaid
    # file is compiled under its absolute path: see build.overlay_gocache).
    from gorun_kit.build import overlay_gocache
    from gorun_kit.toolchain import find_go

    link = tmp_path / "second-root"
    link.symlink_to(go.goroot, target_is_directory=True)
    wrapper = tmp_path / "go"
    wrapper.write_text(f'#!/bin/sh\nGOROOT={link} exec {Path(go.goroot, "bin", "go")} "$@"\n')
    wrapper.chmod(0o755)
    second = find_go(str(wrapper))
    assert second.goroot == str(link) and second.version == go.version
    _, hooked = plain_pair
    src = tmp_path / "plain.go"
    src.write_text(PLAIN)
    replace = dict(threads.patch(second).replace)
    own_cache = overlay_gocache(second, replace)
    try:
        again = threads.build(src, go=second)
        for binary, root in ((hooked, go.goroot), (again, str(link))):
            out = _run(binary.path, "panic", env={"GOTRACEBACK": "system"}).stderr
            named = set(re.findall(r"^\t(\S+/runtime/proc\.go):\d+", out, re.M))
            assert named == {os.path.join(root, "src", "runtime", "proc.go")}, (binary.path, named)
    finally:
        shutil.rmtree(own_cache, ignore_errors=True)


@pytest.mark.live
def test_records_go_to_a_file_or_an_fd_and_never_to_stdout(plain_pair, tmp_path):
    _, hooked = plain_pair
    dest = tmp_path / "records.txt"
    via_file = _run(hooked.path, env={threads.ENV: str(dest)})
    assert via_file.returncode == 3 and "gorunkit" not in via_file.stdout + via_file.stderr
    recs = threads.parse_records(dest.read_text())
    starts = [r for r in recs if r["kind"] == "start"]
    assert starts and starts[0]["m"] == 0
    fd_file = tmp_path / "fd.txt"
    with open(fd_file, "wb") as fh:
        proc = subprocess.Popen([hooked.path], env={**os.environ, threads.ENV: f"fd:{fh.fileno()}"},
                                pass_fds=(fh.fileno(),), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3 and b"gorunkit" not in out + err
    by_fd = threads.parse_records(fd_file.read_text())
    # m0 runs on the main thread: its tid is the process id.
    assert by_fd[0]["kind"] == "start" and by_fd[0]["m"] == 0 and by_fd[0]["tid"] == proc.pid
    bad = _run(hooked.path, env={threads.ENV: "relative/path"})
    assert bad.returncode == 3 and "must be fd:N or an absolute file path" in bad.stderr


def _cc_or_skip():
    try:
        find_tool("cc")
    except ToolchainMissing as exc:
        pytest.skip(str(exc))


def _common(report):
    assert report.ok, report.summary()
    # these labs run long enough for every instrument to see the whole run
    assert all(c.conclusive for c in report.checks), report.summary()
    assert report.tracer == "gorun_kit.trace"  # the course's tracer, not the strace fallback
    assert report.traced_threads and report.proc_tasks
    assert report.exit_status == 0, report.stderr
    assert report.stderr == ""
    assert report.ms[0].m == 0 and report.ms[0].tid == report.pid and report.ms[0].asked_by_m is None
    for m in report.ms:
        assert m.tid == m.procid  # minit set procid to gettid()
        assert m.gs_base == 0  # the runtime never uses GS on linux/amd64
        assert m.g0_lo < m.g0_hi
    assert [m for m in report.ms if m.start_fn == "runtime.sysmon"]


def _no_cgo_stacks(report):
    m0, others = report.ms[0], report.ms[1:]
    assert m0.g0_size == 64 * 1024
    assert others and all(m.g0_size == 16 * 1024 for m in others)
    assert all(m.fs_is_m_tls_plus_8 for m in report.ms)


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.parametrize("lab,args,check", [
    ("threads_idle", (), lambda r: len(r.ms) >= 2),
    # Every goroutine stuck in nanosleep holds an M; plus sysmon's.
    ("threads_syscalls", ("4",), lambda r: len(r.ms) >= 4 + 1),
    # Locked goroutines each hold an M, and the template thread clones for them.
    ("threads_locked", ("3",), lambda r: len(r.ms) >= 3 + 2 and any(
        m.cloned_by_m is not None and m.cloned_by_m != m.asked_by_m
        and r.ms[[x.m for x in r.ms].index(m.cloned_by_m)].start_fn == "runtime.templateThread" for m in r.ms)),
    ("threads_gomaxprocs", ("5",), lambda r: len(r.ms) >= 5 + 1),
])
def test_observe_cross_checks_agree(go, lab, args, check):
    report = threads.observe(LABS / lab, args=args, go=go)
    _common(report)
    _no_cgo_stacks(report)
    assert check(report), report.table()


@pytest.mark.live
@pytest.mark.slow
def test_observe_cgo_program_uses_pthread_stacks(go):
    _cc_or_skip()
    report = threads.observe(LABS / "threads_cgo", args=("3",), go=go)
    _common(report)
    others = report.ms[1:]
    assert all(m.cgo for m in others)
    # pthread stacks (megabytes), and glibc's TLS block rather than &m.tls
    assert all(m.g0_size > 1024 * 1024 for m in others)
    assert not any(m.fs_is_m_tls_plus_8 for m in report.ms)
    assert 1 not in {m.m for m in report.ms}  # cgo's extra M: allocated, never started by newm


@pytest.mark.live
@pytest.mark.slow
def test_hook_on_the_oldest_supported_release(go, oldest_go):
    old = oldest_go
    runtime_dir = Path(old.goroot, "src", "runtime")
    before = _tree_hash(runtime_dir)
    for lab, args in (("threads_idle", ()), ("threads_syscalls", ("4",)), ("threads_locked", ("2",))):
        report = threads.observe(LABS / lab, args=args, go=old)
        assert report.go_version == old.version
        _common(report)
        _no_cgo_stacks(report)
    try:
        find_tool("cc")
    except ToolchainMissing:
        pass
    else:
        cgo = threads.observe(LABS / "threads_cgo", args=("2",), go=old)
        _common(cgo)
        assert all(m.g0_size > 1024 * 1024 for m in cgo.ms[1:])
    assert _tree_hash(runtime_dir) == before
    # and from the command line, by series
    proc = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", "--go", threads.SUPPORTED[0],
                           str(LABS / "threads_idle")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert old.version in proc.stdout and "MISMATCH" not in proc.stdout


@pytest.mark.live
@pytest.mark.slow
def test_strace_fallback_agrees_too(go):
    report = threads.observe(LABS / "threads_locked", args=("2",), go=go, tracer="strace")
    assert report.tracer == "strace" and report.ok, report.summary()


@pytest.mark.live
def test_short_programs_are_reconciled_not_mismatched(go, tmp_path):
    """A program that exits at once can end before its last M reaches minit,
    and before /proc or schedtrace see the last M: never a MISMATCH for that."""
    src = tmp_path / "quick.go"
    src.write_text('package main\n\nimport "os"\n\nfunc main() { os.Exit(7) }\n')
    for _ in range(6):
        for program in (src, LABS / "hello"):
            report = threads.observe(program, go=go)
            assert report.ok, report.summary()
            assert report.exit_status == (7 if program == src else 0)


def _report(ms_records: str, **kw):
    ms = threads.ms_from_records(threads.parse_records(ms_records))
    base = dict(program="p", args=(), go_version="go1.27.3", binary="-", pid=50, exit_status=0, stdout="",
                stderr="", ms=ms, t0=100, t_end=10**9, tracer="test", traced_threads=((50, 51),),
                proc_tasks=(50, 51), schedtrace_threads=None, checks=(), proc_window=(150, 400), schedtrace_ms=20)
    base.update(kw)
    return threads.ThreadReport(**base)


RECORDS_ONE_UNSTARTED = """gorunkit-thread v1 start t=100 m=0 tid=50 procid=50 g0_lo=0x1000 g0_hi=0x11000 fs=0x2008 gs=0x0 m_tls=0x2000 fn=none
gorunkit-thread v1 new t=150 m=1 by_m=0 by_tid=50 fn=runtime.sysmon
gorunkit-thread v1 clone t=160 m=1 by_m=0 by_tid=50 cgo=0
gorunkit-thread v1 start t=200 m=1 tid=51 procid=51 g0_lo=0x3000 g0_hi=0x7000 fs=0x8008 gs=0x0 m_tls=0x8000 fn=runtime.sysmon
gorunkit-thread v1 new t=300 m=2 by_m=0 by_tid=50 fn=none
gorunkit-thread v1 clone t=310 m=2 by_m=0 by_tid=50 cgo=0
"""


def test_cross_checks_count_an_m_cloned_but_never_started():
    ok = threads.cross_checks(_report(RECORDS_ONE_UNSTARTED, traced_threads=((50, 51), (50, 52)),
                                      proc_tasks=(50, 51, 52), schedtrace_threads=3))
    assert [c.verdict for c in ok] == ["ok", "ok", "ok", "ok"], ok
    assert "+1 cloned but gone before minit" in ok[0].detail
    # a thread the tracer saw that no M accounts for is still a mismatch
    bad = threads.cross_checks(_report(RECORDS_ONE_UNSTARTED, traced_threads=((50, 51), (50, 52), (50, 53))))
    assert bad[0].verdict == "MISMATCH"
    # so is a task in /proc that neither a started nor an unstarted M explains
    bad = threads.cross_checks(_report(RECORDS_ONE_UNSTARTED, traced_threads=((50, 51), (50, 52)),
                                       proc_tasks=(50, 51, 52, 99)))
    assert bad[1].verdict == "MISMATCH"


def test_cross_checks_are_inconclusive_when_an_instrument_stopped_looking_early():
    records = RECORDS_ONE_UNSTARTED.rsplit("gorunkit-thread v1 new t=300", 1)[0]
    # the sampler's last whole look (150) came before M1 started (200); it missed M1
    late = threads.cross_checks(_report(records, proc_tasks=(50,), proc_window=(120, 150), schedtrace_threads=1,
                                        t_end=150 + 10**6))
    assert late[1].verdict == "inconclusive" and late[3].verdict == "inconclusive", late
    # the same numbers over a window that covers every start are a mismatch
    full = threads.cross_checks(_report(records, proc_tasks=(50,), proc_window=(120, 250), schedtrace_threads=1))
    assert full[1].verdict == "MISMATCH" and full[3].verdict == "MISMATCH", full
    # schedtrace may lag, but it can never count more Ms than the hook knows
    over = threads.cross_checks(_report(records, schedtrace_threads=5, t_end=150 + 10**6))
    assert over[3].verdict == "MISMATCH"


def test_teardown_is_the_final_burst_of_exits():
    ms = 1_000_000
    assert threads.run._teardown_ns([]) is None
    assert threads.run._teardown_ns([100 * ms, 100 * ms + 5000, 100 * ms + 9000]) == 100 * ms
    # a locked thread that exited 40 ms before the end stands apart from the burst
    assert threads.run._teardown_ns([60 * ms, 100 * ms, 100 * ms + 3000]) == 100 * ms
    # a busy tracer stamps the exits of one exit_group milliseconds apart: still one burst
    assert threads.run._teardown_ns([60 * ms, 100 * ms, 108 * ms, 109 * ms]) == 100 * ms
    # looks are (began, completed); one that completed after the teardown does not count
    assert threads.run._proc_window([(8, 10), (18, 20), (24, 30), (38, 40)], 25) == (8, 18)
    assert threads.run._proc_window([(28, 30), (38, 40)], 25) is None
    assert threads.run._proc_window([(8, 10), (38, 40)], None) == (8, 38)


def test_unknown_tracer_is_refused_by_name():
    with pytest.raises(ValueError, match="tracer='ltrace'"):
        threads.observe(LABS / "threads_idle", tracer="ltrace")


@pytest.mark.live
def test_cli_writes_json_and_reports_bad_input(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", "--json", str(out),
                           str(LABS / "threads_idle")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["ok"] and data["ms"][0]["m"] == 0 and "idle: done" in proc.stdout
    missing = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", str(tmp_path / "nope")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.live
def test_cli_prints_the_tree_and_draws_pictures(tmp_path):
    graph, timeline = tmp_path / "tree.svg", tmp_path / "timeline.png"
    proc = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", "--graph", str(graph), "--timeline",
                           str(timeline), str(LABS / "threads_idle")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    tree = proc.stdout.split("creation tree (who asked for each M):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert tree[0].startswith("M0 (none, tid ") and any("runtime.sysmon" in line for line in tree[1:])
    assert all(line.startswith("  └─ M") for line in tree[1:])  # the idle program's Ms are all asked for by M0
    assert graph.read_text().lstrip().startswith(("<?xml", "<svg")) and "M1" in graph.read_text()
    assert timeline.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_refuses_an_unsupported_go_before_downloading_it(tmp_path):
    env = dict(os.environ, GORUN_KIT_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", "--go", "1.21", str(LABS / "hello")],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2 and "supports Go 1.22" in proc.stderr
    assert not (tmp_path / "cache" / "go-releases").exists() or not any((tmp_path / "cache" / "go-releases").iterdir())
    proc = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", "--go", "/bin/true", str(LABS / "hello")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "/bin/true is not a go command" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gorun_kit", "threads", "--timeline", "x.txt", str(LABS / "hello")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "name a .svg, .png or .pdf file" in proc.stderr


def test_no_process_left_behind():
    mine = subprocess.run(["ps", "-o", "pid=,stat=,comm=", "--ppid", str(os.getpid())],
                          capture_output=True, text=True).stdout
    assert "strace" not in mine and "threads_" not in mine and " Z" not in mine


SAMPLE = """\
gorunkit-thread v1 start t=100 m=0 tid=50 procid=50 g0_lo=0x1000 g0_hi=0x11000 fs=0x5008 gs=0x0 m_tls=0x5000 fn=none
gorunkit-thread v1 new t=200 m=1 by_m=0 by_tid=50 fn=runtime.sysmon via=runtime.main.func1
gorunkit-thread v1 clone t=210 m=1 by_m=0 by_tid=50 cgo=0
gorunkit-thread v1 new t=300 m=2 by_m=0 by_tid=50 fn=runtime.templateThread
gorunkit-thread v1 clone t=310 m=2 by_m=0 by_tid=50 cgo=0
gorunkit-thread v1 start t=400 m=1 tid=51 procid=51 g0_lo=0x20000 g0_hi=0x24000 fs=0x6008 gs=0x0 m_tls=0x6000 fn=runtime.sysmon
gorunkit-thread v1 new t=500 m=3 by_m=1 by_tid=51 fn=none
gorunkit-thread v1 start t=505 m=2 tid=52 procid=52 g0_lo=0x30000 g0_hi=0x34000 fs=0x7008 gs=0x0 m_tls=0x7000 fn=runtime.templateThread
gorunkit-thread v1 clone t=510 m=3 by_m=2 by_tid=52 cgo=0
gorunkit-thread v1 start t=600 m=3 tid=53 procid=53 g0_lo=0x40000 g0_hi=0x44000 fs=0x9999 gs=0x0 m_tls=0x8000 fn=none
"""


def test_records_merge_into_one_row_per_m():
    ms = threads.ms_from_records(threads.parse_records(SAMPLE))
    assert [m.m for m in ms] == [0, 1, 2, 3]
    m0, m1, m2, m3 = ms
    assert m0.asked_by_m is None and m0.g0_size == 0x10000 and m0.fs_is_m_tls_plus_8
    assert (m1.start_fn, m1.asked_by_m, m1.tid, m1.t_new, m1.t_clone, m1.t_start) == ("runtime.sysmon", 0, 51, 200, 210, 400)
    assert m1.via == ("runtime.main.func1",) and m0.via == ()
    assert (m3.asked_by_m, m3.cloned_by_m, m3.cloned_by_tid) == (1, 2, 52)  # asked by M1, cloned by the template thread
    assert m3.fs_is_m_tls_plus_8 is False and m3.g0_size == 0x4000
    assert m3.to_dict()["g0_size"] == 0x4000


def test_pictures_take_records():
    import dataclasses

    from matplotlib.figure import Figure

    from gorun_kit.viz import threads as tviz

    ms = threads.ms_from_records(threads.parse_records(SAMPLE))
    report = threads.ThreadReport(program="sample", args=(), go_version="go1.27.3", binary="-", pid=50, exit_status=0,
                                  stdout="", stderr="", ms=ms, t0=100, t_end=1000, tracer="test", traced_threads=(),
                                  proc_tasks=(), schedtrace_threads=None, checks=())
    dot = tviz.creation_tree(report).source
    assert all(f"M{i}" in dot for i in range(4))
    assert "M1 -> M3" in dot and re.search(r"M2 -> M3 \[[^\]]*dashed", dot)  # newm edge and the template's clone edge
    assert "M0 -> M3" not in dot
    fig = tviz.timeline(report)
    assert isinstance(fig, Figure) and len(fig.axes[0].get_yticklabels()) == 4
    assert report.edges() == [(0, 1), (0, 2), (1, 3)]
    assert dataclasses.replace(report, ms=()).tids == ()


HANG = """package main

import "time"

func main() { time.Sleep(time.Hour) }
"""


@pytest.mark.live
@pytest.mark.parametrize("tracer", ["strace", "auto"])
def test_a_program_that_hangs_is_killed_and_nothing_is_left(go, tmp_path, tracer, private_cache):
    src = tmp_path / "gorunkit_hang_probe.go"
    src.write_text(HANG)
    binary = os.path.realpath(threads.build(src, go=go).path)
    with pytest.raises(TimeoutError):
        threads.observe(src, go=go, timeout=1.5, tracer=tracer)

    def running():
        # by executable, and by name (a zombie has no exe link but keeps its name)
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                if "(gorunkit_hang_p)" in stat or os.readlink(f"/proc/{pid}/exe") == binary:
                    found.append(stat[:80])
            except OSError:
                pass
        return found

    import time

    deadline = time.monotonic() + 5  # a killed process can take a moment to be reaped
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running() == []
    assert list((cache_dir() / "threads" / "runs").iterdir()) == []


@pytest.mark.live
@pytest.mark.slow
def test_goroot_unchanged_by_a_cold_patched_build(go, private_cache, tmp_path):
    """Empty gorun_kit cache and empty GOCACHE: the runtime really recompiles from the overlay."""
    runtime_dir = Path(go.goroot, "src", "runtime")
    before = _tree_hash(runtime_dir)
    names = set(os.listdir(runtime_dir))
    binary = threads.build(LABS / "threads_idle", go=go, gocache=tmp_path / "gocache")
    assert not binary.cached and "-overlay=" in " ".join(binary.command)
    assert _tree_hash(runtime_dir) == before and set(os.listdir(runtime_dir)) == names
    assert str(private_cache) in threads.patch(go).overlay  # generated files live in the (private) cache
    rec = subprocess.run([binary.path], env={**os.environ, threads.ENV: str(tmp_path / "r.txt")},
                         capture_output=True, text=True, timeout=60)
    assert rec.returncode == 0 and threads.parse_records((tmp_path / "r.txt").read_text())
