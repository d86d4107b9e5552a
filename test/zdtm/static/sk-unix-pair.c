/* sk-unix-pair: stream, dgram and seqpacket socketpairs with data queued both ways come back
 * with their data (message boundaries kept), types, peers, options (SO_PASSCRED, buffer sizes),
 * O_NONBLOCK, a stream pair shut down for writing one way, and a stream socket whose peer
 * was closed after sending (its data, then end of file); a stream socket filled until the
 * sender would block. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
static const char *names[] = { "stream", "dgram", "seqpacket" };

static int opt(int sk, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	getsockopt(sk, SOL_SOCKET, name, &v, &len);
	return v;
}

static void send_msgs(int sk, int seed, int n)
{
	uint8_t buf[300];
	for (int i = 0; i < n; i++) {
		fill_pattern(buf, sizeof(buf), seed + i);
		if (send(sk, buf, 100 + 50 * i, 0) != 100 + 50 * i)
			setup_fail("send");
	}
}

/* Reads the n messages send_msgs(seed) sent; stream: the same bytes, in any chunks. */
static int recv_msgs(int sk, int type, int seed, int n)
{
	uint8_t want[2000], got[2000];
	size_t total = 0, at = 0;
	for (int i = 0; i < n; i++) {
		fill_pattern(want + total, 300, seed + i);
		if (type != SOCK_STREAM) {
			ssize_t r = recv(sk, got, sizeof(got), MSG_DONTWAIT);
			if (r != 100 + 50 * i || memcmp(got, want + total, (size_t)r))
				return -1;
		}
		total += 100 + 50 * i;
	}
	if (type != SOCK_STREAM)
		return recv(sk, got, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN ? 0 : -1;
	while (at < total) {
		ssize_t r = recv(sk, got + at, total - at, MSG_DONTWAIT);
		if (r <= 0)
			return -1;
		at += (size_t)r;
	}
	return memcmp(got, want, total) ? -1 : 0;
}

int main(int argc, char **argv)
{
	int sv[3][2], sh[2], cl[2], big[2], one = 1, sndbuf = 65536;
	static uint8_t fill[1 << 22], back[1 << 22];
	size_t filled = 0;
	uint8_t c;

	test_init(argc, argv);
	for (int t = 0; t < 3; t++) {
		if (socketpair(AF_UNIX, types[t], 0, sv[t]))
			setup_fail("socketpair %s", names[t]);
		send_msgs(sv[t][0], 10 * t, 3);
		send_msgs(sv[t][1], 10 * t + 5, 2);
	}
	if (setsockopt(sv[0][0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(sv[1][1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    fcntl(sv[2][0], F_SETFL, O_NONBLOCK))
		setup_fail("options");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sh))
		setup_fail("socketpair");
	send_msgs(sh[0], 40, 1);
	shutdown(sh[0], SHUT_WR);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, cl))
		setup_fail("socketpair");
	send_msgs(cl[1], 50, 2);
	close(cl[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, big) || fcntl(big[0], F_SETFL, O_NONBLOCK))
		setup_fail("socketpair");
	fill_pattern(fill, sizeof(fill), 77);
	for (;;) {
		ssize_t n = send(big[0], fill + filled, 4096, 0);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0 || (filled += (size_t)n) + 4096 > sizeof(fill))
			setup_fail("filling a stream socket");
	}

	test_daemon();
	test_waitsig();

	for (int t = 0; t < 3; t++) {
		check(opt(sv[t][0], SO_TYPE) == types[t] && opt(sv[t][1], SO_TYPE) == types[t], "%s: type", names[t]);
		check(recv_msgs(sv[t][1], types[t], 10 * t, 3) == 0, "%s: data queued on end 1 differs", names[t]);
		check(recv_msgs(sv[t][0], types[t], 10 * t + 5, 2) == 0, "%s: data queued on end 0 differs", names[t]);
		check(send(sv[t][0], "x", 1, 0) == 1 && recv(sv[t][1], &c, 1, MSG_DONTWAIT) == 1 && c == 'x',
		      "%s: ends not connected", names[t]);
		check(send(sv[t][1], "y", 1, 0) == 1 && recv(sv[t][0], &c, 1, MSG_DONTWAIT) == 1 && c == 'y',
		      "%s: ends not connected back", names[t]);
	}
	check(opt(sv[0][0], SO_PASSCRED) == 1 && opt(sv[0][1], SO_PASSCRED) == 0, "SO_PASSCRED");
	check(opt(sv[1][1], SO_SNDBUF) == 2 * sndbuf, "SO_SNDBUF %d", opt(sv[1][1], SO_SNDBUF));
	check(fcntl(sv[2][0], F_GETFL) & O_NONBLOCK, "O_NONBLOCK lost");
	check(!(fcntl(sv[2][1], F_GETFL) & O_NONBLOCK), "O_NONBLOCK gained");
	check(recv_msgs(sh[1], SOCK_STREAM, 40, 1) == 0, "shut-down pair: data differs");
	check(recv(sh[1], &c, 1, MSG_DONTWAIT) == 0, "shut-down pair: no end of file");
	check(send(sh[0], "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "shut-down pair: can still write");
	check(send(sh[1], "z", 1, 0) == 1 && recv(sh[0], &c, 1, MSG_DONTWAIT) == 1 && c == 'z',
	      "shut-down pair: other way broken");
	check(recv_msgs(cl[0], SOCK_STREAM, 50, 2) == 0, "closed peer: data differs");
	check(recv(cl[0], &c, 1, MSG_DONTWAIT) == 0, "closed peer: no end of file");
	check(send(cl[0], "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "closed peer: can still write");
	size_t got = 0;
	while (got < filled) {
		ssize_t n = recv(big[1], back + got, filled - got, MSG_DONTWAIT);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	check(got == filled && !memcmp(back, fill, filled), "full stream: got %zu of %zu bytes", got, filled);
	check(recv(big[1], back, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "full stream: more data than sent");
	pass();
	return test_result();
}
