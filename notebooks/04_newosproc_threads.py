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
# # 04 · `newosproc`, g0 and TLS: watching the runtime make threads
#
# A Go program is one process with several OS threads. The runtime calls them
# **M**s ("machines"); each runs goroutines on behalf of a **P** (a scheduling
# slot; there are `GOMAXPROCS` of them) and owns a small goroutine of its own,
# **g0**, whose stack the scheduler runs on.
#
# The seed's chapter 4 (第四章 runtime.newosproc与goroutine调度底层联动) is about
# exactly this: how `newosproc` starts a thread, how thread-local storage finds the
# current goroutine, what g0 is, how to patch the runtime with a hook that
# reports each new thread, and how all this links to the goroutine scheduler.
# This chapter measures each point on the installed release, with one
# instrument built for the purpose:
#
# **The instrument.** `gorun_kit.threads` builds a program against a *patched
# copy* of the runtime with `go build -overlay` (GOROOT is never written). The
# patch records, for every M: who asked for it and the call chain that led
# there (in `newm`), which thread called `clone` (in `newm1`), and -- on the
# new thread itself, right after `minit` -- its kernel thread id, g0 stack
# bounds and FS/GS base, each with a timestamp. How it is built, and what the
# compiler lets it do, is section 4.4. Every run is cross-checked against the
# course's ptrace tracer (`gorun_kit.trace`, chapter 3), the tasks in
# `/proc/<pid>/task` and `GODEBUG=schedtrace`; gdb and strace add what the
# hook cannot see.
#
# Thread counts and ids change from run to run; each statement the text makes
# is asserted by the cell that shows it, and the seed's claims are side notes.

# %%
from gorun_kit import nb

stamp = nb.stamp()

# %%
# %matplotlib inline
import os
from pathlib import Path
from IPython.display import display

from gorun_kit import binary, goroot, paths, threads, trace
from gorun_kit.build import BuildError, build_go
from gorun_kit.threads import gdb, scheduler
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
# Where is the function that starts a thread, and what does it take? Ask the
# installed GOROOT where `newosproc` is, and whether any assembly file defines
# a `TEXT ·newosproc` symbol:

# %% tags=["claim:4.1-1", "claim:4.1-2", "claim:4.1-3"]
where = nb.cite("newosproc")
print(where.text)
asm_defs = goroot.grep(r"^TEXT\s+runtime·newosproc\(", suffixes=(".s",))
print("TEXT runtime·newosproc in any runtime/*.s:", asm_defs or "none")
nb.confirm("4.1-1", where.file.endswith("os_linux.go") and not asm_defs,
           "newosproc is a Go function in runtime/os_linux.go, with no assembly entry",
           measured=f"{Path(where.file).name}:{where.line}", quiet=True)
nb.confirm("4.1-2", where.text.startswith("func newosproc(mp *m)"),
           "its parameter is the new M (mp *m), not a *g", measured=where.text.rstrip(" {"), quiet=True)
nb.confirm("4.1-3", not asm_defs, "the seed's TEXT runtime·newosproc snippet matches no real symbol",
           measured=f"{len(asm_defs)} TEXT symbols")

# %% [markdown]
# The seed (4.1) says *newosproc 是 Go 运行时在 Linux/amd64 上创建新 OS 线程的核心汇编入口,位于
# runtime/asm_amd64.s。它接收一个 \*g(goroutine)指针* -- an **assembly** entry in
# `asm_amd64.s` taking a `*g`; measured: a Go function in `os_linux.go` taking the
# new M. Its body blocks signals, then calls the assembly wrapper
# `runtime·clone` with the new M's g0 stack top, the M, its g0 and `mstart` as
# the function the child runs first:

# %%
print(goroot.func_source(where))

# %% [markdown]
# ### The clone flags, in the source and on the wire
#
# Which flags does the kernel receive? They come from the constant
# `cloneFlags` in the same file; the assembly wrapper then ORs in
# `CLONE_SETTLS` (0x80000) and passes `&m.tls[0]+8` as the new thread's TLS
# base. The cell reads both from the source, then traces a small program --
# with the course's ptrace tracer and, independently, with `strace -f`:

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
    t = trace.run([idle.path])  # the course's tracer: flags from the PTRACE_EVENT_CLONE stop
    traced = {frozenset(f.removeprefix("CLONE_") for f in s.flag_names) for s in t.spawns if s.is_thread}
    st = trace.strace_run([idle.path])  # strace: flags as it decodes the syscall's argument
    straced = {frozenset(f.removeprefix("CLONE_") for f in s.flag_names) for s in st.spawns if s.is_thread}
    print(f"gorun_kit.trace saw {len(t.thread_tids(t.root_pid))} thread clones, strace {len(st.thread_tids(st.root_pid))} thread clones")
    for flags in traced | straced:
        print("   ", "|".join("CLONE_" + f for f in sorted(flags)), f"= {sum(trace.CLONE_FLAGS[f'CLONE_{f}'] for f in flags):#x}")
    nb.confirm("4.1-4", traced == straced == {frozenset(source_flags | {"SETTLS"})} and bool(settls),
               "every thread clone carries exactly cloneFlags plus CLONE_SETTLS, which the assembly adds "
               "(the tracer and strace agree)", measured=f"{len(traced | straced)} distinct flag set")

# %% [markdown]
# Every thread clone of the run, seen by two tracers, carries one and the same
# flag set: the source's `cloneFlags` plus `CLONE_SETTLS`.
#
# ### The first instruction of a new thread
#
# What state is a new thread in when it runs its first Go instruction? The
# `clone` system call takes no entry function: the child returns from the same
# `SYSCALL` instruction as the parent, in `runtime·clone`, and that assembly
# sets SP, stores g0 into the TLS slot and R14 and then calls `mstart`.
# `gorun_kit.threads.gdb` stops every thread of a program at the first
# instruction of `runtime.mstart` under gdb and reads its registers and
# runtime words (field offsets from the binary's DWARF, read with pyelftools):

