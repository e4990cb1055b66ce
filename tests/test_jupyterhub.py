"""The course on JupyterHub, one machine: deploy/jupyterhub/jupyterhub_config.py with a real hub,
the configurable-http-proxy that `make setup` installs, and three students with Unix accounts.

Each student's server is started through the hub's REST API. Through the proxy, as that
student's server, the test then runs chapter 00 and the student copy of the chapter 3 spawn
exercises in kernels of that server (REST + the kernel websocket), asks the server's Lab
terminal for `gorun-kit`, and stops the server. Chapter 00 must run without an error; in the
exercise, whose answers are stubs, every graded cell must stop at the stub's
NotImplementedError and every other cell must run. At the end nothing of the hub, the proxy or the
students is left running, and the accounts, the hub's state and the permissions the test
changed are gone or restored.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytestmark = [pytest.mark.live, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
HUB_DIR = REPO / "deploy" / "jupyterhub"
PROXY = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
CHAPTER = "gorun-course/notebooks/00_start_here.ipynb"
EXERCISE = "gorun-course/notebooks/exercises/03_spawn_exercises.ipynb"
STUDENTS = 3

sys.path.insert(0, str(HUB_DIR))
import classroom  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_of(uids: set[int]) -> list[tuple[int, int, str]]:
    """(pid, uid, command line) of every process whose real or effective uid is in ``uids``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        real, effective = (int(x) for x in next(
            line for line in status.splitlines() if line.startswith("Uid:")).split()[1:3])
        if real in uids or effective in uids:
            found.append((int(entry.name), real, cmdline.strip()))
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def hub_requirements():
    if os.geteuid() != 0:
        pytest.skip("the one-machine hub runs each student's server as that student: needs root")
    for tool in ("useradd", "userdel", "tar"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found")
    if not PROXY.exists():
        pytest.skip(f"{PROXY.relative_to(REPO)} not found: run `make setup` (needs npm)")
    pytest.importorskip("jupyterhub", reason="jupyterhub is not installed: run `make setup`")


@contextlib.contextmanager
def unix_accounts(count: int):
    """``count`` Unix accounts with homes, removed (with their homes) at the end."""
    names = [f"gorunhub{secrets.token_hex(3)}{i}" for i in range(count)]
    made = []
    try:
        for name in names:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name],
                           check=True, capture_output=True, timeout=60)
            made.append(name)
        yield {name: pwd.getpwnam(name) for name in names}
    finally:
        uids = {pwd.getpwnam(n).pw_uid for n in made}
        for pid, _, _ in processes_of(uids):  # only reached when a stop in the test failed
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for name in made:
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=60)
        for name in made:
            with pytest.raises(KeyError):
                pwd.getpwnam(name)


@pytest.fixture
def students(hub_requirements):
    with unix_accounts(STUDENTS) as accounts:
        yield accounts


@pytest.fixture
def course_permissions():
    """The modes the hub changes (instructor files hidden) and the ones this test opens (o+x on
    the directories above the venv's Python and the checkout, o+rx on what the students' servers
    read, as on a class server), put back at the end."""
    targets = [REPO / ".venv" / "bin" / "python", *(REPO / rel for rel in classroom.STUDENTS_READ)]
    closed = classroom.unreachable_for_students(targets)
    saved = {path: path.stat().st_mode & 0o7777
             for path in [*classroom.instructor_only_paths(REPO), *closed] if path.exists()}
    try:
        for path in closed:
            if path.is_dir():
                path.chmod(saved[path] | (0o005 if path in targets else 0o001))
            else:
                path.chmod(saved[path] | 0o004 | (0o001 if saved[path] & 0o100 else 0))
        assert classroom.unreachable_for_students(targets) == []
        yield
    finally:
        for path, mode in saved.items():
            path.chmod(mode)


