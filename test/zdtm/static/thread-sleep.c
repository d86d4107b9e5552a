/* thread-sleep: threads blocked in nanosleep (1 hour), ppoll with no fds and sigwaitinfo stay
 * blocked through the checkpoint and wake exactly when told: nanosleep and ppoll by a signal
 * (EINTR, with ~1 hour left), sigwaitinfo by a queued value (one EINTR from the checkpoint
 * is allowed, the kernel does not restart sigwaitinfo after a tracer interrupts it). */
#include "zdtmtst.h"

#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

enum { NANOSLEEP, PPOLL, SIGWAIT, NR_KINDS };

struct sleeper {
	pthread_t t;
	pid_t tid;
	volatile int woken;
	int ret, err;
	struct timespec left;
	int value;
	int intr;	/* EINTRs of sigwaitinfo before it was released */
};

static struct sleeper s[NR_KINDS];
static pthread_barrier_t ready;
static volatile int released;

static void on_usr1(int sig)
{
}

static void *sleeper(void *arg)
{
	struct sleeper *me = arg;
	struct timespec hour = { 3600, 0 };
	sigset_t set;
	siginfo_t si;

	me->tid = sys_gettid();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_barrier_wait(&ready);
	switch (me - s) {
	case NANOSLEEP:
		me->ret = nanosleep(&hour, &me->left);
		break;
	case PPOLL:
		me->ret = ppoll(NULL, 0, NULL, NULL);
		break;
	case SIGWAIT:
		/* The kernel ends sigwaitinfo with EINTR when a tracer (criu) interrupts it. */
		while ((me->ret = sigwaitinfo(&set, &si)) < 0 && errno == EINTR && !released && me->intr++ < 1)
			;
		me->value = si.si_value.sival_int;
		break;
	}
	me->err = errno;
	me->woken = released ? 1 : -1;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	sigset_t set;
	char state[64];

	test_init(argc, argv);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited: only sigwaitinfo takes SIGUSR2 */
	pthread_barrier_init(&ready, NULL, NR_KINDS + 1);
	for (int i = 0; i < NR_KINDS; i++)
		if (pthread_create(&s[i].t, NULL, sleeper, &s[i]))
			setup_fail("pthread_create");
	pthread_barrier_wait(&ready);
	for (int i = 0; i < NR_KINDS; i++)
		while (proc_status_field(s[i].tid, "State", state, sizeof(state)) || state[0] != 'S')
			nanosleep(&ms, NULL);

	test_daemon();
	test_waitsig();

	nanosleep(&ms, NULL);
	for (int i = 0; i < NR_KINDS; i++)
		check(!s[i].woken, "sleeper %d woke by itself (ret %d, errno %d)", i, s[i].ret, s[i].err);
	released = 1;
	pthread_kill(s[NANOSLEEP].t, SIGUSR1);
	pthread_kill(s[PPOLL].t, SIGUSR1);
	pthread_sigqueue(s[SIGWAIT].t, SIGUSR2, (union sigval){ .sival_int = 4242 });
	for (int i = 0; i < NR_KINDS; i++)
		pthread_join(s[i].t, NULL);
	check(s[NANOSLEEP].ret == -1 && s[NANOSLEEP].err == EINTR, "nanosleep ret %d errno %d", s[NANOSLEEP].ret,
	      s[NANOSLEEP].err);
	check(s[NANOSLEEP].left.tv_sec > 3000 && s[NANOSLEEP].left.tv_sec < 3600, "nanosleep had %lds left",
	      (long)s[NANOSLEEP].left.tv_sec);
	check(s[PPOLL].ret == -1 && s[PPOLL].err == EINTR, "ppoll ret %d errno %d", s[PPOLL].ret, s[PPOLL].err);
	check(s[SIGWAIT].ret == SIGUSR2 && s[SIGWAIT].value == 4242, "sigwaitinfo ret %d value %d",
	      s[SIGWAIT].ret, s[SIGWAIT].value);
	pass();
	return test_result();
}
