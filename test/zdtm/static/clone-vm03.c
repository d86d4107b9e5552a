/* clone-vm03: a child made with clone(CLONE_VM | CLONE_SIGHAND | CLONE_FILES | SIGCHLD) shares
 * the parent's memory, signal handlers and fd table but has an fs of its own: it works in a
 * subdirectory with umask 077 while the parent stays in the test's directory with its umask.
 * After restore kcmp says the fs are two and the rest one, each has its cwd and umask, and a
 * file the child creates by a relative path lands in its directory with its umask. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK (256 * 1024)
#define DIRNAME "clone-vm03.dir"

enum { CMD_NONE, CMD_REPORT, CMD_EXIT };

static struct {
	volatile uint64_t counter;
	volatile int ready, cmd, done;
	char cwd[PATH_MAX];
	volatile int umask;
	volatile int created;
} shared;

static bool same(pid_t a, pid_t b, int type) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 0; }

/* The child: only raw system calls (it runs on the parent's TLS). */
static int child_fn(void *arg)
{
	struct timespec ms = {0, 1000000};

	if (syscall(SYS_chdir, DIRNAME) || syscall(SYS_umask, 077) < 0)
		syscall(SYS_exit, 2);
	__atomic_store_n(&shared.ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		shared.counter++;
		if (shared.cmd == CMD_REPORT && !shared.done) {
			if (syscall(SYS_getcwd, shared.cwd, sizeof(shared.cwd)) < 0)
				shared.cwd[0] = 0;
			shared.umask = syscall(SYS_umask, 077);
			long fd = syscall(SYS_openat, AT_FDCWD, "child.txt", O_CREAT | O_WRONLY, 0666);
			shared.created = fd >= 0 && syscall(SYS_close, fd) == 0;
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
	char cwd[PATH_MAX], want[PATH_MAX + 32], now[PATH_MAX];
	struct stat st;
	int status = 0;

	test_init(argc, argv);
	umask(022);
	if (!getcwd(cwd, sizeof(cwd)) || mkdir(DIRNAME, 0755))
		setup_fail("mkdir");
	char *stack = malloc(STACK);
	pid_t kid = stack ? clone(child_fn, stack + STACK, CLONE_VM | CLONE_SIGHAND | CLONE_FILES | SIGCHLD, NULL) : -1;
	if (kid < 0 || !wait_flag(&shared.ready))
		setup_fail("clone(CLONE_VM | CLONE_SIGHAND | CLONE_FILES)");

	test_daemon();
	test_waitsig();

	check(same(getpid(), kid, KCMP_VM) && same(getpid(), kid, KCMP_SIGHAND) && same(getpid(), kid, KCMP_FILES),
	      "memory, handlers or fd table not shared with child %d any more", kid);
	check(!same(getpid(), kid, KCMP_FS), "the child %d has the parent's fs", kid);
	check(getcwd(now, sizeof(now)) && !strcmp(now, cwd), "the parent's cwd is %s, want %s", now, cwd);
	mode_t mine = umask(022);
	check(mine == 022, "the parent's umask is %#o, want 022", mine);
	__atomic_store_n(&shared.cmd, CMD_REPORT, __ATOMIC_SEQ_CST);
	check(wait_flag(&shared.done), "the child did not answer");
	snprintf(want, sizeof(want), "%s/" DIRNAME, cwd);
	check(!strcmp(shared.cwd, want), "the child's cwd is %s, want %s", shared.cwd, want);
	check(shared.umask == 077, "the child's umask is %#o, want 077", shared.umask);
	check(shared.created && stat(DIRNAME "/child.txt", &st) == 0 && (st.st_mode & 0777) == 0600,
	      "the child's file is not in its directory with mode 0600");

	__atomic_store_n(&shared.cmd, CMD_EXIT, __ATOMIC_SEQ_CST);
	check(waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 42,
	      "child %d ended with status %#x, want exit 42", kid, status);
	unlink(DIRNAME "/child.txt");
	rmdir(DIRNAME);
	pass();
	return test_result();
}
