"""Report what this machine has (Go, C compiler, dot, strace, wine, ptrace) and
which chapters can run live. Exit status 0 when every chapter
can run its live parts, at least partly."""
from __future__ import annotations

import json

NAME = "doctor"
HELP = "what this machine has and which chapters can run live"


def add_arguments(parser) -> None:
    from ..cli import output_file

    parser.add_argument("--json", metavar="FILE", type=output_file,
                        help="also write the report as JSON ('-' for stdout)")


def run(args) -> int:
    from ..doctor import diagnose

    report = diagnose()
    if args.json == "-":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.render())
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(report.to_dict(), fh, indent=2, ensure_ascii=False)
    return 0 if report.ok else 1
