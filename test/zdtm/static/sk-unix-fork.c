/* sk-unix-fork: a stream socketpair and a dgram socketpair made before fork are shared by the
 * parent and a child, with data queued both ways; after restore both tasks still use the same
 * sockets (what one sends the other receives). */
#include "zdtmtst.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static int got_msg(int sk, const char *want)
{
	char buf[64] = { 0 };
	ssize_t n = recv(sk, buf, strlen(want), 0);
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n);
}

int main(int argc, char **argv)
{
	int st[2], dg[2], status;
	sigset_t none;
	pid_t kid;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg))
		setup_fail("socketpair");
	if (send(st[0], "to child", 8, 0) != 8 || send(dg[0], "dgram to child", 14, 0) != 14 ||
	    send(st[1], "to parent", 9, 0) != 9 || send(dg[1], "dgram to parent", 15, 0) != 15)
		setup_fail("send");
	kid = fork();
	if (kid < 0)
		setup_fail("fork");
	if (kid == 0) {
		int ok = 1;
		close(st[0]);
		close(dg[0]);
		sigemptyset(&none);
		while (!go)
			sigsuspend(&none);
		ok &= got_msg(st[1], "to child") && got_msg(dg[1], "dgram to child");
		ok &= send(st[1], "bye", 3, 0) == 3 && send(dg[1], "dgram bye", 9, 0) == 9;
		_exit(ok ? 0 : 1);
	}

	test_daemon();
	test_waitsig();

	check(got_msg(st[0], "to parent") && got_msg(dg[0], "dgram to parent"), "data queued for the parent");
	kill(kid, SIGUSR1);
	check(waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child did not get its data (status %#x)", status);
	check(got_msg(st[0], "bye") && got_msg(dg[0], "dgram bye"), "the child's sockets are not the parent's peers");
	pass();
	return test_result();
}
