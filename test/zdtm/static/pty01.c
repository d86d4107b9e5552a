/* pty01: the test (a session leader, started with setsid) opens a pty slave without O_NOCTTY, so
 * that it becomes the session's controlling terminal. After restore it still is: /dev/tty is
 * that slave (same window size), its session is the test's and its foreground process group the test's. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct winsize ws = {.ws_row = 41, .ws_col = 97}, back = {};
	int master, slave, tty;
	char buf[8];

	test_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		setup_fail("posix_openpt");
	slave = open(ptsname(master), O_RDWR);
	if (slave < 0 || ioctl(slave, TIOCSWINSZ, &ws))
		setup_fail("open %s", ptsname(master));
	if (tcgetsid(slave) != getpid())
		setup_fail("the slave is not the controlling terminal (sid %d)", tcgetsid(slave));

	test_daemon();
	test_waitsig();

	check(tcgetsid(slave) == getpid(), "the slave is the terminal of session %d", tcgetsid(slave));
	check(tcgetpgrp(slave) == getpgrp(), "foreground group %d, not %d", tcgetpgrp(slave), getpgrp());
	tty = open("/dev/tty", O_RDWR);
	check(tty >= 0 && ioctl(tty, TIOCGWINSZ, &back) == 0 && back.ws_row == 41 && back.ws_col == 97,
	      "/dev/tty is not the slave (%dx%d)", back.ws_row, back.ws_col);
	check(write(master, "x\n", 2) == 2 && read(slave, buf, sizeof(buf)) == 2 && buf[0] == 'x', "master to slave");
	pass();
	return test_result();
}
