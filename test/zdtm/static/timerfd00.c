/* timerfd00: armed timerfds on CLOCK_MONOTONIC and CLOCK_REALTIME (with TFD_TIMER_ABSTIME) keep
 * their interval and their next expiry (within the checkpoint's downtime); an expiration not
 * read yet is still there; a periodic timer keeps ticking after restore. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SLACK_SEC 60 /* checkpoint + restore fit in this */

static int64_t ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int arm(int fd, int flags, time_t vs, long vns, time_t is, long ins)
{
	struct itimerspec its = {{is, ins}, {vs, vns}};
	return timerfd_settime(fd, flags, &its, NULL);
}

int main(int argc, char **argv)
{
	struct itimerspec got;
	struct timespec now;
	int mono, real, once, tick;
	uint64_t n = 0;

	test_init(argc, argv);
	mono = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	real = timerfd_create(CLOCK_REALTIME, 0);
	once = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	tick = timerfd_create(CLOCK_MONOTONIC, 0);
	if (mono < 0 || real < 0 || once < 0 || tick < 0)
		setup_fail("timerfd_create");
	clock_gettime(CLOCK_REALTIME, &now);
	if (arm(mono, 0, 3600, 0, 1800, 250) || arm(real, TFD_TIMER_ABSTIME, now.tv_sec + 600, 0, 7200, 0) ||
	    arm(once, 0, 0, 1000000, 3600, 0) || arm(tick, 0, 0, 50000000, 0, 50000000))
		setup_fail("timerfd_settime");
	usleep(20000); /* once expires: one expiration, not read */

	test_daemon();
	test_waitsig();

	check(fcntl(mono, F_GETFL) & O_NONBLOCK, "mono lost O_NONBLOCK");
	check(!(fcntl(real, F_GETFL) & O_NONBLOCK), "real got O_NONBLOCK");
	check(timerfd_gettime(mono, &got) == 0 && got.it_interval.tv_sec == 1800 && got.it_interval.tv_nsec == 250,
	      "mono interval %ld.%09ld", (long)got.it_interval.tv_sec, got.it_interval.tv_nsec);
	check(ns(got.it_value) <= 3600LL * 1000000000 && ns(got.it_value) > (3600LL - SLACK_SEC) * 1000000000,
	      "mono expires in %ld s, not ~3600", (long)got.it_value.tv_sec);
	check(timerfd_gettime(real, &got) == 0 && got.it_interval.tv_sec == 7200 && got.it_interval.tv_nsec == 0,
	      "real interval %ld", (long)got.it_interval.tv_sec);
	check(got.it_value.tv_sec < 600 && got.it_value.tv_sec > 600 - SLACK_SEC, "real expires in %ld s, not ~600",
	      (long)got.it_value.tv_sec);
	check(read(mono, &n, sizeof(n)) < 0 && errno == EAGAIN, "mono expired");
	check(read(once, &n, sizeof(n)) == sizeof(n) && n == 1, "once: %llu expirations, not 1", (unsigned long long)n);
	check(timerfd_gettime(once, &got) == 0 && got.it_value.tv_sec > 3600 - SLACK_SEC, "once next in %ld s",
	      (long)got.it_value.tv_sec);
	check(read(tick, &n, sizeof(n)) == sizeof(n) && n >= 1, "tick: %llu", (unsigned long long)n);
	usleep(300000);
	check(read(tick, &n, sizeof(n)) == sizeof(n) && n >= 3 && n <= 8, "tick after 300 ms: %llu",
	      (unsigned long long)n);
	pass();
	return test_result();
}