# %%
if LIVE and nb.live("gdb"):
    entries = gdb.mstart_entries(build_go(LABS / "threads_idle").path)
    made = [e for e in entries if not e.main_thread]
    print(f"stopped at mstart: the main thread and {len(made)} Go-made threads")
    print("thread       on g0  g0.stack.hi - rsp  rsp mod 16  [rsp] returns into     g0.sched.sp/pc  g0 size")
    rows = {("main (m0)" if e.main_thread else "Go-made", "yes" if e.on_g0 else "no", e.below_stack_hi, e.rsp % 16,
             e.return_symbol, f"{e.g0_sched_sp:#x}/{e.g0_sched_pc:#x}", e.g0_stack_hi - e.g0_stack_lo) for e in entries}
    for who, on_g0, below, mod, ret, sched, size in sorted(rows, reverse=True):
        print(f"{who:<12} {on_g0:<6} {below:<18} {mod:<11} {ret:<22} {sched:<15} {size}")

# %% [markdown]
# Read the Go-made rows: the thread is on g0 already, its stack holds one
# word (8 bytes below `g0.stack.hi`: the return address into `runtime.clone`),
# and `g0.sched` is still zero. (Each distinct row is printed once; how many
# Go-made threads an idle program gets varies from run to run.)
#
# The seed (4.1, 4.3) says `clone` "uses `mstart` as its entry", lays out a
# gobuf frame (`gobuf.sp`, `gobuf.pc`, `gobuf.g` at offsets 0, -8, -16) at the
# stack top, and that `mstart` "must switch to the `m->g0` stack at once";
# measured: none of the three.

# %% tags=["claim:4.1-5", "claim:4.1-6", "claim:4.3-1"]
if LIVE and nb.live("gdb"):
    nb.confirm("4.1-5", made and all(e.return_symbol == "runtime.clone.abi0" and e.below_stack_hi == 8
                                     and e.rsp % 16 == 8 for e in made),
               "a Go-made thread enters mstart by a CALL from runtime.clone's child branch; the only word on its "
               "stack is that return address (rsp = g0.stack.hi - 8, so rsp is 8 mod 16 at entry, as after any CALL)",
               measured=sorted({f"{e.return_symbol}, hi-rsp={e.below_stack_hi}" for e in made}))
    nb.confirm("4.1-6", all(e.g0_sched_sp == 0 and e.g0_sched_pc == 0 for e in entries),
               "no gobuf is laid out on the stack: g0.sched (a field of the g struct) is still zero at mstart; "
               "mstart1 fills it in later", measured="g0.sched.sp = pc = 0", quiet=True)
    nb.confirm("4.3-1", made and all(e.on_g0 for e in made),
               "a Go-made thread starts on g0: the TLS slot, R14 and m.g0 are the same pointer at its first "
               "instruction, so there is nothing to switch", measured="TLS g == R14 == m.g0", quiet=True)

# %% [markdown]
# The same probe, pointed at the hooked build of the program, sees the same
# threads the hook reports, with the same g0 stacks
# (`tests/test_threads_gdb.py` checks it tid by tid).
#
# The measurements the sections below discuss come from one run of each lab
# program with the hook (the cell prints how long each took). `threads.CALLERS_EXTENSION`
# adds to every `new` record the call chain that led into `newm`, so a record
# also says *why* an M was made. Each run's cross-checks against the tracer,
# `/proc` and schedtrace:

# %%
experiments = {"syscalls": ("threads_syscalls", ("6",)), "locked": ("threads_locked", ("3",)),
               "gomaxprocs": ("threads_gomaxprocs", ("6",))}
reports, took = {}, {}
if LIVE:
    import time
    ext = threads.CALLERS_EXTENSION.read_text()
    for name, (lab, args) in {"idle": ("threads_idle", ()), **experiments}.items():
        t0 = time.monotonic()  # build (cached after the first time) + traced run + cross-checks
        reports[name] = threads.observe(LABS / lab, args=args, extension=ext)
        took[name] = time.monotonic() - t0
    idle_report = reports.pop("idle")
    for name, r in [("idle", idle_report), *reports.items()]:
        print(f"--- {name}: {r.stdout.strip()} (observed in {took[name]:.2f} s)")
        show_checks(r)

# %% [markdown]
# ## 4.2 TLS: the FS base, not GS
#
# How does code running on a thread find its current goroutine? The hook asked
# the kernel for every thread's FS and GS base (`arch_prctl(ARCH_GET_FS/GS)`)
# and recorded where that M's `m.tls` array is. The first Ms of the idle
# program, and the differences over every M of the four runs:

# %%
if LIVE:
    all_ms = [m for r in [idle_report, *reports.values()] for m in r.ms]
    for m in idle_report.ms[:2]:  # m0 and sysmon (M1) are there in every run
        print(f"M{m.m} {m.start_fn:<18} tid {m.tid}: FS base {m.fs_base:#x} = &m.tls[0] {m.m_tls:#x} "
              f"+ {m.fs_base - m.m_tls}, GS base {m.gs_base}")
    print(f"FS base - &m.tls[0] over all {len(all_ms)} Ms: {sorted({m.fs_base - m.m_tls for m in all_ms})}; "
          f"GS bases: {sorted({m.gs_base for m in all_ms})}")
    settls_call = nb.cite("settls", asm=True)

# %% [markdown]
# In these four programs (none uses cgo), each thread's FS base points 8 bytes
# into its own M's `tls` array, and GS is 0 everywhere; with cgo the FS base
# is glibc's thread block instead (section 4.3). m0's FS is set once with `arch_prctl(ARCH_SET_FS)` by
# `settls`; every other M gets it from `clone(CLONE_SETTLS)`. strace counts the
# `ARCH_SET_FS` calls of a whole run:

# %% tags=["claim:4.2-1", "claim:4.2-3"]
if LIVE:
    arch = trace.strace_run([idle.path], syscalls=["arch_prctl"]).syscalls("arch_prctl")
    set_fs = [c for c in arch if c.args[0] == "ARCH_SET_FS"]
    print("arch_prctl(ARCH_SET_FS) calls in the whole run:", len(set_fs))
    nb.confirm("4.2-1", all(m.gs_base == 0 for m in all_ms) and all(m.fs_is_m_tls_plus_8 for m in all_ms)
               and len(set_fs) == 1,
               "FS holds TLS on linux/amd64 (without cgo: one ARCH_SET_FS for m0, CLONE_SETTLS for the rest); "
               "GS is 0 on every thread",
               measured=f"{len(set_fs)} ARCH_SET_FS; GS base {sorted({m.gs_base for m in all_ms})}")
    nb.confirm("4.2-3", all(m.fs_base == m.m_tls + 8 for m in all_ms),
               "without cgo, the FS base is &m.tls[0]+8 for every M, not g0.stack.hi",
               measured=f"FS - &m.tls = {sorted({m.fs_base - m.m_tls for m in all_ms})}", quiet=True)

