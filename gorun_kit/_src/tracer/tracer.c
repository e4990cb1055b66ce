/*
 * tracer: record every clone and every exec of a program tree with ptrace.
 *
 *   tracer [--output FILE | --output-fd N] [--mode events|seccomp|syscalls] [--env full|delta|none]
 *          [--verify] -- CMD [ARG...]
 *   tracer [--output FILE | --output-fd N] [--mode events|syscalls] [--env ...] [--verify] --attach PID
 *
 * The lab of chapter 3. It starts CMD, follows every thread and every child
 * it creates (and theirs), and writes one JSON object per line for each
 * spawn (clone, clone3, fork, vfork), each exec (and each failed exec
 * attempt) and each thread exit. README.md next to this file documents the
 * records. It exits with CMD's exit status (128+N when a signal N killed it).
 *
 * Read it top to bottom; the ptrace rules that are easy to get wrong are
 * explained where the code depends on them. In short:
 *
 *  - We use PTRACE_SEIZE, not PTRACE_TRACEME/PTRACE_ATTACH: a seized tracee
 *    is not stopped by attaching, its group-stops can be told apart from our
 *    own stops (PTRACE_EVENT_STOP) and kept stopped with PTRACE_LISTEN, and
 *    PTRACE_O_EXITKILL kills every tracee if this tracer dies for any reason.
 *    And the tracer dies with its parent (PR_SET_PDEATHSIG): whatever ends
 *    the program that started us, nothing of the traced tree runs on.
 *  - PTRACE_O_TRACECLONE/FORK/VFORK attach every new thread and process
 *    automatically, before it runs a single instruction. The new task reports
 *    an initial stop of its own, and that report may arrive BEFORE or AFTER
 *    its parent's PTRACE_EVENT_CLONE/FORK/VFORK stop; we hold such a child
 *    stopped until we have written its parent's spawn record.
 *  - The argv and envp of an execve are pointers into the OLD program's
 *    memory. The PTRACE_EVENT_EXEC stop comes after the new program has
 *    replaced the old one, so by then those pointers point at nothing: the
 *    filename and argv are read at syscall ENTRY (argv cannot be taken from
 *    the new stack: a #! script's is rewritten). The envp is copied by the
 *    kernel unchanged onto the new program's stack: it is read there, at the
 *    PTRACE_EVENT_EXEC stop, in one piece (or, when the exec fails, from the
 *    caller's memory, which is then intact). In the default mode a seccomp
 *    filter stops the tracee at the entry of execve/execveat only, so the
 *    other syscalls run at full speed.
 *  - --env delta writes each envp as the difference from an environment
 *    written before (see struct env); --verify compares every exec record
 *    with /proc/<pid>/cmdline and environ at the exec stop.
 *
 * Modes:
 *   events   (default) seccomp stops for execve/execveat only; clone flags are
 *            read from the registers at the PTRACE_EVENT_CLONE/FORK/VFORK stop
 *            (the parent is still inside the syscall, its argument registers
 *            are intact). Fewest stops.
 *   seccomp  seccomp stops for clone/clone3/fork/vfork/execve/execveat: the
 *            clone flags are read at syscall entry (one more stop per spawn);
 *            a cross-check of the events mode.
 *   syscalls PTRACE_SYSCALL: stop at entry and exit of EVERY syscall, like
 *            strace without --seccomp-bpf. Slow; for teaching and comparison.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h> /* CLONE_*, CSIGNAL: the kernel's names, also those glibc lacks */
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "this lab reads x86-64 registers (orig_rax, rdi, rsi, rdx); build it on linux/amd64"
#endif

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_execveat
#define __NR_execveat 322
#endif

#define TRACER_EXIT_ERROR 125 /* the tracer itself failed (could not ptrace, bad usage) */

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "tracer: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(TRACER_EXIT_ERROR);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("%s", "out of memory");
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A growable byte buffer. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* ------------------------------------------------------------------------ */
/* JSON output                                                               */
/*
 * Strings from a tracee are bytes, not text. Valid UTF-8 is written as it is;
 * every byte that is not part of a valid UTF-8 sequence is written as the
 * escape \udcXX (XX = the byte, 80..ff). That is Python's "surrogateescape"
 * convention: json.loads gives a str holding U+DC80..U+DCFF for those bytes,
 * and os.fsencode (UTF-8 + surrogateescape) turns it back into the exact
 * original bytes. Control characters, '"' and '\\' are escaped as JSON
 * requires.
 */
static FILE *out;                  /* where the records go (--output, or stderr) */
static unsigned long long n_records; /* how many were written (the "end" record says) */

/* The signal that asked us to stop (SIGINT, SIGTERM, SIGHUP), set by on_signal. */
static volatile sig_atomic_t interrupted;

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if the byte at p does not start
 * one. This is exactly what Python's strict UTF-8 decoder accepts. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (n >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0) /* overlong */
			return 0;
		if (c == 0xed && p[1] >= 0xa0) /* UTF-16 surrogate */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90) /* overlong */
			return 0;
		if (c == 0xf4 && p[1] >= 0x90) /* above U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

static void json_bytes(const unsigned char *s, size_t n)
{
	putc('"', out);
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		/* Most bytes need no escape: write a whole run of them at once. */
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			fwrite(s + i, 1, run - i, out);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			putc('\\', out);
			putc(c, out);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", out); break;
			case '\t': fputs("\\t", out); break;
			case '\r': fputs("\\r", out); break;
			default: fprintf(out, "\\u%04x", c);
			}
			i++;
		} else {
			size_t k = utf8_len(s + i, n - i);
			if (k == 0) {
				fprintf(out, "\\udc%02x", c); /* surrogateescape */
				i++;
			} else {
				fwrite(s + i, 1, k, out);
				i += k;
			}
		}
	}
	putc('"', out);
}

static void json_str(const char *s)
{
	if (s)
		json_bytes((const unsigned char *)s, strlen(s));
	else
		fputs("null", out);
}

/* A list of strings kept as one buffer of NUL-terminated strings. */
struct strv {
	struct buf data;
	size_t count;
};

static void json_strv(const struct strv *v)
{
	putc('[', out);
	size_t off = 0;
	for (size_t i = 0; i < v->count; i++) {
		size_t n = strlen((const char *)v->data.p + off);
		if (i)
			putc(',', out);
		json_bytes(v->data.p + off, n);
		off += n + 1;
	}
	putc(']', out);
}

static void record_begin(const char *type, uint64_t ts)
{
	n_records++;
	fprintf(out, "{\"type\":\"%s\",\"ts_ns\":%llu", type, (unsigned long long)ts);
}

static void record_end(void)
{
	fputs("}\n", out);
}

/* ------------------------------------------------------------------------ */
/* Names of syscalls, clone flags, signals and errnos                        */

static const char *syscall_name(long nr)
{
	switch (nr) {
	case __NR_clone: return "clone";
	case __NR_clone3: return "clone3";
	case __NR_fork: return "fork";
	case __NR_vfork: return "vfork";
	case __NR_execve: return "execve";
	case __NR_execveat: return "execveat";
	default: return NULL;
	}
}

/* The clone flags by name, in bit order. gorun_kit/trace/flags.py has the
 * same table for Python; tests/test_trace_flags.py fails when they differ. */
#define FLAG(name) {name, #name}
static const struct { uint64_t bit; const char *name; } clone_flags[] = {
	FLAG(CLONE_NEWTIME),   /* clone3 only: for clone() this bit is part of the exit signal */
	FLAG(CLONE_VM),
	FLAG(CLONE_FS),
	FLAG(CLONE_FILES),
	FLAG(CLONE_SIGHAND),
	FLAG(CLONE_PIDFD),
	FLAG(CLONE_PTRACE),
	FLAG(CLONE_VFORK),
	FLAG(CLONE_PARENT),
	FLAG(CLONE_THREAD),
	FLAG(CLONE_NEWNS),
	FLAG(CLONE_SYSVSEM),
	FLAG(CLONE_SETTLS),
	FLAG(CLONE_PARENT_SETTID),
	FLAG(CLONE_CHILD_CLEARTID),
	FLAG(CLONE_DETACHED),
	FLAG(CLONE_UNTRACED),
	FLAG(CLONE_CHILD_SETTID),
	FLAG(CLONE_NEWCGROUP),
	FLAG(CLONE_NEWUTS),
	FLAG(CLONE_NEWIPC),
	FLAG(CLONE_NEWUSER),
	FLAG(CLONE_NEWPID),
	FLAG(CLONE_NEWNET),
	FLAG(CLONE_IO),
	FLAG(CLONE_CLEAR_SIGHAND),
	FLAG(CLONE_INTO_CGROUP),
};

static void json_signal(int sig)
{
	const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;
	if (abbrev)
		fprintf(out, "\"SIG%s\"", abbrev);
	else if (sig > 0)
		fprintf(out, "\"SIG%d\"", sig);
	else
		fputs("null", out);
}

/* clone() packs the exit signal into the low byte of flags (CSIGNAL);
 * clone3() has a separate exit_signal field, and bit 0x80 means CLONE_NEWTIME. */
static void json_flag_names(uint64_t flags, int is_clone3)
{
	int first = 1;
	putc('[', out);
	for (size_t i = 0; i < sizeof clone_flags / sizeof clone_flags[0]; i++) {
		if (!is_clone3 && (clone_flags[i].bit & CSIGNAL))
			continue;
		if (flags & clone_flags[i].bit) {
			fprintf(out, "%s\"%s\"", first ? "" : ",", clone_flags[i].name);
			first = 0;
		}
	}
	if (!is_clone3 && (flags & CSIGNAL)) {
		fputs(first ? "" : ",", out);
		json_signal((int)(flags & CSIGNAL));
	}
	putc(']', out);
}

static void json_errno(int err)
{
	const char *name = strerrorname_np(err);
	if (name)
		fprintf(out, "\"%s\"", name);
	else
		fprintf(out, "\"E%d\"", err);
}

/* ------------------------------------------------------------------------ */
/* Reading the tracee's memory                                               */
/*
 * process_vm_readv copies straight from the tracee's address space in one
 * syscall. It stops at the first page that is not mapped, and it transfers
 * whole iovec elements only, so we describe the remote range as one element
 * per page: a partial result then ends exactly at the first bad page.
 * When process_vm_readv is not allowed (some container seccomp profiles) we
 * fall back to PTRACE_PEEKDATA, one word per syscall; -1 is a valid word, so
 * errno must be cleared before and checked after each call.
 */
#define PAGE 4096u
#define WINDOW_PAGES 16u
#define CALL_PAGES 64u /* pages one process_vm_readv asks for, at most (one iovec each) */

