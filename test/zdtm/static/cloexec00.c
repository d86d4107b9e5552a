/* cloexec00: FD_CLOEXEC and status flags (O_NONBLOCK, O_APPEND, O_NOATIME) per fd survive. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <unistd.h>

#define NR 6

int main(int argc, char **argv)
{
	const int fl[NR] = { 0, O_NONBLOCK, O_APPEND, O_NONBLOCK | O_APPEND, O_NOATIME, 0 };
	int fds[NR];

	test_init(argc, argv);
	for (int i = 0; i < NR; i++) {
		fds[i] = open("cloexec00.data", O_RDWR | O_CREAT | fl[i] | (i % 2 ? O_CLOEXEC : 0), 0644);
		if (fds[i] < 0)
			setup_fail("open");
	}
	fcntl(fds[5], F_SETFD, FD_CLOEXEC);	/* set after open */
	fcntl(fds[1], F_SETFD, 0);		/* cleared after open */

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++) {
		int cloexec = (i % 2 && i != 1) || i == 5;

		check(fcntl(fds[i], F_GETFD) == (cloexec ? FD_CLOEXEC : 0), "fd %d FD_CLOEXEC %d", fds[i],
		      fcntl(fds[i], F_GETFD));
		check((fcntl(fds[i], F_GETFL) & (O_NONBLOCK | O_APPEND | O_NOATIME | O_ACCMODE)) == (fl[i] | O_RDWR),
		      "fd %d flags %#x, want %#x", fds[i], fcntl(fds[i], F_GETFL), fl[i] | O_RDWR);
	}
	pass();
	return test_result();
}
