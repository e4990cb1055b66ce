"""The build cache under damage and concurrency: a damaged meta.json is a
missing entry, sweeping beside builders never raises, and a SIGKILLed build
leaves no compiler running."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gorun_kit import build, cache, procfs

pytestmark = pytest.mark.live

HELLO_C = '#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n'


@pytest.mark.parametrize("damage", ["", "{}", '{"path": "/x", "kind": "c"', "[1, 2]", "\xff\xfe"],
                         ids=["empty", "empty-object", "truncated", "not-an-object", "not-utf8"])
def test_a_damaged_meta_json_is_rebuilt_and_replaced(damage, tmp_path, private_cache):
    src = tmp_path / "hello.c"
    src.write_text(HELLO_C % f"damage {len(damage)} {damage[:1].isalnum()}")
    first = build.build_c(src)
    entry = Path(first.path).parent
    (entry / "meta.json").write_bytes(damage.encode("latin-1"))
    again = build.build_c(src)
    assert not again.cached and again.path == first.path
    assert json.loads((entry / "meta.json").read_text())["key"] == first.key  # replaced by a whole one
    assert build.build_c(src).cached
    assert subprocess.run([again.path], capture_output=True).returncode == 0
    assert list((private_cache / "tmp").iterdir()) == [], "the damaged entry must not be left in the scratch area"


def test_an_entry_whose_program_is_gone_is_rebuilt(tmp_path, private_cache):
    src = tmp_path / "hello.c"
    src.write_text(HELLO_C % "gone")
    first = build.build_c(src)
    os.unlink(first.path)
    again = build.build_c(src)
    assert not again.cached and os.path.isfile(again.path)


def test_sweeping_beside_builders_never_raises(private_cache):
    """Builders make scratch directories, fill them and rename them away (as
    _build_entry does) while sweepers sweep the same area."""
    area = private_cache / "tmp"
    dest = private_cache / "done"
    dest.mkdir(parents=True)
    errors: list[BaseException] = []
    counts = {"sweeps": 0, "renames": 0}
    stop_at = time.monotonic() + 3.0

    def builder(n: int) -> None:
        i = 0
        while time.monotonic() < stop_at:
            work = cache.scratch_dir("tmp", f"b{n}")
            (work / "sub").mkdir()
            (work / "sub" / "f").write_text("x")
            os.rename(work, dest / f"{n}-{i}")
            counts["renames"] += 1
            i += 1

    def dead_owner() -> None:  # directories whose owner is gone, for the sweepers to race over
        staging = private_cache / "staging"
        staging.mkdir()
        while time.monotonic() < stop_at:
            name = f"old.999999999.{time.monotonic_ns()}"
            (staging / name).mkdir()
            (staging / name / "f").write_text("x")
            os.rename(staging / name, area / name)  # whole, as a dead builder would have left it

    def sweeper() -> None:
        while time.monotonic() < stop_at:
            cache.sweep(area)
            counts["sweeps"] += 1

    def guard(fn, *args):
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - the test reports any
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(builder, n)) for n in range(2)]
    threads += [threading.Thread(target=guard, args=(dead_owner,))]
    threads += [threading.Thread(target=guard, args=(sweeper,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors[:3]
    assert counts["sweeps"] > 0 and counts["renames"] > 0
    assert not any(cache.owner_pid(p) == os.getpid() for p in area.iterdir()), "a builder's directory was left"


def test_sweep_of_an_area_that_is_gone_is_empty(tmp_path):
    assert cache.sweep(tmp_path / "never-made") == []


def _session(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def _live_in_session(sid: int) -> list[tuple[int, str]]:
    """(pid, comm) of every process of session ``sid`` that is not a zombie."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and _session(int(name)) == sid:
            st = procfs.stat(int(name))
            if st is not None and st.state not in ("Z", "X"):
                found.append((st.pid, st.comm))
    return found


@pytest.mark.slow
def test_a_sigkilled_build_go_leaves_no_compiler_running(go, tmp_path, private_cache):
    # net/http with an empty private GOCACHE compiles ~150 standard packages: many seconds cold.
    src = tmp_path / "big.go"
    src.write_text('package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\n'
                   'func main() { fmt.Println(http.StatusOK) }\n')
    code = "import sys; from gorun_kit import build; build.build_go(sys.argv[1], gocache=sys.argv[2])"
    tmp = tmp_path / "tmp"  # go's work directory would go here, were it not in the kit's scratch directory
    tmp.mkdir()
    py = subprocess.Popen([sys.executable, "-c", code, str(src), str(tmp_path / "gocache")],
                          env={**os.environ, "GORUN_KIT_PROGRESS": "0", "TMPDIR": str(tmp)}, start_new_session=True)
    sessions = {py.pid}  # its own, and any its children start

    def live() -> list[tuple[int, str]]:
        return [p for sid in sessions for p in _live_in_session(sid) if p[0] != py.pid]

    seen: dict[int, str] = {}
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and "compile" not in seen.values():
            sessions.update(filter(None, map(_session, procfs.children(py.pid))))
            seen.update(live())
            time.sleep(0.05)
        assert "compile" in seen.values(), f"go build never started a compile: {seen}"
        assert py.poll() is None, "the build finished before it could be killed"
    finally:
        py.send_signal(signal.SIGKILL)
        py.wait()
    deadline = time.monotonic() + 10
    left = live()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = live()
    assert left == [], f"left running after SIGKILL of build_go: {left} (seen: {sorted(set(seen.values()))})"
    assert list(tmp.iterdir()) == []  # go's killed work directory is in the cache's tmp area, which sweep() empties
    assert [p.name for p in (private_cache / "tmp").glob("*/go-build*")], "go's work directory was not in ours"
