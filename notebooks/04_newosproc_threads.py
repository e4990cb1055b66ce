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
# # 04 · `newosproc`, g0 and TLS: watching the runtime make threads
#
# A Go program is one process with several OS threads. The runtime calls them
# **M**s ("machines"); each runs goroutines on behalf of a **P** (a scheduling
# slot; there are `GOMAXPROCS` of them) and owns a small goroutine of its own,
# **g0**, whose stack the scheduler runs on.
#
# The seed's chapter 4 (第四章 runtime.newosproc与goroutine调度底层联动) is about
# exactly this: how `newosproc` starts a thread, how thread-local storage finds the
# current goroutine, what g0 is, and how to patch the runtime with a hook that
# reports each new thread. Most of its details are wrong, and its patch does not
# compile. This chapter measures each point instead, with one instrument built
# for the purpose:
#
# **The instrument.** `gorun_kit.threads` builds a program against a *patched
# copy* of the runtime with `go build -overlay` (GOROOT is never written). The
# patch records, for every M: who asked for it (in `newm`), which thread
# called `clone` (in `newm1`), and -- on the new thread itself, right after
# `minit` -- its kernel thread id, g0 stack bounds and FS/GS base, each with a
# timestamp. How it is built, and why it must not allocate, is section 4.4.
# Every run is cross-checked against the course's ptrace tracer
# (`gorun_kit.trace`, chapter 3), the tasks in `/proc/<pid>/task` and
# `GODEBUG=schedtrace`.
#
# Thread counts and ids change from run to run, so the tables below are marked
# as varying; every statement the text makes is asserted by the cell that shows it.

# %%
from gorun_kit import nb

stamp = nb.stamp()

# %%
# %matplotlib inline
from pathlib import Path
from IPython.display import display

from gorun_kit import binary, goroot, paths, threads, trace
from gorun_kit.build import BuildError, build_go
from gorun_kit.toolchain import find_go
from gorun_kit.viz import threads as tviz

from gorun_kit.course.layout import course_root
LABS = course_root() / "labs_go"  # the course's labs, wherever the kernel starts
LIVE = nb.live("go", "strace", "ptrace")
if LIVE:
    go = find_go()

# %%
def show_checks(report):
    # the check names and verdicts (the counts inside them vary run to run)
    for c in report.checks:
        print(f"[{c.verdict}] {c.name}")


# %% [markdown]
# ## 4.1 `newosproc` is a Go function
#
# The seed (4.1): *newosproc 是 Go 运行时在 Linux/amd64 上创建新 OS 线程的核心汇编入口,位于
# runtime/asm_amd64.s。它接收一个 \*g(goroutine)指针* -- "newosproc is the core
# **assembly** entry for creating OS threads, in `runtime/asm_amd64.s`; it takes a
# `*g` pointer", followed by a block of assembly `TEXT runtime·newosproc(SB) ...
# CALL runtime·clone(SB)`.
#
# Ask the installed GOROOT where `newosproc` is, and whether any assembly file
# defines a `TEXT ·newosproc` symbol:

# %% tags=["claim:4.1-1", "claim:4.1-2", "claim:4.1-3"]
where = nb.cite("newosproc")
print(where.text)
asm_defs = goroot.grep(r"^TEXT\s+runtime·newosproc\(", suffixes=(".s",))
print("TEXT runtime·newosproc in any runtime/*.s:", asm_defs or "none")
nb.confirm("4.1-1", where.file.endswith("os_linux.go") and not asm_defs,
           "newosproc is a Go function in runtime/os_linux.go, with no assembly entry")
nb.confirm("4.1-2", where.text.startswith("func newosproc(mp *m)"),
           "its parameter is the new M (mp *m), not a *g")
nb.confirm("4.1-3", not asm_defs, "the seed's TEXT runtime·newosproc snippet matches no real symbol")

# %% [markdown]
# Its body blocks signals, then calls the assembly wrapper `runtime·clone` with
# the new M's g0 stack top, the M, its g0 and `mstart` as the function the
# child runs first:

# %%
print(goroot.func_source(where))

# %% [markdown]
# ### The clone flags, in the source and on the wire
#
# The flags come from the constant `cloneFlags` in the same file. The assembly
# wrapper then ORs in one more flag, `CLONE_SETTLS` (0x80000), and passes
# `&m.tls[0]+8` as the new thread's TLS base. The cell reads both from the
# source, then traces a small program -- with the course's ptrace tracer and,
# independently, with `strace -f` -- and compares with the flags the kernel
# really received.

