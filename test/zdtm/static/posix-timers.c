/* posix-timers: CLOCK_REALTIME and CLOCK_MONOTONIC timers (SIGEV_SIGNAL with a value) keep their
 * ids, intervals and sane remaining times, a disarmed one stays disarmed, and they still fire
 * with the right si_value and si_timerid after restore. */
#include "zdtmtst.h"

#include <time.h>

enum { REAL, MONO, IDLE, NR_TIMERS };

static timer_t id[NR_TIMERS];
static volatile int fired[NR_TIMERS];
static volatile int bad_info;

static void handler(int sig, siginfo_t *si, void *uc)
{
	int i = si->si_value.sival_int;

	if (si->si_code != SI_TIMER || i < 0 || i >= NR_TIMERS || si->si_timerid != (int)(intptr_t)id[i])
		bad_info++;
	else
		fired[i]++;
}

static double ts(const struct timespec *t)
{
	return t->tv_sec + t->tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_RESTART };
	const clockid_t clk[NR_TIMERS] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC };
	const struct itimerspec spec[NR_TIMERS] = {
		{ { 0, 300000000 }, { 2, 500000000 } },
		{ { 0, 200000000 }, { 2, 0 } },
		{ { 0, 0 }, { 0, 0 } },
	};
	timer_t saved[NR_TIMERS];
	struct timespec t0, t1;
	struct itimerspec cur;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN + 3, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < NR_TIMERS; i++) {
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 3,
					.sigev_value.sival_int = i };

		if (timer_create(clk[i], &sev, &id[i]) || timer_settime(id[i], 0, &spec[i], NULL))
			setup_fail("timer %d", i);
		saved[i] = id[i];
	}

	test_daemon();
	test_waitsig();

	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < NR_TIMERS; i++) {
		check(id[i] == saved[i], "timer %d id changed", i);
		if (!check(timer_gettime(id[i], &cur) == 0, "timer_gettime %d", i))
			continue;
		check(cur.it_interval.tv_sec == spec[i].it_interval.tv_sec &&
		      cur.it_interval.tv_nsec == spec[i].it_interval.tv_nsec, "timer %d interval %.3f", i,
		      ts(&cur.it_interval));
		if (i == IDLE)
			check(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "idle timer armed");
		else if (!fired[i])
			check(ts(&cur.it_value) > 0 && ts(&cur.it_value) <= ts(&spec[i].it_value) &&
			      ts(&cur.it_value) >= ts(&spec[i].it_value) - (ts(&t1) - ts(&t0)) - 0.5,
			      "timer %d has %.3fs left after %.3fs", i, ts(&cur.it_value), ts(&t1) - ts(&t0));
	}
	for (int n = 0; n < 100 && (fired[REAL] < 2 || fired[MONO] < 2); n++)
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	check(fired[REAL] >= 2 && fired[MONO] >= 2 && !fired[IDLE], "fired %d %d %d", fired[REAL], fired[MONO],
	      fired[IDLE]);
	check(!bad_info, "%d signals with a wrong siginfo", bad_info);
	pass();
	return test_result();
}
