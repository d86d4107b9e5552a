/* clone-vm00: a child made with clone(CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS |
 * SIGCHLD) on a malloc'd stack, not a thread, loops in the parent's memory touching a shared
 * counter. After restore: kcmp says memory, signal handlers, fd table and fs are still one; the
 * counter moves; a value the parent writes is read by the child and one the child writes is read
 * by the parent; the parent's SIGUSR1 handler (set before the checkpoint) is the child's, and a
 * SIGUSR2 handler the child installs after restore is the parent's; the child keeps its pid,
 * ppid and its own signal mask (SIGHUP blocked, the parent's not); its exit (status 42)
 * reaches the parent as SIGCHLD and through waitpid. */
#include "zdtmtst.h"

#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK (256 * 1024)

enum { CMD_NONE, CMD_REPORT, CMD_EXIT };

static struct {
	volatile uint64_t counter;
	volatile int cmd, done;
	volatile pid_t pid, ppid;
	volatile uint64_t from_parent, from_child;
	volatile int hup_blocked, usr1_seen;
} shared;

static volatile sig_atomic_t got_chld;
static void on_chld(int sig) { got_chld = 1; }
static void on_usr1(int sig) {}
static void on_usr2(int sig) {}

static bool same(pid_t a, pid_t b, int type) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 0; }

/* The child: only raw system calls and glibc's thin wrappers (it runs on the parent's TLS). */
static void report(void)
{
	struct sigaction sa;
	sigset_t mask;

	shared.pid = syscall(SYS_getpid);
	shared.ppid = syscall(SYS_getppid);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	shared.hup_blocked = sigismember(&mask, SIGHUP) == 1;
	shared.usr1_seen = sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == on_usr1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	shared.from_child = shared.from_parent + 1;
}

static int child_fn(void *arg)
{
	struct timespec ms = {0, 1000000};
	sigset_t hup;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	for (;;) {
		shared.counter++;
		if (shared.cmd == CMD_REPORT && !shared.done) {
			report();
			__atomic_store_n(&shared.done, 1, __ATOMIC_SEQ_CST);
		}
		if (shared.cmd == CMD_EXIT)
			syscall(SYS_exit, 42);
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

static bool wait_done(void)
{
	for (int i = 0; i < 5000 && !__atomic_load_n(&shared.done, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	return shared.done;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t mask;
	int st = 0;

	test_init(argc, argv);
	signal(SIGCHLD, on_chld);
	signal(SIGUSR1, on_usr1);
	char *stack = malloc(STACK);
	if (!stack)
		setup_fail("malloc");
	pid_t kid = clone(child_fn, stack + STACK, CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS | SIGCHLD, NULL);
	if (kid < 0)
		setup_fail("clone(CLONE_VM | CLONE_SIGHAND)");
	if (!counter_moves(&shared.counter))
		setup_fail("the child does not run");

	test_daemon();
	test_waitsig();

	check(same(getpid(), kid, KCMP_VM), "memory not shared with child %d any more", kid);
	check(same(getpid(), kid, KCMP_SIGHAND), "signal handlers not shared with child %d any more", kid);
	check(same(getpid(), kid, KCMP_FILES), "fd table not shared with child %d any more", kid);
	check(same(getpid(), kid, KCMP_FS), "fs not shared with child %d any more", kid);
	check(counter_moves(&shared.counter), "the child's counter does not move");
	shared.from_parent = 0x5eed;
	__atomic_store_n(&shared.cmd, CMD_REPORT, __ATOMIC_SEQ_CST);
	check(wait_done(), "the child did not answer");
	check(shared.from_child == 0x5eee, "the child wrote %#llx, want 0x5eee", (unsigned long long)shared.from_child);
	check(shared.pid == kid && shared.ppid == getpid(), "the child is %d (parent %d), want %d (parent %d)",
	      shared.pid, shared.ppid, kid, getpid());
	check(shared.hup_blocked, "the child lost its signal mask");
	sigprocmask(SIG_BLOCK, NULL, &mask);
	check(!sigismember(&mask, SIGHUP), "the parent has the child's signal mask");
	check(shared.usr1_seen, "the child does not see the parent's SIGUSR1 handler");
	check(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == on_usr2,
	      "the parent does not see the SIGUSR2 handler the child installed");

	__atomic_store_n(&shared.cmd, CMD_EXIT, __ATOMIC_SEQ_CST);
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 42,
	      "child %d ended with status %#x, want exit 42", kid, st);
	check(got_chld, "no SIGCHLD for the child's exit");
	pass();
	return test_result();
}
