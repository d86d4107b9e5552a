/* sigqueue00: realtime signals queued with values (sigqueue to the process, pthread_sigqueue to
 * a thread) are received after restore in order, with the same si_value and si_code SI_QUEUE. */
#include "zdtmtst.h"

#include <pthread.h>
#include <unistd.h>

#define NR_VALUES 12

static pthread_barrier_t ready, go;

static void take(int sig, int base, const char *who)
{
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, sig);
	for (int i = 0; i < NR_VALUES; i++) {
		struct timespec zero = { 0, 0 };
		int ret = sigtimedwait(&set, &si, &zero);

		if (!check(ret == sig, "%s: value %d not pending (ret %d)", who, i, ret))
			return;
		check(si.si_value.sival_int == base + i && si.si_code == SI_QUEUE && si.si_pid == getpid(),
		      "%s: value %d is %d, code %d, pid %d", who, i, si.si_value.sival_int, si.si_code, si.si_pid);
	}
	check(sigtimedwait(&set, &si, &(struct timespec){ 0, 0 }) < 0 && errno == EAGAIN, "%s: extra signal", who);
}

static void *worker(void *arg)
{
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	take(SIGRTMIN + 2, 5000, "thread");
	return NULL;
}

int main(int argc, char **argv)
{
	sigset_t set;
	pthread_t t;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGRTMIN + 2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_init(&ready, NULL, 2);
	pthread_barrier_init(&go, NULL, 2);
	if (pthread_create(&t, NULL, worker, NULL))
		setup_fail("pthread_create");
	pthread_barrier_wait(&ready);
	for (int i = 0; i < NR_VALUES; i++) {
		if (sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 1000 + i }))
			setup_fail("sigqueue");
		if (pthread_sigqueue(t, SIGRTMIN + 2, (union sigval){ .sival_int = 5000 + i }))
			setup_fail("pthread_sigqueue");
	}

	test_daemon();
	test_waitsig();

	take(SIGRTMIN + 1, 1000, "process");
	pthread_barrier_wait(&go);
	pthread_join(t, NULL);
	pass();
	return test_result();
}
