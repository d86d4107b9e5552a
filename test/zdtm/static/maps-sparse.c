/* maps-sparse: a 4 GiB MAP_NORESERVE mapping with ~100 scattered pages written; the rest reads 0. */
#include "zdtmtst.h"

#include <sys/mman.h>
#include <unistd.h>

#define MAP_LEN (4ULL << 30)
#define NR_WRITTEN 100

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t nr_pages = MAP_LEN / ps;
	uint64_t offs[NR_WRITTEN];
	uint8_t *m;

	test_init(argc, argv);
	m = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap 4G");
	for (int i = 0; i < NR_WRITTEN; i++) {
		offs[i] = ((uint64_t)i * 2654435761ULL % nr_pages) * ps;
		m[offs[i]] = (uint8_t)(i + 1);
		m[offs[i] + ps - 1] = (uint8_t)(0xff - i);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_WRITTEN; i++) {
		if (!check(m[offs[i]] == (uint8_t)(i + 1) && m[offs[i] + ps - 1] == (uint8_t)(0xff - i),
			   "page at offset %#llx lost its bytes", (unsigned long long)offs[i]))
			break;
	}
	/* Unwritten pages read zero: a page between two written ones and the last one. */
	check(m[ps] == 0 && m[MAP_LEN - 1] == 0 && m[(MAP_LEN / 2) + 17] == 0, "an unwritten page is not zero");
	pass();
	return test_result();
}
