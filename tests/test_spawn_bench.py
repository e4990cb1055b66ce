"""gorun_kit.bench.spawn: the drivers run and report every method; no timings asserted."""
from __future__ import annotations

import json

import pytest

from gorun_kit.bench import spawn as bench
from gorun_kit.course.layout import course_root
from gorun_kit.viz.spawn import latency_plot

COURSE = course_root()  # the labs the drivers are built from

pytestmark = pytest.mark.live


def test_measure_tiny_all_methods():
    pts = bench.measure([0, 8 * bench.MiB], labs=COURSE, reps=2, runs=2)
    assert {p.method for p in pts} == set(bench.C_METHODS + bench.GO_METHODS)
    assert all(p.samples == 4 and len(p.run_medians_ns) == 2 and p.median_ns > 0 for p in pts)
    big = {p.method: p.rss_kib for p in pts if p.touched_bytes == 8 * bench.MiB}
    small = {p.method: p.rss_kib for p in pts if p.touched_bytes == 0}
    # the touched memory really is resident in each driver
    assert all(big[m] - small[m] >= 7 * 1024 for m in big)
    table = bench.markdown_table(pts)
    assert table.count("\n| ") == len(bench.C_METHODS + bench.GO_METHODS)
    fig = latency_plot(pts)
    assert len(fig.axes[0].lines) == len(bench.C_METHODS + bench.GO_METHODS)
    json.dumps([p.to_dict() for p in pts])


@pytest.mark.parametrize("text, value", [("0", 0), ("256M", 256 << 20), ("1G", 1 << 30), ("4GiB", 4 << 30),
                                         ("4096", 4096), ("1.5K", 1536)])
def test_parse_size(text, value):
    assert bench.parse_size(text) == value


def test_bad_inputs():
    with pytest.raises(ValueError, match="256M"):
        bench.parse_size("lots")
    with pytest.raises(ValueError, match="unknown spawn methods"):
        bench.measure([0], labs=COURSE, methods=["teleport"])
    with pytest.raises(ValueError, match="reps"):
        bench.measure([0], labs=COURSE, reps=0)
    with pytest.raises(ValueError, match="non-negative"):
        bench.measure([-1], labs=COURSE)
    with pytest.raises(ValueError, match="at least one"):
        latency_plot([])


def test_ratio_and_committed_result(repo):
    data = json.loads((repo / "benchmarks" / "results" / "spawn_latency.json").read_text())
    pts = [bench.LatencyPoint(**{**p, "run_medians_ns": tuple(p["run_medians_ns"])}) for p in data["points"]]
    big = max(p.touched_bytes for p in pts)
    # the shape the chapter explains, on the committed run
    assert bench.ratio(pts, "fork", big) > 5
    assert bench.ratio(pts, "vfork", big) < 2
    with pytest.raises(KeyError, match="no measurement"):
        bench.ratio(pts, "fork", 12345)


def test_cli_lists_spawn(capsys):
    from gorun_kit import cli

    with pytest.raises(SystemExit):
        cli.main(["bench", "spawn", "--help"])
    assert "--sizes" in capsys.readouterr().out


def test_cli_writes_json_and_plot(tmp_path, capsys):
    """--plot is drawn by the command layer from the points the benchmark measured."""
    from gorun_kit import cli

    out_json, out_png = tmp_path / "points.json", tmp_path / "plot.png"
    assert cli.main(["bench", "spawn", "--sizes", "0", "--reps", "1", "--runs", "1", "--methods", "fork,vfork",
                     "--json", str(out_json), "--plot", str(out_png)]) == 0
    assert [p["method"] for p in json.loads(out_json.read_text())] == ["fork", "vfork"]
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| fork |" in capsys.readouterr().out
