/* epoll-siblings01: handed epolls and a CLONE_VM child with an fd table of its own (made by its
 * parent's restorer). The root makes epolls E1 and E2 (an eventfd registered in each), forks
 * A0 (which closes E2), makes V with clone(CLONE_VM | CLONE_SIGHAND | CLONE_FS) holding both,
 * forks A1 (which closes E1), and closes both: A0 and V hold E1 (A0, first, makes it at
 * restore, V receives it), V and A1 hold E2 (V makes it, A1 receives it). After restore each
 * pair's epoll is one open file (kcmp), and a write to the eventfd is reported through both. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK (256 * 1024)
#define D_EFD 0x4444ULL

static struct {
	volatile int ready, go, done, seen1, seen2;
} shared;

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static int e1, e2, efd;

static int reported(int ep)
{
	struct epoll_event ev;
	return epoll_wait(ep, &ev, 1, 0) == 1 && ev.data.u64 == D_EFD && ev.events == EPOLLIN;
}

/* V: only raw system calls and glibc's thin wrappers (it runs on the parent's TLS). */
static int vm_child(void *arg)
{
	struct timespec ms = {0, 1000000};

	__atomic_store_n(&shared.ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&shared.go, __ATOMIC_SEQ_CST))
		syscall(SYS_nanosleep, &ms, NULL);
	shared.seen1 = reported(e1);
	shared.seen2 = reported(e2);
	__atomic_store_n(&shared.done, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_exit, 0);
	return 0;
}

static pid_t spawn(int keep)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid)
		return pid;
	close(keep == 1 ? e2 : e1);
	sigset_t none;
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
	_exit(reported(keep == 1 ? e1 : e2) ? 0 : 1);
}

static int run_kid(pid_t kid)
{
	int st;
	kill(kid, SIGUSR1);
	return waitpid(kid, &st, 0) == kid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int wait_flag(volatile int *flag)
{
	for (int i = 0; i < 5000 && !__atomic_load_n(flag, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	return *flag;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = D_EFD};
	pid_t a0, a1, v;
	int st;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	e1 = epoll_create1(0);
	e2 = epoll_create1(0);
	efd = eventfd(0, 0);
	if (e1 < 0 || e2 < 0 || efd < 0 || epoll_ctl(e1, EPOLL_CTL_ADD, efd, &ev) || epoll_ctl(e2, EPOLL_CTL_ADD, efd, &ev))
		setup_fail("epoll/eventfd");
	a0 = spawn(1);
	char *stack = malloc(STACK);
	v = stack ? clone(vm_child, stack + STACK, CLONE_VM | CLONE_SIGHAND | CLONE_FS | SIGCHLD, NULL) : -1;
	if (v < 0 || !wait_flag(&shared.ready))
		setup_fail("clone(CLONE_VM | CLONE_SIGHAND | CLONE_FS)");
	a1 = spawn(2);
	if (close(e1) || close(e2))
		setup_fail("close");
	usleep(100 * 1000); /* let A0 and A1 close theirs */

	test_daemon();
	test_waitsig();

	check(syscall(SYS_kcmp, a0, v, KCMP_FILE, e1, e1) == 0, "V's E1 is not A0's: %m");
	check(syscall(SYS_kcmp, v, a1, KCMP_FILE, e2, e2) == 0, "A1's E2 is not V's: %m");
	check(syscall(SYS_kcmp, a0, a0, KCMP_FILE, e2, e2) < 0, "A0 holds E2 again");
	check(syscall(SYS_kcmp, a1, a1, KCMP_FILE, e1, e1) < 0, "A1 holds E1 again");
	check(fcntl(e1, F_GETFD) < 0 && fcntl(e2, F_GETFD) < 0, "the root holds an epoll again");
	check(eventfd_write(efd, 1) == 0, "eventfd_write");
	__atomic_store_n(&shared.go, 1, __ATOMIC_SEQ_CST);
	check(wait_flag(&shared.done) && shared.seen1 && shared.seen2, "V does not see the event through E1 or E2");
	check(waitpid(v, &st, 0) == v, "V is not our child");
	check(run_kid(a0) == 0, "A0 does not see the event through E1");
	check(run_kid(a1) == 0, "A1 does not see the event through E2");
	pass();
	return test_result();
}
