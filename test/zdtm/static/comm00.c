/* comm00: the task name (PR_SET_NAME) of the main thread and of each thread survives. */
#include "zdtmtst.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#define NR_THREADS 3

static pthread_barrier_t ready, go;

static void verify(int i, const char *want)
{
	char name[32] = "", path[64], comm[32];

	prctl(PR_GET_NAME, name);
	check(!strcmp(name, want), "thread %d name '%s', want '%s'", i, name, want);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", sys_gettid());
	check(read_file(path, comm, sizeof(comm)) > 0 && !strncmp(comm, want, strlen(want)) &&
	      comm[strlen(want)] == '\n', "%s is '%s'", path, comm);
}

static void *worker(void *arg)
{
	int i = (int)(uintptr_t)arg;
	char want[16];

	snprintf(want, sizeof(want), "zdtm-thread-%d", i);
	prctl(PR_SET_NAME, want);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	verify(i, want);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NR_THREADS];

	test_init(argc, argv);
	pthread_barrier_init(&ready, NULL, NR_THREADS);
	pthread_barrier_init(&go, NULL, NR_THREADS);
	for (int i = 1; i < NR_THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			setup_fail("pthread_create");
	prctl(PR_SET_NAME, "zdtm-main-15ch!");
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	verify(0, "zdtm-main-15ch!");
	pthread_barrier_wait(&go);
	for (int i = 1; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	pass();
	return test_result();
}
