/* spawn_kinds: one of each way a C program makes a thread or a process:
 * glibc fork(), vfork(), posix_spawn(), system() and pthread_create(). Each
 * child runs /bin/true with an argument naming the way, so a tracer's spawn
 * records can be matched to the API that made them. */
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *thread(void *arg) { return arg; }

static void run_child(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", "via-fork", (char *)NULL);
		_exit(127);
	}
	run_child(pid);

	pid = vfork();
	if (pid == 0) {
		execl("/bin/true", "true", "via-vfork", (char *)NULL);
		_exit(127);
	}
	run_child(pid);

	char *argv[] = {"true", "via-posix_spawn", NULL};
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0)
		run_child(pid);

	if (system("/bin/true via-system") != 0)
		return 1;

	pthread_t t;
	if (pthread_create(&t, NULL, thread, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 1;
	return 0;
}
