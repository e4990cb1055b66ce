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
# # Chapter 2 — what `go run` really does, and how `exec.LookPath` finds a program
#
# Two questions, answered on the toolchain installed here. What happens between typing `go run hello.go`
# and the program's first line: which functions run, which tools, how long each takes, what the program
# receives and how `go run` exits? And when a Go program starts another one by name, where does
# `exec.LookPath` look on Linux, macOS and Windows, and what does it refuse?
#
# The seed text (quoted in Chinese with a translation, as a side note in each section) invents an API
# for `go run`, gets LookPath's executable check, `ErrDot` and the environment of a hand-built
# `exec.Cmd{}` wrong, and proposes two LookPath hooks that do not work; each section says what was
# measured instead. The chapter ends with a table of every claim it checked.
#
# Results are labelled **real** (asked of real Go: natively on Linux, a `GOOS=windows` build under
# Wine) or **modeled** (gorun_kit's Python port of `lp_unix.go`/`lp_windows.go`, which the property
# tests check against real Go on at least 500 random scenarios per OS). macOS is modeled only.

# %%
# %matplotlib inline
from gorun_kit import nb
_ = nb.stamp()
LIVE = nb.live("go", "cc")  # False off Linux or without the tools: live cells skip
WINE = LIVE and nb.live("wine64", "mingw-w64")  # the Windows runs; without Wine only they skip
from gorun_kit.course.layout import course_root
COURSE = course_root()  # the labs these cells build, wherever the kernel starts
from gorun_kit.viz.tables import rows_html  # every HTML table of the chapter

# %% [markdown]
# ## 2.1 What implements `go run`
#
# > 种子原文: "work.Run 是 go run 命令实际执行的核心入口 … `func Run(ctx context.Context, inv Invocation) error` … `b := newBuilder(ctx, &inv); return b.run()`"
# >
# > *Translation:* "`work.Run` is the core entry point of `go run`, in package `cmd/go/internal/work` … it takes an `Invocation`, calls `newBuilder`, then `b.run()`."
#
# Ask the installed GOROOT instead. The citations below are resolved now, so they follow the Go release.

# %% tags=["claim:2.1-1", "claim:2.1-2"]
if LIVE:
    from gorun_kit import gorun, goroot, paths

    eps = gorun.entry_points()
    for name, cit in eps.items():
        print(f"{name:28} {cit.file}:{cit.line}   {cit.text}")

    no_run = goroot.grep(r"^func Run\(", "cmd/go/internal/work")
    no_invocation = goroot.grep(r"\bInvocation\b", "cmd/go/internal/work") + goroot.grep(r"\bInvocation\b", "cmd/go/internal/run")
    print("func Run in cmd/go/internal/work:", len(no_run), "| 'Invocation' in work and run:", len(no_invocation))
    nb.confirm("2.1-1", not no_run and eps["run.runRun"].file.endswith("run/run.go"),
               "go run is run.runRun; package work has no Run function", measured=f"func Run: {len(no_run)} matches")
    nb.confirm("2.1-2", not no_invocation and "func (b *Builder) Do(" in eps["work.(*Builder).Do"].text,
               "no Invocation type; the execution loop is (*Builder).Do", measured=f"Invocation: {len(no_invocation)} matches",
               quiet=True)

# %% [markdown]
# Five functions, each printed with its file and line in this GOROOT. Search both packages for the seed's names:
# `func Run` and `Invocation` are found 0 times.
#
# ### The action graph
#
# `go build`/`go run` accept a hidden flag, `-debug-actiongraph=FILE`, that writes the graph `Do`
# executes. Count how often `go help build` mentions it, beside `-work`:

# %% tags=["claim:2.1-6"]
if LIVE:
    from gorun_kit.toolchain import run_go
    help_text = run_go(["help", "build"]).stdout
    mentions = {flag: help_text.count(flag) for flag in ("-debug-actiongraph", "-work")}
    print("mentions in go help build:", mentions)
    flag_line = goroot.grep(r'"debug-actiongraph"', "cmd/go/internal/work")
    print("registered at", flag_line[0].file + ":" + str(flag_line[0].line), flag_line[0].text)
    nb.confirm("2.1-6", mentions["-debug-actiongraph"] == 0 and mentions["-work"] > 0 and bool(flag_line),
               "-work is documented, -debug-actiongraph is registered but undocumented", measured=mentions)

# %%
if LIVE:
    from pathlib import Path
    HELLO = Path("../labs_go/hello/main.go")
    graph = gorun.action_graph(HELLO, fresh=True)
    print("actions:", len(graph.actions), graph.modes())
    print("spine:", " -> ".join(f"{a.mode}({a.package or 'root'})" for a in graph.chain()))
    print("standard-library packages built or checked:", len(graph.std_packages()))

# %%
if LIVE:
    from gorun_kit.viz import gorun as viz_gorun
    display(viz_gorun.action_graph(graph))

# %% [markdown]
# Two actions per standard-library package (`build check cache`, then `build`, which finds the
# archive in the build cache and runs no tool), one `build` that really compiles `main`, one `link`,
# and the root `go run` action whose actor is `buildRunProgram`.
#
# ### The phases, from `go run -x -work`
#
# > 种子原文: "| 解析参数 | inv.ParseArgs() | … | 编译包 | b.compilePackage() | … | 链接可执行文件 | b.link() | 调用 link 工具生成临时二进制 |"
# >
# > *Translation:* the stages are `inv.ParseArgs()`, `b.compilePackage()` and `b.link()`, which "produces a temporary binary".
#
# `gorun.run_twice` runs `go run -x -work` twice on a fresh copy of `hello` and splits each log into
# phases, timed by Go's own action graph of the same run. Durations vary from run to run; the shape does not.
# Look at the flags on the compile and link lines, and at which binary each run started:

