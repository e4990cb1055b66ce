"""How the kit runs a compiler: the command it gives it, where it runs it, what it
keeps of its output and exit status, and that nothing is left behind.

The compiler is a stand-in shell script (``$CC`` for C, the ``go`` of a made-up
toolchain for Go) that logs its working directory, arguments and environment, and
then succeeds or fails as each test asks, so every case costs milliseconds. For
``cc -MM`` the stand-in asks the real C compiler, so header discovery is real.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gorun_kit import build
from gorun_kit.toolchain import GoToolchain

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the stand-in compilers are shell scripts")

REAL_CC = shutil.which("cc") or shutil.which("gcc")
needs_cc = pytest.mark.skipif(REAL_CC is None, reason="header discovery needs a C compiler (cc -MM)")

WRITE_OUTPUT = 'printf "built\\n" > "$out"; chmod 755 "$out"'


def standin(path: Path, *, version: str = "standin-cc 1.0", body: str = WRITE_OUTPUT) -> Path:
    """Write a stand-in compiler at ``path``: ``--version`` prints ``version``; a
    compile logs to ``<path>.log`` (cwd, then one argument a line, then the
    environment) and runs ``body`` with ``$out`` set to the ``-o`` argument."""
    mm = f'exec "{REAL_CC}" "$@"' if REAL_CC else "exit 1"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""#!/bin/sh
if [ "$1" = --version ]; then echo '{version}'; exit 0; fi
for a in "$@"; do if [ "$a" = -MM ]; then {mm}; fi; done
out=; prev=
for a in "$@"; do if [ "$prev" = -o ]; then out=$a; fi; prev=$a; done
{{ pwd; echo --; for a in "$@"; do printf '%s\\n' "$a"; done; echo --; env; }} > '{path}.log'
{body}
""")
    path.chmod(0o755)
    return path


def last_call(compiler: Path) -> tuple[Path, list[str], dict[str, str]]:
    """(working directory, argv without argv[0], environment) of the stand-in's last compile."""
    cwd, args, env = compiler.with_name(compiler.name + ".log").read_text().split("--\n")
    pairs = (line.split("=", 1) for line in env.splitlines() if "=" in line)
    return Path(cwd.strip()), args.splitlines(), dict(pairs)


@pytest.fixture
def cc(tmp_path, monkeypatch, private_cache) -> Path:
    """A stand-in C compiler as ``$CC`` and an empty kit cache."""
    path = standin(tmp_path / "bin" / "standin-cc")
    monkeypatch.setenv("CC", str(path))
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "0")
    return path


def entries(cache: Path) -> list[Path]:
    return sorted(p.parent for p in (cache / "build").rglob("meta.json"))


