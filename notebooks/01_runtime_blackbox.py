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
# # 01 · The runtime as a black box (第一章 Go运行时黑盒解密导论)
#
# A Go program does not run on a virtual machine; the runtime -- scheduler,
# allocator, garbage collector, stack management, system-call wrappers -- is
# machine code linked into every executable, next to your `main`. This chapter
# opens built binaries and the installed Go source to see exactly that: which
# packages the bytes of a program belong to, how `go build` and `go run` differ,
# where each runtime component really lives in the source, what the runtime
# reports about itself, and which OS threads an idle Go program has.
#
# The seed's chapter 1 is right in outline and loose in detail. Each of its
# claims is quoted below (in Chinese, with a translation) next to what this
# machine shows.
#
# **Instruments.** ELF files are read with pyelftools (`gorun_kit.binary`);
# `go tool nm` and GNU `nm` are used as cross-checks. Source locations come from
# the installed GOROOT at run time (`gorun_kit.goroot`, `gorun_kit.components`),
# and threads from `/proc/<pid>/task` (`gorun_kit.threads.proc`).

# %%
from gorun_kit import nb

stamp = nb.stamp()

# %% [markdown]
# ## 1.1 The runtime is inside the executable
#
# The seed: *所有这些都在 runtime/ 包的源码中以纯 Go + 汇编实现,并在编译期静态链接进最终二进制*
# ("all of this is implemented in the runtime/ package in pure Go plus assembly,
# and statically linked into the final binary at compile time"), and *Go
# 运行时没有独立进程或虚拟机实例;它是一组内联于每个 Go 可执行文件中的函数集合* ("the
# Go runtime has no separate process or VM instance; it is a set of functions
# inside every Go executable").
#
# Three programs from `labs_go/`: hello world (`ch1_hello`), a program that
# serves and fetches one page over `net/http` (`ch1_nethttp`), and hello world
# calling libc's `getpid` through cgo (`ch1_cgo`). The first build of the
# net/http program takes a while; later runs come from the cache.

# %%
from pathlib import Path
from gorun_kit import binary, goroot, gorun
from gorun_kit.build import build_go
from gorun_kit.course.layout import course_root
from gorun_kit.toolchain import find_go
LABS = course_root() / "labs_go"  # the course's labs, wherever the kernel starts
LIVE = nb.live("go", "cc")
if LIVE:
    tc = find_go()
    programs = {
        "hello": build_go(LABS / "ch1_hello"),
        "net/http": build_go(LABS / "ch1_nethttp"),
        "cgo": build_go(LABS / "ch1_cgo", cgo=True),
    }
    reports = {name: binary.read_binary(b.path) for name, b in programs.items()}

# %% [markdown]
# How each program is linked, read from its ELF headers: a static program has
# no `PT_INTERP` (the kernel jumps straight into it), a dynamic one names the
# loader there and its libraries in `DT_NEEDED`. Look at the *linking* column:

# %%
from IPython.display import display
from gorun_kit.viz.tables import markdown_table