# %%
if LIVE:
    first, second = gorun.run_twice(HELLO)
    for label, log in (("first go run", first), ("second go run", second)):
        print(f"{label}: phases {log.kinds()}")
        for p in log.phases:
            secs = f"{p.seconds * 1000:.1f} ms" if p.seconds is not None else "-"
            print(f"    {p.kind:9} {p.package:5} flags {list(p.flags)}  {secs}")
        print("    started:", paths.shorten(log.ran), "(from the build cache)" if log.ran_cached_binary else "(from $WORK)")
        print("    output:", log.output.strip())

# %% [markdown]
# The same two runs on a time axis, drawn from the action graphs' own timestamps. In the first run the
# compile of `main` and the link are solid bars (a tool ran; their lengths are this run's timings, the
# milliseconds printed above); in the second, compile and link are cache hits (hatched: no tool ran) and
# `go run` starts the binary the first run stored in the build cache.

# %%
if LIVE:
    display(viz_gorun.phase_timeline([("first go run", first), ("second go run", second)]))

# %% tags=["claim:2.1-4", "claim:2.1-5"]
if LIVE:
    main_compile = next(ph for ph in first.phase("compile") if ph.package == "main")
    link = first.phase("link")[0]
    nb.confirm("2.1-4", "-dwarf=false" in main_compile.flags and {"-s", "-w"} <= set(link.flags),
               "go run compiles main with -dwarf=false and links with -s -w (no DWARF, no symbol table)",
               measured=f"compile {list(main_compile.flags)}, link {list(link.flags)}")
    caches = gorun.caches_executable()  # None before Go 1.24: go run linked into $WORK only
    print("go run keeps its executable in the build cache:", f"{caches.file}:{caches.line}: {caches.text}" if caches
          else f"no ({eps['run.runRun'].go_version} predates Go 1.24: every go run links again into $WORK)")
    nb.confirm("2.1-5", gorun.second_run_matches_release(first, second, caches),  # and the source agrees with the release
               "the first run links into $WORK and copies the binary into the build cache; the second run only starts that cached binary"
               if caches else "before Go 1.24 go run keeps no executable: each run links into $WORK again and starts it there",
               measured=f"phases {first.kinds()} then {second.kinds()}", quiet=True)
    print("ParseArgs/compilePackage in cmd/go:", len(goroot.grep(r"func .*\b(ParseArgs|compilePackage)\(", "cmd/go/internal/work")))

# %% [markdown]
# ### What the program receives, and how `go run` exits
#
# `labs_go/gorun_args` prints its arguments and the first element of its PATH, and exits with status 3.
# Look at the arguments and at the directory go put first on the program's PATH:

# %% tags=["claim:2.1-3"]
if LIVE:
    import os
    from gorun_kit.toolchain import find_go
    args_log = gorun.command_log(Path("../labs_go/gorun_args/main.go"), args=("a", "b"))
    print("command:", args_log.shown)  # FILE: the kit's own -debug-actiongraph output, a private temp file
    print(args_log.output.splitlines()[0])
    path_first = args_log.output.split("PATH first: ")[1].strip()
    print("the program's PATH starts with:", paths.shorten(path_first))
    nb.confirm("2.1-3", 'args: ["a" "b"]' in args_log.output, "the arguments after the .go files go to the program",
               measured=args_log.output.splitlines()[0], quiet=True)

# %% [markdown]
# Does `go run` pass its program's exit status on? Start each program directly, with the same arguments,
# and set its status beside `go run`'s: `hello` from the runs above, which exits 0, and `gorun_args`,
# which exits 3. The executable started is the one `go run` kept in the build cache (Go 1.24 and later);
# on an older release, which keeps none, it is the kit's copy of the file `go run` linked into `$WORK`.
# The column "started from" says which.

# %%
if LIVE:
    from IPython.display import HTML, display
    statuses = {"hello": gorun.exit_status(first), "gorun_args": gorun.exit_status(args_log)}
    display(HTML(rows_html([(name, " ".join(s.args) or "-", s.started_from, s.child, s.go_said or "-", s.go_run)
                            for name, s in statuses.items()],
                           ["program", "arguments", "started from", "its exit status, run directly", "go printed",
                            "go run's exit status"])))

# %% [markdown]
# A program that exits 0 leaves `go run` at 0. Any other status is not passed on: go prints `exit status 3`
# and exits 1. The lines of `RunStdin` that decide it, and the status `base.Errorf` sets:

# %% tags=["claim:2.1-7"]
if LIVE:
    rs, errorf = eps["base.RunStdin"], nb.cite("Errorf", "cmd/go/internal/base")
    for cit, keys in ((rs, ("exec.Command(", "cmd.Env", "cmd.Run()", "Errorf(")), (errorf, ("SetExitStatus",))):
        for i, line in enumerate(goroot.func_source(cit, max_lines=30).splitlines()):
            if any(k in line for k in keys):
                print(f"{cit.file}:{cit.line + i}: {line.strip()}")
    codes = {name: (s.child, s.go_run) for name, s in statuses.items()}
    nb.confirm("2.1-7", codes == {"hello": (0, 0), "gorun_args": (3, 1)} and statuses["gorun_args"].go_said == "exit status 3"
               and os.path.samefile(path_first, os.path.join(find_go().goroot, "bin")),
               "go run starts the binary through base.RunStdin (os/exec, GOROOT/bin first on PATH); it exits 0 when the program does, else 1",
               measured="(program, go run): " + ", ".join(f"{k} {v}" for k, v in codes.items()))

