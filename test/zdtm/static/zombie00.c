/* zombie00: children that have exited and were not waited for come back as zombies: the same
 * pids, names (comm), process group, and wait statuses (exit codes and deaths by signal), and
 * the parent gets no SIGCHLD it had not already received. */
#include "zdtmtst.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR 4

static volatile sig_atomic_t sigchld;
static void on_chld(int sig) { sigchld++; }

struct zombie {
	pid_t pid;
	int code;      /* exit code, or -signal */
	int own_group; /* the child made its own process group before exiting */
	int status;    /* the wait status it left */
};

static pid_t spawn(int i, const struct zombie *z)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid)
		return pid;
	char name[16];
	snprintf(name, sizeof(name), "zombie-%d", i);
	prctl(PR_SET_NAME, name);
	if (z->own_group)
		setpgid(0, 0);
	if (z->code >= 0)
		_exit(z->code);
	signal(-z->code, SIG_DFL);
	raise(-z->code);
	_exit(99);
}

/* "Z" state and comm from /proc/PID/stat. */
static int stat_of(pid_t pid, char *comm, size_t size, char *state, pid_t *pgid)
{
	char buf[512], path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close || (size_t)(close - open) > size)
		return -1;
	memcpy(comm, open + 1, close - open - 1);
	comm[close - open - 1] = 0;
	int ppid;
	return sscanf(close + 2, "%c %d %d", state, &ppid, pgid) == 3 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct zombie z[NR] = {{0, 0, 0}, {0, 42, 1}, {0, -SIGUSR1, 0}, {0, -SIGKILL, 0}};
	siginfo_t si;

	test_init(argc, argv);
	signal(SIGCHLD, on_chld);
	for (int i = 0; i < NR; i++)
		z[i].pid = spawn(i, &z[i]);
	for (int i = 0; i < NR; i++) /* every child is a zombie now, and stays one */
		if (waitid(P_PID, z[i].pid, &si, WEXITED | WNOWAIT))
			setup_fail("waitid %d", z[i].pid);
	while (sigchld == 0)
		usleep(1000);
	int chld_before = sigchld;

	test_daemon();
	test_waitsig();

	check(sigchld == chld_before, "SIGCHLD came %d times, %d before the checkpoint", sigchld, chld_before);
	for (int i = 0; i < NR; i++) {
		char comm[32], want[16], state = 0;
		pid_t pgid = 0;
		snprintf(want, sizeof(want), "zombie-%d", i);
		check(stat_of(z[i].pid, comm, sizeof(comm), &state, &pgid) == 0, "no /proc/%d/stat", z[i].pid);
		check(state == 'Z', "child %d is in state %c, not a zombie", z[i].pid, state);
		check(!strcmp(comm, want), "child %d is called '%s', not '%s'", z[i].pid, comm, want);
		check(pgid == (z[i].own_group ? z[i].pid : getpgrp()), "child %d is in group %d", z[i].pid, pgid);
		int st;
		check(waitpid(z[i].pid, &st, WNOHANG) == z[i].pid, "child %d can't be waited for", z[i].pid);
		if (z[i].code >= 0)
			check(WIFEXITED(st) && WEXITSTATUS(st) == z[i].code, "child %d: status %#x, want exit %d",
			      z[i].pid, st, z[i].code);
		else
			check(WIFSIGNALED(st) && WTERMSIG(st) == -z[i].code && !WCOREDUMP(st),
			      "child %d: status %#x, want signal %d", z[i].pid, st, -z[i].code);
	}
	check(waitpid(-1, NULL, WNOHANG) < 0, "a child is left");
	pass();
	return test_result();
}