def source(path: Path, text: str = "int main(void) { return 0; }\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------
# C


def test_the_compiler_runs_in_a_private_directory_with_the_command_asked(tmp_path, cc, monkeypatch):
    a, b = source(tmp_path / "src" / "a.c"), source(tmp_path / "src" / "b.c", "int b;\n")
    monkeypatch.chdir(tmp_path / "src")
    exe = build.build_c(["a.c", b], cflags=["-O2", "-g"], ldflags=["-lm"])
    cwd, args, _ = last_call(cc)
    out = args[args.index("-o") + 1]
    assert args == ["-O2", "-g", "-o", out, str(a), str(b), "-lm"]  # sources absolute: cwd is elsewhere
    assert cwd == Path(out).parent and cwd != tmp_path / "src"
    assert Path(exe.path).name == "a" and Path(exe.path).read_text() == "built\n"
    assert (exe.kind, exe.toolchain, exe.cached) == ("c", "standin-cc 1.0", False)
    assert exe.command == (str(cc), "-O2", "-g", "-o", exe.path, str(a), str(b), "-lm")
    assert not (tmp_path / "src" / "a").exists()  # nothing written beside the sources

    cc.with_name(cc.name + ".log").unlink()
    again = build.build_c([a, b], cflags=["-O2", "-g"], ldflags=["-lm"])
    assert again == dataclasses.replace(exe, cached=True)
    assert not cc.with_name(cc.name + ".log").exists(), "a cache hit must not run the compiler"


def test_a_shared_library_is_position_independent(tmp_path, cc):
    src = source(tmp_path / "hook.c", "int f(void) { return 1; }\n")
    lib = build.build_c(src, shared=True, cflags=["-Wall"], ldflags=["-ldl"])
    _, args, _ = last_call(cc)
    assert args == ["-Wall", "-shared", "-fPIC", "-o", args[4], str(src), "-ldl"]
    assert (Path(lib.path).name, lib.kind) == ("libhook.so", "c-shared")


@pytest.mark.parametrize("cross", ["windows", "x86_64-w64-mingw32"])
def test_cross_windows_uses_mingw_and_windows_names(tmp_path, cc, monkeypatch, cross):
    mingw = standin(tmp_path / "cross" / "x86_64-w64-mingw32-gcc", version="mingw stand-in 12")
    monkeypatch.setenv("PATH", f"{mingw.parent}{os.pathsep}{os.environ['PATH']}")
    src = source(tmp_path / "hook.c")
    exe = build.build_c(src, cross=cross)
    assert (Path(exe.path).name, exe.toolchain, exe.command[0]) == ("hook.exe", "mingw stand-in 12", str(mingw))
    dll = build.build_c(src, cross=cross, shared=True)
    assert (Path(dll.path).name, dll.kind) == ("hook.dll", "c-shared")
    assert last_call(mingw)[1][:2] == ["-shared", "-fPIC"]
    assert not cc.with_name(cc.name + ".log").exists(), "a cross build must not use the native compiler"


def test_a_failed_compile_raises_with_exit_status_output_and_names(tmp_path, cc, private_cache):
    a, b = source(tmp_path / "a.c"), source(tmp_path / "b.c", "int b;\n")
    standin(cc, body='printf "half" > "$out"; printf "a.c:2:5: error: nope\\n" >&2; echo "from stdout"; exit 3')
    with pytest.raises(build.BuildError) as info:
        build.build_c([a, b])
    err = info.value
    assert err.what == f"{a}, {b}"
    assert str(err) == f"build of {a}, {b} failed:\na.c:2:5: error: nope\nfrom stdout"
    assert err.output == "a.c:2:5: error: nope\nfrom stdout\n"
    assert err.diagnostics == (build.Diagnostic("a.c", 2, 5, "error: nope"),)
    assert err.command[0] == str(cc) and err.command[-2:] == (str(a), str(b))
    # the half-written output went with the private directory
    assert entries(private_cache) == [] and list((private_cache / "tmp").iterdir()) == []

    standin(cc)  # the compiler works again: a real build, not a cached failure
    exe = build.build_c([a, b])
    assert not exe.cached and Path(exe.path).read_text() == "built\n"


@pytest.mark.parametrize("body, output", [
    ('printf "\\377 not utf-8\\n" >&2; exit 1', "\udcff not utf-8\n"),
    ('echo "only on stdout"; exit 1', "only on stdout\n"),
    ('exit 2', ""),
])
def test_compiler_output_is_kept_whatever_it_is(tmp_path, cc, body, output):
    standin(cc, body=body)
    src = source(tmp_path / "p.c")
    with pytest.raises(build.BuildError) as info:
        build.build_c(src)
    assert info.value.output == output
    assert str(info.value) == f"build of {src} failed:\n{output.rstrip()}"


def test_the_compiler_version_and_path_are_part_of_the_key(tmp_path, cc, monkeypatch):
    src = source(tmp_path / "p.c")
    first = build.build_c(src)
    standin(cc, version="standin-cc 2.0")
    newer = build.build_c(src)
    assert not newer.cached and newer.key != first.key and newer.toolchain == "standin-cc 2.0"
    other = standin(tmp_path / "elsewhere" / "standin-cc", version="standin-cc 2.0")
    monkeypatch.setenv("CC", str(other))
    moved = build.build_c(src)
    assert not moved.cached and moved.key not in (first.key, newer.key) and moved.command[0] == str(other)


def test_every_source_is_an_input(tmp_path, cc):
    a, b = source(tmp_path / "a.c"), source(tmp_path / "b.c", "int b;\n")
    first = build.build_c([a, b])
    b.write_text("int b = 2;\n")
    second = build.build_c([a, b])
    assert not second.cached and second.key != first.key
    assert build.build_c([a, b]).cached


def test_a_source_under_home_is_found(tmp_path, cc, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    src = source(tmp_path / "p.c")
    exe = build.build_c("~/p.c")
    assert last_call(cc)[1][-1] == str(src) and Path(exe.path).name == "p"


def test_a_progress_line_names_the_sources_and_says_when_the_compile_failed(tmp_path, cc, monkeypatch, capsys):
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    a, b = source(tmp_path / "a.c"), source(tmp_path / "b.c", "int b;\n")
    build.build_c([a, b])
    err = capsys.readouterr().err
    assert "[gorun-kit] cc a.c b.c ..." in err and "[gorun-kit] cc a.c b.c: done in" in err
    standin(cc, body="exit 1")
    with pytest.raises(build.BuildError):
        build.build_c(a)
    err = capsys.readouterr().err
    assert "[gorun-kit] cc a.c: failed after" in err and "done in" not in err


def test_a_builder_that_lost_the_race_hands_back_the_winners_entry(tmp_path, cc, monkeypatch, private_cache):
    src = source(tmp_path / "p.c")
    real = build._compile
    winners: list[build.Binary] = []
    raced = []

    def racing(cmd, **kw):
        if not raced:  # another builder of the same program publishes first
            raced.append(True)
            winners.append(build.build_c(src))
        return real(cmd, **kw)

    monkeypatch.setattr(build, "_compile", racing)
    mine = build.build_c(src)
    assert not winners[0].cached
    assert (mine.cached, mine.path, mine.key) == (True, winners[0].path, winners[0].key)
    assert len(entries(private_cache)) == 1 and list((private_cache / "tmp").iterdir()) == []


def test_a_build_sweeps_what_killed_builds_left(tmp_path, cc, private_cache):
    left = private_cache / "tmp" / "left-by-a-killed-build"
    left.mkdir(parents=True)
    (left / "half").write_text("x")
    build.build_c(source(tmp_path / "p.c"))
    assert not left.exists()


@needs_cc
@pytest.mark.parametrize("header, same", [("b.h", "size"), ("b.inc", "time")])
def test_a_changed_include_line_is_seen_even_when_the_size_or_time_stays(tmp_path, cc, header, same):
    d = tmp_path / "c"
    source(d / "a.h", "int a;\n")
    source(d / header, "int b;\n")
    src = source(d / "p.c", '#include "a.h"\nint main(void) { return 0; }\n')
    build.build_c(src)
    st = src.stat()
    src.write_text(f'#include "{header}"\nint main(void) {{ return 0; }}\n')
    # as an editor or a tool that restores modification times may leave it
    assert (src.stat().st_size == st.st_size) == (same == "size")
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + (1_000_000 if same == "size" else 0)))
    assert not build.build_c(src).cached
    (d / header).write_text("int b = 2;\n")
    assert not build.build_c(src).cached, f"{header} is included now: it is an input"


