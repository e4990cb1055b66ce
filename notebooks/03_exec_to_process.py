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
# # 03 · From exec to a process
#
# How does `exec.Command("sleep", "0").Run()` become a new process? This chapter
# follows Go's path from `os.StartProcess` down to the `clone` system call, puts
# it beside every other way a Linux program can start another one (`fork`,
# `vfork`, `posix_spawn`, `posix_spawnp`, `system()`, a hand-written `clone`),
# measures what each costs as the parent grows, and ends with a ptrace tracer
# you complete yourself.
#
# The seed's chapter 3 (第三章 从exec到OS进程创建的关键跃迁) names the right
# machinery but gets many details wrong: Go's clone flags, its stack, how it
# waits, glibc's fork flags, which register holds argv, who calls
# `PTRACE_TRACEME`. Each of those claims is quoted below next to the measurement.
#
# **Instruments.** Syscall arguments in this chapter come from `strace -f` (every
# process and thread followed); the process tree of `go run` comes from the course's own
# ptrace tracer (`gorun_kit.trace`), checked against strace; where a cell uses
# something else it says so. The C and Go
# programs are the labs in `labs_c/spawn_methods`, `labs_c/ptrace_lab` and
# `labs_go/spawn_*`.

# %%
from gorun_kit import nb
from gorun_kit.course.layout import course_root

stamp = nb.stamp()
COURSE = course_root()  # the labs these cells build, wherever the kernel starts

# %% [markdown]
# ## 3.1 `os.StartProcess` down to the `clone` system call
#
# The seed (3.1) says: *`os.StartProcess` 是 Go 启动外部进程的核心入口,其底层依赖
# `syscall.RawSyscall(SYS_clone, ...)`* ("os.StartProcess rests on
# `syscall.RawSyscall(SYS_clone, ...)`"), and shows a code block it labels
# `runtime/os_linux.go` with `flags := _CLONE_VFORK | _SIGCHLD` and
# `stack := sysAlloc(...)`.
#
# The cell below walks the real chain in the Go source installed here: for each
# function it finds the definition, then the line inside it that calls the next
# link. Nothing is typed in; if a Go release renames a link, the cell fails.

# %%
from gorun_kit import goroot

# (package, function, the call in its body that leads to the next link)
chain = goroot.call_chain([
    ("os", "StartProcess", "startProcess("),
    ("os", "startProcess", "syscall.StartProcess("),
    ("syscall", "StartProcess", "forkExec("),
    ("syscall", "forkExec", "forkAndExecInChild("),
    ("syscall", "forkAndExecInChild", "forkAndExecInChild1("),
    ("syscall", "forkAndExecInChild1", "rawVforkSyscall(SYS_CLONE"),
])
for link in chain:
    call = f"line {link.call.line}: {link.call.text}" if link.call else "(no call to the next link: the chain changed)"
    print(f"{link.function.symbol:30} {link.function.file}:{link.function.line}\n{'':30}   {call}")
asm = nb.cite("rawVforkSyscall", "syscall", asm=True)

# %% tags=["claim:3.1-1", "claim:3.1-5"]
runtime_clone = goroot.grep(r"clone\(|sysAlloc", "runtime")
in_os_linux = [c for c in runtime_clone if c.file.endswith("runtime/os_linux.go")]
for c in in_os_linux:
    print(f"{c.file}:{c.line}: {c.text}")
uses_raw = [c for c in goroot.grep(r"RawSyscall\(SYS_CLONE|RawSyscall6?\(SYS_clone", "syscall")]
# the constant is defined there (with the other clone flags); is it used anywhere in the file?
vfork_in_os_linux = [c for c in goroot.grep(r"_CLONE_VFORK", "runtime")
                     if c.file.endswith("runtime/os_linux.go") and not c.text.replace(" ", "").startswith("_CLONE_VFORK=")]
nb.confirm("3.1-1", all(link.call for link in chain) and "rawVforkSyscall(SYS_CLONE" in chain[-1].call.text
           and not uses_raw,
           "the chain ends in syscall.rawVforkSyscall(SYS_CLONE, ...), not RawSyscall")
