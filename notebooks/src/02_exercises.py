"""Generates the chapter 2 exercise notebooks (nbgrader markup) in
notebooks/exercises/. The committed notebooks hold the solution version,
executed; `gorun-kit course release` strips the solutions."""
from __future__ import annotations

from pathlib import Path

import nbformat as nbf

DIR = Path(__file__).resolve().parents[1] / "exercises"


def md(t):
    return nbf.v4.new_markdown_cell(t.strip())


def code(t, **nbgrader):
    c = nbf.v4.new_code_cell(t.strip())
    if nbgrader:
        c.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return c


def solution(grade_id, text):
    return code(text, grade=False, grade_id=grade_id, locked=False, solution=True)


def check(grade_id, points, text):
    return code(text, grade=True, grade_id=grade_id, locked=True, points=points, solution=False)


STAMP = code("from gorun_kit import nb\n_ = nb.stamp()")

# ------------------------------------------------------------------ unix
unix_cells = [
    md("""
# Chapter 2 exercises (1): predict LookPath on Linux

Write `predict_linux(name, path, files, cwd)` returning what Go's `exec.LookPath(name)` returns on
Linux, as a pair `(path, error)`: `error` is `None`, `"ErrDot"`, `"ErrNotFound"`, or for a name
checked directly `"ENOENT"`, `"EISDIR"` or `"EACCES"`. The process runs as **root**.

* `files` maps absolute paths to a mode (`0o755`, `0o644`, ...); a path ending in `/` is a directory.
  Parent directories exist implicitly and are searchable.
* Read `lp_unix.go` (chapter 2.2): `validateLookPath`, names with `/`, `filepath.SplitList`, empty
  element = `.`, `filepath.Join` cleans, root needs *some* x bit, a hit that is not absolute is `ErrDot`.
* The checks use random file names and random PATHs; they compare your answers with gorun_kit's
  model, which is itself checked against real Go, and a few with real Go directly.
"""),
    STAMP,
    solution("predict_linux", '''
import posixpath

def predict_linux(name, path, files, cwd="/"):
    """(path, error) as exec.LookPath returns it on Linux, running as root."""
    ### BEGIN SOLUTION
    def resolve(p):
        return posixpath.normpath(p if p.startswith("/") else posixpath.join(cwd, p))

    dirs = {"/"} | {resolve(f.rstrip("/")) for f in files if f.endswith("/")}
    for f in files:
        parts = resolve(f.rstrip("/")).split("/")
        dirs |= {"/".join(parts[:i]) or "/" for i in range(1, len(parts))}
    modes = {resolve(f): m for f, m in files.items() if not f.endswith("/")}

    def check(p):
        full = resolve(p)
        if full in dirs:
            return "EISDIR"
        if full not in modes:
            return "ENOENT"
        return None if modes[full] & 0o111 else "EACCES"

    def join(d, n):
        out = posixpath.normpath(posixpath.join(d, n))
        return out[2:] if out.startswith("./") else out

    if name in ("", ".", ".."):
        return "", "ErrNotFound"
    if "/" in name:
        err = check(name)
        return (name, None) if err is None else ("", err)
    for d in (path.split(":") if path else []):
        cand = join(d or ".", name)
        if check(cand) is None:
            return (cand, None) if cand.startswith("/") else (cand, "ErrDot")
    return "", "ErrNotFound"
    ### END SOLUTION
    raise NotImplementedError("write predict_linux")
'''),
    check("predict_linux_checks", 4, '''
from gorun_kit import lookpath as lp

def model(name, path, files, cwd="/"):
    fs = lp.default_fs("linux")
    for f, mode in files.items():
        fs = fs.dir(f.rstrip("/")) if f.endswith("/") else fs.file(f, mode)
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return lp.lookpath(name, goos="linux", path=path, fs=fs, cwd=cwd).key(), fs

# visible checks
files = {"/usr/bin/fmt": 0o755, "/users/ada/fmt": 0o755, "/opt/fmt": 0o644}
assert predict_linux("fmt", "/opt:/usr/bin", files) == ("/usr/bin/fmt", None)
assert predict_linux("fmt", "/opt::/usr/bin", files, cwd="/users/ada") == ("fmt", "ErrDot")
assert predict_linux("fmt", "", files, cwd="/users/ada") == ("", "ErrNotFound")
print("visible checks passed")

### BEGIN HIDDEN TESTS
import contextlib, random, string, sys
from gorun_kit.lookpath.real import session

rng = random.Random()
# A sample is also asked of real Go when this is Linux; the model was checked against Go either way.
oracle = session("linux") if sys.platform == "linux" else contextlib.nullcontext()
def scenario():
    names = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 8))) for _ in range(2)]
    dirs = ["/" + "".join(rng.choices(string.ascii_lowercase, k=4)) for _ in range(3)] + ["/users/ada"]
    files = {}
    for _ in range(rng.randint(1, 5)):
        d, n = rng.choice(dirs), rng.choice(names)
        p = f"{d}/{n}"
        if any(k.rstrip("/") == p for k in files):
            continue
        files[p + ("/" if rng.random() < 0.15 else "")] = rng.choice([0o755, 0o755, 0o644, 0o700, 0o010])
    elems = [rng.choice(dirs + ["", ".", "me"]) for _ in range(rng.randint(0, 4))]
    name = rng.choice(names + [f"./{names[0]}", f"{rng.choice(dirs)}/{names[1]}", ".."])
    return name, ":".join(elems), files, rng.choice(["/", "/users/ada", "/users"])

checked = 0
with oracle as go:
    for i in range(300):
        name, path, files, cwd = scenario()
        want, fs = model(name, path, files, cwd)
        got = predict_linux(name, path, files, cwd)
        assert tuple(got) == want, f"LookPath({name!r}) with PATH={path!r}, cwd={cwd!r}, files={files}: you said {got}, Go says {want}"
        if go is not None and i < 25:  # and a sample straight from real Go
            assert go.ask(name, path=path, fs=fs, cwd=cwd).key() == want
        checked += 1
print("hidden checks passed:", checked == 300)
### END HIDDEN TESTS
'''),
]

