/* sk-unix-scm03: inet sockets in flight on a stream socketpair (SCM_RIGHTS), as a server hands
 * its sockets to a worker: a TCP listener and a bound UDP socket on loopback that the task then
 * closes (only in flight), and a second TCP listener it keeps. After restore the receiver gets
 * the three in order: each on its port, the first one accepts a connection, the UDP socket
 * receives a datagram, and the third is the very socket the task still holds. */
#include "zdtmtst.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NFDS 3

static int bound(int type, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, type, 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof(*a)) || getsockname(s, (struct sockaddr *)a, &len))
		setup_fail("bind");
	if (type == SOCK_STREAM && listen(s, 4))
		setup_fail("listen");
	return s;
}

static int port_of(int s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	return getsockname(s, (struct sockaddr *)&a, &len) ? -1 : ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_in la, ua, ka;
	int sk[2], fds[NFDS], got[NFDS];
	char control[CMSG_SPACE(sizeof(int) * NFDS)], buf[16] = { 0 };

	test_init(argc, argv);
	fds[0] = bound(SOCK_STREAM, &la);
	fds[1] = bound(SOCK_DGRAM, &ua);
	fds[2] = bound(SOCK_STREAM, &ka);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
		setup_fail("socketpair");
	test_send_fds(sk[0], "inet", fds, NFDS);
	close(fds[0]);
	close(fds[1]);

	test_daemon();
	test_waitsig();

	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	ssize_t n = recvmsg(sk[1], &mh, MSG_DONTWAIT);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!check(n == 4 && c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(got)),
		   "no message with %d fds (%zd bytes)", NFDS, n)) {
		pass();
		return test_result();
	}
	memcpy(got, CMSG_DATA(c), sizeof(got));
	check(port_of(got[0]) == ntohs(la.sin_port), "listener on port %d, not %d", port_of(got[0]), ntohs(la.sin_port));
	int cl = socket(AF_INET, SOCK_STREAM, 0);
	check(connect(cl, (struct sockaddr *)&la, sizeof(la)) == 0, "can't connect to the listener in flight");
	int acc = accept(got[0], NULL, NULL);
	check(acc >= 0 && send(cl, "x", 1, 0) == 1 && recv(acc, buf, 1, 0) == 1 && buf[0] == 'x',
	      "the listener in flight does not accept");
	check(port_of(got[1]) == ntohs(ua.sin_port), "UDP socket on port %d, not %d", port_of(got[1]), ntohs(ua.sin_port));
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	memset(buf, 0, sizeof(buf));
	check(sendto(u, "dgram", 5, 0, (struct sockaddr *)&ua, sizeof(ua)) == 5 && recv(got[1], buf, sizeof(buf), 0) == 5 &&
	      !strcmp(buf, "dgram"), "the UDP socket in flight does not receive");
	struct stat a, b;
	check(fstat(got[2], &a) == 0 && fstat(fds[2], &b) == 0 && a.st_ino == b.st_ino, "not the task's listener");
	check(port_of(got[2]) == ntohs(ka.sin_port), "kept listener on port %d", port_of(got[2]));
	pass();
	return test_result();
}
