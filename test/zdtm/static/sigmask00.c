/* sigmask00: the blocked signal mask of every thread (each different) survives. */
#include "zdtmtst.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NR_THREADS 4

static pthread_barrier_t ready, go;

/* Thread i blocks these (SIGTERM is blocked everywhere by the zdtm library). */
static void wanted(int i, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1 + (i % 2));
	sigaddset(set, SIGRTMIN + i);
	if (i == 2)
		sigaddset(set, SIGRTMAX);
	if (i == 3)
		for (int s = SIGHUP; s <= SIGSYS; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaddset(set, s);
}

static void check_mask(int i)
{
	sigset_t want, cur;
	char status[64], expect[64];
	uint64_t bits = 0;

	wanted(i, &want);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	for (int s = 1; s < _NSIG; s++)
		if (sigismember(&want, s) != sigismember(&cur, s)) {
			fail("thread %d: signal %d is %sblocked", i, s, sigismember(&cur, s) ? "" : "not ");
			return;
		}
	test_checked();
	for (int s = 1; s < _NSIG; s++)
		if (sigismember(&want, s))
			bits |= 1ULL << (s - 1);
	snprintf(expect, sizeof(expect), "%016llx", (unsigned long long)bits);
	check(proc_status_field(sys_gettid(), "SigBlk", status, sizeof(status)) == 0 && !strcmp(status, expect),
	      "thread %d SigBlk %s, want %s", i, status, expect);
}

static void *worker(void *arg)
{
	int i = (int)(uintptr_t)arg;
	sigset_t set;

	wanted(i, &set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	check_mask(i);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NR_THREADS];
	sigset_t set;

	test_init(argc, argv);
	pthread_barrier_init(&ready, NULL, NR_THREADS);
	pthread_barrier_init(&go, NULL, NR_THREADS);
	for (int i = 1; i < NR_THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			setup_fail("pthread_create");
	wanted(0, &set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	check_mask(0);
	pthread_barrier_wait(&go);
	for (int i = 1; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	pass();
	return test_result();
}
