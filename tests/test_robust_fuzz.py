"""Generated argument lists for ``gorun-kit trace`` and ``gorun-kit lookpath``,
run in-process through cli.main: never a traceback; the exit status is a
documented one; an error is one line on stderr.

The commands traced are harmless on purpose (/bin/true, names and paths that
do not exist, a directory, a plain file) and --attach only gets pids that
cannot exist: the fuzzing is about the arguments, not about what runs."""
from __future__ import annotations

import io
import sys
import traceback

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gorun_kit import cli

pytestmark = pytest.mark.live

SETTINGS = settings(max_examples=1000, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# anything, but no "/" (a relative --json lands in the test's directory)
TEXT = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=8)
NUMBERS = st.sampled_from(["0", "-1", "1e-9", "0.2", "inf", "-inf", "nan", "1e999", "3", "x", "", " 1"])
NO_PID = st.sampled_from(["0", "-5", "99999999", "2147483648", "x", "", "1.5", "0x10"])


class _Reached(Exception):
    """The command got past its argument checks to the work itself (see stopped_before_work)."""


def _run(argv: list[str]) -> tuple[int | str, str, str]:
    """cli.main(argv): (exit status, stdout, stderr); SystemExit is a status;
    "reached" when the command got to its (replaced) work."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except _Reached:
        code = "reached"
    except BaseException:
        code = "raised: " + traceback.format_exc()
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def _check(argv, code, out, err, allowed):
    assert isinstance(code, int), f"{argv!r}: {code}"
    assert code in allowed, f"{argv!r}: exit {code}\n{err}"
    assert "Traceback" not in err, f"{argv!r}:\n{err}"
    if code in (1, 2, 126, 127):
        lines = [l for l in err.splitlines() if l.strip()]
        assert len(lines) == 1, f"{argv!r}: exit {code} with {len(lines)} lines:\n{err}"


@st.composite
def trace_argv(draw, tmp):
    argv = ["trace"]
    for _ in range(draw(st.integers(0, 4))):
        opt = draw(st.sampled_from(["--json", "--mode", "--timeout", "--duration", "--attach", "--strace",
                                    "--execs", "--bogus", "-x"]))
        argv.append(opt)
        if opt == "--json":
            argv.append(draw(st.one_of(TEXT, st.sampled_from(["-", "", tmp, f"{tmp}/t.jsonl", "/sys/x.json",
                                                              "/no/such/dir/x"]))))
        elif opt == "--mode":
            argv.append(draw(st.one_of(st.sampled_from(["events", "seccomp", "syscalls"]), TEXT)))
        elif opt in ("--timeout", "--duration"):
            argv.append(draw(st.one_of(NUMBERS, TEXT)))
        elif opt == "--attach":
            argv.append(draw(NO_PID))
    if draw(st.booleans()):
        argv.append("--")
        cmd = draw(st.one_of(
            st.sampled_from(["/bin/true", tmp, f"{tmp}/plain", "/no/such/prog", ""]),
            TEXT.map(lambda s: "no-such-" + s)))
        argv += [cmd, *draw(st.lists(TEXT, max_size=3))]
    return argv


@st.composite
def lookpath_argv(draw):
    argv = ["lookpath"]
    if draw(st.integers(0, 9)):
        argv.append(draw(st.one_of(TEXT, st.sampled_from(["tool", "./tool", "a/b", "C:\\x"]))))
    for _ in range(draw(st.integers(0, 6))):
        opt = draw(st.sampled_from(["--goos", "--path", "--pathext", "--cwd", "--file", "--dir", "--symlink",
                                    "--env", "--uid", "--bogus"]))
        argv.append(opt)
        if opt == "--goos":
            argv.append(draw(st.one_of(st.sampled_from(["linux", "darwin", "windows"]), TEXT)))
        elif opt == "--uid":
            argv.append(draw(st.one_of(st.sampled_from(["0", "1000", "-1", "x", "99999999999999999999"]), TEXT)))
        elif opt in ("--file", "--dir", "--symlink", "--path", "--cwd"):
            argv.append(draw(st.one_of(
                TEXT, st.sampled_from(["/bin/tool", "/bin/tool:644", "/a/x:999", "/a=", "=/b", "/l=/bin/tool",
                                       "C:\\bin\\tool.exe", "/bin", "", ":", "/a/b/c:7777", "rel/x"]),
                st.lists(st.sampled_from(["/a", "/b", "", "rel", "C:\\x"]), max_size=4).map(":".join))))
        elif opt != "--bogus":
            argv.append(draw(TEXT))
    return argv


@pytest.fixture(scope="module")
def tracer_built():
    from gorun_kit import trace

    return trace.tracer_binary()


def test_trace_arguments(tracer_built, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain").write_text("not a program\n")

    @SETTINGS
    @given(trace_argv(str(tmp_path)))
    def check(argv):
        code, out, err = _run(argv)
        # the traced command's status (0), bad input (2), a timeout (124), the
        # command not executable (126) or not found (127)
        _check(argv, code, out, err, {0, 2, 124, 126, 127})

    check()


def test_lookpath_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    @SETTINGS
    @given(lookpath_argv())
    def check(argv):
        code, out, err = _run(argv)
        _check(argv, code, out, err, {0, 1, 2})

    check()


# ---------------------------------------------------------------------------
# Every other subcommand. Its arguments are parsed and checked for real (the
# command's own run(), up to the call that would do the work); that call --
# diagnosing the machine, building and running a Go program, a benchmark,
# grading or releasing the course -- is replaced by one that stops the
# command, so thousands of argument lists take seconds, not hours.

def _reached(*args, **kwargs):
    raise _Reached


VALUES = st.one_of(TEXT, NUMBERS, NO_PID, st.sampled_from(
    ["-", "", ".", "/", "/sys/x.json", "/no/such/dir/x", "out.json", "x.svg", "x.png", "x.txt", "--", "-x",
     "1.22", "1.21", "9.9", "go1.27.3", "/bin/true", "/etc/passwd", "spawn", "tracer", "0,1G", "-5", "a,b"]))


@st.composite
def argv_for(draw, head: list[str], options: dict, positionals=st.just([])):
    """``head`` then options in any order (each ``--opt`` from ``options``,
    with a value drawn from its strategy, or none when it is None), unknown
    options and junk, and positionals; anything may be missing or repeated."""
    argv = list(head)
    tokens = []
    for _ in range(draw(st.integers(0, 5))):
        opt = draw(st.sampled_from([*options, "--bogus", "-x", "--"]))
        tokens.append(opt)
        strategy = options.get(opt)
        if strategy is not None and draw(st.integers(0, 9)):  # sometimes the value is missing
            tokens.append(draw(strategy))
    pos = draw(positionals)
    at = draw(st.integers(0, len(tokens)))
    return argv + tokens[:at] + pos + tokens[at:]


def _subcommand_check(argv, allowed=frozenset({0, 1, 2})):
    code, out, err = _run(argv)
    if code == "reached":
        return
    _check(argv, code, out, err, allowed)
    if code == 2:  # bad input: the one line names it (the value, its option, or what is missing)
        line = err.strip()
        named = any(repr(tok) in line or (tok.strip() and tok in line) for tok in argv[1:]) or \
            "required" in line or "''" in line
        assert line.startswith("gorun-kit") and named, f"{argv!r}: {err}"


@pytest.fixture(scope="module")
def stopped_before_work():
    """cli.main with one parser for all examples (building it is the slow
    part) and every command's work replaced by _reached."""
    from gorun_kit import bench, doctor, goreleases, threads
    from gorun_kit.course import classgrade, claims, grade, nbgrader, release, run as course_run, workspace

    mp = pytest.MonkeyPatch()
    mp.setattr(doctor, "diagnose", _reached)
    mp.setattr(threads, "observe", _reached)
    mp.setattr(goreleases, "install", _reached)
    for mod, name in ((release, "release"), (nbgrader, "export"), (grade, "grade"), (claims, "coverage"),
                      (course_run, "run_matrix"), (classgrade, "grade_class"), (workspace, "make_workspace"),
                      (workspace, "lab_command")):
        mp.setattr(mod, name, _reached)
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(bench.__path__):
        module = importlib.import_module(f"gorun_kit.bench.{info.name}")
        if hasattr(module, "run") and hasattr(module, "NAME"):
            mp.setattr(module, "run", _reached)
    parser = cli.build_parser()
    mp.setattr(cli, "build_parser", lambda: parser)
    yield parser
    mp.undo()


