/* fork00: a process tree — two children, one a session leader, and a grandchild leading its
 * own process group — comes back with every pid, ppid, pgid and sid, each task's memory, and
 * one open file whose offset all of them share. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF (64 * 1024)

struct ids {
	pid_t pid, ppid, pgid, sid;
};

static struct ids ids_now(void)
{
	struct ids i = { getpid(), getppid(), getpgrp(), getsid(0) };
	return i;
}

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

/* Child side: waits for SIGUSR1, checks itself, appends its tag to the shared file, then lets
 * its own child (if any) do the same; exits 0 when everything held. */
static int child_body(int fd, int seed, pid_t kid, const char *tag)
{
	struct ids before = ids_now();
	uint8_t *buf = malloc(BUF);
	sigset_t none;
	int ok = 1, st;

	fill_pattern(buf, BUF, seed);
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
	struct ids after = ids_now();
	ok &= memcmp(&before, &after, sizeof(before)) == 0;
	ok &= check_pattern(buf, BUF, seed) < 0;
	ok &= write(fd, tag, 1) == 1;
	if (kid > 0) {
		kill(kid, SIGUSR1);
		ok &= waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	return ok ? 0 : 1;
}

static pid_t spawn(int fd, int seed, const char *tag, int session, int group, int with_kid)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid)
		return pid;
	if ((session && setsid() < 0) || (group && setpgid(0, 0) < 0))
		_exit(2);
	pid_t kid = with_kid ? spawn(fd, seed + 10, "g", 0, 1, 0) : 0;
	_exit(child_body(fd, seed, kid, tag));
}

int main(int argc, char **argv)
{
	char path[] = "fork00.shared";
	struct ids before;
	pid_t kids[2];
	char got[16] = {0};
	int fd, st;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "root", 4) != 4)
		setup_fail("shared file");
	kids[0] = spawn(fd, 1, "a", 0, 0, 1); /* with a grandchild leading its own group */
	kids[1] = spawn(fd, 2, "b", 1, 0, 0); /* a session leader */
	before = ids_now();
	usleep(100 * 1000); /* let the children set up */

	test_daemon();
	test_waitsig();

	struct ids after = ids_now();
	check(memcmp(&before, &after, sizeof(before)) == 0, "root ids changed");
	for (int i = 0; i < 2; i++) {
		kill(kids[i], SIGUSR1);
		check(waitpid(kids[i], &st, 0) == kids[i], "child %d is not our child", kids[i]);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed its checks (status %#x)", kids[i], st);
	}
	check(lseek(fd, 0, SEEK_CUR) == 7, "shared offset %ld, want 7 (not shared?)", (long)lseek(fd, 0, SEEK_CUR));
	check(pread(fd, got, sizeof(got) - 1, 0) == 7 && strcmp(got, "rootagb") == 0, "shared file holds '%s'", got);
	unlink(path);
	pass();
	return test_result();
}
