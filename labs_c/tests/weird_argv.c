/* weird_argv: exec /bin/true with arguments a careless tracer mangles:
 * a newline, an empty string, bytes that are not UTF-8, an encoded UTF-16
 * surrogate (invalid in UTF-8), quotes and backslashes, a tab, plus an
 * environment variable with invalid bytes. tests/test_trace_edges.py holds
 * the same list and checks the tracer's records byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char *argv[] = {
		"true", "line1\nline2", "", "\xff\xfe bad", "caf\xc3\xa9", "\xed\xa0\x80 surrogate",
		"tab\there", "quote\" back\\slash", "\xe2\x82 truncated", "ctl\x01\x1f\x7f", NULL,
	};
	char *envp[64] = {"WEIRD=\x80\x81\xc3", "EMPTY=", NULL};
	const char *mark = getenv("GORUN_KIT_TRACE_MARK");
	char buf[256];
	if (mark) {
		snprintf(buf, sizeof buf, "GORUN_KIT_TRACE_MARK=%s", mark);
		envp[2] = buf;
		envp[3] = NULL;
	}
	execve("/bin/true", argv, envp);
	perror("execve");
	return 127;
}
