/* sig-ign: SIG_IGN dispositions (and SIG_DFL ones next to them) survive; ignored signals sent
 * after restore are still ignored. */
#include "zdtmtst.h"

#include <unistd.h>

static const int ignored[] = { SIGUSR1, SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGCHLD, 35, 50, 64 };
#define NR_IGN (int)(sizeof(ignored) / sizeof(ignored[0]))

static bool is_ignored(int sig)
{
	for (int i = 0; i < NR_IGN; i++)
		if (ignored[i] == sig)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = SIG_IGN }, cur;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NR_IGN; i++)
		if (sigaction(ignored[i], &sa, NULL))
			setup_fail("sigaction %d", ignored[i]);

	test_daemon();
	test_waitsig();

	for (int s = 1; s < _NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == SIGTERM || s == 32 || s == 33)
			continue;	/* 32, 33: glibc's own */
		if (!check(sigaction(s, NULL, &cur) == 0, "sigaction %d", s))
			continue;
		if (is_ignored(s))
			check(cur.sa_handler == SIG_IGN, "signal %d no longer ignored", s);
		else
			check(cur.sa_handler == SIG_DFL, "signal %d is not SIG_DFL", s);
	}
	for (int i = 0; i < NR_IGN; i++)
		raise(ignored[i]);	/* would kill the test if not ignored */
	test_checked();
	pass();
	return test_result();
}
