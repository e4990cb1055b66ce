/* kill_tree [N [SECONDS]]: start N children (default 3) that run
 * "sleep SECONDS" (default 1), then kill ourselves with SIGKILL while they
 * still run. A tracer must record our death by SIGKILL, keep following the
 * orphaned children until they exit, and leave nothing behind. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	const char *secs = argc > 2 ? argv[2] : "1";
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/sleep", "sleep", secs, (char *)NULL);
			_exit(127);
		}
	}
	kill(getpid(), SIGKILL);
	return 0;
}
