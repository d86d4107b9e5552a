/* clone-fs00: a child made with clone(CLONE_FS) shares its parent's cwd and umask: a chdir or
 * umask of one is the other's, before the checkpoint and after restore, and kcmp says the two
 * share one fs. */
#include "zdtmtst.h"

#include <limits.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static bool same_fs(pid_t a, pid_t b) { return syscall(SYS_kcmp, a, b, KCMP_FS, 0, 0) == 0; }

static mode_t get_umask(void)
{
	mode_t m = umask(0);
	umask(m);
	return m;
}

/* The cwd is dir below start (start itself for NULL). */
static bool in_dir(const char *start, const char *dir)
{
	char cur[PATH_MAX], want[PATH_MAX];
	snprintf(want, sizeof(want), dir ? "%s/%s" : "%s", start, dir);
	return getcwd(cur, sizeof(cur)) && !strcmp(cur, want);
}

/* The child: moves both into a, waits for the restore, checks the parent's move into b and
 * its umask, then moves both back to the start with umask 066. */
static int child_body(const char *start, int to_parent)
{
	sigset_t none;
	umask(0022);
	if (chdir("clone-fs00.a") || write(to_parent, "c", 1) != 1)
		return 2;
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
	int ok = same_fs(getpid(), getppid()) && in_dir(start, "clone-fs00.b") && get_umask() == 0027;
	ok &= chdir("..") == 0;
	umask(0066);
	ok &= write(to_parent, "d", 1) == 1;
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	char start[PATH_MAX], c;
	int up[2], st;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	if (!getcwd(start, sizeof(start)) || mkdir("clone-fs00.a", 0755) || mkdir("clone-fs00.b", 0755) ||
	    pipe(up))
		setup_fail("setup");
	umask(0077);
	pid_t kid = syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
	if (kid < 0)
		setup_fail("clone(CLONE_FS)");
	if (kid == 0)
		_exit(child_body(start, up[1]));
	if (read(up[0], &c, 1) != 1 || !in_dir(start, "clone-fs00.a"))
		setup_fail("the child's chdir is not ours");
	if (get_umask() != 0022)
		setup_fail("the child's umask is not ours");

	test_daemon();
	test_waitsig();

	check(same_fs(getpid(), kid), "the fs is not shared with child %d any more", kid);
	check(in_dir(start, "clone-fs00.a"), "the cwd is not clone-fs00.a any more");
	check(get_umask() == 0022, "umask %#o, want 022", get_umask());
	check(chdir("../clone-fs00.b") == 0, "chdir");
	umask(0027);
	kill(kid, SIGUSR1);
	check(read(up[0], &c, 1) == 1, "the child did not answer");
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child %d failed its checks (status %#x)", kid, st);
	check(in_dir(start, NULL), "the child's chdir after restore is not ours");
	check(get_umask() == 0066, "umask %#o after the child's umask(066)", get_umask());
	chdir(start);
	rmdir("clone-fs00.a");
	rmdir("clone-fs00.b");
	pass();
	return test_result();
}
