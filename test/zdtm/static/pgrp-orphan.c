/* pgrp-orphan: a process group whose leader has died (restore rebuilds it with a helper task).
 * Child A leads its own group; child B joins it and forks C (in the group too); child D, B's
 * younger sibling, joins it as well; A is killed and reaped. After restore B, C and D are still
 * in group A, A's PID is free, and no SIGCHLD reached the parent or B (B keeps SIGCHLD blocked,
 * so a stray one would stay pending). */
#include "zdtmtst.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t nr_chld;

static void on_chld(int sig)
{
	(void)sig;
	nr_chld++;
}

static void ready(int fd)
{
	if (write(fd, "r", 1) != 1)
		_exit(2);
}

static void await(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1)
		setup_fail("a child died during setup");
}

static void idle(void)
{
	for (;;)
		pause();
}

/* B: joins group a, blocks SIGCHLD, forks C (born in group a). */
static void become_b(pid_t a, int fd)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if (setpgid(0, a))
		_exit(2);
	pid_t c = fork();
	if (c < 0)
		_exit(2);
	if (c == 0)
		idle();
	if (write(fd, &c, sizeof(c)) != sizeof(c))
		_exit(2);
	idle();
}

/* The SIGCHLD bit of /proc/PID/status's SigPnd or ShdPnd. */
static int sigchld_pending(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	int pending = -1;
	unsigned long long mask;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigPnd: %llx", &mask) == 1 || sscanf(line, "ShdPnd: %llx", &mask) == 1)
			pending = (pending > 0) || (mask & (1ull << (SIGCHLD - 1)));
	fclose(f);
	return pending;
}

int main(int argc, char **argv)
{
	int p[2];
	pid_t c;

	test_init(argc, argv);
	signal(SIGCHLD, on_chld);
	if (pipe(p))
		setup_fail("pipe");
	pid_t a = fork();
	if (a < 0)
		setup_fail("fork");
	if (a == 0) {
		if (setpgid(0, 0))
			_exit(2);
		ready(p[1]);
		idle();
	}
	await(p[0]);
	pid_t b = fork();
	if (b < 0)
		setup_fail("fork");
	if (b == 0)
		become_b(a, p[1]);
	if (read(p[0], &c, sizeof(c)) != sizeof(c))
		setup_fail("b did not start");
	pid_t d = fork();
	if (d < 0)
		setup_fail("fork");
	if (d == 0)
		idle();
	if (setpgid(d, a))
		setup_fail("d joins group %d", a);
	kill(a, SIGKILL);
	if (waitpid(a, NULL, 0) != a)
		setup_fail("reap a");
	if (getpgid(b) != a || getpgid(c) != a || getpgid(d) != a)
		setup_fail("b, c and d are not in group %d", a);
	int chld = nr_chld;

	test_daemon();
	test_waitsig();

	check(getpgid(b) == a, "b (%d) is in group %d, not %d", b, getpgid(b), a);
	check(getpgid(c) == a, "c (%d) is in group %d, not %d", c, getpgid(c), a);
	check(getpgid(d) == a, "d (%d) is in group %d, not %d", d, getpgid(d), a);
	check(kill(a, 0) < 0 && errno == ESRCH, "PID %d (the dead leader's) is in use", a);
	check(nr_chld == chld, "%d SIGCHLD after the restore", nr_chld - chld);
	check(sigchld_pending(b) == 0, "b (%d) has a SIGCHLD pending", b);
	check(waitpid(-1, NULL, WNOHANG) == 0, "the parent has a zombie child");
	check(getpgrp() == getpid(), "the parent is in group %d", getpgrp());
	kill(c, SIGKILL);
	kill(b, SIGKILL);
	kill(d, SIGKILL);
	check(waitpid(b, NULL, 0) == b, "b is missing");
	check(waitpid(d, NULL, 0) == d, "d is missing");
	pass();
	return test_result();
}
