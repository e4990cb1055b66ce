"""Pictures of a trace: they take records, stay small for big trees, and show
what the trace holds. Synthetic traces (no process runs) plus one real one."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from gorun_kit import trace
from gorun_kit.trace import ExecEvent, ExitEvent, SpawnEvent, Trace
from gorun_kit.viz import trace as vt

GO_EXEC = 0x100 | 0x1000 | 0x4000 | 17  # CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD
GO_THREAD = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000


def _spawn(ts, ppid, ptid, child, flags, thread=False, pid=None):
    names = tuple(n for n, b in trace.CLONE_FLAGS.items() if flags & b and b > 0xff)
    names += ("SIGCHLD",) if flags & 0xff == 17 else ()
    return SpawnEvent(ts, ppid, ptid, pid if thread else child, child, "clone", flags, names,
                      None if thread else "SIGCHLD", thread)


def _exec(ts, pid, prog, *args):
    return ExecEvent(ts, pid, pid, "execve", f"/usr/bin/{prog}", (prog, *args), ("A=1",), None)


def big_build_trace(n_compile=300, n_asm=40, threads_each=3) -> Trace:
    """A go-build-like tree: one driver, hundreds of compile/asm children,
    each with a few threads of its own."""
    ev, ts, nxt = [_exec(1, 100, "go", "build")], 2, 1000
    for t in range(5):
        ev.append(_spawn(ts, 100, 100, 101 + t, GO_THREAD, thread=True, pid=100))
        ts += 1
    for prog, n in (("compile", n_compile), ("asm", n_asm)):
        for i in range(n):
            child = nxt
            nxt += 10
            ev += [_spawn(ts, 100, 101, child, GO_EXEC), _exec(ts + 1, child, prog, f"-p=pkg{i}")]
            for k in range(threads_each):
                ev.append(_spawn(ts + 2, child, child, child + 1 + k, GO_THREAD, thread=True, pid=child))
            for k in range(threads_each):
                ev.append(ExitEvent(ts + 3, child, child + 1 + k, 0, None, False))
            ev.append(ExitEvent(ts + 4, child, child, 0, None, True))
            ts += 5
    ev.append(ExitEvent(ts, 100, 100, 0, None, True))
    return Trace(("go", "build"), "events", 100, 0, tuple(ev), start_ns=0)


def test_graph_of_a_big_tree_is_collapsed():
    t = big_build_trace()
    assert len(t.processes()) == 341
    g = vt.process_graph(t)
    nodes = [line for line in g.body if "label=<" in line]
    assert len(nodes) == 3  # go, 300 compile as one box, 40 asm as one box
    src = g.source
    assert "300 processes like" in src and "40 processes like" in src
    assert "VM|PIDFD|VFORK|SIGCHLD" in src and "go-exec" in src
    assert "go-thread ×3 each" in src
    # without collapsing it is a hairball: one box per process
    flat = vt.process_graph(t, collapse=False, max_boxes=10_000)
    assert len([line for line in flat.body if "label=<" in line]) == 341


def test_graph_caps_the_number_of_boxes():
    # distinct argv counts do not matter: collapse keys on program, kind and shape
    t = big_build_trace()
    g = vt.process_graph(t, collapse=False, max_boxes=20)
    assert len([line for line in g.body if "label=<" in line]) == 20
    assert "more processes" in g.source


def test_timeline_shares_rows_between_leaf_processes():
    t = big_build_trace()
    fig = vt.lifetime_timeline(t)
    labels = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert labels[0].startswith("go [100]")
    assert "compile ×300" in labels and "asm ×40" in labels
    assert len(labels) == 3


@pytest.mark.live
def test_pictures_of_a_real_trace():
    sys.path.insert(0, os.path.dirname(__file__))
    from trace_helpers import c_prog

    t = trace.run([c_prog("spawn_kinds")])
    g = vt.process_graph(t)
    src = g.source
    for kind in ("glibc-fork", "vfork", "posix_spawn"):
        assert f"[{kind}]" in src
    assert "pthread" in src  # the thread, inside the root's box
    assert len([line for line in g.body if "label=<" in line]) == 6
    fig = vt.lifetime_timeline(t)
    assert fig.axes[0].get_title().startswith("lifetimes: 6 processes")


@pytest.mark.live
def test_cli_trace_writes_loadable_records(tmp_path):
    out = tmp_path / "t.jsonl"
    p = subprocess.run([sys.executable, "-m", "gorun_kit", "trace", "--json", str(out), "--", "/bin/sh", "-c",
                        "/bin/true; exit 3"], capture_output=True, text=True)
    assert p.returncode == 3, p.stderr
    assert "2 processes" in p.stderr and "exit status 3" in p.stderr
    t = trace.load(out)
    assert [e.program for e in t.execs] == ["sh", "true"]
    p = subprocess.run([sys.executable, "-m", "gorun_kit", "trace", "--", "no-such-command-xyz"],
                       capture_output=True, text=True)
    assert p.returncode == 127 and "no-such-command-xyz" in p.stderr and "Traceback" not in p.stderr


GO_PROBE = 0x100 | 0x1000 | 0x4000  # the pidfd probe: no exit signal


def go_run_trace(rng) -> Trace:
    """What `go run hello.go` makes: the probe, three version queries, the
    compile and link of main, the program; each with a random number of threads."""
    ev, ts = [_exec(1, 100, "go", "run", "hello.go")], 2
    ev.append(_spawn(ts, 100, 100, 101, GO_THREAD, thread=True, pid=100))
    names = tuple(n for n, b in trace.CLONE_FLAGS.items() if GO_PROBE & b)
    ev += [SpawnEvent(3, 100, 101, 200, 200, "clone", GO_PROBE, names, None, False),
           ExitEvent(4, 200, 200, 0, None, True)]
    jobs = [("compile", "-V=full"), ("asm", "-V=full"),
            ("compile", "-o", "/tmp/go-build123/b001/_pkg_.a", "-p", "main"),
            ("link", "-V=full"), ("link", "-o", "/tmp/go-build123/b001/exe/hello", "-buildmode=exe")]
    pid, ts = 300, 10
    for job in jobs + [("hello",)]:
        ev += [_spawn(ts, 100, 101, pid, GO_EXEC), _exec(ts + 1, pid, *job)]
        for k in range(rng.randint(3, 5)):
            ev.append(_spawn(ts + 2, pid, pid, pid + 1 + k, GO_THREAD, thread=True, pid=pid))
        ev.append(ExitEvent(ts + 3, pid, pid, 0, None, True))
        pid, ts = pid + 100, ts + 10
    ev.append(ExitEvent(ts, 100, 100, 0, None, True))
    return Trace(("go", "run", "hello.go"), "events", 100, 0, tuple(ev), start_ns=0)


def _boxes(g):
    return [line for line in g.body if "label=<" in line]


@pytest.mark.parametrize("seed", range(3))
def test_graph_of_go_run_keeps_jobs_apart_and_in_order(seed):
    import random

    t = go_run_trace(random.Random(seed))
    g = vt.process_graph(t, threads_inline=0)
    src = g.source
    # a version query and a real compile are different jobs: 1 + probe + 6 boxes
    assert len(_boxes(g)) == 8 and "processes like" not in src
    # edges numbered by start time: the probe first, the program last
    labels = [line for line in g.body if " -> " in line]
    assert "1. clone VM|PIDFD|VFORK\\n[go-pidfd-probe]" in labels[0]
    assert "p800" in labels[-1] and '"7. clone VM|PIDFD|VFORK|SIGCHLD' in labels[-1]
    # the probe, box and edge, is dashed; nothing else is
    probe_box = next(line for line in _boxes(g) if "p200 " in line)
    assert "dashed" in probe_box and "pidfd probe" in probe_box and "dashed" in labels[0]
    assert sum("dashed" in line for line in g.body) == 2
    # threads counted by kind, no tids; temporary directories cut to the file name
    assert "go-thread ×" in src and "(go-thread)" not in src
    assert "…/_pkg_.a" in src and "…/hello" in src and "go-build123" not in src
    # keyed on the program alone, the two compiles and the two links merge
    merged = vt.process_graph(t, threads_inline=0, same_options=False)
    assert len(_boxes(merged)) == 6 and "2 processes like" in merged.source


def test_merged_boxes_give_the_range_of_thread_counts():
    ev, ts = [_exec(1, 100, "go", "build")], 2
    counts = [3, 5, 4]
    for i, n in enumerate(counts):
        child = 1000 + 10 * i
        ev += [_spawn(ts, 100, 100, child, GO_EXEC), _exec(ts + 1, child, "compile", f"-p=pkg{i}")]
        ev += [_spawn(ts + 2, child, child, child + 1 + k, GO_THREAD, thread=True, pid=child) for k in range(n)]
        ts += 5
    t = Trace(("go", "build"), "events", 100, 0, tuple(ev), start_ns=0)
    g = vt.process_graph(t)
    assert len(_boxes(g)) == 2 and "3 processes like" in g.source
    assert "go-thread ×3–5 each" in g.source


@pytest.mark.live
def test_picture_of_fork_and_sh():
    from pathlib import Path
    from gorun_kit.build import build_c

    d = Path(__file__).resolve().parent.parent / "labs_c" / "spawn_methods"
    lab = build_c([d / "main.c", d / "spawn.c"], cflags=["-O2", "-std=gnu11"], name="spawn_methods").path
    t = trace.run([lab, "run", "fork", "/bin/sh", "-c", "/bin/true; /bin/true"])
    assert t.returncode == 0
    procs = t.processes()
    sh = [p for p in procs.values() if any(e.program == "sh" for e in p.execs)]
    assert len(sh) == 1 and sh[0].parent_pid == t.root_pid and sh[0].kind == "glibc-fork"
    # the shell forks for the first /bin/true; the last command may be exec'd in place
    trues = [p for p in procs.values() if p.program == "true" and p.pid != sh[0].pid]
    assert trues and all(p.parent_pid == sh[0].pid for p in trues)
    src = vt.process_graph(t).source
    assert "spawn_methods run fork" in src and "[glibc-fork]" in src and "sh -c" in src
    assert "dashed" not in src  # every process here exec'd and has an exit signal


def _rmtree(path):
    """Remove a GOCACHE: Go makes its module cache read-only (not GOCACHE,
    today), so make anything that refuses writable and try again."""
    import shutil
    import stat

    def retry(func, p, _exc):
        os.chmod(os.path.dirname(p), stat.S_IRWXU)
        if os.path.lexists(p) and not os.path.islink(p):
            os.chmod(p, stat.S_IRWXU)
        func(p)

    shutil.rmtree(path, onerror=retry)


@pytest.mark.live
@pytest.mark.slow
def test_pictures_of_a_real_cold_go_build_stay_small(tmp_path, go):
    """A real `go build` with an empty GOCACHE compiles the standard library
    it needs: a hundred processes and hundreds of threads. Both pictures
    must still fit on a page."""
    import tempfile
    from collections import Counter

    from gorun_kit.toolchain import go_env

    (tmp_path / "go.mod").write_text("module hello\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text('package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\n'
                                      'func main() { fmt.Fprintln(os.Stdout, "hello") }\n')
    gocache = tempfile.mkdtemp(prefix="gorun-kit-gocache-")
    try:
        t = trace.run([go.go, "build", "-o", str(tmp_path / "hello"), "."], cwd=tmp_path,
                      env=go_env(gocache=gocache, toolchain=go), timeout=600)
    finally:
        _rmtree(gocache)
    assert t.returncode == 0, t.stderr
    assert not os.path.exists(gocache)
    procs = t.processes()
    programs = Counter(p.program for p in procs.values())
    assert len(procs) > 50, programs
    assert programs["compile"] > 20 and programs["link"] >= 1, programs  # it really compiled
    assert sum(s.is_thread for s in t.spawns) > len(procs)

    g = vt.process_graph(t)
    boxes = _boxes(g)
    assert len(boxes) <= 30, f"{len(boxes)} boxes for {len(procs)} processes"
    assert "more processes" not in g.source  # small by collapsing, nothing cut off
    merged = [int(n) for n in re.findall(r"<B>(\d+) processes like pid", g.source)]
    assert len(boxes) - len(merged) + sum(merged) == len(procs)  # every process is in exactly one box
    assert max(merged) >= 20  # the compiles of the standard library share a box

    fig = vt.lifetime_timeline(t)
    labels = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert len(labels) <= 10, labels
    assert labels[0].startswith("go [") and f"compile ×{programs['compile']}" in labels
    assert fig.get_size_inches()[1] < 5


def test_graphviz_pictures_carry_a_png_for_untrusted_notebooks():
    import base64

    from gorun_kit.viz.graph import Graph

    g = Graph("demo")
    g.edge("parent", "child")
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "graphviz.graphs" not in bundle["text/plain"]
    assert set(g._repr_mimebundle_(include={"image/png"})) == {"image/png"}
