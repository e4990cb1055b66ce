"""The ``gorun-kit`` command: one subcommand per module in gorun_kit.commands.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Errors the user can fix (a missing tool, a bad input)
are printed as one clear message with exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .toolchain import ToolchainMissing


def _command_names() -> list[str]:
    """Every module of gorun_kit.commands is a subcommand (no central list to edit)."""
    from . import commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


class UsageError(Exception):
    """Bad input on the command line; the message says what to do."""


def _load(name: str):
    return importlib.import_module(f"gorun_kit.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gorun-kit",
        description="Instruments for the Go runtime black-box course.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _command_names():
        module = _load(name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ToolchainMissing, UsageError, FileNotFoundError, ValueError) as exc:
        print(f"gorun-kit {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gorun-kit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
