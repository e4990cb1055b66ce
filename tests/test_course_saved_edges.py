"""The saved form of a notebook (gorun_kit.course.saved) in detail: JupyterLab's cursor
arithmetic for ``\\r``, ``\\b`` and ``\\n``, the stream merge, the jupytext header of a
paired script, and what normalize and the command line write and say."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings, strategies as st

from gorun_kit.course import saved

ROOT = Path(__file__).resolve().parents[1]


def _stream(name, text):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _lab(index: int, new: str, text: str = "") -> tuple[str, int]:
    """JupyterLab 4's Private.processText, transcribed character by character."""
    cursor = index
    for ch in new:
        if ch == "\b":
            if cursor > 0 and text[cursor - 1] != "\n":
                text = text[:cursor - 1] + text[cursor + 1:]
                cursor -= 1
        elif ch == "\r":
            while cursor > 0 and text[cursor - 1] != "\n":
                cursor -= 1
        elif ch == "\n":
            text += "\n"
            cursor = len(text)
        else:
            text = text[:cursor] + ch + text[cursor + 1:]
            cursor += 1
    return text, cursor


@given(st.text(alphabet="aX\n\r\b", max_size=14), st.text(alphabet="aX\n\r\b", max_size=6))
@settings(max_examples=400, deadline=None)
def test_process_text_is_jupyterlabs_character_by_character(first, second):
    text, cursor = saved._process_text(0, first)
    assert (text, cursor) == _lab(0, first)
    assert saved._process_text(cursor, second, text) == _lab(cursor, second, text)


@pytest.mark.parametrize("index, new, text, want", [
    (0, "abc", "", ("abc", 3)),
    (1, "X", "abc", ("aXc", 2)),
    (3, "de", "abc", ("abcde", 5)),
    (0, "\r", "abc", ("abc", 0)),
    (5, "\rZ", "ab\ncd", ("ab\nZd", 4)),
    (2, "\rZ", "ab\ncd", ("Zb\ncd", 1)),
    (5, "\b", "ab\ncd", ("ab\nc", 4)),
    (3, "\b", "ab\ncd", ("ab\ncd", 3)),
    (0, "\b", "", ("", 0)),
    (1, "\n", "abc", ("abc\n", 4)),
    (2, "x\ny", "abcd", ("abxd\ny", 6)),
])
def test_process_text_cases(index, new, text, want):
    assert saved._process_text(index, new, text) == want


def test_merge_streams_of_list_text_other_names_and_nameless_outputs():
    outputs = [{"output_type": "stream", "name": "stdout", "text": ["a\n", "b"]},
               {"output_type": "stream", "name": "stdout", "text": "c\n"},
               {"output_type": "stream", "text": "nameless\n"},
               {"output_type": "stream", "text": "again\n"},
               {"output_type": "stream", "name": "stdout"},
               {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {},
                "execution_count": 1},
               {"output_type": "stream", "name": "stdout", "text": "\rafter"}]
    merged = saved.merge_streams(outputs)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nbc\n"),
        ("stream", None, "nameless\n"),
        ("stream", None, "again\n"),  # a stream without a name starts a new one
        ("stream", "stdout", ""),
        ("execute_result", None, None),
        ("stream", "stdout", "after")]
    assert outputs[0]["text"] == ["a\n", "b"]
    assert saved.merge_streams([]) == []


def test_a_stream_after_a_display_starts_a_new_output_whatever_its_name():
    for name in (None, "XXXX"):
        stream = {"output_type": "stream", "text": "s"} if name is None else \
            {"output_type": "stream", "name": name, "text": "s"}
        merged = saved.merge_streams([nbformat.v4.new_output("display_data", data={}), stream])
        assert [o["output_type"] for o in merged] == ["display_data", "stream"], name


def test_a_stream_after_a_display_does_not_join_the_stream_before_it():
    merged = saved.merge_streams([_stream("stdout", "12345"), nbformat.v4.new_output("display_data", data={}),
                                  _stream("stdout", "\rab")])
    assert [o.get("text") for o in merged] == ["12345", None, "ab"]


