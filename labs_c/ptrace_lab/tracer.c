/* tracer: the course's teaching tracer. It starts PROGRAM under ptrace and
 * prints every execve the program makes: at the syscall-entry stop the
 * registers still hold the arguments (rdi = filename, rsi = argv, rdx = envp;
 * the syscall number is in orig_rax because rax already holds -ENOSYS), so
 * the strings are read out of the tracee's memory there.
 *
 *   tracer [-m peek|vm] PROGRAM [ARG...]
 *
 * -m chooses how strings are read: PTRACE_PEEKDATA, one word per syscall
 * (default), or process_vm_readv, many bytes per syscall.
 *
 * Output, one record per line, strings C-escaped inside double quotes:
 *   entry pid=P orig_rax=59 rax=-38
 *   execve pid=P filename="..."
 *   argv[I]="..."
 *   envp[I]="..."
 *   event-exec pid=P cmdline[I]="..."   (one line per cmdline entry)
 *   exit pid=P rax=R                    (R = 0 or -errno)
 *   exited pid=P status=S
 *
 * This file is the solution. The student copy (release/labs_c/ptrace_lab/
 * tracer.c) is generated from it by `gorun-kit course release`: each region
 * between the SOLUTION markers is replaced by its numbered TODO and the stub
 * lines marked with "//|".
 * It follows one process only (no fork/clone following): the kit's production
 * tracer (gorun_kit/_src/tracer/tracer.c) does that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_STR 65536
#define MAX_ARGS 4096

static int use_vm; /* -m vm */

/* Print s (len bytes) as a C string literal: printable ASCII as is, '"' and
 * '\\' escaped, everything else as \xHH, so any bytes survive one line. */
static void put_escaped(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

/* TODO 1: read the NUL-terminated string at addr in the tracee into buf (at
 * most size-1 bytes, always NUL-terminated) with PTRACE_PEEKDATA, which
 * returns one 8-byte word per call. A word may legitimately be -1, so clear
 * errno before each call and check it after. Return the length, or -1 with
 * errno set when the memory cannot be read. */
static long peek_string(pid_t pid, unsigned long addr, char *buf, size_t size)
{
    /* ### BEGIN SOLUTION TODO 1 */
    size_t n = 0;
    while (n + 1 < size) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + n), NULL);
        if (errno)
            return -1;
        for (size_t k = 0; k < sizeof word && n + 1 < size; k++, n++) {
            buf[n] = (char)((unsigned long)word >> (8 * k));
            if (buf[n] == '\0')
                return (long)n;
        }
    }
    buf[n] = '\0';
    return (long)n;
    /* ### END SOLUTION */
    //| (void)pid; (void)addr; (void)size;
    //| buf[0] = '\0';
    //| return 0;
}

/* TODO 2: the same with process_vm_readv, which copies many bytes per call.
 * Read at most up to the end of the current page each time: the string may
 * end just before an unmapped page. A read that runs into it comes back
 * short, but the man page promises partial transfers only per vector
 * element, so do not rely on that. Stop at the first NUL. */
static long vm_string(pid_t pid, unsigned long addr, char *buf, size_t size)
{
    /* ### BEGIN SOLUTION TODO 2 */
    const unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
    size_t n = 0;
    while (n + 1 < size) {
        unsigned long at = addr + n;
        size_t chunk = page - (at % page);
        if (chunk > size - 1 - n)
            chunk = size - 1 - n;
        struct iovec local = {buf + n, chunk}, remote = {(void *)at, chunk};
        ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got <= 0)
            return -1;
        void *nul = memchr(buf + n, '\0', (size_t)got);
        if (nul)
            return (long)((char *)nul - buf);
        n += (size_t)got;
    }
    buf[n] = '\0';
    return (long)n;
    /* ### END SOLUTION */
    //| (void)pid; (void)addr; (void)size;
    //| buf[0] = '\0';
    //| return 0;
}

static long read_string(pid_t pid, unsigned long addr, char *buf, size_t size)
{
    return use_vm ? vm_string(pid, addr, buf, size) : peek_string(pid, addr, buf, size);
}

/* TODO 3: print the NULL-terminated pointer array at addr (argv or envp)
 * as lines  name[I]="..." : read each 8-byte pointer with PTRACE_PEEKDATA,
 * stop at the NULL pointer (or after MAX_ARGS entries), and read each string
 * with read_string, printing it with put_escaped. If a pointer or string
 * cannot be read, print  name[I]=<error ERRNO>  and stop. */
static void print_array(pid_t pid, const char *name, unsigned long addr)
{
    static char buf[MAX_STR];
    /* ### BEGIN SOLUTION TODO 3 */
    for (int i = 0; i < MAX_ARGS; i++) {
        errno = 0;
        long ptr = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + (unsigned long)i * sizeof(long)), NULL);
        if (errno) {
            printf("%s[%d]=<error %d>\n", name, i, errno);
            return;
        }
        if (ptr == 0)
            return;
        long len = read_string(pid, (unsigned long)ptr, buf, sizeof buf);
        if (len < 0) {
            printf("%s[%d]=<error %d>\n", name, i, errno);
            return;
        }
        printf("%s[%d]=", name, i);
        put_escaped(buf, (size_t)len);
        putchar('\n');
    }
    /* ### END SOLUTION */
    //| (void)pid; (void)name; (void)addr; (void)buf;
}

