/* fd-many: 500 fds on one file, each at its own offset, all survive. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <unistd.h>

#define NR_FDS 500

int main(int argc, char **argv)
{
	static int fds[NR_FDS];

	test_init(argc, argv);
	for (int i = 0; i < NR_FDS; i++) {
		fds[i] = open("fd-many.data", O_RDWR | O_CREAT, 0644);
		if (fds[i] < 0 || lseek(fds[i], i * 7, SEEK_SET) != i * 7)
			setup_fail("open %d", i);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_FDS; i++)
		if (!check(lseek(fds[i], 0, SEEK_CUR) == i * 7, "fd %d at %ld, want %d", fds[i],
			   (long)lseek(fds[i], 0, SEEK_CUR), i * 7))
			break;
	check(fcntl(fds[NR_FDS - 1] + 1, F_GETFD) < 0 && errno == EBADF, "an extra fd is open");
	pass();
	return test_result();
}