@needs_cc
def test_a_vanished_header_is_noticed_not_an_error(tmp_path, cc):
    d = tmp_path / "c"
    source(d / "a.h", "int a;\n")
    src = source(d / "p.c", '#include "a.h"\nint main(void) { return 0; }\n')
    first = build.build_c(src)
    (d / "a.h").unlink()
    assert not build.build_c(src).cached  # the stand-in compiles anyway; a real one would report it
    assert first.key != build.build_c(src).key


def test_a_killed_caller_leaves_no_compiler_running(tmp_path, cc):
    src = source(tmp_path / "p.c")
    build.build_c(src)  # the stand-in works (and this test reaches build_c)
    pid_file = tmp_path / "compiler.pid"
    standin(cc, body=f'echo $$ > "{pid_file}.tmp"; mv "{pid_file}.tmp" "{pid_file}"; exec sleep 30')
    code = "import sys; from gorun_kit import build; build.build_c(sys.argv[1], cflags=['-O1'])"
    # the caller imports the kit this test runs against; under mutation testing that is the
    # mutated copy, and only a mutant's name (not the tool's own "stats"/"fail" passes) goes along
    env = {**os.environ, "PYTHONPATH": str(Path(build.__file__).parents[1])}
    if env.get("MUTANT_UNDER_TEST") in ("stats", "fail"):
        del env["MUTANT_UNDER_TEST"]
    caller = subprocess.Popen([sys.executable, "-c", code, str(src)], env=env)
    pid = None
    try:
        deadline = time.monotonic() + 20
        while pid is None and time.monotonic() < deadline and caller.poll() is None:
            pid = int(pid_file.read_text()) if pid_file.exists() else None
            time.sleep(0.02)
        assert pid is not None, "the stand-in compiler never started"
        caller.kill()
        caller.wait()
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not alive(pid), "the compiler outlived the SIGKILLed caller"
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# ---------------------------------------------------------------------------
# Go