/* A window of the tracee's memory, so that the many short strings of an
 * environment cost a few syscalls instead of one each. Valid only while the
 * tracee stays stopped: window_reset() at every stop. */
struct window {
	pid_t tid;
	uint64_t base;
	size_t len, next; /* next: how much the next refill asks for */
	unsigned char data[WINDOW_PAGES * PAGE];
};

/* What the memory readers keep from one call to the next. */
struct reader {
	int vm_readv_works; /* 0 once process_vm_readv was refused: PEEKDATA from then on */
	long arg_max;       /* the kernel's limit on argv + envp: nothing we read is longer */
	unsigned long long calls, bytes, peek_words; /* for the "end" record */
	struct window win;
};

static void reader_init(struct reader *rd)
{
	rd->vm_readv_works = 1;
	rd->arg_max = sysconf(_SC_ARG_MAX);
	if (rd->arg_max <= 0)
		rd->arg_max = 2 * 1024 * 1024;
}

static size_t peek_read(struct reader *rd, pid_t tid, uint64_t addr, unsigned char *dst, size_t n)
{
	size_t done = 0;
	while (done < n) {
		uint64_t a = addr + done;
		uint64_t aligned = a & ~7ULL;
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, tid, (void *)aligned, NULL);
		rd->peek_words++;
		if (errno)
			break; /* unmapped (EIO/EFAULT) or the tracee is gone (ESRCH): a short read */
		size_t skip = a - aligned, take = 8 - skip;
		if (take > n - done)
			take = n - done;
		memcpy(dst + done, (unsigned char *)&word + skip, take);
		done += take;
	}
	return done;
}

/* Describe the remote range [addr, addr+n) as one iovec per page (at most
 * CALL_PAGES + 1 of them); returns how many, and in *covered their length. */
static size_t page_iovecs(uint64_t addr, size_t n, struct iovec *remote, size_t *covered)
{
	size_t k = 0;
	*covered = 0;
	while (*covered < n && k < CALL_PAGES + 1) {
		uint64_t a = addr + *covered;
		size_t chunk = PAGE - (a % PAGE);
		if (chunk > n - *covered)
			chunk = n - *covered;
		remote[k].iov_base = (void *)a;
		remote[k].iov_len = chunk;
		*covered += chunk;
		k++;
	}
	return k;
}

/* Read up to n bytes at addr; returns how many could be read (stops at an
 * unmapped page). */
static size_t mem_read(struct reader *rd, pid_t tid, uint64_t addr, unsigned char *dst, size_t n)
{
	if (!rd->vm_readv_works)
		return peek_read(rd, tid, addr, dst, n);
	struct iovec remote[CALL_PAGES + 1];
	size_t covered;
	size_t k = page_iovecs(addr, n, remote, &covered);
	struct iovec local = {dst, covered};
	rd->calls++;
	ssize_t got = process_vm_readv(tid, &local, 1, remote, k, 0);
	if (got < 0) {
		if (errno != ENOSYS && errno != EPERM)
			return 0;
		rd->vm_readv_works = 0; /* not allowed here: use PEEKDATA from now on */
		return peek_read(rd, tid, addr, dst, n);
	}
	rd->bytes += (size_t)got;
	if ((size_t)got == covered && covered < n)
		return got + mem_read(rd, tid, addr + covered, dst + covered, n - covered);
	return (size_t)got;
}

static void window_reset(struct reader *rd)
{
	rd->win.len = 0;
	rd->win.tid = 0;
	rd->win.next = PAGE;
}

/* Make the window cover addr; returns the bytes available from addr on. */
static size_t window_at(struct reader *rd, pid_t tid, uint64_t addr, const unsigned char **p)
{
	struct window *w = &rd->win;
	if (w->tid != tid || addr < w->base || addr >= w->base + w->len) {
		/* Start with the rest of one page (most argv fit), double on
		 * every refill: a 100 KB environment costs a handful of calls. */
		size_t want = w->next - (addr % PAGE);
		if (w->next < sizeof w->data)
			w->next *= 2;
		w->tid = tid;
		w->base = addr;
		w->len = mem_read(rd, tid, addr, w->data, want);
		if (w->len == 0)
			return 0;
	}
	*p = w->data + (addr - w->base);
	return w->base + w->len - addr;
}

/* Append the NUL-terminated string at addr (with its NUL) to b. */
static int read_string(struct reader *rd, pid_t tid, uint64_t addr, struct buf *b)
{
	size_t total = 0;
	for (;;) {
		const unsigned char *p;
		size_t avail = window_at(rd, tid, addr, &p);
		if (avail == 0)
			return -1;
		const unsigned char *nul = memchr(p, 0, avail);
		size_t take = nul ? (size_t)(nul - p) + 1 : avail;
		buf_add(b, p, take);
		if (nul)
			return 0;
		total += take;
		addr += take;
		if ((long)total > rd->arg_max) /* the kernel would refuse it (E2BIG) */
			return -1;
	}
}

/* Read the strings at ptrs[0..n) into v. The strings of an argv or envp
 * may lie anywhere (a shell keeps its variables scattered over its heap), so
 * one process_vm_readv fetches the first GUESS bytes of up to BATCH strings
 * at once, one remote iovec each (never crossing a page, so one unmapped
 * page cannot hide the others); only a string longer than that is read on
 * through the window. A few syscalls per exec instead of one per string. */
#define GUESS 512u
#define BATCH 256u

struct batch {
	unsigned char buf[BATCH * GUESS];
	size_t off[BATCH], len[BATCH];
	ssize_t got; /* bytes process_vm_readv returned, -1 if it was not used */
};

/* Fetch the first bytes of the k strings at ptrs[0..k) into b. */
static void batch_fetch(struct reader *rd, pid_t tid, const uint64_t *ptrs, size_t k, struct batch *b)
{
	struct iovec remote[BATCH];
	size_t total = 0;
	b->got = -1;
	if (!rd->vm_readv_works)
		return;
	for (size_t i = 0; i < k; i++) {
		b->len[i] = PAGE - (ptrs[i] % PAGE);
		if (b->len[i] > GUESS)
			b->len[i] = GUESS;
		b->off[i] = total;
		remote[i].iov_base = (void *)ptrs[i];
		remote[i].iov_len = b->len[i];
		total += b->len[i];
	}
	struct iovec local = {b->buf, total};
	rd->calls++;
	b->got = process_vm_readv(tid, &local, 1, remote, k, 0);
	if (b->got > 0)
		rd->bytes += (size_t)b->got;
}

static int read_strings(struct reader *rd, pid_t tid, const uint64_t *ptrs, size_t n, struct strv *v)
{
	static struct batch b;
	for (size_t start = 0; start < n; start += BATCH) {
		size_t k = n - start < BATCH ? n - start : BATCH;
		batch_fetch(rd, tid, ptrs + start, k, &b);
		for (size_t i = 0; i < k; i++) {
			const unsigned char *nul = NULL;
			if (b.got >= 0 && b.off[i] + b.len[i] <= (size_t)b.got)
				nul = memchr(b.buf + b.off[i], 0, b.len[i]);
			if (nul) {
				buf_add(&v->data, b.buf + b.off[i], (size_t)(nul - (b.buf + b.off[i])) + 1);
			} else if (read_string(rd, tid, ptrs[start + i], &v->data) < 0) {
				buf_add(&v->data, "", 1);
				v->count++;
				return -1;
			}
			v->count++;
		}
	}
	return 0;
}

/* Read a NULL-terminated array of string pointers (argv or envp): first the
 * whole pointer array (it usually lies apart from the strings), then each
 * string through the window. */
static int read_strv(struct reader *rd, pid_t tid, uint64_t addr, struct strv *v)
{
	static uint64_t *ptrs;
	static size_t cap;
	size_t n = 0;
	v->data.len = 0;
	v->count = 0;
	if (addr == 0) /* Linux accepts argv == NULL / envp == NULL as empty */
		return 0;
	for (;;) {
		if (n + 512 > cap) {
			cap = cap ? cap * 2 : 4096;
			ptrs = xrealloc(ptrs, cap * sizeof *ptrs);
		}
		/* up to the end of the page, at most 512 pointers at a time */
		size_t want = (PAGE - (addr % PAGE)) / 8;
		if (want == 0 || want > 512)
			want = 512;
		size_t got = mem_read(rd, tid, addr, (unsigned char *)(ptrs + n), want * 8) / 8;
		if (got == 0)
			return -1;
		size_t i;
		for (i = 0; i < got && ptrs[n + i]; i++)
			;
		n += i;
		if (i < got)
			break; /* found the NULL */
		addr += got * 8;
		if ((long)n > rd->arg_max / 8)
			return -1;
	}
	return read_strings(rd, tid, ptrs, n, v);
}

/* Read a whole /proc file (used only when no syscall-entry stop was seen). */
static int read_proc_file(pid_t tid, const char *what, struct buf *b)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", tid, what);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char tmp[65536];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		buf_add(b, tmp, (size_t)n);
	close(fd);
	return 0;
}

static void strv_from_nul_list(struct strv *v)
{
	v->count = 0;
	for (size_t i = 0; i < v->data.len; i++)
		if (v->data.p[i] == 0)
			v->count++;
}

/* ------------------------------------------------------------------------ */
/* Tasks (threads) and processes                                             */

enum {
	T_KNOWN = 1,        /* we have written its spawn record (or it is the root) */
	T_STARTED = 2,      /* its initial stop was seen (or it never gets one) */
	T_HELD = 4,         /* stopped at its initial stop, waiting for the parent's event */
	T_IN_SYSCALL = 8,   /* syscalls mode: between entry and exit stop */
	T_EXEC_PENDING = 16,/* execve entered: filename/argv saved, outcome not known yet */
	T_WANT_EXIT = 32,   /* resume with PTRACE_SYSCALL to see this execve's return value */
	T_CLONE_PENDING = 64,/* seccomp mode: clone flags read at entry */
};

struct pending_exec {
	long nr;
	int dirfd, at_flags;
	struct buf filename;
	struct strv argv, envp;
	uint64_t envp_addr; /* the caller's envp: read only if the exec fails */
	int incomplete;
	int has_crc;        /* --verify: environ_crc32 holds the CRC-32 of /proc/<pid>/environ */
	uint32_t environ_crc32;
};

/*
 * The environment a process has as far as the trace can tell: the envp of
 * its last exec, or its parent's at fork. Shared between parent and child
 * (never changed once made: an exec makes a new one), freed with the last
 * reference. Kept in delta mode, where an exec record says only how its
 * envp differs from this.
 */
struct env {
	int refs;
	size_t count;
	struct buf data; /* the strings, each with its NUL */
	size_t *off;     /* string i is data.p + off[i]; off[count] == data.len */
};

