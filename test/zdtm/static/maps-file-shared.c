/* maps-file-shared: a MAP_SHARED file mapping: contents survive, writes through the mapping
 * reach the file and writes to the file show in the mapping, before and after restore. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *name = test_opt("filename", "maps-file-shared.data");
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = 8 * ps;
	uint8_t buf[64], *m;
	int fd;

	test_init(argc, argv);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, len))
		setup_fail("create %s", name);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	close(fd);
	fill_pattern(m, len, 41);
	if (msync(m, len, MS_SYNC))
		setup_fail("msync");

	test_daemon();
	test_waitsig();

	check(check_pattern(m, len, 41) < 0, "mapping contents differ");
	fd = open(name, O_RDWR);
	if (!check(fd >= 0, "open %s", name)) {
		pass();
		return test_result();
	}
	check(pread(fd, buf, sizeof(buf), 3 * ps) == sizeof(buf) && !memcmp(buf, m + 3 * ps, sizeof(buf)),
	      "file and mapping differ");
	memcpy(m + 5 * ps, "through the mapping", 19);
	check(pread(fd, buf, 19, 5 * ps) == 19 && !memcmp(buf, "through the mapping", 19),
	      "write through the mapping did not reach the file");
	check(pwrite(fd, "through the file", 16, 7 * ps) == 16 && !memcmp(m + 7 * ps, "through the file", 16),
	      "write to the file does not show in the mapping");
	pass();
	return test_result();
}
