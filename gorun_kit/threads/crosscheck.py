"""The hook's Ms compared with three instruments that do not trust it.

For one run (a :class:`~gorun_kit.threads.records.ThreadReport`):

* the tracer (gorun_kit.trace or strace) saw every CLONE_THREAD clone: their
  child tids are the hook's tids besides the main thread's, and the thread
  that called ``newm1`` is the clone's caller;
* ``/proc/<pid>/task``, sampled while the program ran, lists the same tids;
* ``GODEBUG=schedtrace``'s last ``threads=`` is the number of M ids handed out.

A program that exits right after making an M can end before that M's thread
reaches ``minit``: the hook has its ``new``/``clone`` records but no tid,
while the tracer saw the clone. Such Ms are counted, not called a mismatch;
and a check whose instrument stopped looking before the last M appeared is
marked inconclusive instead of failed.
"""
from __future__ import annotations

import dataclasses

from ..records import Record
from .records import MRecord, ThreadReport

__all__ = ["CrossCheck", "cross_checks"]


@dataclasses.dataclass(frozen=True)
class CrossCheck(Record):
    """One instrument compared with the hook.

    ``conclusive`` is False when the instrument did not cover the whole run
    (the /proc sampler's last look, or the last schedtrace line, came before
    the last M appeared -- short programs); ``ok`` then holds the weaker
    check that could still be made (what it saw is consistent with the hook).
    """

    name: str
    ok: bool
    hook: tuple[int, ...]
    other: tuple[int, ...]
    detail: str
    conclusive: bool = True

    @property
    def verdict(self) -> str:
        return "MISMATCH" if not self.ok else ("ok" if self.conclusive else "inconclusive")


def _unstarted(r: ThreadReport) -> list[MRecord]:
    """The Ms that were cloned but ended before minit (no tid in the hook)."""
    return [m for m in r.ms if m.tid is None and m.t_clone is not None]


def _unstarted_note(r: ThreadReport) -> str:
    n = len(_unstarted(r))
    return f" (+{n} cloned but gone before minit, no tid in the hook)" if n else ""


def _tracer_check(r: ThreadReport) -> CrossCheck:
    """The hook's tids besides main == the CLONE_THREAD children the tracer saw."""
    hook = set(r.tids)
    non_main = hook - {r.pid}
    traced = {child for _, child in r.traced_threads}
    ok = r.pid in hook and non_main <= traced and len(traced - non_main) == len(_unstarted(r))
    return CrossCheck(f"hook tids == CLONE_THREAD children ({r.tracer}) + the main thread", ok,
                      tuple(sorted(non_main)), tuple(sorted(traced)),
                      f"hook {len(non_main)} threads besides main, tracer {len(traced)}{_unstarted_note(r)}")


def _proc_check(r: ThreadReport) -> CrossCheck:
    """The hook's tids == the tids /proc/<pid>/task listed while the program ran."""
    hook, sampled = set(r.tids), set(r.proc_tasks)
    starts = [m.t_start for m in r.ms if m.t_start is not None and m.tid != r.pid]
    # Ms do not end before the process does (except locked ones, which the run
    # functions account for): a look after the last start sees every M.
    covered = r.proc_window is not None and (not starts or max(starts) <= r.proc_window[1])
    consistent = len(sampled - hook) <= len(_unstarted(r))
    window_note = "" if covered else "; the sampler's last look at the whole process came before the last M started"
    return CrossCheck("hook tids == /proc/<pid>/task sampled while running",
                      consistent and (not covered or hook <= sampled), tuple(sorted(hook)), r.proc_tasks,
                      f"hook {len(hook)}, /proc {len(sampled)}{_unstarted_note(r)}{window_note}", conclusive=covered)


def _cloner_check(r: ThreadReport) -> CrossCheck:
    """The thread that ran newm1 (the hook's ``clone`` record) is the clone's caller."""
    parents = {child: parent for parent, child in r.traced_threads}
    traced = [m for m in r.ms if m.tid in parents]
    compared = [m for m in traced if m.cloned_by_tid]
    ok = bool(compared) and all(parents[m.tid] == m.cloned_by_tid for m in compared)
    return CrossCheck("the thread that ran newm1 is the clone's caller in the tracer", ok,
                      tuple(m.cloned_by_tid or 0 for m in traced), tuple(parents[m.tid] for m in traced),
                      "newm1's gettid() == tracer's parent tid for every traced thread")


def _schedtrace_check(r: ThreadReport) -> CrossCheck:
    """The hook's Ms (+ ids never started) == the last schedtrace ``threads=``."""
    # threads= is mcount(): every M id handed out (minus freed Ms). Under cgo
    # one M is allocated without newm and never started by Go (the "extra M"
    # that C threads borrow when they call into Go), so it has an id but no
    # hook record; it is counted and named here.
    started = len([m for m in r.ms if m.tid is not None])
    unstarted = len(_unstarted(r))
    seen = {m.m for m in r.ms}
    never = sorted(set(range(max(seen) + 1)) - seen) if seen else []
    expected = started + unstarted + len(never)
    # SCHED lines come every schedtrace_ms from sysmon (which may sleep up to
    # 10 ms more): the last one postdates the last newm only if the program
    # ran on long enough after it.
    last_new = max((m.t_new for m in r.ms if m.t_new is not None), default=r.t0)
    covered = r.schedtrace_ms > 0 and r.t_end - last_new >= (2 * r.schedtrace_ms + 20) * 1_000_000
    ok = expected == r.schedtrace_threads if covered else r.schedtrace_threads <= expected
    detail = (f"hook {started} started" + _unstarted_note(r)
              + (f" + {len(never)} never started (M{', M'.join(map(str, never))})" if never else "")
              + f", schedtrace threads={r.schedtrace_threads}"
              + ("" if covered else "; the last SCHED line may predate the last M"))
    return CrossCheck("hook Ms (+ ids never started) == last GODEBUG=schedtrace threads=",
                      ok, (started, unstarted, len(never)), (r.schedtrace_threads,), detail, conclusive=covered)


def cross_checks(r: ThreadReport) -> list[CrossCheck]:
    """Every check the run's instruments allow (the schedtrace one only when it ran)."""
    checks = [_tracer_check(r), _proc_check(r), _cloner_check(r)]
    if r.schedtrace_threads is not None:
        checks.append(_schedtrace_check(r))
    return checks
