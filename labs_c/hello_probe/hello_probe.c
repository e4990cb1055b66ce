/* hello_probe: chapter 5's start-up probe in C. Hello world that also reports,
 * from /proc/self/status, its thread count and peak resident set just before it
 * exits -- the same line the Go, Python and Java probes print, so the benchmark
 * reads every language the same way. Built twice: dynamically linked (the
 * default) and with -static (see lab.mk). */
#include <stdio.h>
#include <string.h>

int main(void)
{
	char line[256], threads[32] = "?", hwm[32] = "?";
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "Threads:", 8) == 0)
			sscanf(line + 8, "%31s", threads);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			sscanf(line + 6, "%31s", hwm);
	}
	if (f)
		fclose(f);
	printf("hello threads=%s hwm_kb=%s\n", threads, hwm);
	return 0;
}
