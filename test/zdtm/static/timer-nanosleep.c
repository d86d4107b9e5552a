/* timer-nanosleep: a thread in a 5s relative nanosleep (and one in clock_nanosleep with an
 * absolute CLOCK_MONOTONIC deadline) wake at their deadline: not early, not never. */
#include "zdtmtst.h"

#include <pthread.h>
#include <time.h>

#define SLEEP_SEC 5

static struct timespec start, woke[2], deadline;
static int ret[2];
static pthread_barrier_t ready;

static double secs(const struct timespec *t)
{
	return t->tv_sec + t->tv_nsec / 1e9;
}

static void *relative(void *arg)
{
	struct timespec req = { SLEEP_SEC, 0 };

	pthread_barrier_wait(&ready);
	ret[0] = nanosleep(&req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &woke[0]);
	return NULL;
}

static void *absolute(void *arg)
{
	pthread_barrier_wait(&ready);
	ret[1] = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
	clock_gettime(CLOCK_MONOTONIC, &woke[1]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];

	test_init(argc, argv);
	pthread_barrier_init(&ready, NULL, 3);
	if (pthread_create(&t[0], NULL, relative, NULL) || pthread_create(&t[1], NULL, absolute, NULL))
		setup_fail("pthread_create");
	clock_gettime(CLOCK_MONOTONIC, &start);
	deadline = start;
	deadline.tv_sec += SLEEP_SEC + 1;
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	check(ret[0] == 0 && ret[1] == 0, "sleeps returned %d, %d", ret[0], ret[1]);
	check(secs(&woke[0]) - secs(&start) >= SLEEP_SEC - 0.01, "nanosleep woke after %.3fs, want %ds",
	      secs(&woke[0]) - secs(&start), SLEEP_SEC);
	check(secs(&woke[1]) >= secs(&deadline), "clock_nanosleep woke %.3fs before its deadline",
	      secs(&deadline) - secs(&woke[1]));
	pass();
	return test_result();
}
