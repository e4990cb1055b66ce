"""Shared runs that start when collection ends and finish while other tests run.

Some fixtures are minutes of other processes' work that a whole test module
shares: the course graded by our grader, and by real nbgrader. Each is
registered here by name (``@background.job("course_grades")``) as
``fn(workdir, environ)``: ``environ`` is the environment as it was when
collection ended, since tests change ``os.environ`` (monkeypatch) while a job
runs and the job's processes must not see that. When the
session's items are known, ``tests/conftest.py`` starts the jobs some
collected test needs, one after another in one thread, and moves the modules
that use them to the end of the session; on two CPUs the other tests run
meanwhile. The fixture of the same name calls :func:`result`, which waits for
the job and raises what it raised; with nothing started (the fixture used
outside a session, say) the job runs right there.

One thread, not one per job: two jobs at once beside the tests would make
three CPU-bound streams on two CPUs.
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

_jobs: dict[str, Callable[[Path, dict], object]] = {}
_futures: dict[str, concurrent.futures.Future] = {}
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_scratch: Path | None = None


def job(name: str):
    """Register ``fn(workdir, environ)`` as the background job behind the fixture ``name``."""
    def register(fn: Callable[[Path, dict], object]) -> Callable[[Path, dict], object]:
        _jobs[name] = fn
        return fn
    return register


def names() -> frozenset[str]:
    return frozenset(_jobs)


def _workdir(name: str) -> Path:
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="gorun-kit-tests-"))
    path = _scratch / name
    path.mkdir()
    return path


def start(needed: Iterable[str]) -> None:
    """Start the registered jobs among ``needed``, in registration order."""
    global _pool
    for name in [n for n in _jobs if n in set(needed) and n not in _futures]:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="background-job")
        _futures[name] = _pool.submit(_jobs[name], _workdir(name), dict(os.environ))


def result(name: str):
    """The job's result: waited for if it was started, else run now."""
    if name not in _futures:
        start([name])
    return _futures[name].result()


def stop() -> None:
    """Drop jobs not yet begun, wait for the running one, remove the work directories."""
    global _pool, _scratch
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None
    _futures.clear()
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)
        _scratch = None
