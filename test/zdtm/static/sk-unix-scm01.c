/* sk-unix-scm01: fds in flight on dgram sockets, mixed with plain messages: on a socketpair,
 * "m0", "m1" + a regular file (read-only, at offset 3), "m2", "m3" + a pipe's write end and a
 * socketpair end, "m4"; on a socket bound to a path, "n0" + the pipe's read end from an
 * unconnected sender, then "n1"; "m5" + a stream socket (no task holds it) whose own queue has
 * "nested" + the same open file; "m6" + a stream socket whose own queue holds "self" + itself
 * (a cycle). After restore every message comes back on its own with its
 * fds (boundaries kept), and the fds work. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void send_fds(int sk, const char *data, const int *fds, int n, struct sockaddr_un *to)
{
	char control[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (to) {
		mh.msg_name = to;
		mh.msg_namelen = sizeof(*to);
	}
	if (n) {
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	if (sendmsg(sk, &mh, 0) != (ssize_t)strlen(data))
		setup_fail("sendmsg %s", data);
}

/* One datagram: it must be want, with nfds fds (stored in fds). */
static int got(int sk, const char *want, int *fds, int nfds)
{
	char buf[64] = { 0 }, control[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	int n = 0;
	ssize_t len = recvmsg(sk, &mh, MSG_DONTWAIT);
	if (len != (ssize_t)strlen(want) || strcmp(buf, want)) {
		test_msg("wanted %s, got %zd bytes: %s\n", want, len, buf);
		return 0;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (c->cmsg_type != SCM_RIGHTS || n + k > nfds)
			return 0;
		memcpy(fds + n, CMSG_DATA(c), sizeof(int) * k);
		n += k;
	}
	return n == nfds;
}

static int talks_back(int a, int b)
{
	char buf[8] = { 0 };
	return send(a, "hey", 3, 0) == 3 && recv(b, buf, sizeof(buf), MSG_DONTWAIT) == 3 && !strcmp(buf, "hey");
}

int main(int argc, char **argv)
{
	int sk[2], p[2], x[2], z[2], c[2], f, named, sender, fds[4];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[16] = { 0 }, cwd[PATH_MAX];

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)) || strlen(cwd) + 12 > sizeof(addr.sun_path))
		setup_fail("cwd");
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/scm01.sock", cwd);
	f = open("scm01.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0 || write(f, "abcdefgh", 8) != 8)
		setup_fail("file");
	close(f);
	f = open("scm01.file", O_RDONLY);
	if (f < 0 || lseek(f, 3, SEEK_SET) != 3)
		setup_fail("file");
	named = socket(AF_UNIX, SOCK_DGRAM, 0);
	sender = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sk) || pipe(p) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, x) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, z) || socketpair(AF_UNIX, SOCK_STREAM, 0, c) || named < 0 || sender < 0 || bind(named, (struct sockaddr *)&addr, sizeof(addr)))
		setup_fail("sockets");
	send_fds(sk[0], "m0", NULL, 0, NULL);
	send_fds(sk[0], "m1", (int[]){ f }, 1, NULL);
	send_fds(sk[0], "m2", NULL, 0, NULL);
	send_fds(sk[0], "m3", (int[]){ p[1], x[1] }, 2, NULL);
	send_fds(sk[0], "m4", NULL, 0, NULL);
	send_fds(z[0], "nested", (int[]){ f }, 1, NULL);
	send_fds(sk[0], "m5", (int[]){ z[1] }, 1, NULL);
	close(z[1]);
	send_fds(c[0], "self", (int[]){ c[1] }, 1, NULL);
	send_fds(sk[0], "m6", (int[]){ c[1] }, 1, NULL);
	close(c[1]);
	send_fds(sender, "n0", (int[]){ p[0] }, 1, &addr);
	send_fds(sender, "n1", NULL, 0, &addr);
	close(f);
	close(p[0]);
	close(p[1]);
	close(x[1]);

	test_daemon();
	test_waitsig();

	check(got(sk[1], "m0", fds, 0), "m0");
	int m1 = -1;
	if (check(got(sk[1], "m1", fds, 1), "m1")) {
		m1 = fds[0];
		check(lseek(fds[0], 0, SEEK_CUR) == 3, "file offset");
		check((fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDONLY, "file flags %#x", fcntl(fds[0], F_GETFL));
		check(read(fds[0], buf, sizeof(buf)) == 5 && !strcmp(buf, "defgh"), "file reads %s", buf);
	}
	check(got(sk[1], "m2", fds, 0), "m2");
	int w = -1, s = -1, r = -1;
	if (check(got(sk[1], "m3", fds, 2), "m3")) {
		w = fds[0];
		s = fds[1];
	}
	check(got(sk[1], "m4", fds, 0), "m4");
	if (check(got(sk[1], "m5", fds, 1), "m5")) {
		int zz = fds[0];
		if (check(got(zz, "nested", fds, 1), "nested")) {
			memset(buf, 0, sizeof(buf));
			check(pread(fds[0], buf, 3, 0) == 3 && !strcmp(buf, "abc"), "nested file reads %s", buf);
			check(m1 < 0 || lseek(fds[0], 0, SEEK_CUR) == lseek(m1, 0, SEEK_CUR),
			      "the file in flight twice is two open files");
		}
		check(talks_back(z[0], zz), "nested socket is not z[0]'s peer");
	}
	if (check(got(sk[1], "m6", fds, 1), "m6")) {
		int cc = fds[0];
		struct stat a, b;
		if (check(got(cc, "self", fds, 1), "self"))
			check(fstat(cc, &a) == 0 && fstat(fds[0], &b) == 0 && a.st_ino == b.st_ino,
			      "the socket in flight on itself is another socket");
		check(talks_back(c[0], cc), "socket in a cycle is not c[0]'s peer");
	}
	check(recv(sk[1], buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "more on the socketpair");
	if (check(got(named, "n0", fds, 1), "n0"))
		r = fds[0];
	check(got(named, "n1", fds, 0), "n1");
	check(recv(named, buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "more on the named socket");
	if (w >= 0 && r >= 0) {
		memset(buf, 0, sizeof(buf));
		check(write(w, "pipe", 4) == 4 && read(r, buf, sizeof(buf)) == 4 && !strcmp(buf, "pipe"),
		      "pipe ends in flight: %s", buf);
	}
	if (s >= 0) {
		memset(buf, 0, sizeof(buf));
		check(send(s, "ping", 4, 0) == 4 && recv(x[0], buf, sizeof(buf), MSG_DONTWAIT) == 4 &&
		      !strcmp(buf, "ping"), "socket in flight: %s", buf);
	}
	pass();
	return test_result();
}