# %% [markdown]
# The seed (4.2) says the runtime initialises **gs** and that `settls` writes
# `g0.stack.hi` into the gs base (*settls将g0.stack.hi写入gs.base MSR*); measured:
# FS, holding `&m.tls[0]+8`.
#
# The compiled code agrees. The seed also says the current `g*` is at `gs:[0]`
# and that R14 caches it "as the `getg()` assembly macro". Counting the
# instructions of the idle binary that use each segment register, and what
# they do:

# %% tags=["claim:4.2-4", "claim:4.2-5"]
if LIVE:
    dis = binary.disassemble(idle.path)  # GNU objdump's AT&T syntax
    fs_lines = [l for l in dis if "%fs:" in l]
    minus8 = [l for l in fs_lines if "%fs:0xfffffffffffffff8" in l]  # -8(FS) as objdump prints it
    into_r14 = [l for l in minus8 if l.rstrip().endswith(",%r14")]
    gs_uses = sum(l.count("%gs:") for l in dis)
    print(f"instructions using %fs: {len(fs_lines)}, addressing -8(FS): {len(minus8)}, "
          f"loading -8(FS) into R14: {len(into_r14)}, using %gs: {gs_uses}")
    getg = nb.cite("getg")
    nb.confirm("4.2-4", len(fs_lines) > 100 and len(minus8) == len(fs_lines) and gs_uses == 0,
               "the current g is read through -8(FS); no instruction touches %gs", quiet=True,
               measured=f"{len(minus8)} of {len(fs_lines)} %fs uses at -8(FS), {gs_uses} %gs")
    nb.confirm("4.2-5", len(into_r14) > len(minus8) / 2,
               "R14 does hold the current g (loaded from -8(FS)); getg itself is a compiler intrinsic in stubs.go, "
               "not an assembly macro", measured=f"{len(into_r14)} loads into R14", quiet=True)

# %% [markdown]
# Every `%fs:` access in the binary is the one slot at -8(FS), most of them
# loading it into R14, the register ABIInternal keeps the current g in; no
# instruction uses `%gs:`.
#
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
    started = sum(m.t_start is not None for r in [idle_report, *reports.values()] for m in r.ms)
    library_only = bool(callers0) and all("lib" in name.lower() for name in inside.values())
    print(f"Ms without a start record (written on the new thread after minit): {len(all_ms) - started}")
    nb.confirm("4.2-8", started == len(all_ms) and library_only,
               "newosproc0 only serves library builds; minit runs in mstart1 on every M (a start record for each)",
               measured=sorted(set(inside.values())), quiet=True)

# %% [markdown]
# ## 4.3 g0 stacks
#
# How big is the stack the scheduler runs on? The hook recorded each M's g0
# bounds. m0 runs on the process's main stack and the runtime marks a 64 KiB
# window below the stack pointer at start-up as its bounds; every other M,
# without cgo, gets a 16 KiB g0 stack from `malg`. With cgo, threads come from
# `pthread_create`, and g0 is the whole pthread stack. The source lines, then
# the cgo lab with the hook:

# %%
for c in goroot.grep(r"malg\(16384|\(-64\*1024\)\(SP\)"):
    print(f"{c.file}:{c.line}: {c.text}")
if LIVE and nb.live("cc"):
    cgo_report = threads.observe(LABS / "threads_cgo", args=("3",), extension=ext)
    show_checks(cgo_report)

# %% tags=["claim:4.3-3"]
if LIVE and nb.live("cc"):
    plain = [idle_report, *reports.values()]
    m0_sizes = {r.ms[0].g0_size for r in plain}
    other_sizes = {m.g0_size for r in plain for m in r.ms[1:]}
    cgo_sizes = {m.g0_size for m in cgo_report.ms[1:]}
    print("m0 g0 bounds (no cgo):", m0_sizes, "bytes")
    print("other Ms (no cgo):", other_sizes, "bytes")
    print("Ms with cgo:", sorted(cgo_sizes), "bytes; FS base = &m.tls+8 on",
          sum(bool(m.fs_is_m_tls_plus_8) for m in cgo_report.ms), "of them (glibc's thread block instead)")
    nb.confirm("4.3-3", m0_sizes == {64 * 1024} and other_sizes == {16 * 1024}
               and all(s > 1 << 20 for s in cgo_sizes),
               "g0 is 64 KiB (window) for m0, 16 KiB for other Ms without cgo, the pthread stack with cgo; never 8 KB",
               measured=f"{sorted(m0_sizes | other_sizes)} bytes, cgo > 1 MiB")

# %% [markdown]
# The seed (4.3) says g0 has *固定大小(通常 8KB)的预分配栈* -- a fixed stack of
# "usually 8 KB" (8192 bytes); measured: 64 KiB, 16 KiB, or megabytes with cgo.
#
# With cgo the clone is glibc's: `pthread_create` calls `clone3` with a stack
# of its own choosing and `CLONE_SETTLS` pointing at glibc's thread block. The
# stack size strace shows is about the g0 size the hook measured:

# %% tags=["claim:4.1-7"]
if LIVE and nb.live("cc"):
    from gorun_kit.trace.strace import struct_fields
    cgo_bin = threads.build(LABS / "threads_cgo", extension=ext)
    calls = trace.strace_run([cgo_bin.path, "2"], syscalls=["clone3"]).syscalls("clone3")
    c3 = [struct_fields(c.args[0]) for c in calls if "CLONE_THREAD" in c.args[0]]  # clone_args as strace shows it
    sizes = {int(a["stack_size"], 16) for a in c3}
    settls_all = all("CLONE_SETTLS" in a["flags"].split("|") for a in c3)
    print(f"clone3 stack_size: {sorted(sizes)} bytes; the hook's g0 sizes: {sorted(cgo_sizes)} bytes")
    nb.confirm("4.1-7", c3 and settls_all and sizes and all(any(abs(s - g) < 65536 for g in cgo_sizes) for s in sizes),
               "with cgo, Ms are pthreads made by clone3, and g0 is the pthread stack", quiet=True,
               measured=f"clone3 with CLONE_SETTLS, stack {sorted(sizes)}")

