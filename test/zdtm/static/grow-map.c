/* grow-map: a MAP_GROWSDOWN mapping that already grew once keeps its size, contents and "gd"
 * flag, and still grows on a touch below its start after restore. */
#include "zdtmtst.h"

#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct map_entry e;
	char flags[256];
	uint8_t *hole, *m, *low;

	test_init(argc, argv);
	/* Reserve 64 pages, free all but the top 4 so the stack has room below it. */
	hole = mmap(NULL, 64 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		setup_fail("mmap");
	munmap(hole, 64 * ps);
	m = mmap(hole + 60 * ps, 4 * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap MAP_GROWSDOWN");
	fill_pattern(m, 4 * ps, 11);
	low = m - 2 * ps;	/* grows by two pages */
	*low = 0x5a;
	if (maps_find(m, &e) || e.start != (unsigned long)low)
		setup_fail("MAP_GROWSDOWN did not grow (start %lx, want %p)", e.start, low);

	test_daemon();
	test_waitsig();

	if (check(maps_find(m, &e) == 0, "mapping gone")) {
		check(e.start == (unsigned long)low && e.end == (unsigned long)(m + 4 * ps),
		      "mapping is %lx-%lx, want %p-%p", e.start, e.end, low, m + 4 * ps);
	}
	check(smaps_vmflags(m, flags, sizeof(flags)) == 0 && vmflag_has(flags, "gd"), "VmFlags '%s' lack gd", flags);
	check(check_pattern(m, 4 * ps, 11) < 0 && *low == 0x5a, "contents differ");
	low[-ps] = 0xa5;	/* grows again */
	check(maps_find(m, &e) == 0 && e.start == (unsigned long)(low - ps), "did not grow after restore");
	pass();
	return test_result();
}
