# JupyterHub for a class on one Linux server: `make hub` (as root) starts it with this file.
#
# - Students are Unix accounts on this machine in the group gorun-students (instructors in
#   gorun-staff are hub admins) and log in with their Unix password (PAM).
# - The course is installed once for everybody: this checkout's .venv (make setup) runs the
#   hub and every student's server, so `gorun-kit`, Go and the C labs are the same for all.
# - Each student's server runs as that student (LocalProcessSpawner) in their home. Before it
#   starts, `gorun-kit course workspace` (run as the student) makes or refreshes the working
#   copy ~/gorun-course: the student release and the chapters; files the student changed are
#   never touched (classroom.py).
# - The instructor's exercise notebooks, the tests, the git history and every other file that
#   holds solution markers (the C lab's reference tracer.c) hold solutions and hidden tests: the
#   hub takes the students' read access to them away when it starts (classroom.py).
#
# Settings from the environment (defaults in brackets):
#   GORUN_HUB_URL       where the hub listens             [http://:8000]
#   GORUN_HUB_STATE     database, cookie secret, pid file [/var/lib/gorun-hub]
#   GORUN_HUB_STUDENTS  Unix group allowed to log in      [gorun-students]
#   GORUN_HUB_ADMINS    Unix group of hub admins          [gorun-staff]
# docs/jupyterhub.md walks through a class set-up; deploy/helm/ is the same course on Kubernetes.
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import classroom  # noqa: E402  (lives beside this file)
from gorun_kit.course.layout import course_root  # noqa: E402

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

COURSE = course_root()
# The hub runs from the course's venv; the students' servers use the same interpreter.
VENV_BIN = Path(sys.executable).parent
STATE = Path(os.environ.get("GORUN_HUB_STATE", "/var/lib/gorun-hub"))

# --- who may log in
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {os.environ.get("GORUN_HUB_STUDENTS", "gorun-students")}
c.PAMAuthenticator.admin_groups = {os.environ.get("GORUN_HUB_ADMINS", "gorun-staff")}

# --- where the hub listens and keeps its state
c.JupyterHub.bind_url = os.environ.get("GORUN_HUB_URL", "http://:8000")
STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
# The proxy `make setup` installed with npm beside this file, else one on PATH.
_proxy = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
if _proxy.exists():
    c.ConfigurableHTTPProxy.command = [str(_proxy)]
# When the hub stops, it stops the students' servers and its proxy with it.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- each student's server
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/{classroom.WORKING_COPY}/notebooks/00_start_here.ipynb"
c.Spawner.environment = {
    # `gorun-kit` and the venv's Python first, in notebooks and in the Lab terminal
    "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
    # singleuser/: the Lab terminal is a bash that keeps this PATH (a login shell would reset it
    # from /etc/profile), and nbgrader's instructor tools stay out of the students' Lab
    "JUPYTER_CONFIG_PATH": str(HERE / "singleuser"),
}
c.Spawner.pre_spawn_hook = classroom.working_copy_hook(VENV_BIN / "gorun-kit")
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# --- what students may read
_unreachable = classroom.unreachable_for_students(
    [VENV_BIN / "python", *(COURSE / rel for rel in classroom.STUDENTS_READ)])
if _unreachable:
    sys.exit("jupyterhub_config.py: the students' servers could not use the course installed at "
             f"{COURSE}: other users cannot read {', '.join(map(str, _unreachable))}. "
             "Install the course where everybody can read it (e.g. /opt/gorun-course) "
             "or give those paths o+rx.")
for _path in classroom.hide_instructor_files(COURSE):
    print(f"jupyterhub_config.py: {_path} is now readable by its owner only (it holds solutions)", file=sys.stderr)