/* An env made from v's strings; v's buffer is taken over (v is left empty). */
static struct env *env_take(struct strv *v)
{
	struct env *e = calloc(1, sizeof *e);
	if (!e)
		die("%s", "out of memory");
	e->refs = 1;
	e->data = v->data;
	memset(v, 0, sizeof *v);
	e->off = xrealloc(NULL, (e->data.len + 1) * sizeof *e->off); /* every string is at least its NUL */
	size_t pos = 0;
	while (pos < e->data.len) {
		e->off[e->count++] = pos;
		const unsigned char *nul = memchr(e->data.p + pos, 0, e->data.len - pos);
		pos = nul ? (size_t)(nul - e->data.p) + 1 : e->data.len;
	}
	e->off[e->count] = e->data.len;
	return e;
}

static struct env *env_ref(struct env *e)
{
	if (e)
		e->refs++;
	return e;
}

static void env_unref(struct env *e)
{
	if (e && --e->refs == 0) {
		free(e->data.p);
		free(e->off);
		free(e);
	}
}

/* The one hunk that turns base into now: base[start:base_end] is replaced
 * by now[start:now_end]; everything before start and after the ends is the
 * same in both (the common prefix and suffix, element by element, bytes
 * exact). start == base_end == now_end: nothing changed. */
struct hunk {
	size_t start, base_end, now_end;
};

static int env_same(const struct env *a, size_t i, const struct env *b, size_t j)
{
	size_t la = a->off[i + 1] - a->off[i], lb = b->off[j + 1] - b->off[j];
	return la == lb && memcmp(a->data.p + a->off[i], b->data.p + b->off[j], la) == 0;
}

static struct hunk env_hunk(const struct env *base, const struct env *now)
{
	size_t nb = base ? base->count : 0, nn = now->count, p = 0, q = 0;
	while (p < nb && p < nn && env_same(base, p, now, p))
		p++;
	while (q < nb - p && q < nn - p && env_same(base, nb - 1 - q, now, nn - 1 - q))
		q++;
	return (struct hunk){p, nb - q, nn - q};
}

struct task {
	pid_t tid, pid;
	int flags;
	struct pending_exec px;
	long clone_nr;
	uint64_t clone_flags, clone_exit_signal;
	struct task *next;
};

struct proc {
	pid_t pid;
	int nthreads;
	struct proc *next;
};

/* Delta mode: the environment of each live process, as a reader rebuilds
 * it from the records: set by the start record (the command's), by a spawn
 * record (the child gets its creator's) and by an exec record (its envp);
 * forgotten at the exit record of its last thread. */
struct envslot {
	pid_t pid;
	struct env *env;
	struct envslot *next;
};

#define NBUCKET 4096

enum mode { MODE_EVENTS, MODE_SECCOMP, MODE_SYSCALLS };
enum env_mode { ENV_FULL, ENV_DELTA, ENV_NONE };

/* How many stops of each kind: where the time goes (in the "end" record). */
struct stop_counts {
	unsigned long long seccomp, syscall, spawn_event, exec_event, initial, group, interrupt, signal;
};

/* Everything one run of the tracer knows: passed to every function that
 * looks at tracees, instead of living in globals. */
/* --verify: exec records compared with /proc/<pid>/cmdline and environ at the exec stop. */
struct verify {
	unsigned long long execs, mismatches;
	char first[512]; /* what the first mismatch was */
};

struct tracer {
	enum mode mode;
	enum env_mode env_mode;
	int verifying; /* --verify */
	struct verify verify;
	int attaching;  /* --attach: at the end, detach instead of killing */
	int stopping;   /* a signal asked us to stop: every tracee is killed (or detached) */
	pid_t root_pid;
	int root_status; /* the root's wait status, -1 until it has ended */
	struct stop_counts stops;
	struct reader mem;
	struct task *tasks[NBUCKET];
	struct proc *procs[NBUCKET];
	struct reported *reported[NBUCKET];
	struct envslot *envs[NBUCKET];
	struct env *last_exec; /* the envp of the last exec record: base 0, the other candidate */
};

/* A process whose exit we have recorded while its parent (not us) had yet
 * to reap it. Its zombie stays until that parent waits for it; if the
 * parent exits first, the zombie is re-parented to us (we are the child
 * subreaper) and waitpid reports the same exit a second time. */
struct reported {
	pid_t pid;
	struct reported *next;
};

static void reported_add(struct tracer *tr, pid_t pid)
{
	struct reported *r = calloc(1, sizeof *r);
	if (!r)
		die("%s", "out of memory");
	r->pid = pid;
	r->next = tr->reported[pid % NBUCKET];
	tr->reported[pid % NBUCKET] = r;
}

/* Forget pid; 1 if it was there. Called when its second report comes, and
 * when a new task gets the pid (the zombie was reaped, the pid reused). */
static int reported_take(struct tracer *tr, pid_t pid)
{
	for (struct reported **pp = &tr->reported[pid % NBUCKET]; *pp; pp = &(*pp)->next)
		if ((*pp)->pid == pid) {
			struct reported *r = *pp;
			*pp = r->next;
			free(r);
			return 1;
		}
	return 0;
}

