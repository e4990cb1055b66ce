"""The variant seed is a published formula: a student's copy and the grader compute
it apart, so it must not drift. Checked against the formula in the module's
docstring, with the id rules and the small helpers the exercises call."""
from __future__ import annotations

import hashlib
import json
import random
import re

import pytest

from gorun_kit.course import variant


def _formula(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest(), "big")


def test_the_seed_is_the_documented_sha256():
    assert variant.seed("01_x", "alice") == _formula("gorun-course", "01_x", "alice")
    assert variant.seed("01_x", "alice", "scenario") == _formula("gorun-course", "01_x", "alice", "scenario")
    assert variant.seed("01_x", "alice", "") == variant.seed("01_x", "alice")


def test_a_variant_names_its_seed_and_draws_by_label():
    v = variant.of("01_x", "bob")
    assert v == variant.Variant("01_x", "bob")
    assert v.short == f"{_formula('gorun-course', '01_x', 'bob'):064x}"[:8]
    assert v.line() == f"variant: {v.short} (student bob)"
    assert v.to_dict()["short"] == v.short
    assert v.seed_for("files") == _formula("gorun-course", "01_x", "bob", "files")
    assert v.rng("files").random() == random.Random(v.seed_for("files")).random()
    assert v.rng().random() == random.Random(variant.seed("01_x", "bob")).random()
    assert variant.rng("01_x", "files", "bob").random() == v.rng("files").random()


def test_the_default_variant_comes_from_the_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(variant.ENV, raising=False)
    assert variant.of("01_x") == variant.Variant("01_x", variant.DEFAULT_STUDENT) == variant.Variant("01_x", "course")
    monkeypatch.setenv(variant.ENV, "  carol  ")
    shown = variant.show("01_x")
    assert shown == variant.Variant("01_x", "carol")
    assert capsys.readouterr().out == shown.line() + "\n"


@pytest.mark.parametrize("good", ["a", "A.b_c@d+e-f", "7", "x" * 100])
def test_ids_that_are_accepted(good):
    assert variant.check_student_id(good) == good


@pytest.mark.parametrize("bad", [None, 7, ".a", "_a", "@a", "+a", "x" * 101, "a/b", "a:b", "a\n"])
def test_ids_that_are_refused_name_where_they_came_from(bad):
    with pytest.raises(ValueError, match=r"^roster line 3 .* is not a student id: use 1-100 characters"):
        variant.check_student_id(bad, "roster line 3")


def test_the_stamp_is_found_in_the_copy_and_checked(tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert variant.stamped_student(deep) is None
    (tmp_path / variant.STAMP_FILE).write_text(variant.stamp_data("dave"))
    assert json.loads(variant.stamp_data("dave")) == {"course": "gorun-course", "student": "dave"}
    assert variant.stamped_student(deep) == variant.stamped_student(tmp_path) == "dave"
    assert variant.stamped_student(deep / "..") == "dave"
    (deep / variant.STAMP_FILE).write_text(json.dumps({"student": "../x"}))
    with pytest.raises(ValueError, match=r"damaged .*make the copy again"):
        variant.stamped_student(deep)
    (deep / variant.STAMP_FILE).write_text(json.dumps({"name": "x"}))
    with pytest.raises(ValueError, match="damaged"):
        variant.stamped_student(deep)
    with pytest.raises(ValueError, match="not a student id"):
        variant.stamp_data("a b")


def test_words_alternate_consonants_and_vowels():
    r = random.Random(4)
    lengths, starts = set(), set()
    for _ in range(300):
        w = variant.word(r)
        lengths.add(len(w))
        starts.add(w[0] in "aeiou")
        kinds = [ch in "aeiou" for ch in w]
        assert all(a != b for a, b in zip(kinds, kinds[1:])), w
        assert set(w) <= set("bdfghklmnprstvzaeiou")
    assert lengths == {3, 4, 5, 6, 7} and starts == {True, False}
    assert {len(variant.word(r, 2, 2)) for _ in range(20)} == {2}
    assert variant.word(random.Random(1)) == variant.word(random.Random(1))


@pytest.mark.parametrize("bad", ["", "notebooks/01_x", "01_x.ipynb"])
def test_an_exercise_is_named_without_directory_or_suffix(bad):
    with pytest.raises(ValueError, match=rf"^exercise {bad!r}: give the notebook's name without directory"):
        variant.of(bad, "alice")
    with pytest.raises(ValueError, match="not a student id"):
        variant.of("01_x", "a b")


def test_the_id_comes_from_the_environment_then_the_stamp_then_the_default(monkeypatch, tmp_path):
    copy = tmp_path / "copy"
    nbdir = copy / "notebooks" / "exercises"
    nbdir.mkdir(parents=True)
    monkeypatch.chdir(nbdir)
    monkeypatch.setenv(variant.ENV, "   ")
    assert variant.student_id() == "course"
    (copy / variant.STAMP_FILE).write_text(variant.stamp_data("erin"))
    assert variant.student_id() == variant.student_id(nbdir) == variant.stamped_student() == "erin"
    assert variant.of("01_x") == variant.Variant("01_x", "erin")
    monkeypatch.setenv(variant.ENV, "frank")
    assert variant.student_id(nbdir) == "frank"
    monkeypatch.setenv(variant.ENV, "../frank")
    with pytest.raises(ValueError, match=r"^\$GORUN_KIT_STUDENT '\.\./frank' is not a student id"):
        variant.student_id(nbdir)


def test_the_stamp_is_looked_for_two_directories_up_only(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / variant.STAMP_FILE).write_text(variant.stamp_data("gina"))
    assert variant.stamped_student(deep) is None
    assert variant.stamped_student(deep.parent) == "gina"
    (deep / variant.STAMP_FILE).mkdir()  # not a file: not a stamp
    assert variant.stamped_student(deep) is None


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"student": 7}', '"x"'])
def test_a_damaged_stamp_names_the_file(tmp_path, text):
    stamp = tmp_path / variant.STAMP_FILE
    stamp.write_text(text)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(stamp))}.* is damaged \(.*\); make the copy again with "
                                         r"gorun-kit course release OUT --student ID$"):
        variant.stamped_student(tmp_path)


