#!/usr/bin/env python3
"""Tracer overhead benchmark (issue 3): plain vs our ptrace tracer vs strace.

Run it alone on the machine:
    flock /tmp/gorun-kit-bench.lock .venv/bin/python benchmarks/tracer_overhead.py [--runs 7]
It prints a Markdown table for benchmarks/README.md (same as
`gorun-kit bench tracer`). See gorun_kit/bench/tracer.py for the method.
"""
import sys

from gorun_kit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "tracer", *sys.argv[1:]]))
