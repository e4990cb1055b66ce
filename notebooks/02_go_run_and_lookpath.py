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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2 — what `go run` really does, and how `exec.LookPath` finds a program
#
# The seed's chapter 2 invents an API for `go run` (`work.Run`, `Invocation`), gets LookPath's
# executable check and `ErrDot` wrong, says a hand-built `exec.Cmd{}` gets an empty environment, and
# proposes two LookPath hooks that do not work. This chapter measures each point on the toolchain
# installed here. Where the seed is wrong, its words come first (Chinese, with a translation), then the
# measurement.
#
# Results are labelled **real** (asked of real Go: natively on Linux, a `GOOS=windows` build under
# Wine) or **modeled** (gorun_kit's Python port of `lp_unix.go`/`lp_windows.go`, which the property
# tests check against real Go on at least 500 random scenarios per OS). macOS is modeled only.

# %%
from gorun_kit import nb
_ = nb.stamp()
LIVE = nb.live("go", "cc")  # False off Linux or without the tools: live cells skip
WINE = LIVE and nb.live("wine64", "mingw-w64")  # the Windows runs; without Wine only they skip
from gorun_kit.course.layout import course_root
COURSE = course_root()  # the labs these cells build, wherever the kernel starts

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
               "go run is run.runRun; package work has no Run function")
    nb.confirm("2.1-2", not no_invocation and "func (b *Builder) Do(" in eps["work.(*Builder).Do"].text,
               "no Invocation type; the execution loop is (*Builder).Do")

# %% [markdown]
# ### The action graph
#
# `go build`/`go run` accept a hidden flag, `-debug-actiongraph=FILE`, that writes the graph `Do`
# executes. It is not in `go help build`:

# %% tags=["claim:2.1-6"]
if LIVE:
    from gorun_kit.toolchain import run_go
    help_text = run_go(["help", "build"]).stdout
    print("go help build mentions -debug-actiongraph:", "debug-actiongraph" in help_text,
          "| mentions -work:", "-work" in help_text)
    flag_line = goroot.grep(r'"debug-actiongraph"', "cmd/go/internal/work")
    print(flag_line[0].file + ":" + str(flag_line[0].line), flag_line[0].text)
    nb.confirm("2.1-6", "debug-actiongraph" not in help_text and "-work" in help_text and bool(flag_line),
               "-work is documented, -debug-actiongraph is registered but undocumented")

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

# %% tags=["claim:2.1-4", "claim:2.1-5"]
if LIVE:
    main_compile = [p for p in first.phase("compile") if p.package == "main"][0]
    link = first.phase("link")[0]
    nb.confirm("2.1-4", "-dwarf=false" in main_compile.flags and {"-s", "-w"} <= set(link.flags),
               "go run compiles main with -dwarf=false and links with -s -w (no DWARF, no symbol table)")
    nb.confirm("2.1-5", first.phase("cache-put") and second.kinds() == ["run"] and second.ran_cached_binary
               and second.ran == first.phase("cache-put")[0].command.split()[2],
               "the first run links into $WORK and copies the binary into the build cache; the second run only starts that cached binary")
    print("ParseArgs/compilePackage in cmd/go:", len(goroot.grep(r"func .*\b(ParseArgs|compilePackage)\(", "cmd/go/internal/work")))

# %% [markdown]
# What the program receives: `labs_go/gorun_args` prints its arguments and the first element of its
# PATH, and exits with status 3.

# %% tags=["claim:2.1-3"]
if LIVE:
    import os
    from gorun_kit.toolchain import find_go
    args_log = gorun.command_log(Path("../labs_go/gorun_args/main.go"), args=("a", "b"))
    print("command:", " ".join(args_log.command))
    print(args_log.output.splitlines()[0])
    path_first = args_log.output.split("PATH first: ")[1].strip()
    print("child's PATH starts with GOROOT/bin:", os.path.samefile(path_first, os.path.join(find_go().goroot, "bin")))
    print("go printed:", args_log.lines[-1], "| go run's own exit status:", args_log.returncode)
    nb.confirm("2.1-3", 'args: ["a" "b"]' in args_log.output, "the arguments after the .go files go to the program")

