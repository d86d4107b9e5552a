/* dev-files: /dev/null, /dev/zero and /dev/urandom fds keep their device, mode and behaviour. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct dev {
	const char *path;
	int flags, major, minor, fd;
};

int main(int argc, char **argv)
{
	struct dev d[] = {
		{ "/dev/null", O_WRONLY, 1, 3 },
		{ "/dev/zero", O_RDONLY, 1, 5 },
		{ "/dev/urandom", O_RDONLY | O_NONBLOCK, 1, 9 },
		{ "/dev/null", O_RDWR, 1, 3 },
	};
	int n = sizeof(d) / sizeof(d[0]);
	uint8_t buf[256], zero[256] = { 0 };
	struct stat st;

	test_init(argc, argv);
	for (int i = 0; i < n; i++)
		if ((d[i].fd = open(d[i].path, d[i].flags)) < 0)
			setup_fail("open %s", d[i].path);

	test_daemon();
	test_waitsig();

	for (int i = 0; i < n; i++) {
		check(fstat(d[i].fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == (unsigned)d[i].major &&
		      minor(st.st_rdev) == (unsigned)d[i].minor, "fd %d is not %s", d[i].fd, d[i].path);
		check((fcntl(d[i].fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == d[i].flags, "%s flags %#x", d[i].path,
		      fcntl(d[i].fd, F_GETFL));
	}
	check(write(d[0].fd, buf, sizeof(buf)) == sizeof(buf), "write /dev/null");
	memset(buf, 0xff, sizeof(buf));
	check(read(d[1].fd, buf, sizeof(buf)) == sizeof(buf) && !memcmp(buf, zero, sizeof(buf)), "read /dev/zero");
	check(read(d[2].fd, buf, sizeof(buf)) == sizeof(buf) && memcmp(buf, zero, sizeof(buf)), "read /dev/urandom");
	check(read(d[3].fd, buf, sizeof(buf)) == 0, "read /dev/null");
	pass();
	return test_result();
}
