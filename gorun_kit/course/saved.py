"""Notebooks in the form JupyterLab saves them, so opening one changes nothing.

JupyterLab rewrites a notebook as soon as it opens it: the notebook's
``kernelspec`` becomes the running kernel's (ipykernel's ``python3`` spec is
displayed as "Python 3 (ipykernel)"), and its output areas merge consecutive
stream outputs of the same name (stdout after stdout) into one. With autosave
on, a committed chapter opened and not touched would then be written back
changed. The course commits its notebooks in the saved form instead:

* :func:`saved_form` applies what JupyterLab 4's models do on load (the
  kernelspec, and the stream merge of ``OutputAreaModel._add`` in
  ``@jupyterlab/outputarea``, including its handling of ``\\r`` and ``\\b``);
* :func:`saved_text` is what the server then writes: ``nbformat.writes``
  (sorted keys, one-space indent, multi-line strings split into lists, the
  transient ``trusted`` and ``orig_nbformat`` keys dropped) and a final
  newline, as ``nbformat.write`` and jupytext's ipynb writer do;
* :func:`script_in_saved_form` gives a paired jupytext percent script the
  header jupytext writes from the saved notebook (jupytext's contents manager
  writes the script too when JupyterLab saves a paired notebook), keeping
  the script's cells as they are.

``language_info`` is left as the executing kernel wrote it: JupyterLab writes
the same kernel's reply.

Command line (executes nothing)::

    python -m gorun_kit.course.saved [--check] NOTEBOOK.ipynb ...

rewrites each notebook (and the header of its paired ``.py``) into the saved
form and names the files it changed; ``--check`` only names them and exits 1
when any would change.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path

import nbformat

__all__ = ["JUPYTERLAB_KERNELSPEC", "merge_streams", "saved_form", "saved_text",
           "script_in_saved_form", "normalize", "main"]

# What JupyterLab writes into metadata.kernelspec when ipykernel's python3 kernel runs the
# notebook: {name, display_name, language} of that kernel's spec (ipykernel's kernel.json).
JUPYTERLAB_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _process_text(index: int, new: str, text: str = "") -> tuple[str, int]:
    """JupyterLab's ``Private.processText``: write ``new`` into ``text`` at cursor ``index``.

    Plain characters overwrite from the cursor on (at the end they append),
    ``\\n`` appends a newline at the end and moves the cursor there, ``\\r``
    moves the cursor to the start of its line, ``\\b`` deletes before the
    cursor (within the line). Returns the new text and cursor. This mirrors
    JupyterLab 4.6's code, quirks included, so the result is what it saves.
    """
    if not any(ch in new for ch in "\n\b\r"):
        return text[:index] + new + text[index + len(new):], index + len(new)
    cursor, start = index, 0
    while True:
        found = next((i for i in range(start, len(new)) if new[i] in "\n\b\r"), -1)
        piece = new[start:len(new) if found == -1 else found]
        text = text[:cursor] + piece + text[cursor + len(piece):]
        cursor += len(piece)
        if found == -1:
            break
        start = found + 1
        ch = new[found]
        if ch == "\b":
            if cursor > 0 and text[cursor - 1] != "\n":
                text = text[:cursor - 1] + text[cursor + 1:]
                cursor -= 1
        elif ch == "\r":
            while cursor > 0 and text[cursor - 1] != "\n":
                cursor -= 1
        else:  # "\n"
            text += "\n"
            cursor = len(text)
    return text, cursor


def merge_streams(outputs: list) -> list:
    """The outputs as JupyterLab's output area holds them, as new nodes.

    A stream output whose name is that of the stream output just before it is
    appended to it (after any output of another kind, or a stream of the
    other name, a new one starts); stream text goes through JupyterLab's
    carriage-return and backspace handling. Other outputs are copied as they are.
    """
    merged: list = []
    last_name, cursor = "", 0
    for output in outputs:
        output = copy.deepcopy(output)
        if output.get("output_type") != "stream":
            merged.append(output)
            last_name = ""
            continue
        text = output.get("text", "")
        if isinstance(text, list):
            text = "".join(text)
        if merged and output.get("name") == last_name:
            merged[-1]["text"], cursor = _process_text(cursor, text, merged[-1]["text"])
            continue
        output["text"], cursor = _process_text(0, text)
        merged.append(output)
        last_name = output.get("name", "")
    return merged


def saved_form(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` as JupyterLab holds it after opening it with the python3 kernel.

    The kernelspec becomes :data:`JUPYTERLAB_KERNELSPEC` and every code cell's
    outputs are :func:`merge_streams`-ed. Everything else is kept.
    """
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = nbformat.from_dict(dict(JUPYTERLAB_KERNELSPEC))
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            cell.outputs = [nbformat.from_dict(o) for o in merge_streams(cell.outputs)]
    return nb


