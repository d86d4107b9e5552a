/* socket-tcp-listen: TCP listeners (IPv4 any with SO_REUSEADDR, IPv6 loopback v6-only with
 * SO_REUSEPORT, IPv6 dual-stack), an unbound TCP socket and a bound one, with options and
 * O_NONBLOCK; one listener is shared with a child. After restore the ports, options and
 * flags are the same and every listener accepts connections (the child's copy too). */
#include "zdtmtst.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static int port_of(int sk)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(sk, (struct sockaddr *)&ss, &len))
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int opt(int sk, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	getsockopt(sk, level, name, &v, &len);
	return v;
}

static int listener(int family, const char *addr, int v6only, int reuse_opt, int backlog)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int one = 1, sk = socket(family, SOCK_STREAM, 0);
	if (sk < 0)
		setup_fail("socket");
	if (family == AF_INET6 && setsockopt(sk, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)))
		setup_fail("IPV6_V6ONLY");
	if (reuse_opt && setsockopt(sk, SOL_SOCKET, reuse_opt, &one, sizeof(one)))
		setup_fail("reuse");
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	if (bind(sk, (struct sockaddr *)&ss, len) || listen(sk, backlog))
		setup_fail("bind/listen %s", addr);
	return sk;
}

/* Connects to port on addr, has the listener accept, sends a byte each way. */
static int talk(int lsk, int family, const char *addr, int port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	char c = 'q';
	int sk = socket(family, SOCK_STREAM, 0), acc, ok;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	if (sk < 0 || connect(sk, (struct sockaddr *)&ss, len))
		return -1;
	acc = accept(lsk, NULL, NULL);
	ok = acc >= 0 && write(sk, "x", 1) == 1 && read(acc, &c, 1) == 1 && c == 'x' && write(acc, "y", 1) == 1 &&
	     read(sk, &c, 1) == 1 && c == 'y';
	close(sk);
	close(acc);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	int l4, l6, ld, un, bd, p4, p6, pd, pb, one = 1, rcvbuf = 65536, prio = 5, lowat = 3, mark = 7, st;
	struct linger lg = {1, 9};
	struct timeval tv = {3, 500000}, tv2;
	socklen_t len = sizeof(tv2);
	pid_t kid;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	l4 = listener(AF_INET, "0.0.0.0", 0, SO_REUSEADDR, 7);
	l6 = listener(AF_INET6, "::1", 1, SO_REUSEPORT, 5);
	ld = listener(AF_INET6, "::", 0, 0, 3);
	un = socket(AF_INET6, SOCK_STREAM, 0);
	bd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (un < 0 || bd < 0 || bind(bd, (struct sockaddr *)&lo, sizeof(lo)))
		setup_fail("socket");
	if (setsockopt(l4, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(l4, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    setsockopt(l4, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) ||
	    setsockopt(l4, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) ||
	    setsockopt(l4, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    setsockopt(l4, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(l6, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) || fcntl(l6, F_SETFL, O_NONBLOCK))
		setup_fail("setsockopt");
	p4 = port_of(l4), p6 = port_of(l6), pd = port_of(ld), pb = port_of(bd);
	rcvbuf = opt(l4, SOL_SOCKET, SO_RCVBUF);

	kid = fork();
	if (kid < 0)
		setup_fail("fork");
	if (kid == 0) { /* holds l4 too; accepts one connection on it after the restore */
		sigset_t none;
		sigemptyset(&none);
		while (!go)
			sigsuspend(&none);
		_exit(port_of(l4) == p4 && talk(l4, AF_INET, "127.0.0.1", p4) == 0 ? 0 : 1);
	}

	test_daemon();
	test_waitsig();

	check(port_of(l4) == p4 && port_of(l6) == p6 && port_of(ld) == pd && port_of(bd) == pb,
	      "ports changed: %d %d %d %d", port_of(l4), port_of(l6), port_of(ld), port_of(bd));
	check(port_of(un) == 0, "the unbound socket got port %d", port_of(un));
	check(opt(l4, SOL_SOCKET, SO_ACCEPTCONN) == 1 && opt(l6, SOL_SOCKET, SO_ACCEPTCONN) == 1 &&
		      opt(ld, SOL_SOCKET, SO_ACCEPTCONN) == 1 && opt(bd, SOL_SOCKET, SO_ACCEPTCONN) == 0,
	      "listening state lost");
	check(opt(l4, SOL_SOCKET, SO_REUSEADDR) == 1 && opt(l6, SOL_SOCKET, SO_REUSEPORT) == 1 &&
		      opt(ld, SOL_SOCKET, SO_REUSEADDR) == 0,
	      "reuse options lost");
	check(opt(l6, IPPROTO_IPV6, IPV6_V6ONLY) == 1 && opt(ld, IPPROTO_IPV6, IPV6_V6ONLY) == 0, "v6only lost");
	check(opt(l4, SOL_SOCKET, SO_KEEPALIVE) == 1 && opt(l4, SOL_SOCKET, SO_RCVBUF) == rcvbuf &&
		      opt(l4, SOL_SOCKET, SO_PRIORITY) == prio && opt(l4, SOL_SOCKET, SO_RCVLOWAT) == lowat &&
		      opt(l4, SOL_SOCKET, SO_MARK) == mark &&
		      opt(l4, IPPROTO_TCP, TCP_NODELAY) == 0,
	      "options lost: rcvbuf %d (want %d)", opt(l4, SOL_SOCKET, SO_RCVBUF), rcvbuf);
	len = sizeof(lg);
	check(getsockopt(l4, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff && lg.l_linger == 9, "linger lost");
	len = sizeof(tv2);
	check(getsockopt(l6, SOL_SOCKET, SO_SNDTIMEO, &tv2, &len) == 0 && tv2.tv_sec == 3 && tv2.tv_usec == 500000,
	      "timeout lost");
	check((fcntl(l6, F_GETFL) & O_NONBLOCK) && !(fcntl(l4, F_GETFL) & O_NONBLOCK), "O_NONBLOCK wrong");
	check(accept(l6, NULL, NULL) < 0 && errno == EAGAIN, "non-blocking accept on an idle listener");
	fcntl(l6, F_SETFL, 0);
	check(talk(l6, AF_INET6, "::1", p6) == 0, "IPv6 listener does not accept");
	check(talk(ld, AF_INET, "127.0.0.1", pd) == 0, "dual-stack listener does not accept IPv4");
	check(talk(ld, AF_INET6, "::1", pd) == 0, "dual-stack listener does not accept IPv6");
	check(talk(l4, AF_INET, "127.0.0.1", p4) == 0, "IPv4 listener does not accept");
	kill(kid, SIGUSR1);
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the child's copy of the listener does not accept (status %#x)", st);
	pass();
	return test_result();
}
