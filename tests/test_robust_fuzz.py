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


def _run(argv: list[str]) -> tuple[int, str, str]:
    """cli.main(argv): (exit status, stdout, stderr); SystemExit is a status."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
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
