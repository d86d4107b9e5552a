/* pthread00: 20 threads, each with its own tid, stack and heap contents and pthread_self,
 * all the same after restore. */
#include "zdtmtst.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define NR_THREADS 20

struct worker {
	pthread_t self;
	pid_t tid;
	uint8_t *heap;
};

static struct worker w[NR_THREADS];
static pthread_barrier_t ready, go;

static void *worker(void *arg)
{
	struct worker *me = arg;
	int id = me - w;
	uint8_t stack[2048];

	me->tid = sys_gettid();
	me->self = pthread_self();
	me->heap = malloc(4096 + id * 100);
	if (!me->heap)
		setup_fail("malloc");
	fill_pattern(me->heap, 4096 + id * 100, 200 + id);
	fill_pattern(stack, sizeof(stack), 300 + id);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	check(sys_gettid() == me->tid, "thread %d tid %d, was %d", id, sys_gettid(), me->tid);
	check(pthread_equal(pthread_self(), me->self), "thread %d pthread_self changed", id);
	check(check_pattern(me->heap, 4096 + id * 100, 200 + id) < 0, "thread %d heap differs", id);
	check(check_pattern(stack, sizeof(stack), 300 + id) < 0, "thread %d stack differs", id);
	return me;
}

int main(int argc, char **argv)
{
	pid_t pid = getpid();

	test_init(argc, argv);
	pthread_barrier_init(&ready, NULL, NR_THREADS + 1);
	pthread_barrier_init(&go, NULL, NR_THREADS + 1);
	for (int i = 0; i < NR_THREADS; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, &w[i]))
			setup_fail("pthread_create");
	}
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	check(getpid() == pid && sys_gettid() == pid, "main pid/tid changed");
	pthread_barrier_wait(&go);
	for (int i = 0; i < NR_THREADS; i++) {
		void *ret = NULL;

		check(pthread_join(w[i].self, &ret) == 0 && ret == &w[i], "join thread %d", i);
	}
	pass();
	return test_result();
}
