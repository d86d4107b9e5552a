/* heap00: malloc'ed blocks of many sizes (brk and mmap'ed) keep their contents and addresses. */
#include "zdtmtst.h"

#include <stdlib.h>

#define NR_BLOCKS 200

int main(int argc, char **argv)
{
	static void *blocks[NR_BLOCKS], *copy[NR_BLOCKS];
	static size_t sizes[NR_BLOCKS];

	test_init(argc, argv);
	for (int i = 0; i < NR_BLOCKS; i++) {
		sizes[i] = (i % 10 == 9) ? (size_t)(i + 1) * 9000 : (size_t)(i * 37 % 1500 + 1);
		blocks[i] = malloc(sizes[i]);
		if (!blocks[i])
			setup_fail("malloc %zu", sizes[i]);
		fill_pattern(blocks[i], sizes[i], i + 100);
		copy[i] = blocks[i];
	}
	/* Holes in the heap: free every third block. */
	for (int i = 0; i < NR_BLOCKS; i += 3) {
		free(blocks[i]);
		blocks[i] = NULL;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_BLOCKS; i++) {
		ptrdiff_t off;

		if (!blocks[i])
			continue;
		check(blocks[i] == copy[i], "block %d moved", i);
		off = check_pattern(blocks[i], sizes[i], i + 100);
		if (!check(off < 0, "block %d (%zu bytes) differs at %td", i, sizes[i], off))
			break;
	}
	/* The allocator still works on the restored heap. */
	for (int i = 0; i < NR_BLOCKS; i += 3) {
		blocks[i] = malloc(sizes[i] + 100);
		check(blocks[i] != NULL, "malloc after restore");
	}
	pass();
	return test_result();
}
