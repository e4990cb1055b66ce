/* hello: the smallest C lab. It prints its pid's parent relation so a test
 * can see the program ran as a real process of its own. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("hello from C, pid %d (parent %d)\n", (int)getpid(), (int)getppid());
	return 0;
}