def saved_text(nb: nbformat.NotebookNode) -> str:
    """The file JupyterLab's server writes for ``nb`` (after :func:`saved_form`): nbformat's JSON
    layout (``nbformat.writes``: sorted keys, indent 1, lines split) ending in a newline."""
    text = nbformat.writes(saved_form(nb), version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def _header_end(lines: list[str]) -> int:
    """Index of the line closing a jupytext YAML header (``# ---`` ... ``# ---``), or -1."""
    if not lines or lines[0].rstrip() != "# ---":
        return -1
    return next((i for i in range(1, len(lines)) if lines[i].rstrip() == "# ---"), -1)


def script_in_saved_form(ipynb: os.PathLike | str, script_text: str,
                         nb: nbformat.NotebookNode | None = None) -> str:
    """``script_text`` (the percent script paired with ``ipynb``) with the YAML header jupytext
    writes from the notebook's saved form (``nb`` if given, else the file ``ipynb``), using the
    jupytext configuration found from the notebook's folder. The script's cells are kept as they
    are, so edits not yet synced into the notebook survive. A script without a header is
    returned unchanged."""
    import jupytext
    from jupytext.config import load_jupytext_config

    nb = saved_form(nb if nb is not None else nbformat.read(ipynb, as_version=4))
    config = load_jupytext_config(str(Path(ipynb).resolve().parent))
    rendered = jupytext.writes(nb, fmt="py:percent", config=config).splitlines(keepends=True)
    old = script_text.splitlines(keepends=True)
    old_end, new_end = _header_end(old), _header_end(rendered)
    if old_end < 0 or new_end < 0:
        return script_text
    return "".join(rendered[:new_end + 1] + old[old_end + 1:])


def normalize(ipynb: os.PathLike | str, *, write: bool = True) -> list[Path]:
    """Put ``ipynb`` (and the header of its paired ``.py``, if any) into the saved form.

    Returns the files that were changed (or, with ``write=False``, that would
    be). Files already in the saved form are not rewritten; when only the
    notebook changes, its script's mtime is renewed so the script is not older
    than the notebook (jupytext's contents manager refuses such a pair).
    """
    path = Path(ipynb)
    changed = []
    raw = path.read_text(encoding="utf-8")
    want = saved_text(nbformat.reads(raw, as_version=4))
    if want != raw:
        changed.append(path)
        if write:
            _replace(path, want)
    script = path.with_suffix(".py")
    if script.exists():
        old = script.read_text(encoding="utf-8")
        new = script_in_saved_form(path, old, nbformat.reads(want, as_version=4))
        if new != old:
            changed.append(script)
            if write:
                _replace(script, new)
        elif write and changed:
            # jupytext refuses to open a pair whose script is older than its notebook
            os.utime(script)
    return changed


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.saved-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gorun_kit.course.saved",
        description="Rewrite notebooks (and their paired .py headers) into the form JupyterLab saves. "
                    "Executes nothing.")
    parser.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    changed = []
    for nb in args.notebooks:
        if nb.suffix != ".ipynb" or not nb.is_file():
            print(f"saved form: {nb} is not a notebook file (.ipynb)", file=sys.stderr)
            return 2
        changed += normalize(nb, write=not args.check)
    verb = "would change" if args.check else "changed"
    for path in changed:
        print(f"saved form: {verb} {path}")
    if not changed:
        print(f"saved form: all {len(args.notebooks)} notebooks already in it")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
