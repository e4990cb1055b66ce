/* One function per way of starting a child program. Read them side by side:
 * they differ in what the kernel is asked to share between parent and child
 * (the address space or a copy of it), where the child's stack is, and who
 * searches PATH. */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* fork: the child gets a copy-on-write copy of the whole address space, so
 * the kernel copies the parent's page tables -- the cost grows with the
 * parent's resident memory. glibc's fork() is the clone syscall with
 * CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD. */
static pid_t spawn_fork(char *const argv[], char *const envp[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execve(argv[0], argv, envp);
        _exit(127);
    }
    return pid;
}

/* vfork: the child borrows the parent's address space and the parent's
 * calling thread sleeps until the child calls execve or exits. Only execve
 * and _exit are safe in the child. glibc uses the real vfork syscall. */
static pid_t spawn_vfork(char *const argv[], char *const envp[])
{
    pid_t pid = vfork();
    if (pid == 0) {
        execve(argv[0], argv, envp);
        _exit(127);
    }
    return pid;
}

/* posix_spawn: glibc does clone3(CLONE_VM|CLONE_VFORK) on a separate stack
 * it mmaps for the child, then execve in the child. */
static pid_t spawn_posix(char *const argv[], char *const envp[])
{
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], NULL, NULL, argv, envp);
    if (err) {
        errno = err;
        return -1;
    }
    return pid;
}

/* posix_spawnp: the same, but a name without '/' is searched in PATH by the
 * *child*, which tries execve on every PATH entry until one succeeds. */
static pid_t spawn_posixp(char *const argv[], char *const envp[])
{
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, envp);
    if (err) {
        errno = err;
        return -1;
    }
    return pid;
}

/* system(): glibc spawns "/bin/sh -c CMD" (clone3 like posix_spawn), then
 * the shell starts CMD. system() waits for the shell itself, so this method
 * returns pid 0 and keeps the status for spawn_reap. */
static int system_status = -1;
static pid_t spawn_system(char *const argv[], char *const envp[])
{
    (void)envp; /* system() always passes the parent's environ */
    char cmd[4096] = "";
    size_t used = 0;
    for (int i = 0; argv[i]; i++) {
        int n = snprintf(cmd + used, sizeof cmd - used, "%s'%s'", i ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof cmd - used) {
            errno = E2BIG;
            return -1;
        }
        used += (size_t)n;
    }
    system_status = system(cmd);
    return 0; /* already reaped by system() */
}

/* clone with a separate stack: what posix_spawn does by hand. The child
 * shares the address space (CLONE_VM), so it needs its own stack, because the
 * parent's stack frames must survive until the parent wakes up. */
struct clone_args_ { char *const *argv; char *const *envp; };
static int clone_child(void *p)
{
    struct clone_args_ *a = p;
    execve(a->argv[0], a->argv, a->envp);
    _exit(127);
}

static pid_t spawn_clone_stack(char *const argv[], char *const envp[])
{
    const size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    struct clone_args_ a = {argv, envp};
    /* CLONE_VFORK: we return only after the child's execve, so unmapping its
     * stack afterwards is safe. */
    pid_t pid = clone(clone_child, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    int saved = errno;
    munmap(stack, size);
    errno = saved;
    return pid;
}

/* clone with stack=NULL, as Go's syscall.rawVforkSyscall passes it: the
 * child runs on the parent's stack. Go's child may use that stack, but only
 * within forkAndExecInChild1's frame, which it never returns from, and
 * rawVforkSyscall keeps its own return address in R12 across the syscall so
 * each process returns through its own copy. This lab goes further than Go,
 * for simplicity in C, where the compiler decides what touches the stack:
 * the whole child path is one asm block that keeps everything in registers
 * (path/argv/envp in callee-saved r12-r14, which the syscall instruction
 * preserves) and writes no memory until execve. noinline keeps the parent's
 * caller frames away from anything the child could disturb. */
__attribute__((noinline))
static pid_t spawn_clone_vm_raw(char *const argv[], char *const envp[])
{
    register long rdi asm("rdi") = CLONE_VM | CLONE_VFORK | SIGCHLD;
    register long rsi asm("rsi") = 0; /* child_stack = NULL: share the parent's */
    register long rdx asm("rdx") = 0; /* parent_tid */
    register long r10 asm("r10") = 0; /* child_tid */
    register long r8 asm("r8") = 0;   /* tls */
    register const char *r12 asm("r12") = argv[0];
    register char *const *r13 asm("r13") = argv;
    register char *const *r14 asm("r14") = envp;
    long ret = SYS_clone;
    asm volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        /* child: execve(r12, r13, r14); on failure exit(127) */
        "mov %%r12, %%rdi\n\t"
        "mov %%r13, %%rsi\n\t"
        "mov %%r14, %%rdx\n\t"
        "mov $59, %%eax\n\t"
        "syscall\n\t"
        "mov $127, %%edi\n\t"
        "mov $60, %%eax\n\t"
        "syscall\n\t"
        "1:\n\t"
        : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
        : "r"(r12), "r"(r13), "r"(r14)
        : "rcx", "r11", "memory");
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return (pid_t)ret;
}

const struct spawn_method spawn_methods[] = {
    {"fork", spawn_fork, "fork() = clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD), then execve"},
    {"vfork", spawn_vfork, "vfork syscall, then execve"},
    {"posix_spawn", spawn_posix, "glibc posix_spawn: clone3(CLONE_VM|CLONE_VFORK) on an mmap'd stack"},
    {"posix_spawnp", spawn_posixp, "glibc posix_spawnp: like posix_spawn, the child tries execve along PATH"},
    {"system", spawn_system, "glibc system(): posix_spawn of /bin/sh -c CMD"},
    {"clone_stack", spawn_clone_stack, "clone(CLONE_VM|CLONE_VFORK|SIGCHLD) on a separate mmap'd stack"},
    {"clone_vm_raw", spawn_clone_vm_raw, "raw clone(CLONE_VM|CLONE_VFORK|SIGCHLD, stack=NULL), like Go"},
    {NULL, NULL, NULL},
};

const struct spawn_method *spawn_find(const char *name)
{
    for (const struct spawn_method *m = spawn_methods; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

int spawn_reap(pid_t pid)
{
    int status;
    if (pid == 0) /* system() reaped its own child */
        status = system_status;
    else {
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR)
                return -1;
    }
    if (status == -1)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}
