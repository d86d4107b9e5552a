/* socket-tcp-est: an established TCP connection over loopback, both ends in the test (criu
 * --tcp-established, see socket-tcp-est.opts). The client has written until its send queue is
 * full (the server's receive queue is full too, part of the client's data is unsent), the
 * server has written data the client has not read. After restore every byte arrives once and
 * in order, both ways, the addresses and ports are the same, and the connection keeps working. */
#include "zdtmtst.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef FAMILY
#define FAMILY AF_INET
#endif

#define BACK 5000

static size_t total;
static uint8_t byte_at(size_t i, int seed) { return (uint8_t)(i * 31 + (i >> 9) + seed); }

static socklen_t loopback(struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (FAMILY == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	in6->sin6_addr = in6addr_loopback;
	return sizeof(*in6);
}

/* Reads len bytes (polling, 10 s at most) and checks them against the pattern from offset off. */
static int read_check(int sk, size_t off, size_t len, int seed)
{
	uint8_t buf[4096];
	size_t got = 0, i;
	while (got < len) {
		struct pollfd p = {sk, POLLIN, 0};
		if (poll(&p, 1, 10000) != 1)
			return fail("timed out after %zu of %zu bytes", got, len), -1;
		ssize_t n = read(sk, buf, len - got < sizeof(buf) ? len - got : sizeof(buf));
		if (n <= 0)
			return fail_errno("read after %zu of %zu bytes", got, len), -1;
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != byte_at(off + got + i, seed))
				return fail("byte %zu differs", off + got + i), -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_pattern(int sk, size_t off, size_t len, int seed)
{
	uint8_t buf[4096];
	size_t done = 0, i;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = byte_at(off + done + i, seed);
		ssize_t w = write(sk, buf, n);
		if (w < 0 && errno == EAGAIN)
			return (int)done;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (int)done;
}

static void names(int sk, struct sockaddr_storage *me, struct sockaddr_storage *peer)
{
	socklen_t l1 = sizeof(*me), l2 = sizeof(*peer);
	memset(me, 0, sizeof(*me));
	memset(peer, 0, sizeof(*peer));
	getsockname(sk, (struct sockaddr *)me, &l1);
	getpeername(sk, (struct sockaddr *)peer, &l2);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss, cme, cpeer, sme, speer, a, b;
	socklen_t len = sizeof(ss);
	int lsk, cli, srv, buf = 65536, one = 1, w;

	test_init(argc, argv);
	lsk = socket(FAMILY, SOCK_STREAM, 0);
	cli = socket(FAMILY, SOCK_STREAM, 0);
	len = loopback(&ss, 0);
	if (lsk < 0 || cli < 0 || bind(lsk, (struct sockaddr *)&ss, len) || listen(lsk, 1))
		setup_fail("listen");
	len = sizeof(ss);
	getsockname(lsk, (struct sockaddr *)&ss, &len);
	if (setsockopt(cli, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) || connect(cli, (struct sockaddr *)&ss, len))
		setup_fail("connect");
	srv = accept(lsk, NULL, NULL);
	if (srv < 0 || setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    setsockopt(cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		setup_fail("accept");
	fcntl(cli, F_SETFL, O_NONBLOCK);
	/* The client writes until nothing more fits anywhere. */
	for (int tries = 0; tries < 50; tries++) {
		w = write_pattern(cli, total, 1 << 20, 1);
		if (w < 0)
			setup_fail("write");
		total += (size_t)w;
		usleep(10000);
	}
	if (write_pattern(srv, 0, BACK, 2) != BACK)
		setup_fail("write back");
	usleep(100000);
	names(cli, &cme, &cpeer);
	names(srv, &sme, &speer);
	test_msg("%zu bytes client -> server, %d bytes back\n", total, BACK);

	test_daemon();
	test_waitsig();

	names(cli, &a, &b);
	check(!memcmp(&a, &cme, sizeof(a)) && !memcmp(&b, &cpeer, sizeof(b)), "client addresses changed");
	names(srv, &a, &b);
	check(!memcmp(&a, &sme, sizeof(a)) && !memcmp(&b, &speer, sizeof(b)), "server addresses changed");
	check(fcntl(cli, F_GETFL) & O_NONBLOCK, "O_NONBLOCK lost");
	{
		int v = 0;
		socklen_t l = sizeof(v);
		check(getsockopt(cli, IPPROTO_TCP, TCP_NODELAY, &v, &l) == 0 && v == 1, "TCP_NODELAY lost");
	}
	check(read_check(cli, 0, BACK, 2) == 0, "server -> client data");
	check(read_check(srv, 0, total, 1) == 0, "client -> server data (%zu bytes)", total);
	fcntl(cli, F_SETFL, 0);
	check(write_pattern(cli, total, 1000, 1) == 1000 && read_check(srv, total, 1000, 1) == 0,
	      "client -> server after restore");
	check(write_pattern(srv, BACK, 1000, 2) == 1000 && read_check(cli, BACK, 1000, 2) == 0,
	      "server -> client after restore");
	pass();
	return test_result();
}
