/* pdeath00: the parent death signal (PR_SET_PDEATHSIG) survives, and is not sent: the test's
 * parent (the runner) never died, whatever helper processes came and went during restore. */
#include "zdtmtst.h"

#include <sys/prctl.h>

static volatile int got;

static void handler(int sig)
{
	got++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler };
	int sig = 0;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2))
		setup_fail("PR_SET_PDEATHSIG");

	test_daemon();
	test_waitsig();

	check(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGUSR2, "pdeath signal %d", sig);
	check(!got, "got the parent death signal %d times, the parent is alive", got);
	pass();
	return test_result();
}
