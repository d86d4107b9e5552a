/* static00: .data and .bss keep their contents (a pattern written after start, values set at build). */
#include "zdtmtst.h"

#include <string.h>

#define BSS_SIZE (3 * 4096 + 123)

static char bss_buf[BSS_SIZE];
static long data_vals[64] = { 1, 2, 3, 0x1234567890abcdefL, -1, 42 };
static const char rodata_str[] = "zdtm rodata string";

int main(int argc, char **argv)
{
	ptrdiff_t off;

	test_init(argc, argv);
	fill_pattern(bss_buf, sizeof(bss_buf), 1);
	for (int i = 6; i < 64; i++)
		data_vals[i] = i * 1000003L;

	test_daemon();
	test_waitsig();

	off = check_pattern(bss_buf, sizeof(bss_buf), 1);
	check(off < 0, ".bss differs at offset %td", off);
	check(data_vals[0] == 1 && data_vals[3] == 0x1234567890abcdefL && data_vals[4] == -1 && data_vals[5] == 42,
	      ".data initial values changed");
	for (int i = 6; i < 64; i++)
		if (!check(data_vals[i] == i * 1000003L, ".data[%d] = %ld", i, data_vals[i]))
			break;
	check(!strcmp(rodata_str, "zdtm rodata string"), ".rodata changed");
	pass();
	return test_result();
}