# %% tags=["claim:2.1-7"]
if LIVE:
    rs = eps["base.RunStdin"]
    print(goroot.func_source(rs, max_lines=30))
    nb.confirm("2.1-7", "exec.Command" in goroot.func_source(rs, max_lines=30)
               and "buildRunProgram" in eps["run.buildRunProgram"].text
               and os.path.samefile(path_first, os.path.join(find_go().goroot, "bin"))
               and args_log.lines[-1] == "exit status 3" and args_log.returncode == 1,
               "buildRunProgram runs the binary through base.RunStdin (os/exec, GOROOT/bin first on PATH); go run exits 1 whatever the child's status")

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
    search = "lookPath" if goroot.grep(r"^func lookPath\(", "os/exec") else "LookPath"
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
                   "Go checks execute permission for the effective uid (eaccess), not 'any x bit'")

# %% [markdown]
# ### Names Go rejects, names it checks directly, and `ErrDot`
#
# The seed's snippet has no `validateLookPath`, no "a name with `/` is checked directly" rule, no
# `ErrDot`, and returns a bare `ErrNotFound` instead of an `*exec.Error`. Each row below is asked of
# real Go on Linux and of the model; the last column says whether they agree.

# %%
if LIVE:
    from IPython.display import HTML, display
    from gorun_kit.viz import lookpath as viz_lp

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
                         "yes" if model.key() == real.key() else "NO"))
    display(HTML(viz_lp.rows_html(rows, ["name", "PATH", "GODEBUG", "real Go (cwd /w)", "err.Error()", "model agrees"])))

# %% tags=["claim:2.2-1", "claim:2.2-2", "claim:2.2-4", "claim:2.2-5"]
if LIVE:
    r = lambda n, p, e={}: results[(n, p, str(e))]
    nb.confirm("2.2-4", all(r(n, "/usr/bin").error == "ErrNotFound" for n in ("", ".", ".."))
               and r("./myprog", "/usr/bin").key() == ("./myprog", None)
               and r("myprog", "/usr/bin").error == "ErrNotFound",
               '"", "." and ".." are ErrNotFound; a name with "/" is checked directly and returned as given')
    nb.confirm("2.2-5", r("myprog", "/usr/bin:").key() == ("myprog", "ErrDot")
               and r("myprog", "/usr/bin:", {"GODEBUG": "execerrdot=0"}).key() == ("myprog", None),
               "an empty element is '.', and a hit there comes back with ErrDot (unless GODEBUG=execerrdot=0)")
    nb.confirm("2.2-2", r("myprog", "/usr/bin:").path == "myprog",
               'filepath.Join(".", "myprog") is "myprog" (cleaned), not "./myprog"')
    nb.confirm("2.2-1", r("myprog", "").error == "ErrNotFound" and lp.unix.split_list("") == [],
               "PATH is split with filepath.SplitList; an empty PATH is no entries at all, not '.'")

# %% [markdown]
# ### The PATH-splitting table, checked live
#
# > 种子原文: "| `/bin:/usr/bin:` | `["/bin", "/usr/bin", ""]` | … | `C:\Go\bin;C:\tools` | `["C:\\Go\\bin", "C:\\tools"]` | Windows 下分号分割 |"
#
# The seed's two rows are right on their own OS. The table adds the rows it leaves out, each computed by
# real Go's `filepath.SplitList` (a tiny program built for Linux and for Windows, the latter run under
# Wine) beside the Python port.

