/* maps-file-prv: a private writable file mapping with some pages modified: those read back
 * modified, the others still read as the file, and the file itself is unchanged. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NR_PAGES 16

static bool modified(int i)
{
	return i % 3 == 1;
}

int main(int argc, char **argv)
{
	const char *name = test_opt("filename", "maps-file-prv.data");
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = NR_PAGES * ps;
	uint8_t *file, *m, *buf;
	struct map_entry e;
	int fd;

	test_init(argc, argv);
	file = malloc(len);
	buf = malloc(len);
	if (!file || !buf)
		setup_fail("malloc");
	fill_pattern(file, len, 21);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, file, len) != (ssize_t)len)
		setup_fail("write %s", name);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	close(fd);
	for (int i = 0; i < NR_PAGES; i++)
		if (modified(i))
			fill_pattern(m + i * ps, ps, 100 + i);
		else
			(void)*(volatile uint8_t *)(m + i * ps);	/* page cache, not COW */

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_PAGES; i++) {
		if (modified(i))
			check(check_pattern(m + i * ps, ps, 100 + i) < 0, "modified page %d lost its change", i);
		else
			check(!memcmp(m + i * ps, file + i * ps, ps), "unmodified page %d differs from the file", i);
	}
	check(maps_find(m, &e) == 0 && !strcmp(e.perms, "rw-p") && strstr(e.path, name),
	      "mapping is '%s' '%s'", e.perms, e.path);
	fd = open(name, O_RDONLY);
	check(fd >= 0 && read(fd, buf, len) == (ssize_t)len && !memcmp(buf, file, len), "the file changed");
	pass();
	return test_result();
}
