/* sigpending00: signals pending per thread (tgkill of a blocked signal) and per process (kill,
 * a realtime signal queued twice) stay pending where they were and are delivered once unblocked. */
#include "zdtmtst.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_THREADS 3

static pthread_barrier_t ready, go;
static pid_t tids[NR_THREADS];
static volatile int got[NR_THREADS][_NSIG];
static volatile int proc_hits[_NSIG];
static volatile int foreign;	/* signals from anyone else */
static __thread int my_index;

static void handler(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == SI_TKILL)
		got[my_index][sig]++;
	else if (si->si_code == SI_USER && si->si_pid == getpid())
		proc_hits[sig]++;
	else
		foreign++;
}

static int thread_sig(int i)
{
	return SIGRTMIN + 4 + i;
}

static uint64_t hex(const char *key, pid_t tid)
{
	char buf[64];

	return proc_status_field(tid, key, buf, sizeof(buf)) ? ~0ULL : strtoull(buf, NULL, 16);
}

/* Thread i: its own signal pending in SigPnd, the process ones in ShdPnd; then unblock. */
static void verify(int i)
{
	uint64_t shd = (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 1 - 1));
	sigset_t pend, all;

	check(hex("SigPnd", tids[i]) == 1ULL << (thread_sig(i) - 1), "thread %d SigPnd %#llx", i,
	      (unsigned long long)hex("SigPnd", tids[i]));
	check(hex("ShdPnd", tids[i]) == shd, "thread %d ShdPnd %#llx", i, (unsigned long long)hex("ShdPnd", tids[i]));
	sigpending(&pend);
	check(sigismember(&pend, thread_sig(i)) && sigismember(&pend, SIGUSR2), "thread %d sigpending", i);
	sigemptyset(&all);
	sigaddset(&all, thread_sig(i));
	pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	check(got[i][thread_sig(i)] == 1, "thread %d got its signal %d times", i, got[i][thread_sig(i)]);
}

static void *worker(void *arg)
{
	my_index = (int)(uintptr_t)arg;
	tids[my_index] = sys_gettid();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	verify(my_index);
	pthread_barrier_wait(&go);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	pthread_t t[NR_THREADS];
	sigset_t set;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 1);
	for (int i = 0; i < NR_THREADS; i++) {
		sigaction(thread_sig(i), &sa, NULL);
		sigaddset(&set, thread_sig(i));
	}
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	tids[0] = sys_gettid();
	pthread_barrier_init(&ready, NULL, NR_THREADS);
	pthread_barrier_init(&go, NULL, NR_THREADS);
	for (int i = 1; i < NR_THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			setup_fail("pthread_create");
	pthread_barrier_wait(&ready);
	for (int i = 0; i < NR_THREADS; i++)
		syscall(SYS_tgkill, getpid(), tids[i], thread_sig(i));
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGRTMIN + 1);
	kill(getpid(), SIGRTMIN + 1);

	test_daemon();
	test_waitsig();

	pthread_barrier_wait(&go);
	verify(0);
	pthread_barrier_wait(&go);
	for (int i = 1; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	check(proc_hits[SIGUSR2] == 1, "SIGUSR2 delivered %d times", proc_hits[SIGUSR2]);
	check(!foreign, "%d signals from elsewhere", foreign);
	check(proc_hits[SIGRTMIN + 1] == 2, "queued realtime signal delivered %d times", proc_hits[SIGRTMIN + 1]);
	pass();
	return test_result();
}