nb.confirm("3.1-5", not vfork_in_os_linux,
           "runtime/os_linux.go has no _CLONE_VFORK spawn; its clone is for threads (newosproc)")

# %% [markdown]
# ### The flags Go really passes
#
# The seed's table: `flags = 0x40000 | 0x10` ("vfork + signal the parent"),
# `stack = 0xc000000000` ("the child's stack base, a read-only mapping"),
# `parent_tid = 0` ("do not write the parent's tid"), and in the prose: *禁用写时复制*
# ("disables copy-on-write"), *使用 wait4 轮询获取 PID* ("polls with wait4 to get
# the PID").
#
# Below, the Go labs `spawn_start` (`os.StartProcess`) and `spawn_cmd`
# (`exec.Command`, with and without `Dir`/`Env`) run under strace. The child runs
# `sleep 0` with `PATH=/nonexistent-gorun-kit:/usr/bin:/bin`, so a PATH search
# shows one miss and one hit.

# %%
from gorun_kit import spawn

if nb.live("go", "cc", "strace"):
    go_rows = spawn.compare_methods(["go os.StartProcess", "go exec.Command", "go exec.Command+Dir+Env"],
                                    labs=COURSE, with_tracer=False)
    for r in go_rows:
        print(f"{r.method}:\n  {r.syscall}({r.flags})  child stack: {r.child_stack}"
              f"\n  PATH: {r.path_search}; child before execve: {r.child_before_exec or '-'}; waits: {r.wait}"
              f"\n  probe: {r.probe}")

# %% tags=["claim:3.1-2", "claim:3.1-3", "claim:3.1-4"]
if nb.live("go", "cc", "strace"):
    flags = [set(r.flags.split("|")) for r in go_rows]
    nb.confirm("3.1-2", all({"CLONE_VM", "CLONE_VFORK", "SIGCHLD"} <= f for f in flags),
               "Go's spawn clone has CLONE_VM|CLONE_VFORK (+CLONE_PIDFD) and SIGCHLD: the address space is shared")
    nb.confirm("3.1-3", all(r.child_stack == "shared" for r in go_rows),
               "child_stack=NULL: the child runs on the parent's stack, no separate stack is allocated")
    nb.confirm("3.1-4", all(r.wait == "waitid(P_PIDFD)" and {"CLONE_PIDFD"} <= f for r, f in zip(go_rows, flags)),
               "CLONE_PIDFD writes a pidfd into parent_tid; the parent waits with waitid(P_PIDFD), no wait4 polling")

# %% [markdown]
# Every spawn is preceded, once per Go process, by a **probe child**: `os`
# checks whether pidfds work by cloning a child *without* an exit signal, which
# exits at once and is reaped with `waitid(P_PIDFD, …, __WCLONE)`. That is the
# `probe` line above; the source is `os.checkPidfd` and
# `syscall.doCheckClonePidfd`:

# %%
nb.cite("checkPidfd", "os")
probe_src = goroot.find_func("doCheckClonePidfd", "syscall")
print(f"syscall.doCheckClonePidfd: {probe_src.file}:{probe_src.line}")
print(next(l.strip() for l in goroot.func_source(probe_src).splitlines() if "flags :=" in l))

# %% [markdown]
# The seed also says the call *绕过 glibc 封装,直接触发内核 do_fork()* ("bypasses
# glibc and goes straight to the kernel's do_fork()"). The first half holds for
# this build: the Go lab is a static executable with no program interpreter, so
# there is no libc between it and the kernel. The second half names a function
# this kernel does not have any more:

# %% tags=["claim:3.1-6"]
import pathlib
from gorun_kit import binary, procfs
from gorun_kit.build import build_go