static struct task *task_find(struct tracer *tr, pid_t tid)
{
	for (struct task *t = tr->tasks[tid % NBUCKET]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

static struct task *task_new(struct tracer *tr, pid_t tid)
{
	struct task *t = calloc(1, sizeof *t);
	if (!t)
		die("%s", "out of memory");
	t->tid = tid;
	t->next = tr->tasks[tid % NBUCKET];
	tr->tasks[tid % NBUCKET] = t;
	reported_take(tr, tid); /* a new task with this tid: an old zombie's pid reused */
	return t;
}

static void px_free(struct pending_exec *px)
{
	free(px->filename.p);
	free(px->argv.data.p);
	free(px->envp.data.p);
	memset(px, 0, sizeof *px);
}

static void task_free(struct tracer *tr, struct task *t)
{
	struct task **pp = &tr->tasks[t->tid % NBUCKET];
	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	px_free(&t->px);
	free(t);
}

static struct proc *proc_find(struct tracer *tr, pid_t pid)
{
	for (struct proc *p = tr->procs[pid % NBUCKET]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static struct proc *proc_get(struct tracer *tr, pid_t pid)
{
	struct proc *p = proc_find(tr, pid);
	if (!p) {
		p = calloc(1, sizeof *p);
		if (!p)
			die("%s", "out of memory");
		p->pid = pid;
		p->next = tr->procs[pid % NBUCKET];
		tr->procs[pid % NBUCKET] = p;
	}
	return p;
}

static struct env *env_of(const struct tracer *tr, pid_t pid)
{
	if (pid == 0)
		return tr->last_exec;
	for (struct envslot *s = tr->envs[pid % NBUCKET]; s; s = s->next)
		if (s->pid == pid)
			return s->env;
	return NULL; /* never named: empty */
}

/* pid's environment is now e (a new reference is taken). */
static void env_set(struct tracer *tr, pid_t pid, struct env *e)
{
	struct envslot *s;
	for (s = tr->envs[pid % NBUCKET]; s && s->pid != pid; s = s->next)
		;
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s)
			die("%s", "out of memory");
		s->pid = pid;
		s->next = tr->envs[pid % NBUCKET];
		tr->envs[pid % NBUCKET] = s;
	}
	env_ref(e);
	env_unref(s->env);
	s->env = e;
}

/* pid ended: its environment can no longer be a base. */
static void env_forget(struct tracer *tr, pid_t pid)
{
	for (struct envslot **pp = &tr->envs[pid % NBUCKET]; *pp; pp = &(*pp)->next)
		if ((*pp)->pid == pid) {
			struct envslot *s = *pp;
			*pp = s->next;
			env_unref(s->env);
			free(s);
			return;
		}
}

/* A new process (not a thread) starts with its creator's environment. */
static void proc_inherit_env(struct tracer *tr, pid_t child, pid_t parent)
{
	if (tr->env_mode == ENV_DELTA)
		env_set(tr, child, env_of(tr, parent));
}

/* The base an exec record of pid is written against: pid's own environment,
 * or (0) the envp of the last exec record, whichever leaves the shorter hunk
 * (a shell hands its children its variables in its own order, not in the
 * order it got them: its children's execs are alike, but unlike its own). */
static pid_t env_base_for(const struct tracer *tr, pid_t pid, const struct env *now)
{
	if (!tr->last_exec || tr->last_exec == env_of(tr, pid))
		return pid;
	struct hunk a = env_hunk(env_of(tr, pid), now), b = env_hunk(tr->last_exec, now);
	size_t ca = (a.now_end - a.start) + (a.base_end - a.start), cb = (b.now_end - b.start) + (b.base_end - b.start);
	return cb < ca ? 0 : pid;
}

static void proc_free(struct tracer *tr, struct proc *p)
{
	struct proc **pp = &tr->procs[p->pid % NBUCKET];
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	free(p);
}

/* ------------------------------------------------------------------------ */
/* ptrace requests and resuming                                              */

/* Every ptrace request's result goes through here. ESRCH is not reported:
 * the tracee was killed meanwhile (SIGKILL needs no resume, and a dead task
 * cannot be read), and waitpid reports its death like any other. Anything
 * else is a warning on stderr. Returns 1 when the request succeeded. */
static int ptrace_ok(long rc, const char *request, pid_t tid)
{
	if (rc >= 0)
		return 1;
	if (errno != ESRCH)
		fprintf(stderr, "tracer: warning: %s of %d failed: %s\n", request, tid, strerror(errno));
	return 0;
}

/* PTRACE_CONT runs the tracee until its next event, seccomp stop or signal;
 * PTRACE_SYSCALL also stops it at the next syscall entry or exit. After an
 * execve's seccomp stop we use PTRACE_SYSCALL for that one thread, so that a
 * failing execve shows its return value at the syscall-exit stop. */
static void resume(struct tracer *tr, struct task *t, int sig)
{
	int syscall_stops = tr->mode == MODE_SYSCALLS || (t->flags & T_WANT_EXIT);
	int req = syscall_stops ? PTRACE_SYSCALL : PTRACE_CONT;
	ptrace_ok(ptrace(req, t->tid, NULL, (void *)(long)sig), syscall_stops ? "PTRACE_SYSCALL" : "PTRACE_CONT",
		  t->tid);
}

/* The registers of a stopped tracee; 0 when they cannot be read (warned). */
static int get_regs(struct task *t, struct user_regs_struct *r)
{
	return ptrace_ok(ptrace(PTRACE_GETREGS, t->tid, NULL, r), "PTRACE_GETREGS", t->tid);
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

static const char *mode_name(enum mode mode)
{
	return mode == MODE_EVENTS ? "events" : mode == MODE_SECCOMP ? "seccomp" : "syscalls";
}

/* The strings e[from:to) as a JSON array. */
static void json_env_range(const struct env *e, size_t from, size_t to)
{
	putc('[', out);
	for (size_t i = from; i < to; i++) {
		if (i > from)
			putc(',', out);
		json_bytes(e->data.p + e->off[i], e->off[i + 1] - e->off[i] - 1);
	}
	putc(']', out);
}

/* How the envp of an exec is written: in full (full), not at all (none), or
 * (delta) as the hunk that turns the process's environment (base) into it. */
static void json_envp(const struct tracer *tr, const struct pending_exec *px, pid_t base_pid,
		      const struct env *now)
{
	const struct env *base = tr->env_mode == ENV_DELTA ? env_of(tr, base_pid) : NULL;
	if (tr->env_mode == ENV_FULL) {
		fputs(",\"envp\":", out);
		json_strv(&px->envp);
	} else if (tr->env_mode == ENV_DELTA) {
		struct hunk h = env_hunk(base, now);
		fprintf(out, ",\"env_base\":%d,\"env_edits\":[", base_pid);
		if (h.start != h.base_end || h.start != h.now_end) {
			fprintf(out, "[%zu,%zu,", h.start, h.base_end);
			json_env_range(now, h.start, h.now_end);
			putc(']', out);
		}
		putc(']', out);
	}
	if (px->has_crc)
		fprintf(out, ",\"environ_crc32\":%u", (unsigned)px->environ_crc32);
}

static void emit_start(const struct tracer *tr, char **cmd)
{
	record_begin("start", now_ns());
	fprintf(out, ",\"pid\":%d,\"mode\":\"%s\",\"argv\":", tr->root_pid, mode_name(tr->mode));
	putc('[', out);
	for (char **a = cmd; !tr->attaching && *a; a++) {
		if (a != cmd)
			putc(',', out);
		json_str(*a);
	}
	fprintf(out, "],\"attached\":%s,\"version\":2", tr->attaching ? "true" : "false");
	/* Delta mode: the environment the command starts with (ours), the base of
	 * its first exec; absent with --attach (nothing is known: an empty base). */
	if (tr->env_mode != ENV_FULL)
		fprintf(out, ",\"env\":\"%s\"", tr->env_mode == ENV_DELTA ? "delta" : "none");
	if (tr->env_mode == ENV_DELTA && !tr->attaching) {
		const struct env *e = env_of(tr, tr->root_pid);
		fputs(",\"envp\":", out);
		json_env_range(e, 0, e ? e->count : 0);
	}
	record_end();
}

static void emit_spawn(uint64_t ts, struct task *parent, pid_t child_pid, pid_t child_tid, long nr,
		       uint64_t flags, uint64_t exit_signal)
{
	const char *name = syscall_name(nr);
	record_begin("spawn", ts);
	fprintf(out, ",\"parent_pid\":%d,\"parent_tid\":%d,\"child_pid\":%d,\"child_tid\":%d,\"syscall\":", parent->pid, parent->tid,
		child_pid, child_tid);
	json_str(name ? name : "unknown");
	fprintf(out, ",\"flags\":%llu,\"flag_names\":", (unsigned long long)flags);
	json_flag_names(flags, nr == __NR_clone3);
	fputs(",\"exit_signal\":", out);
	json_signal((int)exit_signal);
	fprintf(out, ",\"is_thread\":%s", (flags & CLONE_THREAD) ? "true" : "false");
	record_end();
}

static void emit_exec(const struct tracer *tr, const char *type, uint64_t ts, struct task *t, pid_t former_tid,
		      int err, const char *source, pid_t base, const struct env *now)
{
	struct pending_exec *px = &t->px;
	record_begin(type, ts);
	fprintf(out, ",\"pid\":%d,\"tid\":%d,\"syscall\":", t->pid, t->tid);
	json_str(syscall_name(px->nr) ? syscall_name(px->nr) : "execve");
	fputs(",\"filename\":", out);
	if (px->filename.len)
		json_bytes(px->filename.p, px->filename.len - 1);
	else
		json_str("");
	fputs(",\"argv\":", out);
	json_strv(&px->argv);
	json_envp(tr, px, base, now);
	if (px->nr == __NR_execveat)
		fprintf(out, ",\"dirfd\":%d,\"at_flags\":%d", px->dirfd, px->at_flags);
	if (strcmp(type, "exec") == 0) {
		if (former_tid && former_tid != t->tid)
			fprintf(out, ",\"former_tid\":%d", former_tid);
		else
			fputs(",\"former_tid\":null", out);
	} else {
		fputs(",\"errno\":", out);
		json_errno(err);
	}
	fprintf(out, ",\"source\":\"%s\",\"complete\":%s", source, px->incomplete ? "false" : "true");
	record_end();
}

/* A thread ended; status is its wait status. pid -1: its process is unknown. */
static void emit_exit(uint64_t ts, pid_t pid, pid_t tid, int status, int last_thread)
{
	record_begin("exit", ts);
	fprintf(out, ",\"pid\":%d,\"tid\":%d,\"exit_code\":", pid, tid);
	if (WIFEXITED(status))
		fprintf(out, "%d,\"signal\":null", WEXITSTATUS(status));
	else {
		fputs("null,\"signal\":", out);
		json_signal(WTERMSIG(status));
	}
	fprintf(out, ",\"core_dumped\":%s,\"last_thread\":%s", (WIFSIGNALED(status) && WCOREDUMP(status)) ? "true" : "false",
		last_thread ? "true" : "false");
	record_end();
}

/* Our own CPU time (not the tracees'): how much of the overhead is the
 * tracer's work, as opposed to the stops themselves. */
static unsigned long long self_cpu_ns(void)
{
	struct rusage self;
	getrusage(RUSAGE_SELF, &self);
	return (unsigned long long)(self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000000ULL +
	       (unsigned long long)(self.ru_utime.tv_usec + self.ru_stime.tv_usec) * 1000ULL;
}

static void emit_end(const struct tracer *tr, int exit_status)
{
	const struct stop_counts *s = &tr->stops;
	unsigned long long self_ns = self_cpu_ns();
	record_begin("end", now_ns());
	fprintf(out, ",\"exit_status\":%d,\"tracer_cpu_ns\":%llu,\"interrupted_by\":", exit_status, self_ns);
	json_signal(interrupted);
	fprintf(out,
		",\"stops\":{\"seccomp\":%llu,\"syscall\":%llu,\"spawn_event\":%llu,\"exec_event\":%llu,"
		"\"initial\":%llu,\"group\":%llu,\"interrupt\":%llu,\"signal\":%llu},"
		"\"mem_read_calls\":%llu,\"mem_read_bytes\":%llu,\"peek_words\":%llu,\"records\":%llu",
		s->seccomp, s->syscall, s->spawn_event, s->exec_event, s->initial, s->group, s->interrupt, s->signal,
		tr->mem.calls, tr->mem.bytes, tr->mem.peek_words, n_records);
	if (tr->verifying) {
		fprintf(out, ",\"verify\":{\"execs\":%llu,\"mismatches\":%llu,\"first\":", tr->verify.execs,
			tr->verify.mismatches);
		json_str(tr->verify.mismatches ? tr->verify.first : NULL);
		putc('}', out);
	}
	record_end();
}

/* ------------------------------------------------------------------------ */
/* What to do at each kind of stop                                           */

/*
 * Syscall arguments on x86-64 (see syscall(2)): the number goes in rax, the
 * arguments in rdi, rsi, rdx, r10, r8, r9. At a syscall-ENTRY stop the kernel
 * has already saved the number in orig_rax and put -ENOSYS into rax (rax will
 * hold the return value at the EXIT stop), so the number is orig_rax, never
 * rax. For execve(filename, argv, envp): rdi = filename, rsi = argv, rdx = envp.
 * For execveat(dirfd, pathname, argv, envp, flags): rdi, rsi, rdx, r10, r8.
 */
/* The filename and the argv of an execve at its entry. They usually lie
 * apart (the filename in the caller's data, the pointer array on its stack
 * or heap): one process_vm_readv fetches the start of both; a second fetches the argv strings (read_strings). Only
 * what did not fit is read on through the window. */
static int read_filename_argv(struct reader *rd, pid_t tid, uint64_t filename, uint64_t argv, struct buf *fn,
			      struct strv *av)
{
	static unsigned char fbuf[PAGE];
	static uint64_t pbuf[PAGE / 8];
	/* 256 bytes each, or to the end of the page: most filenames and argv
	 * arrays are shorter; what is longer is read on. */
	size_t fl = PAGE - filename % PAGE, al = (PAGE - argv % PAGE) / 8 * 8;
	if (fl > 256)
		fl = 256;
	if (al > 256)
		al = 256;
	ssize_t got = -1;
	if (rd->vm_readv_works && argv && al) {
		struct iovec local[2] = {{fbuf, fl}, {pbuf, al}};
		struct iovec remote[2] = {{(void *)filename, fl}, {(void *)argv, al}};
		rd->calls++;
		got = process_vm_readv(tid, local, 2, remote, 2, 0);
		if (got > 0)
			rd->bytes += (size_t)got;
		else if (got < 0 && (errno == ENOSYS || errno == EPERM))
			rd->vm_readv_works = 0; /* as in mem_read: PEEKDATA from now on */
	}
	int rc = 0;
	const unsigned char *nul = got > 0 ? memchr(fbuf, 0, (size_t)got < fl ? (size_t)got : fl) : NULL;
	if (nul)
		buf_add(fn, fbuf, (size_t)(nul - fbuf) + 1);
	else if (read_string(rd, tid, filename, fn) < 0)
		rc = -1;
	size_t n = 0, have = got > (ssize_t)fl ? ((size_t)got - fl) / 8 : 0;
	while (n < have && pbuf[n])
		n++;
	if (n < have) /* the NULL that ends argv was in what we got */
		return read_strings(rd, tid, pbuf, n, av) < 0 ? -1 : rc;
	return read_strv(rd, tid, argv, av) < 0 ? -1 : rc;
}

static void save_exec_args(struct tracer *tr, struct task *t, const struct user_regs_struct *r)
{
	struct pending_exec *px = &t->px;
	uint64_t filename, argv, envp;
	px_free(px);
	px->nr = (long)r->orig_rax;
	if (px->nr == __NR_execveat) {
		px->dirfd = (int)r->rdi;
		filename = r->rsi;
		argv = r->rdx;
		envp = r->r10;
		px->at_flags = (int)r->r8;
	} else {
		filename = r->rdi;
		argv = r->rsi;
		envp = r->rdx;
	}
	if (read_filename_argv(&tr->mem, t->tid, filename, argv, &px->filename, &px->argv) < 0)
		px->incomplete = 1;
	/* The envp is not read here: a successful exec leaves an exact copy on
	 * the new stack (read_new_stack_env), a failed one leaves the caller's
	 * memory as it was (read at the syscall-exit stop). */
	px->envp_addr = envp;
	t->flags |= T_EXEC_PENDING;
}

/*
 * The envp of an exec that has just succeeded, from the NEW program's stack.
 * The kernel copied the strings there, contiguous, and built the initial
 * stack the program starts with: at rsp, argc, then argv[0..argc), NULL,
 * envp[...], NULL, the auxiliary vector; the argv strings, the envp strings
 * and the filename lie just below the top of the stack mapping. Nothing of
 * the new program has run yet. One process_vm_readv from rsp asks for
 * STACK_READ bytes: it stops short at the end of the mapping, so it usually
 * gets the pointers and every string at once. A string beyond what it got
 * (a huge environment) is read on through the window.
 *
 * The argv is NOT taken from here: for a #! script (and binfmt_misc) the
 * kernel rewrote it (the interpreter, its argument and the script's path in
 * place of argv[0]), and since Linux 5.18 an empty argv becomes [""]. Only
 * the envp is always copied unchanged. A 32-bit program's stack has 4-byte
 * pointers: then 1 is returned and the caller reads /proc/<pid>/environ.
 */
#define STACK_READ (256u * 1024u)

static int read_new_stack_env(struct tracer *tr, struct task *t, struct strv *v)
{
	static unsigned char stack[STACK_READ];
	struct user_regs_struct r;
	v->data.len = 0;
	v->count = 0;
	if (!get_regs(t, &r))
		return -1;
	if (r.cs != 0x33) /* not __USER_CS: a 32-bit (compat) program */
		return 1;
	size_t got = mem_read(&tr->mem, t->tid, r.rsp, stack, sizeof stack);
	size_t nwords = got / 8, i;
	const uint64_t *w = (const uint64_t *)stack;
	if (nwords < 1)
		return -1;
	if (w[0] + 2 > nwords) /* more argv pointers than was read: read the envp array where it is */
		return read_strv(&tr->mem, t->tid, r.rsp + 8 * (w[0] + 2), v);
	uint64_t envp = r.rsp + 8 * (w[0] + 2);
	size_t first = (size_t)w[0] + 2;
	for (i = first; i < nwords && w[i]; i++) {
		uint64_t a = w[i];
		const unsigned char *nul = NULL;
		if (a >= r.rsp && a < r.rsp + got)
			nul = memchr(stack + (a - r.rsp), 0, r.rsp + got - a);
		if (nul) {
			buf_add(&v->data, stack + (a - r.rsp), (size_t)(nul - (stack + (a - r.rsp))) + 1);
			v->count++;
		} else if (read_string(&tr->mem, t->tid, a, &v->data) < 0) {
			return -1;
		} else {
			v->count++;
		}
	}
	if (i == nwords) /* the pointer array goes on beyond what was read: read it all again */
		return read_strv(&tr->mem, t->tid, envp, v);
	return 0;
}

/* struct clone_args (linux/sched.h), the first 8 fields: all that clone3's
 * oldest version (CLONE_ARGS_SIZE_VER0 = 64 bytes) has. */
struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* What a clone-family call asked for. */
struct spawn_args {
	long nr;
	uint64_t flags, exit_signal;
};

static struct spawn_args spawn_args_from_regs(struct tracer *tr, pid_t tid, const struct user_regs_struct *r)
{
	struct spawn_args a = {(long)r->orig_rax, 0, SIGCHLD}; /* fork: clone(SIGCHLD) with no flags */
	switch (a.nr) {
	case __NR_clone: /* clone(flags, stack, parent_tid, child_tid, tls): flags in rdi */
		a.flags = r->rdi;
		a.exit_signal = r->rdi & CSIGNAL;
		break;
	case __NR_clone3: { /* clone3(struct clone_args *args, size_t size): args in rdi */
		struct clone_args_v0 ca;
		memset(&ca, 0, sizeof ca);
		if (mem_read(&tr->mem, tid, r->rdi, (unsigned char *)&ca, sizeof ca) != sizeof ca)
			fprintf(stderr, "tracer: warning: cannot read clone_args of %d\n", tid);
		a.flags = ca.flags;
		a.exit_signal = ca.exit_signal;
		break;
	}
	case __NR_vfork: /* the kernel's vfork is clone(CLONE_VFORK|CLONE_VM|SIGCHLD) */
		a.flags = CLONE_VFORK | CLONE_VM;
		break;
	}
	return a;
}

/* The new task's record is written: release it if its initial stop came first. */
static void adopt_child(struct tracer *tr, pid_t child_tid, pid_t child_pid)
{
	struct task *c = task_find(tr, child_tid);
	if (!c)
		c = task_new(tr, child_tid);
	c->pid = child_pid;
	c->flags |= T_KNOWN;
	if (c->flags & T_HELD) {
		c->flags &= ~T_HELD;
		resume(tr, c, 0);
	}
}

/* Without its parent's event a held task would wait for ever: let every
 * held task go as a process of its own (its spawn record is lost). */
static void release_held(struct tracer *tr)
{
	for (int i = 0; i < NBUCKET; i++)
		for (struct task *t = tr->tasks[i]; t; t = t->next)
			if (t->flags & T_HELD) {
				fprintf(stderr, "tracer: warning: task %d runs on without its spawn record\n", t->tid);
				t->pid = t->tid;
				t->flags = (t->flags & ~T_HELD) | T_KNOWN;
				proc_get(tr, t->pid)->nthreads++;
				resume(tr, t, 0);
			}
}

/* The arguments of the clone that stopped t: read at its entry (seccomp
 * mode), or now from its registers. 0 when they cannot be had. */
static int pending_spawn_args(struct tracer *tr, struct task *t, struct spawn_args *a)
{
	struct user_regs_struct r;
	if (t->flags & T_CLONE_PENDING) { /* seccomp mode: read at syscall entry */
		a->nr = t->clone_nr;
		a->flags = t->clone_flags;
		a->exit_signal = t->clone_exit_signal;
		t->flags &= ~T_CLONE_PENDING;
		return 1;
	}
	/* The parent is stopped inside clone: its argument registers still
	 * hold what it passed, and orig_rax says which syscall it was. */
	if (!get_regs(t, &r))
		return 0;
	*a = spawn_args_from_regs(tr, t->tid, &r);
	return 1;
}

/* PTRACE_EVENT_CLONE/FORK/VFORK: t created a task; the event message is its tid. */
static void on_spawn_event(struct tracer *tr, struct task *t, uint64_t ts)
{
	unsigned long msg = 0;
	struct spawn_args a;
	tr->stops.spawn_event++;
	if (!ptrace_ok(ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &msg), "PTRACE_GETEVENTMSG", t->tid) || msg == 0) {
		fprintf(stderr, "tracer: warning: the task %d created is unknown: no spawn record\n", t->tid);
		t->flags &= ~T_CLONE_PENDING;
		release_held(tr);
		resume(tr, t, 0);
		return;
	}
	pid_t child_tid = (pid_t)msg;
	if (pending_spawn_args(tr, t, &a)) {
		int is_thread = (a.flags & CLONE_THREAD) != 0;
		pid_t child_pid = is_thread ? t->pid : child_tid;
		proc_get(tr, child_pid)->nthreads++;
		if (!is_thread)
			proc_inherit_env(tr, child_pid, t->pid);
		emit_spawn(ts, t, child_pid, child_tid, a.nr, a.flags, a.exit_signal);
		adopt_child(tr, child_tid, child_pid);
	} else {
		fprintf(stderr, "tracer: warning: no spawn record for %d: the clone arguments of %d are gone\n",
			child_tid, t->tid);
		proc_get(tr, child_tid)->nthreads++; /* no record: a reader cannot know its env, nor do we */
		adopt_child(tr, child_tid, child_tid);
	}
	resume(tr, t, 0);
}

static void on_seccomp_stop(struct tracer *tr, struct task *t)
{
	struct user_regs_struct r;
	tr->stops.seccomp++;
	if (get_regs(t, &r)) {
		long nr = (long)r.orig_rax;
		if (nr == __NR_execve || nr == __NR_execveat) {
			save_exec_args(tr, t, &r);
			t->flags |= T_WANT_EXIT;
		} else if (syscall_name(nr)) {
			struct spawn_args a = spawn_args_from_regs(tr, t->tid, &r);
			t->clone_nr = a.nr;
			t->clone_flags = a.flags;
			t->clone_exit_signal = a.exit_signal;
			t->flags |= T_CLONE_PENDING;
		}
	}
	resume(tr, t, 0);
}

/* A syscall-entry or -exit stop (PTRACE_SYSCALL, seen as SIGTRAP|0x80 thanks
 * to PTRACE_O_TRACESYSGOOD). */
static void on_syscall_stop(struct tracer *tr, struct task *t, uint64_t ts)
{
	struct user_regs_struct r;
	tr->stops.syscall++;
	int entering = 0; /* events/seccomp: we only ask for the exit of an execve */
	if (tr->mode == MODE_SYSCALLS) {
		/* Entry and exit stops alternate; a new task starts outside a syscall.
		 * (At entry rax is always -ENOSYS, but a syscall can also return
		 * -ENOSYS, so rax alone cannot tell entry from exit.) */
		t->flags ^= T_IN_SYSCALL;
		entering = (t->flags & T_IN_SYSCALL) != 0;
	}
	if (!get_regs(t, &r)) {
		resume(tr, t, 0);
		return;
	}
	if (entering) {
		long nr = (long)r.orig_rax;
		if (nr == __NR_execve || nr == __NR_execveat)
			save_exec_args(tr, t, &r);
	} else if (t->flags & T_EXEC_PENDING) {
		/* At the exit stop rax holds the return value: -errno on failure. A
		 * successful execve never gets here with T_EXEC_PENDING set, because
		 * its PTRACE_EVENT_EXEC stop came first and wrote the exec record. */
		long ret = (long)r.rax;
		if (ret < 0 && tr->env_mode != ENV_NONE &&
		    read_strv(&tr->mem, t->tid, t->px.envp_addr, &t->px.envp) < 0)
			t->px.incomplete = 1; /* the exec failed: the caller's memory is as it passed it */
		if (ret < 0 && t->px.incomplete)
			fprintf(stderr, "tracer: warning: the argv/envp of a failed exec in %d could not be read (not "
				"dumpable, and no CAP_SYS_PTRACE?): its record has \"complete\": false\n", t->pid);
		if (ret < 0) {
			struct env *now = tr->env_mode == ENV_DELTA ? env_take(&t->px.envp) : NULL;
			pid_t base = now ? env_base_for(tr, t->pid, now) : 0;
			emit_exec(tr, "exec_failed", ts, t, 0, (int)-ret, "entry", base, now);
			env_unref(now);
		}
		px_free(&t->px);
		t->flags &= ~T_EXEC_PENDING;
	}
	t->flags &= ~T_WANT_EXIT;
	resume(tr, t, 0);
}

/* A non-leader thread called execve. The kernel killed every other thread
 * and gave the exec'ing thread the leader's tid (= the pid); its own old tid
 * is gone and will never be reported again. Move what we saved at its
 * syscall entry over to the leader's entry. */
static void take_over_former(struct tracer *tr, struct task *t, pid_t former)
{
	struct task *f = task_find(tr, former);
	if (!f)
		return;
	px_free(&t->px);
	t->px = f->px;
	memset(&f->px, 0, sizeof f->px);
	t->flags = (t->flags & (T_KNOWN | T_STARTED)) | (f->flags & ~(T_KNOWN | T_STARTED | T_HELD));
	task_free(tr, f);
	struct proc *p = proc_find(tr, t->pid);
	if (p)
		p->nthreads--;
}

/* No entry stop was seen (e.g. a 32-bit execve that our x86-64 filter lets
 * through, or --attach). The old argv is gone, but the kernel copied argv and
 * envp onto the new stack, and nothing has run yet, so /proc/<pid>/cmdline
 * and environ still hold them exactly. The filename is not kept anywhere: we
 * give the path of the executable. */
static void exec_args_from_proc(struct task *t)
{
	struct pending_exec *px = &t->px;
	px_free(px);
	px->nr = __NR_execve;
	char path[64], target[PATH_MAX];
	snprintf(path, sizeof path, "/proc/%d/exe", t->tid);
	ssize_t n = readlink(path, target, sizeof target - 1);
	buf_add(&px->filename, target, n > 0 ? (size_t)n : 0);
	buf_add(&px->filename, "", 1);
	if (read_proc_file(t->tid, "cmdline", &px->argv.data) < 0)
		px->incomplete = 1;
	if (read_proc_file(t->tid, "environ", &px->envp.data) < 0)
		px->incomplete = 1;
	strv_from_nul_list(&px->argv);
	strv_from_nul_list(&px->envp);
}

/* The tid that called the execve that just succeeded in t's process: the
 * event message. Only when another thread could have been the one to ask. */
static pid_t exec_former_tid(struct tracer *tr, struct task *t)
{
	struct proc *pr = proc_find(tr, t->pid);
	unsigned long former = (unsigned long)t->tid;
	if (pr && pr->nthreads <= 1)
		return t->tid;
	if (!ptrace_ok(ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &former), "PTRACE_GETEVENTMSG", t->tid) ||
	    former == 0) {
		fprintf(stderr, "tracer: warning: which thread of %d called execve is unknown: "
			"recorded as the leader's\n", t->pid);
		return t->tid;
	}
	return (pid_t)former;
}

/* CRC-32 (the one of zlib, gzip and PNG), so that a reader can check its own
 * reconstruction of an envp against /proc with zlib.crc32. */
static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	static uint32_t table[256];
	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* String i of a NUL-separated list, and its length (without the NUL). */
static const unsigned char *nth_string(const struct buf *b, size_t i, size_t *len)
{
	size_t pos = 0;
	for (;;) {
		const unsigned char *nul = memchr(b->p + pos, 0, b->len - pos);
		size_t end = nul ? (size_t)(nul - b->p) : b->len;
		if (i-- == 0) {
			*len = end - pos;
			return b->p + pos;
		}
		pos = end + 1;
	}
}

static int same_strings(const struct buf *a, size_t i, const struct buf *b, size_t j)
{
	size_t la, lb;
	const unsigned char *pa = nth_string(a, i, &la), *pb = nth_string(b, j, &lb);
	return la == lb && memcmp(pa, pb, la) == 0;
}

/* Is cmdline what the kernel makes of argv? The same strings; or, for a #!
 * script (or binfmt_misc), the interpreter's words, then the script's path,
 * then argv[1:]; and since Linux 5.18 an empty argv is [""]. */
static int cmdline_matches(const struct pending_exec *px, const struct buf *cmdline)
{
	struct strv c = {*cmdline, 0};
	strv_from_nul_list(&c);
	static const unsigned char empty[1] = {0};
	struct buf a = px->argv.data;
	size_t na = px->argv.count;
	if (na == 0) {
		a = (struct buf){(unsigned char *)empty, 1, 1};
		na = 1;
	}
	if (c.count == na && a.len == cmdline->len && memcmp(a.p, cmdline->p, a.len) == 0)
		return 1;
	if (c.count < na + 1 || c.count > na + 2)
		return 0;
	size_t shift = c.count - na; /* the interpreter, and its one argument if it has one */
	for (size_t i = 1; i < na; i++)
		if (!same_strings(&a, i, cmdline, i + shift))
			return 0;
	/* the script's path as the kernel knew it: the filename (execveat of a
	 * relative path: /dev/fd/N/path, not compared) */
	if (px->nr == __NR_execveat)
		return 1;
	size_t ln;
	const unsigned char *p = nth_string(cmdline, shift, &ln);
	return px->filename.len == ln + 1 && memcmp(px->filename.p, p, ln) == 0;
}

static void verify_mismatch(struct tracer *tr, pid_t pid, const char *what)
{
	if (tr->verify.mismatches++ == 0)
		snprintf(tr->verify.first, sizeof tr->verify.first, "pid %d: %s", pid, what);
}

/*
 * --verify: the record about to be written against what the kernel says the
 * new program got (/proc/<pid>/cmdline and environ; nothing of it has run
 * yet, so both are exactly what the exec passed). The envp is compared as a
 * reader will rebuild it: the base with the record's hunk applied.
 */
static void verify_exec(struct tracer *tr, struct task *t, const struct env *base, const struct env *now)
{
	struct pending_exec *px = &t->px;
	struct buf cmdline = {0}, environ_ = {0};
	tr->verify.execs++;
	if (read_proc_file(t->tid, "cmdline", &cmdline) < 0 || read_proc_file(t->tid, "environ", &environ_) < 0) {
		verify_mismatch(tr, t->pid, "/proc/<pid>/cmdline or environ could not be read");
	} else {
		if (!cmdline_matches(px, &cmdline))
			verify_mismatch(tr, t->pid, "argv differs from /proc/<pid>/cmdline");
		if (tr->env_mode != ENV_NONE) {
			px->has_crc = 1;
			px->environ_crc32 = crc32_of(environ_.p, environ_.len);
			int same;
			if (now) { /* base[:start] + now[start:now_end] + base[base_end:] */
				struct hunk h = env_hunk(base, now);
				size_t pre = base ? base->off[h.start] : 0;
				size_t mid = now->off[h.now_end] - now->off[h.start];
				size_t post = base ? base->data.len - base->off[h.base_end] : 0;
				same = pre + mid + post == environ_.len &&
				       (!pre || memcmp(base->data.p, environ_.p, pre) == 0) &&
				       (!mid || memcmp(now->data.p + now->off[h.start], environ_.p + pre, mid) == 0) &&
				       (!post || memcmp(base->data.p + base->off[h.base_end], environ_.p + pre + mid, post) == 0);
			} else {
				same = px->envp.data.len == environ_.len &&
				       (!environ_.len || memcmp(px->envp.data.p, environ_.p, environ_.len) == 0);
			}
			if (!same)
				verify_mismatch(tr, t->pid, "envp (as rebuilt from the record) differs from /proc/<pid>/environ");
		}
	}
	free(cmdline.p);
	free(environ_.p);
}

/*
 * PTRACE_EVENT_EXEC: the execve has succeeded. This stop comes AFTER the
 * kernel replaced the old program with the new one: rsi and rdx (if they
 * were still intact) would point into an address space that no longer
 * exists, and PTRACE_PEEKDATA there fails with EIO or reads the new
 * program's bytes. That is why the filename and argv were copied at the
 * syscall ENTRY stop (save_exec_args). The envp is read now, from the new
 * stack (read_new_stack_env).
 */
static void on_exec_event(struct tracer *tr, struct task *t, uint64_t ts)
{
	tr->stops.exec_event++;
	pid_t former = exec_former_tid(tr, t);
	if (former != t->tid)
		take_over_former(tr, t, former);
	const char *source = "entry";
	if ((t->flags & T_EXEC_PENDING) && !t->px.incomplete && tr->env_mode != ENV_NONE) {
		int rc = read_new_stack_env(tr, t, &t->px.envp);
		if (rc != 0) { /* a 32-bit program, or its stack could not be read: /proc has the same bytes */
			t->px.envp.data.len = 0;
			if (read_proc_file(t->tid, "environ", &t->px.envp.data) < 0)
				t->px.incomplete = 1;
			strv_from_nul_list(&t->px.envp);
		}
	}
	if (!(t->flags & T_EXEC_PENDING) || t->px.incomplete) {
		/* No entry stop, or it could not read the caller's memory: a process
		 * that is not dumpable (prctl(PR_SET_DUMPABLE, 0), a setuid program)
		 * refuses a tracer without CAP_SYS_PTRACE. The new image's /proc
		 * files hold the same argv and envp, and are readable when the new
		 * image is dumpable again (any ordinary program). */
		exec_args_from_proc(t);
		source = "proc";
	}
	if (t->px.incomplete)
		fprintf(stderr, "tracer: warning: the argv/envp of the exec in %d could not be read (not dumpable, "
			"and no CAP_SYS_PTRACE?): its exec record has \"complete\": false\n", t->pid);
	struct env *now = NULL;
	pid_t base = 0;
	if (tr->env_mode == ENV_DELTA) {
		now = env_take(&t->px.envp);
		base = env_base_for(tr, t->pid, now);
		struct hunk h = env_hunk(env_of(tr, base), now);
		if (h.start == h.base_end && h.start == h.now_end && env_of(tr, base)) { /* the same: share the base's */
			env_unref(now);
			now = env_ref(env_of(tr, base));
		}
	}
	if (tr->verifying)
		verify_exec(tr, t, now ? env_of(tr, base) : NULL, now);
	emit_exec(tr, "exec", ts, t, former, 0, source, base, now);
	if (now) { /* from now on what a record naming this pid as its base means */
		struct env *old = tr->last_exec;
		tr->last_exec = env_ref(now);
		env_unref(old);
		env_set(tr, t->pid, now);
		env_unref(now);
	}
	px_free(&t->px);
	t->flags &= ~(T_EXEC_PENDING | T_WANT_EXIT);
	resume(tr, t, 0);
}

static void on_death(struct tracer *tr, pid_t tid, int status, uint64_t ts)
{
	struct task *t = task_find(tr, tid);
	if (!t && reported_take(tr, tid))
		return; /* the second report of an exit already recorded (see struct reported) */
	pid_t pid = t ? t->pid : 0;
	if (pid <= 0)
		pid = -1; /* a task that died before we learnt its process (race with exit_group) */
	struct proc *p = pid > 0 ? proc_find(tr, pid) : NULL;
	/* A task we never learnt about is, in practice, a thread its process
	 * started while exit_group was already killing it: the clone event never
	 * came. It ends no process we know of, so it is not a last thread (the
	 * record still says it died, with pid -1). */
	int last = t && tid == pid;
	if (p) {
		p->nthreads--;
		last = p->nthreads <= 0;
	}
	emit_exit(ts, pid, tid, status, last);
	if (last && pid > 0 && tr->env_mode == ENV_DELTA)
		env_forget(tr, pid);
	/* A process that is not our own child stays a zombie of its parent:
	 * remember it, in case that parent leaves it to us. (One of our own
	 * children is reaped now and never comes back: its entry is harmless,
	 * and dropped when the pid is reused.) */
	if (t && last && tid == pid)
		reported_add(tr, pid);
	if (pid == tr->root_pid && last)
		tr->root_status = status;
	if (p && last)
		proc_free(tr, p);
	if (t)
		task_free(tr, t);
}

/* PTRACE_EVENT_STOP: a new task's initial stop, a group-stop, or the stop
 * our PTRACE_INTERRUPT asked for. */
static void on_event_stop(struct tracer *tr, struct task *t, int sig)
{
	if (!(t->flags & T_STARTED)) {
		/* The initial stop of an auto-attached task. */
		tr->stops.initial++;
		t->flags |= T_STARTED;
		if (t->flags & T_KNOWN)
			resume(tr, t, 0);
		else
			t->flags |= T_HELD; /* until its parent's spawn event (on_spawn_event) */
	} else if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
		/* A group-stop (the process was stopped by a signal). Under
		 * PTRACE_SEIZE, PTRACE_LISTEN leaves it stopped, as it would
		 * be without us, until a SIGCONT wakes it. PTRACE_CONT here
		 * would wrongly let it run on. */
		tr->stops.group++;
		ptrace_ok(ptrace(PTRACE_LISTEN, t->tid, NULL, NULL), "PTRACE_LISTEN", t->tid);
	} else {
		tr->stops.interrupt++;
		resume(tr, t, 0);
	}
}

/* A tracee stopped while we trace normally: dispatch on the kind of stop. */
static void on_stop(struct tracer *tr, struct task *t, int status, uint64_t ts)
{
	int sig = WSTOPSIG(status);
	switch ((unsigned)status >> 16) { /* the PTRACE_EVENT_*, 0 for none */
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		on_spawn_event(tr, t, ts);
		break;
	case PTRACE_EVENT_EXEC:
		on_exec_event(tr, t, ts);
		break;
	case PTRACE_EVENT_SECCOMP:
		on_seccomp_stop(tr, t);
		break;
	case PTRACE_EVENT_STOP:
		on_event_stop(tr, t, sig);
		break;
	default:
		if (sig == (SIGTRAP | 0x80)) {
			on_syscall_stop(tr, t, ts);
		} else {
			/* A signal is about to be delivered to the tracee: pass it on
			 * unchanged (resuming with 0 would swallow it). */
			tr->stops.signal++;
			resume(tr, t, sig);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Starting the command                                                      */

/*
 * The seccomp filter: a tiny BPF program the kernel runs at every syscall of
 * the tracee (and, inherited, of all its descendants). It answers
 * SECCOMP_RET_TRACE for the syscalls we want to see at entry, which becomes
 * a PTRACE_EVENT_SECCOMP stop, and SECCOMP_RET_ALLOW for everything else, so
 * those never stop. Syscall numbers depend on the architecture, so the filter
 * checks it first; a 32-bit (int 0x80) or x32 syscall is allowed through, and
 * such an execve is still seen at its PTRACE_EVENT_EXEC stop.
 */
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

/* A seccomp filter normally also switches on the kernel's speculative-
 * execution mitigations for the task (SSBD, STIBP on kernels configured
 * "seccomp"), which makes every context switch dearer. Ours observes and
 * sandboxes nothing, so ask for no such change (SPEC_ALLOW, Linux 4.17+):
 * the traced programs then run as they would untraced. */
static int set_filter(struct sock_fprog *prog)
{
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, prog) == 0)
		return 0;
	if (errno == EINVAL) /* an older kernel without the flag */
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog);
	return -1;
}

static int install_filter(enum mode mode)
{
	long nrs[6];
	int n = 0;
	nrs[n++] = __NR_execve;
	nrs[n++] = __NR_execveat;
	if (mode == MODE_SECCOMP) {
		nrs[n++] = __NR_clone;
		nrs[n++] = __NR_clone3;
		nrs[n++] = __NR_fork;
		nrs[n++] = __NR_vfork;
	}
	struct sock_filter f[16];
	int k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (int i = 0; i < n; i++) /* match: jump over the remaining tests and the ALLOW */
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], (unsigned char)(n - i), 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	struct sock_fprog prog = {(unsigned short)k, f};
	/* Installing a filter needs CAP_SYS_ADMIN or no_new_privs. Try without
	 * first, so that setuid programs in the tree still work when we may. */
	if (set_filter(&prog) == 0)
		return 0;
	if (errno == EACCES && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && set_filter(&prog) == 0)
		return 0;
	return -1;
}

