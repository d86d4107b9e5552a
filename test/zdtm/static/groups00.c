/* groups00: supplementary groups (set with setgroups) survive, in order. */
#include "zdtmtst.h"

#include <grp.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const gid_t want[] = { 2, 5, 100, 1000, 31337, 65534 };	/* the kernel keeps them sorted */
	int n = sizeof(want) / sizeof(want[0]);
	gid_t cur[64];

	test_init(argc, argv);
	if (setgroups(n, want))
		setup_fail("setgroups");

	test_daemon();
	test_waitsig();

	if (check(getgroups(64, cur) == n, "getgroups gives %d groups, want %d", getgroups(64, cur), n))
		for (int i = 0; i < n; i++)
			check(cur[i] == want[i], "group %d is %d, want %d", i, cur[i], want[i]);
	pass();
	return test_result();
}
