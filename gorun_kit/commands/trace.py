"""Trace every clone and exec of a command tree with the course's ptrace
tracer (gorun_kit/_src/tracer) and print a readable summary. Exits with the traced
command's exit status (128+N when signal N killed it; 126 when the command
cannot be executed, 127 when it does not exist). The command reads our
standard input and writes to our standard output; the summary goes to
standard error. --perfetto writes the processes and threads as a timeline
(Chrome Trace Event JSON) that ui.perfetto.dev and chrome://tracing open.
On --timeout, Ctrl-C, SIGTERM or SIGHUP the tree is killed and the records
so far still go to --json and --perfetto.

With ``--attach PID`` it follows a process that already runs, until that
process exits (its status) or ``--duration`` seconds pass (then it detaches,
leaves the process running and exits 0).

``--verify`` compares every exec record with /proc/<pid>/cmdline and
environ at the exec stop (and the envp rebuilt from the records with the
tracer's checksum of environ), prints the counts, and exits 3 when any
differ."""
from __future__ import annotations

import sys

from ..cli import output_file, seconds

NAME = "trace"
HELP = "trace every clone/exec of a command tree (ptrace), print a summary"


def add_arguments(parser) -> None:
    parser.add_argument("--json", metavar="FILE", type=output_file,
                        help="write the records as JSON Lines to FILE ('-' for standard output); checked "
                             "before the command runs, written also after a timeout or interruption")
    parser.add_argument("--perfetto", metavar="FILE", type=output_file,
                        help="write the processes and threads as a timeline to FILE (.json, Chrome Trace Event "
                             "format: open it at ui.perfetto.dev or chrome://tracing); also after a timeout")
    parser.add_argument("--mode", choices=("events", "seccomp", "syscalls"), default="events",
                        help="events (default): stop only at exec entry and clone/exec events; "
                             "seccomp: also at clone entry; syscalls: at every syscall")
    parser.add_argument("--env", choices=("delta", "full", "none"), default="delta", dest="env_records",
                        help="how each exec's environment is recorded: delta (default: what changed), full, none")
    parser.add_argument("--verify", action="store_true",
                        help="check every exec record against /proc/<pid>/cmdline and environ; exit 3 on a mismatch")
    parser.add_argument("--timeout", type=seconds, default=None, metavar="S",
                        help="kill the tree after S seconds")
    parser.add_argument("--strace", action="store_true", help="use strace -f instead (the cross-check)")
    parser.add_argument("--execs", action="store_true", help="list every exec with its argv")
    parser.add_argument("--attach", metavar="PID", type=int, help="follow this running process instead of a command")
    parser.add_argument("--duration", type=seconds, default=None, metavar="S",
                        help="with --attach: detach after S seconds (default: until it exits)")
    parser.add_argument("cmd", nargs="*", metavar="CMD", help="the command (put it after --)")


def _say(text: str) -> None:
    print(f"gorun-kit trace: {text}", file=sys.stderr)


def _write_json(t, dest: str | None, what: str = "records") -> bool:
    """Write ``t`` to --json ``dest`` (checked writable before the run);
    False, with the reason said, if that failed after all."""
    if dest is None or t is None:
        return True
    try:
        t.write_jsonl(dest)
    except OSError as exc:  # e.g. the disk filled or the directory went away meanwhile
        _say(f"cannot write the records to {dest!r}: {exc.strerror or exc}")
        return False
    if dest != "-":
        print(f"  {what} written to {dest}", file=sys.stderr)
    return True


def _write_perfetto(t, dest: str | None, what: str = "timeline") -> bool:
    """Write ``t`` as a timeline to --perfetto ``dest``; False, with the
    reason said, if that failed."""
    if dest is None or t is None:
        return True
    from ..timeline import chrome, from_trace

    try:
        chrome.write(from_trace(t), dest)
    except (OSError, ValueError) as exc:
        _say(f"cannot write the timeline to {dest!r}: {getattr(exc, 'strerror', None) or exc}")
        return False
    print(f"  {what} written to {dest}: open it at https://ui.perfetto.dev or chrome://tracing", file=sys.stderr)
    return True


