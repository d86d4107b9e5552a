/* pgrp-zombie-member: zombies in process groups led by live tasks forked elsewhere in the tree:
 * zombie Z (the test's) and zombie Y (child Q's) are in the group of the test's child L, and
 * zombie X (the test's) in the group of Q's child M. After restore each zombie is in its group
 * with its exit status. */
#include "zdtmtst.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void idle(void)
{
	for (;;)
		pause();
}

/* A child that joins group pgid (0: its own) and then idles, or exits with code. */
static pid_t spawn(pid_t pgid, int code)
{
	siginfo_t si;
	pid_t pid = fork();
	if (pid < 0)
		_exit(100);
	if (pid == 0) {
		if (setpgid(0, pgid))
			_exit(101);
		if (code < 0)
			idle();
		_exit(code);
	}
	if (code >= 0 && waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		_exit(102);
	if (code < 0 && setpgid(pid, pgid ? pgid : pid) && getpgid(pid) != (pgid ? pgid : pid))
		_exit(103);
	return pid;
}

static void on_usr1(int sig) { (void)sig; }

/* Q: forks M (own group), Y (zombie in group l), sends their pids, then on SIGUSR1 reaps Y and
 * exits with its code (or 100+ if Y is not as it was). */
static void become_q(pid_t l, int fd)
{
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	pid_t my[2] = {spawn(0, -1), 0};
	my[1] = spawn(l, 4);
	if (write(fd, my, sizeof(my)) != sizeof(my))
		_exit(104);
	sigsuspend(&old);
	int st;
	if (getpgid(my[1]) != l || waitpid(my[1], &st, 0) != my[1] || !WIFEXITED(st))
		_exit(105);
	kill(my[0], SIGKILL);
	_exit(WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	int p[2], st;
	pid_t my[2];

	test_init(argc, argv);
	if (pipe(p))
		setup_fail("pipe");
	pid_t l = spawn(0, -1);
	pid_t q = fork();
	if (q < 0)
		setup_fail("fork");
	if (q == 0)
		become_q(l, p[1]);
	if (read(p[0], my, sizeof(my)) != sizeof(my))
		setup_fail("q did not start");
	pid_t m = my[0], y = my[1];
	pid_t z = spawn(l, 3), x = spawn(m, 5);
	if (getpgid(z) != l || getpgid(y) != l || getpgid(x) != m)
		setup_fail("the groups are not as planned");

	test_daemon();
	test_waitsig();

	check(getpgid(z) == l, "zombie z (%d) is in group %d, not %d", z, getpgid(z), l);
	check(getpgid(y) == l, "zombie y (%d) is in group %d, not %d", y, getpgid(y), l);
	check(getpgid(x) == m, "zombie x (%d) is in group %d, not %d", x, getpgid(x), m);
	check(waitpid(z, &st, 0) == z && WIFEXITED(st) && WEXITSTATUS(st) == 3, "zombie z: status %#x", st);
	check(waitpid(x, &st, 0) == x && WIFEXITED(st) && WEXITSTATUS(st) == 5, "zombie x: status %#x", st);
	kill(q, SIGUSR1);
	check(waitpid(q, &st, 0) == q && WIFEXITED(st) && WEXITSTATUS(st) == 4, "q found zombie y not as it was (%#x)", st);
	kill(l, SIGKILL);
	check(waitpid(l, NULL, 0) == l, "l is missing");
	pass();
	return test_result();
}