# ------------------------------------------------------------------ windows
win_cells = [
    md("""
# Chapter 2 exercises (2): predict LookPath on Windows

Write `predict_windows(name, path, files, pathext=None, cwd="C:\\\\")` returning `(path, error)` as
Go's `exec.LookPath(name)` does on Windows (`lp_windows.go`): `error` is `None`, `"ErrDot"` or
`"ErrNotFound"`.

* `files` is a list of absolute `C:\\\\...` file paths (the filesystem ignores case; there are no
  permission bits). Names given to you never contain `\\\\`, `/` or `:`.
* `pathext=None` means PATHEXT is unset. Remember: extensions come from PATHEXT (lowercased, `.` added),
  a name that already has an extension is tried as is first, the current directory is searched
  **first** (a hit there is `ErrDot`, unless a later PATH entry names the *same* file), and empty
  PATH elements are skipped.
* The checks use random names and compare with gorun_kit's model, and a sample with real Go under Wine.
"""),
    STAMP,
    solution("predict_windows", r'''
import ntpath

def predict_windows(name, path, files, pathext=None, cwd="C:\\"):
    """(path, error) as exec.LookPath returns it on Windows."""
    ### BEGIN SOLUTION
    existing = {ntpath.normpath(f).lower() for f in files}

    def exists(p):
        full = p if ntpath.isabs(p) else ntpath.join(cwd, p)
        return ntpath.normpath(full).lower() in existing

    exts = [e if e.startswith(".") else "." + e for e in (pathext or "").lower().split(";") if e] \
        or [".com", ".exe", ".bat", ".cmd"]

    def find(base):
        if "." in ntpath.basename(base) and exists(base):
            return base
        for e in exts:
            if exists(base + e):
                return base + e
        return None

    if name in ("", ".", ".."):
        return "", "ErrNotFound"
    dot = find(name)  # filepath.Join(".", name) is just name
    for d in (path.split(";") if path else []):
        if not d:
            continue
        f = find(ntpath.normpath(ntpath.join(d, name)))
        if f is None:
            continue
        if dot is not None:
            same = ntpath.normpath(ntpath.join(cwd, dot)).lower() == ntpath.normpath(f if ntpath.isabs(f) else ntpath.join(cwd, f)).lower()
            if not same:
                return dot, "ErrDot"
        if not ntpath.isabs(f):
            if dot is None:
                dot = f
            continue
        return f, None
    return (dot, "ErrDot") if dot is not None else ("", "ErrNotFound")
    ### END SOLUTION
    raise NotImplementedError("write predict_windows")
'''),
    check("predict_windows_checks", 4, r'''
from gorun_kit import lookpath as lp

def model(name, path, files, pathext=None, cwd="C:\\"):
    fs = lp.default_fs("windows")
    for f in files:
        fs = fs.file(f)
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return lp.lookpath(name, goos="windows", path=path, fs=fs, cwd=cwd, pathext=pathext).key(), fs

files = ["C:\\tools\\fmt.BAT", "C:\\w\\fmt.exe", "C:\\tools\\lint.ps1"]
assert predict_windows("fmt", "C:\\tools", files) == ("C:\\tools\\fmt.bat", None)
assert predict_windows("fmt", "C:\\tools", files, cwd="C:\\w") == ("fmt.exe", "ErrDot")
assert predict_windows("lint", "C:\\tools", files) == ("", "ErrNotFound")
assert predict_windows("lint", "C:\\tools", files, pathext=".EXE;ps1") == ("C:\\tools\\lint.ps1", None)
print("visible checks passed")

### BEGIN HIDDEN TESTS
import contextlib, random, string, sys
from gorun_kit.lookpath import wine
from gorun_kit.lookpath.real import session

rng = random.Random()
# A sample is also asked of real Go under Wine when Wine is here; the model was checked against it either way.
oracle = session("windows") if sys.platform == "linux" and wine.available()[0] else contextlib.nullcontext()
def scenario():
    names = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 7))) for _ in range(2)]
    dirs = ["C:\\" + "".join(rng.choices(string.ascii_lowercase, k=4)) for _ in range(3)] + ["C:\\w"]
    files, seen = [], set()
    for _ in range(rng.randint(1, 6)):
        f = rng.choice(dirs) + "\\" + rng.choice(names) + rng.choice([".exe", ".EXE", ".bat", ".cmd", ".ps1", "", ".com", ".bat.exe"])
        if f.lower() not in seen:
            seen.add(f.lower())
            files.append(f)
    elems = [rng.choice(dirs + ["", "w"]) for _ in range(rng.randint(0, 4))]
    name = rng.choice(names + [names[0] + ".bat", names[1] + ".EXE"])
    pathext = rng.choice([None, None, ".exe", ".PS1;.exe", "bat;;cmd"])
    return name, ";".join(elems), files, pathext, rng.choice(["C:\\", "C:\\w"])

checked = 0
with oracle as go:
    for i in range(300):
        name, path, files, pathext, cwd = scenario()
        want, fs = model(name, path, files, pathext, cwd)
        got = predict_windows(name, path, files, pathext, cwd)
        assert tuple(got) == want, f"LookPath({name!r}) PATH={path!r} PATHEXT={pathext!r} cwd={cwd!r} files={files}: you said {got}, Go says {want}"
        if go is not None and i < 25:
            assert go.ask(name, path=path, fs=fs, cwd=cwd, pathext=pathext).key() == want
        checked += 1
print("hidden checks passed:", checked == 300)
### END HIDDEN TESTS
'''),
]

DIR.mkdir(parents=True, exist_ok=True)
meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
nbf.write(nbf.v4.new_notebook(cells=unix_cells, metadata=meta), DIR / "02_lookpath_linux_exercises.ipynb")
nbf.write(nbf.v4.new_notebook(cells=win_cells, metadata=meta), DIR / "02_lookpath_windows_exercises.ipynb")
