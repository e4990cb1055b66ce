"""How the chapter experiments run the course's labs, with stand-in programs for
the builds: which lab each one builds, what environment, input and time a lab
gets, and how the Windows SplitList run leaves Wine behind.

Every stand-in is a shell script under tmp_path; nothing is built.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gorun_kit import build
from gorun_kit.lookpath import experiments, wine
from gorun_kit.toolchain import GoToolchain, find_go
from trace_helpers import stdin_holding


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


class Builds:
    """Stands in for build.build_go / build.build_c: records each call's source
    and keywords, and answers with a script whose body is the first ``bodies``
    value whose key is a suffix of the source path (default: exit 0), or with
    that value itself when it is a Path."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.calls: list[tuple[Path, dict]] = []
        self.bodies: dict[str, str] = {}

    def __call__(self, source, **kw):
        src = Path(source)
        self.calls.append((src, kw))
        body = next((b for k, b in self.bodies.items() if str(src).endswith(k)), "exit 0")
        if kw.get("overlay"):
            body = self.bodies.get("+overlay", body)
        if kw.get("cgo"):
            body = self.bodies.get("+cgo", body)
        exe = body if isinstance(body, Path) else script(self.tmp / f"prog{len(self.calls)}", body)
        return build.Binary(str(exe), "go", ("stand-in",), "stand-in", f"key{len(self.calls)}", False)


@pytest.fixture
def builds(tmp_path, monkeypatch):
    fake = Builds(tmp_path)
    monkeypatch.setattr(build, "build_go", fake)
    monkeypatch.setattr(build, "build_c", fake)
    return fake


@pytest.fixture
def any_program_is_dynamic(monkeypatch):
    """The stand-ins are scripts, not ELF files: take each one as dynamically linked."""
    monkeypatch.setattr(experiments, "_has_interp", lambda path: True)