# %% [markdown]
# ## 2.2 `exec.LookPath`
#
# > 种子原文: "executable()内部调用os.Stat并检查ModePerm & 0111(用户/组/其他任一可执行位)"
# >
# > *Translation:* "`executable()` calls `os.Stat` and checks `ModePerm & 0111` (any of the user/group/other execute bits)."
#
# Go's Unix LookPath (`lp_unix.go`, used by Linux **and** macOS) is below, resolved in this GOROOT:

# %%
if LIVE:
    # Go 1.26 moved the search into lookPath (lookpath.go keeps a LookPath wrapper);
    # before, LookPath in lp_unix.go did it itself.
    try:
        goroot.find_func("lookPath", "os/exec")  # the Linux one, Go 1.26 and later
        search = "lookPath"
    except goroot.SourceNotFound:
        search = "LookPath"
    for fn in ("findExecutable", search):
        c = goroot.find_func(fn, "os/exec")
        print(f"--- {c.file}:{c.line}")
        print(goroot.func_source(c, max_lines=45))

# %% [markdown]
# The check is `unix.Eaccess(file, X_OK)` — `faccessat2(..., AT_EACCESS)`, execute permission **for the
# effective user**. Where `faccessat2` is missing or forbidden (`ENOSYS`/`EPERM`: an old kernel, some
# seccomp sandboxes), `syscall.Faccessat` answers the same question itself: root may run a file with any
# x bit, anyone else needs the x bit of the owner, group or other class they fall in (the cell below
# prints those lines). The `m&0111` test in `findExecutable` is reached only if that fails too. So a file
# with mode `0710` owned by root:root has an execute bit, yet user 65534 cannot run it. Ask real Go as
# that user:

# %%
if LIVE:
    fa = goroot.find_func("Faccessat", "syscall")
    body = goroot.func_source(fa, max_lines=90).splitlines()
    print(f"--- {fa.file}:{fa.line}")
    for i, line in enumerate(body):
        if any(k in line for k in ("faccessat2(", "Geteuid()", "st.Mode&0111", "fmode = ")):
            print(f"{fa.line + i}: {line.strip()}")

# %%
if LIVE:
    import os
    from gorun_kit import lookpath as lp
    from gorun_kit.lookpath.real import session

    fs = lp.default_fs("linux").file("/b/only_root_group_x", mode=0o710, uid=0, gid=0)
    print("\n".join(fs.describe()))

# %% tags=["claim:2.2-3"]
if LIVE:
    if os.geteuid() != 0:
        print("skipped: running Go as uid 65534 needs root")
    else:
        with session("linux", uid=65534, gid=65534) as nobody, session("linux") as root:
            as_nobody = nobody.ask("only_root_group_x", path="/b", fs=fs, cwd="/")
            as_root = root.ask("only_root_group_x", path="/b", fs=fs, cwd="/")
        model = lp.lookpath("only_root_group_x", goos="linux", path="/b", fs=fs, uid=65534)
        print(f"uid 65534: real {as_nobody.short()!r}   modeled {model.short()!r}")
        print(f"uid 0:     real {as_root.short()!r}")
        nb.confirm("2.2-3", as_nobody.error == "ErrNotFound" and model.key() == as_nobody.key()
                   and as_root.error is None,
                   "Go checks execute permission for the effective uid (eaccess), not 'any x bit'",
                   measured=f"uid 65534: {as_nobody.short()}; uid 0: {as_root.short()}")

# %% [markdown]
# ### Names Go rejects, names it checks directly, and `ErrDot`
#
# The seed's snippet has no `validateLookPath`, no "a name with `/` is checked directly" rule, no
# `ErrDot`, and returns a bare `ErrNotFound` instead of an `*exec.Error`. Each row below is asked of
# real Go on Linux and of the model. Read the "real Go" column: what comes back for `""`, `.` and `..`,
# for `./myprog`, and for `myprog` when PATH ends in an empty element; the last column says whether the
# model gives the same answer.

# %%
if LIVE:
    from IPython.display import HTML, display

    fs = lp.default_fs("linux").file("/usr/bin/ls").dir("/w").file("/w/myprog")
    cases = [("", "/usr/bin", {}), (".", "/usr/bin", {}), ("..", "/usr/bin", {}),
             ("./myprog", "/usr/bin", {}), ("myprog", "/usr/bin", {}),
             ("myprog", "/usr/bin:", {}), ("myprog", "/usr/bin:", {"GODEBUG": "execerrdot=0"}),
             ("myprog", "", {})]

# %%
if LIVE:
    rows, results = [], {}
    with session("linux") as go:
        for name, path, env in cases:
            real = go.ask(name, path=path, fs=fs, cwd="/w", env=env)
            model = lp.lookpath(name, goos="linux", path=path, fs=fs, cwd="/w", env=env)
            results[(name, path, str(env))] = real
            rows.append((repr(name), repr(path), env.get("GODEBUG", ""), real.short(), real.message or "-",
                         "same" if model.key() == real.key() else f"differs: {model.short()}"))
    display(HTML(rows_html(rows, ["name", "PATH", "GODEBUG", "real Go (cwd /w)", "err.Error()", "model agrees"])))

