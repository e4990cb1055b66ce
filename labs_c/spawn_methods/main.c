/* spawn_methods: start a program each way the C library and the kernel offer.
 *
 *   spawn_methods list
 *   spawn_methods run METHOD PROGRAM [ARG...]
 *       start PROGRAM with METHOD, wait, exit with the child's status
 *   spawn_methods bench BYTES REPS METHOD...
 *       touch BYTES of private anonymous memory (so it is resident), then
 *       time REPS spawn+reap rounds of /bin/true per METHOD with
 *       CLOCK_MONOTONIC; prints one JSON line per method.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int usage(void)
{
    fprintf(stderr, "usage: spawn_methods list\n"
                    "       spawn_methods run METHOD PROGRAM [ARG...]\n"
                    "       spawn_methods bench BYTES REPS METHOD...\n");
    return 2;
}

static const struct spawn_method *find_or_complain(const char *name)
{
    const struct spawn_method *m = spawn_find(name);
    if (!m) {
        fprintf(stderr, "spawn_methods: unknown method %s; known:", name);
        for (const struct spawn_method *k = spawn_methods; k->name; k++)
            fprintf(stderr, " %s", k->name);
        fprintf(stderr, "\n");
    }
    return m;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long rss_kib(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int bench(int argc, char **argv)
{
    char *end;
    unsigned long long bytes = strtoull(argv[0], &end, 0);
    if (*end) {
        fprintf(stderr, "spawn_methods bench: BYTES %s is not a number\n", argv[0]);
        return 2;
    }
    long reps = strtol(argv[1], &end, 0);
    if (*end || reps < 1) {
        fprintf(stderr, "spawn_methods bench: REPS %s must be a positive number\n", argv[1]);
        return 2;
    }
    int nmethods = argc - 2;
    const struct spawn_method *ms[32];
    if (nmethods < 1 || nmethods > 32)
        return usage();
    for (int i = 0; i < nmethods; i++)
        if (!(ms[i] = find_or_complain(argv[2 + i])))
            return 2;

    if (bytes) {
        char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            fprintf(stderr, "spawn_methods bench: cannot map %llu bytes: %s\n", bytes, strerror(errno));
            return 1;
        }
        /* 4 KiB pages, so page-table size follows the touched size even on a
         * machine whose transparent huge pages are set to "always". */
        madvise(mem, bytes, MADV_NOHUGEPAGE);
        for (unsigned long long off = 0; off < bytes; off += 4096)
            mem[off] = 1;
    }

    uint64_t *ns = calloc((size_t)nmethods * (size_t)reps, sizeof *ns);
    if (!ns)
        return 1;
    char *targv[] = {"/bin/true", NULL};
    char *targv_p[] = {"true", NULL}; /* posix_spawnp searches PATH */
    /* one warm-up round, then interleave methods so drift hits all alike */
    for (long r = -1; r < reps; r++) {
        for (int i = 0; i < nmethods; i++) {
            char **a = strcmp(ms[i]->name, "posix_spawnp") == 0 ? targv_p : targv;
            uint64_t t0 = now_ns();
            pid_t pid = ms[i]->fn(a, environ);
            if (pid < 0) {
                fprintf(stderr, "spawn_methods bench: %s failed: %s\n", ms[i]->name, strerror(errno));
                return 1;
            }
            int st = spawn_reap(pid);
            uint64_t t1 = now_ns();
            if (st != 0) {
                fprintf(stderr, "spawn_methods bench: %s: /bin/true exited %d\n", ms[i]->name, st);
                return 1;
            }
            if (r >= 0)
                ns[(size_t)i * (size_t)reps + (size_t)r] = t1 - t0;
        }
    }
    long rss = rss_kib();
    for (int i = 0; i < nmethods; i++) {
        printf("{\"method\": \"%s\", \"touched_bytes\": %llu, \"rss_kib\": %ld, \"ns\": [", ms[i]->name, bytes, rss);
        for (long r = 0; r < reps; r++)
            printf("%s%" PRIu64, r ? ", " : "", ns[(size_t)i * (size_t)reps + (size_t)r]);
        printf("]}\n");
    }
    free(ns);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "list") == 0) {
        for (const struct spawn_method *m = spawn_methods; m->name; m++)
            printf("%-13s %s\n", m->name, m->what);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0) {
        if (argc < 4)
            return usage();
        const struct spawn_method *m = find_or_complain(argv[2]);
        if (!m)
            return 2;
        pid_t pid = m->fn(argv + 3, environ);
        if (pid < 0) {
            fprintf(stderr, "spawn_methods: %s %s: %s\n", m->name, argv[3], strerror(errno));
            return 127;
        }
        return spawn_reap(pid);
    }
    if (strcmp(argv[1], "bench") == 0) {
        if (argc < 5)
            return usage();
        return bench(argc - 2, argv + 2);
    }
    return usage();
}
