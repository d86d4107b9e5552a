/* itimers: ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF keep sane remaining times and their
 * intervals, and still fire after restore. */
#include "zdtmtst.h"

#include <sys/time.h>
#include <time.h>

/* CPU itimers are kept in ticks: a fresh one may read up to one tick above what was set. */
#define TICK_SLACK 10000

static volatile int fired[_NSIG];

static void handler(int sig)
{
	fired[sig]++;
}

static long usec(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct itimerval real = { { 0, 500000 }, { 3, 0 } };	/* first after 3s, then every 0.5s */
	struct itimerval virt = { { 0, 100000 }, { 0, 300000 } };	/* 0.3s of user CPU */
	struct itimerval prof = { { 0, 200000 }, { 0, 400000 } };	/* 0.4s of CPU */
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	struct itimerval cur;
	double t0, deadline;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);
	t0 = now(CLOCK_MONOTONIC);
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_VIRTUAL, &virt, NULL) ||
	    setitimer(ITIMER_PROF, &prof, NULL))
		setup_fail("setitimer");

	test_daemon();
	test_waitsig();

	getitimer(ITIMER_REAL, &cur);
	check(usec(&cur.it_interval) == 500000, "ITIMER_REAL interval %ldus", usec(&cur.it_interval));
	if (!fired[SIGALRM])
		check(usec(&cur.it_value) > 0 && usec(&cur.it_value) <= 3000000 &&
		      usec(&cur.it_value) >= 3000000 - (now(CLOCK_MONOTONIC) - t0) * 1e6 - 500000,
		      "ITIMER_REAL has %ldus left after %.2fs", usec(&cur.it_value), now(CLOCK_MONOTONIC) - t0);
	getitimer(ITIMER_VIRTUAL, &cur);
	check(usec(&cur.it_interval) == 100000 && usec(&cur.it_value) > 0 && usec(&cur.it_value) <= 300000 + TICK_SLACK,
	      "ITIMER_VIRTUAL %ld/%ldus", usec(&cur.it_value), usec(&cur.it_interval));
	getitimer(ITIMER_PROF, &cur);
	check(usec(&cur.it_interval) == 200000 && usec(&cur.it_value) > 0 && usec(&cur.it_value) <= 400000 + TICK_SLACK,
	      "ITIMER_PROF %ld/%ldus", usec(&cur.it_value), usec(&cur.it_interval));

	/* Burn CPU until all three fired twice (or 10s). */
	deadline = now(CLOCK_MONOTONIC) + 10;
	while ((fired[SIGALRM] < 2 || fired[SIGVTALRM] < 2 || fired[SIGPROF] < 2) && now(CLOCK_MONOTONIC) < deadline)
		;
	check(fired[SIGALRM] >= 2 && fired[SIGVTALRM] >= 2 && fired[SIGPROF] >= 2,
	      "fired: real %d, virtual %d, prof %d", fired[SIGALRM], fired[SIGVTALRM], fired[SIGPROF]);
	check(now(CLOCK_MONOTONIC) - t0 >= 3.4, "ITIMER_REAL fired twice within %.2fs", now(CLOCK_MONOTONIC) - t0);
	pass();
	return test_result();
}
