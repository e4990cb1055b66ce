# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: all,-execution,-trusted,-ExecuteTime,-collapsed,-scrolled
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2 exercises (2): predict LookPath on Windows
#
# Write `predict_windows(name, path, files, pathext=None, cwd="C:\\")` returning `(path, error)` as
# Go's `exec.LookPath(name)` does on Windows (`lp_windows.go`): `error` is `None`, `"ErrDot"` or
# `"ErrNotFound"`.
#
# * `files` is a list of absolute `C:\\...` file paths (the filesystem ignores case; there are no
#   permission bits). Names given to you never contain `\\`, `/` or `:`.
# * `pathext=None` means PATHEXT is unset. Remember: extensions come from PATHEXT (lowercased, `.` added),
#   a name that already has an extension is tried as is first, the current directory is searched
#   **first** (a hit there is `ErrDot`, unless a later PATH entry names the *same* file), and empty
#   PATH elements are skipped.
# * The checks use random names and compare with gorun_kit's model, and a sample with real Go under Wine.
# * The names in the visible checks and the scenario of part 2 come from your variant (the line
#   `variant: ...` below): another student gets other ones, and other answers.

# %%
from gorun_kit import nb
from gorun_kit.course import variant
_ = nb.stamp()
_ = variant.show("02_lookpath_windows_exercises")

# %% nbgrader={"grade": false, "grade_id": "predict_windows", "locked": false, "schema_version": 3, "solution": true}
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


# %% nbgrader={"grade": true, "grade_id": "predict_windows_checks", "locked": true, "points": 3, "schema_version": 3, "solution": false}
from gorun_kit import lookpath as lp

def model(name, path, files, pathext=None, cwd="C:\\"):
    fs = lp.default_fs("windows")
    for f in files:
        fs = fs.file(f)
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return lp.lookpath(name, goos="windows", path=path, fs=fs, cwd=cwd, pathext=pathext).key(), fs

# visible checks, with your variant's names
r = variant.rng("02_lookpath_windows_exercises", "visible")
tool, lint, tools = variant.word(r, 3, 5), variant.word(r, 6, 8), "C:\\" + variant.word(r)
files = [f"{tools}\\{tool}.BAT", f"C:\\w\\{tool}.exe", f"{tools}\\{lint}.ps1"]
assert predict_windows(tool, tools, files) == (f"{tools}\\{tool}.bat", None)
assert predict_windows(tool, tools, files, cwd="C:\\w") == (f"{tool}.exe", "ErrDot")
assert predict_windows(lint, tools, files) == ("", "ErrNotFound")
assert predict_windows(lint, tools, files, pathext=".EXE;ps1") == (f"{tools}\\{lint}.ps1", None)
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


# %% [markdown]
# ## 2. Your scenario (1 point)
#
# The cell below prints one LookPath question drawn from your variant. Work out what
# `exec.LookPath` returns for it on Windows -- by reading `lp_windows.go`, then with your
# `predict_windows` -- and set `MY_LOOKPATH` to that `(path, error)` pair.

# %% nbgrader={"grade": false, "grade_id": "my_scenario", "locked": true, "schema_version": 3, "solution": false}
def my_scenario():
    """(name, path, files, pathext, cwd): the LookPath question of this notebook's variant."""
    r = variant.rng("02_lookpath_windows_exercises", "scenario")
    tool = variant.word(r)
    dirs = ["C:\\" + variant.word(r), "C:\\tools", "C:\\w"]
    holders = r.sample(dirs, r.randint(1, 3))
    files = [f"{d}\\{tool}" + r.choice([".exe", ".EXE", ".bat", ".cmd", ".com", ".ps1"]) for d in holders]
    elems = r.sample(dirs + ["", "w"], r.randint(1, 3))
    if not set(elems) & set(holders):
        elems.insert(r.randrange(len(elems) + 1), r.choice(holders))
    pathext = r.choice([None, None, None, ".exe;.bat", ".PS1;.EXE;.CMD"])
    name = r.choice([tool, tool, tool, files[0].rsplit("\\", 1)[1].lower()])
    return name, ";".join(elems), files, pathext, r.choice(["C:\\", "C:\\w"])

name, path, files, pathext, cwd = my_scenario()
print(f"LookPath({name!r}) with PATH={path!r}, PATHEXT={pathext!r} (None: unset), cwd={cwd!r}; files:")
for f in files:
    print(f"  {f}")

# %% nbgrader={"grade": false, "grade_id": "my_lookpath", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
MY_LOOKPATH = predict_windows(*my_scenario())
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "my_lookpath_check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert isinstance(MY_LOOKPATH, tuple) and len(MY_LOOKPATH) == 2, "MY_LOOKPATH is a pair (path, error)"
assert MY_LOOKPATH[1] in (None, "ErrDot", "ErrNotFound"), MY_LOOKPATH[1]
print("MY_LOOKPATH has the right form")
### BEGIN HIDDEN TESTS
assert MY_LOOKPATH == model(*my_scenario())[0], "not what LookPath returns for your variant's scenario"
### END HIDDEN TESTS

# %% [markdown]
# ## Check my work
#
# Runs the visible checks above against your current answers (nothing is graded here) and
# names the hidden checks that run only at grading.

# %%
from gorun_kit.course import selfcheck
selfcheck.check_my_work("02_lookpath_windows_exercises", globals())