def _check(args) -> str | None:
    """What is wrong with this combination of options, or None."""
    if (args.attach is None) == (not args.cmd):
        return "give either a command (after --) or --attach PID, not both or neither"
    if args.strace and (args.verify or args.env_records != "delta"):
        return "--verify and --env are options of the course's tracer, not of --strace"
    if args.attach is not None and (args.strace or args.timeout is not None or args.mode == "seccomp"):
        return "--attach works with --mode events|syscalls and --duration (not --strace, --timeout or --mode seccomp)"
    if args.duration is not None and args.attach is None:
        return "--duration is for --attach; use --timeout for a command"
    if args.perfetto is not None and (args.perfetto == "-" or not args.perfetto.lower().endswith(".json")):
        return f"--perfetto {args.perfetto}: name a .json file (the timeline is Chrome Trace Event JSON)"
    if args.perfetto is not None and args.strace:
        return "--perfetto needs the course's tracer (its CLOCK_MONOTONIC times), not --strace (wall-clock times)"
    if args.attach is not None and args.attach <= 0:
        return f"--attach {args.attach}: give the positive process id of a running process"
    return None


def _trace(args):
    from .. import trace

    if args.attach is not None:
        return trace.attach(args.attach, mode=args.mode, duration=args.duration, env_records=args.env_records,
                            verify=args.verify)
    if args.strace:
        return trace.strace_run(args.cmd, timeout=args.timeout, capture=False, stdin=None)
    return trace.run(args.cmd, mode=args.mode, timeout=args.timeout, capture=False, stdin=None,
                     env_records=args.env_records, verify=args.verify)


def _report_verify(t) -> bool:
    """Print what --verify found; True when every exec record agreed."""
    from .. import trace

    v = t.stats.get("verify")
    if v is None:
        _say("--verify: the tracer wrote no verification (its end record is missing)")
        return False
    print(f"  verify: {v['execs']} exec records checked against /proc/<pid>/cmdline and environ "
          f"({v.get('rebuilt_checked', 0)} rebuilt envps checked), {v['mismatches']} mismatches", file=sys.stderr)
    if v["mismatches"]:
        print(f"  first mismatch: {trace.escape(v.get('first') or '?')}", file=sys.stderr)
    return v["mismatches"] == 0


def run(args) -> int:
    from .. import trace

    problem = _check(args)
    if problem:
        _say(problem)
        return 2
    try:
        t = _trace(args)
    except trace.CommandNotExecutable as exc:
        _say(str(exc))
        return 126
    except (trace.CommandNotFound, trace.ProcessNotFound) as exc:
        _say(str(exc))
        return 127
    except trace.TraceTimeout as exc:
        _say(str(exc))
        _write_json(exc.partial, args.json, "the records until the timeout")
        _write_perfetto(exc.partial, args.perfetto, "the timeline until the timeout")
        return 124
    except trace.TraceInterrupted as exc:
        _write_json(exc.partial, args.json, "the records until the interruption")
        _write_perfetto(exc.partial, args.perfetto, "the timeline until the interruption")
        raise
    except trace.TracerError as exc:
        _say(str(exc))
        return 125
    print(t.summary(), file=sys.stderr)
    if args.execs:
        for e in t.execs:
            print(f"  [{e.pid}] {trace.escape(e.filename)} {list(e.argv)!r}", file=sys.stderr)
    written = [_write_json(t, args.json), _write_perfetto(t, args.perfetto)]
    if not all(written):
        return 2
    if args.verify and not _report_verify(t):
        return 3
    if t.returncode is None and args.attach is not None:
        print(f"  detached from {args.attach} after {args.duration} s; it is still running", file=sys.stderr)
        return 0
    return t.returncode if t.returncode is not None else 125
