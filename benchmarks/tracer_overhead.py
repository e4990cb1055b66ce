#!/usr/bin/env python3
"""Tracer overhead benchmark: plain vs our ptrace tracer vs strace.

Run it alone on the machine:
    flock /tmp/gorun-kit-bench.lock .venv/bin/python benchmarks/tracer_overhead.py [--runs 15] \
        [--baseline OLD_TRACER] [--json benchmarks/results/tracer_overhead.json]
``--baseline`` measures another tracer build in the same run (e.g. the
previous tracer.c: ``git show HEAD:gorun_kit/_src/tracer/tracer.c > old.c``,
built with ``cc -O2 -g -Wall -Wextra -std=gnu11``). It prints a Markdown
table for benchmarks/README.md (same as `gorun-kit bench tracer`). See
gorun_kit/bench/tracer.py for the method.
"""
import sys

from gorun_kit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "tracer", *sys.argv[1:]]))
