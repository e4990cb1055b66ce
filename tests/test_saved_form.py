"""Committed notebooks are in the form JupyterLab saves (gorun_kit.course.saved).

Opening a notebook in JupyterLab must not change it: otherwise autosave
rewrites a committed chapter the moment a student opens it. So

* every committed notebook (chapters, exercises and the student release) is
  unchanged by a load / saved_form / nbformat-save round trip, byte for byte;
* every paired percent script has the header jupytext writes from its saved
  notebook (jupytext's contents manager writes it too when Lab saves);
* the function itself does what JupyterLab 4's output area does: consecutive
  streams of one name merged, ``\\r`` and ``\\b`` applied, other outputs kept
  in place, and the python3 kernel's spec as the installed ipykernel names it.

The first two fail until the notebooks are put into the saved form; the fix is
``python -m gorun_kit.course.saved notebooks/*.ipynb notebooks/exercises/*.ipynb``
then ``gorun-kit course release release`` (neither executes anything).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import saved

ROOT = Path(__file__).resolve().parents[1]
FIX = "run `.venv/bin/python -m gorun_kit.course.saved notebooks/*.ipynb notebooks/exercises/*.ipynb` " \
      "then `.venv/bin/gorun-kit course release release`"


def committed_notebooks() -> list[Path]:
    found = [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/exercises/*.ipynb"),
             *ROOT.glob("release/notebooks/**/*.ipynb")]
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def _stream(name, text):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_every_committed_notebook_survives_a_jupyterlab_round_trip():
    paths = committed_notebooks()
    assert len(paths) >= 6, "the chapter notebooks are missing"
    changed = [str(p.relative_to(ROOT)) for p in paths
               if saved.saved_text(nbformat.read(p, as_version=4)) != p.read_text(encoding="utf-8")]
    assert changed == [], f"not in the form JupyterLab saves: {changed}; {FIX}"


def test_every_paired_script_has_the_header_jupytext_writes_on_save():
    stale = []
    for ipynb in committed_notebooks():
        script = ipynb.with_suffix(".py")
        if script.exists():
            text = script.read_text(encoding="utf-8")
            if saved.script_in_saved_form(ipynb, text) != text:
                stale.append(str(script.relative_to(ROOT)))
    assert stale == [], f"script headers differ from what saving the notebook writes: {stale}; {FIX}"


def test_the_kernelspec_is_the_one_the_installed_ipykernel_gives():
    kernelspec = pytest.importorskip("ipykernel.kernelspec")
    spec = kernelspec.get_kernel_dict()
    assert {"display_name": spec["display_name"], "language": spec["language"],
            "name": kernelspec.KERNEL_NAME} == saved.JUPYTERLAB_KERNELSPEC


def test_consecutive_streams_of_one_name_merge_like_jupyterlab():
    outputs = [_stream("stdout", "a\n"), _stream("stdout", "b\n"), _stream("stderr", "e1\n"),
               _stream("stderr", "e2\n"), _stream("stdout", "c\n"),
               nbformat.v4.new_output("display_data", data={"text/plain": "x"}), _stream("stdout", "d\n"),
               _stream("stdout", "e\n")]
    merged = saved.merge_streams(outputs)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\n"), ("stream", "stderr", "e1\ne2\n"), ("stream", "stdout", "c\n"),
        ("display_data", None, None), ("stream", "stdout", "d\ne\n")]
    assert outputs[0].text == "a\n", "the input is not modified"


@pytest.mark.parametrize("texts, want", [
    (["progress 10%\rprogress 100%\n"], "progress 100%\n"),   # \r rewrites the line
    (["abcdef\rXY\n"], "XYcdef\n"),                           # ... over what it covers
    (["abc\b\bX\n"], "aX\n"),                                 # \b deletes before the cursor
    (["12345\rab", "Z\n"], "abZ45\n"),                        # the cursor carries over a merge
    (["line\n\bx\n"], "line\nx\n"),                           # \b never crosses a newline
    (["no newline", " at end"], "no newline at end"),
])
def test_carriage_returns_and_backspaces_as_jupyterlab_applies_them(texts, want):
    merged = saved.merge_streams([_stream("stdout", t) for t in texts])
    assert len(merged) == 1 and merged[0].text == want


def test_saved_text_is_nbformat_layout_and_idempotent(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    cell = nbformat.v4.new_code_cell("print('中文')", execution_count=1)
    cell.outputs = [_stream("stdout", "中文\n"), _stream("stdout", "two\n")]
    cell.metadata["trusted"] = True  # transient: JupyterLab's server drops it on save
    nb.cells = [cell]
    text = saved.saved_text(nb)
    assert text.endswith("}\n") and '\n "cells": [' in text and "中文" in text  # indent 1, not ASCII-escaped
    data = json.loads(text)
    assert data["metadata"]["kernelspec"] == saved.JUPYTERLAB_KERNELSPEC
    assert data["cells"][0]["outputs"] == [{"name": "stdout", "output_type": "stream", "text": ["中文\n", "two\n"]}]
    assert "trusted" not in data["cells"][0]["metadata"]
    assert saved.saved_text(nbformat.reads(text, as_version=4)) == text
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert saved.saved_text(nb) != path.read_text()  # nbformat.write alone is not the saved form


def test_normalize_rewrites_the_pair_and_check_only_reports(tmp_path, capsys):
    jupytext = pytest.importorskip("jupytext")
    (tmp_path / "jupytext.toml").write_text((ROOT / "notebooks" / "jupytext.toml").read_text())
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    cell = nbformat.v4.new_code_cell("print(1)\nprint(2)", execution_count=1)
    cell.outputs = [_stream("stdout", "1\n"), _stream("stdout", "2\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), cell]
    ipynb = tmp_path / "01_t.ipynb"
    nbformat.write(nb, ipynb)
    jupytext.write(nb, ipynb.with_suffix(".py"), fmt="py:percent")
    script = ipynb.with_suffix(".py")
    script.write_text(script.read_text() + "\n# %%\nedited_in_the_script = True\n")  # not synced yet
    before = (ipynb.read_bytes(), script.read_bytes())

    assert saved.main(["--check", str(ipynb)]) == 1
    out = capsys.readouterr().out
    assert "would change" in out and "01_t.py" in out
    assert (ipynb.read_bytes(), script.read_bytes()) == before

    assert saved.main([str(ipynb)]) == 0
    assert json.loads(ipynb.read_text())["metadata"]["kernelspec"] == saved.JUPYTERLAB_KERNELSPEC
    assert len(nbformat.read(ipynb, as_version=4).cells[1].outputs) == 1
    assert "display_name: Python 3 (ipykernel)" in script.read_text()
    assert "edited_in_the_script = True" in script.read_text()  # the script's cells are kept
    assert script.stat().st_mtime_ns >= ipynb.stat().st_mtime_ns
    capsys.readouterr()
    assert saved.main(["--check", str(ipynb)]) == 0 and "already" in capsys.readouterr().out

    assert saved.main([str(tmp_path / "missing.ipynb")]) == 2
    assert "missing.ipynb" in capsys.readouterr().err