def _notebook(kernelspec=None, outputs=None, cells=None):
    nb = nbformat.v4.new_notebook()
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.0"}
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=1)
    cell.outputs = outputs or []
    nb.cells = cells if cells is not None else [nbformat.v4.new_markdown_cell("# T"), cell]
    return nb


def test_saved_form_sets_the_kernelspec_and_merges_each_code_cell_only():
    nb = _notebook({"name": "other", "display_name": "Other", "language": "x"},
                   [_stream("stdout", "1\n"), _stream("stdout", "2\n")])
    nb.cells[0]["outputs"] = [_stream("stdout", "a"), _stream("stdout", "b")]  # not a code cell: left alone
    form = saved.saved_form(nb)
    assert dict(form.metadata.kernelspec) == saved.JUPYTERLAB_KERNELSPEC
    assert form.metadata.language_info == nb.metadata.language_info
    assert [o.text for o in form.cells[1].outputs] == ["1\n2\n"]
    assert len(form.cells[0]["outputs"]) == 2
    assert nb.metadata.kernelspec["name"] == "other" and len(nb.cells[1].outputs) == 2
    assert isinstance(form.cells[1].outputs[0], nbformat.NotebookNode)
    assert form.cells[1].outputs[0].text == "1\n2\n"
    form.metadata.kernelspec["name"] = "changed"
    assert saved.JUPYTERLAB_KERNELSPEC["name"] == "python3"


def test_saved_text_ends_in_one_newline_and_is_stable():
    text = saved.saved_text(_notebook())
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert saved.saved_text(nbformat.reads(text, as_version=4)) == text
    assert json.loads(text)["nbformat"] == 4


def test_header_end():
    assert saved._header_end([]) == -1
    assert saved._header_end(["# %%\n"]) == -1
    assert saved._header_end(["# ---\n", "# a: 1\n"]) == -1
    assert saved._header_end(["# ---  \n", "# a: 1\n", "# ---\t\n", "# ---\n"]) == 2
    assert saved._header_end(["# ---\n", "# ---\n"]) == 1


def _pair(tmp_path: Path, nb=None, name="01_t") -> tuple[Path, Path]:
    jupytext = pytest.importorskip("jupytext")
    (tmp_path / "jupytext.toml").write_text((ROOT / "notebooks" / "jupytext.toml").read_text())
    nb = nb or _notebook({"display_name": "Python 3", "language": "python", "name": "python3"},
                         [_stream("stdout", "1\n"), _stream("stdout", "2\n")])
    ipynb = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, ipynb)
    script = ipynb.with_suffix(".py")
    jupytext.write(nb, script, fmt="py:percent")
    return ipynb, script


def test_a_script_gets_the_saved_header_and_keeps_its_cells(tmp_path):
    ipynb, script = _pair(tmp_path)
    old = script.read_text() + "\n# %%\nonly_in_the_script = 1\n"
    new = saved.script_in_saved_form(ipynb, old)
    assert "display_name: Python 3 (ipykernel)" in new and new.endswith("only_in_the_script = 1\n")
    assert new.startswith("# ---\n")
    assert new.count("# ---\n") == 2
    header = new[:new.index("# ---\n", 1) + len("# ---\n")]
    assert new == header + old[old.index("# ---\n", 1) + len("# ---\n"):]
    assert saved.script_in_saved_form(str(ipynb), new) == new
    other = _notebook({"display_name": "X", "language": "python", "name": "x"})
    assert saved.script_in_saved_form(ipynb, old, other) == new  # the notebook given, in its saved form
    assert saved.script_in_saved_form(ipynb, "# %%\nx = 1\n") == "# %%\nx = 1\n"  # no header: unchanged


def test_the_header_follows_the_jupytext_configuration_beside_the_notebook(tmp_path):
    ipynb, script = _pair(tmp_path)
    (tmp_path / "jupytext.toml").write_text('notebook_metadata_filter = "-all"\n')
    old = script.read_text()
    assert saved.script_in_saved_form(ipynb, old) == old  # no header is written: the script's is kept


