/* socket-udp: UDP sockets over IPv4 and IPv6: bound, connected (to another of the test's
 * sockets), unbound, shut down for writing, with SO_BROADCAST and O_NONBLOCK. After restore the addresses, peers and
 * options are the same and datagrams go both ways. */
#include "zdtmtst.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int name_of(int sk, int peer, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	return peer ? getpeername(sk, (struct sockaddr *)ss, &len) : getsockname(sk, (struct sockaddr *)ss, &len);
}

static int bound(int family)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int sk = socket(family, SOCK_DGRAM, 0);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (sk < 0 || bind(sk, (struct sockaddr *)&ss, len))
		setup_fail("bind");
	return sk;
}

static void connect_to(int sk, int to)
{
	struct sockaddr_storage ss;
	name_of(to, 0, &ss);
	if (connect(sk, (struct sockaddr *)&ss, ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
									   : sizeof(struct sockaddr_in6)))
		setup_fail("connect");
}

/* a sends to b (connected) and b answers with sendto(a's address). */
static int ping(int a, int b)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[16];
	if (send(a, "ping", 4, 0) != 4 || recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) != 4 ||
	    memcmp(buf, "ping", 4))
		return -1;
	if (sendto(b, "pong", 4, 0, (struct sockaddr *)&from, len) != 4 || recv(a, buf, sizeof(buf), 0) != 4 ||
	    memcmp(buf, "pong", 4))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage name[4], peer[2], now;
	int s4 = 0, c4, s6, c6, un, sh, one = 1, i;
	int sks[4];

	test_init(argc, argv);
	s4 = bound(AF_INET), c4 = bound(AF_INET), s6 = bound(AF_INET6), c6 = bound(AF_INET6);
	connect_to(c4, s4);
	connect_to(c6, s6);
	un = socket(AF_INET, SOCK_DGRAM, 0);
	sh = bound(AF_INET);
	connect_to(sh, s4);
	if (shutdown(sh, SHUT_WR))
		setup_fail("shutdown");
	if (un < 0 || setsockopt(s4, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) || fcntl(s6, F_SETFL, O_NONBLOCK))
		setup_fail("setup");
	sks[0] = s4, sks[1] = c4, sks[2] = s6, sks[3] = c6;
	for (i = 0; i < 4; i++)
		name_of(sks[i], 0, &name[i]);
	name_of(c4, 1, &peer[0]);
	name_of(c6, 1, &peer[1]);

	test_daemon();
	test_waitsig();

	for (i = 0; i < 4; i++)
		check(name_of(sks[i], 0, &now) == 0 && !memcmp(&now, &name[i], sizeof(now)), "address of socket %d", i);
	check(name_of(c4, 1, &now) == 0 && !memcmp(&now, &peer[0], sizeof(now)), "IPv4 peer lost");
	check(name_of(c6, 1, &now) == 0 && !memcmp(&now, &peer[1], sizeof(now)), "IPv6 peer lost");
	check(name_of(s4, 1, &now) < 0 && errno == ENOTCONN, "unconnected socket got a peer");
	check(name_of(un, 0, &now) == 0 && ((struct sockaddr_in *)&now)->sin_port == 0, "unbound socket got a port");
	{
		int v = 0;
		socklen_t len = sizeof(v);
		check(getsockopt(s4, SOL_SOCKET, SO_BROADCAST, &v, &len) == 0 && v == 1, "SO_BROADCAST lost");
	}
	check(fcntl(s6, F_GETFL) & O_NONBLOCK, "O_NONBLOCK lost");
	signal(SIGPIPE, SIG_IGN);
	check(send(sh, "x", 1, 0) < 0 && errno == EPIPE, "shutdown(SHUT_WR) lost");
	check(ping(c4, s4) == 0, "IPv4 datagrams do not flow");
	check(ping(c6, s6) == 0, "IPv6 datagrams do not flow");
	pass();
	return test_result();
}
