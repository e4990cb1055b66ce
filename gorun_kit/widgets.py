"""ipywidgets explorers. Every explorer also displays a static table of its
current state in the same output, so nbval, GitHub and a notebook opened
without a kernel still show a result.

:func:`lookpath_explorer`: edit PATH, PATHEXT, the current directory, the
name and the files (one per line, ``/dir/name[:mode]``, a trailing ``/`` for
a directory); linux, darwin and windows answer side by side (modeled, from
gorun_kit.lookpath; the Windows form of each path is derived as in
:mod:`gorun_kit.lookpath.compare`).
"""
from __future__ import annotations

from IPython.display import HTML, display

from .lookpath.compare import cross_os
from .viz.lookpath import cross_os_html

__all__ = ["lookpath_explorer"]

DEFAULT_FILES = "/usr/bin/tool\n/opt/bin/Tool.EXE\n/users/ada/tool:644\n/users/ada/tool.bat"


def lookpath_explorer(name: str = "tool", path: str = "/usr/local/bin:/opt/bin::/usr/bin",
                      files: str = DEFAULT_FILES, pathext: str = "", cwd: str = "/users/ada"):
    """Show the explorer (when ipywidgets can render) and a static table of its starting state.

    Returns the widget box (or None without ipywidgets)."""
    def render(n, p, f, e, c) -> str:
        try:
            cross = cross_os(n, path=p, files=f.splitlines(), pathext=e or None, cwd=c or "/")
        except ValueError as exc:
            return f"<p><b>cannot evaluate:</b> {exc}</p>"
        return cross_os_html(cross)

    display(HTML("<p><i>static view of the starting scenario (modeled):</i></p>"
                 + render(name, path, files, pathext, cwd)))
    try:
        import ipywidgets as w
    except ImportError:
        print("ipywidgets is not installed: only the static table above is shown "
              "(pip install ipywidgets to edit the scenario live)")
        return None
    name_w = w.Text(value=name, description="name")
    path_w = w.Text(value=path, description="PATH", layout=w.Layout(width="60%"))
    ext_w = w.Text(value=pathext, description="PATHEXT", placeholder="unset: .com;.exe;.bat;.cmd")
    cwd_w = w.Text(value=cwd, description="cwd")
    files_w = w.Textarea(value=files, description="files", layout=w.Layout(width="60%", height="8em"))
    out = w.HTML()

    def update(_=None) -> None:
        out.value = render(name_w.value, path_w.value, files_w.value, ext_w.value, cwd_w.value)

    for widget in (name_w, path_w, ext_w, cwd_w, files_w):
        widget.observe(update, names="value")
    update()
    box = w.VBox([w.HTML("<b>LookPath explorer</b> (edit; all three systems update)"),
                  name_w, path_w, ext_w, cwd_w, files_w, out])
    display(box)
    return box
