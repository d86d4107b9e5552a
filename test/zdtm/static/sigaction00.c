/* sigaction00: handlers with SA_SIGINFO, SA_RESTART, SA_ONSTACK, SA_NODEFER, SA_RESETHAND and
 * their masks stay installed, and still run (with siginfo) after restore. */
#include "zdtmtst.h"

#include <string.h>
#include <unistd.h>

static volatile int hits[_NSIG];
static volatile int last_code[_NSIG];

static void handler(int sig)
{
	hits[sig]++;
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	hits[sig]++;
	last_code[sig] = si->si_code;
}

struct act {
	int sig;
	int flags;
	int mask[2];
};

static const struct act acts[] = {
	{ SIGUSR1, SA_SIGINFO | SA_RESTART, { SIGUSR2, SIGHUP } },
	{ SIGUSR2, SA_ONSTACK | SA_NODEFER, { SIGINT } },
	{ SIGHUP, SA_RESETHAND, { 0 } },
	{ 40, SA_SIGINFO | SA_NODEFER | SA_RESTART, { SIGQUIT, 50 } },
	{ SIGALRM, 0, { 0 } },
};
#define NR_ACTS (int)(sizeof(acts) / sizeof(acts[0]))
#define FLAGS_MASK (SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_NODEFER | SA_RESETHAND | SA_NOCLDSTOP)

static void make(const struct act *a, struct sigaction *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (a->flags & SA_SIGINFO)
		sa->sa_sigaction = info_handler;
	else
		sa->sa_handler = handler;
	sa->sa_flags = a->flags;
	sigemptyset(&sa->sa_mask);
	for (int i = 0; i < 2; i++)
		if (a->mask[i])
			sigaddset(&sa->sa_mask, a->mask[i]);
}

int main(int argc, char **argv)
{
	struct sigaction sa, cur;

	test_init(argc, argv);
	for (int i = 0; i < NR_ACTS; i++) {
		make(&acts[i], &sa);
		if (sigaction(acts[i].sig, &sa, NULL))
			setup_fail("sigaction %d", acts[i].sig);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_ACTS; i++) {
		int sig = acts[i].sig;

		make(&acts[i], &sa);
		if (!check(sigaction(sig, NULL, &cur) == 0, "sigaction(%d)", sig))
			continue;
		check((void *)cur.sa_handler == (void *)sa.sa_handler, "signal %d handler %p", sig, (void *)cur.sa_handler);
		check((int)(cur.sa_flags & FLAGS_MASK) == sa.sa_flags, "signal %d flags %#x, want %#x", sig,
		      cur.sa_flags & FLAGS_MASK, sa.sa_flags);
		for (int s = 1; s < _NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP && sigismember(&cur.sa_mask, s) != sigismember(&sa.sa_mask, s)) {
				fail("signal %d mask differs at %d", sig, s);
				break;
			}
		test_checked();
		hits[sig] = 0;
		check(raise(sig) == 0 && hits[sig] == 1, "signal %d handler ran %d times", sig, hits[sig]);
		if (acts[i].flags & SA_SIGINFO)
			check(last_code[sig] == SI_TKILL, "signal %d si_code %d", sig, last_code[sig]);
	}
	check(sigaction(SIGHUP, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL, "SA_RESETHAND did not reset");
	pass();
	return test_result();
}
