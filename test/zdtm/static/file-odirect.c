/* file-odirect: an O_DIRECT fd keeps O_DIRECT and its offset; aligned reads work. Passes with a
 * note where the filesystem has no O_DIRECT. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK 4096

int main(int argc, char **argv)
{
	const char *name = test_opt("filename", "file-odirect.data");
	uint8_t *data, *buf;
	int fd;

	test_init(argc, argv);
	if (posix_memalign((void **)&data, BLK, 4 * BLK) || posix_memalign((void **)&buf, BLK, BLK))
		setup_fail("posix_memalign");
	fill_pattern(data, 4 * BLK, 9);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	if (fd < 0 && errno == EINVAL) {
		test_daemon();
		test_waitsig();
		skip("no O_DIRECT on this filesystem");
		return test_result();
	}
	if (fd < 0 || write(fd, data, 4 * BLK) != 4 * BLK || lseek(fd, 2 * BLK, SEEK_SET) != 2 * BLK)
		setup_fail("O_DIRECT write %s", name);

	test_daemon();
	test_waitsig();

	check(fcntl(fd, F_GETFL) & O_DIRECT, "O_DIRECT lost (flags %#x)", fcntl(fd, F_GETFL));
	check(lseek(fd, 0, SEEK_CUR) == 2 * BLK, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));
	check(read(fd, buf, BLK) == BLK && !memcmp(buf, data + 2 * BLK, BLK), "aligned read");
	check(read(fd, buf + 1, 100) < 0 && errno == EINVAL, "unaligned O_DIRECT read accepted");
	pass();
	return test_result();
}
