/* clone-files00: a child made with clone(CLONE_FILES), and its own child made the same way,
 * share the root's fd table: an fd one of them opens is the others' too, before the checkpoint
 * and after restore, kcmp says the tables are one, and criu left none of its fds in it. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static bool same_table(pid_t a, pid_t b) { return syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0) == 0; }

/* A new fd of a new file holding text. */
static int open_new(const char *path, const char *text)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0 && pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text))
		return -1;
	return fd;
}

static void wait_go(void)
{
	sigset_t none;
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

/* The grandchild, made by the child with clone(CLONE_FILES) too: the table is the root's
 * (kcmp), and fd 100, which the child makes after restore, is its own. */
static int grandchild_body(pid_t root)
{
	wait_go();
	return same_table(getpid(), getppid()) && same_table(getpid(), root) && test_fd_holds(100, "child2") ? 0 : 1;
}

/* The child: makes the grandchild, opens a file the parent must see, waits for the restore,
 * then checks the fd the parent opened after it and opens one more for the parent (at fd 100
 * too, for the grandchild). */
static int child_body(int to_parent, int from_parent)
{
	pid_t root = getppid(), kid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (kid == 0)
		_exit(grandchild_body(root));
	int fd = open_new("clone-files00.child", "child"), st;
	if (kid < 0 || fd < 0 || write(to_parent, &fd, sizeof(fd)) != sizeof(fd))
		return 2;
	wait_go();
	int ok = same_table(getpid(), getppid());
	int pfd;
	ok &= read(from_parent, &pfd, sizeof(pfd)) == sizeof(pfd) && test_fd_holds(pfd, "parent");
	int fd2 = open_new("clone-files00.child2", "child2");
	ok &= fd2 >= 0 && dup2(fd2, 100) == 100 && write(to_parent, &fd2, sizeof(fd2)) == sizeof(fd2);
	kill(kid, SIGUSR1);
	ok &= waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	int up[2], down[2], cfd = -1, st;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	if (pipe(up) || pipe(down))
		setup_fail("pipe");
	pid_t kid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (kid < 0)
		setup_fail("clone(CLONE_FILES)");
	if (kid == 0)
		_exit(child_body(up[1], down[0]));
	if (read(up[0], &cfd, sizeof(cfd)) != sizeof(cfd) || !test_fd_holds(cfd, "child"))
		setup_fail("the child's fd %d is not ours", cfd);
	unsigned long long fds = test_open_fds();

	test_daemon();
	test_waitsig();

	check(test_open_fds() == fds, "open fds %#llx, want %#llx (criu's left behind?)", test_open_fds(), fds);

	check(same_table(getpid(), kid), "the fd table is not shared with child %d any more", kid);
	check(test_fd_holds(cfd, "child"), "the child's fd %d lost its file", cfd);
	int pfd = open_new("clone-files00.parent", "parent");
	check(pfd >= 0 && write(down[1], &pfd, sizeof(pfd)) == sizeof(pfd), "can't open a new fd");
	kill(kid, SIGUSR1);
	int cfd2 = -1;
	check(read(up[0], &cfd2, sizeof(cfd2)) == sizeof(cfd2) && test_fd_holds(cfd2, "child2"),
	      "the fd %d the child opened after restore is not ours", cfd2);
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child %d failed its checks (status %#x)", kid, st);
	unlink("clone-files00.child");
	unlink("clone-files00.child2");
	unlink("clone-files00.parent");
	pass();
	return test_result();
}