# %% tags=["claim:2.2-1", "claim:2.2-2", "claim:2.2-4", "claim:2.2-5"]
if LIVE:
    r = lambda n, p, e={}: results[(n, p, str(e))]
    dot, dot_off = r("myprog", "/usr/bin:"), r("myprog", "/usr/bin:", {"GODEBUG": "execerrdot=0"})
    nb.confirm("2.2-4", all(r(n, "/usr/bin").error == "ErrNotFound" for n in ("", ".", ".."))
               and r("./myprog", "/usr/bin").key() == ("./myprog", None) and r("myprog", "/usr/bin").error == "ErrNotFound",
               '"", "." and ".." are ErrNotFound; a name with "/" is checked directly and returned as given',
               measured=f'"": {r("", "/usr/bin").short()}; ./myprog: {r("./myprog", "/usr/bin").short()}', quiet=True)
    nb.confirm("2.2-2", dot.path == "myprog", 'filepath.Join(".", "myprog") is "myprog" (cleaned), not "./myprog"',
               measured=dot.path, quiet=True)
    nb.confirm("2.2-1", r("myprog", "").error == "ErrNotFound" and lp.unix.split_list("") == [],
               "PATH is split with filepath.SplitList; an empty PATH is no entries at all, not '.'", measured=r("myprog", "").short(), quiet=True)
    nb.confirm("2.2-5", dot.key() == ("myprog", "ErrDot") and dot_off.key() == ("myprog", None),
               "an empty element is '.', and a hit there comes back with ErrDot (unless GODEBUG=execerrdot=0)",
               measured=f"{dot.short()}; with execerrdot=0: {dot_off.short()}")

# %% [markdown]
# ### The PATH-splitting table, checked live
#
# > 种子原文: "| `/bin:/usr/bin:` | `["/bin", "/usr/bin", ""]` | … | `C:\Go\bin;C:\tools` | `["C:\\Go\\bin", "C:\\tools"]` | Windows 下分号分割 |"
#
# The seed's two rows are right on their own OS. The table adds the rows it leaves out, each computed by
# real Go's `filepath.SplitList` (a tiny program built for Linux and for Windows, the latter run under
# Wine) beside the Python port. Compare the two columns on the same string: `:` splits only on Linux,
# `;` only on Windows, and an empty PATH gives no elements on either.

# %%
if LIVE and WINE:
    import json
    from gorun_kit.lookpath import experiments, unix as lp_unix, windows as lp_windows

    inputs = ["/bin:/usr/bin:", "", ":", "/bin::/usr/bin", "C:\\Go\\bin;C:\\tools", 'C:\\a;"C:\\b;c";;d']
    split_linux = experiments.split_list(inputs, goos="linux", labs=COURSE)
    split_windows = experiments.split_list(inputs, goos="windows", labs=COURSE)  # under Wine
    rows, agreeing = [], 0
    for s, lin, win in zip(inputs, split_linux, split_windows):
        agreeing += lin == lp_unix.split_list(s) and win == lp_windows.split_list(s)
        rows.append((repr(s), json.dumps(lin), json.dumps(win)))
    display(HTML(rows_html(rows, ["PATH string", "SplitList on linux (real)", "SplitList on windows (real, Wine)"])))
    agree = agreeing == len(inputs)
    print(f"strings on which the Python ports give both real answers: {agreeing} of {len(inputs)}")

# %% tags=["claim:2.2-6", "claim:2.2-7"]
if LIVE and WINE:
    nb.confirm("2.2-6", rows[0][1] == '["/bin", "/usr/bin", ""]' and rows[1][1] == "[]" and agree,
               "'/bin:/usr/bin:' ends in an empty element; an empty PATH splits into no elements",
               measured=f"{rows[0][1]}; '' -> {rows[1][1]}")
    nb.confirm("2.2-7", rows[4][2] == '["C:\\\\Go\\\\bin", "C:\\\\tools"]' and len(json.loads(rows[4][1])) == 3
               and json.loads(rows[5][2]) == ["C:\\a", "C:\\b;c", "", "d"],
               "';' splits on Windows only (quotes protect it and are removed); Linux splits the same string on ':'",
               measured=f"windows {rows[4][2]}, linux {rows[4][1]}", quiet=True)

# %% [markdown]
# ## 2.3 `exec.Cmd` and the environment
#
# > 种子原文: "手动构造 `&exec.Cmd{}`:需显式设置Env字段,否则为空环境" … "cmd.Env若未设置,默认值为nil,此时os/exec内部会自动设为os.Environ()"
# >
# > *Translation:* "a hand-built `&exec.Cmd{}` must set `Env`, otherwise the environment is empty" … "when `Env` is unset (nil), os/exec internally sets it to `os.Environ()`."
#
# `labs_go/cmdenv` starts itself as a child in each configuration and records what the child received.
# The parent runs with `FC_PARENT=inherited`. In the table, look at how much of the parent's environment
# each child got, and whether `FC_PARENT` reached it:

# %%
if LIVE:
    from gorun_kit.lookpath import experiments
    env = experiments.cmdenv(labs=COURSE)
    show = ["command_env_nil", "literal_cmd", "env_empty_slice", "env_appended_duplicates", "dir_env_nil", "dir_env_set", "env_nul"]
    base = env["command_env_nil"]["vars"]
    def described(n):  # counts depend on the machine, so describe them relative to the parent
        return {0: "empty", base: "all of the parent's", base + 1: "the parent's + 1"}.get(n, f"{n} variables")
    rows = [(k, described(env[k]["vars"]),
             json.dumps({kk: v for kk, v in sorted(env[k]["selected"].items()) if kk != "PWD" or k.startswith("dir")}),
             "nil" if env[k]["env_nil"] else "non-nil", env[k]["err"] or "-") for k in show]
    display(HTML(rows_html(rows, ["configuration", "child environment", "FC_* / PWD seen", "cmd.Env after Run", "error"])))

