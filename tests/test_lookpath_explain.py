"""compare.explain (the search order the chapter draws) against the model it
pictures, the held-back current-directory hit on Windows, and the tables and
grid of cross-OS records (env shown, invalid scenarios give their reason)."""
from __future__ import annotations

import random

import pytest

from gorun_kit.lookpath import lookpath
from gorun_kit.lookpath.compare import (build_fs, cross_os, cross_os_many, explain, explain_cross,
                                        to_windows)
from gorun_kit.viz import lookpath as viz_lp

NO_CWD = {"NoDefaultCurrentDirectoryInExePath": "1"}


def _scenario(rng: random.Random):
    goos = rng.choice(["linux", "windows"])
    files = [f"{rng.choice(['/a', '/b', '/w', '/w/sub'])}/"
             f"{rng.choice(['tool', 'tool.exe', 'tool.bat', 'TOOL.EXE', 'tool.bat.exe'])}{rng.choice(['', ':644', '/'])}"
             for _ in range(rng.randint(0, 4))]
    path = ":".join(rng.choice(["/a", "/b", "", ".", "sub", "/w", "../w"]) for _ in range(rng.randint(0, 3)))
    env = rng.choice([{}, {"NoDefaultCurrentDirectoryInExePath": ""}, {"GODEBUG": "execerrdot=0"}])
    name = rng.choice(["tool", "tool.bat", "sub/tool"])
    win = goos == "windows"
    try:
        fs = build_fs(goos, files)
    except ValueError:  # two names that differ only in case, on a filesystem that ignores case
        return None
    cwd = to_windows("/w") if win else "/w"
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    if win:
        path, name = ";".join(to_windows(e) for e in path.split(":")) if path else path, to_windows(name)
    return goos, name, path, fs, cwd, env


def test_explain_returns_what_the_model_returns():
    rng = random.Random(20261130)
    checked = 0
    for _ in range(600):
        scenario = _scenario(rng)
        if scenario is None:
            continue
        goos, name, path, fs, cwd, env = scenario
        try:
            want = lookpath(name, goos=goos, path=path, fs=fs, cwd=cwd, env=env)
        except ValueError:
            continue
        returned = [s for s in explain(name, goos=goos, path=path, fs=fs, cwd=cwd, env=env) if s.returned]
        if want.error in (None, "ErrDot"):
            assert [s.candidate for s in returned] == [want.path], (goos, name, path, env)
        else:
            assert returned == [], (goos, name, path, env, want)
        checked += 1
    assert checked > 400


def test_windows_cwd_hit_is_held_back_and_the_same_file_on_path_wins():
    same = cross_os("tool", path="/opt/bin:/users/ada", files=["/users/ada/tool.exe"], cwd="/users/ada")
    assert same.result("windows").key() == ("C:\\users\\ada\\tool.exe", None)
    steps = explain_cross(same, "windows")
    assert steps[0].verdict.startswith("found; held back") and not steps[0].returned
    assert steps[-1].returned and "same file" in steps[-1].verdict
    other = cross_os("tool", path="/opt/bin", files=["/opt/bin/tool.exe", "/users/ada/tool.bat"], cwd="/users/ada")
    assert other.result("windows").key() == ("tool.bat", "ErrDot")
    steps = explain_cross(other, "windows")
    assert steps[0].returned and "another file" in steps[-1].verdict and not steps[-1].returned
    skipped = cross_os("tool", path="/opt/bin", files=["/opt/bin/tool.exe", "/users/ada/tool.bat"], cwd="/users/ada",
                       env=NO_CWD)
    assert skipped.env == (("NoDefaultCurrentDirectoryInExePath", "1"),)
    steps = explain_cross(skipped, "windows")
    assert "NoDefaultCurrentDirectoryInExePath" in steps[0].verdict and steps[-1].candidate == "C:\\opt\\bin\\tool.exe"


def test_explain_refuses_a_cwd_missing_from_the_filesystem():
    fs = build_fs("windows", ["/usr/bin/tool.cmd"])
    with pytest.raises(ValueError, match="not a directory of the scenario"):
        explain("tool", goos="windows", path="C:\\usr\\bin", cwd="C:\\home\\me", fs=fs)
    assert explain("tool", goos="windows", path="C:\\usr\\bin", cwd="C:\\usr\\bin", fs=fs)[-1].returned


def test_tables_show_the_environment_and_the_reason_of_an_invalid_scenario():
    c = cross_os("tool", path="/opt/bin:", files=["/users/ada/tool.exe"], cwd="/users/ada", env=NO_CWD)
    assert "NoDefaultCurrentDirectoryInExePath=1" in viz_lp.cross_os_html(c)
    assert "NoDefaultCurrentDirectoryInExePath=1" in viz_lp.scenarios_html({"x": c})
    bad = cross_os("tool", path="/a", files=["relative/tool"])
    assert all(r.result.error == "invalid scenario" for r in bad.rows)
    assert "write an absolute Unix-style path" in viz_lp.cross_os_html(bad)


def test_grid_colours_each_answer():
    crosses = cross_os_many({
        "found": dict(name="tool", path="/a", files=["/a/tool", "/a/tool.exe"]),
        "dot": dict(name="tool", path="/a:", files=["/w/tool", "/w/tool.exe"], cwd="/w"),
        "none": dict(name="tool", path="/a"),
    })
    fig = viz_lp.cross_os_grid(crosses, title="t")
    ax = fig.get_axes()[0]
    colours = [p.get_facecolor()[:3] for p in ax.patches]
    assert len(colours) == 9
    found, dot, miss = colours[0], colours[3], colours[6]
    assert found != dot != miss and colours[1] == found and colours[7] == miss
    assert [t.get_text() for t in ax.get_yticklabels()] == ["found", "dot", "none"]


def test_rows_html_is_the_generic_table_in_viz_tables():
    from gorun_kit.viz import lookpath as viz_lp, tables

    assert viz_lp.rows_html is tables.rows_html  # one helper, imported by both the go-run and LookPath tables
    out = tables.rows_html([("C:\\opt\\bin", 3), ("<a&b>", None)], ["path", "n"])
    assert out.startswith("<table><thead><tr><th>path</th><th>n</th></tr></thead><tbody>")
    assert "<td><code>C:&#92;opt&#92;bin</code></td><td><code>3</code></td>" in out
    assert "<code>&lt;a&amp;b&gt;</code>" in out and "<code>None</code>" in out and out.count("<tr>") == 3
