/* posix-timer-overrun: a 1ms periodic timer whose signal stays blocked piles up overruns; after
 * restore the pending signal arrives with a large si_overrun and the timer keeps ticking. */
#include "zdtmtst.h"

#include <time.h>

int main(int argc, char **argv)
{
	struct itimerspec spec = { { 0, 1000000 }, { 0, 1000000 } };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 2,
				.sigev_value.sival_int = 99 };
	sigset_t set;
	siginfo_t si;
	timer_t id;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &id) || timer_settime(id, 0, &spec, NULL))
		setup_fail("timer");
	nanosleep(&(struct timespec){ 0, 100000000 }, NULL);	/* >= 100 expirations */

	test_daemon();
	test_waitsig();

	if (check(sigtimedwait(&set, &si, &(struct timespec){ 1, 0 }) == SIGRTMIN + 2, "no timer signal pending")) {
		check(si.si_code == SI_TIMER && si.si_value.sival_int == 99, "code %d value %d", si.si_code,
		      si.si_value.sival_int);
		check(si.si_overrun >= 90, "si_overrun %d, want >= 90", si.si_overrun);
		check(timer_getoverrun(id) == si.si_overrun, "timer_getoverrun %d vs si_overrun %d",
		      timer_getoverrun(id), si.si_overrun);
	}
	check(sigtimedwait(&set, &si, &(struct timespec){ 1, 0 }) == SIGRTMIN + 2, "the timer stopped ticking");
	pass();
	return test_result();
}