# %% tags=["claim:2.3-1", "claim:2.3-3"]
if LIVE:
    vars_nil = env["command_env_nil"]["vars"]
    print("variables beyond exec.Command's child: literal &exec.Cmd{}", env["literal_cmd"]["vars"] - vars_nil,
          "| append(os.Environ(), ...)", env["env_appended_duplicates"]["vars"] - vars_nil,
          "| variables in all with Env: []string{}:", env["env_empty_slice"]["vars"])
    nb.confirm("2.3-1", env["command_env_nil"]["selected"]["FC_PARENT"] == "inherited", "exec.Command inherits the parent environment",
               measured={k: v for k, v in env["command_env_nil"]["selected"].items() if k != "PWD"}, quiet=True)
    nb.confirm("2.3-3", env["literal_cmd"]["selected"].get("FC_PARENT") == "inherited" and env["env_empty_slice"]["vars"] == 0,
               "a literal &exec.Cmd{} with nil Env inherits too; only Env: []string{} is empty",
               measured=f"literal Cmd: {env['literal_cmd']['selected'].get('FC_PARENT')}; []string{{}}: {env['env_empty_slice']['vars']} variables")

# %% [markdown]
# Why the empty slice differs from nil: `Cmd.environ` starts from `os.Environ()` only when `Env` is nil;
# it also sets `PWD` from `Dir` only then. The other settings, checked on the same runs:

# %% tags=["claim:2.3-4", "claim:2.3-5", "claim:2.3-6"]
if LIVE:
    nb.cite("Cmd.environ", "os/exec")
    nb.confirm("2.3-4", env["env_nil_after_command"] and env["command_env_nil"]["env_nil"]
               and env["dir_env_nil"]["selected"]["PWD"] != "/nonexistent-parent-pwd"
               and not env["env_nul"]["child_ran"] and "NUL" in env["env_nul"]["err"],
               "Env stays nil; Start computes the environment (PWD from Dir, NUL check)",
               measured=f"PWD with Dir: {env['dir_env_nil']['selected']['PWD']}", quiet=True)
    nb.confirm("2.3-5", env["env_appended_duplicates"]["selected"]["FC_X"] == "2" and env["env_appended_duplicates"]["count"]["FC_X"] == 1,
               "append(os.Environ(), ...) extends; a duplicate key keeps its last value",
               measured=f"FC_X={env['env_appended_duplicates']['selected']['FC_X']}", quiet=True)
    nb.confirm("2.3-6", env["dir_env_set"]["selected"] == {"FC_ONLY": "1"} and env["dir_env_set"]["vars"] == 1,
               "an explicit Env replaces inheritance and also turns off the PWD update from Dir",
               measured=env["dir_env_set"]["selected"], quiet=True)

# %% [markdown]
# When is PATH read? Three runs change it around `exec.Command`; look at which tool each one ran:

# %%
if LIVE:
    for k in ("path_changed_after_command", "path_fixed_after_failed_command", "path_changed_before_command"):
        print(f"{k:32} ran: {env[k]['output'] or '-':7} error: {env[k]['err'] or '-'}")

# %% [markdown]
# PATH is read when `exec.Command` runs `LookPath`; changing it between `Command` and `Start` changes nothing. That is used in 2.5.

# %% [markdown]
# ## 2.4 Linux, macOS and Windows side by side
#
# > 种子原文: "| Windows | … | 否 | 依赖扩展名(.exe, .bat, .ps1) |"
# >
# > *Translation:* on Windows the lookup is case-insensitive and "depends on extensions (.exe, .bat, .ps1)".
#
# Each scenario is written once in Unix form; Windows gets `C:\…` paths and `;`. Linux and Windows
# answers are asked of **real** Go (Windows under Wine); macOS is **modeled** (it runs `lp_unix.go` on a
# case-insensitive filesystem). The first group is about names, extensions and permissions:

# %%
scenarios = {
    "case": dict(name="tool", path="/opt/bin", files=["/opt/bin/Tool", "/opt/bin/TOOL.EXE"]),
    "no x bit": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.exe:644", "/opt/bin/tool:644"]),
    "PATHEXT default": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.ps1"]),
    "PATHEXT with ps1": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.ps1"], pathext=".com;ps1"),
    "name with extension": dict(name="weird.bat", path="/opt/bin", files=["/opt/bin/weird.bat.exe"]),
    "directory named like it": dict(name="tool", path="/opt/bin:/usr/bin", files=["/opt/bin/tool/", "/opt/bin/tool.exe/", "/usr/bin/tool", "/usr/bin/tool.com"]),
}

# %% [markdown]
# The second group is about the current directory. `/users/ada` is the current directory in each; in the
# first two, `NoDefaultCurrentDirectoryInExePath` is set in one and not in the other.

