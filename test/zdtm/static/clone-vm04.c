/* clone-vm04: a parent with a pthread, and a child made with clone(CLONE_VM | CLONE_SIGHAND |
 * CLONE_FILES | CLONE_FS | SIGCHLD) that has a thread of its own (clone(CLONE_THREAD ...) on a stack the parent allocated),
 * which blocks SIGUSR2 in itself only. After restore the child has both threads with their
 * tids, the thread's counter moves, its mask is its own (SIGUSR2 blocked in it, not in the
 * child's leader), memory and handlers are still shared, and the child's exit (exit_group
 * from the thread: status 43) ends both threads and reaches the parent. */
#include "zdtmtst.h"

#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK (256 * 1024)

static struct {
	volatile uint64_t counter, thread_counter, parent_thread_counter;
	volatile pid_t thread_tid;
	volatile int exit_now;
} shared;

static char *thread_stack;

static void *parent_thread(void *arg)
{
	struct timespec ms = {0, 1000000};
	for (;;) {
		shared.parent_thread_counter++;
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static bool same(pid_t a, pid_t b, int type) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 0; }

/* The child's thread: raw system calls only. */
static int thread_fn(void *arg)
{
	struct timespec ms = {0, 1000000};
	uint64_t usr2 = 1ull << (SIGUSR2 - 1);

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr2, NULL, 8);
	shared.thread_tid = syscall(SYS_gettid);
	for (;;) {
		shared.thread_counter++;
		if (shared.exit_now)
			syscall(SYS_exit_group, 43);
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

static int child_fn(void *arg)
{
	struct timespec ms = {0, 1000000};

	if (clone(thread_fn, thread_stack + STACK, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		  CLONE_SYSVSEM, NULL) < 0)
		syscall(SYS_exit, 2);
	for (;;) {
		shared.counter++;
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

/* The SigBlk mask of thread tid of pid, from /proc. */
static unsigned long long sigblk(pid_t pid, pid_t tid)
{
	char path[64], text[4096];
	unsigned long long v = ~0ull;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	char *at = read_file(path, text, sizeof(text)) > 0 ? strstr(text, "\nSigBlk:") : NULL;
	if (at)
		sscanf(at + 8, "%llx", &v);
	return v;
}

int main(int argc, char **argv)
{
	char path[64];
	int st = 0;

	test_init(argc, argv);
	pthread_t th;
	if (pthread_create(&th, NULL, parent_thread, NULL))
		setup_fail("pthread_create");
	char *stack = malloc(STACK);
	thread_stack = malloc(STACK);
	pid_t kid = stack && thread_stack ? clone(child_fn, stack + STACK,
						  CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS | SIGCHLD, NULL) : -1;
	if (kid < 0 || !counter_moves(&shared.thread_counter) || !counter_moves(&shared.counter))
		setup_fail("clone(CLONE_VM | CLONE_SIGHAND) with a thread");
	pid_t tid = shared.thread_tid;
	unsigned long long usr2 = 1ull << (SIGUSR2 - 1);

	test_daemon();
	test_waitsig();

	check(same(getpid(), kid, KCMP_VM) && same(getpid(), kid, KCMP_SIGHAND),
	      "memory or handlers not shared with child %d any more", kid);
	snprintf(path, sizeof(path), "/proc/%d/task/%d", kid, tid);
	check(access(path, F_OK) == 0, "the child's thread %d is gone", tid);
	check(counter_moves(&shared.thread_counter) && counter_moves(&shared.counter), "a counter of the child stopped");
	check(counter_moves(&shared.parent_thread_counter), "the parent's thread stopped");
	check(sigblk(kid, tid) & usr2, "the child's thread lost its signal mask (%#llx)", sigblk(kid, tid));
	check(!(sigblk(kid, kid) & usr2), "the child's leader has its thread's mask (%#llx)", sigblk(kid, kid));
	shared.exit_now = 1;
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 43,
	      "child %d ended with status %#x, want exit 43", kid, st);
	pass();
	return test_result();
}
