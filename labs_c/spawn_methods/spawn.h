/* The ways a Linux program can start another program, each as one function
 * with the same shape: start `argv[0]` (a path, or a bare name for the
 * PATH-searching methods) and return the child's pid, or -1 with errno set.
 * The caller reaps the child with waitpid. */
#ifndef SPAWN_H
#define SPAWN_H
#include <sys/types.h>

typedef pid_t (*spawn_fn)(char *const argv[], char *const envp[]);

struct spawn_method {
    const char *name;
    spawn_fn fn;
    const char *what; /* one line: what the method asks the kernel for */
};

extern const struct spawn_method spawn_methods[];
const struct spawn_method *spawn_find(const char *name);
/* Reap `pid`; returns its exit status (0..255), 128+signal, or -1. */
int spawn_reap(pid_t pid);

#endif