# %%
NO_CWD = {"NoDefaultCurrentDirectoryInExePath": "1"}
ada = ["/users/ada/tool.exe", "/users/ada/tool"]
cwd_scenarios = {
    "empty element, NoDefault… set": dict(name="tool", path="/opt/bin:", files=ada, cwd="/users/ada", env=NO_CWD),
    "empty element, NoDefault… unset": dict(name="tool", path="/opt/bin:", files=ada, cwd="/users/ada"),
    "cwd file is also on PATH": dict(name="tool", path="/opt/bin:/users/ada", files=ada, cwd="/users/ada"),
    "cwd file, another on PATH": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.exe", "/opt/bin/tool", "/users/ada/tool.bat"], cwd="/users/ada"),
    "cwd file, another on PATH, NoDefault… set": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.exe", "/opt/bin/tool", "/users/ada/tool.bat"], cwd="/users/ada", env=NO_CWD),
}

# %%
from gorun_kit.lookpath.compare import cross_os_many, explain_cross
from IPython.display import HTML, display
from gorun_kit.viz import lookpath as viz_lp
crosses = cross_os_many(scenarios | cwd_scenarios, real=LIVE and WINE)  # one Wine session for all
display(HTML(viz_lp.scenarios_html({t: crosses[t] for t in scenarios})))

# %% [markdown]
# Every answer of both groups as one grid: green is a path returned with no error, amber is `ErrDot`
# (found, but relative to the current directory), red is not found. Read it by column: Windows ignores
# the x bit and the case, appends PATHEXT extensions even to `weird.bat`, and is the only one that finds
# anything through the current directory without an empty PATH element.

# %%
viz_lp.cross_os_grid(crosses, title="exec.LookPath: one scenario per row")

# %% tags=["claim:2.4-2"]
if LIVE and WINE:
    c = crosses
    nb.confirm("2.4-2", c["case"].result("linux").error == "ErrNotFound" and c["case"].result("darwin").path == "/opt/bin/tool"
               and c["empty element, NoDefault… unset"].result("linux").key() == ("tool", "ErrDot")
               and c["no x bit"].result("linux").error == "ErrNotFound",
               "Linux and macOS share lp_unix.go: case comes from the filesystem, and the x check is eaccess",
               measured=f"case: linux {c['case'].result('linux').short()}, darwin {c['case'].result('darwin').short()}")

# %% [markdown]
# ### Windows and the current directory
#
# Does Windows search the current directory first and answer `ErrDot`, as is often said? Only half of
# that holds. The rows of the second group, with what each was given:

# %%
display(HTML(viz_lp.scenarios_html({t: crosses[t] for t in cwd_scenarios})))

# %% [markdown]
# Look at the Windows column. With `NoDefaultCurrentDirectoryInExePath` set (first row) the empty element
# is skipped and nothing is found; unset (second row), the same files give `tool.exe (ErrDot)`, found by
# the implicit current-directory search, not by the empty element. In the third row the file in the
# current directory is also reachable through `%PATH%`, and LookPath returns the `%PATH%` name with **no
# error**. The current-directory hit comes back, with `ErrDot`, when `%PATH%` finds nothing (second row:
# its only other element is empty, and Windows skips empty elements) or when its first hit is a
# *different* file (fourth row); with `NoDefaultCurrentDirectoryInExePath` set, that `%PATH%` file is
# returned instead (last row). The claim check under the pictures asserts these five answers. The order `lp_windows.go` goes through, for the third and fourth rows (each picture
# is the model, run on the same scenario the real answer in its title came from):

# %%
for t in ("cwd file is also on PATH", "cwd file, another on PATH"):
    real = crosses[t].result("windows")
    display(viz_lp.search_order(explain_cross(crosses[t], "windows"),
                                title=f"windows, '{t}': LookPath returned {real.short()}; answer from {real.source}"))

# %% [markdown]
# Why: `lookPathExts` keeps the current-directory hit in `dotf`/`dotErr` instead of returning it, and at
# the first `%PATH%` hit compares the two with `os.SameFile` (go.dev/issue/53536):

# %% tags=["claim:2.4-3"]
if LIVE and WINE:
    for hit in goroot.grep(r"dotf, dotErr = f|os\.SameFile\(dotfi, fi\)|return dotf, dotErr$", "os/exec"):
        print(f"{hit.file}:{hit.line}: {hit.text.strip()}")
    w = {t: crosses[t].result("windows").key() for t in cwd_scenarios}
    assert all(cross_os_many({t: cwd_scenarios[t]})[t].result("windows").key() == w[t] for t in w), "model and Wine differ"
    nb.confirm("2.4-3", c["PATHEXT default"].result("windows").error == "ErrNotFound"
               and c["PATHEXT with ps1"].result("windows").path == "C:\\opt\\bin\\tool.ps1"
               and c["name with extension"].result("windows").path == "C:\\opt\\bin\\weird.bat.exe"
               and c["no x bit"].result("windows").path == "C:\\opt\\bin\\tool.exe" and c["case"].result("windows").path == "C:\\opt\\bin\\tool.exe"
               and list(w.values()) == [("", "ErrNotFound"), ("tool.exe", "ErrDot"), ("C:\\users\\ada\\tool.exe", None),
                                        ("tool.bat", "ErrDot"), ("C:\\opt\\bin\\tool.exe", None)],
               "Windows: no permission check, PATHEXT (no .ps1 by default), extensions even after .bat; a cwd hit is held back, and the same file on %PATH% wins with no error",
               measured="; ".join(f"{t}: {crosses[t].result('windows').short()}" for t in cwd_scenarios))

# %% [markdown]
# ### `which` and Go on the same PATH
#
# `which` (Debian's shell script) tests `-f` and `-x` on each element and treats an empty element as
# `.`, like Go — but it happily prints `./myprog`, where Go says `ErrDot`:

