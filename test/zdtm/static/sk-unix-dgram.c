/* sk-unix-dgram: dgram sockets bound to a path and to an abstract name, an unbound one
 * connected to the path one and a bound one connected to the abstract one, messages queued on
 * both receivers (boundaries kept); the path socket's file has mode 0600; one more socket is
 * bound to a path unlinked since. After restore: names, peers, data, both directions, the
 * socket file's mode, and the unlinked one stays unlinked but keeps its name. */
#include "zdtmtst.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t addr_of(struct sockaddr_un *a, const char *name, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + !!abstract, sizeof(a->sun_path) - 1, "%s", name);
	return abstract ? offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name) : sizeof(*a);
}

static int bound(struct sockaddr_un *a, socklen_t len)
{
	int sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sk < 0 || bind(sk, (struct sockaddr *)a, len))
		setup_fail("bind");
	return sk;
}

static int got_msg(int sk, const char *want)
{
	char buf[64] = { 0 };
	ssize_t n = recv(sk, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n);
}

static int peer_is(int sk, struct sockaddr_un *a, socklen_t len)
{
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	memset(&got, 0, sizeof(got));
	if (getpeername(sk, (struct sockaddr *)&got, &glen))
		return 0;
	if (!a->sun_path[0])
		return glen == len && !memcmp(got.sun_path, a->sun_path, len - offsetof(struct sockaddr_un, sun_path));
	return !strcmp(got.sun_path, a->sun_path);
}

int main(int argc, char **argv)
{
	struct sockaddr_un pa, aa, da;
	socklen_t plen, alen, dlen;
	char cwd[PATH_MAX], path[PATH_MAX], dpath[PATH_MAX], gpath[PATH_MAX], abs_name[64];
	struct sockaddr_un ga, got;
	socklen_t glen = sizeof(got);
	struct stat st;
	int p, a, c, d, g;

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)))
		setup_fail("getcwd");
	if ((size_t)snprintf(path, sizeof(path), "%s/dgram.path", cwd) >= sizeof(path))
		setup_fail("path: path too long");
	if ((size_t)snprintf(dpath, sizeof(dpath), "%s/dgram.d", cwd) >= sizeof(dpath))
		setup_fail("dpath: path too long");
	if ((size_t)snprintf(gpath, sizeof(gpath), "%s/dgram.gone", cwd) >= sizeof(gpath))
		setup_fail("gpath: path too long");
	snprintf(abs_name, sizeof(abs_name), "zdtm-sk-unix-dgram-%d", getpid());
	plen = addr_of(&pa, path, 0);
	alen = addr_of(&aa, abs_name, 1);
	dlen = addr_of(&da, dpath, 0);
	p = bound(&pa, plen);
	a = bound(&aa, alen);
	d = bound(&da, dlen);
	g = bound(&ga, addr_of(&ga, gpath, 0));
	if (chmod(path, 0600) || unlink(gpath))
		setup_fail("chmod/unlink");
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&pa, plen) || connect(d, (struct sockaddr *)&aa, alen))
		setup_fail("connect");
	if (send(c, "first", 5, 0) != 5 || send(c, "second!", 7, 0) != 7 || send(c, "3", 1, 0) != 1 ||
	    send(d, "to abstract", 11, 0) != 11 || sendto(a, "to d", 4, 0, (struct sockaddr *)&da, dlen) != 4)
		setup_fail("send");

	test_daemon();
	test_waitsig();

	check(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "socket file %s is gone", path);
	check((st.st_mode & 07777) == 0600, "socket file mode %o", st.st_mode & 07777);
	check(access(gpath, F_OK) < 0 && errno == ENOENT, "unlinked socket file %s is back", gpath);
	memset(&got, 0, sizeof(got));
	check(getsockname(g, (struct sockaddr *)&got, &glen) == 0 && !strcmp(got.sun_path, gpath),
	      "unlinked socket's name \"%s\"", got.sun_path);
	check(got_msg(p, "first") && got_msg(p, "second!") && got_msg(p, "3"), "messages on the path socket");
	check(got_msg(a, "to abstract"), "message on the abstract socket");
	check(got_msg(d, "to d"), "message on the bound connected socket");
	check(peer_is(c, &pa, plen), "unbound socket's peer");
	check(peer_is(d, &aa, alen), "bound socket's peer");
	check(send(c, "again", 5, 0) == 5 && got_msg(p, "again"), "unbound socket not connected");
	check(send(d, "again", 5, 0) == 5 && got_msg(a, "again"), "bound socket not connected");
	check(sendto(a, "back", 4, 0, (struct sockaddr *)&da, dlen) == 4 && got_msg(d, "back"), "path d unreachable");
	pass();
	return test_result();
}
