/* clone-vm01: a parent with a thread of its own and two children made with clone(CLONE_VM |
 * CLONE_SIGHAND | CLONE_FILES | CLONE_FS | SIGCHLD), each with the per-process state it does
 * not share with the parent: its name, its RLIMIT_NOFILE, a running ITIMER_REAL and a SIGUSR1
 * pending for the process (blocked in it). After restore each child still has its own, the
 * parent none of theirs, memory and handlers are still shared (kcmp), every counter moves, and
 * both children end (exit 10, 11) to the parent's waitpid. */
#include "zdtmtst.h"

#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK (256 * 1024)
#define KIDS 2
#define TIMER_SEC 1000

enum { CMD_NONE, CMD_REPORT, CMD_EXIT };

struct report {
	char comm[16];
	rlim_t nofile;
	long timer_left;
	int usr1_pending;
	pid_t pid, ppid;
};

static struct {
	volatile uint64_t counter[KIDS + 1]; /* the last: the parent's thread */
	volatile int ready[KIDS], cmd, done[KIDS];
	struct report rep[KIDS];
} shared;

static void on_usr1(int sig) {}

static bool same(pid_t a, pid_t b, int type) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 0; }

static void fill_report(struct report *r)
{
	struct rlimit lim;
	struct itimerval it;
	sigset_t pending;

	prctl(PR_GET_NAME, r->comm);
	r->nofile = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur : 0;
	r->timer_left = getitimer(ITIMER_REAL, &it) == 0 ? it.it_value.tv_sec : -1;
	r->usr1_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1) == 1;
	r->pid = syscall(SYS_getpid);
	r->ppid = syscall(SYS_getppid);
}

/* A child: only raw system calls and glibc's thin wrappers (it runs on the parent's TLS). */
static int child_fn(void *arg)
{
	int i = (int)(long)arg;
	struct timespec ms = {0, 1000000};
	char name[16] = "cvm01-kid0";
	struct rlimit lim;
	struct itimerval it = {{0, 0}, {TIMER_SEC + i, 0}};
	sigset_t usr1;

	name[9] += i;
	prctl(PR_SET_NAME, name);
	getrlimit(RLIMIT_NOFILE, &lim);
	lim.rlim_cur = 100 + i;
	setrlimit(RLIMIT_NOFILE, &lim);
	setitimer(ITIMER_REAL, &it, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	__atomic_store_n(&shared.ready[i], 1, __ATOMIC_SEQ_CST);
	for (;;) {
		shared.counter[i]++;
		if (shared.cmd == CMD_REPORT && !shared.done[i]) {
			fill_report(&shared.rep[i]);
			__atomic_store_n(&shared.done[i], 1, __ATOMIC_SEQ_CST);
		}
		if (shared.cmd == CMD_EXIT)
			syscall(SYS_exit, 10 + i);
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

static void *thread_fn(void *arg)
{
	struct timespec ms = {0, 1000000};
	for (;;) {
		shared.counter[KIDS]++;
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static bool wait_flag(volatile int *flag)
{
	for (int i = 0; i < 5000 && !__atomic_load_n(flag, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	return *flag;
}

int main(int argc, char **argv)
{
	pid_t kids[KIDS];
	pthread_t th;
	struct report me;
	int st;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	if (pthread_create(&th, NULL, thread_fn, NULL))
		setup_fail("pthread_create");
	for (int i = 0; i < KIDS; i++) {
		char *stack = malloc(STACK);
		kids[i] = stack ? clone(child_fn, stack + STACK, CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS | SIGCHLD,
					(void *)(long)i) : -1;
		if (kids[i] < 0 || !wait_flag(&shared.ready[i]))
			setup_fail("clone(CLONE_VM | CLONE_SIGHAND) child %d", i);
		kill(kids[i], SIGUSR1);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i <= KIDS; i++)
		check(counter_moves(&shared.counter[i]), "counter %d does not move", i);
	__atomic_store_n(&shared.cmd, CMD_REPORT, __ATOMIC_SEQ_CST);
	for (int i = 0; i < KIDS; i++) {
		struct report *r = &shared.rep[i];
		char name[16] = "cvm01-kid0";
		name[9] += i;
		check(same(getpid(), kids[i], KCMP_VM) && same(getpid(), kids[i], KCMP_SIGHAND),
		      "child %d does not share memory and handlers any more", kids[i]);
		check(wait_flag(&shared.done[i]), "child %d did not answer", kids[i]);
		check(!strcmp(r->comm, name), "child %d is called %s, want %s", kids[i], r->comm, name);
		check(r->nofile == (rlim_t)(100 + i), "child %d: RLIMIT_NOFILE %llu, want %d", kids[i],
		      (unsigned long long)r->nofile, 100 + i);
		check(r->timer_left > TIMER_SEC + i - 100 && r->timer_left <= TIMER_SEC + i,
		      "child %d: ITIMER_REAL %ld s left, want about %d", kids[i], r->timer_left, TIMER_SEC + i);
		check(r->usr1_pending, "child %d: SIGUSR1 no longer pending", kids[i]);
		check(r->pid == kids[i] && r->ppid == getpid(), "child %d is %d (parent %d)", kids[i], r->pid, r->ppid);
	}
	fill_report(&me);
	check(me.nofile != 100 && me.nofile != 101, "the parent has a child's RLIMIT_NOFILE %llu",
	      (unsigned long long)me.nofile);
	check(me.timer_left == 0, "the parent has a child's ITIMER_REAL (%ld s left)", me.timer_left);
	check(!me.usr1_pending, "the parent has a child's pending SIGUSR1");
	check(strncmp(me.comm, "cvm01-kid", 9), "the parent is called %s", me.comm);

	__atomic_store_n(&shared.cmd, CMD_EXIT, __ATOMIC_SEQ_CST);
	for (int i = 0; i < KIDS; i++)
		check(waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 10 + i,
		      "child %d ended with status %#x, want exit %d", kids[i], st, 10 + i);
	pass();
	return test_result();
}