if nb.live("go"):
    exe = build_go(COURSE / "labs_go" / "spawn_start").path
    has_interp = bool(binary.link_info(exe).interpreter)  # the ELF's PT_INTERP segment
    print("spawn_start has a PT_INTERP (dynamic loader, libc):", has_interp)
    names = procfs.kernel_symbols()
    for sym in ("do_fork", "_do_fork", "kernel_clone", "__do_sys_clone", "__do_sys_clone3", "copy_process"):
        print(f"{sym:16} in /proc/kallsyms: {sym in names}")
    nb.confirm("3.1-6", not has_interp and "do_fork" not in names and "kernel_clone" in names,
               "Go calls clone itself (no libc in this static build); the kernel path is "
               "__do_sys_clone -> kernel_clone, there is no do_fork")

# %% [markdown]
# The seed's flag value `0x40000` is not `CLONE_VFORK` at all. The constants in
# the installed `syscall` package:

# %% tags=["claim:3.1-8"]
consts = {}
for c in goroot.grep(r"^\s*CLONE_(VM|PIDFD|VFORK|SYSVSEM)\s*=", "syscall"):
    if c.file.endswith("exec_linux.go"):
        name, value = [s.strip() for s in c.text.split("//")[0].split("=")]
        consts[name] = int(value, 16)
for name, value in consts.items():
    print(f"{name:14} = {value:#07x}")
print("seed's 0x40000 decodes to:", spawn.flag_names(0x40000))
nb.confirm("3.1-8", spawn.flag_names(0x40000) == ("CLONE_SYSVSEM",) and consts["CLONE_VFORK"] == 0x4000
           and consts["CLONE_VM"] == 0x100, "0x40000 is CLONE_SYSVSEM; CLONE_VFORK is 0x4000, CLONE_VM 0x100")

# %% [markdown]
# ### When exec fails in the child
#
# With `CLONE_VFORK` the parent sleeps until the child calls `execve` or exits,
# but the child's `execve` can fail. Go's answer (not in the seed): before the
# clone the parent opens a pipe with `O_CLOEXEC`. A successful `execve` closes
# the child's end, so the parent reads EOF; a failed one makes the child write
# its errno (8 bytes, a `uintptr`) into the pipe and exit with status 253. The
# lab `spawn_fail` starts a file without execute permission through
# `os.StartProcess` (which, unlike `exec.Command`, does not check the permission
# first), under strace:

# %%
from gorun_kit import trace

if nb.live("go", "strace"):
    exe = build_go(COURSE / "labs_go" / "spawn_fail").path
    failing = trace.strace_run([exe], syscalls=["execve", "write", "exit"], timeout=60)
    out = failing.stdout.decode()
    print(out.strip())

# %% tags=["claim:3.1-9"]
if nb.live("go", "strace"):
    failed = next(c for c in failing.syscalls("execve") if c.args[0].endswith("noexec"))
    errno_write = next(c for c in failing.syscalls("write", tid=failed.tid) if c.ret == 8)
    child_exit = failing.syscalls("exit", tid=failed.tid)[0]
    print("child's execve failed with:", failed.errno)
    print("child wrote 8 bytes into the pipe:", list(errno_write.args[1].encode()), "(errno 13, little-endian)")
    print("child exited with:", child_exit.args[0])
    nb.confirm("3.1-9", failed.errno == "EACCES" and errno_write.args[1].encode() == bytes([13, 0, 0, 0, 0, 0, 0, 0])
               and child_exit.args[0] == "253" and "fork/exec" in out,
               "errno 13 (EACCES) travels as 8 bytes through the CLOEXEC pipe; the child exits 253; "
               "the parent returns *PathError{Op: \"fork/exec\"}")

# %% [markdown]
# `CLONE_VFORK` suspends only the *calling thread*; the Go runtime's other
# threads keep running while the child borrows the address space. That is why
# the runtime prepares for the fork: it blocks signals and poisons the stack
# guard so that a stack growth in the child would be caught.

# %%
before = nb.cite("syscall_runtime_BeforeFork", "runtime")
print("\n".join(l for l in goroot.func_source(before).splitlines() if "stackFork" in l or "sigblock" in l))

