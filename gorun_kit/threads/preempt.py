"""Who sends the asynchronous-preemption signals: a hooked program under strace.

:func:`sigurg_senders` runs an executable built with the thread hook under
``strace -f`` watching ``tgkill``, with the hook's records going to a file,
so each ``tgkill(pid, tid, SIGURG)`` can be matched to the M (and its start
function, e.g. ``runtime.sysmon``) of the thread that called it.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
from collections import Counter
from typing import Mapping, Sequence

from .. import trace
from ..cache import scratch_dir
from ..records import Record
from .hook import ENV
from .records import MRecord, ms_from_records, parse_records

__all__ = ["PreemptionRun", "sigurg_senders"]


@dataclasses.dataclass(frozen=True)
class PreemptionRun(Record):
    """One strace run of a hooked program: its Ms and its ``tgkill`` calls.

    ``sigurg`` are (caller tid, target tid) pairs of the ``tgkill`` calls that
    sent SIGURG, in order; ``other_tgkills`` counts the tgkill calls with any
    other signal."""

    ms: tuple[MRecord, ...]
    sigurg: tuple[tuple[int, int], ...]
    other_tgkills: int

    def m_of_tid(self, tid: int) -> MRecord | None:
        """The M whose thread has kernel id ``tid`` (None if no record has it)."""
        return next((m for m in self.ms if m.tid == tid), None)

    def senders(self) -> Counter:
        """SIGURGs sent per sending M, keyed ``"M<id> <start fn>"`` (``"tid <n>"`` for a thread without record)."""
        def name(tid: int) -> str:
            m = self.m_of_tid(tid)
            return f"M{m.m} {m.start_fn}" if m else f"tid {tid}"
        return Counter(name(caller) for caller, _ in self.sigurg)

    @property
    def sysmon(self) -> MRecord | None:
        """The M whose start function is runtime.sysmon."""
        return next((m for m in self.ms if m.start_fn == "runtime.sysmon"), None)


def sigurg_senders(binary: str | os.PathLike, args: Sequence[str] = (), *,
                   env: Mapping[str, str] | None = None, timeout: float = 120) -> PreemptionRun:
    """Run the hooked ``binary`` once under ``strace -f -e tgkill``.

    ``binary`` must be built with the thread hook (:func:`gorun_kit.threads.build`),
    else there are no records and ValueError is raised. ``env`` (default:
    ours) gets ``$GORUN_KIT_THREADS`` pointed at a scratch file, which is
    removed afterwards. Takes as long as the program runs, plus strace's cost.
    """
    work = scratch_dir("threads/preempt", "run")
    try:
        records = work / "records.txt"
        run_env = {**(os.environ if env is None else env), ENV: str(records)}
        t = trace.strace_run([os.fspath(binary), *args], syscalls=["tgkill"], env=run_env, timeout=timeout,
                             writable=[str(work)])
        text = records.read_text() if records.exists() else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not text.strip():
        raise ValueError(f"{binary}: the hook wrote no records (is it built with gorun_kit.threads.build?)")
    calls = t.syscalls("tgkill")
    sigurg = tuple((c.tid, int(c.args[1])) for c in calls if c.args[2] == "SIGURG")
    return PreemptionRun(ms_from_records(parse_records(text)), sigurg, len(calls) - len(sigurg))
