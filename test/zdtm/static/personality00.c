/* personality00: ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC stay set; with READ_IMPLIES_EXEC a new
 * PROT_READ mapping made after restore is executable. */
#include "zdtmtst.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>

#define WANT (PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC)

int main(int argc, char **argv)
{
	struct map_entry e;
	void *m;

	test_init(argc, argv);
	if (personality(WANT) < 0 || personality(0xffffffff) != WANT)
		setup_fail("personality");

	test_daemon();
	test_waitsig();

	check(personality(0xffffffff) == WANT, "personality %#x, want %#x", personality(0xffffffff), WANT);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(m != MAP_FAILED && maps_find(m, &e) == 0 && !strcmp(e.perms, "r-xp"),
	      "PROT_READ mapping is %s with READ_IMPLIES_EXEC", e.perms);
	pass();
	return test_result();
}