# %% [markdown]
# ### `go run hello.go`, as a process tree
#
# The `go` command itself is a Go program, so everything above applies to it:
# each tool it starts is one `clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD)`
# plus `execve`. The instrument here is the course's ptrace tracer
# (`gorun_kit.trace.run`, events mode: it stops at every clone, fork, vfork and
# execve of the whole tree and reads the flags and argv from the tracee).
#
# Each run gets a fresh `hello.go` (a new string in it), so the build cache
# cannot skip compiling and linking `main`; one untraced `go run` first fills
# the cache with the standard library, so that the traced runs do the same
# work whether the cache was cold or warm.

# %%
from collections import Counter
from gorun_kit import gorun, trace
from gorun_kit.viz import trace as trace_viz

def job(p):
    # what a process was for: its program, and whether it only printed its version
    if not p.execs:
        return "(no exec)"
    return p.program + (" -V=full" if p.execs[-1].argv[1:] == ("-V=full",) else "")

# %%
if nb.live("go", "ptrace"):
    # a fresh hello.go; one untraced go run first fills the build cache with the standard library
    hello = gorun.go_run_fresh_hello(trace.run, warm_cache=True)
    procs = hello.processes()
    go_pid = hello.root_pid
    kids = [p for pid, p in procs.items() if pid != go_pid]
    print("the program printed:", hello.stdout.decode().strip().rsplit(" ", 1)[0], "<random>")
    for name, count in sorted(Counter(job(p) for p in kids).items()):
        print(f"{count} x {name}")
    print("process spawns by kind:", dict(sorted((k, n) for k, n in hello.spawn_kinds().items() if "thread" not in k)))

# %%
if nb.live("go", "ptrace"):
    print("every child is a child of the go command:", all(p.parent_pid == go_pid for p in kids))
    print("every child was started by clone with CLONE_VM|CLONE_VFORK|CLONE_PIDFD:",
          all(p.spawn.syscall == "clone" and p.spawn.has("CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD") for p in kids))
    probe = [p for p in kids if p.kind == "go-pidfd-probe"]
    print("one probe child, no exit signal, never execs, started first:",
          len(probe) == 1 and probe[0].spawn.exit_signal is None and not probe[0].execs
          and kids[0] is probe[0])
    starts = {job(p): p.start_ns for p in kids}
    print("compile, then link, then the program:",
          starts["compile"] < starts["link"] < starts["hello"])

# %%
if nb.live("go", "ptrace"):
    display(trace_viz.process_graph(hello, threads_inline=0, title="go run hello.go (gorun_kit.trace)"))

# %% [markdown]
# Read the picture from the top: the edges are numbered by start time. The
# dashed box is the pidfd probe child: cloned with no exit signal, it never
# execs and exits at once. `compile -V=full`, `asm -V=full` and `link -V=full`
# are the go command asking each tool for its version, which goes into the
# build cache's keys; then comes the real compile of `main` (`-o …/_pkg_.a`), the
# link (`-o …/hello`), and the program, which is a child of `go`, not of the
# linker. Each box's threads are counted by kind (`go-thread`: the runtime's
# `newosproc` clone); they are not processes and get no boxes. The same run
# over time:

# %%
# %matplotlib inline
# (the inline backend renders the Figure objects gorun_kit.viz returns, here and below)
if nb.live("go", "ptrace"):
    display(trace_viz.lifetime_timeline(hello))


# %% [markdown]
# **Cross-check.** The same command under `strace -f`
# (`gorun_kit.trace.strace_run`, parsed into the same records), with its own
# fresh `hello.go`. Process ids differ between two runs, so the comparison is
# by job: the multiset of programs exec'd, and the parent -> child edges with
# the spawn kind, which is decided by the clone flags each instrument read.

# %%
def shape(t):
    ps = t.processes()
    programs = Counter(job(p) for p in ps.values())
    edges = Counter((job(ps[p.parent_pid]), job(p), p.kind, p.spawn.flag_names)
                    for p in ps.values() if p.parent_pid is not None)
    return programs, edges

