/* thread-futex: threads blocked in FUTEX_WAIT (one without timeout, one with a 1 hour timeout,
 * one FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline) return only once woken. */
#include "zdtmtst.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NR_THREADS 3

static uint32_t word;
static pthread_barrier_t ready;

struct waiter {
	pthread_t t;
	pid_t tid;
	int returns;	/* futex() returns while word was still 0 */
	int last_err;
};

static struct waiter w[NR_THREADS];

static long futex_wait(int kind)
{
	struct timespec ts = { 3600, 0 };

	if (kind == 0)
		return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (kind == 1)
		return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 3600;
	return syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void *waiter(void *arg)
{
	struct waiter *me = arg;
	int kind = me - w;

	me->tid = sys_gettid();
	pthread_barrier_wait(&ready);
	while (!__atomic_load_n(&word, __ATOMIC_ACQUIRE)) {
		long ret = futex_wait(kind);

		if (!__atomic_load_n(&word, __ATOMIC_ACQUIRE)) {
			me->returns++;
			me->last_err = ret < 0 ? errno : 0;
		}
	}
	return NULL;
}

static bool task_sleeping(pid_t tid)
{
	char state[64];

	return proc_status_field(tid, "State", state, sizeof(state)) == 0 && state[0] == 'S';
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };

	test_init(argc, argv);
	pthread_barrier_init(&ready, NULL, NR_THREADS + 1);
	for (int i = 0; i < NR_THREADS; i++)
		if (pthread_create(&w[i].t, NULL, waiter, &w[i]))
			setup_fail("pthread_create");
	pthread_barrier_wait(&ready);
	for (int i = 0; i < NR_THREADS; i++)
		while (!task_sleeping(w[i].tid))
			nanosleep(&ms, NULL);

	test_daemon();
	test_waitsig();

	nanosleep(&ms, NULL);
	for (int i = 0; i < NR_THREADS; i++) {
		check(task_sleeping(w[i].tid), "waiter %d (tid %d) is not asleep", i, w[i].tid);
		/* A checkpoint may interrupt the wait once (EINTR); timeouts or busy loops are bugs. */
		check(w[i].returns <= 1 && (w[i].returns == 0 || w[i].last_err == EINTR),
		      "waiter %d returned %d times, last errno %d", i, w[i].returns, w[i].last_err);
	}
	__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, NR_THREADS, NULL, NULL, 0);
	for (int i = 0; i < NR_THREADS; i++)
		check(pthread_join(w[i].t, NULL) == 0, "join waiter %d", i);
	pass();
	return test_result();
}
