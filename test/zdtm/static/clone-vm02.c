/* clone-vm02: a child made with clone(CLONE_VM | CLONE_SIGHAND | CLONE_FS | SIGCHLD) shares the
 * parent's memory, signal handlers and fs but has an fd table of its own: at fd 10 the parent
 * has its file and the child another, fd 20 is only the child's, fd 30 only the parent's (with
 * FD_CLOEXEC), and both hold the pipe the parent made before the clone. After restore kcmp says
 * the tables are two and the rest one, each table holds exactly the fds it held (criu left
 * none of its own), each fd its file and flags, and the child's write reaches the parent
 * through the pipe. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK (256 * 1024)

enum { CMD_NONE, CMD_REPORT, CMD_EXIT };

static struct {
	volatile uint64_t counter;
	volatile int ready, cmd, done;
	volatile unsigned long long fds_before, fds_after;
	volatile int fd10_child, fd20_child, fd30_absent;
} shared;

static int pipefd[2];

static bool same(pid_t a, pid_t b, int type) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 0; }

static int open_new(const char *path, const char *text)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0 && pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text))
		return -1;
	return fd;
}

/* The child: only raw system calls and glibc's thin wrappers (it runs on the parent's TLS). */
static int child_fn(void *arg)
{
	struct timespec ms = {0, 1000000};
	int fd = open_new("clone-vm02.child", "child");

	if (fd < 0 || dup2(fd, 20) != 20 || dup2(fd, 10) != 10)
		syscall(SYS_exit, 2);
	close(fd);
	shared.fds_before = test_open_fds();
	__atomic_store_n(&shared.ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		shared.counter++;
		if (shared.cmd == CMD_REPORT && !shared.done) {
			shared.fds_after = test_open_fds();
			shared.fd10_child = test_fd_holds(10, "child");
			shared.fd20_child = test_fd_holds(20, "child");
			shared.fd30_absent = fcntl(30, F_GETFD) < 0;
			if (write(pipefd[1], "x", 1) != 1)
				shared.fd30_absent = 0;
			__atomic_store_n(&shared.done, 1, __ATOMIC_SEQ_CST);
		}
		if (shared.cmd == CMD_EXIT)
			syscall(SYS_exit, 42);
		syscall(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

static bool wait_flag(volatile int *flag)
{
	for (int i = 0; i < 5000 && !__atomic_load_n(flag, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	return *flag;
}

int main(int argc, char **argv)
{
	int st = 0;
	char c = 0;

	test_init(argc, argv);
	int fd = open_new("clone-vm02.parent", "parent");
	if (fd < 0 || dup2(fd, 10) != 10 || close(fd) || pipe(pipefd))
		setup_fail("files");
	char *stack = malloc(STACK);
	pid_t kid = stack ? clone(child_fn, stack + STACK, CLONE_VM | CLONE_SIGHAND | CLONE_FS | SIGCHLD, NULL) : -1;
	if (kid < 0 || !wait_flag(&shared.ready))
		setup_fail("clone(CLONE_VM | CLONE_SIGHAND | CLONE_FS)");
	fd = open_new("clone-vm02.parent-only", "parent-only");
	if (fd < 0 || dup2(fd, 30) != 30 || close(fd) || fcntl(30, F_SETFD, FD_CLOEXEC))
		setup_fail("fd 30");
	unsigned long long fds = test_open_fds();

	test_daemon();
	test_waitsig();

	check(same(getpid(), kid, KCMP_VM) && same(getpid(), kid, KCMP_SIGHAND) && same(getpid(), kid, KCMP_FS),
	      "memory, handlers or fs not shared with child %d any more", kid);
	check(!same(getpid(), kid, KCMP_FILES), "the child %d has the parent's fd table", kid);
	check(test_open_fds() == fds, "open fds %#llx, want %#llx", test_open_fds(), fds);
	check(test_fd_holds(10, "parent"), "the parent's fd 10 lost its file");
	check(test_fd_holds(30, "parent-only") && fcntl(30, F_GETFD) == FD_CLOEXEC, "the parent's fd 30 lost its file or flags");
	__atomic_store_n(&shared.cmd, CMD_REPORT, __ATOMIC_SEQ_CST);
	check(wait_flag(&shared.done), "the child did not answer");
	check(shared.fds_after == shared.fds_before, "the child's open fds %#llx, want %#llx", shared.fds_after,
	      shared.fds_before);
	check(shared.fd10_child && shared.fd20_child, "the child's fds 10 and 20 lost their file");
	check(shared.fd30_absent, "the child has the parent's fd 30 (or can't write to the pipe)");
	check(read(pipefd[0], &c, 1) == 1 && c == 'x', "the child's write did not come through the pipe");

	__atomic_store_n(&shared.cmd, CMD_EXIT, __ATOMIC_SEQ_CST);
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 42,
	      "child %d ended with status %#x, want exit 42", kid, st);
	unlink("clone-vm02.child");
	unlink("clone-vm02.parent");
	unlink("clone-vm02.parent-only");
	pass();
	return test_result();
}
