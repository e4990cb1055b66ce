"""The small live LookPath experiments of chapter 2: real SplitList and `which`."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from gorun_kit.lookpath import experiments, unix

REPO = Path(__file__).resolve().parents[1]
live = pytest.mark.skipif(sys.platform != "linux", reason="runs Linux programs")


@live
def test_split_list_is_real_go_and_agrees_with_the_port():
    paths = ["/bin:/usr/bin:", "", ":", "/bin::/usr/bin"]
    real = experiments.split_list(paths, goos="linux", labs=REPO)
    assert real[0] == ["/bin", "/usr/bin", ""] and real[1] == []
    assert real == [unix.split_list(p) for p in paths]
    with pytest.raises(ValueError, match="goos='plan9'"):
        experiments.split_list(paths, goos="plan9", labs=REPO)


@live
@pytest.mark.skipif(shutil.which("which") is None, reason="which (debianutils) is not installed")
def test_which_finds_the_program_in_an_empty_path_element():
    assert experiments.which("myprog", path="/bin:/usr/bin:") == "./myprog"
    assert experiments.which("myprog", path="/bin:/usr/bin") == ""
    with pytest.raises(ValueError, match="bare program name"):
        experiments.which("./myprog", path="/bin")
