"""Showing paths the way a reader of the course can use them.

Saved notebook outputs are read on GitHub and re-checked on other machines, so
they should not carry one machine's directories (``/root/...``,
``/home/alice/...``, the checkout's location). :func:`shorten` rewrites the
prefixes the kit knows into names that mean the same thing everywhere:

* ``$GOROOT``           the Go toolchain the course runs,
* ``$GORUN_KIT_CACHE``  the kit's build cache,
* ``$GOCACHE``          the go command's build cache,
* a path inside a chosen root (default: the current directory) becomes
  relative to it,
* ``~``                 the home directory.

Only the text shown changes; the kit itself always works with real paths.
"""
from __future__ import annotations

import functools
import os
import re

__all__ = ["shorten"]


@functools.lru_cache(maxsize=None)
def _gocache(go: str) -> str | None:
    from .toolchain import run_go

    proc = run_go(["env", "GOCACHE"])
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def _prefixes(names: bool, root: str | os.PathLike | None) -> list[tuple[str, str, str]]:
    """(real prefix, shown before a sub-path, shown alone), longest prefix first."""
    from .cache import cache_dir
    from .toolchain import ToolchainMissing, find_go

    found: list[tuple[str, str, str]] = []
    if names:
        try:
            tc = find_go()
        except ToolchainMissing:
            tc = None
        if tc is not None:
            found.append((tc.goroot, "$GOROOT/", "$GOROOT"))
            gocache = _gocache(tc.go)
            if gocache:
                found.append((gocache, "$GOCACHE/", "$GOCACHE"))
        found.append((str(cache_dir()), "$GORUN_KIT_CACHE/", "$GORUN_KIT_CACHE"))
    root = os.path.abspath(os.getcwd() if root is None else root)
    if root != os.sep:
        found.append((root, "", "."))  # inside the root: relative to it
    found.append((os.path.expanduser("~"), "~/", "~"))
    expanded = []
    for real, child, alone in found:
        for variant in {real, os.path.realpath(real)}:
            expanded.append((variant.rstrip(os.sep), child, alone))
    return sorted(expanded, key=lambda p: len(p[0]), reverse=True)


def shorten(text: str | os.PathLike, *, names: bool = True, root: str | os.PathLike | None = None) -> str:
    """``text`` (a path, or output that contains paths) with machine prefixes named.

    A prefix is replaced only where it is a whole path: ``/root/.cache/go-build/09/x``
    becomes ``$GOCACHE/09/x``, ``<root>/labs_go/hello/main.go`` becomes
    ``labs_go/hello/main.go``, and ``/rootfs`` is left alone. ``root`` is the
    directory paths are shown relative to (default: the current directory; a
    notebook passes the course checkout). With ``names=False`` only the root and
    home prefixes are rewritten (for showing where GOROOT itself is).
    """
    out = os.fspath(text)
    for real, child, alone in _prefixes(names, root):
        if not real:
            continue
        pattern = re.compile(re.escape(real) + r"(?P<rest>/|(?![\w.-]))")
        out = pattern.sub(lambda m: child if m.group("rest") == "/" else alone, out)
    return out
