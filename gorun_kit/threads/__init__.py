"""The thread-creation hook: which OS threads (Ms) a Go program's runtime makes, and why.

A patched runtime, built with ``go build -overlay`` (GOROOT is only read),
reports every M it creates from inside the runtime; independent instruments
check what it says. The modules:

``hook``        the overlay: ``proc.go`` with three calls spliced in, the hook
                file and its extension point (:func:`patch`, :func:`build`)
``records``     the hook's text lines, one :class:`MRecord` per M, and the
                :class:`ThreadReport` of one run with its table and tree
``run``         one run under a thread tracer with /proc sampled beside it
                (:func:`observe`, :func:`run_hooked` -> :class:`TracedRun`)
``crosscheck``  the hook compared with the tracer, /proc and schedtrace
``proc``        the threads of a running program as /proc shows them, with roles
``gdb``         every new thread stopped at ``runtime.mstart`` under gdb, and every
                thread, M and P of a program stopped at one instant (``snapshot``)
``scheduler``   the scheduler source around thread creation: sysmon's retake, what
                the compiler refuses in package runtime, the hook as a diff

The names below are the package's API; ``from gorun_kit import threads`` and
``threads.observe(...)`` is the usual way in.
"""
from __future__ import annotations

from .crosscheck import CrossCheck, cross_checks
from .hook import (CALLERS_EXTENSION, ENV, EXECTRACE_ENV, EXTENSION_TEMPLATE, SEED_PATCH, SUPPORTED, Patch, UnsupportedRelease,
                   build, default_extension, patch, seed_patch_attempt)
from .records import (Cause, MRecord, ThreadReport, causes_table, creation_cause, ms_from_records, parse_records,
                      path_through)
from .run import TRACERS, TracedRun, observe, run_hooked

__all__ = [
    "ENV", "EXECTRACE_ENV", "SUPPORTED", "CALLERS_EXTENSION", "EXTENSION_TEMPLATE", "SEED_PATCH", "TRACERS",
    "UnsupportedRelease", "Patch", "MRecord", "ThreadReport", "CrossCheck", "TracedRun",
    "patch", "build", "default_extension", "seed_patch_attempt", "parse_records", "ms_from_records",
    "observe", "run_hooked", "cross_checks", "Cause", "creation_cause", "causes_table", "path_through",
]
