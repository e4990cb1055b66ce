"""A real browser: JupyterLab headless, Debian's Chromium driven by Playwright.

Proves the widgets render and react for a student, not only in nbval: the
notebook opens in JupyterLab, the explorer cell (and only the cells it needs,
found by the same dependency slicing as ``gorun-kit course run --claims-only``)
runs through the page's keyboard commands, the PATH is changed in the widget
and the three OS results in the page are checked against the Python model.
A screenshot of each run is saved under test-artifacts/browser/.

The notebook is opened from a temporary copy, so JupyterLab's autosave never
touches the source tree; the server, its kernels and the browser are all
stopped at the end and the test checks that none is left.

Needs: chromium (Debian package; scripts/setup-debian.sh installs it) and the
``playwright`` Python package, used with ``executable_path=/usr/bin/chromium``
(``playwright install`` is never run: no browser downloads).
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course.run import dependency_slice

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FIXTURE = Path(__file__).parent / "fixtures" / "browser" / "explorer_fixture.ipynb"

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extras)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no chromium: apt-get install -y chromium"),
    pytest.mark.skipif(sys.platform != "linux", reason="the browser test runs on Linux"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def _request(url: str, method: str):
    req = urllib.request.Request(url, method=method)
    with contextlib.suppress(Exception):
        urllib.request.urlopen(req, timeout=10).read()


def _procs_mentioning(text: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
    return found


LAB_OPTIONS = ("--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")


def lab_state(state_dir: Path) -> dict:
    """Environment of a Lab whose runtime and settings live in ``state_dir``, every cell
    rendered (no windowing) so that a test can address cells by index."""
    tracker = state_dir / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    return dict(JUPYTER_RUNTIME_DIR=str(state_dir / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(state_dir / "settings"),
                JUPYTERLAB_WORKSPACES_DIR=str(state_dir / "workspaces"), GORUN_KIT_PROGRESS="0")


@contextlib.contextmanager
def serve_lab(argv: list[str], *, env: dict, cwd, port: int, token: str, log_path: Path):
    """Start ``argv`` (a jupyter lab command) and yield its base URL once it answers;
    afterwards shut its kernels, terminals and the server down through the API
    (SIGKILL if it will not stop). The caller checks what is left."""
    log = open(log_path, "wb")
    server = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(Exception):
                _get(f"{base}/api/status?token={token}")
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter lab did not answer on {base}")
            time.sleep(0.5)
        yield base
    finally:
        # Kernels and terminals run in their own sessions: shut them down through the API first.
        for kind, key in (("kernels", "id"), ("terminals", "name")):
            with contextlib.suppress(Exception):
                for item in _get(f"{base}/api/{kind}?token={token}"):
                    _request(f"{base}/api/{kind}/{item[key]}?token={token}", "DELETE")
        _request(f"{base}/api/shutdown?token={token}", "POST")
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@contextlib.contextmanager
def jupyterlab(root_dir: Path, state_dir: Path):
    """A JupyterLab server on a random free port with a random token; stopped and checked on exit."""
    port, token = _free_port(), secrets.token_hex(16)
    runtime = state_dir / "runtime"
    env = dict(os.environ, **lab_state(state_dir))
    cmd = [sys.executable, "-m", "jupyter", "lab", *LAB_OPTIONS, f"--ServerApp.port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with serve_lab(cmd, env=env, cwd=None, port=port, token=token, log_path=state_dir / "server.log") as base:
        yield base, token
    # Every kernel's command line names its connection file under our runtime dir.
    for _ in range(100):
        if not _procs_mentioning(str(runtime)):
            break
        time.sleep(0.1)
    left = _procs_mentioning(str(runtime))
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"kernel processes left behind: {left}"


def _open_and_run(page, base, token, rel, nb, target: int, timeout_s: float = 300):
    """Open ``rel`` and run the cells ``target`` needs, by keyboard, as a student would."""
    page.goto(f"{base}/lab/tree/{rel}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    # The kernel is started and connected when the status bar says so.
    page.get_by_text("| Idle").first.wait_for(timeout=120_000)
    with contextlib.suppress(Exception):  # JupyterLab's "get news?" toast would cover outputs
        page.get_by_role("button", name="No", exact=True).click(timeout=3000)
    needed = set(dependency_slice(nb, [target]))
    sel = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
    page.wait_for_function(f"() => document.querySelectorAll({json.dumps(sel)}).length === {len(nb.cells)}",
                           timeout=60_000)
    cells = page.locator(sel)
    cells.nth(0).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")  # command mode
    for i in range(target + 1):
        if i in needed and nb.cells[i].cell_type == "code":
            page.keyboard.press("Control+Enter")  # run this cell, stay on it
        if i < target:
            page.keyboard.press("j")  # move down (command mode)
    cell = cells.nth(target)
    # Done when the target cell has its execution count (it runs last).
    page.wait_for_function(
        f"() => /\\[\\d+\\]/.test(document.querySelectorAll({json.dumps(sel)})[{target}]"
        ".querySelector('.jp-InputPrompt').innerText)", timeout=timeout_s * 1000)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    return cell, needed, errors


@pytest.fixture
def served(tmp_path):
    """A temporary course root served by JupyterLab: the notebook copies go in notebooks/."""
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    for lab in ("labs_c", "labs_go"):  # read by notebooks through ../labs_*
        if (ROOT / lab).is_dir():
            (root / lab).symlink_to(ROOT / lab)
    state = tmp_path / "state"
    state.mkdir()
    with jupyterlab(root, state) as (base, token):
        yield root, base, token


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def _texts(cell, selector: str) -> list[str]:
    return [t.strip() for t in cell.locator(selector).all_inner_texts()]


def test_fixture_explorer_reacts_in_the_page(served, browser):
    """The machinery itself, on a stand-in explorer with a known answer."""
    root, base, token = served
    shutil.copy(FIXTURE, root / "notebooks" / FIXTURE.name)
    nb = nbformat.read(FIXTURE, as_version=4)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    cell, needed, _ = _open_and_run(page, base, token, f"notebooks/{FIXTURE.name}", nb, 3)
    assert needed == {0, 1, 3}  # the cell that raises is not needed ...
    prompts = [p.strip() for p in page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").all_inner_texts()]
    assert prompts == ["[1]:", "[2]:", "[ ]:", "[3]:"]  # ... and was not run in the page
    cell.locator(".os-windows").wait_for(timeout=60_000)
    assert _texts(cell, "[class^='os-']") == ["linux: 2 entries", "darwin: 2 entries", "windows: 1 entries"]
    box = cell.locator(".widget-text input")
    box.fill("/a:/b::/c;D:\\x;")
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('.os-linux') && "
                           "document.querySelector('.os-linux').innerText.includes('5 entries')", timeout=30_000)
    # /a:/b::/c;D:\x;  ->  unix: 5 fields (one empty);  windows: '/a:/b::/c', 'D:\x' (empty dropped)
    assert _texts(cell, "[class^='os-']") == ["linux: 5 entries", "darwin: 5 entries", "windows: 2 entries"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fixture_explorer.png"), full_page=True)


CHAPTER2 = ROOT / "notebooks" / "02_go_run_and_lookpath.ipynb"


def _widget_rows(cell) -> list[tuple[str, str, str, str]]:
    # The explorer's live table (inside the widget box), not the static one printed above it.
    rows = cell.locator(".widget-vbox .widget-html table tbody tr")
    return [tuple(t.strip() for t in rows.nth(i).locator("td").all_inner_texts()) for i in range(rows.count())]


def _model_rows(path: str) -> list[tuple[str, str, str, str]]:
    from gorun_kit.lookpath.compare import cross_os
    from gorun_kit.widgets import DEFAULT_FILES

    cross = cross_os("tool", path=path, files=DEFAULT_FILES.splitlines(), pathext=None, cwd="/users/ada")
    return [(r.goos, r.path, r.result.short(), r.result.source) for r in cross.rows]


def test_chapter2_lookpath_explorer_in_chromium(served, browser):
    """Chapter 2's LookPath explorer: change PATH in the page, all three OS answers follow."""
    root, base, token = served
    assert CHAPTER2.is_file(), f"{CHAPTER2} is missing: this test opens chapter 2"
    shutil.copy(CHAPTER2, root / "notebooks" / CHAPTER2.name)
    nb = nbformat.read(CHAPTER2, as_version=4)
    target = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "lookpath_explorer(" in c.source)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    cell, needed, _ = _open_and_run(page, base, token, f"notebooks/{CHAPTER2.name}", nb, target)
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-Notebook .jp-Cell')[{target}]"
        ".querySelectorAll('.widget-vbox .widget-html table tbody tr').length === 3", timeout=60_000)
    from gorun_kit.widgets import lookpath_explorer
    import inspect
    start_path = inspect.signature(lookpath_explorer).parameters["path"].default
    before = _widget_rows(cell)
    assert [r[0] for r in before] == ["linux", "darwin", "windows"]
    assert before == _model_rows(start_path)

    # A PATH that changes every OS's answer (asked of the model, so the test
    # follows the chapter's scenario if it changes).
    candidates = ["/users/ada", "/opt/bin", "/nowhere", ":/opt/bin", "/users/ada:/opt/bin", ""]
    new_path = next((p for p in candidates
                     if all(b[2] != e[2] for b, e in zip(before, _model_rows(p)))), None)
    assert new_path is not None, f"none of {candidates} changes all three answers of {before}"
    expected = _model_rows(new_path)
    path_box = cell.locator(".widget-text").filter(has=page.locator("label", has_text="PATH")) \
        .filter(has_not=page.locator("label", has_text="PATHEXT")).locator("input")
    assert path_box.count() == 1
    path_box.fill(new_path)
    path_box.press("Tab")
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-Notebook .jp-Cell')[{target}]"
        f".querySelector('.widget-vbox .widget-html table tbody tr td:nth-child(3)').innerText.trim() === "
        f"{json.dumps(expected[0][2])}", timeout=30_000)
    after = _widget_rows(cell)
    assert after == expected  # all three rows: the PATH each OS got and what LookPath returns
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chapter2_lookpath_explorer.png"), full_page=True)
