/* maps-guard: PROT_NONE guard mappings around a buffer (as pthread stacks have) and, where the
 * kernel has it, MADV_GUARD_INSTALL guard pages inside a mapping: guards still fault after
 * restore, the pages around them keep their contents. */
#include "zdtmtst.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	bool have_madv_guard;
	uint8_t *m, *g, *want;

	test_init(argc, argv);
	/* [guard][8 pages data][guard] */
	m = mmap(NULL, 10 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	fill_pattern(m + ps, 8 * ps, 3);
	if (mprotect(m, ps, PROT_NONE) || mprotect(m + 9 * ps, ps, PROT_NONE))
		setup_fail("mprotect guard");

	/* 8 pages, pages 2 and 5 are madvise guards. */
	g = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		setup_fail("mmap");
	fill_pattern(g, 8 * ps, 4);
	want = malloc(8 * ps);
	if (!want)
		setup_fail("malloc");
	memcpy(want, g, 8 * ps);
	have_madv_guard = madvise(g + 2 * ps, ps, MADV_GUARD_INSTALL) == 0 &&
			  madvise(g + 5 * ps, ps, MADV_GUARD_INSTALL) == 0;
	if (!have_madv_guard)
		test_msg("no MADV_GUARD_INSTALL here (%m): only PROT_NONE guards are checked");

	test_daemon();
	test_waitsig();

	check(faults(touch_read, m) && faults(touch_write, m + 9 * ps + 10), "a PROT_NONE guard is accessible");
	check(!faults(touch_read, m + ps) && !faults(touch_read, m + 9 * ps - 1), "data next to a guard faults");
	check(check_pattern(m + ps, 8 * ps, 3) < 0, "data between guards differs");
	if (have_madv_guard) {
		check(faults(touch_read, g + 2 * ps) && faults(touch_write, g + 5 * ps + 100),
		      "an MADV_GUARD_INSTALL page is accessible");
		/* The pattern runs over the whole mapping: compare page by page with the copy. */
		for (int i = 0; i < 8; i++)
			if (i != 2 && i != 5)
				check(!memcmp(g + i * ps, want + i * ps, ps), "page %d near madvise guards differs", i);
	}
	pass();
	return test_result();
}