@pytest.fixture
def labs(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    return root


def fake_goroot(root: Path, text: str) -> GoToolchain:
    pkg = root / "src" / "os" / "exec"
    pkg.mkdir(parents=True)
    (pkg / "lookpath.go").write_text(text)
    return GoToolchain(go=str(root / "bin" / "go"), goroot=str(root), version="go1.99", goos="linux",
                       goarch="amd64", source="test")


LOOKPATH_GO = "package exec\n\nfunc LookPath(file string) (string, error) {\n\treturn lookPath(file)\n}\n"


@pytest.fixture
def goroot(tmp_path, monkeypatch, private_cache):
    tc = fake_goroot(tmp_path / "goroot", LOOKPATH_GO)
    monkeypatch.setattr(experiments, "find_go", lambda: tc)
    return tc


# ---------------------------------------------------------------- which lab


def test_each_experiment_builds_its_own_lab_of_the_course(builds, labs, goroot, any_program_is_dynamic):
    builds.bodies["cmdenv"] = "echo '{}'"
    builds.bodies["lookpath_splitlist"] = "while read -r l; do echo '[]'; done"
    experiments.cmdenv(labs=labs)
    experiments.linkname_hooks(labs=labs)
    experiments.ldpreload_hooks(labs=labs)
    experiments.overlay_hook(labs=labs)
    experiments.split_list(["x"], goos="linux", labs=labs)
    hooks = labs / "labs_go" / "hook_linkname"
    preload = labs / "labs_c" / "ldpreload_hook"
    assert [src for src, _ in builds.calls] == [
        labs / "labs_go" / "cmdenv",
        hooks / "nounsafe", hooks / "body", hooks / "pull_private", hooks / "pull_exported", hooks / "pull_private",
        preload / "hook.c", preload / "caller.c", labs / "labs_go" / "hook_ldpreload", labs / "labs_go" / "hook_ldpreload",
        labs / "labs_go" / "hook_overlay", labs / "labs_go" / "hook_overlay",
        labs / "labs_go" / "lookpath_splitlist"]


def test_only_a_program_loaded_by_ld_so_is_called_dynamic(builds, labs):
    static = Path(find_go().goroot, "bin", "gofmt")  # Go's own tools are statically linked
    if not static.is_file():
        pytest.skip("no gofmt in the Go toolchain")
    builds.bodies.update({"caller.c": Path("/bin/sh"), "hook_ldpreload": static, "+cgo": Path("/bin/sh")})
    runs = experiments.ldpreload_hooks(labs=labs)
    assert [(r.program, r.dynamic) for r in runs] == [
        ("C (libc execve)", True), ("Go, CGO_ENABLED=0", False), ("Go with cgo", True)]


# ---------------------------------------------------------------- what a lab is given


def test_cmdenv_hands_the_lab_the_callers_environment_without_fc_x(builds, labs, monkeypatch):
    builds.bodies["cmdenv"] = ('printf \'{"parent": "%s", "seen": "%s", "x": "%s"}\' '
                               '"$FC_PARENT" "$FC_SEEN" "${FC_X-unset}"')
    monkeypatch.setenv("FC_SEEN", "from the caller")
    monkeypatch.delenv("FC_X", raising=False)
    assert experiments.cmdenv(labs=labs) == {"parent": "inherited", "seen": "from the caller", "x": "unset"}
    assert "FC_PARENT" not in os.environ, "the caller's own environment is left alone"


def test_a_hook_program_runs_with_the_callers_environment_and_a_short_path(builds, labs, monkeypatch):
    builds.bodies["pull_exported"] = 'echo "$FC_SEEN|$PATH"'
    monkeypatch.setenv("FC_SEEN", "kept")
    attempts = experiments.linkname_hooks(labs=labs, include_checklinkname_off=False)
    assert [(a.variant, a.built, a.message) for a in attempts][-1] == ("pull_exported", True, "kept|/usr/bin:/bin")


def test_a_failed_build_reports_its_last_line_that_is_not_a_package_header(builds, labs, monkeypatch):
    def fail(source, **kw):
        raise build.BuildError("x", ["go"], "# pkg\n./a.go:1: first\n./a.go:2: last\n# trailing header\n")
    monkeypatch.setattr(build, "build_go", fail)
    assert {a.message for a in experiments.linkname_hooks(labs=labs)} == {"./a.go:2: last"}


def test_the_ldpreload_runs_keep_the_callers_environment_and_preload_the_hook(builds, labs, monkeypatch, any_program_is_dynamic):
    builds.bodies["caller.c"] = 'echo "$FC_SEEN $LD_PRELOAD" >&2; echo out'
    monkeypatch.setenv("FC_SEEN", "kept")
    first = experiments.ldpreload_hooks(labs=labs)[0]
    hook = builds.tmp / "prog1"  # the first build: hook.c
    # ld.so complains that the stand-in hook is no library; the line after it is the program's
    assert first.stderr.splitlines()[-1] == f"kept {hook}"
    assert (first.program, first.stdout, first.constructor_ran) == ("C (libc execve)", "out", False)


def test_overlay_runs_keep_the_callers_environment(builds, labs, goroot, monkeypatch):
    builds.bodies["hook_overlay"] = 'echo "$FC_SEEN"'
    builds.bodies["+overlay"] = 'echo "$FC_SEEN"; exit 4'
    monkeypatch.setenv("FC_SEEN", "kept")
    run = experiments.overlay_hook(labs=labs)
    assert (run.without_overlay, run.without_rc, run.with_overlay, run.with_rc) == ("kept", 0, "kept", 4)


@pytest.fixture
def stdin_with_text():
    """fd 0 is a pipe holding a line, as if the caller's terminal had typed it."""
    with stdin_holding("typed by the caller\n"):
        yield


def test_no_lab_reads_the_callers_input(builds, labs, goroot, stdin_with_text, monkeypatch, tmp_path, any_program_is_dynamic):
    reads = 'cat; echo "[end]"'
    builds.bodies["cmdenv"] = 'printf \'{"in": "%s"}\' "$(cat)"'
    builds.bodies["pull_exported"] = reads
    builds.bodies["caller.c"] = reads
    builds.bodies["hook_ldpreload"] = reads
    builds.bodies["hook_overlay"] = reads
    assert experiments.cmdenv(labs=labs) == {"in": ""}
    assert experiments.linkname_hooks(labs=labs)[3].message == "[end]"
    assert {r.stdout for r in experiments.ldpreload_hooks(labs=labs)} == {"[end]"}
    run = experiments.overlay_hook(labs=labs)
    assert (run.without_overlay, run.with_overlay) == ("[end]", "[end]")
    monkeypatch.setattr(experiments.shutil, "which", lambda name: str(script(tmp_path / "which", reads)))
    assert experiments.which("prog", path="/bin") == "[end]"


# ---------------------------------------------------------------- a lab that hangs


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setattr(experiments, "_TIMEOUT", 0.3)


HANG = "exec sleep 5"


def test_a_hanging_cmdenv_is_stopped(builds, labs, short_timeout):
    builds.bodies["cmdenv"] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.cmdenv(labs=labs)


def test_a_hanging_hook_program_is_stopped(builds, labs, short_timeout):
    builds.bodies["nounsafe"] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.linkname_hooks(labs=labs)


def test_a_hanging_preload_program_is_stopped(builds, labs, short_timeout, any_program_is_dynamic):
    builds.bodies["caller.c"] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.ldpreload_hooks(labs=labs)


@pytest.mark.parametrize("hanging", ["hook_overlay", "+overlay"])
def test_a_hanging_overlay_program_is_stopped(builds, labs, goroot, short_timeout, hanging):
    builds.bodies.update({"hook_overlay": "exit 0", "+overlay": "exit 0"})
    builds.bodies[hanging] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.overlay_hook(labs=labs)


def test_a_hanging_split_list_is_stopped(builds, labs, short_timeout):
    builds.bodies["lookpath_splitlist"] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.split_list(["a"], goos="linux", labs=labs)


def test_a_hanging_which_is_stopped(monkeypatch, tmp_path, short_timeout):
    monkeypatch.setattr(experiments.shutil, "which", lambda name: str(script(tmp_path / "which", HANG)))
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.which("prog", path="/bin")


# ---------------------------------------------------------------- which


def test_which_runs_in_a_fresh_directory_holding_only_the_program(monkeypatch, tmp_path):
    # builtins only: the PATH given holds no programs
    report = 'set -- "$1" *; echo "$*|$PATH|${FC_SEEN-unset}"; test -x "./$1" && echo executable; pwd'
    monkeypatch.setattr(experiments.shutil, "which", lambda name: str(script(tmp_path / "which", report)))
    monkeypatch.setenv("FC_SEEN", "not passed")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "myprog").write_text("")
    listing, executable, where = experiments.which("myprog", path="/a:/b:").splitlines()
    assert (listing, executable) == ("myprog myprog|/a:/b:|unset", "executable")
    assert where != str(tmp_path) and not os.path.exists(where), "a directory of its own, removed afterwards"