def go_standin(tmp_path: Path, body: str = WRITE_OUTPUT) -> GoToolchain:
    """A made-up toolchain whose ``go`` is a stand-in (``$3`` of ``go build -o OUT`` is the output)."""
    root = tmp_path / "goroot"
    go = standin(root / "bin" / "go", version="go version go1.27.3 linux/amd64", body=body)
    return GoToolchain(go=str(go), goroot=str(root), version="go1.27.3", goos="linux", goarch="amd64",
                       source="test")


def go_module(root: Path, go_mod: str = "module example.test/m\n\ngo 1.22\n") -> Path:
    source(root / "go.mod", go_mod)
    source(root / "main.go", "package main\n\nfunc main() {}\n")
    return root


def test_go_build_runs_in_the_package_with_the_kits_environment(tmp_path, cc, monkeypatch):
    tc = go_standin(tmp_path)
    monkeypatch.setenv("GORUN_KIT_TEST_MARK", "kept")
    src = go_module(tmp_path / "m")
    exe = build.build_go(src, go=tc, goarch="arm64")
    cwd, args, env = last_call(Path(tc.go))
    assert cwd == src and args[:2] == ["build", "-o"] and Path(args[2]).name == "m" and args[-1] == "."
    assert (env["GOOS"], env["GOARCH"], env["CGO_ENABLED"], env["GOTOOLCHAIN"]) == ("linux", "arm64", "0", "local")
    assert env["GORUN_KIT_TEST_MARK"] == "kept" and env["PATH"].startswith(str(Path(tc.go).parent) + os.pathsep)
    assert "-mod=mod" in env["GOFLAGS"].split()
    assert Path(exe.path).read_text() == "built\n" and (exe.kind, exe.toolchain) == ("go", "go1.27.3")

    build.build_go(src / "main.go", go=tc)
    cwd, args, env = last_call(Path(tc.go))
    assert (cwd, args[-1], env["GOARCH"]) == (src, "main.go", "amd64")


def test_go_build_of_a_module_with_requirements_or_none_leaves_goflags(tmp_path, cc, monkeypatch):
    tc = go_standin(tmp_path)
    monkeypatch.delenv("GOFLAGS", raising=False)
    build.build_go(go_module(tmp_path / "r", "module example.test/r\n\nrequire example.test/y v1.0.0\n"), go=tc)
    assert "-mod=mod" not in last_call(Path(tc.go))[2].get("GOFLAGS", "")
    build.build_go(source(tmp_path / "solo" / "main.go", "package main\n\nfunc main() {}\n"), go=tc)
    assert "-mod=mod" not in last_call(Path(tc.go))[2].get("GOFLAGS", "")