/* TODO 4: handle the PTRACE_EVENT_EXEC stop. It comes after the new program
 * has replaced the old one, so the old argv pointers are gone; print the new
 * program's command line from /proc/PID/cmdline as lines
 *   event-exec pid=P cmdline[I]="..."
 * one per NUL-separated entry (strings printed with put_escaped). */
static void on_exec_event(pid_t pid)
{
    /* ### BEGIN SOLUTION TODO 4 */
    char path[64];
    static char buf[MAX_STR];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("event-exec pid=%d cmdline=<error %d>\n", (int)pid, errno);
        return;
    }
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t start = 0, i = 0; start < len; i++) {
        size_t end = start;
        while (end < len && buf[end] != '\0')
            end++;
        printf("event-exec pid=%d cmdline[%zu]=", (int)pid, i);
        put_escaped(buf + start, end - start);
        putchar('\n');
        start = end + 1;
    }
    /* ### END SOLUTION */
    //| (void)pid;
}

static void on_execve_entry(pid_t pid, const struct user_regs_struct *regs)
{
    static char buf[MAX_STR];
    printf("entry pid=%d orig_rax=%lld rax=%lld\n", (int)pid, (long long)regs->orig_rax, (long long)regs->rax);
    printf("execve pid=%d filename=", (int)pid);
    long len = read_string(pid, regs->rdi, buf, sizeof buf);
    if (len < 0)
        printf("<error %d>\n", errno);
    else {
        put_escaped(buf, (size_t)len);
        putchar('\n');
    }
    print_array(pid, "argv", regs->rsi);
    print_array(pid, "envp", regs->rdx);
}

static int trace(pid_t pid)
{
    int status;
    int in_syscall = 0; /* syscall stops alternate entry/exit; an exec event sits in between */
    long current = -1;
    for (;;) {
        if (waitpid(pid, &status, 0) < 0) {
            perror("tracer: waitpid");
            return 1;
        }
        if (WIFEXITED(status)) {
            printf("exited pid=%d status=%d\n", (int)pid, WEXITSTATUS(status));
            return 0;
        }
        if (WIFSIGNALED(status)) {
            printf("exited pid=%d status=%d\n", (int)pid, 128 + WTERMSIG(status));
            return 0;
        }
        int inject = 0;
        int sig = WSTOPSIG(status);
        if (sig == (SIGTRAP | 0x80)) { /* a syscall stop (PTRACE_O_TRACESYSGOOD) */
            struct user_regs_struct regs;
            if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0) {
                perror("tracer: PTRACE_GETREGS");
                return 1;
            }
            if (!in_syscall) {
                current = (long)regs.orig_rax;
                if (current == SYS_execve)
                    on_execve_entry(pid, &regs);
            } else if (current == SYS_execve) {
                printf("exit pid=%d rax=%lld\n", (int)pid, (long long)regs.rax);
            }
            in_syscall = !in_syscall;
        } else if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXEC) {
            on_exec_event(pid);
        } else if ((status >> 16) == 0) {
            inject = sig; /* a real signal for the tracee: pass it on */
        }
        if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)inject) < 0) {
            perror("tracer: PTRACE_SYSCALL");
            return 1;
        }
    }
}

int main(int argc, char **argv)
{
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-m") == 0) {
        if (strcmp(argv[2], "vm") == 0)
            use_vm = 1;
        else if (strcmp(argv[2], "peek") != 0) {
            fprintf(stderr, "tracer: -m takes peek or vm, not %s\n", argv[2]);
            return 2;
        }
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: tracer [-m peek|vm] PROGRAM [ARG...]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("tracer: fork");
        return 1;
    }
    if (pid == 0) {
        /* The child asks to be traced, then stops itself so the parent can set
         * options before the first execve: without the SIGSTOP, the first stop
         * the parent saw would be the SIGTRAP after that execve. */
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
            perror("tracer: PTRACE_TRACEME");
            _exit(127);
        }
        raise(SIGSTOP);
        execvp(argv[first], argv + first);
        fprintf(stderr, "tracer: cannot run %s: %s\n", argv[first], strerror(errno));
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
        fprintf(stderr, "tracer: child did not stop\n");
        return 1;
    }
    /* EXITKILL: if this tracer dies, the kernel kills the tracee instead of
     * leaving it stopped forever. */
    if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
               (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0) {
        perror("tracer: PTRACE_SETOPTIONS");
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return 1;
    }
    if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) < 0) {
        perror("tracer: PTRACE_SYSCALL");
        return 1;
    }
    return trace(pid);
}