# %% [markdown]
# ## 4.4 The hook: the seed's patch, then one that works
#
# Where can a hook see a new thread? The seed (4.4) inserts its
# `traceThreadCreate` "at the end of `newm1`" and says the order is `newm` ->
# `newm1` -> `allocm`; it also says the `runtime·newm` assembly entry in
# `asm_amd64.s` must change. First the order and the "assembly entry", from
# the source:

# %% tags=["claim:4.4-1", "claim:4.4-2"]
newm = nb.cite("newm")
body = goroot.func_source(newm, max_lines=80).splitlines()
at_allocm = next(i for i, l in enumerate(body) if "allocm(" in l and "mp :=" in l)
at_newm1 = next(i for i, l in enumerate(body) if l.strip().startswith("newm1("))
print(f"line {newm.line + at_allocm}: {body[at_allocm].strip()}")
print(f"line {newm.line + at_newm1}: {body[at_newm1].strip()}")
asm_newm = goroot.grep(r"^TEXT\s+runtime·newm\(", suffixes=(".s",))
nb.confirm("4.4-1", at_allocm < at_newm1, "newm calls allocm first, then newm1 (which calls newosproc)", quiet=True,
           measured=f"allocm at line {newm.line + at_allocm}, newm1 at {newm.line + at_newm1}")
nb.confirm("4.4-2", not asm_newm, "newm is plain Go: no TEXT runtime·newm in any .s file", quiet=True,
           measured=f"{len(asm_newm)} TEXT symbols")

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
               "the seed's patch does not compile: openat is undefined, itoa has another signature, pid is unused",
               measured=f"{len(messages)} compile errors", quiet=True)

# %% [markdown]
# Even with those fixed, it could not work: it runs in the *parent* (so the new
# thread's tid is not known yet), it treats `mp.id` (the runtime's M number
# 0, 1, 2, ...) as a kernel thread id, and `getg().m.p` is nil when `newm` is
# called from sysmon or the template thread, which run without a P.
#
# What works (`gorun_kit/threads/` and `gorun_kit/_src/runtime_patches/`):
#
# * the patch is made on a **copy** of `proc.go` in the cache and mapped in with
#   `-overlay`, plus three added files of package `runtime`; the three calls of
#   the thread hook are found by the structure of `newm`, `newm1` and `mstart1`
#   and appended to the anchor line, so every line number in `proc.go` stays
#   the same (three more calls, in `main` and `os_beforeExit`, start and stop
#   the runtime's execution trace when `$GORUN_KIT_EXECTRACE` names a file;
#   they serve the joined timelines at the end of this section);
# * the child-side record is written **on the new thread**, after `minit` has set
#   `m.procid = gettid()`;
# * it allocates nothing on the heap and has no write barriers: `mstart0` is
#   `//go:nowritebarrierrec`, so the compiler rejects write barriers below it;
#   for heap allocation the compiler checks much less (below), so the end of
#   this section checks the compiled hook instead. Records are built in a
#   stack buffer and written with one
#   `write(2)` each, to the fd or file named by `$GORUN_KIT_THREADS`; without
#   it the program behaves as if unpatched.
#
# What exactly does the compiler refuse in package runtime? Nine small
# functions, compiled *as* package runtime with `go tool compile -std -p
# runtime -m` (the cell prints how long it took):

# %%
if LIVE:
    t0 = time.monotonic()
    rules = scheduler.runtime_allocation_rules()
    print(f"compiled twice (as package runtime, and as an ordinary package) in {time.monotonic() - t0:.2f} s")
print(scheduler.ALLOCATION_PROBE)

# %%
if LIVE:
    print(f"compiled as package runtime: exit status {rules.exit_status}")
    for fn, msg in rules.errors:
        print(f"  rejected  {fn:<15} {msg}")
    for fn, msg in rules.escapes:
        print(f"  accepted  {fn:<15} {msg}")
    print(f"the same file as an ordinary package: exit status {rules.as_other}")
    for c in rules.enforced_at:
        print(f"{c.file}:{c.line}: {c.text}")
    implicit = {"implicitConcat", "implicitAppend", "implicitBox", "implicitBytes", "goClosure"}
    assert rules.rejected() == {"implicitEscape", "heapClosure"}
    assert rules.accepted() == {"explicitNew", "explicitMake"} | implicit

# %% [markdown]
# Only two of the nine are refused. Escape analysis (`escape.go`) rejects a
# *named variable* that has to move to the heap, and `ir/func.go` rejects a
# closure that must live on the heap -- except the closure of a `go`
# statement (`!clo.IsGoWrap`). Everything else that allocates compiles as
# package runtime: `new` and `make`, and the implicit allocations `-m`
# reports as "escapes to heap": `a + b`, `append`, boxing an `int` into an
# interface, `[]byte(s)`, a `go func(){...}()` literal. So "package runtime
# may not allocate implicitly" is false; what keeps the hook off the heap is
# that it uses none of these, and the compiled hook shows it (below).
#
# The splice points in this release, and the build of the hook:

# %%
if LIVE:
    before = goroot.digest("runtime")  # a hash of every file under GOROOT/src/runtime
    p = threads.patch(go)
    for call, line in p.spliced:
        print(f"proc.go:{line}: ... ; {call}")

