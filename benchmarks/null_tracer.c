/*
 * null_tracer: the floor under gorun_kit/_src/tracer/tracer.c.
 *
 *   null_tracer [--stops full|requests|no-entry|spawn-only] [--count] -- CMD [ARG...]
 *
 * It starts CMD the way the tracer does (events mode): a seccomp filter that
 * traps execve/execveat only, installed in the child before it runs CMD;
 * PTRACE_SEIZE with the tracer's options; every thread and child followed.
 * It takes the stops the tracer takes and resumes each one the way the
 * tracer does, and does nothing else: no memory reads, no records, no
 * bookkeeping. Its cost over a plain run is what these stops cost by
 * themselves, the least any tracer with this stop set can cost.
 *
 * --stops chooses how much it asks of the kernel:
 *   full       (default) the tracer's options and filter; one ptrace request
 *              per stop (the resume).
 *   requests   full, plus the ptrace requests the tracer makes at each stop
 *              (PTRACE_GETEVENTMSG and PTRACE_GETREGS), their results unused:
 *              the stops and requests, without the reads and the output.
 *   no-entry   no seccomp filter: no stop at an exec's entry (the tracer
 *              would lose the filename, the argv and every failed exec).
 *   spawn-only no filter and no PTRACE_O_TRACEEXEC: only the stops that
 *              following children costs (spawn event, the child's initial
 *              stop, signals); the least any `-f` ptrace tracer pays.
 * --count writes the stops taken, as one JSON object on stderr at the end
 * (the keys of the tracer's "end" record, and "waits": waitpid reports).
 *
 * It exits with CMD's status (128+N if a signal N killed it), 125 if it
 * could not trace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "the seccomp filter matches x86-64 syscall numbers: build it on linux/amd64"
#endif

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

#define EXIT_ERROR 125

enum stops { STOPS_FULL, STOPS_REQUESTS, STOPS_NO_ENTRY, STOPS_SPAWN_ONLY };

static void die(const char *what)
{
	fprintf(stderr, "null_tracer: error: %s: %s\n", what, strerror(errno));
	exit(EXIT_ERROR);
}

/* Tasks that have had their initial stop (or were seized running): a later
 * PTRACE_EVENT_STOP with a stop signal is then a group-stop. One bit per
 * tid, up to the kernel's PID_MAX_LIMIT; untouched pages cost nothing. */
#define TID_LIMIT (4u * 1024u * 1024u)
static uint64_t started[TID_LIMIT / 64];

static int bit(pid_t tid, int set, int value)
{
	if (tid <= 0 || (unsigned)tid >= TID_LIMIT)
		return 0;
	uint64_t *w = &started[(unsigned)tid / 64], m = 1ULL << ((unsigned)tid % 64);
	if (set)
		*w = value ? (*w | m) : (*w & ~m);
	return (*w & m) != 0;
}

/* The filter of tracer.c's events mode: SECCOMP_RET_TRACE for execve and
 * execveat of x86-64, SECCOMP_RET_ALLOW for everything else; without the
 * kernel's speculation mitigations (SPEC_ALLOW) when the kernel knows it. */
static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
	for (int attempt = 0; attempt < 2; attempt++) {
		if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog) == 0)
			return 0;
		if (errno == EINVAL && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
			return 0;
		if (errno != EACCES || attempt || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			return -1;
	}
	return -1;
}

/* Fork CMD, filtered (unless no-entry/spawn-only), and seize it before it
 * execs: the child waits on a pipe until it is seized. */
static pid_t start(enum stops mode, char **argv)
{
	int go[2], report[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		int e = 0;
		if (mode <= STOPS_REQUESTS && install_filter() < 0)
			e = errno;
		if (write(report[1], &e, sizeof e) != (ssize_t)sizeof e || e || read(go[0], &c, 1) != 1)
			_exit(EXIT_ERROR);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	int e = -1;
	ssize_t got;
	do
		got = read(report[0], &e, sizeof e);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof e || e) {
		errno = e > 0 ? e : ECHILD;
		die("cannot install the seccomp filter");
	}
	long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACESYSGOOD |
		    PTRACE_O_EXITKILL;
	if (mode != STOPS_SPAWN_ONLY)
		opts |= PTRACE_O_TRACEEXEC;
	if (mode <= STOPS_REQUESTS)
		opts |= PTRACE_O_TRACESECCOMP;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts) < 0) {
		kill(pid, SIGKILL);
		die("PTRACE_SEIZE");
	}
	bit(pid, 1, 1); /* seized running: it gets no initial stop */
	if (write(go[1], "g", 1) != 1) {
		/* the child is gone; waitpid will tell */
	}
	close(go[1]);
	close(report[0]);
	return pid;
}

