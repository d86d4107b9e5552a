/* pgrp-order: process groups whose leader is forked after a member: child A joins the group of
 * its younger sibling B, and child E the group of a zombie sibling Z (zombies come back after
 * the live tasks). Every task is back in its group. */
#include "zdtmtst.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn(int lead, int die)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid)
		return pid;
	if (lead && setpgid(0, 0))
		_exit(2);
	if (die)
		_exit(7);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	siginfo_t si;

	test_init(argc, argv);
	pid_t a = spawn(0, 0), b = spawn(1, 0), z = spawn(1, 1), e = spawn(0, 0);
	if (setpgid(b, b) && getpgid(b) != b)
		setup_fail("group of b");
	if (waitid(P_PID, z, &si, WEXITED | WNOWAIT))
		setup_fail("zombie");
	if (setpgid(a, b) || setpgid(e, z))
		setup_fail("setpgid");

	test_daemon();
	test_waitsig();

	check(getpgid(a) == b, "a (%d) is in group %d, not %d", a, getpgid(a), b);
	check(getpgid(b) == b, "b (%d) is in group %d", b, getpgid(b));
	check(getpgid(e) == z, "e (%d) is in group %d, not the zombie's %d", e, getpgid(e), z);
	check(getpgid(z) == z, "zombie %d is in group %d", z, getpgid(z));
	check(getpgrp() == getpid(), "the parent is in group %d", getpgrp());
	pid_t kids[] = {a, b, e};
	for (int i = 0; i < 3; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < 4; i++)
		check(wait(NULL) > 0, "a child is missing");
	pass();
	return test_result();
}
