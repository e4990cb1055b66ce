"""What Go's exec.LookPath returns for NAME on linux, darwin or windows, as JSON.

The scenario's files are given with --file/--dir/--symlink (paths in the
chosen OS's form; parents are created). Without --real the answer comes from
gorun_kit's Python model of lp_unix.go / lp_windows.go; with --real it comes
from real Go (natively on Linux; a GOOS=windows build under Wine), with the
files created in a temporary directory. darwin is model-only.

PATH[:MODE]: when the text after the last ':' is all digits it is the mode,
in octal (at most 7777); otherwise the whole text is the path. So a file
whose name ends in ':' and digits needs its mode written out:
--file /bin/x:999:755 is the file "/bin/x:999", mode 755. A name longer than
255 bytes, a NUL byte, an empty symlink target or an entry inside a file are
refused: no real filesystem holds them.

Example:
  gorun-kit lookpath --goos windows --path 'C:\\bin;C:\\tools' --file 'C:\\tools\\fmt.BAT' fmt
"""
from __future__ import annotations

import json

NAME = "lookpath"
HELP = "what exec.LookPath returns on linux/darwin/windows (model, or --real Go)"


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help="the program name passed to exec.LookPath")
    parser.add_argument("--goos", required=True, choices=["linux", "darwin", "windows"])
    parser.add_argument("--path", required=True, metavar="P", help="the PATH value (use '' for an empty PATH)")
    parser.add_argument("--pathext", metavar="E", default=None, help="PATHEXT (windows only; default: unset)")
    parser.add_argument("--cwd", metavar="D", default=None, help="current directory (default / or C:\\)")
    parser.add_argument("--file", action="append", default=[], metavar="PATH[:MODE]",
                        help="a regular file, optional octal mode (default 755), e.g. /bin/tool:644; "
                             "digits after the last ':' are always the mode")
    parser.add_argument("--dir", action="append", default=[], metavar="PATH[:MODE]",
                        help="a directory, optional octal mode as for --file")
    parser.add_argument("--symlink", action="append", default=[], metavar="LINK=TARGET", help="a symlink (unix)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V",
                        help="extra variable (GODEBUG=execerrdot=0, NoDefaultCurrentDirectoryInExePath=)")
    parser.add_argument("--uid", type=int, default=None, help="effective uid (unix; --real needs root)")
    parser.add_argument("--real", action="store_true", help="ask real Go instead of the model")


def _path_mode(spec: str, goos: str, what: str) -> tuple[str, int]:
    """``PATH[:MODE]`` (see the module docstring): digits after the last ':'
    are the mode, and must be octal up to 7777; the drive colon of a windows
    path (``C:``) is never a mode separator."""
    from ..cli import UsageError

    head, sep, tail = spec.rpartition(":")
    if not (sep and tail.isascii() and tail.isdigit()) or (goos == "windows" and len(head) < 2):
        return spec, 0o755
    if any(c not in "01234567" for c in tail) or int(tail, 8) > 0o7777:
        raise UsageError(f"--{what} {spec!r}: mode {tail!r} is not an octal mode (0-7777, like 755); "
                         f"to name a file ending in ':{tail}', add its mode: {spec}:755")
    return head, int(tail, 8)


def run(args) -> int:
    import os

    from .. import lookpath
    from ..cli import UsageError

    fs = lookpath.default_fs(args.goos)
    try:
        for spec in args.dir:
            p, mode = _path_mode(spec, args.goos, "dir")
            fs = fs.dir(p, mode)
        for spec in args.file:
            p, mode = _path_mode(spec, args.goos, "file")
            fs = fs.file(p, mode)
        for spec in args.symlink:
            link, eq, target = spec.partition("=")
            if not eq:
                raise UsageError(f"--symlink {spec!r}: write it as LINK=TARGET")
            fs = fs.symlink(link, target)
    except ValueError as exc:
        raise UsageError(f"bad scenario: {exc}") from None
    env = {}
    for item in args.env:
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise UsageError(f"--env {item!r}: write it as NAME=VALUE (the value may be empty)")
        env[k] = v
    uid = args.uid if args.uid is not None else (os.geteuid() if args.real else 0)
    kwargs = dict(goos=args.goos, path=args.path, pathext=args.pathext, cwd=args.cwd, env=env, fs=fs, uid=uid)
    if args.goos != "windows" and args.pathext is not None:
        raise UsageError("--pathext is a Windows setting; drop it or use --goos windows")
    if args.real:
        from ..lookpath.real import Unsupported

        try:
            result = lookpath.real(args.name, **kwargs)
        except Unsupported as exc:
            raise UsageError(str(exc)) from None
    else:
        result = lookpath.lookpath(args.name, **kwargs)
    print(json.dumps({"name": args.name, **result.to_dict(),
                      "scenario": {k: v for k, v in kwargs.items() if k != "fs"} | {"files": fs.describe()}},
                     indent=2))
    return 0
