/* exec_from_thread: a NON-leader thread calls execve while the main thread
 * sleeps. The kernel kills the other threads, and the exec'ing thread takes
 * over the leader's tid (= the pid): a tracer sees PTRACE_EVENT_EXEC on the
 * pid, and PTRACE_GETEVENTMSG gives the thread's former tid. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static void *run(void *arg)
{
	(void)arg;
	char tid[32];
	snprintf(tid, sizeof tid, "%ld", (long)syscall(SYS_gettid));
	char *argv[] = {"echo", "exec-from-thread", tid, NULL};
	execve("/bin/echo", argv, environ);
	perror("execve");
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, run, NULL) != 0)
		return 1;
	for (;;)
		pause(); /* the leader never returns: the exec replaces us */
}