# %% tags=["claim:2.4-4"]
if LIVE:
    which = experiments.which("myprog", path="/bin:/usr/bin:")  # run in a directory holding myprog
    go = lp.real("myprog", goos="linux", path="/bin:/usr/bin:", fs=lp.default_fs("linux").file("/w/myprog"), cwd="/w")
    print(f"which: {which!r}   Go: {go.short()!r}")
    nb.confirm("2.4-4", which == "./myprog" and go.error == "ErrDot",
               "which prints ./myprog for an empty element; Go returns ErrDot for the same lookup",
               measured=f"which {which}; Go {go.short()}")

# %% [markdown]
# ### Explore
#
# Run the cell below: edit the name, PATH (Unix form), PATHEXT, cwd or the files, and linux, darwin and
# windows answer as you type (modeled). Before the cell runs, what shows is the saved state of the
# starting scenario, and it says so. Try the current-directory rows of 2.4: put `/users/ada` at the
# *front* of PATH and only the Windows answer changes (`tool.bat` with no error; appended at the end,
# nothing changes), or delete the line `/usr/bin/tool` and only linux and darwin change (to `ErrNotFound`).

# %%
from gorun_kit.widgets import lookpath_explorer
_ = lookpath_explorer()

# %% [markdown]
# ## 2.5 "Hooking" LookPath
#
# > 种子原文: "通过 LD_PRELOAD 或 Go 的 //go:linkname 机制可劫持其符号,注入自定义逻辑。" … "//go:linkname绕过导出检查,但要求目标符号在链接时存在且未内联。"
# >
# > *Translation:* "LookPath's symbol can be hijacked with LD_PRELOAD or Go's //go:linkname to inject custom logic" … "//go:linkname bypasses the export check; it only needs the target to exist at link time and not be inlined."
#
# Each variant of the seed's `//go:linkname` hook is built for real. Read the last column: it is the
# compiler's, the linker's or the program's own message.

# %% tags=["claim:2.5-2", "claim:2.5-3", "claim:2.5-4"]
if LIVE:
    import IPython.display as ipd, gorun_kit.lookpath.experiments as lpx  # here: the cell needs no cell above but the first
    hooks = lpx.linkname_hooks(labs=COURSE)
    ipd.display(ipd.HTML(rows_html([(h.variant + (" " + h.ldflags if h.ldflags else ""), h.what, "built" if h.built else "FAILED", h.message) for h in hooks], ["variant", "what", "build", "compiler / linker / program says"])))
    by = {(h.variant, h.ldflags): h for h in hooks}
    nb.confirm("2.5-3", not by[("nounsafe", "")].built and 'import "unsafe"' in by[("nounsafe", "")].message,
               "the seed's snippet does not even compile: //go:linkname needs an unsafe import",
               measured=f"{sum(not h.built for h in hooks)} of {len(hooks)} variants fail to build")
    nb.confirm("2.5-2", not by[("body", "")].built and "duplicated definition of symbol os/exec.LookPath" in by[("body", "")].message,
               "with a body, the linkname defines os/exec.LookPath twice and the linker refuses",
               measured=by[("body", "")].message[:60], quiet=True)
    nb.confirm("2.5-4", not by[("pull_exported", "")].built and "invalid reference to os/exec.LookPath" in by[("pull_exported", "")].message
               and by[("pull_private", "-checklinkname=0")].built,
               "pull linknames into std are rejected (even exported LookPath) unless -checklinkname=0; even then they call, not replace",
               measured=by[("pull_exported", "")].message, quiet=True)

# %% [markdown]
# The linker check that rejects those pulls, in this release:

# %%
if LIVE:
    from gorun_kit.toolchain import find_go
    hits = goroot.grep(r"func \(l \*Loader\) checkLinkname", "cmd/link/internal/loader")
    assert hits or find_go().version_tuple < (1, 23), "checkLinkname is gone from the linker"  # it arrived in 1.23
    print(f"{hits[0].file}:{hits[0].line}: {hits[0].text}" if hits else f"none in {find_go().version}: the check arrived in Go 1.23")

# %% [markdown]
# ### `LD_PRELOAD`
#
# An `LD_PRELOAD` library that wraps `execve` (`labs_c/ldpreload_hook`), under a C program, a pure-Go and
# a cgo build of the same Go program. Look at which programs load the library at all, and which of those
# have their `execve` caught:

# %% tags=["claim:2.5-5"]
if LIVE:
    runs = experiments.ldpreload_hooks(labs=COURSE)
    display(HTML(rows_html([(r.program, "dynamic (ld.so)" if r.dynamic else "static (no ld.so)",
                             "ran" if r.constructor_ran else "never ran",
                             "intercepted" if r.execve_intercepted else "not seen", r.stdout) for r in runs],
                           ["program", "linked", "hook constructor", "execve", "program says"])))
    c_run, pure, cgo = runs
    nb.confirm("2.5-5", c_run.execve_intercepted and not pure.constructor_ran and cgo.constructor_ran and not cgo.execve_intercepted,
               "LD_PRELOAD: a static Go binary never loads it; a cgo binary loads it but Go's raw execve syscall bypasses the libc wrapper",
               measured=f"execve intercepted in {sum(r.execve_intercepted for r in runs)} of {len(runs)} programs (the C one)")
    hit = [c for c in goroot.grep(r"RawSyscall\(SYS_EXECVE", "syscall") if c.file.endswith("_linux.go")][0]
    print(f"Go's execve in the child: {hit.file}:{hit.line}: {hit.text}")

