"""Trace every clone and exec of a command tree with the course's ptrace
tracer (gorun_kit/_src/tracer) and print a readable summary. Exits with the traced
command's exit status (128+N when signal N killed it).

With ``--attach PID`` it follows a process that already runs, until that
process exits (its status) or ``--duration`` seconds pass (then it detaches,
leaves the process running and exits 0)."""
from __future__ import annotations

import sys

NAME = "trace"
HELP = "trace every clone/exec of a command tree (ptrace), print a summary"


def add_arguments(parser) -> None:
    parser.add_argument("--json", metavar="FILE", help="write the records as JSON Lines to FILE")
    parser.add_argument("--mode", choices=("events", "seccomp", "syscalls"), default="events",
                        help="events (default): stop only at exec entry and clone/exec events; "
                             "seccomp: also at clone entry; syscalls: at every syscall")
    parser.add_argument("--timeout", type=float, default=None, help="kill the tree after this many seconds")
    parser.add_argument("--strace", action="store_true", help="use strace -f instead (the cross-check)")
    parser.add_argument("--execs", action="store_true", help="list every exec with its argv")
    parser.add_argument("--attach", metavar="PID", type=int, help="follow this running process instead of a command")
    parser.add_argument("--duration", type=float, default=None,
                        help="with --attach: detach after this many seconds (default: until it exits)")
    parser.add_argument("cmd", nargs="*", metavar="CMD", help="the command (put it after --)")


def run(args) -> int:
    from .. import trace

    if (args.attach is None) == (not args.cmd):
        print("gorun-kit trace: give either a command (after --) or --attach PID, not both or neither",
              file=sys.stderr)
        return 2
    if args.attach is not None and (args.strace or args.timeout is not None or args.mode == "seccomp"):
        print("gorun-kit trace: --attach works with --mode events|syscalls and --duration "
              "(not --strace, --timeout or --mode seccomp)", file=sys.stderr)
        return 2
    if args.duration is not None and args.attach is None:
        print("gorun-kit trace: --duration is for --attach; use --timeout for a command", file=sys.stderr)
        return 2
    try:
        if args.attach is not None:
            t = trace.attach(args.attach, mode=args.mode, duration=args.duration)
        elif args.strace:
            t = trace.strace_run(args.cmd, timeout=args.timeout, capture=False)
        else:
            t = trace.run(args.cmd, mode=args.mode, timeout=args.timeout, capture=False)
    except (trace.CommandNotFound, trace.ProcessNotFound) as exc:
        print(f"gorun-kit trace: {exc}", file=sys.stderr)
        return 127
    except trace.TraceTimeout as exc:
        print(f"gorun-kit trace: {exc}", file=sys.stderr)
        return 124
    except trace.TracerError as exc:
        print(f"gorun-kit trace: {exc}", file=sys.stderr)
        return 125
    print(t.summary(), file=sys.stderr)
    if args.execs:
        for e in t.execs:
            print(f"  [{e.pid}] {e.filename} {list(e.argv)!r}", file=sys.stderr)
    if args.json:
        t.write_jsonl(args.json)
        print(f"  records written to {args.json}", file=sys.stderr)
    if t.returncode is None and args.attach is not None:
        print(f"  detached from {args.attach} after {args.duration} s; it is still running", file=sys.stderr)
        return 0
    return t.returncode if t.returncode is not None else 125
