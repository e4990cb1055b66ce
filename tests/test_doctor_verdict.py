"""The doctor's verdict and picture come from the chapter list it checked, not from typed numbers."""
from __future__ import annotations

from gorun_kit.doctor import CHAPTERS, Check, ChapterVerdict, DoctorReport, diagnose
from gorun_kit.viz.doctor import doctor_graph


def _verdicts(*lives: str) -> tuple[ChapterVerdict, ...]:
    return tuple(ChapterVerdict(str(i), f"title {i}", live, () if live == "yes" else ("x",), ("go",), ("dot",))
                 for i, live in enumerate(lives, 1))


def test_verdict_names_every_chapter_it_checked():
    assert DoctorReport((), _verdicts(*["yes"] * 5)).verdict() == "chapters 1-5 all run live"
    assert DoctorReport((), _verdicts(*["yes"] * 6)).verdict() == "chapters 1-6 all run live"
    assert DoctorReport((), _verdicts("yes", "yes")).verdict() == "chapters 1 and 2 all run live"
    assert DoctorReport((), _verdicts("yes")).verdict() == "chapter 1 runs live"


def test_verdict_splits_chapters_by_what_they_can_do():
    report = DoctorReport((), _verdicts("yes", "partly", "no", "no", "yes"))
    assert not report.ok
    assert report.verdict() == ("chapters 1-5 cannot all run live: 1 and 5 run live; "
                                "2 runs live with optional parts skipped; 3 and 4 cannot run live (see 'to fix')")
    partly = DoctorReport((), _verdicts("yes", "partly", "yes", "yes", "yes"))
    assert partly.ok and partly.verdict().startswith("chapters 1-5 can run live: ")


def test_ok_counts_the_last_chapter_too():
    # a chapter that cannot run live makes the report not ok, whichever chapter it is
    assert not DoctorReport((), _verdicts("yes", "yes", "yes", "yes", "no")).ok


def test_rendered_verdict_matches_the_chapter_lines(monkeypatch):
    from gorun_kit import doctor

    monkeypatch.setattr(doctor, "_checks", lambda root=None: [Check(n, True, "found") for n in
                                                             ("linux", "go", "cc", "ptrace", "strace", "dot", "gdb",
                                                              "wine64", "mingw-w64", "java")])
    text = diagnose().render()
    last = str(len(CHAPTERS))
    assert f"{last}  live: yes" in text
    assert text.splitlines()[-1] == f"verdict: chapters 1-{last} all run live"


def test_verdicts_carry_their_checks():
    from gorun_kit import doctor

    report = DoctorReport((), tuple(ChapterVerdict(c, t, "yes", (), req, opt) for c, t, req, opt in doctor.CHAPTERS))
    assert report.chapters[2].required == ("linux", "go", "cc", "ptrace")
    assert "wine64" in report.chapters[1].optional


def test_doctor_graph_draws_required_and_optional_edges():
    checks = (Check("go", True, "go1.27.3"), Check("dot", False, "missing", "apt-get install -y graphviz"),
              Check("libc", True, "glibc"))
    report = DoctorReport(checks, _verdicts("yes", "partly"))
    src = doctor_graph(report).source
    assert "check_go -> ch_1" in src and "check_go -> ch_2" in src
    assert "check_dot -> ch_1 [style=dashed]" in src
    assert "dot: missing" in src and "live: partly" in src
    assert "libc" not in src  # no chapter needs it
    import pytest

    with pytest.raises(ValueError, match="no chapter"):
        doctor_graph(DoctorReport(checks, ()))
