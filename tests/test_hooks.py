"""Hooking LookPath (ledger 2.5-x): what fails, with the toolchain's own
words, and what works. Every check is on a real build or run."""
from __future__ import annotations

import pytest

from gorun_kit.lookpath import experiments


@pytest.fixture(scope="module")
def linkname(repo):
    return {(h.variant, h.ldflags): h for h in experiments.linkname_hooks(labs=repo)}


def test_seed_snippet_does_not_compile_without_unsafe(linkname):
    h = linkname[("nounsafe", "")]
    assert not h.built and '//go:linkname only allowed in Go files that import "unsafe"' in h.message


def test_linkname_with_body_is_a_duplicate_definition(linkname):
    h = linkname[("body", "")]
    assert not h.built and "duplicated definition of symbol os/exec.LookPath" in h.message


@pytest.mark.parametrize("variant,symbol", [("pull_private", "os/exec.findExecutable"),
                                            ("pull_exported", "os/exec.LookPath")])
def test_pull_linkname_into_std_is_rejected(linkname, variant, symbol):
    h = linkname[(variant, "")]
    assert not h.built and f"invalid reference to {symbol}" in h.message


def test_checklinkname_off_allows_calling_not_replacing(linkname):
    h = linkname[("pull_private", "-checklinkname=0")]
    # It runs os/exec's own permission check (an executable passes, a plain
    # file is refused); LookPath itself is unchanged.
    assert h.built and h.message == "findExecutable(/bin/ls): <nil> | findExecutable(/etc/passwd): permission denied"


@pytest.fixture(scope="module")
def preload(repo):
    return {r.program: r for r in experiments.ldpreload_hooks(labs=repo)}


def test_ld_preload_intercepts_only_the_c_program(preload):
    c = preload["C (libc execve)"]
    assert c.dynamic and c.constructor_ran and c.execve_intercepted
    pure = preload["Go, CGO_ENABLED=0"]
    assert not pure.dynamic and not pure.constructor_ran and not pure.execve_intercepted
    assert "err=<nil>" in pure.stdout  # the exec itself worked, unseen
    cgo = preload["Go with cgo"]
    assert cgo.dynamic and cgo.constructor_ran and not cgo.execve_intercepted
    assert "cgo=true" in cgo.stdout


def test_overlay_replaces_lookpath_and_goroot_is_untouched(repo):
    import hashlib
    from pathlib import Path

    original, _ = experiments.overlay_source()
    before = hashlib.sha256(Path(original).read_bytes()).hexdigest()
    run = experiments.overlay_hook(labs=repo)
    assert run.without_rc == 1 and "executable file not found" in run.without_overlay
    assert run.with_rc == 0 and "custom-tool-ran" in run.with_overlay and "fakehome/.local/bin/fctool" in run.with_overlay
    assert hashlib.sha256(Path(original).read_bytes()).hexdigest() == before
