/* maps00: private anonymous mappings with a pattern, some pages never touched (must stay zero). */
#include "zdtmtst.h"

#include <sys/mman.h>
#include <unistd.h>

#define NR_PAGES 1024

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = NR_PAGES * ps;
	uint8_t *m;

	test_init(argc, argv);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	/* Pattern in 3 pages of 4; every 4th page is never touched. */
	for (int i = 0; i < NR_PAGES; i++)
		if (i % 4 != 3)
			fill_pattern(m + i * ps, ps, i);

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_PAGES; i++) {
		bool ok = true;

		if (i % 4 != 3) {
			ok = check(check_pattern(m + i * ps, ps, i) < 0, "page %d differs", i);
		} else {
			for (long j = 0; j < ps && ok; j++)
				ok = m[i * ps + j] == 0;
			ok = check(ok, "untouched page %d is not zero", i);
		}
		if (!ok)
			break;
	}
	pass();
	return test_result();
}
