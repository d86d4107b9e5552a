/* file-ro: a read-only fd keeps its offset and mode: it reads the right bytes and cannot write. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *name = test_opt("filename", "file-ro.data");
	uint8_t data[8192], buf[100];
	int fd;

	test_init(argc, argv);
	fill_pattern(data, sizeof(data), 8);
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0444);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data))
		setup_fail("write %s", name);
	close(fd);
	fd = open(name, O_RDONLY);
	if (fd < 0 || lseek(fd, 5000, SEEK_SET) != 5000)
		setup_fail("open %s", name);

	test_daemon();
	test_waitsig();

	check((fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK)) == O_RDONLY, "flags %#x",
	      fcntl(fd, F_GETFL));
	check(read(fd, buf, 100) == 100 && !memcmp(buf, data + 5000, 100), "read at the restored offset");
	check(write(fd, "x", 1) < 0 && errno == EBADF, "a read-only fd writes");
	pass();
	return test_result();
}
