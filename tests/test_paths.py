"""Paths shown in outputs name the course's places, not one machine's directories."""
from __future__ import annotations

import os
import re

import nbformat

from gorun_kit import paths
from gorun_kit.cache import cache_dir


def test_known_prefixes_are_named(go, repo):
    text = (f"{go.goroot}/src/os/exec/lookpath.go {cache_dir()}/threads/ab/proc.go:1:2: x "
            f"{repo}/labs_go/hello/main.go {os.path.expanduser('~')}/notes")
    assert paths.shorten(text, root=repo) == ("$GOROOT/src/os/exec/lookpath.go $GORUN_KIT_CACHE/threads/ab/proc.go:1:2: x "
                                   "labs_go/hello/main.go ~/notes")


def test_the_root_defaults_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert paths.shorten(f"{tmp_path}/labs_go/x.go {tmp_path}") == "labs_go/x.go ."


def test_gocache_entries_are_named(go):
    gocache = paths._gocache(go.go)
    assert paths.shorten(f"{gocache}/09/abc-d/main") == "$GOCACHE/09/abc-d/main"


def test_only_whole_path_components_are_replaced(repo):
    home = os.path.expanduser("~")
    assert paths.shorten(home + "fs/x") == home + "fs/x"
    assert paths.shorten(f"({home})") == "(~)"
    assert paths.shorten(str(repo), root=repo) == "."


def test_without_names_only_root_and_home_are_rewritten(go, repo):
    shown = paths.shorten(go.goroot, names=False, root=repo)
    assert "$GOROOT" not in shown
    if go.goroot.startswith(str(repo) + os.sep):
        assert shown == os.path.relpath(go.goroot, repo)


def test_doctor_report_shows_no_machine_directories(repo):
    from gorun_kit.doctor import diagnose

    text = diagnose(root=repo).render()
    assert str(repo) not in text
    assert os.path.expanduser("~") + os.sep not in text


# An absolute path that starts at a path boundary in one of the places a
# machine keeps checkouts and homes ("cmd/go/internal/work/..." is a package
# path, not one of these). The saved outputs must say $GOROOT, $GOCACHE,
# $GORUN_KIT_CACHE, course-relative paths or ~ instead (gorun_kit.paths).
_MACHINE_PATH = re.compile(r"(?<![\w.$~-])/(?:root|home|work|Users|check)/[^\s\"'<>]*")


def _output_texts(nb):
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if "text" in out:
                yield index, out["text"]
            for value in out.get("data", {}).values():
                if isinstance(value, str):
                    yield index, value
            if out.get("output_type") == "error":
                yield index, "\n".join(out.get("traceback", []))


def machine_paths(nb) -> list[tuple[int, str]]:
    """(cell, path) for every machine directory in ``nb``'s saved outputs."""
    return [(i, m.group(0)) for i, text in _output_texts(nb) for m in _MACHINE_PATH.finditer(text)]


def test_saved_outputs_show_no_machine_directories(repo):
    notebooks = sorted(repo.glob("notebooks/*.ipynb")) + sorted(repo.glob("notebooks/exercises/*.ipynb"))
    assert len(notebooks) >= 16
    found = {str(p.relative_to(repo)): machine_paths(nbformat.read(p, as_version=4)) for p in notebooks}
    assert not {k: v for k, v in found.items() if v}, found


def test_the_machine_path_check_can_fail():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                  text="built /root/.cache/gorun_kit/build/x and /work/main/labs_go\n"
                                                       "src/cmd/go/internal/work/exec.go:76 $GOROOT/src ~/go /users/ada\n")]
    assert machine_paths(nb) == [(0, "/root/.cache/gorun_kit/build/x"), (0, "/work/main/labs_go")]
