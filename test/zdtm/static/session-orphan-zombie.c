/* session-orphan-zombie: zombies in a session whose leader has died (restore rebuilds it with a
 * helper task, which forks the zombie reparented to the subreaper).
 * The test is a child subreaper; child A calls setsid(), forks B (which forks Y, exiting with
 * 4: B's zombie) and Z (exiting with 7), then exits and is reaped: B and zombie Z are reparented
 * to the test. After restore Z is still the test's zombie, B's zombie is B's, both in session
 * and group A with their exit statuses, A's PID is free and no SIGCHLD came. */
#include "zdtmtst.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t nr_chld;

static void on_chld(int sig)
{
	(void)sig;
	nr_chld++;
}

static void on_usr1(int sig) { (void)sig; }

/* Field 4 (ppid) of /proc/PID/stat, and field 3 (state). */
static pid_t parent_of(pid_t pid, char *state)
{
	char path[64];
	int ppid = -1;
	char st = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%*d (%*[^)]) %c %d", &st, &ppid) != 2)
		ppid = -1;
	fclose(f);
	if (state)
		*state = st;
	return ppid;
}

/* A child that exits with code; a zombie once this returns. */
static pid_t zombie(int code)
{
	siginfo_t si;
	pid_t pid = fork();
	if (pid < 0)
		_exit(110);
	if (pid == 0)
		_exit(code);
	if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		_exit(111);
	return pid;
}

/* B: makes zombie Y, sends its pid, waits for SIGUSR1, then reaps Y and exits with its code. */
static void become_b(int fd)
{
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	pid_t y = zombie(4);
	if (write(fd, &y, sizeof(y)) != sizeof(y))
		_exit(102);
	sigsuspend(&old);
	int st;
	if (waitpid(y, &st, 0) != y || !WIFEXITED(st))
		_exit(104);
	_exit(WEXITSTATUS(st));
}

/* A: a session of its own, B and zombie Z forked in it; sends b, y, z and exits. */
static void become_a(int fd)
{
	pid_t byz[3];
	int q[2];
	if (setsid() < 0 || pipe(q))
		_exit(2);
	byz[0] = fork();
	if (byz[0] < 0)
		_exit(2);
	if (byz[0] == 0)
		become_b(q[1]);
	if (read(q[0], &byz[1], sizeof(byz[1])) != sizeof(byz[1]))
		_exit(2);
	byz[2] = zombie(7);
	if (write(fd, byz, sizeof(byz)) != sizeof(byz))
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	int p[2], subreaper = 0;
	pid_t byz[3];
	char state = 0;

	test_init(argc, argv);
	signal(SIGCHLD, on_chld);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(p))
		setup_fail("subreaper, pipe");
	pid_t a = fork();
	if (a < 0)
		setup_fail("fork");
	if (a == 0)
		become_a(p[1]);
	if (read(p[0], byz, sizeof(byz)) != sizeof(byz))
		setup_fail("a did not fork b, y and z");
	pid_t b = byz[0], y = byz[1], z = byz[2];
	if (waitpid(a, NULL, 0) != a)
		setup_fail("reap a");
	for (int i = 0; i < 1000 && (parent_of(b, NULL) != getpid() || parent_of(z, NULL) != getpid()); i++)
		usleep(1000);
	if (parent_of(b, NULL) != getpid() || parent_of(z, NULL) != getpid())
		setup_fail("b and z are not the test's children");
	int chld = nr_chld;

	test_daemon();
	test_waitsig();

	check(parent_of(b, NULL) == getpid(), "b (%d) is a child of %d", b, parent_of(b, NULL));
	check(parent_of(z, &state) == getpid() && state == 'Z', "z (%d) is a child of %d in state %c", z,
	      parent_of(z, NULL), state);
	check(parent_of(y, &state) == b && state == 'Z', "y (%d) is a child of %d in state %c", y,
	      parent_of(y, NULL), state);
	check(getsid(b) == a && getpgid(b) == a, "b (%d) is in session %d, group %d", b, getsid(b), getpgid(b));
	check(getsid(z) == a && getpgid(z) == a, "z (%d) is in session %d, group %d", z, getsid(z), getpgid(z));
	check(getsid(y) == a && getpgid(y) == a, "y (%d) is in session %d, group %d", y, getsid(y), getpgid(y));
	check(kill(a, 0) < 0 && errno == ESRCH, "PID %d (the dead leader's) is in use", a);
	check(nr_chld == chld, "%d SIGCHLD after the restore", nr_chld - chld);
	check(prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0 && subreaper == 1, "not a subreaper any more");
	int st;
	check(waitpid(z, &st, WNOHANG) == z && WIFEXITED(st) && WEXITSTATUS(st) == 7, "zombie z: status %#x", st);
	kill(b, SIGUSR1);
	check(waitpid(b, &st, 0) == b && WIFEXITED(st) && WEXITSTATUS(st) == 4,
	      "b found zombie y not as it was (status %#x)", st);
	check(waitpid(-1, NULL, WNOHANG) < 0, "the test has another child");
	pass();
	return test_result();
}