/* Why execvp(prog) failed, said the way a user can act on: ENOENT for a
 * file that exists means its #! interpreter is missing (execve says only
 * "No such file or directory"). */
static void explain_exec_failure(const char *prog, int e)
{
	char line[256];
	FILE *f = (e == ENOENT && strchr(prog, '/')) ? fopen(prog, "re") : NULL;
	if (f && fgets(line, sizeof line, f) && line[0] == '#' && line[1] == '!') {
		char *interp = line + 2 + strspn(line + 2, " \t");
		interp[strcspn(interp, " \t\r\n")] = 0;
		fprintf(stderr, "tracer: cannot execute '%s': its interpreter '%s' (the #! line) does not exist\n",
			prog, interp);
	} else {
		fprintf(stderr, "tracer: cannot execute '%s': %s\n", prog, strerror(e));
	}
	if (f)
		fclose(f);
}

/* In the child of start_command: undo what the tracer set for itself,
 * install the filter, report the result, then wait until the parent has
 * seized us. If the parent is gone (EOF), exit instead of running untraced. */
static void command_child(enum mode mode, char **argv, int go, int report)
{
	char c;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	int e = 0;
	if (mode != MODE_SYSCALLS && install_filter(mode) < 0)
		e = errno;
	if (write(report, &e, sizeof e) != (ssize_t)sizeof e || e)
		_exit(TRACER_EXIT_ERROR);
	close(report);
	if (read(go, &c, 1) != 1)
		_exit(TRACER_EXIT_ERROR);
	/* execvp walks PATH with one execve per candidate: each failed
	 * attempt is recorded as exec_failed, like any other. */
	execvp(argv[0], argv);
	e = errno;
	explain_exec_failure(argv[0], e);
	/* like a shell: 127 not found, 126 found but not executable (a missing
	 * interpreter included) */
	int found = e != ENOENT || (strchr(argv[0], '/') && access(argv[0], F_OK) == 0);
	_exit(found ? 126 : 127);
}

