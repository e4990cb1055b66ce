/* rare_calls: what glibc's exec and fork wrappers never do, each in a child of
 * its own, each with an argv and an envp of its own:
 *   - execveat(2) three ways: a name relative to a directory fd ("true" in
 *     /bin); AT_EMPTY_PATH on the fd of the program itself; a name that does
 *     not exist (ENOENT: a tracer reads argv and envp from the caller's memory).
 *     Its registers differ from execve's: dirfd, pathname, argv, envp, flags
 *     in rdi, rsi, rdx, r10, r8.
 *   - clone(2) with SIGUSR1 as the exit signal (the low byte of its flags);
 *   - posix_spawn, which glibc makes with clone3(2).
 * Prints "fds <dirfd> <program fd>", then "<case> <exit status>" per child. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(const char *name, pid_t pid, int wflags)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, wflags) != pid)
		return -1;
	printf("%s %d\n", name, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	fflush(stdout);
	return 0;
}

static int via_execveat(const char *name, int dirfd, const char *path, char *const argv[], char *const envp[],
			int flags)
{
	pid_t pid = fork();
	if (pid == 0) {
		syscall(SYS_execveat, dirfd, path, argv, envp, flags);
		_exit(127); /* the exec failed: the third case */
	}
	return status_of(name, pid, 0);
}

static int child_of_clone(void *arg)
{
	(void)arg;
	_exit(0);
}

int main(void)
{
	int bin = open("/bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int prog = open("/bin/true", O_PATH | O_CLOEXEC);
	if (bin < 0 || prog < 0) {
		perror("open");
		return 1;
	}
	printf("fds %d %d\n", bin, prog);
	fflush(stdout);
	char *a1[] = {"true", "relative-to-dirfd", NULL};
	char *e1[] = {"EXECVEAT_CASE=relative", "SECOND=1", NULL};
	char *a2[] = {"true", "empty-path", NULL};
	char *e2[] = {"EXECVEAT_CASE=empty-path", NULL};
	char *a3[] = {"missing", "never-runs", "third", NULL};
	char *e3[] = {"EXECVEAT_CASE=missing", "ONLY_IN_THE_FAILED_ONE=3", NULL};
	if (via_execveat("relative", bin, "true", a1, e1, 0) < 0 ||
	    via_execveat("empty-path", prog, "", a2, e2, AT_EMPTY_PATH) < 0 ||
	    via_execveat("missing", bin, "no-such-program-here", a3, e3, 0) < 0) {
		perror("execveat case");
		return 1;
	}
	static char stack[64 * 1024];
	signal(SIGUSR1, SIG_IGN); /* the clone child's end is signalled with it */
	if (status_of("clone-sigusr1", clone(child_of_clone, stack + sizeof stack, SIGUSR1, NULL), __WALL) < 0) {
		perror("clone");
		return 1;
	}
	char *a4[] = {"true", "via-posix_spawn", NULL};
	char *e4[] = {"SPAWNED=1", NULL};
	pid_t pid;
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, a4, e4) != 0 || status_of("posix_spawn", pid, 0) < 0) {
		perror("posix_spawn");
		return 1;
	}
	return 0;
}
