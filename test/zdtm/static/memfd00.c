/* memfd00: a memfd kept open and mapped shared: contents, name, size, seals and sharing between
 * the fd and the mapping survive. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = 16 * ps;
	char path[64], link[256];
	uint8_t buf[32], *m;
	struct stat st;
	ssize_t n;
	int fd;

	test_init(argc, argv);
	fd = memfd_create("zdtm-memfd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, len))
		setup_fail("memfd_create");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	fill_pattern(m, len, 51);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		setup_fail("F_ADD_SEALS");

	test_daemon();
	test_waitsig();

	check(check_pattern(m, len, 51) < 0, "mapping contents differ");
	check(fstat(fd, &st) == 0 && st.st_size == (off_t)len, "size %ld", (long)st.st_size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(!strcmp(link, "/memfd:zdtm-memfd (deleted)"), "fd link is '%s'", link);
	check(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW), "seals %#x", fcntl(fd, F_GET_SEALS));
	check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "FD_CLOEXEC lost");
	check(pread(fd, buf, sizeof(buf), 9 * ps) == sizeof(buf) && !memcmp(buf, m + 9 * ps, sizeof(buf)),
	      "fd and mapping differ");
	check(pwrite(fd, "memfd", 5, 2 * ps) == 5 && !memcmp(m + 2 * ps, "memfd", 5),
	      "fd write not visible in the mapping");
	check(ftruncate(fd, ps) < 0 && errno == EPERM, "F_SEAL_SHRINK not enforced");
	pass();
	return test_result();
}
