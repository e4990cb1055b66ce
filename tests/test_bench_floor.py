"""The tracer benchmark's floor: benchmarks/null_tracer.c takes the stops our
tracer takes (and fewer in its variants), resumes them so the traced program
runs as it would, and the floor table reads the result per process."""
from __future__ import annotations

import json
import subprocess

import pytest

from gorun_kit import trace
from gorun_kit.bench import tracer as bench
from gorun_kit.course.layout import course_root

COURSE = course_root()  # the checkout whose benchmarks/ holds the null tracer

# a failed exec (in a subshell), three children, and an exit status to pass on
SCRIPT = ("/bin/sh", "-c", "(exec /no/such/program) 2>/dev/null; /bin/true; /bin/true; exit 3")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run of SCRIPT under the tracer and under each null tracer variant:
    (the tracer's exit status and end-record stops, {--stops: (exit status, counts)})."""
    tmp = tmp_path_factory.mktemp("floor")
    null = bench.build_null_tracer(COURSE, tmp)
    out = tmp / "t.jsonl"
    tr = subprocess.run([trace.tracer_binary(), "--output", str(out), "--", *SCRIPT], timeout=60)
    tracer_stops = json.loads(out.read_text().splitlines()[-1])["stops"]
    variants = {}
    for stops in bench.FLOOR.values():
        p = subprocess.run([null, "--stops", stops, "--count", "--", *SCRIPT], capture_output=True, text=True,
                           timeout=60)
        variants[stops] = (p.returncode, json.loads(p.stderr.splitlines()[-1]))
    return tr.returncode, tracer_stops, variants


@pytest.mark.live
def test_null_tracer_takes_the_tracers_stops(runs):
    status, tracer_stops, variants = runs
    assert status == 3
    for stops in ("full", "requests"):
        code, counts = variants[stops]
        assert code == 3
        assert {k: v for k, v in counts.items() if k != "waits"} == tracer_stops
    assert tracer_stops["syscall"] >= 1  # the failed exec's exit stop is part of what is compared


@pytest.mark.live
def test_fewer_stops_drop_exactly_the_exec_stops(runs):
    _, tracer_stops, variants = runs
    full = variants["full"][1]
    no_entry, spawn_only = variants["no-entry"][1], variants["spawn-only"][1]
    assert variants["no-entry"][0] == variants["spawn-only"][0] == 3
    assert no_entry["seccomp"] == no_entry["syscall"] == 0
    assert no_entry["exec_event"] == full["exec_event"] == tracer_stops["exec_event"]
    assert spawn_only["exec_event"] == 0
    for counts in (no_entry, spawn_only):
        assert (counts["spawn_event"], counts["initial"], counts["signal"]) == (
            full["spawn_event"], full["initial"], full["signal"])
    # every stop is one waitpid report, and so is every death
    assert full["waits"] - no_entry["waits"] == full["seccomp"] + full["syscall"]


def test_null_tracer_needs_a_course_checkout(tmp_path):
    with pytest.raises(FileNotFoundError, match="null_tracer.c"):
        bench.build_null_tracer(tmp_path, tmp_path)


def test_floor_methods_are_commands_only_when_asked():
    cmd = ("/bin/true",)
    plain = bench._commands(cmd, "T", "S", "out")
    assert not set(bench.FLOOR) & set(plain)
    with_floor = bench._commands(cmd, "T", "S", "out", null_tracer="N")
    for method, stops in bench.FLOOR.items():
        assert with_floor[method] == ["N", "--stops", stops, "--", "/bin/true"]


def _row(method, median, workload="w"):
    return bench.TracerBenchRow(workload, method, (median,), median, median / 0.5, median, 1.0, 1.0)


def test_floor_table_per_process():
    strace = bench.METHODS[3]
    result = bench.TracerBenchResult(
        rows=(_row("plain", 0.5), _row("tracer", 0.7), _row("null tracer", 0.6), _row(strace, 1.0)),
        runs=1,
        stops={"w": {"stops": {"seccomp": 100, "exec_event": 100},
                     "floor": {"null tracer": {"seccomp": 100, "exec_event": 100, "waits": 300}}}},
        children={"w": 100}, machine="m")
    lines = bench.floor_table(result).splitlines()
    assert len(lines) == 2 + 3  # header, rule, every method but plain
    assert lines[2] == "| w | tracer | 1.40x | 0.70 | 2000 | 2.00 |  |"
    assert lines[3] == "| w | null tracer | 1.20x | 0.60 | 1000 | 2.00 | 3.00 |"
    assert lines[4] == f"| w | {strace} | 2.00x | 1.00 | 5000 |  |  |"
