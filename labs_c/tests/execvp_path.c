/* execvp_path PATH CMD [ARG...]: run CMD with execvp and the given PATH.
 * glibc's execvp tries execve on every PATH entry in turn until one works,
 * so a tracer sees one failed execve (ENOENT, EACCES...) per entry before it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: execvp_path PATH CMD [ARG...]\n");
		return 2;
	}
	setenv("PATH", argv[1], 1);
	execvp(argv[2], argv + 2);
	perror("execvp");
	return 127;
}
