/* seed_regs: the seed text's register reads, run for real. At each execve
 * entry stop it does what the seed's code does -- takes rax as the syscall
 * number, argv = (char **)regs.rdi, envp = (char **)regs.rsi -- and prints
 * what comes back, beside the right reads (orig_rax, rdi = filename,
 * rsi = argv). Same start-up as tracer.c (the *child* calls PTRACE_TRACEME;
 * the seed has the parent do it, which would make the tracer's own parent
 * its tracer).
 *
 *   seed_regs PROGRAM [ARG...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* one word, reporting failure as the errno PEEKDATA set */
static int peek(pid_t pid, unsigned long addr, long *word)
{
    errno = 0;
    *word = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, NULL);
    return errno;
}

/* up to 64 bytes of string, or the errno that stopped the read */
static int peek_str(pid_t pid, unsigned long addr, char *out, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        long w;
        int err = peek(pid, addr + n, &w);
        if (err)
            return err;
        for (size_t k = 0; k < sizeof w && n + 1 < size; k++, n++) {
            out[n] = (char)((unsigned long)w >> (8 * k));
            if (!out[n])
                return 0;
        }
    }
    out[n] = '\0';
    return 0;
}

static void printable(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        putchar(bytes[i] >= 0x20 && bytes[i] < 0x7f ? bytes[i] : '.');
}

static void seed_reads(pid_t pid, const struct user_regs_struct *r)
{
    char s[64];
    long w;
    int err;
    printf("seed: syscall number = regs.rax = %lld   | right: orig_rax = %lld (59 = execve)\n",
           (long long)r->rax, (long long)r->orig_rax);
    /* seed: char **argv = (char **)regs.rdi; argv[0] = PEEKTEXT(argv) */
    err = peek(pid, r->rdi, &w);
    if (err)
        printf("seed: argv[0] pointer = PEEKTEXT(rdi) failed errno=%d (%s)\n", err, strerror(err));
    else {
        printf("seed: argv[0] pointer = PEEKTEXT(rdi) = 0x%016lx = the bytes \"", (unsigned long)w);
        printable((const char *)&w, sizeof w);
        printf("\" of the filename\n");
        err = peek_str(pid, (unsigned long)w, s, sizeof s);
        if (err)
            printf("seed: argv[0] string at that 'pointer': PEEKTEXT failed errno=%d (%s)\n", err, strerror(err));
        else
            printf("seed: argv[0] string at that 'pointer' = \"%s\"\n", s);
    }
    /* seed: char **envp = (char **)regs.rsi; envp[0] */
    err = peek(pid, r->rsi, &w);
    if (!err)
        err = peek_str(pid, (unsigned long)w, s, sizeof s);
    if (err)
        printf("seed: envp[0] via rsi: errno=%d (%s)\n", err, strerror(err));
    else
        printf("seed: envp[0] via rsi = \"%s\"   | that is argv[0]: rsi holds argv\n", s);
    err = peek_str(pid, r->rdi, s, sizeof s);
    printf("right: filename via rdi = \"%s\"\n", err ? "?" : s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: seed_regs PROGRAM [ARG...]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("seed_regs: fork");
        return 1;
    }
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status, entry = 1;
    waitpid(pid, &status, 0);
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) < 0 || waitpid(pid, &status, 0) < 0)
            return 1;
        if (WIFEXITED(status) || WIFSIGNALED(status))
            return 0;
        if (WSTOPSIG(status) != (SIGTRAP | 0x80))
            continue;
        struct user_regs_struct r;
        ptrace(PTRACE_GETREGS, pid, NULL, &r);
        if (entry && r.orig_rax == SYS_execve)
            seed_reads(pid, &r);
        entry = !entry;
    }
}
