/* pty-siblings: the root opens a pty (raw), forks A, B and X (which forks C, then closes the
 * slave) with the slave open, and closes its slave: A, B and the cousin C hold the one open file
 * of the slave, the root keeps the master. After restore their slave fds are the same open file
 * (kcmp), the O_NONBLOCK A sets is B's and C's too, and what the master writes B reads. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

enum { A, B, X, C, NR };

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static int master, slave;

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

/* role A: sets O_NONBLOCK; B: sees it and reads "hi"; C: sees it. */
static int body(int role)
{
	struct pollfd pfd = {.fd = slave, .events = POLLIN};
	char buf[8];
	int ok = 1;

	wait_go();
	if (role == A)
		return fcntl(slave, F_SETFL, O_RDWR | O_NONBLOCK) == 0 ? 0 : 1;
	ok &= (fcntl(slave, F_GETFL) & O_NONBLOCK) != 0;
	if (role == B)
		ok &= poll(&pfd, 1, 5000) == 1 && read(slave, buf, sizeof(buf)) == 2 && !memcmp(buf, "hi", 2);
	return ok ? 0 : 1;
}

static pid_t spawn(int role, int report)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid)
		return pid;
	close(master);
	if (role == X) { /* forks C, then closes the slave */
		pid_t kid = spawn(C, -1);
		if (write(report, &kid, sizeof(kid)) != sizeof(kid))
			_exit(2);
		close(slave);
		wait_go();
		_exit(run_kid(kid));
	}
	_exit(body(role));
}

int main(int argc, char **argv)
{
	struct termios tio;
	pid_t pids[NR];
	int rep[2];

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		setup_fail("posix_openpt");
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &tio) || pipe(rep))
		setup_fail("open %s", ptsname(master));
	cfmakeraw(&tio);
	if (tcsetattr(slave, TCSANOW, &tio))
		setup_fail("tcsetattr");
	pids[A] = spawn(A, -1);
	pids[B] = spawn(B, -1);
	pids[X] = spawn(X, rep[1]);
	if (read(rep[0], &pids[C], sizeof(pid_t)) != sizeof(pid_t))
		setup_fail("grandchild's pid");
	if (close(slave))
		setup_fail("close");
	usleep(100 * 1000); /* let X close its slave */

	test_daemon();
	test_waitsig();

	check(fcntl(slave, F_GETFD) < 0, "the root holds the slave at fd %d again", slave);
	check(syscall(SYS_kcmp, pids[A], pids[B], KCMP_FILE, slave, slave) == 0, "B's slave is not A's: %m");
	check(syscall(SYS_kcmp, pids[A], pids[C], KCMP_FILE, slave, slave) == 0, "C's slave is not A's: %m");
	check(syscall(SYS_kcmp, pids[X], pids[X], KCMP_FILE, slave, slave) < 0, "X holds the slave again");
	check(run_kid(pids[A]) == 0, "A could not set O_NONBLOCK");
	check(write(master, "hi", 2) == 2, "write to the master");
	check(run_kid(pids[B]) == 0, "B does not share A's slave (flags) or did not read what the master wrote");
	check(run_kid(pids[X]) == 0, "C does not share A's slave (flags)");
	pass();
	return test_result();
}
