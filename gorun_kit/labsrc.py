"""Student copies of lab sources, generated from the solutions.

A lab's solution file marks each part the student writes::

    /* ### BEGIN SOLUTION TODO 1 */
    ...the solution...
    /* ### END SOLUTION */
    //| return 0;

The region from the BEGIN line to the END line becomes one line
``/* TODO 1: YOUR CODE HERE */`` (in the marker's own comment style, at its
indentation). Lines right after the END marker that start with the stub
leader (``//|`` in C and Go, ``#|`` in Python and shell) are the stub: in the
solution they are comments, in the student copy they become code, so the
student copy compiles and runs -- and fails the lab's check. Every other line
is copied unchanged, including the TODO descriptions written above each region.

The same words as nbgrader (``### BEGIN SOLUTION``/``### END SOLUTION``), so
one grader understands notebooks and lab sources. Student copies are never
edited by hand: :func:`generate` writes them and :func:`stale` tells CI when
a committed copy no longer matches its solution.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

__all__ = ["LabSourceError", "Region", "regions", "student_text", "generate", "stale"]

_BEGIN = re.compile(r"^(?P<indent>\s*)(?P<open>/\*|//|#)\s*### BEGIN SOLUTION(?:\s+(?P<todo>TODO\s+\d+))?\s*(?:\*/)?\s*$")
_END = re.compile(r"^\s*(?:/\*|//|#)\s*### END SOLUTION\s*(?:\*/)?\s*$")
_STUB = re.compile(r"^(?P<indent>\s*)(?://|#)\| ?(?P<code>.*)$")
_ANY_MARKER = re.compile(r"### (BEGIN|END) SOLUTION")


class LabSourceError(ValueError):
    """The markers of a solution file are unbalanced or malformed (names file and line)."""


@dataclasses.dataclass(frozen=True)
class Region:
    """One solution region: 1-based line numbers of its BEGIN and END markers."""

    begin: int
    end: int
    todo: str  # "TODO 1", or "" when the marker names none
    stub: tuple[str, ...]  # the stub lines (already uncommented)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _parse(text: str, name: str) -> tuple[list[str], list[Region]]:
    lines = text.splitlines(keepends=True)
    found: list[Region] = []
    open_at: int | None = None
    todo = ""
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\n")
        if _BEGIN.match(line):
            if open_at is not None:
                raise LabSourceError(f"{name}:{i + 1}: BEGIN SOLUTION inside the region opened at line {open_at}; "
                                     "close it with ### END SOLUTION first")
            open_at, todo = i + 1, (_BEGIN.match(line).group("todo") or "")
        elif _END.match(line):
            if open_at is None:
                raise LabSourceError(f"{name}:{i + 1}: END SOLUTION without a BEGIN SOLUTION before it")
            stub = []
            j = i + 1
            while j < len(lines) and _STUB.match(lines[j].rstrip("\n")):
                m = _STUB.match(lines[j].rstrip("\n"))
                stub.append(m.group("indent") + m.group("code"))
                j += 1
            found.append(Region(open_at, i + 1, re.sub(r"\s+", " ", todo), tuple(stub)))
            open_at = None
            i = j
            continue
        elif _ANY_MARKER.search(line):
            raise LabSourceError(f"{name}:{i + 1}: malformed marker {line.strip()!r}; write it alone on its line as "
                                 "'/* ### BEGIN SOLUTION TODO n */' or '/* ### END SOLUTION */'")
        i += 1
    if open_at is not None:
        raise LabSourceError(f"{name}:{open_at}: BEGIN SOLUTION is never closed with ### END SOLUTION")
    return lines, found


def regions(text: str, name: str = "<source>") -> list[Region]:
    """The solution regions of ``text`` in order; raises :class:`LabSourceError`."""
    return _parse(text, name)[1]


def student_text(text: str, name: str = "<source>") -> str:
    """The student version of solution ``text`` (see the module docstring)."""
    lines, found = _parse(text, name)
    if not found:
        raise LabSourceError(f"{name}: no ### BEGIN SOLUTION region; nothing to hand out")
    out: list[str] = []
    pos = 0
    for r in found:
        out.extend(lines[pos:r.begin - 1])
        m = _BEGIN.match(lines[r.begin - 1].rstrip("\n"))
        indent, opener = m.group("indent"), m.group("open")
        label = f"{r.todo}: YOUR CODE HERE" if r.todo else "YOUR CODE HERE"
        out.append(f"{indent}/* {label} */\n" if opener == "/*" else f"{indent}{opener} {label}\n")
        out.extend(s + "\n" for s in r.stub)
        pos = r.end + len(r.stub)
    out.extend(lines[pos:])
    return "".join(out)


def _student_path(solution: Path) -> Path:
    return solution.parent / "student" / solution.name


def generate(solution: str | os.PathLike, student: str | os.PathLike | None = None) -> Path:
    """Write the student copy of ``solution`` (default ``<dir>/student/<name>``).

    Written to a temporary file and renamed, so an interrupted run never
    leaves a half-written copy.
    """
    src = Path(solution)
    if not src.is_file():
        raise FileNotFoundError(f"lab solution {os.fspath(src)!r} does not exist")
    dest = Path(student) if student is not None else _student_path(src)
    body = student_text(src.read_text(), str(src))
    header = _generated_header(src, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text(header + body)
    os.replace(tmp, dest)
    return dest


def _generated_header(src: Path, dest: Path) -> str:
    rel = os.path.relpath(src, dest.parent)
    # name the solution from the project root (the directory with pyproject.toml),
    # so the header says the same on every machine
    src_abs = src.resolve()
    root = next((d for d in src_abs.parents if (d / "pyproject.toml").is_file()), None)
    from_root = src_abs.relative_to(root).as_posix() if root else src.name
    note = (f"GENERATED from {rel} by gorun_kit.labsrc -- do not edit; "
            f"regenerate with: python -m gorun_kit.labsrc {from_root}")
    if src.suffix in (".py", ".sh"):
        return f"# {note}\n"
    return f"/* {note} */\n"


def stale(solution: str | os.PathLike, student: str | os.PathLike | None = None) -> bool:
    """True when the committed student copy differs from what :func:`generate` would write."""
    src = Path(solution)
    dest = Path(student) if student is not None else _student_path(src)
    if not dest.is_file():
        return True
    return dest.read_text() != _generated_header(src, dest) + student_text(src.read_text(), str(src))


def main(argv: list[str] | None = None) -> int:
    import sys

    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m gorun_kit.labsrc SOLUTION_FILE...", file=sys.stderr)
        return 2
    for p in paths:
        try:
            print(generate(p))
        except (LabSourceError, FileNotFoundError) as exc:
            print(f"labsrc: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
