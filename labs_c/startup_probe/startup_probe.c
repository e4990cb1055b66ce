/* startup_probe: run a program once and report, on one line of stderr,
 *   elapsed_ns=<fork to reaped> maxrss_kb=<ru_maxrss from wait4> status=<exit status>
 * The program's own stdout goes to our stdout untouched.
 *
 * Why a separate C launcher and not Python's subprocess: a child's ru_maxrss
 * is the high-water mark of every address space it had, including the one it
 * had before execve. A child made by fork or vfork from a Python process
 * that has matplotlib loaded starts out "owning" tens of megabytes (vfork
 * shares the parent's mm outright), and that number, not the program's,
 * would come back from wait4. This launcher is linked statically and is tiny,
 * so what it lends its child before execve is a few hundred kilobytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	long long t0, t1;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("startup_probe: fork");
		return 2;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		fprintf(stderr, "startup_probe: execv %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("startup_probe: wait4");
			return 2;
		}
	}
	t1 = now_ns();
	fflush(stdout);
	fprintf(stderr, "elapsed_ns=%lld maxrss_kb=%ld status=%d\n", t1 - t0, ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