# %% tags=["claim:4.4-4", "claim:4.4-6"]
if LIVE:
    ok_report = threads.observe(LABS / "threads_idle")
    after = goroot.digest("runtime")
    print(f"GOROOT/src/runtime digest before {before[:16]}, after {after[:16]}")
    show_checks(ok_report)
    ids = sorted(m.m for m in ok_report.ms)
    nb.confirm("4.4-4", ids == list(range(len(ids))) and set(ok_report.tids) == set(ok_report.proc_tasks)
               and not set(ids) & set(ok_report.tids),
               "M ids are the runtime's numbers 0..n-1; the kernel tids are different numbers, the ones in /proc/<pid>/task",
               measured="M ids 0..n-1, tids from /proc", quiet=True)
    nb.confirm("4.4-6", before == after and ok_report.ok,
               "the overlay hook builds, runs on every new thread after minit, agrees with strace and /proc, and leaves "
               "GOROOT unchanged", measured="GOROOT digest unchanged, every cross-check holds")

# %% [markdown]
# The whole change to `proc.go`, as a diff against the release's file (made
# from the overlay the build used); the hook's own code is the added file
# `gorun_kit/_src/runtime_patches/threads_hook.go.tmpl`:

# %%
print(scheduler.hook_diff(p) if LIVE else "")

# %% [markdown]
# And the function that runs on every new thread, as the overlay adds it:

# %%
hook_file = Path(dict(p.replace)[str(go.src("runtime", "gorunkit_threads_hook.go"))]) if LIVE else None
text = hook_file.read_text() if LIVE else ""
print(text[text.index("// gorunkitThreadsStart runs"):] if LIVE else "")

# %% [markdown]
# Does the compiled hook allocate? `scheduler.hook_calls` disassembles the
# hooked binary (GNU objdump) and lists what each `gorunkit*` function calls;
# the heap allocator's entry points (`mallocgc`, `newobject`, `makeslice`,
# `growslice`, `concatstring*`, `convT*`, `rawstring*`, ...) and the write
# barrier (`gcWriteBarrier*`) would show up there:

# %%
if LIVE:
    calls = scheduler.hook_calls(ok_report.binary)
    outside = sorted({c for v in calls.values() for c in v if "gorunkit" not in c})
    allocating = sorted({c for v in calls.values() for c in v if scheduler.ALLOCATOR_CALLS.match(c)})
    print(f"{len(calls)} hook functions in the binary; what they call outside the hook:")
    print("   ", ", ".join(outside))
    print("calls into the allocator or a write barrier:", allocating or "none")
    assert "runtime.gorunkitThreadsStart" in calls and not allocating

# %% [markdown]
# ### What the hook shows: the threads a do-nothing program has, and why
#
# `labs_go/threads_idle` sleeps 300 ms and prints one line. Its Ms, and the
# call chain into `newm` for each (the table varies from run to run):

# %%
# NBVAL_IGNORE_OUTPUT
if LIVE:
    print(idle_report.table())
    print()
    for m in idle_report.ms[1:]:
        print(f"M{m.m}: " + " < ".join(f.replace("runtime.", "") for f in m.via[:5]))

# %% [markdown]
# Read the `start fn` column and the chains: one M is sysmon, started by
# `runtime.main`; the others were asked for by `wakep` (a spinning M) or
# `handoffp`. The checks below hold in every run:

# %%
if LIVE:
    print("program output:", repr(idle_report.stdout), "exit status", idle_report.exit_status)
    sysmon = [m for m in idle_report.ms if m.start_fn == "runtime.sysmon"]
    print(f"sysmon: M{sysmon[0].m}, asked for by M{sysmon[0].asked_by_m} via {' < '.join(sysmon[0].via)}")
    assert len(sysmon) == 1 and sysmon[0].asked_by_m == 0 and "runtime.main.func1" in sysmon[0].via
    # Which reasons occur, and how often, depends on timing; every M has one of them.
    reasons = ("runtime.main.func1", "runtime.wakep", "runtime.handoffp")
    assert all(any(r in m.via for r in reasons) for m in idle_report.ms[1:]) and idle_report.ok

# %% [markdown]
# So even an idle program gets a handful of threads, each for a reason the
# record names:
#
# * **sysmon** -- the monitor thread, started by `runtime.main` before `main.main`;
#   it runs without a P and wakes up periodically (it is what retakes Ps from
#   goroutines stuck in system calls, section 4.5).
# * **spinning Ms** (`runtime.mspinning`) -- whenever a goroutine becomes
#   runnable while a P is idle, `wakep` starts an M to look for work. That
#   goroutine can be a new one (`newproc` -> `wakep`) or one put back on the
#   run queue: a chain `wakep < goschedImpl < newstack`, which the idle
#   program can show, is a running goroutine that found a preemption request
#   at a stack check and was requeued by `goschedImpl`, which then calls
#   `wakep`. This program
#   starts no goroutine of its own, so these goroutines are the runtime's.
# * **hand-off Ms** -- `runtime.main` keeps the main goroutine *locked* to m0
#   while package `init`s run; when it blocks or is preempted there, m0 cannot run anything
#   else, so it hands its P to another M (`stoplockedm` -> `handoffp` -> `startm`).
#
# The hand-off most likely comes from `runtime.main` itself: it locks the main
# goroutine to m0, then `gcenable` starts the background sweeper and scavenger
# and waits for both to report -- the first time the locked main goroutine
# can block (a preemption while it is locked hands the P off too). The
# record cannot tell which: its chain ends on g0 (at `park_m` or
# `goschedImpl`, where `mcall` left the goroutine's stack). What the cell checks is the
# source: `lockOSThread`, then `gcenable` (which receives from a channel
# twice), then the matching `unlockOSThread`:

# %%
# (mkduff.go, a generator excluded from builds, has a main too: take proc.go's)
rmain = next(c for c in goroot.grep(r"^func main\(\) \{") if c.file.endswith("runtime/proc.go"))
body = goroot.func_source(rmain, max_lines=200).splitlines()
marks = {}
for i, line in enumerate(body):
    for key in ("lockOSThread()", "gcenable()", "unlockOSThread()"):
        if line.strip() == key:
            marks.setdefault(key, []).append(rmain.line + i)
# (the first unlockOSThread() sits in the deferred func that covers Goexit during init)
for key, lines in marks.items():
    print(f"{rmain.file}:{lines}: {key}")
gc_wait = [l.strip() for l in goroot.func_source(nb.cite("gcenable"), max_lines=40).splitlines() if "<-c" in l]
print("gcenable waits:", gc_wait)
assert gc_wait and marks["lockOSThread()"][0] < marks["gcenable()"][0] < marks["unlockOSThread()"][-1]

