"""A student's walk through JupyterLab, in Debian's Chromium driven by Playwright.

JupyterLab is started the way ``make lab`` starts it (``workspace.lab_command``)
on a fresh working copy (``workspace.make_workspace``), with the kit's scripts
directory taken off the caller's PATH first, so the Lab's terminal finds
``gorun-kit`` only because the student mode puts it there. Then, in the page:

1. the student copy of the ptrace exercise opens; its solution cells hold the
   stub, and no line of the instructor's solutions is on the page;
2. the exercise's setup cells and its "check my work" cell run: the C lab check
   fails on the untouched ``tracer.c`` stub;
3. ``labs_c/ptrace_lab/tracer.c`` is opened from the file browser and completed
   in JupyterLab's editor (the completed text replaces the stub, then Ctrl+S);
   the saved file is checked byte for byte;
4. "check my work" runs again: the C lab check passes (the Python exercises,
   still stubs, still fail: the check reports each check on its own);
5. a Lab terminal runs ``gorun-kit --help``.

Screenshots of each step go to test-artifacts/browser/. The server, its
kernels, its terminals and the browser are stopped at the end, and the test
checks that no process started with this server's environment is left.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import time
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import workspace
from gorun_kit.course.layout import course_root
# The widget test's helpers (and its skip when playwright is missing); the unit tests' solved lab.
from test_browser import ARTIFACTS, CHROMIUM, LAB_OPTIONS, _free_port, _get, _request, lab_state, serve_lab
from test_student_mode import TRACER, solution_lines, solved_lab_text

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extras)")
pytestmark = [pytest.mark.slow, pytest.mark.live,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no chromium: apt-get install -y chromium")]

ROOT = course_root()
EXERCISE = "notebooks/exercises/03_ptrace_exercises.ipynb"
SELFCHECK = ROOT / "gorun_kit" / "course" / "selfcheck.py"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


def _procs_with_env(marker: bytes) -> list[int]:
    """Processes whose environment holds ``marker`` (everything the server started inherits it)."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (d / "environ").read_bytes():
                    found.append(int(d.name))
    return found


@contextlib.contextmanager
def student_lab(copy: Path, state: Path):
    """JupyterLab as ``make lab`` starts it, on ``copy``; a random port and token."""
    port, token = _free_port(), secrets.token_hex(16)
    runtime = state / "runtime"
    command = workspace.lab_command(copy, extra=[*LAB_OPTIONS, f"--ServerApp.port={port}",
                                                 f"--IdentityProvider.token={token}"])
    env = dict(command.env, **lab_state(state))
    marker = f"JUPYTER_RUNTIME_DIR={runtime}\0".encode()
    with serve_lab(command.argv, env=env, cwd=command.cwd, port=port, token=token,
                   log_path=state / "server.log") as base:
        yield base, token
    for _ in range(100):
        if not _procs_with_env(marker):
            break
        time.sleep(0.1)
    left = _procs_with_env(marker)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes of the Lab left behind: {left}"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"student_{name}.png"), full_page=True)


def _prompt_count(page, index: int) -> int:
    text = page.locator(CELLS).nth(index).locator(".jp-InputPrompt").inner_text()
    m = re.search(r"\[(\d+)\]", text)
    return int(m.group(1)) if m else 0


def _run_cells(page, indices: list[int], target: int, timeout_s: float = 120) -> str:
    """Run ``indices`` (ascending, ending with ``target``) with Ctrl+Enter in command
    mode, moving down with j as a student does; return the target's output text."""
    before = _prompt_count(page, target)
    page.locator(CELLS).nth(0).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    for i in range(target + 1):
        if i in indices:
            page.keyboard.press("Control+Enter")
        if i < target:
            page.keyboard.press("j")
    page.wait_for_function(
        f"() => {{ const m = /\\[(\\d+)\\]/.exec(document.querySelectorAll({json.dumps(CELLS)})[{target}]"
        f".querySelector('.jp-InputPrompt').innerText); return m && Number(m[1]) > {before}; }}",
        timeout=timeout_s * 1000)
    return page.locator(CELLS).nth(target).locator(".jp-OutputArea").inner_text()


def _check_line(output: str, grade_id: str) -> str:
    lines = [line.strip() for line in output.splitlines() if re.match(rf"\s*\S+\s+{re.escape(grade_id)}\b", line)]
    assert lines, f"no line for {grade_id} in the check's output:\n{output}"
    return lines[0]


def _open_in_file_browser(page, rel: str) -> None:
    """Open ``rel`` by double-clicking through the file browser from its root."""
    if not page.locator(".jp-FileBrowser").is_visible():
        page.keyboard.press("Control+Shift+F")  # show the file browser
    page.locator(".jp-FileBrowser .jp-BreadCrumbs-home").click()
    for part in rel.split("/"):
        item = page.locator(".jp-FileBrowser .jp-DirListing-item").filter(
            has=page.locator(".jp-DirListing-itemText", has_text=re.compile(rf"^{re.escape(part)}$")))
        item.first.wait_for(timeout=30_000)
        item.first.dblclick()


