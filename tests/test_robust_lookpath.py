"""Bad LookPath scenarios are refused with one line naming them, and where a
scenario is valid, the model and real Go agree: a mode that is not octal, an
entry inside a file, a name longer than NAME_MAX, an empty symlink target, a
NUL byte in PATH."""
from __future__ import annotations

import subprocess
import sys

import pytest

from gorun_kit import lookpath as lp
from gorun_kit.lookpath.real import session

LONG = "a" * 5000


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "gorun_kit", "lookpath", *argv], capture_output=True, text=True)


def _one_line_error(proc, *names):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    for name in names:
        assert name in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def go_linux():
    with session("linux") as oracle:
        yield oracle


def test_a_mode_that_is_not_octal_is_refused_not_made_part_of_the_name():
    proc = _cli("--goos", "linux", "--path", "/a", "--file", "/a/x:999", "x:999")
    _one_line_error(proc, "'/a/x:999'", "octal")
    for mode in ("77777", "8"):
        _one_line_error(_cli("--goos", "linux", "--path", "/a", "--dir", f"/a:{mode}", "x"), f"/a:{mode}")


def test_a_name_ending_in_digits_is_written_with_its_mode():
    proc = _cli("--goos", "linux", "--path", "/a", "--file", "/a/x:999:700", "x:999")
    assert proc.returncode == 0, proc.stderr
    assert '"path": "/a/x:999"' in proc.stdout and "-rwx------ 0:0 /a/x:999" in proc.stdout


@pytest.mark.parametrize("order", [("/a/x", "/a/x/y"), ("/a/x/y", "/a/x")], ids=["file-first", "file-last"])
def test_an_entry_inside_a_file_is_refused(order):
    with pytest.raises(ValueError, match="inside '/a/x', which is a file"):
        lp.default_fs("linux").file(order[0]).file(order[1])
    for real in ([], ["--real"]):
        proc = _cli("--goos", "linux", "--path", "/a", "--file", order[0], "--file", order[1], *real, "x")
        _one_line_error(proc, "'/a/x/y'", "'/a/x'")


def test_an_entry_inside_a_symlink_is_refused():
    with pytest.raises(ValueError, match="inside '/a/l', which is a symlink"):
        lp.default_fs("linux").dir("/b").symlink("/a/l", "/b").file("/a/l/x")


def test_a_name_longer_than_name_max_is_refused_by_model_and_real_alike():
    for real in ([], ["--real"]):
        proc = _cli("--goos", "linux", "--path", "/a", "--file", f"/a/{LONG}", *real, "x")
        _one_line_error(proc, "NAME_MAX", "5000 bytes")


@pytest.mark.live
@pytest.mark.parametrize("name", [f"/a/{LONG}", f"/a/{'b' * 256}", "/a/" + "c/" * 2100 + "x", f"/a/x/{LONG}"],
                         ids=["5000-byte-name", "256-byte-name", "path-over-path-max", "under-a-file"])
def test_an_over_long_name_is_enametoolong_in_the_model_as_in_go(go_linux, name):
    fs = lp.default_fs("linux").file("/a/x")
    model = lp.lookpath(name, goos="linux", path="/a", fs=fs)
    real = go_linux.ask(name, path="/a", fs=fs, cwd="/")
    assert model.key() == real.key() == ("", "ENAMETOOLONG"), (model, real)


@pytest.mark.live
def test_an_over_long_symlink_target_is_enametoolong_as_in_go(go_linux):
    fs = lp.default_fs("linux").symlink("/a/x", "b" * 300)
    model = lp.lookpath("/a/x", goos="linux", path="/a", fs=fs)
    real = go_linux.ask("/a/x", path="/a", fs=fs, cwd="/")
    assert model.key() == real.key() == ("", "ENAMETOOLONG"), (model, real)


def test_an_empty_symlink_target_is_refused():
    with pytest.raises(ValueError, match="target is empty"):
        lp.default_fs("linux").symlink("/a/x", "")
    _one_line_error(_cli("--goos", "linux", "--path", "/a", "--symlink", "/a/x=", "x"), "'/a/x'", "empty")


@pytest.mark.live
def test_go_does_not_see_a_path_holding_nul(go_linux):
    # Why the kit refuses it: os.Setenv refuses a value with NUL (EINVAL), so
    # the oracle's PATH stays unset and Go finds nothing where the plain model
    # would have found /a/x.
    fs = lp.default_fs("linux").file("/a/x")
    assert go_linux.ask("x", path="/a\0/b:/a", fs=fs, cwd="/").key() == ("", "ErrNotFound")
    assert go_linux.ask("x", path="/a", fs=fs, cwd="/").key() == ("/a/x", None)


@pytest.mark.parametrize("where", ["path", "name", "cwd", "env", "pathext"])
def test_a_nul_byte_is_refused_by_model_and_real(where):
    goos = "windows" if where == "pathext" else "linux"
    kw = {"goos": goos, "path": "/a", "fs": lp.default_fs(goos).file("/a/x") if goos == "linux" else None}
    name = "x"
    if where == "path":
        kw["path"] = "/a\0/b:/a"
    elif where == "name":
        name = "/a/x\0y"
    elif where == "cwd":
        kw["cwd"] = "/a\0"
    elif where == "env":
        kw["env"] = {"GODEBUG": "execerrdot=0\0"}
    else:
        kw.update(path="C:\\a", pathext=".EXE\0")
    for ask in (lp.lookpath, lp.real):
        with pytest.raises(ValueError, match="NUL byte"):
            ask(name, **kw)


def test_a_nul_byte_in_an_entry_is_refused():
    with pytest.raises(ValueError, match="NUL byte"):
        lp.default_fs("linux").file("/a/x\0y")


def test_a_reader_that_stops_early_gets_no_traceback():
    # `gorun-kit lookpath ... | head -c 1`: the pipe closes while the JSON is written
    proc = subprocess.run(f"{sys.executable} -m gorun_kit lookpath --goos linux --path /a --file /a/x "
                          + " ".join(f"--file /a/{i:03}{'f' * 200}" for i in range(400)) + " x | head -c 1",
                          shell=True, capture_output=True, text=True)
    assert proc.stdout == "{" and proc.stderr == "", proc.stderr
