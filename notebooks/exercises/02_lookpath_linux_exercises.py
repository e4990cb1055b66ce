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
# # Chapter 2 exercises (1): predict LookPath on Linux
#
# Write `predict_linux(name, path, files, cwd)` returning what Go's `exec.LookPath(name)` returns on
# Linux, as a pair `(path, error)`: `error` is `None`, `"ErrDot"`, `"ErrNotFound"`, or for a name
# checked directly `"ENOENT"`, `"EISDIR"` or `"EACCES"`. The process runs as **root**.
#
# * `files` maps absolute paths to a mode (`0o755`, `0o644`, ...); a path ending in `/` is a directory.
#   Parent directories exist implicitly and are searchable.
# * Read `lp_unix.go` (chapter 2.2): `validateLookPath`, names with `/`, `filepath.SplitList`, empty
#   element = `.`, `filepath.Join` cleans, root needs *some* x bit, a hit that is not absolute is `ErrDot`.
# * The checks use random file names and random PATHs; they compare your answers with gorun_kit's
#   model, which is itself checked against real Go, and a few with real Go directly.
# * The names in the visible checks and the scenario of part 2 come from your variant (the line
#   `variant: ...` below): another student gets other ones, and other answers.

# %%
from gorun_kit import nb
from gorun_kit.course import variant
_ = nb.stamp()
_ = variant.show("02_lookpath_linux_exercises")

# %% nbgrader={"grade": false, "grade_id": "predict_linux", "locked": false, "schema_version": 3, "solution": true}
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


# %% nbgrader={"grade": true, "grade_id": "predict_linux_checks", "locked": true, "points": 3, "schema_version": 3, "solution": false}
from gorun_kit import lookpath as lp

def model(name, path, files, cwd="/"):
    fs = lp.default_fs("linux")
    for f, mode in files.items():
        fs = fs.dir(f.rstrip("/")) if f.endswith("/") else fs.file(f, mode)
    if not fs.exists_dir(cwd):
        fs = fs.dir(cwd)
    return lp.lookpath(name, goos="linux", path=path, fs=fs, cwd=cwd).key(), fs

# visible checks, with your variant's names
r = variant.rng("02_lookpath_linux_exercises", "visible")
tool, home = variant.word(r), "/users/" + variant.word(r)
files = {f"/usr/bin/{tool}": 0o755, f"{home}/{tool}": 0o755, f"/opt/{tool}": 0o644}
assert predict_linux(tool, "/opt:/usr/bin", files) == (f"/usr/bin/{tool}", None)
assert predict_linux(tool, "/opt::/usr/bin", files, cwd=home) == (tool, "ErrDot")
assert predict_linux(tool, "", files, cwd=home) == ("", "ErrNotFound")
print("visible checks passed")

### BEGIN HIDDEN TESTS
import contextlib, os, random, string, sys
from gorun_kit import procfs
from gorun_kit.lookpath.real import session

rng = random.Random()
# A sample is also asked of real Go on Linux when this process has root's power over file modes
# (CAP_DAC_OVERRIDE), the exercise's premise: a sandbox's uid 0 without it reads x bits as
# anyone else does. The model was checked against Go either way.
as_root = sys.platform == "linux" and int(procfs.status(os.getpid()).get("CapEff", "0"), 16) & (1 << 1)
oracle = session("linux") if as_root else contextlib.nullcontext()
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


# %% [markdown]
# ## 2. Your scenario (1 point)
#
# The cell below prints one LookPath question drawn from your variant. Work out what
# `exec.LookPath` returns for it -- by reading `lp_unix.go`, then with your `predict_linux` --
# and set `MY_LOOKPATH` to that `(path, error)` pair.

# %% nbgrader={"grade": false, "grade_id": "my_scenario", "locked": true, "schema_version": 3, "solution": false}
def my_scenario():
    """(name, path, files, cwd): the LookPath question of this notebook's variant."""
    r = variant.rng("02_lookpath_linux_exercises", "scenario")
    tool, home = variant.word(r), "/users/" + variant.word(r)
    dirs = ["/opt/" + variant.word(r), "/usr/local/bin", home + "/bin", home]
    files, holders = {}, r.sample(dirs, r.randint(1, 3))
    for d in holders:
        kind = r.choice(["dir", 0o755, 0o755, 0o755, 0o644, 0o700])
        files[f"{d}/{tool}/" if kind == "dir" else f"{d}/{tool}"] = 0o755 if kind == "dir" else kind
    elems = r.sample(dirs + ["", ".", "bin"], r.randint(2, 4))
    if not set(elems) & set(holders):
        elems.insert(r.randrange(len(elems) + 1), r.choice(holders))
    return r.choice([tool] * 5 + ["./" + tool]), ":".join(elems), files, r.choice([home, home, "/"])

name, path, files, cwd = my_scenario()
print(f"LookPath({name!r}) with PATH={path!r}, cwd={cwd!r}, running as root; files:")
for f, mode in files.items():
    print(f"  {f}" if f.endswith("/") else f"  {f}  mode {mode:#o}")

# %% nbgrader={"grade": false, "grade_id": "my_lookpath", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
MY_LOOKPATH = predict_linux(*my_scenario())
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "my_lookpath_check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert isinstance(MY_LOOKPATH, tuple) and len(MY_LOOKPATH) == 2, "MY_LOOKPATH is a pair (path, error)"
assert MY_LOOKPATH[1] in (None, "ErrDot", "ErrNotFound", "ENOENT", "EISDIR", "EACCES"), MY_LOOKPATH[1]
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
selfcheck.check_my_work("02_lookpath_linux_exercises", globals())
