/* mprotect00: regions with PROT_NONE, read-only and rwx keep protection and contents. */
#include "zdtmtst.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct region {
	int prot;
	const char *perms;
	uint8_t *addr;
};

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct region r[] = {
		{ PROT_NONE, "---p" },
		{ PROT_READ, "r--p" },
		{ PROT_READ | PROT_WRITE | PROT_EXEC, "rwxp" },
		{ PROT_WRITE, "-w-p" },	/* x86: write implies read */
	};
	int n = sizeof(r) / sizeof(r[0]);

	test_init(argc, argv);
	/* One mapping split into regions by mprotect, so neighbours differ only in protection. */
	uint8_t *m = mmap(NULL, n * 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	for (int i = 0; i < n; i++) {
		r[i].addr = m + i * 4 * ps;
		fill_pattern(r[i].addr, 4 * ps, i + 7);
		if (mprotect(r[i].addr, 4 * ps, r[i].prot))
			setup_fail("mprotect %s", r[i].perms);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < n; i++) {
		struct map_entry e;

		if (!check(maps_find(r[i].addr, &e) == 0, "region %d not mapped", i))
			continue;
		check(!strcmp(e.perms, r[i].perms), "region %d perms %s, want %s", i, e.perms, r[i].perms);
		check(e.start == (unsigned long)r[i].addr && e.end == (unsigned long)r[i].addr + 4 * ps,
		      "region %d is %lx-%lx", i, e.start, e.end);
		if (r[i].prot == PROT_NONE)
			check(faults(touch_read, r[i].addr), "PROT_NONE region is readable");
		if (r[i].prot == PROT_READ)
			check(faults(touch_write, r[i].addr), "read-only region is writable");
	}
	/* Only now (it merges the regions): make all readable and check contents. */
	for (int i = 0; i < n; i++) {
		if (mprotect(r[i].addr, 4 * ps, PROT_READ))
			fail_errno("mprotect read");
		check(check_pattern(r[i].addr, 4 * ps, i + 7) < 0, "region %d (%s) contents differ", i, r[i].perms);
	}
	pass();
	return test_result();
}