# %%
if LIVE and WINE:
    import json
    from gorun_kit.lookpath import experiments, unix as lp_unix, windows as lp_windows

    inputs = ["/bin:/usr/bin:", "", ":", "/bin::/usr/bin", "C:\\Go\\bin;C:\\tools", 'C:\\a;"C:\\b;c";;d']
    split_linux = experiments.split_list(inputs, goos="linux", labs=COURSE)
    split_windows = experiments.split_list(inputs, goos="windows", labs=COURSE)  # under Wine
    rows, agree = [], True
    for s, lin, win in zip(inputs, split_linux, split_windows):
        agree &= lin == lp_unix.split_list(s) and win == lp_windows.split_list(s)
        rows.append((repr(s), json.dumps(lin), json.dumps(win)))
    display(HTML(viz_lp.rows_html(rows, ["PATH string", "SplitList on linux (real)", "SplitList on windows (real, Wine)"])))
    print("the Python ports agree with both:", agree)

# %% tags=["claim:2.2-6", "claim:2.2-7"]
if LIVE and WINE:
    nb.confirm("2.2-6", rows[0][1] == '["/bin", "/usr/bin", ""]' and rows[1][1] == "[]" and agree,
               "'/bin:/usr/bin:' ends in an empty element; an empty PATH splits into no elements")
    nb.confirm("2.2-7", rows[4][2] == '["C:\\\\Go\\\\bin", "C:\\\\tools"]' and len(json.loads(rows[4][1])) == 3
               and json.loads(rows[5][2]) == ["C:\\a", "C:\\b;c", "", "d"],
               "';' splits on Windows only (quotes protect it and are removed); Linux splits the same string on ':'")

# %% [markdown]
# ## 2.3 `exec.Cmd` and the environment
#
# > 种子原文: "手动构造 `&exec.Cmd{}`:需显式设置Env字段,否则为空环境" … "cmd.Env若未设置,默认值为nil,此时os/exec内部会自动设为os.Environ()"
# >
# > *Translation:* "a hand-built `&exec.Cmd{}` must set `Env`, otherwise the environment is empty" … "when `Env` is unset (nil), os/exec internally sets it to `os.Environ()`."
#
# `labs_go/cmdenv` starts itself as a child in each configuration and records what the child received.
# The parent runs with `FC_PARENT=inherited`.

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
             env[k]["env_nil"], env[k]["err"] or "-") for k in show]
    display(HTML(viz_lp.rows_html(rows, ["configuration", "child environment", "FC_* / PWD seen", "cmd.Env nil after Run", "error"])))

# %% tags=["claim:2.3-1", "claim:2.3-3", "claim:2.3-4", "claim:2.3-5", "claim:2.3-6"]
if LIVE:
    vars_nil = env["command_env_nil"]["vars"]
    print("the literal Cmd's child got as many variables as exec.Command's:", env["literal_cmd"]["vars"] == vars_nil)
    nb.confirm("2.3-1", env["command_env_nil"]["selected"]["FC_PARENT"] == "inherited", "exec.Command inherits the parent environment")
    nb.confirm("2.3-3", env["literal_cmd"]["selected"].get("FC_PARENT") == "inherited" and env["env_empty_slice"]["vars"] == 0,
               "a literal &exec.Cmd{} with nil Env inherits too; only Env: []string{} is empty")
    nb.confirm("2.3-4", env["env_nil_after_command"] and env["command_env_nil"]["env_nil"]
               and env["dir_env_nil"]["selected"]["PWD"] != "/nonexistent-parent-pwd"
               and not env["env_nul"]["child_ran"] and "NUL" in env["env_nul"]["err"],
               "Env stays nil; Start computes the environment (PWD from Dir, NUL check)")
    nb.confirm("2.3-5", env["env_appended_duplicates"]["selected"]["FC_X"] == "2" and env["env_appended_duplicates"]["count"]["FC_X"] == 1,
               "append(os.Environ(), ...) extends; a duplicate key keeps its last value")
    nb.confirm("2.3-6", env["dir_env_set"]["selected"] == {"FC_ONLY": "1"} and env["dir_env_set"]["vars"] == 1,
               "an explicit Env replaces inheritance and also turns off the PWD update from Dir")

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
# Each table is one scenario, written once in Unix form; Windows gets `C:\…` paths and `;`. Linux and
# Windows answers are asked of **real** Go (Windows under Wine); macOS is **modeled** (it runs
# `lp_unix.go` on a case-insensitive filesystem).

