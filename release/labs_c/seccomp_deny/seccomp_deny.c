/* seccomp_deny: run a program under a seccomp-bpf filter that makes execve(2)
 * fail with EPERM.
 *
 *   seccomp_deny [--no-filter] PROGRAM [ARGS...]
 *
 * The ordering problem: a seccomp filter cannot be removed and is inherited
 * across execve, and the launcher itself must still exec PROGRAM after
 * installing it. The filter therefore denies only the execve system call
 * (nr 59 on x86_64) and lets execveat (nr 322) through; the launcher starts
 * PROGRAM with execveat(fd, "", argv, envp, AT_EMPTY_PATH) on a descriptor it
 * opened before installing the filter (that is what glibc's fexecve does).
 * Go's os/exec uses execve (SYS_EXECVE in syscall/exec_linux.go), so every
 * exec.Command in PROGRAM fails, and the error travels back through Go's
 * CLOEXEC pipe to cmd.Run.
 *
 * This is a teaching filter, not a sandbox: PROGRAM could call execveat
 * itself. A real sandbox denies both and is set up by a supervisor that
 * does not need to exec afterwards (or uses SECCOMP_RET_USER_NOTIF to decide
 * per call).
 *
 * --no-filter starts PROGRAM the same way without installing the filter: the
 * control run. Diagnostics go to stderr, prefixed "seccomp_deny:".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int install_filter(void)
{
	struct sock_filter filter[] = {
		/* Only x86_64 system call numbers mean what we test below. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* x32 numbers have bit 30 set; they would dodge the test below. */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof filter / sizeof filter[0],
		.filter = filter,
	};

	/* Without NO_NEW_PRIVS an unprivileged process may not install a filter
	 * (it could otherwise confuse a setuid program it execs). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("seccomp_deny: prctl(PR_SET_NO_NEW_PRIVS)");
		return -1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("seccomp_deny: seccomp(SECCOMP_SET_MODE_FILTER)");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int filter = 1, first = 1, fd;

	if (argc > 1 && strcmp(argv[1], "--no-filter") == 0) {
		filter = 0;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--no-filter] PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	fd = open(argv[first], O_PATH | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "seccomp_deny: open %s: %s\n", argv[first], strerror(errno));
		return 2;
	}
	if (filter) {
		if (install_filter() != 0)
			return 2;
		/* Show the filter working on ourselves before handing over. */
		char *true_argv[] = {"true", NULL};
		int rc = execve("/bin/true", true_argv, environ);
		fprintf(stderr, "seccomp_deny: filter installed; self-check execve(\"/bin/true\") = %d (%s)\n",
			rc, rc < 0 ? strerror(errno) : "?");
	} else {
		fprintf(stderr, "seccomp_deny: no filter (control run)\n");
	}
	fflush(stderr);
	syscall(SYS_execveat, fd, "", argv + first, environ, AT_EMPTY_PATH);
	fprintf(stderr, "seccomp_deny: execveat %s: %s\n", argv[first], strerror(errno));
	return 127;
}
