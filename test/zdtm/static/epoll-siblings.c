/* epoll-siblings: the root makes an epoll with an eventfd registered, forks A (which forks A1),
 * B (which makes B1 sharing its fd table, CLONE_FILES), X (which forks C) and Y (which forks D,
 * then closes the epoll), and closes it: A, A1, B, B1, X, C and the cousin D hold the one epoll,
 * the root doesn't. After restore all their epoll fds are the same open file (kcmp), a write to
 * the eventfd is reported to each, and a pipe A registers once restored is reported to all the
 * others; each has the fds it had. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define D_EFD 0x4444444455555555ULL
#define D_PIPE 0x1111ULL

enum { A, B, X, Y, NR_TOP, A1 = NR_TOP, B1, C, D, NR };

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static int ep, efd, pr;

static uint32_t events_of(struct epoll_event *evs, int n, uint64_t data)
{
	for (int i = 0; i < n; i++)
		if (evs[i].data.u64 == data)
			return evs[i].events;
	return 0;
}

static void wait_go(void)
{
	sigset_t none;
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

static int run_kid(pid_t kid)
{
	int st;
	if (kid <= 0)
		return 1;
	kill(kid, SIGUSR1);
	return waitpid(kid, &st, 0) == kid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* A holder: the eventfd is ready, and (but for A, which registers it) the pipe too. */
static int holder_body(int registers, pid_t kid)
{
	struct epoll_event evs[4], ev = {.events = EPOLLIN, .data.u64 = D_PIPE};
	unsigned long long fds = test_open_fds();
	int ok = 1, n;

	wait_go();
	ok &= test_open_fds() == fds; /* and none of criu's left */
	if (registers)
		ok &= epoll_ctl(ep, EPOLL_CTL_ADD, pr, &ev) == 0;
	n = epoll_wait(ep, evs, 4, 0);
	ok &= n == 2 && events_of(evs, n, D_EFD) == EPOLLIN && events_of(evs, n, D_PIPE) == EPOLLIN;
	if (kid)
		ok &= run_kid(kid) == 0;
	return ok ? 0 : 1;
}

/* kid: 0 none, 1 forked, 2 sharing the fd table (CLONE_FILES); its pid goes to report. */
static pid_t spawn(int registers, int kid_kind, int drop, int report, int clone_files)
{
	pid_t pid = clone_files ? syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0) : fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid)
		return pid;
	pid_t kid = kid_kind ? spawn(0, 0, 0, -1, kid_kind == 2) : 0;
	if (report >= 0 && write(report, &kid, sizeof(kid)) != sizeof(kid))
		_exit(2);
	if (drop) { /* Y: forks D, then closes the epoll */
		close(ep);
		wait_go();
		_exit(run_kid(kid));
	}
	_exit(holder_body(registers, kid));
}

int main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = D_EFD};
	pid_t pids[NR];
	int p[2], rep[2], st;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	ep = epoll_create1(0);
	efd = eventfd(0, 0);
	if (ep < 0 || efd < 0 || pipe(p) || pipe(rep) || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		setup_fail("epoll/eventfd/pipe");
	pr = p[0];
	pids[A] = spawn(1, 1, 0, rep[1], 0);
	pids[B] = spawn(0, 2, 0, rep[1], 0);
	pids[X] = spawn(0, 1, 0, rep[1], 0);
	pids[Y] = spawn(0, 1, 1, rep[1], 0);
	for (int i = NR_TOP; i < NR; i++) /* in any order: all hold the epoll */
		if (read(rep[0], &pids[i], sizeof(pid_t)) != sizeof(pid_t))
			setup_fail("grandchildren's pids");
	if (close(ep))
		setup_fail("close");
	usleep(100 * 1000); /* let Y close its epoll */

	test_daemon();
	test_waitsig();

	check(fcntl(ep, F_GETFD) < 0, "the root holds an epoll at fd %d again", ep);
	for (int i = B; i < NR; i++) {
		if (i == Y)
			continue;
		long r = syscall(SYS_kcmp, pids[A], pids[i], KCMP_FILE, ep, ep);
		check(r == 0, "task %d's epoll is not task %d's (kcmp %ld: %m)", pids[i], pids[A], r);
	}
	check(syscall(SYS_kcmp, pids[Y], pids[Y], KCMP_FILE, ep, ep) < 0, "task %d holds the epoll again", pids[Y]);
	check(eventfd_write(efd, 1) == 0, "eventfd_write");
	check(write(p[1], "x", 1) == 1, "write to the pipe");
	check(run_kid(pids[A]) == 0, "A (%d) did not register the pipe or see the events", pids[A]);
	for (int i = B; i < NR_TOP; i++) /* each runs its child */
		check(run_kid(pids[i]) == 0, "task %d (or its child) did not see both events", pids[i]);
	while (waitpid(-1, &st, WNOHANG) > 0)
		;
	pass();
	return test_result();
}