# %%
clone_flags = goroot.constant("cloneFlags")
print(f"{clone_flags.citation.file}:{clone_flags.citation.line}: cloneFlags = {clone_flags.expression}")
source_flags = {n.removeprefix("_CLONE_") for n in clone_flags.names}
clone_asm = nb.cite("clone", asm=True)
settls = [c for c in goroot.grep(r"CLONE_SETTLS", suffixes=(".s",)) if c.file.endswith("sys_linux_amd64.s")]
for c in settls:
    print(f"{c.file}:{c.line}: {c.text}")
print("cloneFlags in os_linux.go:", sorted(source_flags))

# %% tags=["claim:4.1-4"]
if LIVE and nb.live("ptrace"):
    idle = build_go(LABS / "threads_idle")
    # the course's ptrace tracer: flags from the PTRACE_EVENT_CLONE stop
    t = trace.run([idle.path])
    traced = {frozenset(f.removeprefix("CLONE_") for f in s.flag_names) for s in t.spawns if s.is_thread}
    # strace, independently: flags as strace decodes the syscall's argument
    st = trace.strace_run([idle.path])
    straced = {frozenset(f.removeprefix("CLONE_") for f in s.flag_names) for s in st.spawns if s.is_thread}
    print("thread clones seen by gorun_kit.trace:", len(t.thread_tids(t.root_pid)) > 0,
          "| by strace:", len(st.thread_tids(st.root_pid)) > 0)
    for flags in traced | straced:
        print("   ", "|".join("CLONE_" + f for f in sorted(flags)), f"= {sum(trace.CLONE_FLAGS[f'CLONE_{f}'] for f in flags):#x}")
    nb.confirm("4.1-4", traced == straced == {frozenset(source_flags | {"SETTLS"})} and bool(settls),
               "every thread clone carries exactly cloneFlags plus CLONE_SETTLS, which the assembly adds "
               "(the tracer and strace agree)")

# %% [markdown]
# ### The first instruction of a new thread
#
# The seed (4.1): *clone 系统调用以 mstart 为入口,在新线程栈顶布置 g0 的调度栈帧,并确保
# %rsp 对齐 16 字节* -- "clone uses `mstart` as its entry point, lays out g0's
# scheduling frame at the top of the new thread's stack and aligns `%rsp` to 16
# bytes", with a table putting `gobuf.sp`, `gobuf.pc` and `gobuf.g` at offsets 0,
# -8 and -16 of that stack. And (4.3): *在 runtime.mstart() 中完成 M 的初始化后,必须立即切换至
# m->g0 栈* -- "after `mstart()` initialises the M it must switch to the
# `m->g0` stack at once".
#
# The `clone` system call takes no entry function: the child returns from the
# same `SYSCALL` instruction as the parent, in `runtime·clone`, and that
# assembly sets SP, stores g0 into the TLS slot and R14 and then calls
# `mstart`. `gorun_kit.threads.gdb` stops every thread of a program at the first
# instruction of `runtime.mstart` under gdb and reads its registers and
# runtime words (field offsets from the binary's DWARF, read with pyelftools):

# %%
from gorun_kit.threads import gdb

if LIVE and nb.live("gdb"):
    entries = gdb.mstart_entries(build_go(LABS / "threads_idle").path)
    made = [e for e in entries if not e.main_thread]
    print("threads stopped at mstart: the main thread, and Go-made ones:", len(made) > 0)
    print("thread       on g0  g0.stack.hi - rsp  rsp mod 16  [rsp] returns into     g0.sched.sp/pc  g0 size")
    rows = {("main (m0)" if e.main_thread else "Go-made", e.on_g0, e.below_stack_hi, e.rsp % 16, e.return_symbol,
             f"{e.g0_sched_sp:#x}/{e.g0_sched_pc:#x}", e.g0_stack_hi - e.g0_stack_lo) for e in entries}
    for who, on_g0, below, mod, ret, sched, size in sorted(rows, reverse=True):
        print(f"{who:<12} {str(on_g0):<6} {below:<18} {mod:<11} {ret:<22} {sched:<15} {size}")