/* Kill the child that could not be traced, reap it, and exit with an error. */
static void fail_command(pid_t pid, const char *what, const char *why, const char *hint)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "tracer: error: %s: %s%s\n", what, why, hint);
	exit(TRACER_EXIT_ERROR);
}

/* PTRACE_SEIZE the command's process (it waits for us, see command_child). */
static void seize_command(enum mode mode, pid_t pid)
{
	long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
		    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
	if (mode != MODE_SYSCALLS)
		opts |= PTRACE_O_TRACESECCOMP;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts) < 0)
		fail_command(pid, "PTRACE_SEIZE of the command failed", strerror(errno),
			     ".\ntracer: ptrace is not permitted here: run as a user allowed to trace its children "
			     "(kernel.yama.ptrace_scope), or in a container add --cap-add SYS_PTRACE / a seccomp "
			     "profile that allows ptrace.");
	/* PTRACE_SYSCALL needs a stopped tracee: interrupt it once; that stop is
	 * its "initial stop" (PTRACE_EVENT_STOP) and it is resumed with
	 * PTRACE_SYSCALL like any new task. */
	if (mode == MODE_SYSCALLS && ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
		fail_command(pid, "PTRACE_INTERRUPT of the command failed", strerror(errno), "");
}

/* Start argv[0] as our child, seized before it executes anything of its own. */
static pid_t start_command(enum mode mode, char **argv)
{
	int go[2], report[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		close(report[0]);
		command_child(mode, argv, go[0], report[1]);
	}
	close(go[0]);
	close(report[1]);
	int e = -1;
	ssize_t got;
	do /* a signal (we stop on SIGTERM) must not be taken for the child's death */
		got = read(report[0], &e, sizeof e);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof e || e) {
		waitpid(pid, NULL, 0);
		fprintf(stderr, "tracer: error: cannot install the seccomp filter: %s; try --mode syscalls\n",
			e > 0 ? strerror(e) : "the child died");
		exit(TRACER_EXIT_ERROR);
	}
	close(report[0]);
	seize_command(mode, pid);
	if (write(go[1], "g", 1) != 1) {
		/* the child is gone; waitpid will tell */
	}
	close(go[1]);
	return pid;
}