if LIVE:
    layout = {name: binary.sections(b.path) for name, b in programs.items()}
    display(markdown_table(
        ["program", "linking", "PT_INTERP", "DT_NEEDED", "functions in .symtab", "DWARF sections", ".text KiB"],
        [[name, "static" if r.link.static else "dynamic", r.link.interpreter or "-", ", ".join(r.link.needed) or "-",
          sum(p.functions for p in r.packages), sum(s.group == "DWARF debug info" for s in layout[name]),
          r.link.text_section_bytes // 1024] for name, r in reports.items()], right=(4, 5, 6)))

# %% tags=["claim:1-1"]
if LIVE:
    src = Path(tc.goroot, "src")
    runtime_c = sorted(src.glob("runtime/*.c"))
    cgo_c = sorted(src.glob("runtime/cgo/*.c"))
    c_funcs = sum(1 for s in binary.read_symbols(programs['cgo'].path) if s.package == binary.C_CODE)
    print(f"C files in src/runtime: {len(runtime_c)}; in src/runtime/cgo: {len(cgo_c)}")
    print(f"C functions linked into the cgo program (outside runtime.text..runtime.etext): {c_funcs}")
    nb.confirm("1-1", not runtime_c and cgo_c and reports["hello"].link.static
               and not reports["cgo"].link.static and "libc.so.6" in reports["cgo"].link.needed,
               "runtime/ has no C files (runtime/cgo has some); hello world is statically linked, "
               "the cgo program is dynamically linked against libc", quiet=True,
               measured=f"runtime/*.c: {len(runtime_c)}, runtime/cgo/*.c: {len(cgo_c)}, "
                        f"cgo program needs {', '.join(reports['cgo'].link.needed)}")

# %% [markdown]
# So the seed's "pure Go plus assembly, statically linked" holds for a program
# without cgo. With cgo the runtime is still inside the executable, but the
# executable itself asks for the dynamic loader (`PT_INTERP`) and libc
# (`DT_NEEDED`), and runtime/cgo's C files are compiled in.
#
# ### Which package each byte of machine code belongs to
#
# Go symbol names carry their package (`runtime.mstart1`,
# `net/http.(*Server).Serve`), so summing the sizes of the functions in `.text`
# per package prefix says where the code comes from. The count is
# cross-checked in `tests/test_binary.py` against `go tool nm -size`.
#
# The runtime is counted two ways. **Package `runtime`** is the package of
# that name alone. **The runtime, all of it** adds the runtime-internal
# packages, `internal/runtime/*` (`internal/runtime/maps`,
# `internal/runtime/atomic`, ...): runtime code kept in packages of its own,
# internal to the standard library. Libraries under `runtime/` (`runtime/pprof`,
# `runtime/trace`, `runtime/metrics`, `runtime/debug`) and the cgo glue
# `runtime/cgo` are packages a program imports, so they are not counted.
# The count goes by symbol name, and some runtime code carries another
# package's name through `//go:linkname` (`runtime/debug.SetTraceback`,
# `sync.runtime_Semacquire`, printed below); such code is counted under the
# package it is named after. The table gives both counts, then the
# largest packages that are not runtime:

# %%
if LIVE:
    kib = lambda n: f"{n / 1024:.0f}"
    others = lambda r: [p for p in r.packages if not binary.is_runtime_package(p.package)][:3]
    display(markdown_table(
        ["program", "all functions, KiB", "runtime, all of it", "package runtime", "internal/runtime/* packages", "share",
         "largest others, KiB"],
        [[name, kib(r.function_bytes), kib(r.runtime_bytes), kib(r.bytes_of("runtime")), len(r.runtime_parts) - 1,
          f"{r.runtime_share:.1%}", "; ".join(f"{p.package} {kib(p.text_bytes)}" for p in others(r))]
         for name, r in reports.items()], right=(1, 2, 3, 4, 5)))

# %% [markdown]
# Read across hello world's row: the runtime, all of it, is the sum of package
# `runtime` and the runtime-internal packages, and it is far larger than
# anything else. Hello world's runtime-internal packages, the linkname lines
# that put runtime code under other names, and how many functions of package
# `runtime` alone hello world carries:

# %% tags=["claim:1-2"]
if LIVE:
    hello = reports["hello"]
    for part in hello.runtime_parts[1:]:
        print(f"  {part.package:32} {part.text_bytes / 1024:5.1f} KiB")
    print(f"  {'= runtime-internal packages':32} {(hello.runtime_bytes - hello.bytes_of('runtime')) / 1024:5.1f} KiB")
    for c in goroot.grep(r"^//go:linkname (setTraceback runtime/debug|sync_runtime_Semacquire sync)\."):
        print(f"{c.file}:{c.line}: {c.text}")
    runtime_syms = [s for s in binary.read_symbols(programs["hello"].path)
                    if s.kind == "func" and s.package == "runtime"]
    print(f"hello world links {len(runtime_syms)} functions of package runtime")
    nb.confirm("1-2", len(runtime_syms) > 1000 and hello.packages[0].package == "runtime",
               "over a thousand runtime functions are part of hello world's own image, "
               "and runtime is its largest package",
               measured=f"{len(runtime_syms)} functions; runtime {hello.runtime_share:.0%} of hello world's code")

# %%
# %matplotlib inline
from IPython.display import display
from gorun_kit.viz.binary import package_bars

if LIVE:
    display(package_bars(reports))

# %% [markdown]
# In the picture the red part of each bar is the runtime (dark: package
# `runtime`; light: the runtime-internal packages), the label its share.
#
# **How much of hello world is runtime, and why a bound of one half.** The
# runtime is a fixed cost: its size barely changes between the three programs,
# while the code that is not runtime grows about seventeen-fold from hello
# world to the net/http program (from about 130 KiB to about 2,200 KiB; the
# cell prints both). Hello world's own code (`fmt` and what `fmt` needs:
# `reflect`, `strconv`, `unicode/utf8`...) is small next to the runtime. The
# cell checks the bound that follows: the runtime is **more than half** of
# hello world's machine code. The margin is runtime / non-runtime: hello
# world's non-runtime code would have to grow by that factor (about three and
# a half) before the runtime fell to one half -- a real change worth a failing
# cell.

# %%
if LIVE:
    rt = {name: r.runtime_bytes for name, r in reports.items()}
    rest = {name: r.function_bytes - r.runtime_bytes for name, r in reports.items()}
    spread = max(rt.values()) / min(rt.values())
    growth = rest["net/http"] / rest["hello"]
    share, margin = reports["hello"].runtime_share, rt["hello"] / rest["hello"]
    print(f"runtime KiB, largest / smallest of the three programs: {spread:.2f}")
    print(f"non-runtime KiB, hello -> net/http: {kib(rest['hello'])} -> {kib(rest['net/http'])} ({growth:.0f}x)")
    print(f"runtime share of hello world: {share:.0%} (bound: > 50%)")
    print(f"margin: hello's non-runtime code must grow {margin:.1f}x (runtime / non-runtime) to break the bound")
    assert spread < 1.15, "the runtime should be (nearly) the same size in every program"
    assert 12 < growth < 25, "net/http should pull in about seventeen times hello world's non-runtime code"
    assert 3 < margin < 4.5 and share > 0.5, "the runtime should be about 3.5x hello world's other code"

# %% [markdown]
# ## 1.2 `-gcflags="-l"` and whether `nm` needs debug information
#
# The seed:
#
# ```
# # 查看符号表中 runtime 相关函数(需启用调试信息)   ("look at runtime functions in the symbol table (needs debug info enabled)")
# go build -gcflags="-l" -o hello hello.go # 禁用内联便于观察   ("disable inlining to make observation easier")
# nm hello | grep "T runtime\." | head -n 5
# ```
#
# *输出中将出现 runtime.mstart、runtime.newobject 等符号* ("the output will show
# symbols such as runtime.mstart and runtime.newobject").
#
# First `-gcflags=-l`: `go build -a -n` prints every compile command without
# running it, so we can see which packages get `-l`.

# %%
from gorun_kit.toolchain import run_go, go_env

def compiled_with_l(gcflags):
    # go build -a -n: print (not run) every compile command; -a so cached packages are listed too
    env = dict(go_env(labs=True), CGO_ENABLED="0")
    out = run_go(["build", "-a", "-n", f"-gcflags={gcflags}", "."], cwd=LABS / "ch1_hello", env=env).stderr
    lines = [l for l in out.splitlines() if "/compile " in l]
    with_l = [l.split(" -p ")[1].split()[0] for l in lines if " -l " in l]
    return len(lines), with_l

# %% tags=["claim:1-3"]
if LIVE:
    total, only = compiled_with_l("-l")
    total_all, everywhere = compiled_with_l("all=-l")
    print(f"-gcflags=-l:     {len(only)} of {total} packages compiled with -l: {only}")
    print(f"-gcflags=all=-l: {len(everywhere)} of {total_all} packages compiled with -l, "
          f"e.g. {[p for p in everywhere if p in ('runtime', 'fmt', 'main')]}")
    nb.confirm("1-3", only == ["main"] and "runtime" in everywhere,
               "-gcflags=-l reaches only the package named on the command line (main); "
               "all=-l is needed to stop inlining in runtime", quiet=True,
               measured=f"-l: {only} of {total} packages; all=-l: {len(everywhere)} of {total_all}")

# %% [markdown]
# Now `nm` and "debug information". A plain `go build` keeps the ELF symbol
# table and DWARF; `go run` is what removes them. `gorun_kit.gorun.go_run_executable`
# asks `go run -a -n` which flags it would pass (beside `go build -a -n`'s),
# then runs `go run -x` for real and picks the executable it ran out of the
# build cache.

# %%
if LIVE:
    ran = gorun.go_run_executable(LABS / "ch1_hello")
    run_info, build_info = binary.link_info(ran.path), reports["hello"].link
    keep = lambda flags: [f for f in flags if f in ("-s", "-w", "-dwarf=false")]
    print("go build: link", keep(ran.build_link_flags), " compile main", keep(ran.build_compile_flags))
    print("go run:   link", keep(ran.link_flags), " compile main", keep(ran.compile_flags))
    gocache = run_go(["env", "GOCACHE"]).stdout.strip()
    print("go run's executable, kept in the build cache:\n   ", ran.path.replace(gocache, "$GOCACHE"))

# %% [markdown]
# `-ldflags='-s -w'` on `go build` gives the same stripped program. The table
# counts what each executable carries (file sizes are left out: DWARF keeps
# the build's paths, so they differ between checkouts); look at the symbol and
# DWARF columns, then at `.text`, which stripping does not touch:

# %% tags=["claim:1-4"]
if LIVE:
    stripped_path = build_go(LABS / "ch1_hello", ldflags="-s -w").path
    files = {"go build": programs["hello"].path, "go build -ldflags='-s -w'": stripped_path, "go run": ran.path}
    layouts = {name: binary.sections(path) for name, path in files.items()}
    count = lambda secs, group: sum(s.group == group for s in secs)
    display(markdown_table(["executable", ".symtab symbols", "DWARF sections", ".text KiB", ".gopclntab KiB"],
        [[name, len(binary.nm_symbols(files[name])), count(secs, "DWARF debug info"),
          next(s.size for s in secs if s.name == ".text") // 1024, next(s.size for s in secs if s.name == ".gopclntab") // 1024]
         for name, secs in layouts.items()], right=(1, 2, 3, 4)))
    nb.confirm("1-4", build_info.has_symtab and build_info.has_dwarf and run_info.stripped
               and {"-s", "-w"} <= set(ran.link_flags) and "-dwarf=false" in ran.compile_flags,
               "go build keeps symbols and DWARF with no extra flag; go run links with -s -w "
               "(and compiles main with -dwarf=false), so its binary has no symbols",
               measured=f"go run: link {keep(ran.link_flags)}, compile main {keep(ran.compile_flags)}")

# %% [markdown]
# The same three files as pictures: each bar is the bytes of the file's
# sections (the number after it; ELF headers and padding are not counted),
# split by what the sections hold. The hatched parts (DWARF and the ELF symbol table) are never
# loaded into memory; they are what `-s -w` and `go run` drop. Go's own
# function table, `.gopclntab`, stays: it is loaded, and the runtime looks
# every program counter up in it (`findfunc`, cited below) to name functions
# in stack traces and to find a function's stack maps for the garbage collector.

# %%
from gorun_kit.viz.binary import section_bars

if LIVE:
    display(section_bars(layouts))
    findfunc = nb.cite("findfunc")

# %% [markdown]
# And the seed's `nm | grep "T runtime\." | head -n 5`, on the listing `nm` prints:
# `binary.nm_symbols` reads it from the symbol table in nm's order (sorted by
# name; `T` marks a global function), and `tests/test_binary.py` checks it
# against GNU nm line for line. Then the functions the seed and later chapters
# name, with their addresses and the source file the binary's own DWARF line
# table points to. `mstart` is assembly, so its symbol is `runtime.mstart.abi0`;
# the Go functions it leads to are `mstart0` and `mstart1`.

# %%
if LIVE:
    nm = binary.nm_symbols(programs["hello"].path)
    first5 = [s.name for s in nm if s.code == "T" and s.name.startswith("runtime.")][:5]
    print("nm hello | grep 'T runtime\\.' | head -n 5")
    print("\n".join(f"    {name}" for name in first5))
    rows = binary.runtime_functions(programs["hello"].path)
    display(markdown_table(["function", "symbol", "address", "bytes", "kind", "source (DWARF line table)"],
                           [[r.name, r.symbol, f"{r.address:#x}", r.size, r.language, f"{r.source_file}:{r.source_line}"]
                            for r in rows], right=(3,)))

# %% tags=["claim:1-5"]
if LIVE:
    in_nm = {s.name for s in nm}
    nb.confirm("1-5", all(r.symbol in in_nm for r in rows) and "runtime.mstart.abi0" in in_nm
               and "runtime.mstart" not in in_nm and not any("mstart" in n or "newobject" in n for n in first5),
               "nm lists runtime.mstart.abi0 (assembly), mstart0/mstart1, newobject, newosproc, clone.abi0, "
               "settls.abi0 -- but head -n 5 shows other names", quiet=True,
               measured=f"head -n 5 starts {first5[0]}; mstart's symbol: runtime.mstart.abi0")

# %% [markdown]
# ## 1.3 The seed's component table, rebuilt from the installed source
#
# The seed's table (组件 / 职责简述 / 关键源码位置):
#
# | 组件 | 职责简述 | 关键源码位置 |
# |---|---|---|
# | G-P-M 模型 | Goroutine(G)、逻辑处理器(P)、OS线程(M)三元调度抽象 | runtime/proc.go |
# | GC(三色标记) | 并发、低延迟的垃圾回收器 | runtime/mgcpacer.go |
# | mcache/mcentral | 每 P 私有小对象缓存,减少锁竞争 | runtime/mcache.go |
# | sysmon 监控线程 | 后台守卫线程,负责抢占、网络轮询、GC 触发等 | runtime/proc.go 中 sysmon() |
#
# `gorun_kit.components` describes each component by the definitions that make
# it up and searches for them in the files `go list runtime` says are compiled
# for this target, so a build-tag twin that is not compiled (such as
# `mgcmark_nogreenteagc.go`) does not count. The *in hello* column says
# whether a function was linked into hello world. Look at the *where* column
# against the file the seed names in the line above each component.

# %%
from gorun_kit import components

if LIVE:
    table = components.component_table(symbols=binary.read_symbols(programs["hello"].path))
    for row in table:
        c = row.component
        held = sum(f.file.endswith(c.seed_file) for f in row.findings)
        print(f"{c.name}: the seed says {c.seed_file}, which holds {held} of {len(row.findings)} definitions")
    display(markdown_table(["component", "kind", "definition", "where (src/runtime/ unless shown)", "in hello", "what it does"],
        [[row.component.name if i == 0 else "", f.definition.kind, f"`{f.definition.name}`",
          f"{f.file.removeprefix('src/runtime/')}:{f.line}", {True: "linked", False: "no", None: "-"}[f.in_binary],
          f.definition.why] for row in table for i, f in enumerate(row.findings)]))

# %% tags=["claim:1-7", "claim:1-8"]
if LIVE:
    rows = {row.component.name: row for row in table}
    gpm, gc = rows["G-P-M model"], rows["GC (tri-color marking)"]
    alloc, mon = rows["mcache/mcentral"], rows["sysmon"]
    where = lambda row, name: next(f.file for f in row.findings if f.definition.name == name)
    base = lambda row, *names: ", ".join(where(row, n).rsplit("/", 1)[-1] for n in names)
    nb.confirm("1-7", where(gpm, "schedule").endswith("proc.go") and where(gpm, "g").endswith("runtime2.go"),
               "the scheduler is in proc.go; the g, m and p structs are declared in runtime2.go",
               quiet=True, measured=f"schedule, g: {base(gpm, 'schedule', 'g')}")
    nb.confirm("1-8", where(gc, "gcControllerState").endswith("mgcpacer.go") and not gc.seed_file_is_whole_story
               and where(gc, "gcDrain").endswith("mgcmark.go") and where(gc, "gcStart").endswith("mgc.go"),
               "mgcpacer.go is only the pacer; the GC itself is in mgc.go, mgcmark*.go, mgcsweep.go, mwbbuf.go",
               measured=f"gcControllerState, gcStart, gcDrain: {base(gc, 'gcControllerState', 'gcStart', 'gcDrain')}")

# %% tags=["claim:1-9", "claim:1-10"]
if LIVE:
    started = r"newm\(sysmon,"  # the call in runtime.main that starts sysmon
    nb.confirm("1-9", where(alloc, "mcache").endswith("mcache.go") and where(alloc, "mcentral").endswith("mcentral.go"),
               "mcache is in mcache.go, but mcentral is in mcentral.go", quiet=True,
               measured=f"mcache, mcentral: {base(alloc, 'mcache', 'mcentral')}")
    nb.confirm("1-10", where(mon, "sysmon").endswith("proc.go") and where(mon, started).endswith("proc.go"),
               "sysmon() is in proc.go, started by runtime.main with newm(sysmon, ...)", quiet=True,
               measured=f"sysmon, newm(sysmon, ...): {base(mon, 'sysmon', started)}")

# %% [markdown]
# The GC row names a file the seed could not know: this toolchain compiles the
# **Green Tea** mark algorithm (`mgcmark_greenteagc.go`, which scans whole spans
# of small objects at a time) because its experiment is on by default:

# %%
if LIVE:
    for c in goroot.grep(r"GreenTeaGC:", "internal/buildcfg"):
        print(f"{c.file}:{c.line}: {c.text}")
    green = [s.name for s in binary.read_symbols(programs["hello"].path)
             if s.name in ("runtime.scanSpan", "runtime.tryDeferToSpanScan") or s.name.startswith("runtime.(*spanQueue)")]
    print(f"Green Tea functions linked into hello world: {len(green)}, e.g.")
    print("\n".join(f"    {name}" for name in sorted(green)[:3]))

# %% [markdown]
# ## 1.4 What the runtime says about itself
#
# The seed's program, as `labs_go/ch1_memstats` (it prints JSON so the cell can
# read it): `runtime.NumGoroutine()` and `runtime.ReadMemStats`. `Alloc` is the
# number of bytes of allocated heap objects -- the same as `HeapAlloc`. Look at
# the first two lines agreeing, and at `Sys`, the memory the runtime has taken
# from the OS, which is many times the heap in use: arenas, stacks, the
# runtime's own structures, reserved ahead of need.

# %% tags=["claim:1-6"]
import json

if LIVE:
    exe = build_go(LABS / "ch1_memstats").path
    stats = json.loads(nb.run([exe]).stdout)
    print(f"NumGoroutine: {stats['NumGoroutine']}")
    for key in ("Alloc", "HeapAlloc", "Sys"):
        print(f"MemStats.{key + ':':10} {stats[key]:>9} bytes = {stats[key] / 1024:7.1f} KiB")
    print(f"MemStats objects allocated so far (Mallocs): {stats['Mallocs']}, GC cycles (NumGC): {stats['NumGC']}")
    assert 1024 < stats["Alloc"] < 2**20 and stats["Sys"] > stats["Alloc"]
    nb.confirm("1-6", stats["NumGoroutine"] == 1 and stats["Alloc"] == stats["HeapAlloc"] > 0,
               "a fresh program has one goroutine and a small, non-zero heap that MemStats.Alloc reports",
               measured=f"NumGoroutine {stats['NumGoroutine']}, Alloc = HeapAlloc = {stats['Alloc']} bytes")

# %% [markdown]
# ## 1.5 The OS threads of an idle Go program
#
# `labs_go/ch1_idle` prints "ready" and sleeps for an hour. While it sleeps,
# `/proc/<pid>/task` lists its threads. /proc alone tells little: every thread
# has the same `comm` (the runtime never names its threads), and `stat` shows
# the same parent for all. What /proc does give is the system call each thread
# is blocked in and its arguments (`/proc/<pid>/task/<tid>/syscall`); with the
# binary's symbol table and DWARF, a futex address becomes a runtime variable
# and field, and for a futex on the heap the runtime's own `m` struct (read
# from `/proc/<pid>/mem`) names the M whose `procid` is that thread.
#
# Thread ids and their number change from run to run, so the listing and the
# picture under it are not compared by the notebook checks; the cell after
# them counts what must not change. In the picture, look at the colours: m0
# (blue, the thread the kernel started), sysmon (orange), Ms parked in `stopm`
# (green), and an M waiting in the network poller (grey). Which M ends up in
# the poller, m0 or another, varies from run to run.

# %%
# NBVAL_IGNORE_OUTPUT
from gorun_kit.threads import proc
from gorun_kit.viz.idle import idle_threads_graph

if LIVE:
    idle_exe = build_go(LABS / "ch1_idle").path
    threads = proc.observe_idle(idle_exe)
    print(f"{len(threads)} threads")
    for t in threads:
        sure = "" if t.certain else " (a guess)"
        mid = f"M{t.m_id}" if t.m_id is not None else "M?"
        print(f"tid {t.task.tid} comm={t.task.comm} state={t.task.state} {mid:4} {t.role}{sure}")
        print(f"      evidence: {t.evidence}; wchan {t.task.wchan}")
    display(idle_threads_graph(threads))

# %%
if LIVE:
    leader = [t for t in threads if t.leader]
    sysmon = [t for t in threads if "sysmon" in t.role]
    print(f"thread-group leaders: {len(leader)}, its M: M{leader[0].m_id}")
    print(f"sysmon threads: {len(sysmon)}")
    comms = {t.task.comm for t in threads}
    print(f"distinct comm values: {len(comms)}")
    print(f"threads whose role is unknown: {sum(t.role == 'unknown' for t in threads)}")
    assert len(leader) == 1 and leader[0].m_id == 0 and len(sysmon) == 1 and len(threads) >= 3
    assert len(comms) == 1, "the runtime never names its threads: every thread keeps the program's comm"

# %% [markdown]
# What this shows and what it does not:
#
# * **Certain:** the leader thread (tid = pid) is the one the kernel started,
#   which the runtime makes `m0`. A thread in `futex` on `runtime.sched` at the
#   offset of `sysmonnote` is sysmon asleep -- every P is idle, so it sleeps on
#   that note instead of polling every 20 µs-10 ms. A thread in `futex` on an `m`'s `park`
#   note whose `procid` equals the thread's tid is that M, parked in `stopm`.
# * **Not visible in /proc:** which goroutine ran last on a thread, why an M
#   was created (sysmon is started by `runtime.main`; the others by the
#   scheduler, to run the goroutines `runtime.main` creates at start-up, such
#   as the background sweeper and scavenger), or anything about threads that
#   are running rather than blocked.
#   Chapter 4 (`04_newosproc_threads.ipynb`) patches a hook into the runtime
#   with `go build -overlay` that reports each M's id, its creator and its
#   kernel tid from inside the runtime.
#
# ## Summary
#
# | seed | this machine (Go version in the stamp above) |
# |---|---|
# | runtime is pure Go + assembly, statically linked | true without cgo; with cgo the binary is dynamic (libc, ld.so) and runtime/cgo's C is compiled in |
# | runtime is functions inside the executable | true: over 1000 runtime functions, more than half of hello world's code |
# | `-gcflags="-l"` disables inlining | only for `main`; `all=-l` for every package |
# | `nm` needs debug info | no: `go build` keeps symbols; `go run` strips them (`-s -w`, `-dwarf=false`) |
# | `head -n 5` shows `mstart`, `newobject` | they exist (`mstart` as `runtime.mstart.abi0`), but `head -n 5` shows other names |
# | GC is `mgcpacer.go` | that is the pacer; the GC is `mgc.go`, `mgcmark*.go` (Green Tea on), `mgcsweep.go`, `mwbbuf.go` |
# | mcache/mcentral in `mcache.go` | mcentral is in `mcentral.go` |
# | sysmon in `proc.go` | true; it runs on its own M without a P |
#
# ## Exercises
#
# Predict, then check: `exercises/01_runtime_blackbox_ex1_packages.ipynb`
# (which package a symbol belongs to, and the runtime's share of a binary you
# build) and `exercises/01_runtime_blackbox_ex2_addresses.ipynb` (which
# function holds an address). Both are graded by `gorun-kit course grade`;
# some checks are hidden.

# %% [markdown]
# ## What this chapter measured

# %%
nb.claims_table()
