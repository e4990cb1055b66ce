"""One clone-flag table: gorun_kit.trace.flags, the production tracer's table
in tracer.c, and the kernel's <linux/sched.h> name the same bits the same way."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from gorun_kit import build
from gorun_kit.trace import tracer_source
from gorun_kit.trace.flags import CLONE_FLAGS, flag_names, flags_value


def tracer_table() -> list[tuple[str, int | None]]:
    """tracer.c's clone_flags[] entries in order: (name, value written in the
    source, or None when the entry takes the value from the header)."""
    text = tracer_source().read_text()
    m = re.search(r"clone_flags\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    assert m, "tracer.c has no clone_flags[] table"
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    entries = []
    for e in re.finditer(r'\{\s*(0x[0-9a-fA-F]+)ULL\s*,\s*"(CLONE_\w+)"\s*\}|FLAG\((CLONE_\w+)\)', body):
        entries.append((e[2], int(e[1], 16)) if e[2] else (e[3], None))
    assert entries, "no entry of tracer.c's clone_flags[] could be read"
    return entries


def test_tracer_table_has_the_python_names_in_order():
    table = tracer_table()
    assert [n for n, _ in table] == list(CLONE_FLAGS)
    for name, value in table:
        if value is not None:
            assert value == CLONE_FLAGS[name], name


def test_tracer_uses_named_flags_not_bare_numbers():
    text = re.sub(r"/\*.*?\*/", "", tracer_source().read_text(), flags=re.S)
    for bare in ("0x4000", "0x10000", "0x100 ", "0x100)"):
        assert bare not in text, f"tracer.c uses the clone flag {bare.strip(' )')} as a bare number"


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_python_values_are_the_kernels(tmp_path):
    # print each flag's value as the kernel header defines it
    lines = "".join(f'\tprintf("%s %llx\\n", "{n}", (unsigned long long){n});\n' for n in CLONE_FLAGS)
    src = tmp_path / "flags.c"
    src.write_text(f"#include <stdio.h>\n#include <linux/sched.h>\nint main(void)\n{{\n{lines}\treturn 0;\n}}\n")
    exe = build.build_c([src], name="clone_flag_values").path
    out = subprocess.run([exe], capture_output=True, text=True, check=True, timeout=30).stdout
    header = {n: int(v, 16) for n, v in (line.split() for line in out.splitlines())}
    assert header == CLONE_FLAGS


def test_flag_names_and_value_round_trip():
    for name, bit in CLONE_FLAGS.items():
        if bit > 0xff:
            assert flag_names(bit) == (name,) and flags_value(name) == bit
    assert flag_names(0x80, clone3=True) == ("CLONE_NEWTIME",)
    assert flag_names(0x80) == ()  # for clone() the low byte is the exit signal
    assert flag_names(0x4111, exit_signal=True) == ("CLONE_VM", "CLONE_VFORK", "SIGCHLD")
    assert flags_value("CLONE_VM|CLONE_VFORK|SIGCHLD") == 0x4111
    with pytest.raises(ValueError, match="CLONE_BOGUS"):
        flags_value("CLONE_VM|CLONE_BOGUS")
