/* madvise00: MADV_DONTFORK, MADV_DONTDUMP and MADV_HUGEPAGE stay set (VmFlags dc, dd, hg in
 * /proc/self/smaps), and the memory under them keeps its contents. */
#include "zdtmtst.h"

#include <sys/mman.h>
#include <unistd.h>

struct advice {
	int advice;
	const char *flag;
	uint8_t *addr;
};

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t len = 4 << 20;	/* room for a huge page */
	struct advice a[] = {
		{ MADV_DONTFORK, "dc" },
		{ MADV_DONTDUMP, "dd" },
		{ MADV_HUGEPAGE, "hg" },
	};
	char flags[256];
	uint8_t *plain;

	test_init(argc, argv);
	for (int i = 0; i < 3; i++) {
		a[i].addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a[i].addr == MAP_FAILED)
			setup_fail("mmap");
		if (madvise(a[i].addr, len, a[i].advice))
			setup_fail("madvise %s", a[i].flag);
		fill_pattern(a[i].addr, 8 * ps, 60 + i);
	}
	/* A neighbour without advice: must not gain any of the flags. */
	plain = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (plain == MAP_FAILED)
		setup_fail("mmap");
	if (madvise(plain, len, MADV_NOHUGEPAGE))
		setup_fail("madvise MADV_NOHUGEPAGE");
	plain[0] = 1;

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 3; i++) {
		if (!check(smaps_vmflags(a[i].addr, flags, sizeof(flags)) == 0, "no smaps entry"))
			continue;
		check(vmflag_has(flags, a[i].flag), "VmFlags '%s' lack %s", flags, a[i].flag);
		check(check_pattern(a[i].addr, 8 * ps, 60 + i) < 0, "contents under %s differ", a[i].flag);
	}
	if (check(smaps_vmflags(plain, flags, sizeof(flags)) == 0, "no smaps entry"))
		check(!vmflag_has(flags, "dc") && !vmflag_has(flags, "dd") && !vmflag_has(flags, "hg") &&
		      vmflag_has(flags, "nh"), "plain mapping has VmFlags '%s'", flags);
	pass();
	return test_result();
}