@pytest.fixture
def copy(tmp_path) -> Path:
    return Path(workspace.make_workspace(tmp_path / "gorun-course").directory)


def test_student_walk_through_jupyterlab(copy, tmp_path, monkeypatch):
    if not SELFCHECK.is_file():
        pytest.skip(f"{SELFCHECK.relative_to(ROOT)} is absent: the exercises have no \"check my work\" cell yet")
    nb = nbformat.read(copy / EXERCISE, as_version=4)
    check = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "check_my_work(" in c.source]
    assert check, f"{EXERCISE} of the release has no \"check my work\" cell (a code cell calling check_my_work)"
    target = check[-1]
    # What a student runs before checking: every code cell above the check but the graded test cells.
    setup = [i for i, c in enumerate(nb.cells[:target])
             if c.cell_type == "code" and not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    solved = solved_lab_text((copy / TRACER).read_text(), (ROOT / TRACER).read_text())
    bin_dir = workspace.scripts_dir()
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                                if p and Path(p) != bin_dir))
    state = tmp_path / "state"
    state.mkdir()
    with student_lab(copy, state) as (base, token), playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            # 1. The student copy of the exercise: stubs, no solution.
            page.goto(f"{base}/lab/tree/{EXERCISE}?token={token}")
            page.wait_for_function(f"() => document.querySelectorAll({json.dumps(CELLS)}).length === "
                                   f"{len(nb.cells)}", timeout=120_000)
            page.get_by_text("| Idle").first.wait_for(timeout=120_000)
            with contextlib.suppress(Exception):  # JupyterLab's "get news?" toast would cover outputs
                page.get_by_role("button", name="No", exact=True).click(timeout=3000)
            solution_cell = next(i for i, c in enumerate(nb.cells) if "def read_c_string" in c.source)
            shown = page.locator(CELLS).nth(solution_cell).locator(".cm-content").inner_text()
            assert "def read_c_string" in shown and "YOUR CODE HERE" in shown, shown
            page_text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
            leaked = [line for line in solution_lines() if line in page_text]
            assert not leaked and "BEGIN SOLUTION" not in page_text and "HIDDEN TESTS" not in page_text, leaked
            _shot(page, "1_exercise_opened")

            # 2. Check my work on the untouched stub.
            out = _run_cells(page, setup + [target], target)
            assert "check my work" in out, out
            line = _check_line(out, "c-tracer-check")
            assert line.startswith("failed"), out
            _shot(page, "2_check_on_stub")

            # 3. Complete the C lab in JupyterLab's editor.
            _open_in_file_browser(page, TRACER)
            editor = page.locator(".jp-FileEditor:not(.lm-mod-hidden) .cm-content").first
            editor.wait_for(timeout=60_000)
            page.wait_for_function("() => [...document.querySelectorAll('.jp-FileEditor .cm-content')]"
                                   ".some(e => e.innerText.includes('TODO 1: YOUR CODE HERE'))", timeout=60_000)
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(solved)
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 30
            while (copy / TRACER).read_text() != solved and time.monotonic() < deadline:
                time.sleep(0.2)
            assert (copy / TRACER).read_text() == solved, "the editor did not save the completed tracer.c as typed"
            _shot(page, "3_tracer_completed")

            # 4. Check my work again, in the exercise's tab.
            page.locator(".lm-TabBar-tab", has_text="03_ptrace_exercises.ipynb").first.click()
            page.locator(CELLS).nth(target).wait_for(state="visible", timeout=30_000)
            out = _run_cells(page, [target], target)
            assert _check_line(out, "c-tracer-check").startswith("passed"), out
            assert _check_line(out, "read_c_string_tests").startswith("failed"), out  # still a stub
            _shot(page, "4_check_after_edit")

            # 5. The kit in a Lab terminal.
            result = copy / "terminal-check.txt"
            page.keyboard.press("Escape")
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^File$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile("^New$")).first.hover()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Terminal$")).first.click()
            term = page.locator(".jp-Terminal:not(.lm-mod-hidden) .xterm").first
            term.wait_for(timeout=60_000)
            term.click()
            page.keyboard.type(f"{{ pwd; command -v gorun-kit; gorun-kit --help; }} > {result} 2>&1\n")
            deadline = time.monotonic() + 30
            while not (result.is_file() and "usage: gorun-kit" in result.read_text()) and time.monotonic() < deadline:
                time.sleep(0.3)
            text = result.read_text() if result.is_file() else "(no file)"
            assert text.splitlines()[:2] == [str(copy), str(bin_dir / "gorun-kit")], text
            assert text.splitlines()[2].startswith("usage: gorun-kit"), text
            _shot(page, "5_terminal")
        finally:
            context.close()