def test_which_says_how_to_install_it_when_missing(monkeypatch):
    monkeypatch.setattr(experiments.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError) as info:
        experiments.which("prog", path="/bin")
    assert str(info.value) == "which is not installed (Debian: apt-get install -y debianutils)"


def test_a_hook_built_with_ldflags_says_so(builds, labs):
    attempts = experiments.linkname_hooks(labs=labs)
    assert [(a.variant, a.built, a.ldflags) for a in attempts] == [
        ("nounsafe", True, ""), ("body", True, ""), ("pull_private", True, ""), ("pull_exported", True, ""),
        ("pull_private", True, "-checklinkname=0")]
    assert [kw["ldflags"] for _, kw in builds.calls] == [None, None, None, None, "-checklinkname=0"]


# ---------------------------------------------------------------- split_list on Windows


@pytest.fixture
def fake_wine(monkeypatch, tmp_path):
    """wine.* replaced: the "Windows" program runs directly, with the Wine environment's marker."""
    events: list[str] = []
    monkeypatch.setattr(wine, "prefix", lambda: events.append("prefix") or tmp_path / "prefix")
    monkeypatch.setattr(wine, "wine_env", lambda p: dict(os.environ, FAKE_WINEPREFIX=str(p)))
    monkeypatch.setattr(wine, "wine_command", lambda exe: ["/bin/sh", exe])
    monkeypatch.setattr(wine, "kill_server", lambda: events.append("kill_server"))
    return events


def test_split_list_for_windows_runs_under_wine_and_stops_its_server(builds, labs, fake_wine, tmp_path):
    builds.bodies["lookpath_splitlist"] = ('while read -r l; do printf \'["%s", "%s"]\\n\' "$FAKE_WINEPREFIX" '
                                           '"$(printf %s "$l" | tr -d \'"\')"; done')
    got = experiments.split_list(["a;b", "c"], goos="windows", labs=labs)
    assert got == [[str(tmp_path / "prefix"), "a;b"], [str(tmp_path / "prefix"), "c"]]
    assert builds.calls[-1][1] == {"goos": "windows", "goarch": "amd64"}
    assert fake_wine == ["prefix", "kill_server"]


