/* caller: the C control for hook.so -- fork, then execve("/bin/true") through libc. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"true", NULL};
        char *envp[] = {NULL};
        execve("/bin/true", argv, envp);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("c: ran /bin/true, status=%d\n", WEXITSTATUS(status));
    return 0;
}
