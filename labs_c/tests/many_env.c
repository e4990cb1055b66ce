/* many_env [N [KB]]: start N children (default 300) one after the other,
 * each exec'ing /bin/true with an environment of about KB kilobytes
 * (default 100) made of 1000-byte variables, plus whatever GORUN_KIT_*
 * variables we were given (so a test can find its processes). Each child's
 * argv[1] is "child-<i>" and variable j holds a pattern that depends on i
 * and j, so a tracer's records can be checked byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300;
	int kb = argc > 2 ? atoi(argv[2]) : 100;
	int nvars = kb * 1024 / 1000 + 1;
	char **env = calloc((size_t)nvars + 64, sizeof *env);
	int k = 0;
	for (char **e = environ; *e && k < 60; e++)
		if (strncmp(*e, "GORUN_KIT_", 10) == 0)
			env[k++] = *e;
	int base = k;
	for (int j = 0; j < nvars; j++)
		env[base + j] = malloc(1001);
	env[base + nvars] = NULL;
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < nvars; j++) {
			char *v = env[base + j];
			int len = snprintf(v, 1001, "V%d_%d=", j, i);
			for (int c = len; c < 1000; c++)
				v[c] = (char)('a' + (i + j + c) % 26);
			v[1000] = 0;
		}
		char arg[32];
		snprintf(arg, sizeof arg, "child-%d", i);
		char *cargv[] = {"true", arg, NULL};
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			execve("/bin/true", cargv, env);
			_exit(127);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "child %d failed\n", i);
			return 1;
		}
	}
	return 0;
}