# %%
if nb.live("go", "ptrace", "strace"):
    hello_strace = gorun.go_run_fresh_hello(trace.strace_run)
    ours, theirs = shape(hello), shape(hello_strace)
    print("instruments:", hello.tool, "and", hello_strace.tool)
    print("programs exec'd:", ", ".join(f"{n} x {k}" for k, n in sorted(ours[0].items())))
    for (parent, child, kind, flags), n in sorted(ours[1].items()):
        print(f"  {n} x {parent} -> {child}: {kind}, {'|'.join(flags)}")
    print("the same programs:", ours[0] == theirs[0], "| the same edges:", ours[1] == theirs[1])
    assert ours == theirs, f"gorun_kit.trace {ours} != strace {theirs}"

# %% [markdown]
# ## 3.2 glibc's `fork`, `vfork`, `posix_spawn` and `system()` beside Go
#
# The seed (3.2): *fork()实际由clone()系统调用实现(参数flags=SIGCHLD)* ("fork() is
# really the clone() system call with flags=SIGCHLD"), while its own quoted glibc
# code passes `CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD`.
#
# `labs_c/spawn_methods` starts a program each way. The table is built live:
# every row is one run under `strace -f`, and the flags are checked against a
# second run under the course's ptrace tracer (`gorun_kit.trace`); "child stack" is **copy** when
# `CLONE_VM` is absent (fork: the child gets a copy-on-write copy of everything,
# stack included), **shared** when the child runs on the parent's own stack
# (`vfork`, Go, and the lab's `clone_vm_raw`, which copies Go's trick of keeping
# the whole child path in registers), **separate** when the caller hands the
# kernel a freshly mapped stack (glibc's `posix_spawn`, `system()`, and the
# lab's `clone_stack`).

# %%
from IPython.display import Markdown, display

if nb.live("go", "cc", "strace"):
    rows = spawn.compare_methods(labs=COURSE, with_tracer=True)
    display(Markdown(spawn.rows_markdown(rows)))
    # the two instruments against each other: the flags strace saw for the first
    # spawn of each method are among the spawns the ptrace tracer recorded
    agree = {r.method: (r.flags.split(" -> ")[0].replace("(implied by vfork) ", "")
                        in [f.strip() for f in (r.tracer_flags or "").split(";")]) for r in rows}
    print("strace and gorun_kit.trace agree on the spawn flags of every method:", all(agree.values()))

# %% tags=["claim:3.2-2", "claim:3.2-3"]
if nb.live("go", "cc", "strace"):
    by = {r.method: r for r in rows}
    nb.confirm("3.2-2", by["fork"].syscall == "clone"
               and set(by["fork"].flags.split("|")) == {"CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID", "SIGCHLD"},
               "glibc fork() = clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD)")
    nb.confirm("3.2-3", by["vfork"].syscall == "vfork" and by["posix_spawn"].syscall == "clone3"
               and by["posix_spawn"].child_stack == "separate" and by["system"].syscall.startswith("clone3")
               and by["posix_spawnp"].path_search.startswith("child: execve")
               and by["go exec.Command"].path_search.startswith("parent:"),
               "fork is not SIGCHLD-only; vfork is its own syscall; posix_spawn/system use clone3 on a separate "
               "stack; posix_spawnp's child tries execve along PATH, Go's parent stats instead")

# %% [markdown]
# Read the table by columns:
#
# * **flags.** Only `fork` leaves out `CLONE_VM`. Every other method shares the
#   parent's memory until `execve`, and adds `CLONE_VFORK` so the parent waits.
#   Go adds `CLONE_PIDFD`, so it gets a pidfd back instead of racing on a pid.
# * **who searches PATH.** `posix_spawnp` lets the *child* try `execve` on each
#   PATH entry (the failed attempts are the extra execve calls); `system()`
#   leaves it to `/bin/sh`, which stats each entry and then uses `vfork`
#   itself; Go's `exec.Command` runs `exec.LookPath` in the *parent*
#   (`newfstatat` + `faccessat2`) and hands the kernel a full path.
# * **child before execve.** `Cmd.Dir` becomes a `chdir` in the child, between
#   clone and execve; `Cmd.Env` only changes the envp pointer.
# * **wait.** C waits with `wait4`; Go with `waitid(P_PIDFD)`.

