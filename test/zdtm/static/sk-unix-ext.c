/* sk-unix-ext: a dgram socket connected to a bound socket of a process outside the dumped tree
 * (--ext-unix-sk, given in sk-unix-ext.opts) is connected to it again at restore, as CRIU does.
 * The outside process (reparented to the runner) writes ext.ok when it hears from us after
 * the restore, and is killed by pid at the end. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void outsider(int sk, const char *ok_path)
{
	char buf[64];
	setsid(); /* our session id is the test's pid: give it back for the restore */
	alarm(120);
	for (;;) {
		ssize_t n = recv(sk, buf, sizeof(buf) - 1, 0);
		if (n == 5 && !memcmp(buf, "after", 5)) {
			close(open(ok_path, O_CREAT | O_WRONLY, 0644));
			for (;;)
				pause(); /* until killed by the test (or the alarm) */
		}
	}
}

int main(int argc, char **argv)
{
	char cwd[PATH_MAX - 16], path[PATH_MAX], ok_path[PATH_MAX];
	struct sockaddr_un a, got;
	socklen_t glen = sizeof(got);
	pid_t kid, helper = -1;
	int sk, p[2], st;

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)))
		setup_fail("getcwd");
	snprintf(path, sizeof(path), "%s/ext.sock", cwd);
	snprintf(ok_path, sizeof(ok_path), "%s/ext.ok", cwd);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path))
		setup_fail("%s: too long for a unix socket address", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (pipe(p))
		setup_fail("pipe");
	kid = fork();
	if (kid == 0) { /* binds, forks the outsider, exits: the outsider leaves our tree */
		int bsk = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bsk < 0 || bind(bsk, (struct sockaddr *)&a, sizeof(a)))
			_exit(1);
		pid_t o = fork();
		if (o == 0)
			outsider(bsk, ok_path);
		_exit(write(p[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	if (kid < 0 || waitpid(kid, &st, 0) != kid || st || read(p[0], &helper, sizeof(helper)) != sizeof(helper))
		setup_fail("outsider");
	close(p[0]);
	close(p[1]);
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&a, sizeof(a)) || send(sk, "before", 6, 0) != 6)
		setup_fail("connect to the outsider");

	test_daemon();
	test_waitsig();

	memset(&got, 0, sizeof(got));
	check(getpeername(sk, (struct sockaddr *)&got, &glen) == 0 && !strcmp(got.sun_path, path), "peer name");
	check(send(sk, "after", 5, 0) == 5, "send to the outsider");
	int heard = 0;
	for (int i = 0; i < 1000 && !heard; i++) {
		heard = access(ok_path, F_OK) == 0;
		if (!heard)
			usleep(10000);
	}
	check(heard, "the outsider did not hear from us");
	kill(helper, SIGKILL);
	pass();
	return test_result();
}
