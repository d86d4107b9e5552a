/* pgrp-orphan-zombie: zombies in process groups whose leader has died (restore rebuilds each
 * group with a helper task that exists before the zombie is made).
 * Child A leads group A; child B joins it and forks C, which exits with 5 (B's zombie, in group
 * A); child D joins group A and exits with 9 (the test's zombie); A is killed and reaped.
 * Child F leads group F; child G joins it and exits with 3; F is killed and reaped, so group F
 * has a zombie only. After restore the zombies are in their groups with their exit statuses
 * (waitpid by their parents), A's and F's PIDs are free and no SIGCHLD came. */
#include "zdtmtst.h"

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

static void on_usr1(int sig) { (void)sig; }

static void idle(void)
{
	for (;;)
		pause();
}

/* A child that leads its own group and waits to be killed; returns once it does lead it. */
static pid_t leader(void)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		setpgid(0, 0);
		idle();
	}
	if (setpgid(pid, pid) && getpgid(pid) != pid)
		setup_fail("group of %d", pid);
	return pid;
}

/* A child that joins group pgid and exits with code; a zombie once this returns. */
static pid_t zombie(pid_t pgid, int code)
{
	siginfo_t si;
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0)
		_exit(setpgid(0, pgid) ? 100 : code);
	if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		setup_fail("waitid %d", pid);
	return pid;
}

/* B: joins group a, makes zombie C in it, sends C's pid, then waits for SIGUSR1 to reap C and
 * exit with C's exit code (100 + something when C is not as it was). */
static void become_b(pid_t a, int fd)
{
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	if (setpgid(0, a))
		_exit(101);
	pid_t c = zombie(a, 5);
	if (write(fd, &c, sizeof(c)) != sizeof(c))
		_exit(102);
	sigsuspend(&old);
	if (getpgid(c) != a)
		_exit(103);
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st))
		_exit(104);
	_exit(WEXITSTATUS(st));
}

static char state_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	char *close = strrchr(buf, ')');
	return close ? close[2] : 0;
}

static int exit_code(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, WNOHANG) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int main(int argc, char **argv)
{
	int p[2];
	pid_t c;

	test_init(argc, argv);
	signal(SIGCHLD, on_chld);
	if (pipe(p))
		setup_fail("pipe");
	pid_t a = leader();
	pid_t b = fork();
	if (b < 0)
		setup_fail("fork");
	if (b == 0)
		become_b(a, p[1]);
	if (read(p[0], &c, sizeof(c)) != sizeof(c))
		setup_fail("b did not start");
	pid_t d = zombie(a, 9);
	pid_t f = leader();
	pid_t g = zombie(f, 3);
	kill(a, SIGKILL);
	kill(f, SIGKILL);
	if (waitpid(a, NULL, 0) != a || waitpid(f, NULL, 0) != f)
		setup_fail("reap a and f");
	if (getpgid(b) != a || getpgid(c) != a || getpgid(d) != a || getpgid(g) != f)
		setup_fail("b, c, d are not in group %d or g in %d", a, f);
	int chld = nr_chld;

	test_daemon();
	test_waitsig();

	check(getpgid(b) == a, "b (%d) is in group %d, not %d", b, getpgid(b), a);
	check(getpgid(c) == a, "zombie c (%d) is in group %d, not %d", c, getpgid(c), a);
	check(getpgid(d) == a, "zombie d (%d) is in group %d, not %d", d, getpgid(d), a);
	check(getpgid(g) == f, "zombie g (%d) is in group %d, not %d", g, getpgid(g), f);
	check(state_of(c) == 'Z' && state_of(d) == 'Z' && state_of(g) == 'Z', "states %c %c %c", state_of(c),
	      state_of(d), state_of(g));
	check(kill(a, 0) < 0 && errno == ESRCH, "PID %d (a dead leader's) is in use", a);
	check(kill(f, 0) < 0 && errno == ESRCH, "PID %d (a dead leader's) is in use", f);
	check(nr_chld == chld, "%d SIGCHLD after the restore", nr_chld - chld);
	check(exit_code(d) == 9, "zombie d (%d) did not exit with 9", d);
	check(exit_code(g) == 3, "zombie g (%d) did not exit with 3", g);
	kill(b, SIGUSR1);
	int st;
	check(waitpid(b, &st, 0) == b && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "b found zombie c not as it was (status %#x)", st);
	check(waitpid(-1, NULL, WNOHANG) < 0, "the test has another child");
	pass();
	return test_result();
}