# %% [markdown]
# ### What a spawn costs as the parent grows
#
# `fork` gives the child a copy of the parent's address space. The memory is
# shared copy-on-write, but the kernel still walks every resident page's entry
# in the page tables: it copies the entry, write-protects both copies and takes
# a reference on the page; a moment later the child's `execve` throws the whole
# copy away. So `fork` costs time in proportion to the parent's resident memory.
# Every `CLONE_VM` method (`vfork`, `posix_spawn`, Go) copies nothing.
#
# The benchmark drivers touch N bytes of memory (4 KiB pages), then time
# spawn + reap of `/bin/true`. The cell runs a small configuration (0 and 1 GiB,
# few repetitions); the full run is `gorun-kit bench spawn` /
# `benchmarks/spawn_latency.py`, whose committed results follow.

# %%
from gorun_kit.bench import spawn as spawn_bench
from gorun_kit.viz.spawn import latency_plot

if nb.live("go", "cc"):
    small = spawn_bench.measure([0, spawn_bench.GiB], labs=COURSE, reps=9, runs=1,
                                methods=["fork", "vfork", "posix_spawn", "clone_vm_raw", "go_exec_command"])
    fork_growth = spawn_bench.ratio(small, "fork", spawn_bench.GiB)
    at_1g = {p.method: p.median_ns for p in small if p.touched_bytes == spawn_bench.GiB}
    print("fork at 1 GiB is more than 5x fork at 0:", fork_growth > 5)
    # ratios against fork hold on a loaded machine, where one median can move a few times
    print("vfork grows under a fifth as much as fork from 0 to 1 GiB:",
          spawn_bench.ratio(small, "vfork", spawn_bench.GiB) < fork_growth / 5)
    print("every CLONE_VM method at 1 GiB costs under a quarter of fork at 1 GiB:",
          all(ns < at_1g["fork"] / 4 for m, ns in at_1g.items() if m != "fork"))
    display(latency_plot(small, title="live, small run: 0 and 1 GiB"))

# %%
import json
committed = json.loads((COURSE / "benchmarks" / "results" / "spawn_latency.json").read_text())
print("committed full run:", " | ".join(f"{k} {v}" for k, v in committed["meta"]["stamp"].items()))
print(f"{committed['meta']['runs']} runs x {committed['meta']['reps']} spawns per method and size, medians in ms")
points = [spawn_bench.LatencyPoint(**{**p, "run_medians_ns": tuple(p["run_medians_ns"])}) for p in committed["points"]]
display(Markdown(spawn_bench.markdown_table(points)))
big = max(p.touched_bytes for p in points)
print("fork grows with resident memory:", spawn_bench.ratio(points, "fork", big) > 5,
      "| vfork does not:", spawn_bench.ratio(points, "vfork", big) < 2,
      "| Go's clone does not:", spawn_bench.ratio(points, "go_exec_command", big) < 2)
display(latency_plot(points, title="committed full run"))

# %% [markdown]
# ## 3.3 Intercepting `execve` with ptrace
#
# The seed (3.3) says: the tracer reads *`rax`(系统调用号)、`rdi`(argv)、`rsi`(envp)*
# ("rax = syscall number, rdi = argv, rsi = envp"); its code does
# `char **argv = (char**)regs.rdi; char **envp = (char**)regs.rsi;`; *父进程调用
# `fork()`+`ptrace(PTRACE_TRACEME)`* ("the **parent** calls fork() + PTRACE_TRACEME");
# *子进程执行 execve() 前触发 SIGTRAP* ("the child gets SIGTRAP **before** execve").
#
# `labs_c/ptrace_lab/seed_regs.c` does exactly the seed's register reads at a
# real execve entry stop and prints what comes back:

