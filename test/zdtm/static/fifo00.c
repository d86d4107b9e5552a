/* fifo00: a named pipe in the cwd, opened for reading (non-blocking) and for writing, with data
 * buffered in it. After restore both fds are the same FIFO node with the same flags, the data
 * comes back once and the two ends still talk to each other. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIFO "fifo00.fifo"
#define LEN 3000

int main(int argc, char **argv)
{
	static uint8_t data[LEN], back[LEN + 1];
	struct stat st, fst;
	int r, w;
	ssize_t n;

	test_init(argc, argv);
	if (mkfifo(FIFO, 0600))
		setup_fail("mkfifo");
	r = open(FIFO, O_RDONLY | O_NONBLOCK);
	w = open(FIFO, O_WRONLY);
	if (r < 0 || w < 0)
		setup_fail("open " FIFO);
	fill_pattern(data, sizeof(data), 11);
	if (write(w, data, LEN) != LEN)
		setup_fail("write");

	test_daemon();
	test_waitsig();

	check(stat(FIFO, &st) == 0 && fstat(r, &fst) == 0 && st.st_ino == fst.st_ino && S_ISFIFO(fst.st_mode),
	      "read fd is not the FIFO node");
	check(fstat(w, &fst) == 0 && st.st_ino == fst.st_ino, "write fd is not the FIFO node");
	check((fcntl(r, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDONLY | O_NONBLOCK), "read flags %#x",
	      fcntl(r, F_GETFL));
	check((fcntl(w, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_WRONLY, "write flags %#x", fcntl(w, F_GETFL));
	n = read(r, back, sizeof(back));
	check(n == LEN && !memcmp(back, data, LEN), "read back %zd bytes, want %d (or they differ)", n, LEN);
	check(read(r, back, 1) < 0 && errno == EAGAIN, "more data than was buffered");
	check(write(w, "x", 1) == 1 && read(r, back, 1) == 1 && back[0] == 'x', "ends not connected");
	pass();
	return test_result();
}