def test_an_unreadable_stamp_names_the_file(tmp_path, monkeypatch):
    stamp = tmp_path / variant.STAMP_FILE
    stamp.write_text(variant.stamp_data("hana"))

    def unreadable(self, *args, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(stamp), "read_text", unreadable)
    with pytest.raises(ValueError, match=r"is damaged \(\[Errno 13\] Permission denied\)"):
        variant.stamped_student(tmp_path)


def test_the_words_of_a_seed_do_not_drift():
    # a copy made with one kit and graded with another must draw the same words:
    # n letters from randint(lo, hi), then which kind starts from randrange(2)
    def spelled(r, lo, hi):
        n, start = r.randint(lo, hi), r.randrange(2)
        return "".join(r.choice(("bdfghklmnprstvz", "aeiou")[(i + start) % 2]) for i in range(n))

    for s in range(40):
        assert variant.word(random.Random(s)) == spelled(random.Random(s), 3, 7)
        assert variant.word(random.Random(s), 1, 9) == spelled(random.Random(s), 1, 9)


def test_the_refusals_say_the_whole_rule():
    with pytest.raises(ValueError, match=r"^student id 'a b' is not a student id: use 1-100 characters of letters, "
                                         r"digits and \. _ @ \+ -, starting with a letter or digit "
                                         r"\(e\.g\. the student's login name\)$"):
        variant.check_student_id("a b")
    with pytest.raises(ValueError, match=r"^exercise 'x/01_x': give the notebook's name without directory and "
                                         r"without \.ipynb \(e\.g\. '02_lookpath_linux_exercises'\)$"):
        variant.of("x/01_x", "alice")


def test_a_stamp_with_a_bad_id_names_the_file_and_the_field(tmp_path):
    stamp = tmp_path / variant.STAMP_FILE
    stamp.write_text(json.dumps({"course": "gorun-course", "student": "../x"}))
    with pytest.raises(ValueError, match=rf"is damaged \({re.escape(str(stamp))}: student '\.\./x' is not a student id"):
        variant.stamped_student(tmp_path)


def test_the_stamp_is_looked_up_from_the_directory_given(monkeypatch, tmp_path):
    monkeypatch.delenv(variant.ENV, raising=False)
    (tmp_path / "elsewhere").mkdir()
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / variant.STAMP_FILE).write_text(variant.stamp_data("ivy"))
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert variant.student_id(copy) == "ivy" and variant.student_id() == "course"


def test_the_unlabelled_draw_is_the_exercises_own():
    assert variant.rng("01_x", student="bob").random() == variant.of("01_x", "bob").rng().random() \
        == random.Random(_formula("gorun-course", "01_x", "bob")).random()


def test_the_stamp_file_text_does_not_drift():
    # the release writes it into every student's copy; a copy made again must be byte for byte the same
    assert variant.stamp_data("dave") == '{\n  "course": "gorun-course",\n  "student": "dave"\n}\n'