def test_a_failed_go_build_names_the_source_as_given(tmp_path, cc, monkeypatch, private_cache):
    tc = go_standin(tmp_path, body='echo "./main.go:1:1: expected package" >&2; echo "# m"; exit 1')
    go_module(tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(build.BuildError) as info:
        build.build_go("m", go=tc)
    err = info.value
    assert (err.what, err.output) == ("m", "./main.go:1:1: expected package\n# m\n")
    assert err.diagnostics == (build.Diagnostic("./main.go", 1, 1, "expected package"),)
    assert entries(private_cache) == []


def test_go_progress_says_what_is_built(tmp_path, cc, monkeypatch, capsys):
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    tc = go_standin(tmp_path)
    src = go_module(tmp_path / "m")
    build.build_go(src, go=tc)
    assert "[gorun-kit] go build m ...\n" in capsys.readouterr().err
    repl = source(tmp_path / "repl.go", "package main\n\nfunc main() { println() }\n")
    build.build_go(src / "main.go", go=tc, overlay={str(src / "main.go"): str(repl)})
    assert "[gorun-kit] go build main.go (with overlay) ...\n" in capsys.readouterr().err


def test_a_go_source_under_home_is_found(tmp_path, cc, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    tc = go_standin(tmp_path)
    src = go_module(tmp_path / "m")
    build.build_go("~/m", go=tc)
    assert last_call(Path(tc.go))[0] == src


def test_the_c_compiler_is_part_of_a_cgo_key_only(tmp_path, cc, monkeypatch):
    tc = go_standin(tmp_path)
    src = go_module(tmp_path / "m")
    cgo, plain = build.build_go(src, go=tc, cgo=True), build.build_go(src, go=tc)
    standin(cc, version="standin-cc 2.0")
    assert not build.build_go(src, go=tc, cgo=True).cached
    assert build.build_go(src, go=tc).cached
    monkeypatch.setenv("CC", str(standin(tmp_path / "other" / "cc", version="standin-cc 2.0")))
    again = build.build_go(src, go=tc, cgo=True)
    assert not again.cached and again.key != cgo.key and plain.key != cgo.key


@pytest.mark.parametrize("name", ["x.c", "x.s", "x.S", "x.syso"])
def test_every_kind_of_package_file_is_an_input(tmp_path, cc, name):
    tc = go_standin(tmp_path)
    src = go_module(tmp_path / "m")
    source(src / name, "one\n")
    first = build.build_go(src, go=tc)
    (src / name).write_text("two\n")
    second = build.build_go(src, go=tc)
    assert not second.cached and second.key != first.key


def test_the_root_package_of_the_module_is_an_input_of_a_command_below_it(tmp_path, cc):
    tc = go_standin(tmp_path)
    root = go_module(tmp_path / "m")
    (root / "main.go").write_text("package m\n\nconst M = 1\n")
    cmd = source(root / "cmd" / "tool" / "main.go",
                  'package main\n\nimport "example.test/m"\n\nfunc main() { println(m.M) }\n')
    first = build.build_go(cmd.parent, go=tc)
    (root / "main.go").write_text("package m\n\nconst M = 2\n")
    assert not build.build_go(cmd.parent, go=tc).cached
    assert build.build_go(cmd.parent, go=tc).key != first.key


def test_a_failed_go_build_is_reported_as_failed(tmp_path, cc, monkeypatch, capsys):
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    tc = go_standin(tmp_path, body="exit 1")
    with pytest.raises(build.BuildError):
        build.build_go(go_module(tmp_path / "m"), go=tc)
    err = capsys.readouterr().err
    assert "[gorun-kit] go build m: failed after" in err and "done in" not in err


def test_a_renamed_package_file_or_a_moved_program_rebuilds(tmp_path, cc):
    tc = go_standin(tmp_path)
    src = go_module(tmp_path / "m")
    source(src / "a.go", "package main\n")
    first = build.build_go(src, go=tc)
    (src / "a.go").rename(src / "b.go")  # the same bytes under another name: positions in the binary change
    renamed = build.build_go(src, go=tc)
    assert not renamed.cached and renamed.key != first.key
    copy = tmp_path / "elsewhere" / "m"
    shutil.copytree(src, copy)
    moved = build.build_go(copy, go=tc)
    assert not moved.cached and moved.key != renamed.key


def test_a_go_mod_that_is_not_utf8_is_still_read(tmp_path, cc, monkeypatch):
    tc = go_standin(tmp_path)
    monkeypatch.delenv("GOFLAGS", raising=False)
    src = go_module(tmp_path / "m")
    (src / "go.mod").write_bytes(b"module example.test/m\n\n// \xff\xfe\nrequire example.test/y v1.0.0\n")
    assert not build.module_requires_nothing(src)
    build.build_go(src, go=tc)
    assert "-mod=mod" not in last_call(Path(tc.go))[2].get("GOFLAGS", "")


def test_a_damaged_entry_is_replaced_without_leaving_the_old_one_behind(tmp_path, cc, private_cache):
    src = source(tmp_path / "p.c")
    first = build.build_c(src)
    (Path(first.path).parent / "meta.json").write_text("{")
    again = build.build_c(src)
    assert (again.cached, again.path) == (False, first.path)
    assert list((private_cache / "tmp").iterdir()) == []


@needs_cc
def test_a_header_found_through_an_include_flag_is_an_input(tmp_path, cc):
    inc = tmp_path / "include"
    source(inc / "w.h", "int w;\n")
    src = source(tmp_path / "src" / "p.c", '#include "w.h"\nint main(void) { return 0; }\n')
    first = build.build_c(src, cflags=[f"-I{inc}"])
    (inc / "w.h").write_text("int w = 2;\n")
    second = build.build_c(src, cflags=[f"-I{inc}"])
    assert not second.cached and second.key != first.key
