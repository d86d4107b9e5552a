/* sk-unix-scm04: FIFO ends in flight on a datagram socketpair (SCM_RIGHTS). The task opens a
 * named pipe in the cwd for reading (non-blocking) and for writing, buffers data in it, sends
 * both ends and closes them: the FIFO is then only in flight. A second FIFO's write end is sent
 * while the task keeps its read end. After restore the received ends are the same FIFO nodes
 * with their flags, the buffered data comes back once, and each sent write end feeds the
 * read end it belongs to. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIFO1 "sk-unix-scm04.fifo1"
#define FIFO2 "sk-unix-scm04.fifo2"
#define LEN 1500

static bool same_node(const char *path, int fd)
{
	struct stat st, fst;
	return stat(path, &st) == 0 && fstat(fd, &fst) == 0 && st.st_ino == fst.st_ino && S_ISFIFO(fst.st_mode);
}

int main(int argc, char **argv)
{
	static uint8_t data[LEN], back[LEN + 1];
	int sk[2], ends[3], got[3];

	test_init(argc, argv);
	if (mkfifo(FIFO1, 0600) || mkfifo(FIFO2, 0600))
		setup_fail("mkfifo");
	ends[0] = open(FIFO1, O_RDONLY | O_NONBLOCK);
	ends[1] = open(FIFO1, O_WRONLY);
	int keep = open(FIFO2, O_RDONLY | O_NONBLOCK);
	ends[2] = open(FIFO2, O_WRONLY);
	if (ends[0] < 0 || ends[1] < 0 || keep < 0 || ends[2] < 0)
		setup_fail("open the FIFOs");
	fill_pattern(data, sizeof(data), 4);
	if (write(ends[1], data, LEN) != LEN)
		setup_fail("write");
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sk))
		setup_fail("socketpair");
	test_send_fds(sk[0], "fifo", ends, 3);
	for (int i = 0; i < 3; i++)
		close(ends[i]);

	test_daemon();
	test_waitsig();

	if (!check(test_recv_fds(sk[1], (char[8]){ 0 }, 8, got, 3) == 3, "not 3 FIFO ends in flight")) {
		pass();
		return test_result();
	}
	check(same_node(FIFO1, got[0]) && same_node(FIFO1, got[1]) && same_node(FIFO2, got[2]),
	      "received ends are not the FIFO nodes");
	check((fcntl(got[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDONLY | O_NONBLOCK), "read flags %#x",
	      fcntl(got[0], F_GETFL));
	check((fcntl(got[1], F_GETFL) & O_ACCMODE) == O_WRONLY, "write flags %#x", fcntl(got[1], F_GETFL));
	ssize_t n = read(got[0], back, sizeof(back));
	check(n == LEN && !memcmp(back, data, LEN), "read back %zd bytes, want %d (or they differ)", n, LEN);
	check(read(got[0], back, 1) < 0 && errno == EAGAIN, "more data than was buffered");
	check(write(got[1], "x", 1) == 1 && read(got[0], back, 1) == 1 && back[0] == 'x', "FIFO1 ends not connected");
	check(write(got[2], "y", 1) == 1 && read(keep, back, 1) == 1 && back[0] == 'y',
	      "FIFO2's sent write end does not feed the kept read end");
	pass();
	return test_result();
}