# %%
from gorun_kit.lookpath.compare import cross_os
scenarios = {
    "case": dict(name="tool", path="/opt/bin", files=["/opt/bin/Tool", "/opt/bin/TOOL.EXE"]),
    "no x bit": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.exe:644", "/opt/bin/tool:644"]),
    "PATHEXT default": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.ps1"]),
    "PATHEXT with ps1": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.ps1"], pathext=".com;ps1"),
    "name with extension": dict(name="weird.bat", path="/opt/bin", files=["/opt/bin/weird.bat.exe"]),
    "empty element": dict(name="tool", path="/opt/bin:", files=["/users/ada/tool.exe", "/users/ada/tool"], cwd="/users/ada",
                          env={"NoDefaultCurrentDirectoryInExePath": "1"}),
    "cwd first": dict(name="tool", path="/opt/bin", files=["/opt/bin/tool.exe", "/opt/bin/tool", "/users/ada/tool.bat"], cwd="/users/ada"),
    "directory named like it": dict(name="tool", path="/opt/bin:/usr/bin", files=["/opt/bin/tool/", "/opt/bin/tool.exe/", "/usr/bin/tool", "/usr/bin/tool.com"]),
}

# %%
if LIVE and WINE:
    crosses = {}
    with session("linux") as go_linux, session("windows") as go_windows:
        for title, sc in scenarios.items():
            crosses[title] = cross_os(**sc, real=True, oracles={"linux": go_linux, "windows": go_windows})
            display(HTML(f"<h4>{title}</h4>" + viz_lp.cross_os_html(crosses[title])))

# %% tags=["claim:2.4-2", "claim:2.4-3"]
if LIVE and WINE:
    c = crosses
    nb.confirm("2.4-2", c["case"].result("linux").error == "ErrNotFound" and c["case"].result("darwin").path == "/opt/bin/tool"
               and c["empty element"].result("linux").key() == ("tool", "ErrDot")
               and c["no x bit"].result("linux").error == "ErrNotFound",
               "Linux and macOS share lp_unix.go: case comes from the filesystem, and the x check is eaccess")
    nb.confirm("2.4-3", c["PATHEXT default"].result("windows").error == "ErrNotFound"
               and c["PATHEXT with ps1"].result("windows").path == "C:\\opt\\bin\\tool.ps1"
               and c["name with extension"].result("windows").path == "C:\\opt\\bin\\weird.bat.exe"
               and c["no x bit"].result("windows").path == "C:\\opt\\bin\\tool.exe"
               and c["case"].result("windows").path == "C:\\opt\\bin\\tool.exe"
               and c["empty element"].result("windows").error == "ErrNotFound"
               and c["cwd first"].result("windows").key() == ("tool.bat", "ErrDot"),
               "Windows: no permission check, PATHEXT (default .com .exe .bat .cmd, no .ps1), extension appended even to foo.bat, cwd searched first")

# %% [markdown]
# `which` (Debian's shell script) tests `-f` and `-x` on each element and treats an empty element as
# `.`, like Go — but it happily prints `./myprog`, where Go says `ErrDot`:

# %% tags=["claim:2.4-4"]
if LIVE:
    which = experiments.which("myprog", path="/bin:/usr/bin:")  # run in a directory holding myprog
    go = lp.real("myprog", goos="linux", path="/bin:/usr/bin:", fs=lp.default_fs("linux").file("/w/myprog"), cwd="/w")
    print(f"which: {which!r}   Go: {go.short()!r}")
    nb.confirm("2.4-4", which == "./myprog" and go.error == "ErrDot",
               "which prints ./myprog for an empty element; Go returns ErrDot for the same lookup")

