"""Progress lines for long work (cold builds, benchmarks, running the course).

Shown on stderr in a terminal and in a Jupyter kernel, so a student waiting
for a cold runtime build sees that something is happening. Turned off with
``GORUN_KIT_PROGRESS=0`` -- the notebook checks set that, because a line that
appears only on a cache miss would make the committed outputs depend on the
state of the cache.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Iterator

__all__ = ["enabled", "step", "note"]


def _in_kernel() -> bool:
    return "ipykernel" in sys.modules


def enabled() -> bool:
    setting = os.environ.get("GORUN_KIT_PROGRESS", "").strip().lower()
    if setting in ("0", "no", "off", "false"):
        return False
    if setting in ("1", "yes", "on", "true"):
        return True
    return sys.stderr.isatty() or _in_kernel()


def note(message: str) -> None:
    """One progress line (nothing when progress is off)."""
    if enabled():
        print(f"[gorun-kit] {message}", file=sys.stderr, flush=True)


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
