"""Trace every clone and exec of a command tree with the course's ptrace
tracer (labs_c/tracer) and print a readable summary. Exits with the traced
command's exit status (128+N when signal N killed it)."""
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
    parser.add_argument("cmd", nargs="+", metavar="CMD", help="the command (put it after --)")


def run(args) -> int:
    from .. import trace

    try:
        if args.strace:
            t = trace.strace_run(args.cmd, timeout=args.timeout, capture=False)
        else:
            t = trace.run(args.cmd, mode=args.mode, timeout=args.timeout, capture=False)
    except trace.CommandNotFound as exc:
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
    return t.returncode if t.returncode is not None else 125