# %% tags=["claim:4.1-5", "claim:4.1-6", "claim:4.3-1"]
if LIVE and nb.live("gdb"):
    nb.confirm("4.1-5", made and all(e.return_symbol == "runtime.clone.abi0" and e.below_stack_hi == 8
                                     and e.rsp % 16 == 8 for e in made),
               "a Go-made thread enters mstart by a CALL from runtime.clone's child branch; the only word on its "
               "stack is that return address (rsp = g0.stack.hi - 8, so rsp is 8 mod 16 at entry, as after any CALL)")
    nb.confirm("4.1-6", all(e.g0_sched_sp == 0 and e.g0_sched_pc == 0 for e in entries),
               "no gobuf is laid out on the stack: g0.sched (a field of the g struct) is still zero at mstart; "
               "mstart1 fills it in later")
    nb.confirm("4.3-1", made and all(e.on_g0 for e in made),
               "a Go-made thread starts on g0: the TLS slot, R14 and m.g0 are the same pointer at its first "
               "instruction, so there is nothing to switch")

# %% [markdown]
# (Each distinct row is printed once; how many Go-made threads an idle
# program gets varies from run to run.) The same probe, pointed at the hooked
# build of the program, sees the same threads the hook reports, with the same
# g0 stacks (`tests/test_threads_gdb.py` checks it tid by tid).
#
# The measurements the sections below discuss come from one run of each lab
# program with the hook (about a second each). `threads.CALLERS_EXTENSION`
# adds to every `new` record the call chain that led into `newm`, so a record
# also says *why* an M was made.

# %%
experiments = {
    "syscalls": ("threads_syscalls", ("6",)),
    "locked": ("threads_locked", ("3",)),
    "gomaxprocs": ("threads_gomaxprocs", ("6",)),
}
reports = {}
if LIVE:
    ext = threads.CALLERS_EXTENSION.read_text()
    idle_report = threads.observe(LABS / "threads_idle", extension=ext)
    for name, (lab, args) in experiments.items():
        reports[name] = threads.observe(LABS / lab, args=args, extension=ext)
    for name, r in [("idle", idle_report), *reports.items()]:
        print(f"--- {name}: {r.stdout.strip()}")
        show_checks(r)

# %% [markdown]
# ## 4.2 TLS: the FS base, not GS
#
# The seed (4.2): *关键在于正确初始化x86-64架构下的gs段寄存器* ... *settls将g0.stack.hi写入gs.base MSR*
# -- "the key is initialising the **gs** segment register; `settls` writes
# `g0.stack.hi` into the gs base MSR, so `gs:[0]` gives the current `g*`".
#
# On linux/amd64 the runtime uses **FS**. The hook asked the kernel for every
# thread's FS and GS base (`arch_prctl(ARCH_GET_FS/GS)`) and recorded where that
# M's `m.tls` array is:

# %%
if LIVE:
    all_ms = [m for r in [idle_report, *reports.values()] for m in r.ms]
    print("Ms checked:", len(all_ms) > 10)
    print("every FS base == &m.tls[0] + 8:", all(m.fs_is_m_tls_plus_8 for m in all_ms))
    print("every GS base == 0:", all(m.gs_base == 0 for m in all_ms))
    settls_call = nb.cite("settls", asm=True)

# %% tags=["claim:4.2-1", "claim:4.2-3"]
if LIVE:
    arch = trace.strace_run([idle.path], syscalls=["arch_prctl"]).syscalls("arch_prctl")
    set_fs = [c for c in arch if c.args[0] == "ARCH_SET_FS"]
    print("arch_prctl(ARCH_SET_FS) calls in the whole run:", len(set_fs))
    nb.confirm("4.2-1", all(m.gs_base == 0 for m in all_ms) and all(m.fs_is_m_tls_plus_8 for m in all_ms)
               and len(set_fs) == 1,
               "FS holds TLS on linux/amd64 (one ARCH_SET_FS for m0, CLONE_SETTLS for the rest); GS is 0 on every thread")
    nb.confirm("4.2-3", all(m.fs_base == m.m_tls + 8 for m in all_ms),
               "the FS base is &m.tls[0]+8 for every M, not g0.stack.hi")

# %% [markdown]
# The compiled code agrees. The seed says the current `g*` is at `gs:[0]` and
# that R14 caches it "as the `getg()` assembly macro". Counting the instructions
# of the idle binary that use each segment register, and what they do:

# %% tags=["claim:4.2-4", "claim:4.2-5"]
if LIVE:
    dis = binary.disassemble(idle.path)  # GNU objdump's AT&T syntax
    fs_lines = [l for l in dis if "%fs:" in l]
    minus8 = [l for l in fs_lines if "%fs:0xfffffffffffffff8" in l]  # -8(FS) as objdump prints it
    into_r14 = [l for l in minus8 if l.rstrip().endswith(",%r14")]
    gs_uses = sum(l.count("%gs:") for l in dis)
    print("instructions using %fs: more than 100:", len(fs_lines) > 100,
          "| every one of them addresses -8(FS):", len(minus8) == len(fs_lines), "| instructions using %gs:", gs_uses)
    print("most of them load that slot into R14:", len(into_r14) > len(minus8) / 2)
    getg = nb.cite("getg")
    nb.confirm("4.2-4", len(fs_lines) > 100 and len(minus8) == len(fs_lines) and gs_uses == 0,
               "the current g is read through -8(FS); no instruction touches %gs")
    nb.confirm("4.2-5", len(into_r14) > len(minus8) / 2,
               "R14 does hold the current g (loaded from -8(FS)); getg itself is a compiler intrinsic in stubs.go, not an assembly macro")

# %% [markdown]
# The seed also says new threads are made by `newosproc0` "which then
# immediately runs `minit`". `newosproc0` is called only from the start-up
# code of c-archive/c-shared builds without cgo: in Go 1.27 from `libInit`
# (libinit.go), in Go 1.22-1.26 from assembly entry points named
# `_rt0_<arch>_lib` (the cell prints the function each call sits in, so it
# follows your release). Every ordinary M goes `newm` -> `newm1` ->
# `newosproc`, and `minit` runs in `mstart1` on every M -- the hook sits right
# after that call and fired once on every M, m0 included:

# %% tags=["claim:4.2-8"]
callers0 = [c for c in goroot.grep(r"newosproc0\(") if not c.text.startswith("func ")]
inside = {c: goroot.enclosing(c) for c in callers0}
for c in callers0:
    print(f"{c.file}:{c.line}: in {inside[c]}: {c.text}")
if LIVE:
    started = all(m.t_start is not None for r in [idle_report, *reports.values()] for m in r.ms)
    library_only = bool(callers0) and all("lib" in name.lower() for name in inside.values())
    nb.confirm("4.2-8", started and library_only,
               "newosproc0 only serves library builds; minit runs in mstart1 on every M (a start record for each)")

# %% [markdown]
# ## 4.3 g0 stacks
#
# The seed (4.3): g0 has *固定大小(通常 8KB)的预分配栈* -- "a fixed, pre-allocated
# stack, **usually 8 KB**".
#
# The hook recorded each M's g0 bounds. m0 runs on the process's main stack and
# the runtime marks a 64 KiB window below the stack pointer at start-up as its
# bounds; every other M, without cgo, gets a 16 KiB g0 stack from `malg`. With
# cgo, threads come from `pthread_create`, and g0 is the whole pthread stack:

# %%
for c in goroot.grep(r"malg\(16384|\(-64\*1024\)\(SP\)"):
    print(f"{c.file}:{c.line}: {c.text}")
if LIVE and nb.live("cc"):
    cgo_report = threads.observe(LABS / "threads_cgo", args=("3",))
    show_checks(cgo_report)

# %% tags=["claim:4.3-3"]
if LIVE and nb.live("cc"):
    plain = [idle_report, *reports.values()]
    m0_sizes = {r.ms[0].g0_size for r in plain}
    other_sizes = {m.g0_size for r in plain for m in r.ms[1:]}
    cgo_sizes = {m.g0_size for m in cgo_report.ms[1:]}
    print("seed: 8 KB =", 8 * 1024, "bytes")
    print("m0 g0 bounds (no cgo):", m0_sizes, "bytes")
    print("other Ms (no cgo):", other_sizes, "bytes")
    print("cgo Ms: all above 1 MiB:", all(s > 1 << 20 for s in cgo_sizes),
          "| their FS base is glibc's thread block, not &m.tls+8:",
          not any(m.fs_is_m_tls_plus_8 for m in cgo_report.ms))
    nb.confirm("4.3-3", m0_sizes == {64 * 1024} and other_sizes == {16 * 1024}
               and all(s > 1 << 20 for s in cgo_sizes),
               "g0 is 64 KiB (window) for m0, 16 KiB for other Ms without cgo, the pthread stack with cgo; never 8 KB")