def test_split_list_stops_the_wine_server_when_the_run_fails(builds, labs, fake_wine, monkeypatch):
    monkeypatch.setattr(experiments, "_TIMEOUT", 0.3)
    builds.bodies["lookpath_splitlist"] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.split_list(["a"], goos="windows", labs=labs)
    assert fake_wine[-1] == "kill_server"


def test_split_list_on_linux_leaves_wine_alone(builds, labs, fake_wine):
    builds.bodies["lookpath_splitlist"] = "while read -r l; do echo '[]'; done"
    assert experiments.split_list(["a", "b"], goos="linux", labs=labs) == [[], []]
    assert fake_wine == []


def test_split_list_keeps_the_end_of_a_long_error(builds, labs):
    builds.bodies["lookpath_splitlist"] = "printf 'head%0600d' 0 >&2; printf 'TAIL' >&2; exit 1"
    with pytest.raises(RuntimeError) as info:
        experiments.split_list(["a"], goos="linux", labs=labs)
    tail = str(info.value).split("answers: ", 1)[1]
    assert len(tail) == 500 and tail.endswith("0TAIL")


def test_split_list_reads_each_answer_as_json(builds, labs):
    builds.bodies["lookpath_splitlist"] = 'while read -r l; do echo "[$l, \\"\\"]"; done'
    assert experiments.split_list(['"a"', "b:c"], goos="linux", labs=labs) == [['"a"', ""], ["b:c", ""]]


# ---------------------------------------------------------------- the overlay file


def test_without_imports_the_hook_goes_after_the_package_clause(tmp_path):
    header = "// Copyright line one.\n// Line two: see package exec docs.\n\n"
    body = "package exec\n\n// in package exec, LookPath:\n" + LOOKPATH_GO.split("\n\n", 1)[1]
    tc = fake_goroot(tmp_path / "goroot", header + body)
    _, text = experiments.overlay_source(tc)
    before, after = text.split("package exec\n", 1)
    assert before == header and after.startswith("\n\nimport (\n\thookfilepath")
    assert "// in package exec, LookPath:\nfunc lookPathBeforeHook(file string)" in after


def overlay_files(cache: Path) -> list[Path]:
    return sorted((cache / "overlays" / "lookpath").iterdir())


def test_a_damaged_overlay_file_is_written_again(builds, labs, goroot, private_cache):
    experiments.overlay_hook(labs=labs)
    (replacement,) = overlay_files(private_cache)
    replacement.write_text("package exec // damaged\n")
    experiments.overlay_hook(labs=labs)
    assert replacement.read_text() == experiments.overlay_source(goroot)[1]
    assert builds.calls[-1][1]["overlay"] == {Path(goroot.goroot, "src/os/exec/lookpath.go"): replacement}


def test_another_goroot_gets_its_own_overlay_file(builds, labs, goroot, private_cache, monkeypatch, tmp_path):
    experiments.overlay_hook(labs=labs)
    other = fake_goroot(tmp_path / "other", LOOKPATH_GO.replace("lookPath(file)", "lookPath(file) // other"))
    monkeypatch.setattr(experiments, "find_go", lambda: other)
    experiments.overlay_hook(labs=labs)
    first, second = (kw["overlay"] for _, kw in builds.calls if kw.get("overlay"))
    assert list(first.values()) != list(second.values()) and len(overlay_files(private_cache)) == 2
    for overlay in (first, second):
        (original, replacement), = overlay.items()
        assert replacement.read_text().count("func LookPath(") == 1
        assert "lookPathBeforeHook" in replacement.read_text()
        assert replacement.suffix == ".go"


def test_overlay_tool_dir_is_removed_even_when_a_run_fails(builds, labs, goroot, tmp_path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(experiments, "_TIMEOUT", 0.3)
    builds.bodies["+overlay"] = HANG
    with pytest.raises(subprocess.TimeoutExpired):
        experiments.overlay_hook(labs=labs)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_overlay_tool_runs_and_the_path_is_short(builds, labs, goroot):
    builds.bodies["+overlay"] = '"$FCTOOL_DIR/fctool"; echo "$PATH"'
    run = experiments.overlay_hook(labs=labs)
    assert run.with_overlay.splitlines() == ["custom-tool-ran", "/usr/bin:/bin"]
