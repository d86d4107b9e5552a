/* sigaltstack00: each thread's alternate signal stack (address, size, flags) survives, and an
 * SA_ONSTACK handler runs on it after restore. One thread has it disabled. */
#include "zdtmtst.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define NR_THREADS 4

static pthread_barrier_t ready, go;
static __thread volatile uintptr_t handler_sp;

static void handler(int sig)
{
	volatile int local;

	handler_sp = (uintptr_t)&local;
}

static void verify(int i, const stack_t *want)
{
	stack_t cur;

	if (!check(sigaltstack(NULL, &cur) == 0, "sigaltstack"))
		return;
	check(cur.ss_sp == want->ss_sp && cur.ss_size == want->ss_size && cur.ss_flags == want->ss_flags,
	      "thread %d altstack %p/%zu/%#x, want %p/%zu/%#x", i, cur.ss_sp, cur.ss_size, cur.ss_flags,
	      want->ss_sp, want->ss_size, want->ss_flags);
	handler_sp = 0;
	raise(SIGUSR1);
	if (want->ss_flags & SS_DISABLE)
		check(handler_sp && (handler_sp < (uintptr_t)cur.ss_sp ||
				     handler_sp >= (uintptr_t)cur.ss_sp + cur.ss_size), "thread %d handler", i);
	else
		check(handler_sp >= (uintptr_t)want->ss_sp && handler_sp < (uintptr_t)want->ss_sp + want->ss_size,
		      "thread %d handler ran at %#lx, not on its altstack", i, (unsigned long)handler_sp);
}

static void make_stack(int i, stack_t *ss)
{
	ss->ss_size = SIGSTKSZ * (i + 2);
	ss->ss_sp = malloc(ss->ss_size);
	ss->ss_flags = i == 2 ? SS_DISABLE : 0;
	if (!ss->ss_sp)
		setup_fail("malloc");
	if (sigaltstack(ss, NULL))
		setup_fail("sigaltstack");
	if (i == 2)
		*ss = (stack_t){ .ss_flags = SS_DISABLE };
}

static void *worker(void *arg)
{
	int i = (int)(uintptr_t)arg;
	stack_t ss;

	make_stack(i, &ss);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	verify(i, &ss);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
	pthread_t t[NR_THREADS];
	stack_t ss;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_barrier_init(&ready, NULL, NR_THREADS);
	pthread_barrier_init(&go, NULL, NR_THREADS);
	for (int i = 1; i < NR_THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			setup_fail("pthread_create");
	make_stack(0, &ss);
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	pthread_barrier_wait(&go);
	verify(0, &ss);
	for (int i = 1; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	pass();
	return test_result();
}