# %% [markdown]
# With cgo the clone is glibc's: `pthread_create` calls `clone3` with a stack
# of its own choosing and `CLONE_SETTLS` pointing at glibc's thread block. The
# stack size strace shows is about the g0 size the hook measured:

# %% tags=["claim:4.1-7"]
if LIVE and nb.live("cc"):
    from gorun_kit.trace.strace import struct_fields
    cgo_bin = threads.build(LABS / "threads_cgo")
    calls = trace.strace_run([cgo_bin.path, "2"], syscalls=["clone3"]).syscalls("clone3")
    c3 = [struct_fields(c.args[0]) for c in calls if "CLONE_THREAD" in c.args[0]]  # clone_args as strace shows it
    sizes = {int(a["stack_size"], 16) for a in c3}
    print("threads made with clone3:", len(c3) > 0, "| CLONE_SETTLS on each:",
          all("CLONE_SETTLS" in a["flags"].split("|") for a in c3))
    print("strace stack_size within 64 KiB of the hook's g0 size:",
          all(any(abs(s - g) < 65536 for g in cgo_sizes) for s in sizes))
    nb.confirm("4.1-7", c3 and all("CLONE_SETTLS" in a["flags"].split("|") for a in c3) and sizes
               and all(any(abs(s - g) < 65536 for g in cgo_sizes) for s in sizes),
               "with cgo, Ms are pthreads made by clone3, and g0 is the pthread stack")

# %% [markdown]
# ## 4.4 The hook: the seed's patch, then one that works
#
# The seed (4.4) inserts its `traceThreadCreate` "at the end of `newm1`" and
# says the order is `newm` -> `newm1` -> `allocm`; it also says the
# `runtime·newm` assembly entry in `asm_amd64.s` must change. First the order
# and the "assembly entry", from the source:

# %% tags=["claim:4.4-1", "claim:4.4-2"]
newm = nb.cite("newm")
body = goroot.func_source(newm, max_lines=80).splitlines()
at_allocm = next(i for i, l in enumerate(body) if "allocm(" in l and "mp :=" in l)
at_newm1 = next(i for i, l in enumerate(body) if l.strip().startswith("newm1("))
print(f"line {newm.line + at_allocm}: {body[at_allocm].strip()}")
print(f"line {newm.line + at_newm1}: {body[at_newm1].strip()}")
asm_newm = goroot.grep(r"^TEXT\s+runtime·newm\(", suffixes=(".s",))
nb.confirm("4.4-1", at_allocm < at_newm1, "newm calls allocm first, then newm1 (which calls newosproc)")
nb.confirm("4.4-2", not asm_newm, "newm is plain Go: no TEXT runtime·newm in any .s file")

# %% [markdown]
# The seed's code, quoted, spliced in as generously as it can be read (the
# function at the top level of `proc.go`, a call to it as `newm1`'s last
# statement), and built with `go build -overlay`. The compiler's output, live:

# %%
print(threads.SEED_PATCH)

# %% tags=["claim:4.4-3"]
seed_error = None
if LIVE:
    try:
        threads.seed_patch_attempt(LABS / "threads_idle")
    except BuildError as exc:
        seed_error = exc
        print(paths.shorten(exc.output))
    messages = [d.message for d in seed_error.diagnostics] if seed_error else []
    nb.confirm("4.4-3", seed_error is not None and any("openat" in m for m in messages)
               # Go 1.22 words it "pid declared and not used"; 1.23+ "declared and not used: pid"
               and any("declared and not used" in m and "pid" in m for m in messages),
               "the seed's patch does not compile: openat is undefined, itoa has another signature, pid is unused")

# %% [markdown]
# Even with those fixed, it could not work: it runs in the *parent* (so the new
# thread's tid is not known yet), it treats `mp.id` (the runtime's M number
# 0, 1, 2, ...) as a kernel thread id, and `getg().m.p` is nil when `newm` is
# called from sysmon or the template thread, which run without a P.
#
# What works (`gorun_kit/threads/` and `gorun_kit/_src/runtime_patches/`):
#
# * the patch is made on a **copy** of `proc.go` in the cache and mapped in with
#   `-overlay`, plus two added files of package `runtime`; the three calls are
#   found by the structure of `newm`, `newm1` and `mstart1` and appended to the
#   anchor line, so every line number in `proc.go` stays the same;
# * the child-side record is written **on the new thread**, after `minit` has set
#   `m.procid = gettid()`;
# * it allocates nothing and has no write barriers -- `mstart0` is
#   `//go:nowritebarrierrec` and the compiler refuses heap allocation in package
#   runtime, so a mistake is a compile error, not a crash. Records are built in
#   a stack buffer and written with one `write(2)` each, to the fd or file named
#   by `$GORUN_KIT_THREADS`; without it the program behaves as if unpatched.
#
# The splice points, in this release:

