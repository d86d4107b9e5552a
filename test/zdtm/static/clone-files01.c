/* clone-files01: siblings A and B share an fd table and fs their parent does not: the test
 * makes both with clone(CLONE_FILES | CLONE_FS), then takes its own (unshare), opens fd 50 and
 * sets umask 077; A opens fd 60 and B fd 61 in theirs. After restore kcmp says A and B share one
 * table and fs and the test has others, each table holds its fds and no other (criu left none
 * of its own), and an fd A opens and the umask A sets after restore are B's too. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static bool same_table(pid_t a, pid_t b) { return syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0) == 0; }
static bool same_fs(pid_t a, pid_t b) { return syscall(SYS_kcmp, a, b, KCMP_FS, 0, 0) == 0; }

/* A new file holding text, at fd `at`. */
static bool open_at(const char *path, const char *text, int at)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text) || dup2(fd, at) != at)
		return false;
	close(fd);
	return true;
}

static void wait_go(void)
{
	sigset_t none;
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

/* A: opens fd 60, then after restore checks its table and opens fd 62 (for B). */
static int a_body(int ready)
{
	if (!open_at("clone-files01.a", "a", 60) || write(ready, "a", 1) != 1)
		return 2;
	wait_go();
	unsigned long long fds = test_open_fds();
	bool ok = !same_table(getpid(), getppid()) && test_fd_holds(60, "a") && fcntl(50, F_GETFD) < 0;
	ok &= (fds & (1ull << 60)) && (fds & (1ull << 61));
	ok &= open_at("clone-files01.a2", "a2", 62);
	ok &= umask(027) == 022;
	return ok ? 0 : 1;
}

/* B: opens fd 61, then after restore checks its table is A's (with fd 62, which A opened just
 * before it exited: kcmp has no table of a dead task to compare with). */
static int b_body(int ready, unsigned long long fds_a)
{
	if (!open_at("clone-files01.b", "b", 61) || write(ready, "b", 1) != 1)
		return 2;
	wait_go();
	bool ok = !same_table(getpid(), getppid());
	ok &= test_fd_holds(60, "a") && test_fd_holds(61, "b") && test_fd_holds(62, "a2") && fcntl(50, F_GETFD) < 0;
	ok &= test_open_fds() == (fds_a | (1ull << 62));
	ok &= umask(0) == 027;
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	int ready[2], st;
	char c;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	umask(022);
	if (pipe(ready))
		setup_fail("pipe");
	pid_t a = syscall(SYS_clone, CLONE_FILES | CLONE_FS | SIGCHLD, 0, 0, 0, 0);
	if (a < 0)
		setup_fail("clone(CLONE_FILES)");
	if (a == 0)
		_exit(a_body(ready[1]));
	if (read(ready[0], &c, 1) != 1)
		setup_fail("a did not start");
	unsigned long long fds_a = test_open_fds(); /* the table A and B share, after B opens 61 */
	pid_t b = syscall(SYS_clone, CLONE_FILES | CLONE_FS | SIGCHLD, 0, 0, 0, 0);
	if (b < 0)
		setup_fail("clone(CLONE_FILES)");
	if (b == 0)
		_exit(b_body(ready[1], fds_a | (1ull << 61)));
	if (read(ready[0], &c, 1) != 1)
		setup_fail("b did not start");
	if (unshare(CLONE_FILES | CLONE_FS) || !open_at("clone-files01.parent", "parent", 50) || close(60) ||
	    close(61))
		setup_fail("a table of our own");
	umask(077);
	if (same_table(getpid(), a) || !same_table(a, b) || same_fs(getpid(), a) || !same_fs(a, b))
		setup_fail("the tables are not as planned");
	unsigned long long fds = test_open_fds();

	test_daemon();
	test_waitsig();

	check(test_open_fds() == fds, "open fds %#llx, want %#llx (criu's left behind?)", test_open_fds(), fds);
	check(!same_table(getpid(), a), "the test shares its fd table with a (%d)", a);
	check(same_table(a, b), "a (%d) and b (%d) do not share their fd table", a, b);
	check(!same_fs(getpid(), a), "the test shares its fs with a (%d)", a);
	check(same_fs(a, b), "a (%d) and b (%d) do not share their fs", a, b);
	check(umask(077) == 077, "the test's umask changed");
	check(test_fd_holds(50, "parent") && fcntl(60, F_GETFD) < 0, "the test's fd 50 lost its file, or it has fd 60");
	kill(a, SIGUSR1);
	check(waitpid(a, &st, 0) == a && WIFEXITED(st) && WEXITSTATUS(st) == 0, "a failed its checks (%#x)", st);
	kill(b, SIGUSR1);
	check(waitpid(b, &st, 0) == b && WIFEXITED(st) && WEXITSTATUS(st) == 0, "b failed its checks (%#x)", st);
	unlink("clone-files01.a");
	unlink("clone-files01.a2");
	unlink("clone-files01.b");
	unlink("clone-files01.parent");
	pass();
	return test_result();
}
