"""gorun_kit.binary sections and runtime parts, and chapter 1's pictures of them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gorun_kit import binary
from gorun_kit.build import build_go

REPO = Path(__file__).resolve().parents[1]
live = pytest.mark.skipif(sys.platform != "linux", reason="reads Linux ELF binaries built here")


def test_section_groups():
    assert binary.section_group(".text") == "machine code"
    assert binary.section_group(".gopclntab").startswith("Go's function table")
    assert binary.section_group(".debug_info") == binary.section_group(".zdebug_line") == "DWARF debug info"
    assert binary.section_group(".symtab") == binary.section_group(".strtab") == "ELF symbol table"
    assert binary.section_group(".bss").startswith("zero-filled")
    assert binary.section_group(".note.go.buildid") == "other"


@pytest.fixture(scope="module")
def hello():
    return build_go(REPO / "labs_go" / "ch1_hello").path


@pytest.fixture(scope="module")
def stripped():
    return build_go(REPO / "labs_go" / "ch1_hello", ldflags="-s -w").path


def _readelf_sizes(path: str) -> dict[str, int]:
    # a second instrument: binutils' readelf -S -W, "[Nr] Name Type Address Off Size ..."
    out = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        if "]" in line and line.strip().startswith("["):
            parts = line.split("]", 1)[1].split()
            if len(parts) >= 5 and parts[0].startswith("."):
                sizes[parts[0]] = int(parts[4], 16)
    return sizes


@live
def test_sections_agree_with_readelf_and_stripping_drops_symbols_and_dwarf(hello, stripped):
    full, bare = binary.sections(hello), binary.sections(stripped)
    assert {s.name: s.size for s in full} == _readelf_sizes(hello)
    groups = lambda secs: {s.group for s in secs}
    assert {"DWARF debug info", "ELF symbol table"} <= groups(full)
    assert not {"DWARF debug info", "ELF symbol table"} & groups(bare)
    size = lambda secs, name: next(s.size for s in secs if s.name == name)
    assert size(full, ".text") == size(bare, ".text") and size(full, ".gopclntab") == size(bare, ".gopclntab")
    bss = next(s for s in full if s.name == ".bss")
    assert not bss.in_file and bss.loaded
    assert not next(s for s in full if s.name == ".debug_info").loaded


@live
def test_runtime_parts_sum_to_runtime_bytes(hello):
    report = binary.read_binary(hello)
    parts = report.runtime_parts
    assert parts[0].package == "runtime"
    assert sum(p.text_bytes for p in parts) == report.runtime_bytes
    assert report.runtime_bytes > report.bytes_of("runtime")  # some runtime code lives in internal/runtime/* packages
    assert all(p.package == "runtime" or p.package.startswith("internal/runtime/") for p in parts)
    assert all(p.package.startswith(("internal/runtime/", "runtime/")) for p in parts[1:])


@live
def test_package_bars_draws_the_runtime_as_two_reds(hello):
    from gorun_kit.viz.binary import RUNTIME_SPLIT, package_bars

    report = binary.read_binary(hello)
    fig = package_bars({"hello": report}, top=3)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["runtime", RUNTIME_SPLIT] and labels[-1] == "other"
    # the first two segments of the bar are the runtime: their widths add up to runtime_bytes
    widths = [p.get_width() for p in fig.axes[0].patches][:2]
    assert sum(widths) == pytest.approx(report.runtime_bytes / 1024)


@live
def test_section_bars_hatches_what_is_not_loaded(hello, stripped):
    from gorun_kit.viz.binary import section_bars

    fig = section_bars({"go build": binary.sections(hello), "-s -w": binary.sections(stripped)})
    ax = fig.axes[0]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert hatched and all(p.get_y() < 0.5 for p in hatched)  # only the first (unstripped) bar has them
    labels = [t.get_text().strip() for t in ax.texts]
    full_mib = sum(s.size for s in binary.sections(hello) if s.in_file) / 2**20
    assert labels[0] == f"{full_mib:.2f} MiB in sections"
    with pytest.raises(ValueError, match="at least one"):
        section_bars({})
