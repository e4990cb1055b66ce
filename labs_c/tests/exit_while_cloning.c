/* exit_while_cloning: threads keep starting threads while main calls exit_group.
 * Some clone may still be under way when exit_group kills the process: the
 * tracer then sees a task die whose creation it was never told about. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *spawner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, NULL, spawner, NULL) == 0)
			pthread_detach(t);
		pthread_exit(NULL);
	}
	return NULL;
}

int main(void)
{
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, spawner, NULL) == 0)
			pthread_detach(t);
	}
	usleep(2000);
	exit(0); /* exit_group while the chains are still cloning */
}
