"""The kit's small shared pieces: the cache's write and sweep rules, reading
/proc, and the record base that gives every record its to_dict()."""
from __future__ import annotations

import ctypes
import dataclasses
import enum
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gorun_kit import cache, procfs
from gorun_kit.records import Record

linux = pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux")


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _dead_pid() -> int:
    """A pid that no longer exists: a child we started and reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ---------------------------------------------------------------------------
# cache

def test_cache_dir_follows_the_variable_and_is_created(private_cache):
    assert cache.cache_dir() == private_cache.resolve() and private_cache.is_dir()


def test_write_atomic_replaces_whole_and_leaves_no_temporary(private_cache):
    path = cache.cache_dir() / "a" / "b.txt"
    cache.write_atomic(path, "first")
    cache.write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.txt"]


def test_store_text_is_named_by_content(private_cache):
    one = cache.store_text("gen", "x.go", "package a\n")
    again = cache.store_text("gen", "x.go", "package a\n")
    other = cache.store_text("gen", "x.go", "package b\n")
    assert one == again != other and one.name == other.name == "x.go"
    assert one.read_text() == "package a\n" and other.read_text() == "package b\n"


@linux
def test_sweep_removes_only_abandoned_scratch_directories(private_cache):
    mine = cache.scratch_dir("tmp", "build")
    assert mine.parent == private_cache.resolve() / "tmp"  # never sweep a directory that is not the cache's
    assert cache.owner_pid(mine) == os.getpid()
    orphan = mine.parent / f"build.{_dead_pid()}.xyz"
    orphan.mkdir()
    old = mine.parent / f"build.{os.getpid()}.old"
    old.mkdir()
    os.utime(old, (time.time() - 2 * cache.STALE_SECONDS,) * 2)
    stray = mine.parent / "no-pid-here"
    stray.mkdir()
    removed = cache.sweep(mine.parent)
    assert sorted(removed) == sorted([orphan, old, stray])
    assert [p.name for p in mine.parent.iterdir()] == [mine.name]
    shutil.rmtree(mine)


@linux
def test_sweep_leaves_entries_of_another_pid_namespace_to_age(private_cache):
    """A grading sandbox shares the cache from its own pid namespace: its pids mean
    nothing here (and ours nothing there), so only an entry's age may condemn it."""
    mine = cache.scratch_dir("tmp", "build")
    assert mine.parent == private_cache.resolve() / "tmp"  # never sweep a directory that is not the cache's
    ns = cache._pid_namespace()
    assert mine.name.split(".")[1] == f"{os.getpid()}n{ns}"
    foreign = mine.parent / f"build.{_dead_pid()}n{ns + 1}.abc"
    foreign.mkdir()
    same_dead = mine.parent / f"build.{_dead_pid()}n{ns}.abc"
    same_dead.mkdir()
    stale = mine.parent / f"build.{os.getpid()}n{ns + 1}.old"
    stale.mkdir()
    os.utime(stale, (time.time() - 2 * cache.STALE_SECONDS,) * 2)
    assert sorted(cache.sweep(mine.parent)) == sorted([same_dead, stale])
    assert sorted(p.name for p in mine.parent.iterdir()) == sorted([mine.name, foreign.name])
    shutil.rmtree(mine)
    shutil.rmtree(foreign)


def test_owner_pid_reads_only_the_scratch_pattern():
    assert cache.owner_pid("/x/abc.123n4026531836.q7") == 123
    assert cache.owner_pid("/x/abc.123.q7") == 123
    assert cache.owner_pid("/x/.1.22.10.456.rand") == 456
    assert cache.owner_pid("/x/plain") is None and cache.owner_pid("/x/a.b.c") is None


# ---------------------------------------------------------------------------
# procfs

@linux
def test_procfs_sees_a_child_and_its_facts():
    sleep = shutil.which("sleep")
    child = subprocess.Popen([sleep, "30"])
    try:
        deadline = time.monotonic() + 5
        while procfs.cmdline(child.pid) != (sleep, "30") and time.monotonic() < deadline:
            time.sleep(0.01)  # until the child has exec'd (and the kernel has set up its arguments)
        assert procfs.exe(child.pid) == os.path.realpath(sleep)
        assert child.pid in procfs.children(os.getpid())
        assert procfs.descendant_running(os.getpid(), sleep) == child.pid
        assert procfs.cmdline(child.pid) == (sleep, "30")
        st = procfs.stat(child.pid)
        assert st.pid == child.pid and st.ppid == os.getpid() and st.comm == "sleep"
        assert procfs.status(child.pid)["Name"] == "sleep"
        assert procfs.tids(child.pid) == (child.pid,)
        assert procfs.exists(child.pid)
    finally:
        child.kill()
        child.wait()
    assert child.pid not in procfs.children(os.getpid())


@linux
def test_procfs_on_a_process_that_is_gone():
    gone = _dead_pid()
    assert not procfs.exists(gone)
    assert procfs.children(gone) == () and procfs.cmdline(gone) == ()
    assert procfs.exe(gone) is None and procfs.stat(gone) is None and procfs.status(gone) == {}
    with pytest.raises(ProcessLookupError, match=f"no process {gone}"):
        procfs.tids(gone)


@linux
def test_procfs_stat_keeps_a_name_with_parentheses_and_spaces():
    # PR_SET_NAME (15): a process may rename only itself
    code = ("import ctypes, sys, time; ctypes.CDLL(None).prctl(15, b'a) b (c', 0, 0, 0); "
            "print('ready', flush=True); time.sleep(30)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        st = procfs.stat(child.pid)
        assert st.comm == "a) b (c" and st.state in "RSD" and st.ppid == os.getpid()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


@linux
def test_procfs_reads_a_word_of_memory():
    word = ctypes.c_uint64(0x1122334455667788)
    assert procfs.read_word(os.getpid(), ctypes.addressof(word)) == 0x1122334455667788
    assert procfs.read_word(os.getpid(), 0) is None  # unmapped


# ---------------------------------------------------------------------------
# the record base

class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Inner(Record):
    dict_properties = ("double",)
    n: int

    @property
    def double(self) -> int:
        return 2 * self.n


@dataclasses.dataclass(frozen=True)
class Plain:
    x: int


@dataclasses.dataclass(frozen=True)
class Outer(Record):
    dict_properties = ("total",)
    name: str
    inners: tuple[Inner, ...]
    where: Path
    color: Color
    plain: Plain
    pairs: tuple[tuple[int, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(i.n for i in self.inners)


def test_record_to_dict_fields_then_properties_nested_records_their_own():
    o = Outer("o", (Inner(1), Inner(2)), Path("/a/b"), Color.RED, Plain(3), ((1, 2),))
    d = o.to_dict()
    assert list(d) == ["name", "inners", "where", "color", "plain", "pairs", "total"]
    assert d["inners"] == ({"n": 1, "double": 2}, {"n": 2, "double": 4})
    assert d["where"] == "/a/b" and d["color"] == "red" and d["plain"] == {"x": 3}
    assert d["pairs"] == ((1, 2),) and d["total"] == 3
    assert json.loads(json.dumps(d))["inners"][1] == {"n": 2, "double": 4}


def test_record_to_dict_matches_asdict_for_a_flat_record():
    @dataclasses.dataclass(frozen=True)
    class Flat(Record):
        a: int
        b: tuple[str, ...]
        c: dict

    f = Flat(1, ("x",), {"k": [1]})
    assert f.to_dict() == dataclasses.asdict(f)