/* Trace the command: its process is the root, known from the start. */
static void trace_command(struct tracer *tr, char **cmd)
{
	tr->root_pid = start_command(tr->mode, cmd);
	struct task *root = task_new(tr, tr->root_pid);
	root->pid = tr->root_pid;
	/* In syscalls mode the root reports a stop for our PTRACE_INTERRUPT;
	 * otherwise it was seized running and gets no initial stop. */
	root->flags = T_KNOWN | (tr->mode == MODE_SYSCALLS ? 0 : T_STARTED);
	proc_get(tr, tr->root_pid)->nthreads = 1;
	if (tr->env_mode == ENV_DELTA) { /* the command gets our environment (execvp) */
		struct strv v = {{0}, 0};
		for (char **e = environ; *e; e++)
			buf_add(&v.data, *e, strlen(*e) + 1);
		struct env *e = env_take(&v);
		env_set(tr, tr->root_pid, e);
		env_unref(e);
	}
}

/* Kill every process we trace. SIGKILL also ends a ptrace-stopped task. */
static void kill_all(struct tracer *tr)
{
	for (int i = 0; i < NBUCKET; i++)
		for (struct task *t = tr->tasks[i]; t; t = t->next)
			kill(t->pid > 0 ? t->pid : t->tid, SIGKILL);
}

