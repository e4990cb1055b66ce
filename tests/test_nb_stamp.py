"""nb.stamp(): short lines that do not wrap in a notebook, every varying part masked for nbval.

The stamp prints "outputs made with:" and one indented "key: value" line per
entry; no line comes near the ~100 characters of JupyterLab's output area.
tests/nbval_sanitize.cfg's [common-stamp] must turn any stamp (another Go,
kernel, libc or Python, and the older one-line form) into the same text, and
leave the lines after it alone.
"""
from __future__ import annotations

import re
from pathlib import Path

from gorun_kit import nb

SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"
WIDTH = 100


def _sanitize(text: str) -> str:
    """Apply every regex/replace pair of the sanitize file, as nbval does (in file order)."""
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE.read_text(), flags=re.MULTILINE)
    for regex, replace in pairs:
        text = re.sub(regex, replace, text)
    return text


def test_stamp_prints_short_key_value_lines(capsys):
    info = nb.stamp()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "outputs made with:"
    assert len(lines) == 1 + len(info)
    for line, (key, value) in zip(lines[1:], info.items()):
        assert line.startswith(f"  {key}:") and line.endswith(f" {value}"), line
    assert max(map(len, lines)) < WIDTH, lines
    # the values line up
    assert len({line.index(value) for line, value in zip(lines[1:], info.values())}) == 1


def test_the_sanitizer_masks_every_line_of_any_stamp():
    here = "\n".join(nb.stamp_lines({"go": "go1.27.3", "target": "linux/amd64",
                                     "kernel": "Linux 6.18.44-fc-v782 x86_64", "libc": "glibc 2.36",
                                     "python": "3.11.7"})) + "\n"
    there = "\n".join(nb.stamp_lines({"go": "go1.22.10", "target": "linux/arm64",
                                      "kernel": "Linux 5.10.0-28-cloud-arm64 aarch64", "libc": "musl",
                                      "python": "3.12.1"})) + "\n"
    old_form = ("outputs made with: go go1.27.3 | target linux/amd64 | kernel Linux 6.18.44-fc-v782 x86_64 | "
                "libc glibc 2.36 | python 3.11.7\n")
    assert _sanitize(here) == _sanitize(there) == _sanitize(old_form) == "outputs made with: STAMP\n"
    # what a cell prints after the stamp is still compared
    assert _sanitize(here + "chapter starts here: 3 programs\n").endswith("chapter starts here: 3 programs\n")