def _fuzz(strategy, allowed=frozenset({0, 1, 2})):
    @SETTINGS
    @given(strategy)
    def check(argv):
        _subcommand_check(argv, allowed)

    check()


def test_doctor_arguments(stopped_before_work, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fuzz(argv_for(["doctor"], {"--json": VALUES}))


def test_threads_arguments(stopped_before_work, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.go").write_text("package main\n\nfunc main() {}\n")
    options = {"--json": VALUES, "--timeout": st.one_of(NUMBERS, VALUES), "--go": VALUES, "--graph": VALUES,
               "--timeline": VALUES}
    programs = st.lists(st.one_of(VALUES, st.just("prog.go")), max_size=3)
    # 3: the program ran but a check failed; 124: --timeout ran out (neither can happen before the work)
    _fuzz(argv_for(["threads"], options, programs))


BENCH_OPTIONS = {
    "patched_build": {"--repeat": NUMBERS, "--program": VALUES, "--json": VALUES},
    "spawn": {"--sizes": VALUES, "--reps": NUMBERS, "--runs": NUMBERS, "--methods": VALUES, "--json": VALUES,
              "--plot": VALUES},
    "startup": {"--repeats": NUMBERS, "--only": VALUES, "--json": None, "--no-lock": None},
    "tracer": {"--runs": NUMBERS, "--n-true": NUMBERS, "--n-go": NUMBERS, "--json": VALUES},
}


@pytest.mark.parametrize("benchmark", [*BENCH_OPTIONS, "(none)"])
def test_bench_arguments(stopped_before_work, benchmark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    head = ["bench"] if benchmark == "(none)" else ["bench", benchmark]
    options = {"--labs": VALUES, **BENCH_OPTIONS.get(benchmark, {})}
    _fuzz(argv_for(head, options, st.lists(VALUES, max_size=2)))


COURSE = {
    "release": ({"--source": VALUES, "--student": VALUES}, st.lists(VALUES, max_size=2)),
    "export-nbgrader": ({"--source": VALUES}, st.lists(VALUES, max_size=2)),
    "grade": ({"--json": VALUES, "--timeout": NUMBERS, "--source": VALUES, "--student": VALUES},
              st.lists(VALUES, max_size=2)),
    "grade-class": ({"-o": VALUES, "--out": VALUES, "--workers": NUMBERS, "--exercise": VALUES, "--timeout": NUMBERS,
                     "--source": VALUES, "--regrade": None}, st.lists(VALUES, max_size=2)),
    "workspace": ({"--source": VALUES, "--student": VALUES}, st.lists(VALUES, max_size=2)),
    "lab": ({"--dir": VALUES, "--instructor": None}, st.lists(VALUES, max_size=2)),
    "claims": ({"--json": VALUES}, st.lists(VALUES, max_size=1)),
    "run": ({"--go": VALUES, "--claims-only": None, "--notebook": VALUES, "--out": VALUES, "--timeout": NUMBERS},
            st.lists(VALUES, max_size=1)),
    "(none)": ({}, st.lists(VALUES, max_size=2)),
}


@pytest.mark.parametrize("action", COURSE)
def test_course_arguments(stopped_before_work, action, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options, positionals = COURSE[action]
    head = ["course"] if action == "(none)" else ["course", action]
    _fuzz(argv_for(head, options, positionals))
