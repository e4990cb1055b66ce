"""What the kit builds at run time, shipped inside the wheel as package data.

``tracer/``           the production ptrace tracer (C)
``runtime_patches/``  the thread-hook templates added to the runtime with ``go build -overlay``
``lookpath_oracle/``  a Go program (its own module) that answers what real ``exec.LookPath`` returns
``winshim/``          the ProcessPrng DLL that lets Go's Windows binaries start under Wine 8

Everything here is read through :func:`source`, never through the course tree, so an
installed wheel can build it into the cache like a checkout can.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["source"]


def source(*parts: str) -> Path:
    """The file or directory ``parts`` under the kit's shipped sources.

    Raises FileNotFoundError naming the missing piece and how to repair the install:
    a wheel always carries these files, so their absence means a broken install.
    """
    root = resources.files(__name__)
    path = Path(str(root.joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(
            f"gorun_kit's shipped source {'/'.join(parts)!r} is missing from {root}; "
            "reinstall the kit (pip install --force-reinstall gorun-kit)")
    return path
