/* shm-anon: a MAP_SHARED anonymous mapping and a second view of the same pages (mremap with
 * old_size 0): contents survive, and the two views still share pages after restore. */
#include "zdtmtst.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = 32 * ps;
	struct map_entry e;
	uint8_t *m, *alias;

	test_init(argc, argv);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	alias = mremap(m, 0, len, MREMAP_MAYMOVE);
	if (alias == MAP_FAILED)
		setup_fail("mremap alias");
	fill_pattern(m, len - ps, 31);	/* last page left untouched */
	if (memcmp(m, alias, len))
		setup_fail("alias does not share pages");

	test_daemon();
	test_waitsig();

	check(check_pattern(m, len - ps, 31) < 0, "contents differ");
	check(check_pattern(alias, len - ps, 31) < 0, "alias contents differ");
	check(m[len - 1] == 0, "untouched page not zero");
	check(maps_find(m, &e) == 0 && !strcmp(e.perms, "rw-s") && strstr(e.path, "/dev/zero"),
	      "mapping is '%s' '%s'", e.perms, e.path);
	m[5] = ~m[5];
	alias[len - 1] = 0x77;
	check(alias[5] == m[5] && m[len - 1] == 0x77, "views no longer share pages");
	pass();
	return test_result();
}
