/* posix-timer-thread: a SIGEV_THREAD_ID timer keeps signalling the same thread (which waits for
 * it in sigwaitinfo) with its value after restore. */
#include "zdtmtst.h"

#include <pthread.h>
#include <time.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static pid_t target_tid;
static pthread_barrier_t ready;
static volatile int stop;
static int received, wrong;

static void *target(void *arg)
{
	sigset_t set;
	siginfo_t si;

	target_tid = sys_gettid();
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 6);
	pthread_barrier_wait(&ready);
	while (!stop || received < 3) {
		if (sigwaitinfo(&set, &si) != SIGRTMIN + 6)
			continue;
		if (si.si_code == SI_TIMER && si.si_value.sival_int == 0x7117)
			received++;
		else
			wrong++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct itimerspec spec = { { 0, 100000000 }, { 0, 200000000 } };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN + 6,
				.sigev_value.sival_int = 0x7117 };
	struct itimerspec cur;
	sigset_t set;
	pthread_t t;
	timer_t id;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 6);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_init(&ready, NULL, 2);
	if (pthread_create(&t, NULL, target, NULL))
		setup_fail("pthread_create");
	pthread_barrier_wait(&ready);
	sev.sigev_notify_thread_id = target_tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &id) || timer_settime(id, 0, &spec, NULL))
		setup_fail("timer");

	test_daemon();
	test_waitsig();

	check(timer_gettime(id, &cur) == 0 && cur.it_interval.tv_nsec == 100000000 && cur.it_interval.tv_sec == 0,
	      "interval changed");
	__atomic_store_n(&received, 0, __ATOMIC_SEQ_CST);
	stop = 1;
	pthread_join(t, NULL);
	check(received >= 3 && !wrong, "thread got %d timer signals, %d wrong", received, wrong);
	{
		siginfo_t si;

		check(sigtimedwait(&set, &si, &(struct timespec){ 0, 300000000 }) < 0,
		      "the main thread got the thread's timer signal");
	}
	pass();
	return test_result();
}
