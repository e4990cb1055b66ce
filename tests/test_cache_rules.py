"""Where the kit's cache lives and the rules for writing into it and sweeping it,
at their edges: which variable wins, how names are made and read back, and what
the age limit does. Every sweep here runs on the test's own directory."""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from gorun_kit import cache


@pytest.fixture
def no_cache_variables(monkeypatch, tmp_path):
    monkeypatch.delenv("GORUN_KIT_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cache_dir_order_of_the_variables(no_cache_variables, monkeypatch):
    tmp = no_cache_variables
    assert cache.cache_dir() == tmp / "home" / ".cache" / "gorun_kit"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp / "xdg"))
    assert cache.cache_dir() == tmp / "xdg" / "gorun_kit"
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp / "kit"))
    assert cache.cache_dir() == tmp / "kit"
    monkeypatch.setenv("GORUN_KIT_CACHE", "")  # empty means unset
    assert cache.cache_dir() == tmp / "xdg" / "gorun_kit"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert cache.cache_dir() == tmp / "home" / ".cache" / "gorun_kit"
    assert all(p.is_dir() for p in (tmp / "kit", tmp / "xdg" / "gorun_kit", tmp / "home" / ".cache" / "gorun_kit"))


def test_cache_dir_is_absolute_with_home_expanded(no_cache_variables, monkeypatch):
    tmp = no_cache_variables
    monkeypatch.setenv("GORUN_KIT_CACHE", "~/kc")
    assert cache.cache_dir() == tmp / "home" / "kc"
    monkeypatch.setenv("GORUN_KIT_CACHE", "rel/../kc2")
    assert cache.cache_dir() == tmp / "kc2" and cache.cache_dir().is_absolute()


def test_write_atomic_makes_parents_and_returns_the_path(tmp_path):
    target = tmp_path / "deep" / "er" / "f.bin"
    assert cache.write_atomic(target, b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01"
    assert cache.write_atomic(str(target), "text") == target and target.read_text() == "text"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]


def test_store_text_layout_and_written_once(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "c"))
    path = cache.store_text("patches", "proc.go", "package runtime\n")
    digest = hashlib.sha256(b"package runtime\n").hexdigest()[:16]
    assert path == (tmp_path / "c").resolve() / "patches" / digest / "proc.go"
    path.write_text("changed by hand\n")  # an existing file is trusted, not written again
    assert cache.store_text("patches", "proc.go", "package runtime\n").read_text() == "changed by hand\n"


def test_scratch_dirs_are_private_and_named_by_their_owner(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "c"))
    one, two = cache.scratch_dir("area", "job"), cache.scratch_dir("area", "job")
    assert one != two and one.parent == two.parent == (tmp_path / "c").resolve() / "area"
    assert one.is_dir() and one.name.startswith(f"job.{os.getpid()}n")
    assert cache.owner_pid(one) == os.getpid()
    assert cache._owner(one) == (os.getpid(), cache._pid_namespace())


@pytest.mark.parametrize("name, owner", [
    ("p.12n34.r", (12, 34)), ("p.12n.r", (12, None)), ("p.12.r", (12, None)), ("p.x12.r", None),
    ("p.12nx.r", None), ("p.r", None), ("12.r", None), ("a.b.12.r", (12, None)),
])
def test_owner_reads_pid_and_namespace(name, owner):
    assert cache._owner(Path("/x") / name) == owner
    assert cache.owner_pid(name) == (owner[0] if owner else None)


def test_sweep_age_limit_applies_to_live_owners_too(tmp_path):
    live = tmp_path / f"job.{os.getpid()}.r"
    live.mkdir()
    assert cache.sweep(tmp_path) == [] and live.is_dir()
    os.utime(live, (time.time() - 100,) * 2)
    assert cache.sweep(tmp_path, max_age=200) == [] and live.is_dir()
    assert cache.sweep(tmp_path, max_age=50) == [live] and not live.exists()
    assert cache.sweep(tmp_path / "missing") == []


@pytest.mark.skipif(not os.path.exists("/proc/self/ns/pid"), reason="pid namespaces are Linux's")
def test_pid_namespace_is_the_inode_of_ours():
    assert cache._pid_namespace() == os.stat("/proc/self/ns/pid").st_ino != 0


def test_an_entry_that_cannot_be_read_or_removed_does_not_stop_the_sweep(tmp_path):
    dead = []
    for i in range(8):  # names with no pid: abandoned
        d = tmp_path / f"job-{i}"
        d.mkdir()
        dead.append(d)
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")  # its stat fails, as when its owner removes it
    (tmp_path / "stray-file").write_text("x")  # not a directory: rmtree cannot remove it
    removed = cache.sweep(tmp_path)
    assert set(dead) <= set(removed) and not any(d.exists() for d in dead)
    assert tmp_path / "dangling" not in removed
