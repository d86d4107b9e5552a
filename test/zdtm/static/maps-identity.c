/* maps-identity: /proc/self/maps lists the same mappings (start-end perms path) after restore. */
#include "zdtmtst.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAPS_SIZE (1 << 20)

/* Keeps "start-end perms path" of each line, drops offset, device and inode. */
static void simplify(char *text)
{
	char *out = text, *p = text;
	struct map_entry e;

	while (*p) {
		char *nl = strchrnul(p, '\n');

		/* Output is never longer than the line just parsed: rewriting in place is safe. */
		if (!parse_maps_line(p, nl - p, &e))
			out += sprintf(out, "%lx-%lx %s %s\n", e.start, e.end, e.perms, e.path);
		p = *nl ? nl + 1 : nl;
	}
	*out = '\0';
}

static void report_diff(const char *a, const char *b)
{
	while (*a && *b) {
		const char *na = strchrnul(a, '\n'), *nb = strchrnul(b, '\n');

		if (na - a != nb - b || memcmp(a, b, na - a)) {
			fail("before: %.*s | after: %.*s", (int)(na - a), a, (int)(nb - b), b);
			return;
		}
		a = *na ? na + 1 : na;
		b = *nb ? nb + 1 : nb;
	}
	fail("one list is longer: '%.80s' '%.80s'", a, b);
}

int main(int argc, char **argv)
{
	static char before[MAPS_SIZE], after[MAPS_SIZE];
	long ps = sysconf(_SC_PAGESIZE);
	uint8_t *m;

	test_init(argc, argv);
	/* Some variety: a split mapping and a shared one. */
	m = mmap(NULL, 6 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + 2 * ps, ps, PROT_READ) ||
	    mmap(NULL, ps, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		setup_fail("mmap");
	if (read_file("/proc/self/maps", before, MAPS_SIZE) <= 0)
		setup_fail("read maps");

	test_daemon();
	test_waitsig();

	if (check(read_file("/proc/self/maps", after, MAPS_SIZE) > 0, "read maps")) {
		simplify(before);
		simplify(after);
		if (!check(!strcmp(before, after), "/proc/self/maps changed"))
			report_diff(before, after);
	}
	pass();
	return test_result();
}
