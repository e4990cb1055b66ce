"""gorun_kit.bench.tracer: every traced run is checked against what the
workload did (the /bin/true execs, all complete); no timings asserted."""
from __future__ import annotations

import json
import subprocess

import pytest

from gorun_kit import trace
from gorun_kit.bench import tracer as bench
from gorun_kit.course.layout import course_root

COURSE = course_root()  # the lab the Go workload is built from

pytestmark = pytest.mark.live


def _traced(tmp_path, w: bench.Workload) -> str:
    out = str(tmp_path / "t.jsonl")
    subprocess.run([trace.tracer_binary(), "--output", out, "--", *w.argv], check=True,
                   stdout=subprocess.DEVNULL, timeout=60)
    return out


def test_measure_tiny_checks_every_traced_run():
    result = bench.measure(runs=2, n_true=3, n_go=2, sleepers=1, labs=COURSE)
    assert {(r.workload, r.method) for r in result.rows} == {
        (w, m) for w in ("sh loop of 3 /bin/true", "Go: 1 sleepers + 2 exec.Command") for m in bench.METHODS}
    assert all(len(r.seconds) == 2 for r in result.rows)
    by_name = result.stops
    assert by_name["sh loop of 3 /bin/true"]["true_execs"] == 3
    assert by_name["Go: 1 sleepers + 2 exec.Command"]["true_execs"] == 2
    assert all(s["checked_runs"] == 2 and s["incomplete_execs"] == 0 for s in by_name.values())
    json.dumps(result.to_dict())


@pytest.mark.parametrize("which", [0, 1])
def test_check_run_counts_the_true_execs(tmp_path, which):
    w = bench.workloads(n_true=3, n_go=2, sleepers=1, labs=COURSE)[which]
    out = _traced(tmp_path, w)
    recs = bench.check_run(out, w)
    assert sum(r["type"] == "exec" and r["filename"] == "/bin/true" for r in recs) == w.true_runs
    wrong = bench.Workload(w.name, w.argv, w.true_runs + 1)
    with pytest.raises(bench.TraceCheckFailed,
                       match=rf"{w.true_runs} exec records of /bin/true, the workload runs it {w.true_runs + 1}"):
        bench.check_run(out, wrong)


def test_check_run_rejects_incomplete_and_cut_records(tmp_path):
    w = bench.workloads(n_true=2, n_go=1, sleepers=0, labs=COURSE)[0]
    out = _traced(tmp_path, w)
    recs = [json.loads(line) for line in open(out)]
    last_true = max(i for i, r in enumerate(recs) if r["type"] == "exec" and r["filename"] == "/bin/true")

    def write(records):
        bad = tmp_path / "bad.jsonl"
        bad.write_text("".join(json.dumps(r) + "\n" for r in records))
        return str(bad)

    recs[last_true]["complete"] = False
    with pytest.raises(bench.TraceCheckFailed, match=r"1 of \d+ exec records are incomplete.*/bin/true"):
        bench.check_run(write(recs), w)
    recs[last_true]["complete"] = True
    with pytest.raises(bench.TraceCheckFailed, match="start to an end record"):
        bench.check_run(write(recs[:-1]), w)
    with pytest.raises(bench.TraceCheckFailed, match="sh loop of 2"):
        bench.check_run(write(recs[:last_true] + recs[last_true + 1:]), w)
    bench.check_run(write(recs), w)


def test_workload_sizes_are_checked():
    with pytest.raises(ValueError, match="n_true must be a positive integer"):
        bench.workloads(n_true=0, labs=COURSE)
    with pytest.raises(ValueError, match="n_go"):
        bench.workloads(n_go="200", labs=COURSE)
    assert [w.true_runs for w in bench.workloads(labs=COURSE)] == [500, 200]
