"""The one lock every benchmark holds, so two never share the 2 cores.

It is the same file `flock /tmp/gorun-kit-bench.lock CMD` takes, so a
benchmark started from the shell and one started from a notebook wait for
each other too.
"""
from __future__ import annotations

import contextlib
import fcntl
from typing import Iterator

LOCK = "/tmp/gorun-kit-bench.lock"


@contextlib.contextmanager
def bench_lock(path: str = LOCK) -> Iterator[None]:
    """Hold the shared benchmark lock for the duration of the block."""
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
