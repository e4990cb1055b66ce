"""gorun_kit.nb.run: a program run as a cell shows it, with clear errors."""
from __future__ import annotations

import sys

import pytest

from gorun_kit import nb

py = sys.executable


def test_run_returns_what_the_program_printed():
    done = nb.run([py, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert (done.returncode, done.stdout, done.stderr) == (0, "out\n", "err\n")
    assert done.argv[0] == py


def test_run_env_replaces_the_environment(tmp_path):
    done = nb.run([py, "-c", "import os; print(sorted(k for k in os.environ if k.startswith('NB_')))"],
                  env={"NB_ONLY": "1"}, cwd=tmp_path)
    assert done.stdout.strip() == "['NB_ONLY']"


def test_a_failing_program_raises_with_its_stderr_unless_check_is_off():
    failing = [py, "-c", "import sys; print('it broke', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(RuntimeError, match="exited with status 3: it broke"):
        nb.run(failing)
    assert nb.run(failing, check=False).returncode == 3


def test_a_program_past_its_timeout_is_killed_and_named():
    with pytest.raises(RuntimeError, match="did not finish within 0.5 s"):
        nb.run([py, "-c", "import time; time.sleep(30)"], timeout=0.5)
    with pytest.raises(ValueError, match="argv is empty"):
        nb.run([])