# %% tags=["claim:4.4-4", "claim:4.4-6"]
if LIVE:
    before = goroot.digest("runtime")  # a hash of every file under GOROOT/src/runtime
    p = threads.patch(go)
    for call, line in p.spliced:
        print(f"proc.go:{line}: ... ; {call}")
    ok_report = threads.observe(LABS / "threads_idle")
    after = goroot.digest("runtime")
    print("GOROOT/src/runtime unchanged:", before == after)
    show_checks(ok_report)
    ids = sorted(m.m for m in ok_report.ms)
    nb.confirm("4.4-4", ids == list(range(len(ids))) and set(ok_report.tids) == set(ok_report.proc_tasks)
               and not set(ids) & set(ok_report.tids),
               "M ids are the runtime's numbers 0..n-1; the kernel tids are different numbers, the ones in /proc/<pid>/task")
    nb.confirm("4.4-6", before == after and ok_report.ok,
               "the overlay hook builds, runs on every new thread after minit, agrees with strace and /proc, and leaves GOROOT unchanged")

# %% [markdown]
# ### What the hook shows: the threads a do-nothing program has, and why
#
# `labs_go/threads_idle` sleeps 300 ms and prints one line. Its Ms, and the
# call chain into `newm` for each:

# %%
# NBVAL_IGNORE_OUTPUT
if LIVE:
    print(idle_report.table())
    print()
    for m in idle_report.ms[1:]:
        print(f"M{m.m}: " + " < ".join(f.replace("runtime.", "") for f in m.via[:5]))

# %%
if LIVE:
    show_checks(idle_report)
    print("program output:", repr(idle_report.stdout), "exit status", idle_report.exit_status)
    roles = {m.start_fn for m in idle_report.ms}
    via = {m.m: m.via for m in idle_report.ms}
    sysmon = [m for m in idle_report.ms if m.start_fn == "runtime.sysmon"]
    print("sysmon has its own M, started by runtime.main on m0:",
          len(sysmon) == 1 and sysmon[0].asked_by_m == 0 and "runtime.main.func1" in sysmon[0].via)
    # Which reasons occur, and how often, depends on timing (the table above
    # shows this run's); what holds in every run is that each M has one of them.
    reasons = ("runtime.main.func1", "runtime.wakep", "runtime.handoffp")
    print("every other M was made by sysmon's start, wakep (a spinning M) or handoffp:",
          all(any(r in via[m.m] for r in reasons) for m in idle_report.ms[1:]))
    assert idle_report.ok

# %% [markdown]
# So even an idle program gets a handful of threads, each for a reason the
# record names:
#
# * **sysmon** -- the monitor thread, started by `runtime.main` before `main.main`;
#   it runs without a P and wakes up periodically (it is what retakes Ps from
#   threads stuck in system calls, below).
# * **spinning Ms** (`runtime.mspinning`) -- when a new goroutine is made
#   runnable (`newproc`) and a P is idle, `wakep` starts an M to look for work.
#   This program creates no goroutine of its own, so the goroutine that caused
#   it is one of the runtime's.
# * **hand-off Ms** -- `runtime.main` keeps the main goroutine *locked* to m0
#   while package `init`s run; when it blocks there, m0 cannot run anything
#   else, so it hands its P to another M (`stoplockedm` -> `handoffp` -> `startm`).
#
# Which of these you get, and how many, depends on timing; the hook records
# what happened in this run. The hand-off comes from `runtime.main` itself:
# it locks the main goroutine to m0, then `gcenable` starts the background
# sweeper and scavenger and waits for both to report -- the first time the
# locked main goroutine blocks:

