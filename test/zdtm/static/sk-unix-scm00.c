/* sk-unix-scm00: fds in flight on a stream socketpair (SCM_RIGHTS): a regular file (read-write,
 * at offset 5) and the read end of a pipe in one message, plain bytes, then one end of a
 * socketpair and one of the tree's own sockets in another. The task closed the pipe's read end
 * and the in-flight socket end, but keeps the file, the pipe's write end, the other socket end
 * and its own socket. After restore the receiver gets all four, in order: the file reads on at
 * its offset (sharing it with the task's fd), the pipe gives what was written before and after, the socket talks to its peer,
 * and the tree's socket is the one the task still holds. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads the stream until want bytes came, collecting the fds in order. */
static int recv_all(int sk, char *buf, size_t want, int *fds, int max_fds)
{
	size_t got = 0;
	int nfds = 0;
	while (got < want) {
		char control[CMSG_SPACE(sizeof(int) * 8)];
		struct iovec iov = { buf + got, want - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
				     .msg_controllen = sizeof(control) };
		ssize_t n = recvmsg(sk, &mh, MSG_DONTWAIT);
		if (n <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (c->cmsg_type != SCM_RIGHTS || nfds + k > max_fds)
				return -1;
			memcpy(fds + nfds, CMSG_DATA(c), sizeof(int) * k);
			nfds += k;
		}
		got += (size_t)n;
	}
	return nfds;
}

static int talks(int a, int b, const char *msg)
{
	char buf[16] = { 0 };
	return send(a, msg, strlen(msg), 0) == (ssize_t)strlen(msg) &&
	       recv(b, buf, sizeof(buf) - 1, MSG_DONTWAIT) == (ssize_t)strlen(msg) && !strcmp(buf, msg);
}

int main(int argc, char **argv)
{
	static const char stream[] = "file+pipe" "plain" "sockets";
	int sk[2], p[2], x[2], y[2], f, fds[4];
	char buf[64] = { 0 };
	struct stat a, b;

	test_init(argc, argv);
	f = open("scm00.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0 || write(f, "0123456789", 10) != 10 || lseek(f, 5, SEEK_SET) != 5)
		setup_fail("file");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, x) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, y))
		setup_fail("socketpair/pipe");
	if (write(p[1], "before ", 7) != 7)
		setup_fail("pipe write");
	test_send_fds(sk[0], "file+pipe", (int[]){ f, p[0] }, 2);
	test_send_fds(sk[0], "plain", NULL, 0);
	test_send_fds(sk[0], "sockets", (int[]){ x[1], y[0] }, 2);
	close(p[0]);
	close(x[1]);

	test_daemon();
	test_waitsig();

	if (!check(recv_all(sk[1], buf, strlen(stream), fds, 4) == 4, "not 4 fds in flight") ||
	    !check(!strcmp(buf, stream), "stream data: %s", buf)) {
		pass();
		return test_result();
	}
	memset(buf, 0, sizeof(buf));
	check(lseek(fds[0], 0, SEEK_CUR) == 5, "file offset %ld", (long)lseek(fds[0], 0, SEEK_CUR));
	check((fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDWR, "file flags %#x", fcntl(fds[0], F_GETFL));
	check(read(fds[0], buf, sizeof(buf)) == 5 && !strcmp(buf, "56789"), "file reads %s", buf);
	check(fstat(fds[0], &a) == 0 && fstat(f, &b) == 0 && a.st_ino == b.st_ino, "not the task's file");
	check(lseek(f, 0, SEEK_CUR) == 10, "the task's fd does not share the open file in flight");
	memset(buf, 0, sizeof(buf));
	check(write(p[1], "after", 5) == 5, "pipe write");
	check(read(fds[1], buf, sizeof(buf)) == 12 && !strcmp(buf, "before after"), "pipe reads %s", buf);
	check(talks(x[0], fds[2], "ping") && talks(fds[2], x[0], "pong"), "socket in flight is not x[0]'s peer");
	check(fstat(fds[3], &a) == 0 && fstat(y[0], &b) == 0 && a.st_ino == b.st_ino, "not the tree's socket");
	check(talks(fds[3], y[1], "hi") && talks(y[1], y[0], "ho"), "the tree's socket does not talk");
	check(recv(sk[1], buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "more in the queue");
	pass();
	return test_result();
}
