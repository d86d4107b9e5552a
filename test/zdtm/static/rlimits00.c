/* rlimits00: lowered soft limits (and a lowered hard one) survive, the rest is unchanged. */
#include "zdtmtst.h"

#include <sys/resource.h>

struct lim {
	int res;
	rlim_t soft, hard;	/* RLIM_SAVED_CUR: keep what it was */
};

int main(int argc, char **argv)
{
	struct lim set[] = {
		{ RLIMIT_NOFILE, 777, RLIM_SAVED_CUR },
		{ RLIMIT_CORE, 0, RLIM_SAVED_CUR },
		{ RLIMIT_STACK, 4 << 20, RLIM_SAVED_CUR },
		{ RLIMIT_MEMLOCK, 1 << 20, RLIM_SAVED_CUR },
		{ RLIMIT_MSGQUEUE, 4096, RLIM_SAVED_CUR },
		{ RLIMIT_CPU, 100000, 200000 },
		{ RLIMIT_SIGPENDING, 1000, RLIM_SAVED_CUR },
		{ RLIMIT_NPROC, 5000, RLIM_SAVED_CUR },
	};
	struct rlimit all[RLIM_NLIMITS], cur;

	test_init(argc, argv);
	for (int i = 0; i < (int)(sizeof(set) / sizeof(set[0])); i++) {
		struct rlimit r;

		getrlimit(set[i].res, &r);
		r.rlim_cur = set[i].soft;
		if (set[i].hard != RLIM_SAVED_CUR)
			r.rlim_max = set[i].hard;
		if (setrlimit(set[i].res, &r))
			setup_fail("setrlimit %d", set[i].res);
	}
	for (int r = 0; r < RLIM_NLIMITS; r++)
		getrlimit(r, &all[r]);

	test_daemon();
	test_waitsig();

	for (int r = 0; r < RLIM_NLIMITS; r++) {
		getrlimit(r, &cur);
		check(cur.rlim_cur == all[r].rlim_cur && cur.rlim_max == all[r].rlim_max,
		      "rlimit %d is %llu/%llu, want %llu/%llu", r, (unsigned long long)cur.rlim_cur,
		      (unsigned long long)cur.rlim_max, (unsigned long long)all[r].rlim_cur,
		      (unsigned long long)all[r].rlim_max);
	}
	check(all[RLIMIT_NOFILE].rlim_cur == 777 && all[RLIMIT_CPU].rlim_max == 200000, "limits not set");
	pass();
	return test_result();
}
