"""The ``gorun-kit`` command: one subcommand per module in gorun_kit.commands.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Errors the user can fix (a missing tool, a bad input)
are printed as one clear line with exit status 2, never as a traceback; a
bad option value is refused before anything runs (the argument types below:
:func:`output_file`, :func:`seconds`). SIGTERM and SIGHUP stop a command the
way Ctrl-C does -- everything it started is stopped -- and the exit status is
128+N.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import math
import os
import pkgutil
import signal
import sys
import threading
from typing import Iterator

from .toolchain import ToolchainMissing

__all__ = ["main", "build_parser", "UsageError", "Stopped", "output_file", "seconds", "STDOUT"]

STDOUT = "-"  # the value of an output_file option that means standard output


def _command_names() -> list[str]:
    """Every module of gorun_kit.commands is a subcommand (no central list to edit)."""
    from . import commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


class UsageError(Exception):
    """Bad input on the command line; the message says what to do."""


class Stopped(KeyboardInterrupt):
    """SIGINT (Ctrl-C), SIGTERM or SIGHUP arrived: a KeyboardInterrupt, so
    every ``finally`` and every cleanup of a running tool runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# -- argument types -----------------------------------------------------------


def output_file(value: str) -> str:
    """An argparse type for a file the command will write (``--json FILE``):
    ``-`` is standard output; otherwise the file must be creatable or
    writable now, before the command runs (tried for real: a directory, a
    missing parent, no permission, a read-only or pseudo file system are
    refused). Nothing is left on disk by the check."""
    if value == STDOUT:
        return value
    if not value:
        raise argparse.ArgumentTypeError("'' is not a file name; give a path, or - for standard output")
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is a directory; give a file name inside it")
    parent = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{value!r}: the directory {parent!r} does not exist; create it first")
    real = os.path.realpath(value)
    if os.path.isfile(value) and real.startswith(("/proc/", "/sys/")):
        # kernel files open for writing (as root) but are not where records go
        raise argparse.ArgumentTypeError(f"{value!r} is a kernel file ({real}); give a file in a normal directory")
    try:
        if os.path.lexists(value):
            fd = os.open(value, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)  # no truncation yet
            os.close(fd)
        else:
            fd = os.open(value, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(fd)
            os.unlink(value)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            why += " (choose a place you can write to)"
        raise argparse.ArgumentTypeError(f"cannot write {value!r}: {why}") from None
    return value


def seconds(value: str) -> float:
    """An argparse type for a duration: a finite number of seconds > 0."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give a finite number of seconds greater than 0")
    return number


# -- parsing and running ------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with errors on one line (the usage is in --help)."""

    def error(self, message: str):
        message = " ".join(message.split())  # argparse may quote multi-line choices
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):
        """Parse ``args``; everything after the first ``--`` belongs to the program a
        command runs, wherever the command's options stand (``timeline PROG -o F -- A``
        as well as ``timeline -o F PROG -- A``).

        argparse alone fills a trailing ``nargs="*"`` positional once, at the first
        positional it meets, and then calls the words after ``--`` unrecognized."""
        args = list(sys.argv[1:] if args is None else args)
        tail = None
        if "--" in args:
            at = args.index("--")
            args, tail = args[:at], args[at + 1:]
        # argparse's own "unrecognized arguments: a b" cannot show an empty
        # or blank argument, nor one with a newline: quote each
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error("unrecognized arguments: " + " ".join(repr(a) for a in extras))
        if tail is not None:
            dest = getattr(namespace, "_trailing", None)
            if dest is None:
                if tail:
                    self.error("unrecognized arguments: " + " ".join(repr(a) for a in ["--", *tail]))
            else:
                setattr(namespace, dest, [*(getattr(namespace, dest) or []), *tail])
        return namespace


def _load(name: str):
    return importlib.import_module(f"gorun_kit.commands.{name}")


def _mark_trailing(parser: argparse.ArgumentParser) -> None:
    """Give every innermost (sub)command the default ``_trailing``: the dest of its last
    positional when that takes any number of words (a program's arguments), else None."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    _mark_trailing(sub)
                    continue
                positionals = [a for a in sub._actions if not a.option_strings]
                last = positionals[-1] if positionals else None
                sub.set_defaults(_trailing=last.dest if last and last.nargs == argparse.ZERO_OR_MORE else None)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gorun-kit",
        description="Instruments for the Go runtime black-box course.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _command_names():
        module = _load(name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    _mark_trailing(parser)
    return parser


def _raise_stopped(signum, frame):
    # one cleanup only: a second signal must not interrupt the first one's cleanup
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


@contextlib.contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """While a command runs, SIGINT, SIGTERM and SIGHUP raise :class:`Stopped`
    (a KeyboardInterrupt), once: later ones are ignored until it is handled."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup gorun-kit ...: a hangup stays ignored
            old[sig] = signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _stop_signals_raise():
            return int(args._run(args) or 0)
    except (ToolchainMissing, UsageError, FileNotFoundError, ValueError) as exc:
        print(f"gorun-kit {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # whoever read our output stopped reading (`| head`): nothing is wrong with the
        # input; end quietly, as a shell pipeline expects (128 + SIGPIPE)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", None) or getattr(exc.__cause__, "signum", None) or signal.SIGINT
        name = signal.Signals(signum).name
        print(f"gorun-kit {args.command}: stopped by {name}; everything it started was stopped", file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
