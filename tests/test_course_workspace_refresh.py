"""A student's working copy (gorun_kit.course.workspace) made from a small course tree in
tmp_path: what it gets, how a refresh treats each file, the places it refuses, and the
command that starts JupyterLab."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from gorun_kit.course import workspace
from gorun_kit.course.variant import STAMP_FILE, stamp_data


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _course(root: Path) -> Path:
    """A course tree with a student release, two chapters and files a copy must not get."""
    release = root / "release"
    _write(release / "README.md", "# Student release (generated)\n")
    _write(release / "notebooks" / "exercises" / "01_e.ipynb", "exercise one\n")
    _write(release / "labs_c" / "lab" / "tracer.c", "/* TODO */\n")
    _write(release / "labs_c" / "lab" / "build" / "tracer.o", "object\n")
    _write(release / "labs_c" / ".git" / "x", "git\n")
    _write(release / "labs_c" / "__pycache__" / "x.pyc", "pyc\n")
    _write(release / "labs_c" / "README.md", "a lab's own README is handed out\n")
    _write(root / "notebooks" / "00_start_here.ipynb", "start\n")
    _write(root / "notebooks" / "01_ch.ipynb", "chapter\n")
    _write(root / "notebooks" / "exercises" / "01_e.ipynb", "the instructor's exercise\n")
    (root / "labs_go").mkdir()
    return root


WANT = {"notebooks/exercises/01_e.ipynb", "labs_c/lab/tracer.c", "labs_c/README.md",
        "notebooks/00_start_here.ipynb", "notebooks/01_ch.ipynb", "README.md"}


def test_the_handout_is_the_release_the_chapters_and_the_copys_readme(tmp_path):
    src = _course(tmp_path / "course")
    files = workspace.handout(src)
    assert set(files) == WANT
    assert files["notebooks/exercises/01_e.ipynb"] == b"exercise one\n"
    assert files["notebooks/01_ch.ipynb"] == b"chapter\n"
    assert files["README.md"].startswith(b"# Your working copy of the Go runtime course\n")
    assert list(files)[-1] == "README.md"
    with_id = workspace.handout(src, "alice")
    assert set(with_id) == WANT | {STAMP_FILE} and with_id[STAMP_FILE] == stamp_data("alice").encode()
    with pytest.raises(ValueError):
        workspace.handout(src, "../bob")
    assert workspace.handout(str(src)) == files


def test_a_tree_without_a_release_says_how_to_make_one(tmp_path):
    src = tmp_path / "course"
    _write(src / "release" / "notebooks" / "x.ipynb", "{}")  # no exercises directory
    with pytest.raises(FileNotFoundError) as info:
        workspace.handout(src)
    assert str(info.value) == (f"{src} has no student release ({src / 'release'}/notebooks/exercises is missing); "
                               f"make it with: gorun-kit course release {src / 'release'}")


def _manifest(copy: Path) -> dict:
    return json.loads((copy / workspace.MANIFEST).read_text())


def test_a_new_copy_gets_every_file_and_a_record_of_them(tmp_path):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    result = workspace.make_workspace(copy, source=src)
    assert result.directory == str(copy.resolve())
    assert sorted(result.added) == sorted(WANT) and result.added[-1] == "README.md"
    assert (result.updated, result.kept, result.edited, result.unchanged) == ((), (), 0, 0)
    for rel, data in workspace.handout(src).items():
        assert (copy / rel).read_bytes() == data
        assert (copy / rel).stat().st_mode & 0o777 == 0o644
    record = _manifest(copy)
    assert record["format"] == 1 and record["source"] == str(src.resolve())
    assert list(record["files"]) == sorted(WANT)
    import hashlib
    assert record["files"]["README.md"] == hashlib.sha256((copy / "README.md").read_bytes()).hexdigest()
    assert (copy / workspace.MANIFEST).read_text().startswith('{\n "format": 1,\n')
    assert (copy / workspace.MANIFEST).read_text().endswith("}\n")
    assert workspace.is_workspace(copy) and workspace.is_workspace(str(copy))
    assert not any(p.name.endswith(".part") for p in copy.rglob("*"))
    assert result.render() == (f"working copy {copy.resolve()}: 6 added, 0 updated, 0 changed by you and "
                               "left as they are, 0 already current")


def test_a_refresh_updates_keeps_and_restores_each_file_by_what_happened_to_it(tmp_path):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    workspace.make_workspace(copy, source=src)
    release = src / "release"
    tracer = "labs_c/lab/tracer.c"
    exercise = "notebooks/exercises/01_e.ipynb"
    # the student edits the tracer, the lab README and the copy's README, deletes a chapter
    _write(copy / tracer, "/* mine */\n")
    _write(copy / "labs_c/README.md", "my notes\n")
    _write(copy / "README.md", "my own readme\n")
    (copy / "notebooks/01_ch.ipynb").unlink()
    # the instructor changes the exercise, the tracer and adds a file
    _write(release / exercise, "exercise one, fixed\n")
    _write(release / tracer, "/* TODO, clearer */\n")
    _write(release / "labs_c/lab/new.h", "new\n")
    os.chmod(copy / exercise, 0o600)
    before = _manifest(copy)["files"]

    result = workspace.make_workspace(copy, source=src)
    assert sorted(result.added) == ["labs_c/lab/new.h", "notebooks/01_ch.ipynb"]
    assert result.updated == (exercise,)
    assert result.kept == (tracer,)
    assert (result.edited, result.unchanged) == (2, 1)  # the two READMEs; the start notebook
    assert (copy / exercise).read_text() == "exercise one, fixed\n"
    assert (copy / exercise).stat().st_mode & 0o777 == 0o600  # a rewritten file keeps its mode
    assert (copy / tracer).read_text() == "/* mine */\n"
    assert (copy / "labs_c/README.md").read_text() == "my notes\n"
    assert (copy / "notebooks/01_ch.ipynb").read_text() == "chapter\n"
    after = _manifest(copy)["files"]
    assert after[tracer] == before[tracer]  # still the version the student changed
    assert after["labs_c/README.md"] == before["labs_c/README.md"]
    import hashlib
    handed = workspace.handout(src)
    for rel in ("notebooks/00_start_here.ipynb", exercise, "labs_c/lab/new.h", "notebooks/01_ch.ipynb",
                "README.md"):
        assert after[rel] == hashlib.sha256(handed[rel]).hexdigest(), rel
    text = result.render()
    assert text.splitlines() == [
        f"working copy {copy.resolve()}: 2 added, 1 updated, 3 changed by you and left as they are, "
        "1 already current",
        f"  a newer version exists of your changed file {tracer}",
        "  to take the newer version of such a file, move yours aside and run this again"]

    # the student's tracer stays theirs on every later refresh, and the newer version is named again
    again = workspace.make_workspace(copy, source=src)
    assert again.kept == (tracer,) and again.added == again.updated == () and again.edited == 2
    # once the student takes the new version, it is current
    _write(copy / tracer, (release / tracer).read_text())
    third = workspace.make_workspace(copy, source=src)
    assert third.kept == () and third.unchanged == len(workspace.handout(src)) - 2


def test_a_file_changed_by_the_student_to_the_new_handout_counts_as_current(tmp_path):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    workspace.make_workspace(copy, source=src)
    _write(src / "release/labs_c/lab/tracer.c", "new\n")
    _write(copy / "labs_c/lab/tracer.c", "new\n")
    result = workspace.make_workspace(copy, source=src)
    assert result.kept == result.updated == () and result.unchanged == len(WANT)


def test_a_file_the_copy_already_had_without_a_record_is_kept_and_not_recorded(tmp_path, capsys):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    workspace.make_workspace(copy, source=src)
    (copy / workspace.MANIFEST).write_text("{not json")
    _write(copy / "labs_c/lab/tracer.c", "/* mine */\n")
    result = workspace.make_workspace(copy, source=src)
    assert result.kept == ("labs_c/lab/tracer.c",) and result.unchanged == len(WANT) - 1
    err = capsys.readouterr().err
    assert err.startswith(f"note: {copy.resolve() / workspace.MANIFEST} is unreadable (")
    assert err.rstrip().endswith("files that differ from the handout are kept as they are")
    assert "labs_c/lab/tracer.c" not in _manifest(copy)["files"]
    assert len(_manifest(copy)["files"]) == len(WANT) - 1


@pytest.mark.parametrize("record", ['{"files": []}', '{"other": {}}', '[]', '{"files": "x"}'])
def test_a_record_of_the_wrong_shape_is_treated_as_missing(tmp_path, capsys, record):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    workspace.make_workspace(copy, source=src)
    (copy / workspace.MANIFEST).write_text(record)
    _write(copy / "README.md", "mine\n")
    _write(src / "release/labs_c/lab/tracer.c", "newer\n")
    result = workspace.make_workspace(copy, source=src)
    # without the record, an untouched file that the handout changed is kept too: nothing is overwritten
    assert sorted(result.kept) == ["README.md", "labs_c/lab/tracer.c"] and result.updated == ()
    err = capsys.readouterr().err
    assert "is unreadable" in err
    if record in ('{"files": []}', '{"files": "x"}'):
        assert "is unreadable (files is not an object);" in err


def test_a_record_with_odd_values_is_read_as_text(tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / workspace.MANIFEST).write_text('{"files": {"a": 1, "b": "x"}}')
    assert workspace._read_manifest(copy) == {"a": "1", "b": "x"}


def test_a_link_or_directory_of_the_students_stands_where_a_file_would_go(tmp_path):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    workspace.make_workspace(copy, source=src)
    (copy / "notebooks/01_ch.ipynb").unlink()
    (copy / "notebooks/01_ch.ipynb").mkdir()
    (copy / "labs_c/README.md").unlink()
    os.symlink(tmp_path / "elsewhere", copy / "labs_c/README.md")
    result = workspace.make_workspace(copy, source=src)
    assert sorted(result.kept) == ["labs_c/README.md", "notebooks/01_ch.ipynb"]
    assert result.render().count("a newer version exists") == 2
    assert not (tmp_path / "elsewhere").exists() and (copy / "notebooks/01_ch.ipynb").is_dir()
    # not recorded as handed out: once the student's own thing is gone, the file comes back fresh
    assert "notebooks/01_ch.ipynb" not in _manifest(copy)["files"]
    (copy / "notebooks/01_ch.ipynb").rmdir()
    assert workspace.make_workspace(copy, source=src).added == ("notebooks/01_ch.ipynb",)


def test_a_student_id_stamps_the_copy(tmp_path):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    result = workspace.make_workspace(copy, source=src, student="alice")
    assert STAMP_FILE in result.added and (copy / STAMP_FILE).read_text() == stamp_data("alice")


def test_the_copy_may_be_an_empty_directory_and_home_relative(tmp_path, monkeypatch):
    src = _course(tmp_path / "course")
    (tmp_path / "home" / "empty").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = workspace.make_workspace("~/empty", source=src)
    assert result.directory == str((tmp_path / "home" / "empty").resolve()) and len(result.added) == len(WANT)


@pytest.mark.parametrize("where", ["course", "course/inside", "."])
def test_a_copy_overlapping_the_checkout_is_refused(tmp_path, where):
    src = _course(tmp_path / "course")
    target = tmp_path / where
    with pytest.raises(ValueError) as info:
        workspace.make_workspace(target, source=src)
    assert str(info.value) == (
        f"working copy {target.resolve()} overlaps the course checkout {src.resolve()}; choose a directory outside "
        f"it (e.g. {Path(workspace.DEFAULT_DIR).expanduser()}): inside it, an exercise could find the instructor's "
        "solutions in place of a file missing from the copy")
    assert not (target / workspace.MANIFEST).exists()


def test_places_that_are_not_a_new_or_empty_directory_are_refused(tmp_path):
    src = _course(tmp_path / "course")
    def refused(target) -> str:
        with pytest.raises(ValueError) as info:
            workspace.make_workspace(target, source=src)
        return str(info.value)
    copy = (tmp_path / "nowhere" / "copy")
    assert refused(copy) == (f"working copy {copy}: the directory {copy.parent} does not exist; create it first, "
                             "or choose another place")
    _write(tmp_path / "file", "x")
    assert refused(tmp_path / "file") == (f"working copy {tmp_path / 'file'} exists and is not a directory; "
                                          "choose another path")
    _write(tmp_path / "full" / "thesis.tex", "mine")
    assert refused(tmp_path / "full") == (f"{tmp_path / 'full'} is not empty and is not a course working copy "
                                          "(it has no .gorun-course.json); choose a new or empty directory")
    for blank in ("", "  "):
        assert refused(blank) == f"working copy {blank!r} is not a directory name; give its path (default " \
                                 "~/gorun-course)"
    assert (tmp_path / "full" / "thesis.tex").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "file", "full"]


def test_a_copy_that_cannot_be_written_is_a_clear_error(tmp_path, monkeypatch):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(workspace, "_put", refuse)
    with pytest.raises(ValueError) as info:
        workspace.make_workspace(copy, source=src)
    assert str(info.value) == (f"cannot write the working copy {copy.resolve()}: Permission denied "
                               f"({copy.resolve() / workspace.MANIFEST}); choose a directory you can write to")
    assert info.value.__cause__ is None

    def full(path, data):
        raise OSError("disk full")
    monkeypatch.setattr(workspace, "_put", full)
    with pytest.raises(ValueError, match=r"cannot write the working copy .*: disk full; choose"):
        workspace.make_workspace(copy, source=src)


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = _write(tmp_path / "d" / "f.txt", "old\n")
    os.chmod(target, 0o640)
    real = os.replace

    def fail(a, b):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        workspace._put(target, b"new\n")
    monkeypatch.setattr(os, "replace", real)
    assert target.read_text() == "old\n" and sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]
    renamed = []
    monkeypatch.setattr(os, "replace", lambda a, b: (renamed.append((Path(a), Path(b))), real(a, b)))
    workspace._put(target, b"new\n")
    (part, dest), = renamed
    assert dest == target and part.parent == target.parent  # written beside it, under a hidden name
    assert part.name.startswith(".f.txt.") and part.name.endswith(".part")
    monkeypatch.setattr(os, "replace", real)
    assert target.read_text() == "new\n" and target.stat().st_mode & 0o777 == 0o640
    workspace._put(tmp_path / "e" / "deep" / "g.txt", b"g")
    assert (tmp_path / "e" / "deep" / "g.txt").stat().st_mode & 0o777 == 0o644


def test_a_copy_cut_short_is_completed_by_the_next_run(tmp_path, monkeypatch):
    src = _course(tmp_path / "course")
    copy = tmp_path / "copy"
    real = workspace._put
    calls = []

    def stop_after_two(path, data):
        calls.append(path)
        if len(calls) > 2:
            raise KeyboardInterrupt
        real(path, data)
    monkeypatch.setattr(workspace, "_put", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        workspace.make_workspace(copy, source=src)
    monkeypatch.setattr(workspace, "_put", real)
    assert calls[0] == copy.resolve() / workspace.MANIFEST and workspace.is_workspace(copy)
    assert _manifest(copy)["files"] == {}
    result = workspace.make_workspace(copy, source=src)
    assert len(result.added) == len(WANT) - 1 and result.unchanged == 1


# ---------------------------------------------------------------------------
# lab_command


def test_lab_command_opens_the_root_with_the_kit_first_on_path(tmp_path, monkeypatch):
    bin_dir = str(workspace.scripts_dir())
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", bin_dir, "", "/bin"]))
    monkeypatch.setenv("SHELL", "/bin/zsh-of-the-user")
    monkeypatch.setenv("GORUN_KIT_MARK", "kept")
    command = workspace.lab_command(tmp_path / "." / "root", extra=["--no-browser", "--port=0"])
    root = (tmp_path / "root").resolve()
    argv = list(command.argv)
    assert argv[:5] == [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}"]
    assert argv[5] == "--ServerApp.terminado_settings=shell_command=['/bin/zsh-of-the-user', '-i']"
    assert argv[6] == str(root / workspace.START_NOTEBOOK)
    rest = ["--allow-root"] if os.geteuid() == 0 else []
    assert argv[7:] == [*rest, "--no-browser", "--port=0"]
    assert command.env["PATH"] == os.pathsep.join([bin_dir, "/usr/bin", "/bin"])
    assert command.env["GORUN_KIT_MARK"] == "kept" and command.cwd == str(root)
    assert os.environ["PATH"] != command.env["PATH"]  # the caller's environment is not changed


def test_lab_command_without_a_notebook_or_a_shell_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("SHELL", raising=False)
    monkeypatch.delenv("PATH", raising=False)
    command = workspace.lab_command(str(tmp_path), None)
    assert not any(a.endswith(".ipynb") for a in command.argv)
    shell = command.argv[5]
    assert shell.startswith("--ServerApp.terminado_settings=shell_command=['") and shell.endswith("', '-i']")
    assert command.env["PATH"] == str(workspace.scripts_dir())
    monkeypatch.setenv("SHELL", "")
    monkeypatch.setenv("PATH", "")
    other = workspace.lab_command(tmp_path, "notebooks/x.ipynb")
    assert other.argv[5].endswith("', '-i']") and other.argv[6] == str(tmp_path.resolve() / "notebooks/x.ipynb")


def test_lab_command_falls_back_to_sh(tmp_path, monkeypatch):
    monkeypatch.delenv("SHELL", raising=False)
    monkeypatch.setattr(workspace.shutil, "which", lambda name: "/usr/bin/sh-found" if name == "sh" else None)
    assert workspace.lab_command(tmp_path).argv[5].endswith("['/usr/bin/sh-found', '-i']")
    monkeypatch.setattr(workspace.shutil, "which", lambda name: None)
    assert workspace.lab_command(tmp_path).argv[5].endswith("['/bin/sh', '-i']")
    monkeypatch.setattr(workspace.shutil, "which", lambda name: f"/opt/{name}")
    assert workspace.lab_command(tmp_path).argv[5].endswith("['/opt/bash', '-i']")


def test_lab_command_as_another_user_does_not_allow_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-root" not in workspace.lab_command(tmp_path).argv
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "--allow-root" in workspace.lab_command(tmp_path).argv


def test_scripts_dir_is_this_pythons():
    assert workspace.scripts_dir() == Path(sys.executable).parent or (workspace.scripts_dir() / "python").exists() \
        or workspace.scripts_dir().is_dir()


def test_the_default_source_is_the_checkout(tmp_path, monkeypatch):
    from gorun_kit.course import layout

    src = _course(tmp_path / "course")
    monkeypatch.setattr(layout, "course_root", lambda: src)
    assert workspace.handout() == workspace.handout(src)
    assert len(workspace.make_workspace(tmp_path / "copy").added) == len(WANT)
