/* hook.so: an LD_PRELOAD library that wraps execve and posix_spawn.
 *
 * It announces itself from a constructor (so we can tell whether the
 * dynamic loader loaded it into a process at all) and prints a line each
 * time a wrapped libc function is called, then calls the real one. Chapter
 * 2.5 runs a C program, a pure-Go program and a cgo program under it: only
 * the C program's execve goes through libc, so only it is intercepted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void announce(void)
{
    fprintf(stderr, "[hook.so] constructor ran in this process\n");
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    fprintf(stderr, "[hook.so] execve intercepted: %s\n", path);
    int (*real_execve)(const char *, char *const[], char *const[]) = dlsym(RTLD_NEXT, "execve");
    return real_execve(path, argv, envp);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    fprintf(stderr, "[hook.so] posix_spawn intercepted: %s\n", path);
    int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                char *const[], char *const[]) = dlsym(RTLD_NEXT, "posix_spawn");
    return real(pid, path, fa, attr, argv, envp);
}