/*
 * --attach PID: trace a process that is already running. PTRACE_SEIZE each
 * of its threads (listed in /proc/PID/task; a thread created meanwhile is
 * caught by the second pass). No seccomp filter can be put into a running
 * process, so exec records come from /proc at the PTRACE_EVENT_EXEC stop
 * ("source": "proc") and failed exec attempts are not seen. No EXITKILL:
 * when we stop, the process goes on, detached.
 */
/* The state letter of /proc/PID/stat (R, S, Z, ...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the name may hold anything, even ") " */
	return p && p[1] == ' ' ? p[2] : 0;
}

static int seize_thread(struct tracer *tr, pid_t pid, pid_t tid)
{
	long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
		    PTRACE_O_TRACESYSGOOD;
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)opts) < 0) {
		if (errno == ESRCH)
			return 0; /* the thread has just exited */
		if (errno == EPERM && proc_state(tid) == 'Z') {
			char which[32];
			snprintf(which, sizeof which, "%d", tid);
			die("cannot attach to %s: it has exited (a zombie its parent has not reaped)", which);
		}
		die("PTRACE_SEIZE of the process to attach failed: %s", strerror(errno));
	}
	struct task *t = task_new(tr, tid);
	t->pid = pid;
	t->flags = T_KNOWN | T_STARTED;
	if (tr->mode == MODE_SYSCALLS) {
		t->flags &= ~T_STARTED; /* its PTRACE_INTERRUPT stop is its "initial" stop */
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH)
			die("PTRACE_INTERRUPT of the process to attach failed: %s", strerror(errno));
	}
	proc_get(tr, pid)->nthreads++;
	return 1;
}

static void attach_process(struct tracer *tr, pid_t pid)
{
	int seized = 0;
	tr->root_pid = pid;
	for (int pass = 0; pass < 2; pass++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", pid);
		DIR *d = opendir(path);
		if (!d)
			die("cannot attach: no process %s", path);
		struct dirent *e;
		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid > 0 && !task_find(tr, tid))
				seized += seize_thread(tr, pid, tid);
		}
		closedir(d);
	}
	if (!seized)
		die("%s", "cannot attach: the process has no threads left");
}

/* Stop tracing, leave every tracee running as if we had never been there:
 * a tracee can only be detached while stopped, so interrupt each one and
 * detach it at its next stop (see on_stop_while_stopping). */
static void detach_all(struct tracer *tr)
{
	for (int i = 0; i < NBUCKET; i++)
		for (struct task *t = tr->tasks[i]; t; t = t->next)
			if (ptrace(PTRACE_DETACH, t->tid, NULL, NULL) < 0) /* works if it is stopped now */
				ptrace_ok(ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL), "PTRACE_INTERRUPT", t->tid);
}

/* ------------------------------------------------------------------------ */
/* The event loop                                                            */

/* A tracee stopped after a signal asked us to stop. */
static void on_stop_while_stopping(struct tracer *tr, struct task *t, int status)
{
	if (tr->attaching) {
		/* stopped now: let it go, passing on a signal it was about to get */
		int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
		int pass = (event == 0 && sig != (SIGTRAP | 0x80)) ? sig : 0;
		ptrace_ok(ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)pass), "PTRACE_DETACH", t->tid);
		task_free(tr, t);
	} else {
		kill(t->pid > 0 ? t->pid : t->tid, SIGKILL);
	}
}

/* One report of waitpid: a task ended or stopped. */
static void on_wait_status(struct tracer *tr, pid_t tid, int status)
{
	uint64_t ts = now_ns();
	window_reset(&tr->mem);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		on_death(tr, tid, status, ts);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	struct task *t = task_find(tr, tid);
	if (!t) {
		/* A new task whose initial stop came before its parent's
		 * spawn event. Keep it stopped until that event. */
		t = task_new(tr, tid);
	}
	if (tr->stopping)
		on_stop_while_stopping(tr, t, status);
	else
		on_stop(tr, t, status, ts);
}

/* Follow every tracee until none is left (waitpid says ECHILD). */
static void event_loop(struct tracer *tr)
{
	for (;;) {
		if (interrupted && !tr->stopping) {
			tr->stopping = 1;
			if (tr->attaching)
				detach_all(tr);
			else
				kill_all(tr);
		}
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);
		if (tid >= 0)
			on_wait_status(tr, tid, status);
		else if (errno == ECHILD) /* no tracee and no child left */
			return;
		else if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	}
}

/* What the tracer exits with: the root's status, as a shell would give it. */
static int exit_status(const struct tracer *tr)
{
	if (interrupted)
		return 128 + interrupted;
	if (tr->root_status < 0)
		return TRACER_EXIT_ERROR;
	if (WIFEXITED(tr->root_status))
		return WEXITSTATUS(tr->root_status);
	return 128 + WTERMSIG(tr->root_status);
}

/* ------------------------------------------------------------------------ */
/* Command line and set-up                                                   */

struct options {
	const char *output;
	int output_fd; /* --output-fd: an open file to write to, -1 if not given */
	enum mode mode;
	enum env_mode env_mode;
	int verify;
	pid_t attach_pid;
	char **cmd;
};

static void usage(void)
{
	fprintf(stderr, "usage: tracer [--output FILE | --output-fd N] [--mode events|seccomp|syscalls] "
			"[--env full|delta|none] [--verify] -- CMD [ARG...]\n"
			"       tracer [--output FILE | --output-fd N] [--mode events|syscalls] [--env full|delta|none] "
			"[--verify] --attach PID\n");
	exit(TRACER_EXIT_ERROR);
}

static enum mode parse_mode(const char *arg)
{
	if (strcmp(arg, "events") == 0)
		return MODE_EVENTS;
	if (strcmp(arg, "seccomp") == 0)
		return MODE_SECCOMP;
	if (strcmp(arg, "syscalls") == 0)
		return MODE_SYSCALLS;
	die("unknown --mode '%s' (use events, seccomp or syscalls)", arg);
	return MODE_EVENTS;
}

static struct options parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"output-fd", required_argument, NULL, 'f'},
		{"mode", required_argument, NULL, 'm'},
		{"attach", required_argument, NULL, 'a'},
		{"env", required_argument, NULL, 'e'},
		{"verify", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct options o = {NULL, -1, MODE_EVENTS, ENV_FULL, 0, 0, NULL};
	int c;
	while ((c = getopt_long(argc, argv, "+o:m:a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'f': {
			char *end;
			long fd = strtol(optarg, &end, 10);
			if (end == optarg || *end || fd < 0 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
				die("--output-fd needs an open file descriptor, not '%s'", optarg);
			o.output_fd = (int)fd;
			break;
		}
		case 'm': o.mode = parse_mode(optarg); break;
		case 'e':
			if (strcmp(optarg, "full") == 0)
				o.env_mode = ENV_FULL;
			else if (strcmp(optarg, "delta") == 0)
				o.env_mode = ENV_DELTA;
			else if (strcmp(optarg, "none") == 0)
				o.env_mode = ENV_NONE;
			else
				die("unknown --env '%s' (use full, delta or none)", optarg);
			break;
		case 'v': o.verify = 1; break;
		case 'a':
			o.attach_pid = (pid_t)atoi(optarg);
			if (o.attach_pid <= 0)
				die("--attach needs a process id, not '%s'", optarg);
			break;
		default: usage();
		}
	}
	if ((optind >= argc) == !o.attach_pid)
		usage(); /* a command, or --attach, one of the two */
	if (o.attach_pid && o.mode == MODE_SECCOMP)
		die("%s", "--mode seccomp needs a filter installed before exec: it cannot --attach");
	o.cmd = argv + optind;
	return o;
}

/* --output-fd N: a file our parent opened for us (it may have no name, so
 * that nothing is left on disk whatever happens). The traced programs must
 * not inherit it. */
static void open_output(const char *path, int fd)
{
	static char outbuf[1 << 20];
	if (fd >= 0) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		out = fdopen(fd, "w");
		if (!out)
			die("cannot use --output-fd: %s", strerror(errno));
	} else if (path) {
		out = fopen(path, "we"); /* "e": O_CLOEXEC, the tracee must not inherit it */
		if (!out)
			die("cannot open the output file: %s", strerror(errno));
	} else {
		out = stderr;
	}
	setvbuf(out, outbuf, _IOFBF, sizeof outbuf);
	/* We are single-threaded: skip stdio's per-call locking (JSON is
	 * written a few bytes at a time, megabytes of it for big environments). */
	__fsetlocking(out, FSETLOCKING_BYCALLER);
}

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		return; /* only there to interrupt waitpid, see below */
	interrupted = sig;
	/* If this signal came just after the event loop checked `interrupted`
	 * and just before it entered waitpid, waitpid would sleep on until some
	 * tracee reports. SIGALRM in a second interrupts it in that case. */
	alarm(1);
}

/* SIGINT, SIGTERM, SIGHUP: stop (see on_signal). No SA_RESTART: a signal
 * must interrupt waitpid so that we can react. */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	static struct tracer tr; /* static: its hash tables are large for a stack */
	struct options opt = parse_options(argc, argv);
	tr.mode = opt.mode;
	tr.env_mode = opt.env_mode;
	tr.verifying = opt.verify;
	tr.attaching = opt.attach_pid != 0;
	tr.root_status = -1;
	reader_init(&tr.mem);
	open_output(opt.output, opt.output_fd);
	/* Orphans of the traced tree (a parent exits before its children) are
	 * re-parented to us instead of to init, so we reap every one of them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	catch_signals();
	/* When our parent dies (killed, even by SIGKILL), we get SIGTERM and stop
	 * as on any SIGTERM: kill and reap the tree, or detach after --attach.
	 * Our tracees never outlive us (EXITKILL), so nothing is left. */
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);

	if (tr.attaching)
		attach_process(&tr, opt.attach_pid);
	else
		trace_command(&tr, opt.cmd);
	emit_start(&tr, opt.cmd);
	/* Written at once: if we are killed later, the file still says who we were. */
	fflush(out);
	/* Not dumpable from here on (the child has already forked): a tracee of our
	 * own uid can then neither trace us nor take our output descriptor
	 * (pidfd_getfd) to write records of its own making. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	event_loop(&tr);
	int status = exit_status(&tr);
	emit_end(&tr, status);
	if (fflush(out) != 0 || (out != stderr && fclose(out) != 0)) {
		fprintf(stderr, "tracer: error: writing the records failed: %s\n", strerror(errno));
		return TRACER_EXIT_ERROR;
	}
	return status;
}
