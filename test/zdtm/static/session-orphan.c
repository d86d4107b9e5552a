/* session-orphan: a session whose leader has died (restore rebuilds it with a helper task).
 * The test is a child subreaper; child A calls setsid() and forks B (in A's session and group),
 * which forks C, then A exits and is reaped: B is reparented to the test. After restore B is
 * still the test's child in session A and group A, C is B's child in them, A's PID is free, the
 * test is still a subreaper and got no SIGCHLD. */
#include "zdtmtst.h"

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t nr_chld;

static void on_chld(int sig)
{
	(void)sig;
	nr_chld++;
}

/* Field 4 (ppid) of /proc/PID/stat. */
static pid_t parent_of(pid_t pid)
{
	char path[64];
	int ppid = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

static void idle(void)
{
	for (;;)
		pause();
}

/* A: a session of its own, B forked in it, C forked by B; A exits once their pids are sent. */
static void become_a(int fd)
{
	pid_t bc[2];
	int q[2];
	if (setsid() < 0 || pipe(q))
		_exit(2);
	bc[0] = fork();
	if (bc[0] < 0)
		_exit(2);
	if (bc[0] == 0) {
		pid_t c = fork();
		if (c == 0)
			idle();
		if (c < 0 || write(q[1], &c, sizeof(c)) != sizeof(c))
			_exit(2);
		idle();
	}
	if (read(q[0], &bc[1], sizeof(bc[1])) != sizeof(bc[1]) || write(fd, bc, sizeof(bc)) != sizeof(bc))
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	int p[2], subreaper = 0;
	pid_t bc[2];

	test_init(argc, argv);
	signal(SIGCHLD, on_chld);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(p))
		setup_fail("subreaper, pipe");
	pid_t a = fork();
	if (a < 0)
		setup_fail("fork");
	if (a == 0)
		become_a(p[1]);
	if (read(p[0], bc, sizeof(bc)) != sizeof(bc))
		setup_fail("a did not fork b and c");
	pid_t b = bc[0], c = bc[1];
	if (waitpid(a, NULL, 0) != a)
		setup_fail("reap a");
	for (int i = 0; i < 1000 && parent_of(b) != getpid(); i++)
		usleep(1000);
	if (parent_of(b) != getpid() || getsid(b) != a || getpgid(b) != a)
		setup_fail("b is not the test's child in session and group %d", a);
	int chld = nr_chld;

	test_daemon();
	test_waitsig();

	check(parent_of(b) == getpid(), "b (%d) is a child of %d", b, parent_of(b));
	check(getsid(b) == a, "b (%d) is in session %d, not %d", b, getsid(b), a);
	check(getpgid(b) == a, "b (%d) is in group %d, not %d", b, getpgid(b), a);
	check(parent_of(c) == b, "c (%d) is a child of %d, not %d", c, parent_of(c), b);
	check(getsid(c) == a && getpgid(c) == a, "c (%d) is in session %d, group %d", c, getsid(c), getpgid(c));
	check(kill(a, 0) < 0 && errno == ESRCH, "PID %d (the dead leader's) is in use", a);
	check(nr_chld == chld, "%d SIGCHLD after the restore", nr_chld - chld);
	check(waitpid(-1, NULL, WNOHANG) == 0, "the test has a zombie child");
	check(prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0 && subreaper == 1, "not a subreaper any more");
	check(getsid(0) == getpid(), "the test is in session %d", getsid(0));
	kill(c, SIGKILL);
	kill(b, SIGKILL);
	check(waitpid(b, NULL, 0) == b, "b is missing");
	check(waitpid(c, NULL, 0) == c, "c did not come back to the subreaper");
	pass();
	return test_result();
}