# %% [markdown]
# ### What does work
#
# A path with a slash (LookPath is skipped), changing PATH **before** `exec.Command` (2.3), and rebuilding `os/exec` with `go build -overlay`, which replaces `lookpath.go` in the build without touching GOROOT:

# %% tags=["claim:2.5-1"]
if LIVE:
    ov = experiments.overlay_hook(labs=COURSE)
    print("replaced in the build only:", paths.shorten(ov.replaced))
    print("without overlay:", ov.without_overlay)
    print("with overlay:   ", ov.with_overlay)
    nb.confirm("2.5-1", ov.without_rc == 1 and ov.with_rc == 0 and "custom-tool-ran" in ov.with_overlay
               and env["path_changed_before_command"]["output"] == "from-b",
               "neither LD_PRELOAD nor linkname hooks LookPath; an absolute path, PATH set before Command, or an -overlay build do",
               measured=f"exit status without overlay {ov.without_rc}, with overlay {ov.with_rc}")

# %% [markdown]
# ## Every OS difference this chapter demonstrated
#
# One row per behaviour; the last column names the scenario above that shows it.

# %%
from IPython.display import HTML, display
from gorun_kit.viz import lookpath as viz_lp
diff_rows = [
    ("PATH separator", "':'", "':'", "';' (quotes protect it)", "2.2 split table (real)"),
    ("empty PATH element", "means '.' (ErrDot)", "means '.' (ErrDot)", "skipped", "'empty element, NoDefault… set' (real)"),
    ("current directory", "only via '' or '.'", "only via '' or '.'", "tried first, hit held back: the same file on %PATH% wins, no error; "
     "else the cwd hit with ErrDot; skipped if NoDefaultCurrentDirectoryInExePath", "'cwd file …' rows (real)"),
    ("executable check", "eaccess(X_OK), effective uid", "same code (lp_unix.go)", "none: exists and not a directory", "'no x bit' (real), 0710 as uid 65534 (real)"),
    ("extensions", "none", "none", "PATHEXT; default .com .exe .bat .cmd", "'PATHEXT default' / 'with ps1' (real)"),
    ("name with extension", "used as is", "used as is", "tried as is, then with each extension", "'name with extension' (real)"),
    ("case of names", "filesystem: case-sensitive", "filesystem: case-insensitive by default", "case-insensitive", "'case' (linux, windows real; darwin modeled)"),
    ("directory named like the program", "EISDIR, skipped", "EISDIR, skipped", "fs.ErrPermission, skipped", "'directory named like it' (real)"),
    ("ErrNotFound text", "in $PATH", "in $PATH", "in %PATH%", "message column (real)"),
]
display(HTML(rows_html(diff_rows, ["behaviour", "linux", "darwin", "windows", "shown by"])))

# %%
if LIVE and WINE:
    # Each row of the table, from the real runs above (linux natively, windows under Wine;
    # darwin is modeled): a row whose behaviour changed would fail here.
    lin = lambda t: c[t].result("linux")
    win = lambda t: c[t].result("windows")
    row_holds = {  # behaviour -> does it hold
        "PATH separator": agree and lp_unix.split_list("a:b;c") == ["a", "b;c"] and lp_windows.split_list("a:b;c") == ["a:b", "c"],
        "empty PATH element": lin("empty element, NoDefault… set").key() == ("tool", "ErrDot")
                              and win("empty element, NoDefault… set").error == "ErrNotFound",
        "current directory": lin("cwd file, another on PATH").path == "/opt/bin/tool" and win("cwd file, another on PATH").key() == ("tool.bat", "ErrDot")
                             and win("cwd file is also on PATH").key() == ("C:\\users\\ada\\tool.exe", None),
        "executable check": lin("no x bit").error == "ErrNotFound" and win("no x bit").path == "C:\\opt\\bin\\tool.exe",
        "extensions": win("PATHEXT default").error == "ErrNotFound" and win("PATHEXT with ps1").path.endswith("tool.ps1")
                      and lin("PATHEXT default").error == "ErrNotFound",
    }

# %%
if LIVE and WINE:
    row_holds |= {
        "name with extension": win("name with extension").path.endswith("weird.bat.exe") and lin("name with extension").error == "ErrNotFound",
        "case of names": (lin("case").error, c["case"].result("darwin").error, win("case").error) == ("ErrNotFound", None, None),
        "directory named like the program": lin("directory named like it").path == "/usr/bin/tool"
                      and win("directory named like it").path.lower().endswith("\\usr\\bin\\tool.com"),
        "ErrNotFound text": "$PATH" in lin("case").message and "%PATH%" in win("PATHEXT default").message,
    }

# %%
if LIVE and WINE:
    assert [r[0] for r in diff_rows] == list(row_holds), "the table and the checks list different rows"
    assert all(row_holds.values()), {k: v for k, v in row_holds.items() if not v}
    print(f"rows of the table that the real runs above bear out: {sum(row_holds.values())} of {len(diff_rows)}")

# %% [markdown]
# ## Exercises
#
# Predict LookPath, then ask real Go: `exercises/02_lookpath_linux_exercises.ipynb`
# (empty elements, ErrDot, the executable check) and
# `exercises/02_lookpath_windows_exercises.ipynb` (PATHEXT, the current
# directory, names with extensions). Both are graded by `gorun-kit course grade`
# with random file names; some checks are hidden.

# %% [markdown]
# ## What this chapter measured

# %%
nb.claims_table()
