/* session-two-parents: members of one session under two parents outside it. The test is a
 * child subreaper in a session of its own. Child A calls setsid() and forks Y, which forks M2
 * and then leaves the session by setsid(); A forks M1 and exits: Y and M1 are reparented to the
 * test, so session A (whose leader has died) has children of the test and of Y. Child W of the
 * test forks V in the test's session, then leaves it by setsid() too. After restore every task
 * has its parent, session and group, and A's PID is free. */
#include "zdtmtst.h"

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Forks an idle child, then leaves the session (setsid); sends the child's pid on fd. */
static void fork_and_leave(int fd)
{
	pid_t c = fork();
	if (c < 0)
		_exit(2);
	if (c == 0)
		idle();
	if (setsid() < 0 || write(fd, &c, sizeof(c)) != sizeof(c))
		_exit(2);
	idle();
}

/* A: a session of its own; forks Y (which forks M2 and leaves) and M1; sends y, m2, m1; exits. */
static void become_a(int fd)
{
	pid_t pids[3];
	int q[2];
	if (setsid() < 0 || pipe(q))
		_exit(2);
	pids[0] = fork();
	if (pids[0] < 0)
		_exit(2);
	if (pids[0] == 0)
		fork_and_leave(q[1]);
	if (read(q[0], &pids[1], sizeof(pids[1])) != sizeof(pids[1]))
		_exit(2);
	pids[2] = fork();
	if (pids[2] < 0)
		_exit(2);
	if (pids[2] == 0)
		idle();
	if (write(fd, pids, sizeof(pids)) != sizeof(pids))
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	int p[2];
	pid_t pids[3], v;

	test_init(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(p))
		setup_fail("subreaper, pipe");
	pid_t me = getpid(), sid = getsid(0);
	pid_t a = fork();
	if (a < 0)
		setup_fail("fork");
	if (a == 0)
		become_a(p[1]);
	if (read(p[0], pids, sizeof(pids)) != sizeof(pids))
		setup_fail("a did not fork its children");
	pid_t y = pids[0], m2 = pids[1], m1 = pids[2];
	if (waitpid(a, NULL, 0) != a)
		setup_fail("reap a");
	pid_t w = fork();
	if (w < 0)
		setup_fail("fork");
	if (w == 0)
		fork_and_leave(p[1]);
	if (read(p[0], &v, sizeof(v)) != sizeof(v))
		setup_fail("w did not fork v");
	for (int i = 0; i < 1000 && (parent_of(y) != me || parent_of(m1) != me); i++)
		usleep(1000);
	if (parent_of(y) != me || parent_of(m1) != me || getsid(m2) != a || getsid(y) != y)
		setup_fail("the tree is not as planned");

	test_daemon();
	test_waitsig();

	check(parent_of(y) == me && parent_of(m1) == me, "y (%d) and m1 (%d) are children of %d, %d", y, m1,
	      parent_of(y), parent_of(m1));
	check(parent_of(m2) == y, "m2 (%d) is a child of %d, not %d", m2, parent_of(m2), y);
	check(parent_of(v) == w && parent_of(w) == me, "v (%d) is a child of %d, w of %d", v, parent_of(v),
	      parent_of(w));
	check(getsid(m1) == a && getpgid(m1) == a, "m1 (%d) is in session %d, group %d", m1, getsid(m1), getpgid(m1));
	check(getsid(m2) == a && getpgid(m2) == a, "m2 (%d) is in session %d, group %d", m2, getsid(m2), getpgid(m2));
	check(getsid(y) == y && getpgid(y) == y, "y (%d) is in session %d, group %d", y, getsid(y), getpgid(y));
	check(getsid(w) == w && getpgid(w) == w, "w (%d) is in session %d, group %d", w, getsid(w), getpgid(w));
	check(getsid(v) == sid && getpgid(v) == getpgrp(), "v (%d) is in session %d, group %d", v, getsid(v),
	      getpgid(v));
	check(kill(a, 0) < 0 && errno == ESRCH, "PID %d (the dead leader's) is in use", a);
	check(waitpid(-1, NULL, WNOHANG) == 0, "the test has a zombie child");
	pid_t all[] = {m2, v, y, m1, w};
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		kill(all[i], SIGKILL);
	check(waitpid(y, NULL, 0) == y && waitpid(m1, NULL, 0) == m1 && waitpid(w, NULL, 0) == w, "children lost");
	for (int i = 0; i < 2; i++) /* m2 and v come back to the subreaper */
		check(waitpid(-1, NULL, 0) > 0, "m2 or v did not come back");
	pass();
	return test_result();
}