def test_normalize_leaves_a_saved_pair_alone_and_renews_the_scripts_time(tmp_path):
    ipynb, script = _pair(tmp_path)
    assert saved.normalize(ipynb, write=False) == [ipynb, script]
    assert saved.normalize(ipynb) == [ipynb, script]
    first = (ipynb.read_bytes(), script.read_bytes())
    assert saved.normalize(ipynb) == [] and saved.normalize(str(ipynb), write=False) == []
    assert (ipynb.read_bytes(), script.read_bytes()) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_t.ipynb", "01_t.py", "jupytext.toml"]
    # only the notebook changes: the script is not rewritten, but made no older than the notebook
    os.utime(script, (1, 1))
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[1].outputs = [_stream("stdout", "x\n"), _stream("stdout", "y\n")]
    nbformat.write(nb, ipynb)
    assert saved.normalize(ipynb) == [ipynb]
    assert script.read_bytes() == first[1] and script.stat().st_mtime > 1
    os.utime(script, (1, 1))
    assert saved.normalize(ipynb) == [] and script.stat().st_mtime == 1  # nothing changed: not touched


def test_normalize_with_write_false_touches_nothing(tmp_path):
    ipynb, script = _pair(tmp_path)
    os.utime(script, (1, 1))
    before = ipynb.read_bytes(), script.read_bytes()
    assert saved.normalize(ipynb, write=False) == [ipynb, script]
    assert (ipynb.read_bytes(), script.read_bytes()) == before and script.stat().st_mtime == 1


def test_normalize_of_a_notebook_without_a_script(tmp_path):
    ipynb = tmp_path / "lone.ipynb"
    nbformat.write(_notebook({"name": "x", "display_name": "x", "language": "python"}), ipynb)
    assert saved.normalize(ipynb) == [ipynb]
    assert json.loads(ipynb.read_text())["metadata"]["kernelspec"] == saved.JUPYTERLAB_KERNELSPEC
    assert not list(tmp_path.glob(".*"))


def test_replace_writes_through_a_hidden_temporary(tmp_path, monkeypatch):
    target = tmp_path / "n.ipynb"
    target.write_text("old")
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append((Path(a).name, Path(b))), real(a, b)))
    saved._replace(target, "é new\n")
    assert target.read_text(encoding="utf-8") == "é new\n" and seen == [(".n.ipynb.saved-tmp", target)]


def test_the_command_line_names_what_it_changes(tmp_path, capsys):
    one = tmp_path / "a.ipynb"
    two = tmp_path / "b.ipynb"
    nbformat.write(_notebook({"name": "x", "display_name": "x", "language": "python"}), one)
    two.write_text(saved.saved_text(_notebook()))
    assert saved.main(["--check", str(one), str(two)]) == 1
    assert capsys.readouterr().out == f"saved form: would change {one}\n"
    assert saved.main([str(one), str(two)]) == 0
    assert capsys.readouterr().out == f"saved form: changed {one}\n"
    assert saved.main([str(one), str(two)]) == 0
    assert capsys.readouterr().out == "saved form: all 2 notebooks already in it\n"
    assert saved.main(["--check", str(one)]) == 0
    assert capsys.readouterr().out == "saved form: all 1 notebooks already in it\n"


def test_the_command_line_refuses_what_is_not_a_notebook_file(tmp_path, capsys):
    (tmp_path / "dir.ipynb").mkdir()
    (tmp_path / "x.txt").write_text("{}")
    good = tmp_path / "good.ipynb"
    nbformat.write(_notebook({"name": "x", "display_name": "x", "language": "python"}), good)
    for bad in ("dir.ipynb", "x.txt", "none.ipynb"):
        before = good.read_bytes()
        assert saved.main([str(good), str(tmp_path / bad)]) == 2
        captured = capsys.readouterr()
        assert captured.err == f"saved form: {tmp_path / bad} is not a notebook file (.ipynb)\n"
        assert captured.out == ""
        assert good.read_bytes() != before or bad != "dir.ipynb"  # the notebooks before it were done
    with pytest.raises(SystemExit):
        saved.main([])


def test_the_command_lines_help(capsys):
    with pytest.raises(SystemExit) as info:
        saved.main(["--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: python -m gorun_kit.course.saved [-h] [--check] notebooks [notebooks ...] "
                           "Rewrite notebooks (and their paired .py headers) into the form JupyterLab saves. "
                           "Executes nothing. ")
    assert "notebooks .ipynb files" in text
    assert "--check change nothing; exit 1 if a file would change" in text
