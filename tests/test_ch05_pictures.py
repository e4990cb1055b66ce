"""Chapter 5's pictures: start-up labels clear of the dots, the scatter, the seccomp demo."""
from __future__ import annotations

import json

import pytest

from gorun_kit.bench.startup import Probe, Result, Run, StartupReport
from gorun_kit.nb import ProgramRun
from gorun_kit.viz.outlook import errno_name, seccomp_demo_graph
from gorun_kit.viz.startup import label_position, startup_figure, startup_scatter


def _report() -> StartupReport:
    def result(name, label, ms, kb, threads):
        runs = tuple(Run(name, int(m * 1e6), k, t, k, 0) for m, k, t in zip(ms, kb, threads))
        return Result(Probe(name, label, ("x",)), runs)

    return StartupReport((result("c-static", "C, static", [1, 4, 9], [700, 700, 720], [1, 1, 1]),
                          result("go", "Go", [6, 8, 30], [2000, 2100, 2100], [4, 5, 4]),
                          result("java", "Java", [300, 400, 700], [40000, 41000, 40500], [19, 19, 20]),
                          Result(Probe("python", "Python", (), skipped="not installed"), ())), 3, {})


def test_label_position_is_right_of_every_dot():
    assert label_position([5, 9, 2], log=True) > 9
    assert label_position([1, 1], log=False, span=20) == pytest.approx(1.8)
    assert label_position([4, 5], log=False) == pytest.approx(5.2)


def test_startup_figure_labels_clear_the_dots():
    fig = startup_figure(_report())
    report = _report()
    for ax in fig.axes:
        dots = [max(c.get_offsets()[:, 0]) for c in ax.collections]
        for text, rightmost in zip(ax.texts, dots):
            assert text.get_position()[0] > rightmost, (ax.get_title(), text.get_text())
        assert ax.get_xlim()[1] > max(t.get_position()[0] for t in ax.texts)
    assert "skipped: Python: not installed" in fig._suptitle.get_text()
    assert len(fig.axes[0].texts) == len(report.ran()) == 3  # the skipped probe has no bar


def test_startup_scatter_one_series_per_program():
    fig = startup_scatter(_report())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["C, static", "Go", "Java"]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="no probe that ran"):
        startup_scatter(StartupReport((), 3, {}))


def _run(filtered: bool) -> ProgramRun:
    out = {"seccomp_mode": "2" if filtered else "0", "seccomp_filters": "1" if filtered else "0",
           "target": "/bin/true", "ok": not filtered,
           "error": "fork/exec /bin/true: operation not permitted" if filtered else "<nil>",
           "is_eperm": filtered, "is_permission": filtered}
    said = "seccomp_deny: filter installed; self-check execve" if filtered else "seccomp_deny: no filter (control run)"
    return ProgramRun(("seccomp_deny", "ch5_exec"), 1 if filtered else 0, json.dumps(out) + "\n", said + "\n")


def test_seccomp_demo_graph_marks_the_refused_exec():
    src = seccomp_demo_graph({"with the filter": _run(True), "control": _run(False)}).source
    assert "with the filter: exit 1" in src and "control: exit 0" in src
    assert "Seccomp: 2, Seccomp_filters: 1" in src and "Seccomp: 0, Seccomp_filters: 0" in src
    assert "operation not permitted" in src and "EPERM, sent back through" in src
    refused = src.split("c0 [", 1)[1].split("]", 1)[0]
    allowed = src.split("c1 [", 1)[1].split("]", 1)[0]
    assert "#fcbba1" in refused and "#fcbba1" not in allowed
    assert "CLONE_" not in src  # the flags are not in the records, so not in the picture
    out = json.loads(_run(True).stdout) | {"error": "fork/exec /bin/true: permission denied"}
    other = ProgramRun(("seccomp_deny", "ch5_exec"), 1, json.dumps(out), "")
    assert "EACCES, sent back through" in seccomp_demo_graph({"eacces": other}).source  # read, not assumed
    with pytest.raises(ValueError, match="did not print ch5_exec's JSON"):
        seccomp_demo_graph({"broken": ProgramRun(("x",), 1, "oops", "")})


def test_errno_name_reads_the_go_error_text():
    assert errno_name("fork/exec /bin/true: operation not permitted") == "EPERM"
    assert errno_name("fork/exec /x: no such file or directory") == "ENOENT"
    assert errno_name("<nil>") == "" and errno_name("") == ""
