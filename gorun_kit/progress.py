"""Progress lines for long work (cold builds, benchmarks, running the course).

Shown when someone is watching: on stderr in a terminal, and in a Jupyter
kernel, so a student waiting for a cold runtime build sees that something is
happening. Piped or captured output gets none unless ``GORUN_KIT_PROGRESS=1``
asks for it; ``GORUN_KIT_PROGRESS=0`` turns it off everywhere (the notebook
checks set that, because a line that appears only on a cache miss would make
the committed outputs depend on the state of the cache).

Inside a kernel the lines go to stdout. A kernel shows stderr as an error
stream, and nbgrader gives no points to a graded cell that writes to stderr:
a cell that passes while a cold build reports its progress must still pass.
Elsewhere stderr keeps progress out of a command's own output.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Iterator

__all__ = ["enabled", "stream", "step", "note"]


def _in_kernel() -> bool:
    """True inside a running Jupyter kernel (not merely when ipykernel is importable)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def enabled() -> bool:
    setting = os.environ.get("GORUN_KIT_PROGRESS", "").strip().lower()
    if setting in ("0", "no", "off", "false"):
        return False
    if setting in ("1", "yes", "on", "true"):
        return True
    return sys.stderr.isatty() or _in_kernel()


def stream():
    """Where progress lines go: stdout in a Jupyter kernel, stderr anywhere else."""
    return sys.stdout if _in_kernel() else sys.stderr


def note(message: str) -> None:
    """One progress line (nothing when progress is off)."""
    if enabled():
        print(f"[gorun-kit] {message}", file=stream(), flush=True)


def _every() -> float:
    """Seconds between "still working" lines (``GORUN_KIT_PROGRESS_EVERY``, default 10)."""
    try:
        return max(0.01, float(os.environ.get("GORUN_KIT_PROGRESS_EVERY", "10")))
    except ValueError:
        return 10.0


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """Announce ``label``, say every few seconds that it is still running (a
    cold runtime build prints nothing for half a minute), then report how long
    it took or that it failed."""
    start = time.monotonic()
    note(f"{label} ...")
    done = threading.Event()
    beat = None
    if enabled():
        every = _every()

        def heartbeat() -> None:
            while not done.wait(every):
                note(f"{label}: still working ({time.monotonic() - start:.0f}s)")

        beat = threading.Thread(target=heartbeat, daemon=True, name="gorun-kit-progress")
        beat.start()
    try:
        yield
    except BaseException:
        note(f"{label}: failed after {time.monotonic() - start:.1f}s")
        raise
    finally:
        done.set()
        if beat is not None:
            beat.join()
    note(f"{label}: done in {time.monotonic() - start:.1f}s")