# %%
# (mkduff.go, a generator excluded from builds, has a main too: take proc.go's)
rmain = next(c for c in goroot.grep(r"^func main\(\) \{") if c.file.endswith("runtime/proc.go"))
print(f"runtime.main: {rmain.file}:{rmain.line}")
body = goroot.func_source(rmain, max_lines=200).splitlines()
marks = {}
for i, line in enumerate(body):
    for key in ("lockOSThread()", "gcenable()", "unlockOSThread()"):
        if line.strip() == key:
            marks.setdefault(key, []).append(rmain.line + i)
# (the first unlockOSThread() sits in the deferred func that covers Goexit during init)
for key, lines in marks.items():
    print(f"{rmain.file}:{lines}: {key}")

# %%
gcenable = goroot.func_source(nb.cite("gcenable"), max_lines=40)
print("gcenable waits on its channel:", "<-c" in gcenable)
print("order lock -> gcenable -> unlock:",
      marks["lockOSThread()"][0] < marks["gcenable()"][0] < marks["unlockOSThread()"][-1])

# %% [markdown]
# Who created whom:

# %%
tviz.creation_tree(idle_report) if LIVE else None

# %% [markdown]
# ### Threads that appear on demand: a timeline per experiment
#
# Three programs, each run with the hook; in the timelines, `|` marks the moment
# `newm` was called, the grey bar the time from `newm1` (clone) until the new
# thread ran `minit`, and the coloured bar the thread's life.
#
# 1. `threads_syscalls 6`: six goroutines block in a raw `nanosleep` system
#    call. A goroutine in a blocking syscall keeps its M; **sysmon** notices the
#    P stuck in `_Psyscall` and takes it away (`retake` -> `handoffp`), and a new
#    M is started to run everything else.
# 2. `threads_locked 3`: three goroutines call `runtime.LockOSThread` and park.
#    Each locked goroutine keeps an M to itself. The first lock starts the
#    **template thread**, and Ms wanted by a locked thread are cloned *by the
#    template thread* (dashed edges), so they do not inherit a locked thread's
#    odd kernel state.
# 3. `threads_gomaxprocs 6`: GOMAXPROCS goes from the default to 6, and 6
#    goroutines spin for 60 ms. Each P with work needs an M; the spinning Ms
#    start one another (`resetspinning` -> `wakep`).

# %%
# NBVAL_IGNORE_OUTPUT
for name, r in reports.items():
    print(f"--- {name}")
    print(r.table())

# %%
if LIVE:
    syscall_ms = [m for m in reports["syscalls"].ms if "runtime.retake" in m.via]
    print("syscalls: some Ms were made because sysmon retook a P from a blocked syscall:", len(syscall_ms) > 0)
    print("syscalls: those were asked for by the sysmon M itself:",
          all(m.asked_by_m == next(x.m for x in reports["syscalls"].ms if x.start_fn == "runtime.sysmon")
              for m in syscall_ms))

# %%
if LIVE:
    locked = reports["locked"]
    template = [m for m in locked.ms if m.start_fn == "runtime.templateThread"]
    by_template = [m for m in locked.ms if template and m.cloned_by_m == template[0].m]
    print("locked: a template thread exists, started from LockOSThread:",
          len(template) == 1 and "runtime.LockOSThread" in template[0].via)
    print("locked: some Ms were asked for by one M but cloned by the template thread:",
          any(m.asked_by_m != m.cloned_by_m for m in by_template))
    print("locked: at least 3 locked goroutines + sysmon + template thread worth of Ms:", len(locked.ms) >= 3 + 2)
    print("gomaxprocs: at least 6 Ps' worth of Ms plus sysmon:", len(reports["gomaxprocs"].ms) >= 6 + 1)
    assert all(r.ok for r in reports.values())

# %%
for name, r in ([("idle", idle_report)] if LIVE else []) + list(reports.items()):
    display(tviz.timeline(r, title=r.stdout.strip()))

# %%
tviz.creation_tree(reports["locked"]) if LIVE else None

# %% [markdown]
# ## Try it
#
# * `gorun-kit threads labs_go/threads_syscalls -- 8` prints the table and the
#   cross-checks for any Go program (`--json FILE` keeps the records;
#   `--go 1.22` runs the same hook on Go 1.22, installed from PyPI into the cache).
# * Exercises: `exercises/04_newosproc_threads_exercises.ipynb` (extend the hook
#   in Go: mark the Ms created because of blocking system calls) and
#   `exercises/04_creation_tree_exercises.ipynb` (depths and creators in the
#   creation tree).