# %% [markdown]
# ### Explore
#
# Edit the name, PATH (Unix form), PATHEXT, cwd or the files; linux, darwin and windows answer together
# (modeled). The static table printed first is the starting state, for readers without a kernel.

# %%
from gorun_kit.widgets import lookpath_explorer
_ = lookpath_explorer()

# %%
from gorun_kit.lookpath.compare import explain, build_fs
from gorun_kit.viz import lookpath as viz_lp
viz_lp.search_order(explain("tool", goos="windows", path="C:\\opt\\bin;;C:\\usr\\bin", cwd="C:\\home\\me",
                            fs=build_fs("windows", ["/users/ada/", "/usr/bin/tool.cmd", "/opt/bin/tool/"])),
                    title="windows: the order LookPath tries candidates")

# %% [markdown]
# ## 2.5 "Hooking" LookPath
#
# > 种子原文: "通过 LD_PRELOAD 或 Go 的 //go:linkname 机制可劫持其符号,注入自定义逻辑。" … "//go:linkname绕过导出检查,但要求目标符号在链接时存在且未内联。"
# >
# > *Translation:* "LookPath's symbol can be hijacked with LD_PRELOAD or Go's //go:linkname to inject custom logic" … "//go:linkname bypasses the export check; it only needs the target to exist at link time and not be inlined."
#
# Each variant of the seed's `//go:linkname` hook is built for real; the result column is the toolchain's own message.

# %% tags=["claim:2.5-2", "claim:2.5-3", "claim:2.5-4"]
if LIVE:
    hooks = experiments.linkname_hooks(labs=COURSE)
    display(HTML(viz_lp.rows_html([(h.variant + (" " + h.ldflags if h.ldflags else ""), h.what, "built" if h.built else "FAILED", h.message) for h in hooks],
                                  ["variant", "what", "build", "compiler / linker / program says"])))
    by = {(h.variant, h.ldflags): h for h in hooks}
    nb.confirm("2.5-3", not by[("nounsafe", "")].built and 'import "unsafe"' in by[("nounsafe", "")].message,
               "the seed's snippet does not even compile: //go:linkname needs an unsafe import")
    nb.confirm("2.5-2", not by[("body", "")].built and "duplicated definition of symbol os/exec.LookPath" in by[("body", "")].message,
               "with a body, the linkname defines os/exec.LookPath twice and the linker refuses")
    nb.confirm("2.5-4", not by[("pull_exported", "")].built and "invalid reference to os/exec.LookPath" in by[("pull_exported", "")].message
               and by[("pull_private", "-checklinkname=0")].built,
               "pull linknames into std are rejected (even exported LookPath) unless -checklinkname=0; even then they call, not replace")

# %%
if LIVE:
    print(goroot.grep(r"func \(l \*Loader\) checkLinkname", "cmd/link/internal/loader")[0])

# %% [markdown]
# An `LD_PRELOAD` library that wraps `execve` (`labs_c/ldpreload_hook`), under a C program, a pure-Go and a cgo build of the same Go program:

# %% tags=["claim:2.5-5"]
if LIVE:
    runs = experiments.ldpreload_hooks(labs=COURSE)
    display(HTML(viz_lp.rows_html([(r.program, r.dynamic, r.constructor_ran, r.execve_intercepted, r.stdout) for r in runs],
                                  ["program", "loaded by ld.so", "hook constructor ran", "execve intercepted", "program says"])))
    c_run, pure, cgo = runs
    nb.confirm("2.5-5", c_run.execve_intercepted and not pure.constructor_ran and cgo.constructor_ran and not cgo.execve_intercepted,
               "LD_PRELOAD: a static Go binary never loads it; a cgo binary loads it but Go's raw execve syscall bypasses the libc wrapper")
    print([c for c in goroot.grep(r"RawSyscall\(SYS_EXECVE", "syscall") if c.file.endswith("_linux.go")][0])

