/* sk-unix-listen: a stream listener bound to a path and a seqpacket one bound to an abstract
 * name; a client connected to each and its accepted socket, with data queued both ways; a
 * pending connection not accepted yet on each. After restore: names, the socket file, peers
 * and data are back, the pending connections can be accepted, new clients can connect. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t addr_of(struct sockaddr_un *a, const char *path, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "%s", path);
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	}
	if (strlen(path) >= sizeof(a->sun_path))
		setup_fail("%s: too long for a unix socket address", path);
	memcpy(a->sun_path, path, strlen(path) + 1);
	return sizeof(*a);
}

static int listener(int type, struct sockaddr_un *a, socklen_t len)
{
	int sk = socket(AF_UNIX, type, 0);
	if (sk < 0 || bind(sk, (struct sockaddr *)a, len) || listen(sk, 8))
		setup_fail("listener");
	return sk;
}

static int client(int type, struct sockaddr_un *a, socklen_t len)
{
	int sk = socket(AF_UNIX, type, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)a, len))
		setup_fail("connect");
	return sk;
}

/* The name getsockname (peer 0) or getpeername (peer 1) gives equals a. */
static int name_is(int sk, int peer, struct sockaddr_un *a, socklen_t len)
{
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	memset(&got, 0, sizeof(got));
	if ((peer ? getpeername : getsockname)(sk, (struct sockaddr *)&got, &glen))
		return 0;
	if (a->sun_path[0] == 0)
		return glen == len && !memcmp(got.sun_path, a->sun_path, len - offsetof(struct sockaddr_un, sun_path));
	return !strcmp(got.sun_path, a->sun_path);
}

static int got_msg(int sk, const char *want)
{
	char buf[64] = { 0 };
	ssize_t n = recv(sk, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n);
}

int main(int argc, char **argv)
{
	struct sockaddr_un pa, aa;
	socklen_t plen, alen;
	char cwd[PATH_MAX], path[PATH_MAX], abs_name[64];
	struct stat st;
	int pl, al, pc, ps, ac, as, pp, ap;

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)))
		setup_fail("getcwd");
	if ((size_t)snprintf(path, sizeof(path), "%s/sk.path", cwd) >= sizeof(path))
		setup_fail("path: path too long");
	snprintf(abs_name, sizeof(abs_name), "zdtm-sk-unix-listen-%d", getpid());
	plen = addr_of(&pa, path, 0);
	alen = addr_of(&aa, abs_name, 1);
	pl = listener(SOCK_STREAM, &pa, plen);
	al = listener(SOCK_SEQPACKET, &aa, alen);
	pc = client(SOCK_STREAM, &pa, plen);
	ps = accept(pl, NULL, NULL);
	ac = client(SOCK_SEQPACKET, &aa, alen);
	as = accept(al, NULL, NULL);
	if (ps < 0 || as < 0)
		setup_fail("accept");
	pp = client(SOCK_STREAM, &pa, plen);
	ap = client(SOCK_SEQPACKET, &aa, alen);
	if (send(pc, "to server", 9, 0) != 9 || send(ps, "to client", 9, 0) != 9 ||
	    send(ac, "seq one", 7, 0) != 7 || send(ac, "seq two", 7, 0) != 7 || send(as, "seq back", 8, 0) != 8)
		setup_fail("send");

	test_daemon();
	test_waitsig();

	check(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "socket file %s is gone", path);
	check(name_is(pl, 0, &pa, plen), "path listener name");
	check(name_is(al, 0, &aa, alen), "abstract listener name");
	check(name_is(pc, 1, &pa, plen), "path client's peer name");
	check(name_is(ps, 0, &pa, plen), "path accepted socket's name");
	check(name_is(ac, 1, &aa, alen), "abstract client's peer name");
	check(got_msg(ps, "to server") && got_msg(pc, "to client"), "stream data");
	check(got_msg(as, "seq one") && got_msg(as, "seq two") && got_msg(ac, "seq back"), "seqpacket data");
	check(send(pc, "more", 4, 0) == 4 && got_msg(ps, "more"), "stream pair not connected");
	check(send(as, "more", 4, 0) == 4 && got_msg(ac, "more"), "seqpacket pair not connected");
	int pa2 = accept(pl, NULL, NULL), aa2 = accept(al, NULL, NULL);
	check(pa2 >= 0 && send(pp, "late", 4, 0) == 4 && got_msg(pa2, "late"), "pending stream connection");
	check(aa2 >= 0 && send(aa2, "late", 4, 0) == 4 && got_msg(ap, "late"), "pending seqpacket connection");
	int nc = client(SOCK_STREAM, &pa, plen), na = accept(pl, NULL, NULL);
	check(na >= 0 && send(nc, "new", 3, 0) == 3 && got_msg(na, "new"), "new connection to the path listener");
	pass();
	return test_result();
}
