#!/usr/bin/env python3
"""Cold and warm build times of a program built with the patched-runtime
thread hook (gorun_kit.threads), beside the same program built plainly.

Run (serialised with the other benchmarks on the shared machine):
    flock /tmp/gorun-kit-bench.lock .venv/bin/python benchmarks/patched_build.py --repeat 3
Results go into benchmarks/README.md, section "Patched-runtime build time".
"""
import sys

from gorun_kit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "patched_build", *sys.argv[1:]]))