# %% [markdown]
# Who created whom, and why -- each edge is labelled with the call path into
# `newm`, each M with the reason its record gives:

# %%
tviz.creation_tree(idle_report) if LIVE else None

# %% [markdown]
# ### Threads that appear on demand: a timeline per experiment
#
# Three programs, each run with the hook. In the left half of each timeline,
# `|` marks the moment `newm` was called, the grey bar the time from `newm1`
# (clone) until the new thread ran `minit`, and the coloured bar the thread's
# life. The right half zooms in on each M separately, in microseconds since
# its own `newm`: the order newm -> clone -> minit, which the millisecond
# axis hides.
#
# 1. `threads_syscalls 6`: six goroutines block in a raw `nanosleep` system
#    call. A goroutine in a blocking syscall keeps its M; **sysmon** finds
#    the goroutine in `_Gsyscall` on a running P and takes the P away
#    (`retake` -> `handoffp` -> `startm`), and a new M runs everything else
#    (section 4.5 shows the source).
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
    sysmon_m = next(x.m for x in reports["syscalls"].ms if x.start_fn == "runtime.sysmon")
    retaken = [m for m in reports["syscalls"].ms if "runtime.retake" in m.via]
    print(f"syscalls: {len(retaken)} Ms made after sysmon retook a P, asked for by",
          sorted({f"M{m.asked_by_m}" for m in retaken}), f"(sysmon is M{sysmon_m})")
    assert retaken and all(m.asked_by_m == sysmon_m for m in retaken)

# %%
if LIVE:
    locked = reports["locked"]
    template = [m for m in locked.ms if m.start_fn == "runtime.templateThread"]
    by_template = [m for m in locked.ms if template and m.cloned_by_m == template[0].m]
    print(f"locked: the template thread was started from {template[0].via[1]}; it cloned "
          f"{sum(m.asked_by_m != m.cloned_by_m for m in by_template)} Ms that other Ms asked for")
    print(f"locked: {len(locked.ms)} Ms; gomaxprocs: {len(reports['gomaxprocs'].ms)} Ms")
    assert len(template) == 1 and any(m.asked_by_m != m.cloned_by_m for m in by_template) and len(locked.ms) >= 3 + 2
    assert len(reports["gomaxprocs"].ms) >= 6 + 1 and all(r.ok for r in reports.values())

# %% [markdown]
# Read: the Ms the syscalls program made through `retake` were all asked for
# by sysmon's M (others, such as a `wakep` M, come from elsewhere);
# in the locked program, the template thread (started from `LockOSThread`)
# cloned the Ms a locked thread asked for; six busy goroutines needed at
# least six Ms besides sysmon.

# %%
for name, r in ([("idle", idle_report)] if LIVE else []) + list(reports.items()):
    display(tviz.timeline(r, title=r.stdout.strip()))

# %% [markdown]
# In the zoomed halves, the order is always newm -> clone -> minit; the gaps
# vary a lot. Per M, in microseconds (newm -> clone / clone -> minit), with
# the Ms the template thread cloned apart -- for those, `newm` only queues the
# M and the template thread, woken later, calls `newm1`:

# %%
# NBVAL_IGNORE_OUTPUT
if LIVE:
    for name, r in [("idle", idle_report), *reports.items()]:
        tmpl = {m.m for m in r.ms if m.start_fn == "runtime.templateThread"}
        made = [m for m in r.ms if m.t_new is not None]
        for label, group in (("", [m for m in made if m.cloned_by_m not in tmpl]),
                             (" cloned by the template thread", [m for m in made if m.cloned_by_m in tmpl])):
            if group:
                print(f"{name}{label}: " + ", ".join(
                    f"M{m.m} {(m.t_clone - m.t_new) / 1e3:.0f}/{(m.t_start - m.t_clone) / 1e3:.0f}" for m in group))
    assert all(m.t_new <= m.t_clone <= m.t_start for r in [idle_report, *reports.values()] for m in r.ms
               if m.t_new is not None)

# %% [markdown]
# An M cloned directly follows its `newm` within microseconds to a few
# hundred; a template-cloned M waits for the template thread to wake
# (measured on 2026-11-30 up to about 1.5 ms). `minit` comes only once the
# kernel has scheduled the new thread -- tens of microseconds up to
# milliseconds on a busy machine. The cell asserts only the order.
#
# The locked program's tree: solid edges from the M that asked, dashed ones
# from the template thread that cloned:

# %%
tviz.creation_tree(reports["locked"]) if LIVE else None

# %% [markdown]
# ### One timeline: the processes, the threads and the scheduler
#
# The hook says when each thread was made and why; the tracer says which
# thread called `clone` and when; the runtime's own execution trace (the one
# `runtime/trace` writes) says what each thread then did: which P it held,
# which goroutine ran on it, when that goroutine sat in a system call. All
# three use the thread's kernel tid and CLOCK_MONOTONIC, so
# `gorun_kit.timeline` joins them exactly, and refuses to draw when they
# disagree: every thread with execution-trace events must be one the tracer
# saw cloned and the hook saw start, in the order clone, then `minit`, then
# the first event. The patched runtime starts the execution trace itself,
# right after `gcenable` in `runtime.main` (before any package `init` of the
# program), so the programs need no change. `gorun-kit timeline PROGRAM` does
# the same from a shell.
#
# The three experiments again, each as one timeline. Each thread is a lane:
# grey is its life, black the stretch from `clone` to `minit`, and over it
# the P it held, the goroutines it ran and their system calls. The lower
# half zooms in on the thread creations, in microseconds. Each run also
# writes a Perfetto file, `notebooks/timelines/04_<name>.json`; open it at
# ui.perfetto.dev ("Open trace file") or in chrome://tracing to scroll and
# zoom, with an arrow from each creating thread to the thread it made.
# `timeline.thread_table(tl)` lists the same per thread: who cloned it, why its
# M was made, and the gaps clone -> `minit` -> first event.

# %%
from gorun_kit import timeline
from gorun_kit.timeline import chrome
from gorun_kit.viz import timeline as timeline_viz

