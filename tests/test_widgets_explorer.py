"""The LookPath explorer's output: one bundle whose live view is the widget and
whose static views say they are the saved state and how to get the live one."""
from __future__ import annotations

import pytest

from gorun_kit import widgets
from gorun_kit.widgets import DEFAULT_FILES, RUN_NOTE, explorer_bundle


def test_bundle_static_views_are_marked_saved_state():
    b = explorer_bundle({"model_id": "m", "version_major": 2, "version_minor": 0}, "tool",
                        "/usr/local/bin:/opt/bin::/usr/bin", DEFAULT_FILES, "", "/users/ada")
    assert b["application/vnd.jupyter.widget-view+json"]["model_id"] == "m"
    for key in ("text/plain", "text/html"):
        assert RUN_NOTE in b[key] and "Saved state" in b[key]
    assert "VBox(" not in b["text/plain"]
    assert b["text/html"].count("<tr>") == 4  # header + linux, darwin, windows
    assert "tool.bat (ErrDot)" in b["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" not in explorer_bundle(None, "tool", "/a", "/a/tool", "", "/")


def test_invalid_scenario_shows_its_reason():
    b = explorer_bundle(None, "tool", "/a", "a/tool", "", "/")
    assert "invalid scenario: file 'a/tool'" in b["text/plain"]
    assert "write an absolute Unix-style path" in b["text/html"]


def test_explorer_displays_one_bundle_with_the_widget_view(monkeypatch):
    pytest.importorskip("ipywidgets")
    shown = []
    monkeypatch.setattr(widgets, "display", lambda obj, **kw: shown.append((obj, kw)))
    box = widgets.lookpath_explorer()
    assert len(shown) == 1
    bundle, kw = shown[0]
    assert kw == {"raw": True}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert bundle["text/plain"].startswith("Saved state") and RUN_NOTE in bundle["text/html"]
    path_box = next(c for c in box.children if getattr(c, "description", "") == "PATH")
    live = box.children[-1]
    path_box.value = "/users/ada:/opt/bin"
    assert "C:&#92;users&#92;ada&#92;tool.bat" in live.value  # the live table follows the edit
    path_box.value = "/a"
    next(c for c in box.children if getattr(c, "description", "") == "cwd").value = "relative"
    assert "invalid scenario: entry path &#x27;relative&#x27; must be absolute" in live.value
    box.close()


def test_saved_state_says_pathext_unset_not_none():
    b = explorer_bundle(None, "tool", "/usr/local/bin:/opt/bin::/usr/bin", DEFAULT_FILES, "", "/users/ada")
    assert "PATHEXT unset" in b["text/plain"] and "PATHEXT <code>unset</code>" in b["text/html"]
    assert "None" not in b["text/plain"] and "None" not in b["text/html"]
    b = explorer_bundle(None, "tool", "/a", "/a/tool", ".exe", "/")
    assert "PATHEXT .exe" in b["text/plain"]


def test_chapter_02_explorer_hints_hold_for_the_starting_scenario():
    # notebooks/02 says: prepending /users/ada to PATH changes only the Windows answer (appending
    # changes nothing); removing /usr/bin/tool changes only linux and darwin.
    from gorun_kit.lookpath.compare import cross_os

    path, files = "/usr/local/bin:/opt/bin::/usr/bin", DEFAULT_FILES.splitlines()

    def answers(p, f):
        return {r.goos: r.result.key() for r in cross_os("tool", path=p, files=f, cwd="/users/ada").rows}

    start = answers(path, files)
    changed = lambda new: sorted(g for g in start if new[g] != start[g])
    assert changed(answers("/users/ada:" + path, files)) == ["windows"]
    assert changed(answers(path + ":/users/ada", files)) == []
    assert changed(answers(path, [f for f in files if f != "/usr/bin/tool"])) == ["darwin", "linux"]