class Hub:
    """HTTP and websocket calls to the hub and, through its proxy, to the students' servers."""

    def __init__(self, url: str, token: str):
        from tornado.httpclient import AsyncHTTPClient

        self.url, self.token = url, token
        self.http = AsyncHTTPClient()

    async def call(self, method: str, path: str, body=None, ok=(200, 201, 202, 204)):
        from tornado.httpclient import HTTPClientError

        try:
            response = await self.http.fetch(
                self.url + path, method=method, raise_error=True, request_timeout=120,
                headers={"Authorization": f"token {self.token}"},
                body=None if body is None and method != "POST" else json.dumps(body or {}),
                allow_nonstandard_methods=True)
        except HTTPClientError as err:
            if err.code in ok:
                return None
            detail = err.response.body.decode(errors="replace")[:500] if err.response else ""
            raise AssertionError(f"{method} {path}: HTTP {err.code} {detail}") from None
        assert response.code in ok, f"{method} {path}: HTTP {response.code}"
        return json.loads(response.body) if response.body else None

    async def wait_ready(self, user: str, timeout: float = 180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = await self.call("GET", f"/hub/api/users/{user}")
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return server
            await asyncio.sleep(0.5)
        raise AssertionError(f"{user}'s server did not become ready in {timeout:.0f} s")

    async def wait_stopped(self, user: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = await self.call("GET", f"/hub/api/users/{user}")
            if not model.get("servers"):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"{user}'s server did not stop in {timeout:.0f} s")

    async def websocket(self, path: str):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        request = HTTPRequest(self.url.replace("http", "ws", 1) + path,
                              headers={"Authorization": f"token {self.token}"})
        return await websocket_connect(request)


async def execute(ws, code: str, timeout: float = 300) -> dict:
    """Run ``code`` in the kernel behind ``ws``; its status, error name and printed text."""
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3",
                   "date": datetime.now(timezone.utc).isoformat()},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": False}}))
    result = {"status": None, "ename": None, "text": ""}
    idle = False
    deadline = time.monotonic() + timeout
    while result["status"] is None or not idle:
        left = deadline - time.monotonic()
        assert left > 0, f"no answer in {timeout:.0f} s to:\n{code[:200]}"
        raw = await asyncio.wait_for(ws.read_message(), left)
        assert raw is not None, "the kernel's websocket closed"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "execute_reply":
            result["status"] = content["status"]
            result["ename"] = content.get("ename")
        elif kind == "stream":
            result["text"] += content["text"]
        elif kind == "error":
            result["ename"] = content["ename"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return result


async def run_notebook(hub: Hub, user: str, path: str, extra: list[str] = ()) -> list[tuple[dict, dict]]:
    """Execute every code cell of ``path`` (read through the user's server) in a kernel started
    beside it, then the ``extra`` snippets; (cell, result) pairs. The kernel is shut down."""
    model = await hub.call("GET", f"/user/{user}/api/contents/{path}?content=1&type=notebook")
    cells = [c for c in model["content"]["cells"] if c["cell_type"] == "code"]
    session = await hub.call("POST", f"/user/{user}/api/sessions",
                             {"path": path, "type": "notebook", "name": "", "kernel": {"name": "python3"}})
    try:
        ws = await hub.websocket(f"/user/{user}/api/kernels/{session['kernel']['id']}/channels")
        try:
            results = [(cell, await execute(ws, cell["source"])) for cell in cells]
            results += [({"source": code, "metadata": {}}, await execute(ws, code)) for code in extra]
        finally:
            ws.close()
    finally:
        await hub.call("DELETE", f"/user/{user}/api/sessions/{session['id']}")
    return results


async def terminal_says(hub: Hub, user: str, command: str, timeout: float = 60) -> str:
    """What ``command`` prints in a new Lab terminal of the user's server (the terminal is closed)."""
    term = await hub.call("POST", f"/user/{user}/api/terminals")
    try:
        ws = await hub.websocket(f"/user/{user}/terminals/websocket/{term['name']}")
        try:
            marker = uuid.uuid4().hex[:12]
            # the marker is printed in two halves so that the echo of the typed line never matches
            await ws.write_message(json.dumps(["stdin", f"{command}; echo {marker[:6]}''{marker[6:]}\r"]))
            out, deadline = "", time.monotonic() + timeout
            while marker not in out:
                left = deadline - time.monotonic()
                assert left > 0, f"the terminal did not finish {command!r}; it showed:\n{out[-2000:]}"
                raw = await asyncio.wait_for(ws.read_message(), left)
                assert raw is not None, f"the terminal closed; it showed:\n{out[-2000:]}"
                kind, *rest = json.loads(raw)
                if kind == "stdout":
                    out += rest[0]
            return out
        finally:
            ws.close()
    finally:
        await hub.call("DELETE", f"/user/{user}/api/terminals/{term['name']}")


PROBE = """
import json, os, pwd, shutil
from gorun_kit.course.files import course_path
from gorun_kit.course.layout import course_root
try:
    open(course_root() / "notebooks" / "exercises" / "03_spawn_exercises.ipynb").close()
    instructor_copy = "readable"
except PermissionError:
    instructor_copy = "denied"
print(json.dumps({"user": pwd.getpwuid(os.getuid()).pw_name, "gorun_kit": shutil.which("gorun-kit"),
                  "spawn_latency": str(course_path("benchmarks/results/spawn_latency.json")),
                  "instructor_copy": instructor_copy}))
"""


async def one_student(hub: Hub, user: str) -> dict:
    await hub.wait_ready(user)
    chapter = await run_notebook(hub, user, CHAPTER)
    exercise = await run_notebook(hub, user, EXERCISE, extra=[PROBE])
    terminal = await terminal_says(hub, user, "command -v gorun-kit && gorun-kit --help | head -n 1")
    await hub.call("DELETE", f"/hub/api/users/{user}/server")
    await hub.wait_stopped(user)
    return {"chapter": chapter, "exercise": exercise, "terminal": terminal}


async def drive(url: str, token: str, students: dict) -> dict:
    hub = Hub(url, token)
    deadline = time.monotonic() + 60
    while True:
        try:
            await hub.call("GET", "/hub/api/")
            break
        except (OSError, AssertionError):
            assert time.monotonic() < deadline, "the hub did not answer in 60 s"
            await asyncio.sleep(0.5)
    for user in students:
        await hub.call("POST", f"/hub/api/users/{user}/server")
    results = await asyncio.gather(*(one_student(hub, user) for user in students))
    return dict(zip(students, results))


def check_student(user: str, entry: pwd.struct_passwd, result: dict) -> None:
    home = Path(entry.pw_dir)
    # the working copy: the release's exercises (no instructor copy) and the chapters, owned by the student
    copy = home / "gorun-course"
    release = REPO / "release" / "notebooks" / "exercises"
    assert sorted(p.name for p in (copy / "notebooks" / "exercises").glob("*.ipynb")) == \
        sorted(p.name for p in release.glob("*.ipynb"))
    assert (copy / "notebooks" / "exercises" / "03_spawn_exercises.ipynb").read_bytes() == \
        (release / "03_spawn_exercises.ipynb").read_bytes()
    assert {p.stat().st_uid for p in copy.rglob("*")} == {entry.pw_uid}

    failed = [(cell["source"][:80], res["ename"]) for cell, res in result["chapter"] if res["status"] != "ok"]
    assert not failed, f"{user}: chapter 00 cells failed: {failed}"
    assert len(result["chapter"]) >= 3

    *cells, (_, probe) = result["exercise"]
    graded = [res for cell, res in cells if cell["metadata"].get("nbgrader", {}).get("grade")]
    others = [(cell["source"][:80], res) for cell, res in cells if not cell["metadata"].get("nbgrader", {}).get("grade")]
    # the student copy's answers are stubs: every graded check runs and stops at the stub
    assert graded and all(res["ename"] == "NotImplementedError" for res in graded), \
        f"{user}: graded cells: {[(r['status'], r['ename']) for r in graded]}"
    assert all(res["ename"] in (None, "NotImplementedError") for _, res in others), \
        f"{user}: exercise cells failed: {[(s, r['ename']) for s, r in others if r['ename']]}"
    assert probe["status"] == "ok", probe
    facts = json.loads(probe["text"].strip().splitlines()[-1])
    assert facts["user"] == user
    assert facts["gorun_kit"] == str(REPO / ".venv" / "bin" / "gorun-kit")
    assert facts["spawn_latency"] == str(copy / "benchmarks" / "results" / "spawn_latency.json")
    assert facts["instructor_copy"] == "denied"
    assert str(REPO / ".venv" / "bin" / "gorun-kit") in result["terminal"], result["terminal"][-1000:]
    assert "usage: gorun-kit" in result["terminal"], result["terminal"][-1000:]


def test_a_class_of_three_on_one_machine(students, course_permissions):
    state = Path(tempfile.mkdtemp(prefix="gorun-hub-"))
    port, token = free_port(), secrets.token_hex(32)
    config = state / "test_config.py"
    config.write_text(f"""
c = get_config()
load_subconfig({str(HUB_DIR / 'jupyterhub_config.py')!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.PAMAuthenticator.allowed_users = {set(students)!r}
c.JupyterHub.services = [{{"name": "course-check", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-check", "services": ["course-check"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"]}}]
""")
    log = (state / "hub.log").open("w")
    hub = subprocess.Popen([str(REPO / ".venv" / "bin" / "jupyterhub"), "-f", str(config)], cwd=state,
                           env={**os.environ, "GORUN_HUB_STATE": str(state)},
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proxy_pid = None
    uids = {e.pw_uid for e in students.values()}
    try:
        try:
            results = asyncio.run(asyncio.wait_for(drive(f"http://127.0.0.1:{port}", token, students), 240))
        except BaseException:
            log.flush()
            print((state / "hub.log").read_text()[-6000:])
            raise
        proxy_pid = int((state / "proxy.pid").read_text())
        for user, entry in students.items():
            check_student(user, entry, results[user])
        # every server stopped through the hub: nothing of the students runs any more
        assert processes_of(uids) == []
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while pid_alive(proxy_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not pid_alive(proxy_pid), "the hub left its proxy running"
        with pytest.raises(ProcessLookupError):
            os.killpg(hub.pid, 0)
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait()
        if proxy_pid is None and (state / "proxy.pid").exists():
            proxy_pid = int((state / "proxy.pid").read_text())
        if proxy_pid and pid_alive(proxy_pid):
            os.kill(proxy_pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(state)


def test_the_working_copy_is_made_as_the_student(hub_requirements, course_permissions):
    """The hook the hub runs before a server starts: the copy belongs to the student, a change
    the student made survives the next start, and the copy is written with the student's rights
    only (a symlink to a directory of root's gets nothing written into it)."""
    gorun_kit = REPO / ".venv" / "bin" / "gorun-kit"
    with unix_accounts(1) as accounts:
        (user, entry), = accounts.items()
        copy = Path(entry.pw_dir) / classroom.WORKING_COPY
        classroom.make_working_copy(gorun_kit, user)
        exercise = copy / "notebooks" / "exercises" / "03_spawn_exercises.ipynb"
        chapter = copy / "notebooks" / "00_start_here.ipynb"
        assert exercise.is_file() and chapter.is_file()
        assert {p.stat().st_uid for p in copy.rglob("*")} == {entry.pw_uid}

        exercise.write_text(exercise.read_text().replace("# YOUR CODE HERE", "# my answer", 1))
        edited = exercise.read_bytes()
        chapter.unlink()
        classroom.make_working_copy(gorun_kit, user)
        assert exercise.read_bytes() == edited and chapter.is_file()

        roots = Path(tempfile.mkdtemp(prefix="gorun-hub-root-"))  # root's, open to read for all
        try:
            roots.chmod(0o755)
            labs = copy / "labs_c"
            shutil.rmtree(labs)
            labs.symlink_to(roots)
            os.lchown(labs, entry.pw_uid, entry.pw_gid)
            with contextlib.suppress(RuntimeError):  # the copy may fail there; what matters is below
                classroom.make_working_copy(gorun_kit, user)
            assert list(roots.iterdir()) == []
        finally:
            shutil.rmtree(roots)


def test_the_hub_refuses_a_course_students_cannot_read(hub_requirements, course_permissions):
    """A course directory the students' servers could not read stops the hub before it changes
    anything, with a message naming the directory."""
    release = REPO / "release"
    present = [rel for rel in classroom.INSTRUCTOR_ONLY if (REPO / rel).exists()]  # .pytest_cache may not be
    modes = {rel: (REPO / rel).stat().st_mode & 0o7777 for rel in present}
    opened = release.stat().st_mode & 0o7777
    state = Path(tempfile.mkdtemp(prefix="gorun-hub-"))
    try:
        release.chmod(0o700)
        hub = subprocess.run([str(REPO / ".venv" / "bin" / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")],
                             cwd=state, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "GORUN_HUB_STATE": str(state),
                                  "GORUN_HUB_URL": f"http://127.0.0.1:{free_port()}"})
    finally:
        release.chmod(opened)
        shutil.rmtree(state)
    assert hub.returncode != 0
    assert f"other users cannot read {release}" in hub.stderr + hub.stdout
    assert {rel: (REPO / rel).stat().st_mode & 0o7777 for rel in present} == modes
