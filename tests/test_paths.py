"""Paths shown in outputs name the course's places, not one machine's directories."""
from __future__ import annotations

import os

from gorun_kit import paths
from gorun_kit.build import cache_dir


def test_known_prefixes_are_named(go, repo):
    text = (f"{go.goroot}/src/os/exec/lookpath.go {cache_dir()}/threads/ab/proc.go:1:2: x "
            f"{repo}/labs_go/hello/main.go {os.path.expanduser('~')}/notes")
    assert paths.shorten(text) == ("$GOROOT/src/os/exec/lookpath.go $GORUN_KIT_CACHE/threads/ab/proc.go:1:2: x "
                                   "labs_go/hello/main.go ~/notes")


def test_gocache_entries_are_named(go):
    gocache = paths._gocache(go.go)
    assert paths.shorten(f"{gocache}/09/abc-d/main") == "$GOCACHE/09/abc-d/main"


def test_only_whole_path_components_are_replaced(repo):
    home = os.path.expanduser("~")
    assert paths.shorten(home + "fs/x") == home + "fs/x"
    assert paths.shorten(f"({home})") == "(~)"
    assert paths.shorten(str(repo)) == "."


def test_without_names_only_course_and_home_are_rewritten(go, repo):
    shown = paths.shorten(go.goroot, names=False)
    assert "$GOROOT" not in shown
    if go.goroot.startswith(str(repo) + os.sep):
        assert shown == os.path.relpath(go.goroot, repo)


def test_doctor_report_shows_no_machine_directories(repo):
    from gorun_kit.doctor import diagnose

    text = diagnose().render()
    assert str(repo) not in text
    assert os.path.expanduser("~") + os.sep not in text