joined = {}
if LIVE:
    out_dir = Path("timelines")
    out_dir.mkdir(exist_ok=True)
    for name, (lab, args) in experiments.items():
        joined[name] = timeline.run(LABS / lab, args).timeline
        chrome.write(joined[name], out_dir / f"04_{name}.json")
        problems = chrome.problems(chrome.to_chrome(joined[name]))
        print(f"{name}: joined and checked; Perfetto file timelines/04_{name}.json, {len(problems)} format problems")

# %%
for name, tl in joined.items():
    display(timeline_viz.draw(tl, title=f"{name}: {experiments[name][0]} {' '.join(experiments[name][1])}"))

# %% [markdown]
# What holds in every run: in the syscalls program, the Ms that sysmon asked
# for (after `retake`) are cloned by sysmon's own thread and first show up in
# the execution trace holding a P; in the locked program, the Ms for locked
# goroutines are cloned by the template thread's tid:

# %%
if LIVE:
    syscalls, locked_tl = joined["syscalls"], joined["locked"]
    sysmon_tid = next(j.tid for j in syscalls.threads if j.start_fn == "runtime.sysmon")
    retook = [j for j in syscalls.threads if j.reason and j.reason.startswith("sysmon took the P")]
    template_tid = next(j.tid for j in locked_tl.threads if j.start_fn == "runtime.templateThread")
    by_template = [j for j in locked_tl.threads if j.creator_tid == template_tid]
    by_sysmon = [j for j in retook if j.creator_tid == sysmon_tid]
    with_p = [j for j in retook if any(s.tid == j.tid and s.category == "proc" for s in syscalls.spans)]
    assert retook and len(by_sysmon) == len(with_p) == len(retook) and by_template
    print("syscalls: every thread made after retake was cloned by sysmon's thread and holds a P in the execution trace")
    print("locked: the template thread cloned the Ms of the locked goroutines")

# %% [markdown]
# ## 4.5 From `newosproc` to the scheduler
#
# The seed's chapter title links `newosproc` to goroutine scheduling. Three
# questions make that link concrete: why does the scheduler ask for a
# thread, what does a new thread do first, and how does sysmon reach into
# running threads?
#
# ### Why the runtime creates threads
#
# Every run above (and the cgo program of 4.3) recorded the call chain into
# `newm` for each M. Grouped by that chain, across the five programs:

# %%
# NBVAL_IGNORE_OUTPUT
if LIVE:
    runs = {"idle": idle_report, **reports, **({"cgo": cgo_report} if nb.live("cc") else {})}
    print(threads.causes_table(runs))

# %% [markdown]
# Which causes each program shows depends on timing, but each program was
# written for one of them, and its cause is always there:
#
# * a goroutine **blocked in a system call**: `retake` (on sysmon) ->
#   `handoffp` -> `startm` -> `newm` (threads_syscalls);
# * **spinning Ms**: a new goroutine with an idle P (`newproc` -> `wakep`),
#   a preempted goroutine requeued (`goschedImpl` -> `wakep`), and a spinning
#   M that found work waking the next (`resetspinning` -> `wakep`)
#   (threads_gomaxprocs);
# * the **template thread** after the first `LockOSThread`, and the Ms it
#   clones for locked threads (threads_locked);
# * a **cgo** program gets the template thread from `runtime.main` at start-up
#   (the source's reason: Go may be entered from a thread C created and then
#   need a new M), and a C call that blocks is treated like a system call.

# %%
if LIVE:
    designed = [("syscalls", "retake"), ("locked", "LockOSThread"), ("cgo", "startTemplateThread")]
    for name, step in designed:
        if name in runs:
            print(f"{name:<10}", threads.path_through(runs[name], step))
    wakep = sum("runtime.wakep" in m.via for m in reports["gomaxprocs"].ms)
    print(f"{'gomaxprocs':<10} {wakep} Ms made through wakep")
    assert wakep and all(threads.path_through(runs[name], step) != "none" for name, step in designed if name in runs)

# %% [markdown]
# The syscalls program's tree shows the retake path on every M sysmon asked
# for:

# %%
tviz.creation_tree(reports["syscalls"]) if LIVE else None

# %% [markdown]
# ### How sysmon finds a goroutine stuck in a system call
#
# How does sysmon know which P to take? In earlier releases (Go 1.22, for
# one) a P entering a syscall changed its own state to `_Psyscall`, and
# `retake` looked for that; `scheduler.syscall_retake` recognises both shapes.
# The installed release's source, read now:

# %%
retake = scheduler.syscall_retake()
print(f"{retake.go_version}: the P is taken by its goroutine's state ({retake.style})"
      if retake.style == "goroutine-state" else f"{retake.go_version}: the P has its own syscall state")
for c in retake.p_states:
    print(f"{c.file}:{c.line}: {c.text}")
for what, c in retake.steps:
    print(f"{c.file}:{c.line}: {c.text}\n    ^ {what}")

# %% [markdown]
# On this release the state `_Psyscall` is gone (`_Psyscall_unused` only keeps
# the numbering): a P whose goroutine is in a syscall stays `_Prunning`.
# `retake` scans the running Ps, and `setBlockOnExitSyscall` checks the
# goroutine's `_Gsyscall` state and, holding its scan bit, keeps it from
# leaving the syscall while sysmon takes the P (`thread.takeP`) and hands it
# on with `handoffp`. `handoffp` calls `startm` only if the P has work (its
# own or the global run queue, GC work, a trace reader, ...) or no M is
# spinning and no other P is idle; otherwise it puts the P on the idle list.
# `startm` takes a parked M if there is one and calls `newm` only if there
# is none: the M records above whose chain starts with `retake`. (The function prints the
# lines it relies on; a release that changes them makes this cell fail.)
#
# ### One instant: every M with its P, g0, TLS and goroutine
#
# What does the scheduler look like at one moment, and what does a new M do
# first? `labs_go/threads_mpg` sets GOMAXPROCS to 4, starts two goroutines
# spinning and one sleeping in `nanosleep`, and calls `snapshot()`.
# `gdb.snapshot` runs it under gdb, stops every thread at the first
# instruction of `snapshot`, and reads each thread's FS base, the g at FS-8,
# that g's M, the M's P, `curg` and g0 bounds, and every P in `runtime.allp`.
# In the same run it takes the backtrace of the first thread other than m0 to
# reach `runtime.gogo`:

