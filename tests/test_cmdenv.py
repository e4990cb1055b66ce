"""exec.Cmd environment rules (ledger 2.3-x), asserted on what a real child received."""
from __future__ import annotations

import os

import pytest

from gorun_kit.lookpath import experiments


@pytest.fixture(scope="module")
def report(repo):
    return experiments.cmdenv(labs=repo)


def test_nil_env_inherits_and_stays_nil(report):
    r = report["command_env_nil"]
    assert report["env_nil_after_command"] is True and r["env_nil"] is True
    assert r["selected"]["FC_PARENT"] == "inherited" and r["vars"] > 1


def test_literal_cmd_inherits_too(report):
    lit, cmd = report["literal_cmd"], report["command_env_nil"]
    assert lit["selected"].get("FC_PARENT") == "inherited"  # the seed says: empty environment
    assert lit["vars"] == cmd["vars"]


def test_empty_slice_means_empty_environment(report):
    assert report["env_empty_slice"]["child_ran"] and report["env_empty_slice"]["vars"] == 0


def test_duplicate_keys_last_wins(report):
    r = report["env_appended_duplicates"]
    assert r["selected"]["FC_X"] == "2" and r["count"]["FC_X"] == 1
    assert r["selected"]["FC_PARENT"] == "override" and r["count"]["FC_PARENT"] == 1


def test_dir_sets_pwd_only_when_env_is_nil(report):
    assert report["dir_env_nil"]["selected"]["PWD"] == os.path.realpath(os.environ.get("TMPDIR", "/tmp"))
    r = report["dir_env_set"]
    assert r["vars"] == 1 and r["selected"] == {"FC_ONLY": "1"} and "PWD" not in r["selected"]


def test_nul_byte_fails_start_and_the_child_never_runs(report):
    r = report["env_nul"]
    assert not r["child_ran"] and "contains NUL" in r["err"]


def test_path_is_resolved_in_command_not_start(report):
    after = report["path_changed_after_command"]
    assert after["output"] == "from-a" and after["path"].endswith("/a/fctool")
    failed = report["path_fixed_after_failed_command"]
    assert failed["output"] == "" and report["failed_command_err_is_notfound"]
    before = report["path_changed_before_command"]
    assert before["output"] == "from-b" and before["err"] == ""