struct counts {
	unsigned long long seccomp, syscall, spawn_event, exec_event, initial, group, interrupt, signal, waits;
};

/* A stop: resume it as tracer.c does (PTRACE_SYSCALL after an exec's entry,
 * so that a failed exec stops at its exit; PTRACE_LISTEN for a group-stop;
 * the pending signal passed on), after the tracer's own requests if asked. */
static void on_stop(enum stops mode, pid_t tid, int status, struct counts *n)
{
	int sig = WSTOPSIG(status), req = PTRACE_CONT, pass = 0, asks = mode == STOPS_REQUESTS;
	unsigned long msg;
	struct user_regs_struct r;
	switch ((unsigned)status >> 16) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		n->spawn_event++;
		if (asks) {
			ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg); /* the child's tid */
			ptrace(PTRACE_GETREGS, tid, NULL, &r);       /* the clone flags */
		}
		break;
	case PTRACE_EVENT_EXEC:
		n->exec_event++;
		if (asks)
			ptrace(PTRACE_GETREGS, tid, NULL, &r); /* rsp: where the new stack's envp is */
		break;
	case PTRACE_EVENT_SECCOMP:
		n->seccomp++;
		if (asks)
			ptrace(PTRACE_GETREGS, tid, NULL, &r); /* the filename and argv pointers */
		req = PTRACE_SYSCALL;
		break;
	case PTRACE_EVENT_STOP:
		if (!bit(tid, 0, 0)) {
			n->initial++;
			bit(tid, 1, 1);
		} else if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			n->group++;
			req = PTRACE_LISTEN;
		} else {
			n->interrupt++;
		}
		break;
	default:
		if (sig == (SIGTRAP | 0x80)) { /* the exit of an exec that failed */
			n->syscall++;
			if (asks)
				ptrace(PTRACE_GETREGS, tid, NULL, &r); /* rax: the errno */
		} else {
			n->signal++;
			pass = sig;
		}
	}
	if (ptrace(req, tid, NULL, (void *)(long)pass) < 0 && errno != ESRCH)
		fprintf(stderr, "null_tracer: warning: resuming %d: %s\n", tid, strerror(errno));
}

static void usage(void)
{
	fprintf(stderr, "usage: null_tracer [--stops full|requests|no-entry|spawn-only] [--count] -- CMD [ARG...]\n");
	exit(EXIT_ERROR);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"full", "requests", "no-entry", "spawn-only"};
	enum stops mode = STOPS_FULL;
	int count = 0, i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--count") == 0) {
			count = 1;
		} else if (strcmp(argv[i], "--stops") == 0 && i + 1 < argc) {
			const char *want = argv[++i];
			size_t k = 0;
			while (k < sizeof names / sizeof names[0] && strcmp(names[k], want) != 0)
				k++;
			if (k == sizeof names / sizeof names[0]) {
				fprintf(stderr, "null_tracer: unknown --stops '%s' (use full, requests, no-entry or "
						"spawn-only)\n", want);
				exit(EXIT_ERROR);
			}
			mode = (enum stops)k;
		} else {
			usage();
		}
	}
	if (i + 1 >= argc)
		usage();
	/* as the tracer: orphans come to us, and we die with our parent */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	pid_t root = start(mode, argv + i + 1);
	int root_status = -1, status;
	struct counts n = {0};
	for (;;) {
		pid_t tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == ECHILD)
				break;
			if (errno != EINTR)
				die("waitpid");
			continue;
		}
		n.waits++;
		if (WIFSTOPPED(status)) {
			on_stop(mode, tid, status, &n);
		} else if (WIFEXITED(status) || WIFSIGNALED(status)) {
			bit(tid, 1, 0);
			if (tid == root)
				root_status = status;
		}
	}
	if (count)
		fprintf(stderr, "{\"seccomp\":%llu,\"syscall\":%llu,\"spawn_event\":%llu,\"exec_event\":%llu,"
				"\"initial\":%llu,\"group\":%llu,\"interrupt\":%llu,\"signal\":%llu,\"waits\":%llu}\n",
			n.seccomp, n.syscall, n.spawn_event, n.exec_event, n.initial, n.group, n.interrupt, n.signal,
			n.waits);
	if (root_status < 0)
		return EXIT_ERROR;
	return WIFEXITED(root_status) ? WEXITSTATUS(root_status) : 128 + WTERMSIG(root_status);
}