# %%
if LIVE and nb.live("gdb"):
    snap = gdb.snapshot(build_go(LABS / "threads_mpg").path)
    print(f"first schedule of a new M (tid {snap.schedule_tid}), outermost first:")
    print("  " + " -> ".join(f.replace("runtime.", "") for f in reversed(snap.schedule_frames)))

# %% [markdown]
# An M that runs goroutines starts with scheduling: `mstart` -> `mstart0` ->
# `mstart1` -> `schedule` -> `execute` -> `gogo`, which switches from g0 to
# the chosen goroutine's stack (the frame below `mstart` is `runtime.clone`'s
# child branch, where the thread began). Not every M gets there: `mstart1`
# first calls the M's start function, and sysmon's and the template thread's
# never return. The threads at the snapshot (tids and
# addresses vary from run to run):

# %%
# NBVAL_IGNORE_OUTPUT
if LIVE and nb.live("gdb"):
    print(snap.table())
    print("Ps:", ", ".join(f"P{p.id} {p.status}" for p in snap.ps))

# %% [markdown]
# Read across a row: the FS base equals that M's `&m.tls+8` on every thread,
# m0's g0 is the 64 KiB window and the others 16 KiB, and the P column shows
# which Ms hold a P. The sleeping goroutine's M is "in a syscall"; whether it
# still holds its P depends on whether sysmon has retaken it yet. The picture
# draws the same records: FS -> `m.tls` -> the g in the TLS slot (`*(FS-8)`,
# g0 when the thread runs runtime code), `m.p` to the P, and `m.curg`. Now
# and then gdb stops a thread just after `clone` returned in it: the kernel
# has set its FS base (`runtime·clone` in `runtime/sys_linux_amd64.s` adds
# `CLONE_SETTLS`), but the child has not yet stored g0 at FS-8 or its tid in
# `m.procid`. Its row says "starting"; the snapshot finds its M on
# `runtime.allm` by `&m.tls+8` (`gorun_kit/threads/gdbscripts/snapshot.py`):

# %%
if LIVE and nb.live("gdb"):
    chain = tuple(f.replace("runtime.", "") for f in reversed(snap.schedule_frames))
    assert chain[-6:] == ("mstart", "mstart0", "mstart1", "schedule", "execute", "gogo")
    assert all(t.fs_is_m_tls_plus_8 for t in snap.threads)
    assert "_Psyscall_unused" not in {p.status for p in snap.ps} and sum(t.p_id >= 0 for t in snap.threads) >= 3
    display(tviz.mpg_diagram(snap))

# %% [markdown]
# ### Asynchronous preemption: sysmon's SIGURG
#
# What stops a goroutine that never yields? `retake` also calls `preemptone`
# on a running P whose `schedtick` has not changed for at least 10 ms
# (`forcePreemptNS`) -- one scheduling tick, which goroutines started from
# `runnext` share, so it can span several goroutines -- as far as sysmon can
# tell: it checks only when it wakes, every 20 µs to 10 ms. On Linux that ends
# in `tgkill(pid, tid, SIGURG)` to the thread running it. sysmon is not the
# only caller of `preemptM`: stopping the world and the GC's `suspendG` send
# the same signal. strace watches `tgkill` while the hooked
# `threads_gomaxprocs 4` spins four goroutines for 60 ms, once as is and once
# with `GODEBUG=asyncpreemptoff=1`; the hook's records name the thread of each
# M:

# %%
steps = [(l.function.symbol, l.call) for l in goroot.call_chain(
    [("runtime", "retake", "preemptone("), ("runtime", "preemptone", "preemptM(")])]
# preemptM for Unix lives in signal_unix.go (other systems have their own)
steps += [("runtime.preemptM", c) for c in goroot.grep(r"signalM\(mp, sigPreempt\)") if c.file.endswith("signal_unix.go")]
steps += [(l.function.symbol, l.call) for l in goroot.call_chain([("runtime", "signalM", "tgkill(")])]
for symbol, call in steps:
    print(f"{symbol:<20} {call.file}:{call.line}: {call.text}" if call else f"{symbol:<20} call missing")
assert len(steps) == 4 and all(call for _, call in steps)

# %%
if LIVE:
    from gorun_kit.threads import preempt
    spinner = reports["gomaxprocs"].binary  # the hooked build made above
    on = preempt.sigurg_senders(spinner, ["4"])
    off = preempt.sigurg_senders(spinner, ["4"], env={**os.environ, "GODEBUG": "asyncpreemptoff=1"})
    print(f"as is: {len(on.sigurg)} SIGURGs, sent to {len({t for _, t in on.sigurg})} threads; sysmon is "
          f"M{on.sysmon.m} (tid {on.sysmon.tid}); senders:",
          ", ".join(f"{who}: {n} SIGURGs" for who, n in on.senders().items()))
    print(f"asyncpreemptoff=1: {len(off.sigurg) + off.other_tgkills} tgkill calls")
    assert on.sigurg and {caller for caller, _ in on.sigurg} == {on.sysmon.tid}
    assert not off.sigurg and not off.other_tgkills

# %% [markdown]
# Every SIGURG of the run came from sysmon's thread (its tid taken from the
# hook's record, not guessed), each to the thread of a goroutine that had
# run too long; this spinning program does not allocate, so no GC asked for
# a preemption. With asynchronous preemption off there are none.
#
# ## Try it
#
# * `gorun-kit threads labs_go/threads_syscalls -- 8` prints the table and the
#   cross-checks for any Go program (`--json FILE` keeps the records;
#   `--go 1.22` runs the same hook on Go 1.22, installed from PyPI into the cache).
# * Exercises: `exercises/04_newosproc_threads_exercises.ipynb` (extend the hook
#   in Go: mark the Ms created because of blocking system calls) and
#   `exercises/04_creation_tree_exercises.ipynb` (depths and creators in the
#   creation tree).

# %% [markdown]
# ## What this chapter measured

# %%
nb.claims_table()