# %% tags=["claim:3.3-1", "claim:3.3-2"]
from gorun_kit import ptrace_lab

if nb.live("cc", "ptrace"):
    seed = ptrace_lab.build_lab("seed_regs", labs=COURSE)
    out = nb.run([seed.path, "/bin/echo", "hello"], timeout=30, check=False).stdout
    print(out)
    nb.confirm("3.3-1", "regs.rax = -38" in out and "orig_rax = 59" in out,
               "at the entry stop rax holds -ENOSYS (-38); the syscall number is in orig_rax")
    nb.confirm("3.3-2", "errno=5" in out and 'envp[0] via rsi = "/bin/echo"' in out,
               "reading rdi as an array takes the filename bytes for a pointer (EIO); rsi holds argv, not envp")

# %% [markdown]
# The first word at `rdi` is readable: it is the first 8 bytes of the filename,
# `/bin/ech`. Taken as a pointer it is not a canonical address, so the next
# `PTRACE_PEEKTEXT` fails with `EIO`. And what the seed calls envp is argv.
#
# ### The teaching tracer
#
# `labs_c/ptrace_lab/tracer.c` is the lab's solution, a tracer of about 300
# lines: it forks; the **child** calls `PTRACE_TRACEME` and stops itself with
# `raise(SIGSTOP)`, so the parent can set its options before the child's first
# `execve`; the parent then follows syscall stops, and at each execve entry reads
# `orig_rax` and `rdi`/`rsi`/`rdx`. Here it traces `env`, which runs `true`
# after a PATH search with one miss:

# %%
src = (COURSE / "labs_c" / "ptrace_lab" / "tracer.c").read_text()
child_traceme = src.index("PTRACE_TRACEME, 0") > src.index("if (pid == 0)")
print("PTRACE_TRACEME is called in the child branch (pid == 0):", child_traceme)

if nb.live("cc", "ptrace"):
    tracer = ptrace_lab.build_lab("tracer", labs=COURSE)
    cmd = [tracer.path, "/usr/bin/env", "-i", "GREETING=hi there", "PATH=/nonexistent-gorun-kit:/bin",
           "true", "first arg", "zweites Argument"]
    # a small, fixed environment so the first execve's envp is the same everywhere
    out = nb.run(cmd, timeout=30, env={"PATH": "/usr/bin:/bin", "LANG": "C"}, check=False).stdout.splitlines()
    print("\n".join(out))

# %% tags=["claim:3.3-3", "claim:3.3-7"]
if nb.live("cc", "ptrace"):
    order = []
    for line in out:
        tag = line.split()[0]
        if tag in ("entry", "event-exec", "exit") and (not order or order[-1] != tag):
            order.append(tag)
    nb.confirm("3.3-3", child_traceme, "the child calls PTRACE_TRACEME; the parent waits and drives it")
    nb.confirm("3.3-7", "entry event-exec exit" in " ".join(order) and "-2" in " ".join(out),
               "order at a successful execve: entry stop -> PTRACE_EVENT_EXEC stop -> exit stop with rax=0")

# %% [markdown]
# The `event-exec` lines come from the `PTRACE_EVENT_EXEC` stop, which needs
# `PTRACE_O_TRACEEXEC` and arrives *after* the new program replaced the old one
# -- the old argv pointers no longer exist, so the tracer reads
# `/proc/PID/cmdline` there. The failed attempt (`/nonexistent-gorun-kit/true`,
# `rax=-2` = `-ENOENT`) has no exec event.
#
# Go's `SysProcAttr{Ptrace: true}` is different again: the child calls
# `PTRACE_TRACEME` right before `execve` and does not stop itself first, so the
# first stop a Go tracer sees is already *after* the exec. The lab
# `labs_go/spawn_ptrace` shows it:

# %% tags=["claim:3.3-4"]
if nb.live("go", "ptrace"):
    gp = build_go(COURSE / "labs_go" / "spawn_ptrace").path
    out = nb.run([gp, "/bin/echo", "hi-from-exec"], timeout=30, check=False).stdout
    print(out)
    traceme_line = [c for c in goroot.grep(r"PTRACE_TRACEME", "syscall") if c.file.endswith("exec_linux.go")]
    for c in traceme_line:
        print(f"{c.file}:{c.line}: {c.text}")
    nb.confirm("3.3-4", "trace/breakpoint trap" in out and '"/bin/echo\\x00hi-from-exec"' in out
               and "orig_rax at first stop: 59" in out,
               "with TRACEME alone the first stop is the SIGTRAP after execve: cmdline is already the new program")

# %% [markdown]
# ### Your turn: the student version
#
# The student copy, `release/labs_c/ptrace_lab/tracer.c`, is generated from the
# solution by `gorun-kit course release`: every region between `/* ### BEGIN SOLUTION TODO n */`
# and `/* ### END SOLUTION */` becomes `/* TODO n: YOUR CODE HERE */` plus a
# stub that compiles. The four TODOs:
#
# 1. read a string with `PTRACE_PEEKDATA`, one word per call (clear and check `errno`: a word may be -1);
# 2. the same with `process_vm_readv`, up to a page boundary per call;
# 3. walk the NULL-terminated argv/envp pointer arrays;
# 4. handle the `PTRACE_EVENT_EXEC` stop.
#
# The check, `gorun_kit.ptrace_lab.check_tracer`, runs a tracer on test programs
# with random argument and environment strings (some longer than a page) and
# compares every execve it prints with an independent record of the same
# command. It must fail on the untouched student copy and pass on the solution:

# %%
from gorun_kit.course.markup import lab_regions
from gorun_kit.course.release import student_copy, student_source
lab_source = COURSE / "labs_c" / "ptrace_lab" / "tracer.c"
committed = (COURSE / "release" / "labs_c" / "ptrace_lab" / "tracer.c").read_text()
print("student copy up to date with the solution:",
      committed == student_source(lab_source))
print([r.todo for r in lab_regions(src)])
if nb.live("cc", "ptrace", "strace"):
    student = ptrace_lab.build_lab("student", student=student_copy(lab_source))
    verdicts = {}
    for name, exe in [("solution", tracer.path), ("student copy", student.path)]:
        for method in ("peek", "vm"):
            res = ptrace_lab.check_tracer(exe, cases=2, seed=3, method=method)
            print(f"{name:12} -m {method:4}: {'PASS' if res.ok else 'FAIL'} (reference: {res.instrument})")
            verdicts[(name, method)] = res.ok

# %% tags=["claim:3.3-6"]
if nb.live("cc", "ptrace", "strace"):
    nb.confirm("3.3-6", verdicts[("solution", "peek")] and verdicts[("solution", "vm")]
               and not verdicts[("student copy", "peek")],
               "PTRACE_PEEKDATA word by word and process_vm_readv read the same strings (the check passes both)")
    print("first problems reported for the student copy:")
    for f in ptrace_lab.check_tracer(student.path, cases=1, seed=3).failures[:4]:
        print("  -", f)

# %% [markdown]
# Run the check on your own copy (in the student release) from Python:
#
# ```python
# from gorun_kit import ptrace_lab
# from gorun_kit.build import build_c
# mine = build_c("labs_c/ptrace_lab/tracer.c", cflags=["-O2", "-std=gnu11"]).path
# print(ptrace_lab.check_tracer(mine, method="peek"))
# print(ptrace_lab.check_tracer(mine, method="vm"))
# ```
#
# PEEKDATA costs one system call per 8 bytes; `process_vm_readv` one per page.
# Both must give the same strings -- which is exactly what the check compares.
#
# ## Exercises
#
# `exercises/03_spawn_exercises.ipynb` (reading clone flags and the latency
# curve) and `exercises/03_ptrace_exercises.ipynb` (reading strings and
# pointer arrays out of another process's memory, the logic of TODOs 1 and 3).