# %% [markdown]
# What does work: a path with a slash (LookPath is skipped), changing PATH **before** `exec.Command` (2.3), and rebuilding `os/exec` with `go build -overlay`, which replaces `lookpath.go` in the build without touching GOROOT:

# %% tags=["claim:2.5-1"]
if LIVE:
    ov = experiments.overlay_hook(labs=COURSE)
    print("replaced in the build only:", paths.shorten(ov.replaced))
    print("without overlay:", ov.without_overlay)
    print("with overlay:   ", ov.with_overlay)
    nb.confirm("2.5-1", ov.without_rc == 1 and ov.with_rc == 0 and "custom-tool-ran" in ov.with_overlay
               and env["path_changed_before_command"]["output"] == "from-b",
               "neither LD_PRELOAD nor linkname hooks LookPath; an absolute path, PATH set before Command, or an -overlay build do")

# %% [markdown]
# ## Every OS difference this chapter demonstrated

# %%
from IPython.display import HTML, display
from gorun_kit.viz import lookpath as viz_lp
diff_rows = [
    ("PATH separator", "':'", "':'", "';' (quotes protect it)", "2.2 split table (real)"),
    ("empty PATH element", "means '.' (ErrDot)", "means '.' (ErrDot)", "skipped", "'empty element' (linux, windows real)"),
    ("current directory", "only via '' or '.'", "only via '' or '.'", "searched first (ErrDot) unless NoDefaultCurrentDirectoryInExePath", "'cwd first' (real)"),
    ("executable check", "eaccess(X_OK), effective uid", "same code (lp_unix.go)", "none: exists and not a directory", "'no x bit' (real), 0710 as uid 65534 (real)"),
    ("extensions", "none", "none", "PATHEXT; default .com .exe .bat .cmd", "'PATHEXT default' / 'with ps1' (real)"),
    ("name with extension", "used as is", "used as is", "tried as is, then with each extension", "'name with extension' (real)"),
    ("case of names", "filesystem: case-sensitive", "filesystem: case-insensitive by default", "case-insensitive", "'case' (linux, windows real; darwin modeled)"),
    ("directory named like the program", "EISDIR, skipped", "EISDIR, skipped", "fs.ErrPermission, skipped", "'directory named like it' (real)"),
    ("ErrNotFound text", "in $PATH", "in $PATH", "in %PATH%", "message column (real)"),
]
display(HTML(viz_lp.rows_html(diff_rows, ["behaviour", "linux", "darwin", "windows", "shown by"])))

# %%
if LIVE and WINE:
    # Each row of the table, from the real runs above (linux natively, windows under Wine;
    # darwin is modeled): a row whose behaviour changed would fail here.
    lin = lambda t: c[t].result("linux")
    win = lambda t: c[t].result("windows")
    row_holds = {
        "PATH separator": agree and lp_unix.split_list("a:b;c") == ["a", "b;c"] and lp_windows.split_list("a:b;c") == ["a:b", "c"],
        "empty PATH element": lin("empty element").key() == ("tool", "ErrDot") and win("empty element").error == "ErrNotFound",
        "current directory": lin("cwd first").path == "/opt/bin/tool" and win("cwd first").key() == ("tool.bat", "ErrDot"),
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
    for behaviour, ok in row_holds.items():
        print(f"{behaviour:34} {'holds' if ok else 'DIFFERS'}")
    assert [r[0] for r in diff_rows] == list(row_holds), "the table and the checks list different rows"
    assert all(row_holds.values()), {k: v for k, v in row_holds.items() if not v}

# %% [markdown]
# ## Exercises
#
# Predict LookPath, then ask real Go: `exercises/02_lookpath_linux_exercises.ipynb`
# (empty elements, ErrDot, the executable check) and
# `exercises/02_lookpath_windows_exercises.ipynb` (PATHEXT, the current
# directory, names with extensions). Both are graded by `gorun-kit course grade`
# with random file names; some checks are hidden.
