/* pty00: a pty pair (/dev/ptmx master, non-blocking, in packet mode, and its /dev/pts/N slave)
 * with raw termios and special characters changed, a window size set, and data the master wrote
 * still queued to the slave. After restore the pair has the same index, the slave the same
 * termios and window size and the queued data (once), the master its flags and packet mode, and
 * data goes both ways. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct termios tio, back;
	struct winsize ws = {.ws_row = 33, .ws_col = 101, .ws_xpixel = 7, .ws_ypixel = 9}, wback;
	struct stat st, stback;
	struct pollfd pfd;
	int master, slave, index, index_back = -1, pkt = 0, one = 1;
	char buf[16];

	test_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || ioctl(master, TIOCGPTN, &index))
		setup_fail("posix_openpt");
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0 || fstat(slave, &st))
		setup_fail("open %s", ptsname(master));
	if (tcgetattr(slave, &tio))
		setup_fail("tcgetattr");
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 3;
	tio.c_cc[VINTR] = 0x07;
	tio.c_cc[VEOF] = 0x05;
	cfsetospeed(&tio, B9600);
	if (tcsetattr(slave, TCSANOW, &tio) || tcgetattr(slave, &tio) || ioctl(slave, TIOCSWINSZ, &ws))
		setup_fail("tcsetattr");
	if (ioctl(master, TIOCPKT, &one) || fcntl(master, F_SETFL, O_NONBLOCK))
		setup_fail("TIOCPKT");
	if (write(master, "queued", 6) != 6)
		setup_fail("write");

	test_daemon();
	test_waitsig();

	check(ioctl(master, TIOCGPTN, &index_back) == 0 && index_back == index, "index %d, was %d", index_back, index);
	check(fstat(slave, &stback) == 0 && stback.st_rdev == st.st_rdev, "the slave is another device");
	check(tcgetattr(slave, &back) == 0, "tcgetattr");
	check(back.c_iflag == tio.c_iflag && back.c_oflag == tio.c_oflag && back.c_cflag == tio.c_cflag &&
		      back.c_lflag == tio.c_lflag && !memcmp(back.c_cc, tio.c_cc, sizeof(tio.c_cc)),
	      "termios differ: lflag %#x was %#x, cflag %#x was %#x", back.c_lflag, tio.c_lflag, back.c_cflag,
	      tio.c_cflag);
	check(cfgetospeed(&back) == B9600, "output speed %d", cfgetospeed(&back));
	check(ioctl(slave, TIOCGWINSZ, &wback) == 0 && !memcmp(&ws, &wback, sizeof(ws)), "window size %dx%d",
	      wback.ws_row, wback.ws_col);
	check(ioctl(master, TIOCGPKT, &pkt) == 0 && pkt == 1, "packet mode %d", pkt);
	check((fcntl(master, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDWR | O_NONBLOCK), "master flags %#x",
	      fcntl(master, F_GETFL));
	check((fcntl(slave, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDWR, "slave flags %#x",
	      fcntl(slave, F_GETFL));
	pfd.fd = slave;
	pfd.events = POLLIN;
	check(poll(&pfd, 1, 5000) == 1 && fcntl(slave, F_SETFL, O_NONBLOCK) == 0 &&
		      read(slave, buf, sizeof(buf)) == 6 && !memcmp(buf, "queued", 6),
	      "the data queued to the slave is lost");
	check(read(slave, buf, sizeof(buf)) < 0 && errno == EAGAIN, "more data queued than was written");
	check(fcntl(slave, F_SETFL, 0) == 0 && write(master, "hello", 5) == 5 && read(slave, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5),
	      "master to slave");
	pfd.fd = master;
	pfd.events = POLLIN;
	check(write(slave, "abc", 3) == 3 && poll(&pfd, 1, 5000) == 1 && read(master, buf, sizeof(buf)) == 4 &&
		      !memcmp(buf, "\0abc", 4),
	      "slave to master (packet mode)");
	pass();
	return test_result();
}
