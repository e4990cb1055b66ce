"""ipywidgets explorers. Every explorer's output also carries a static view of
its saved state (HTML and text), so nbval, GitHub, an untrusted notebook and a
notebook opened without a kernel still show a result and say how to get the
live explorer.

:func:`lookpath_explorer`: edit PATH, PATHEXT, the current directory, the
name and the files (one per line, ``/dir/name[:mode]``, a trailing ``/`` for
a directory); linux, darwin and windows answer side by side (modeled, from
gorun_kit.lookpath; the Windows form of each path is derived as in
:mod:`gorun_kit.lookpath.compare`).
"""
from __future__ import annotations

from IPython.display import HTML, display

from .lookpath.compare import cross_os
from .viz.lookpath import cross_os_html, result_text

__all__ = ["lookpath_explorer", "explorer_bundle", "RUN_NOTE"]

DEFAULT_FILES = "/usr/bin/tool\n/opt/bin/Tool.EXE\n/users/ada/tool:644\n/users/ada/tool.bat"
RUN_NOTE = "run this cell for the live explorer"


def _render(n: str, p: str, f: str, e: str, c: str) -> str:
    """The explorer's table for one scenario (HTML); an invalid scenario names its reason."""
    try:
        cross = cross_os(n, path=p, files=f.splitlines(), pathext=e or None, cwd=c or "/")
    except ValueError as exc:
        return f"<p><b>invalid scenario:</b> {exc}</p>"
    return cross_os_html(cross)


def _plain(n: str, p: str, f: str, e: str, c: str) -> str:
    try:
        cross = cross_os(n, path=p, files=f.splitlines(), pathext=e or None, cwd=c or "/")
    except ValueError as exc:
        return f"invalid scenario: {exc}"
    lines = [f"LookPath({n!r}), cwd {c or '/'}, PATHEXT {e or 'unset'}, files: {', '.join(f.splitlines())}"]
    lines += [f"  {r.goos:8} PATH {r.path:40} -> {result_text(r.result)}" for r in cross.rows]
    return "\n".join(lines)


def explorer_bundle(widget_view: dict | None, name: str, path: str, files: str, pathext: str,
                    cwd: str) -> dict:
    """The output bundle of the explorer: the widget view (when given) and a static
    view of the scenario, marked as the saved state, in text/html and text/plain.

    A frontend that can show the live widget shows it alone; an untrusted
    notebook, a viewer without the widget manager, or nbval, gets the static
    views, which say to run the cell for the live explorer.
    """
    title = f"Saved state of the LookPath explorer (the starting scenario, modeled): {RUN_NOTE}."
    bundle = {
        "text/html": f"<p><i>{title}</i></p>" + _render(name, path, files, pathext, cwd),
        "text/plain": title + "\n" + _plain(name, path, files, pathext, cwd),
    }
    if widget_view is not None:
        bundle["application/vnd.jupyter.widget-view+json"] = widget_view
    return bundle


def lookpath_explorer(name: str = "tool", path: str = "/usr/local/bin:/opt/bin::/usr/bin",
                      files: str = DEFAULT_FILES, pathext: str = "", cwd: str = "/users/ada"):
    """Show the explorer: one output whose live view is the widget and whose
    static views (HTML, text) are the starting scenario, marked as saved state.

    Returns the widget box (or None without ipywidgets, when only the static
    table is shown, with how to install ipywidgets).
    """
    try:
        import ipywidgets as w
    except ImportError:
        display(HTML(_render(name, path, files, pathext, cwd)
                     + "<p>ipywidgets is not installed: only this static table is shown "
                       "(pip install ipywidgets to edit the scenario live)</p>"))
        return None
    name_w = w.Text(value=name, description="name")
    path_w = w.Text(value=path, description="PATH", layout=w.Layout(width="60%"))
    ext_w = w.Text(value=pathext, description="PATHEXT", placeholder="unset: .com;.exe;.bat;.cmd")
    cwd_w = w.Text(value=cwd, description="cwd")
    files_w = w.Textarea(value=files, description="files", layout=w.Layout(width="60%", height="8em"))
    out = w.HTML()

    def update(_=None) -> None:
        out.value = _render(name_w.value, path_w.value, files_w.value, ext_w.value, cwd_w.value)

    for widget in (name_w, path_w, ext_w, cwd_w, files_w):
        widget.observe(update, names="value")
    update()
    box = w.VBox([w.HTML("<b>LookPath explorer</b> (live: edit any field; all three systems update)"),
                  name_w, path_w, ext_w, cwd_w, files_w, out])
    view = (box._repr_mimebundle_() or {}).get("application/vnd.jupyter.widget-view+json")
    display(explorer_bundle(view, name, path, files, pathext, cwd), raw=True)
    return box
