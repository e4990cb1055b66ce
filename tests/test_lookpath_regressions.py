"""Named LookPath scenarios: each is asked of the model AND of real Go (Linux
natively, Windows under Wine), and both must give the behaviour Go 1.27
documents in lp_unix.go / lp_windows.go (ledger rows 2.2-x and 2.4-x).
Shrunk counterexamples from test_lookpath_property.py are added here."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gorun_kit import lookpath as lp
from gorun_kit.lookpath import unix, windows, wine
from gorun_kit.lookpath.real import session

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs the oracle as uid 65534, which needs root")


@pytest.fixture(scope="module")
def go_linux():
    with session("linux") as oracle:
        yield oracle


@pytest.fixture(scope="module")
def go_windows():
    ok, why = wine.available()
    if not ok:
        pytest.skip(f"Windows runs need Wine: {why}")
    with session("windows") as oracle:
        yield oracle


def both(oracle, goos, name, **kw):
    model = lp.lookpath(name, goos=goos, **kw)
    kw.pop("uid", None)
    real = oracle.ask(name, cwd=kw.pop("cwd", lp.default_cwd(goos)), fs=kw.pop("fs", lp.default_fs(goos)), **kw)
    assert model.key() == real.key(), (model, real)
    return real


# ------------------------------------------------------------------ linux
LINUX = lp.default_fs("linux").file("/bin/ls").dir("/w").file("/w/myprog").file("/w/noexec", 0o644)


@pytest.mark.parametrize("name", ["", ".", ".."])
def test_validate_lookpath_rejects_dot_names(go_linux, name):
    assert both(go_linux, "linux", name, path="/bin", fs=LINUX).error == "ErrNotFound"


def test_empty_element_is_dot_and_gives_errdot(go_linux):
    r = both(go_linux, "linux", "myprog", path="/bin::", fs=LINUX, cwd="/w")
    assert (r.path, r.error) == ("myprog", "ErrDot")  # Join(".", "myprog") is "myprog", not "./myprog"


def test_godebug_execerrdot_0_restores_old_behaviour(go_linux):
    r = both(go_linux, "linux", "myprog", path="/bin:", fs=LINUX, cwd="/w", env={"GODEBUG": "execerrdot=0"})
    assert (r.path, r.error) == ("myprog", None)


def test_empty_path_searches_nothing(go_linux):
    assert unix.split_list("") == [] and unix.split_list(":") == ["", ""]
    assert both(go_linux, "linux", "myprog", path="", fs=LINUX, cwd="/w").error == "ErrNotFound"


def test_name_with_slash_is_checked_directly(go_linux):
    r = both(go_linux, "linux", "./myprog", path="/bin", fs=LINUX, cwd="/w")
    assert (r.path, r.error) == ("./myprog", None)
    assert both(go_linux, "linux", "./noexec", path="/bin", fs=LINUX, cwd="/w").error == "EACCES"
    assert both(go_linux, "linux", "/w", path="", fs=LINUX).error == "EISDIR"


@needs_root
def test_eaccess_is_for_the_effective_uid_not_any_x_bit():
    fs = lp.default_fs("linux").file("/b/only_root_group_x", 0o710)
    with session("linux", uid=65534, gid=65534) as nobody:
        model = lp.lookpath("only_root_group_x", goos="linux", path="/b", fs=fs, uid=65534)
        real = nobody.ask("only_root_group_x", path="/b", fs=fs, cwd="/")
    assert model.key() == real.key() == ("", "ErrNotFound")
    with session("linux") as root:  # root passes when any x bit is set
        assert root.ask("only_root_group_x", path="/b", fs=fs, cwd="/").key() == ("/b/only_root_group_x", None)


def test_symlink_to_directory_is_eisdir_and_dangling_is_enoent(go_linux):
    fs = LINUX.symlink("/l/todir", "/w").symlink("/l/dangling", "/nowhere")
    assert both(go_linux, "linux", "/l/todir", path="", fs=fs).error == "EISDIR"
    assert both(go_linux, "linux", "/l/dangling", path="", fs=fs).error == "ENOENT"


def test_darwin_shares_lp_unix_but_ignores_case_by_default():
    fs_mac = lp.default_fs("darwin").file("/usr/local/bin/Tool")
    assert lp.lookpath("tool", goos="darwin", path="/usr/local/bin", fs=fs_mac).path == "/usr/local/bin/tool"
    fs_linux = lp.default_fs("linux").file("/usr/local/bin/Tool")
    assert lp.lookpath("tool", goos="linux", path="/usr/local/bin", fs=fs_linux).error == "ErrNotFound"


# ------------------------------------------------------------------ windows
WIN = (lp.default_fs("windows").file("C:\\tools\\tool.ps1").file("C:\\tools\\weird.bat.exe")
       .file("C:\\bin\\fmt.BAT").dir("C:\\w").file("C:\\w\\fmt.exe").dir("C:\\bin\\prog.exe"))


def test_windows_split_list_keeps_quoted_separators():
    assert windows.split_list('"C:\\a;b";C:\\c') == ["C:\\a;b", "C:\\c"]
    assert unix.split_list("C:\\Go\\bin;C:\\tools") == ["C", "\\Go\\bin;C", "\\tools"]


def test_default_pathext_has_no_ps1(go_windows):
    assert windows.path_ext(None) == [".com", ".exe", ".bat", ".cmd"]
    assert both(go_windows, "windows", "tool", path="C:\\tools", fs=WIN).error == "ErrNotFound"
    r = both(go_windows, "windows", "tool", path="C:\\tools", fs=WIN, pathext=".com;ps1")
    assert r.key() == ("C:\\tools\\tool.ps1", None)


def test_name_with_extension_still_gets_extensions(go_windows):
    r = both(go_windows, "windows", "weird.bat", path="C:\\tools", fs=WIN)
    assert r.path == "C:\\tools\\weird.bat.exe"


def test_no_permission_check_and_case_insensitive(go_windows):
    r = both(go_windows, "windows", "FMT", path="C:\\bin", fs=WIN)
    assert r.key() == ("C:\\bin\\FMT.bat", None)  # the name as asked, the extension from PATHEXT


def test_a_directory_spelled_two_ways_is_one_directory(go_windows):
    # "C:\\Go" and "c:\\go\\t.exe": one directory on Windows, once written to disk as two
    fs = lp.default_fs("windows").dir("C:\\Go").file("c:\\go\\t.exe")
    for element in ("C:\\Go", "C:\\go"):
        assert both(go_windows, "windows", "t", path=element, fs=fs).key() == (element + "\\t.exe", None)


def test_current_directory_first_unless_disabled(go_windows):
    r = both(go_windows, "windows", "fmt", path="C:\\bin", fs=WIN, cwd="C:\\w")
    assert r.key() == ("fmt.exe", "ErrDot")
    r = both(go_windows, "windows", "fmt", path="C:\\bin", fs=WIN, cwd="C:\\w",
             env={"NoDefaultCurrentDirectoryInExePath": ""})
    assert r.key() == ("C:\\bin\\fmt.bat", None)


def test_same_file_in_cwd_and_path_prefers_path(go_windows):
    r = both(go_windows, "windows", "fmt", path="C:\\w", fs=WIN, cwd="C:\\w")
    assert r.key() == ("C:\\w\\fmt.exe", None)  # go.dev/issue/53536


def test_empty_windows_elements_are_skipped_not_dot(go_windows):
    r = both(go_windows, "windows", "fmt", path=";C:\\bin", fs=WIN, cwd="C:\\w",
             env={"NoDefaultCurrentDirectoryInExePath": "1"})
    assert r.key() == ("C:\\bin\\fmt.bat", None)


def test_directory_named_like_program_is_skipped(go_windows):
    assert both(go_windows, "windows", "prog", path="C:\\bin", fs=WIN).error == "ErrNotFound"
    assert both(go_windows, "windows", "C:\\bin\\prog.exe", path="", fs=WIN, pathext=";").error == "ErrPermission"


# ------------------------------------------------------------------ bad input and the CLI
def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="goos 'plan9'"):
        lp.lookpath("x", goos="plan9", path="")
    with pytest.raises(ValueError, match="cwd '/nope'"):
        lp.lookpath("x", goos="linux", path="", cwd="/nope")
    with pytest.raises(ValueError, match="posix filesystem"):
        lp.lookpath("x", goos="windows", path="", fs=lp.default_fs("linux"))
    with pytest.raises(ValueError, match="ignores case"):
        lp.default_fs("windows").file("C:\\a\\X.exe").file("C:\\a\\x.EXE")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "gorun_kit", "lookpath", *args], capture_output=True, text=True)


def test_cli_model_and_real_agree():
    args = ["--goos", "linux", "--path", "/bin::", "--cwd", "/w", "--dir", "/w", "--file", "/w/myprog:755", "myprog"]
    model, real = _cli(*args), _cli(*args, "--real")
    assert model.returncode == real.returncode == 0, (model.stderr, real.stderr)
    m, r = json.loads(model.stdout), json.loads(real.stdout)
    assert (m["path"], m["error"], m["source"]) == ("myprog", "ErrDot", "modeled")
    assert (r["path"], r["error"], r["source"]) == ("myprog", "ErrDot", "real")


def test_cli_bad_input_is_one_clear_line():
    p = _cli("--goos", "darwin", "--path", "/bin", "--real", "tool")
    assert p.returncode == 2 and "modeled only" in p.stderr and "Traceback" not in p.stderr
    p = _cli("--goos", "linux", "--path", "/bin", "--symlink", "nolink", "tool")
    assert p.returncode == 2 and "LINK=TARGET" in p.stderr


def test_scenarios_that_climb_above_the_root_are_refused_not_misreported(go_linux):
    # Shrunk by hypothesis: "../tool" from cwd "/" is "/tool" in the model (/.. is /), but on disk
    # it would leave the scenario directory, so the runner refuses instead of answering wrongly.
    from gorun_kit.lookpath.real import Unsupported

    fs = lp.default_fs("linux").file("/tool")
    assert lp.lookpath("../tool", goos="linux", path="", fs=fs, cwd="/").key() == ("../tool", None)
    with pytest.raises(Unsupported, match="climbs above"):
        go_linux.ask("../tool", path="", fs=fs, cwd="/")
    with pytest.raises(Unsupported, match="climbs above"):
        go_linux.ask("tool", path="..", fs=fs, cwd="/")
    fs_w = fs.dir("/w")
    assert both(go_linux, "linux", "../tool", path="", fs=fs_w, cwd="/w").key() == ("../tool", None)
