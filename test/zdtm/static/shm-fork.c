/* shm-fork: MAP_SHARED anonymous memory shared by a parent and two children comes back shared:
 * every task sees the same contents at the same addresses, one child maps only the tail of a
 * segment (pgoff > 0), and a write by any task after restore is seen by the others. */
#include "zdtmtst.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 64
#define CUT 8 /* pages the second child unmaps from the front of segment b */

struct shared {
	volatile int go;      /* set by the parent after restore */
	volatile int ack[2];  /* each child's answer */
};

static long ps;
static uint8_t *a, *b; /* a: control page + pattern; b: pattern */

static int child(int i)
{
	struct shared *s = (struct shared *)a;
	uint8_t *b_view = b;
	if (i == 1) {
		if (munmap(b, CUT * ps))
			_exit(2);
		b_view = b + CUT * ps;
	}
	while (!s->go)
		usleep(1000);
	int ok = check_pattern(a + ps, (PAGES - 1) * ps, 7) < 0;
	/* the parent rewrote b's tail after restore: child 1 sees that through its pgoff view (the
	 * last page aside, which the children write) */
	ok &= i == 0 ? check_pattern(b, CUT * ps, 8) < 0 : check_pattern(b_view, (PAGES - CUT - 1) * ps, 8 + 1000) < 0;
	s->ack[i] = ok ? 100 + i : -1;
	b_view[(i == 0 ? PAGES - 1 : PAGES - CUT - 1) * ps + i] ^= 0xff; /* and writes back */
	_exit(ok ? 0 : 1);
}

int main(int argc, char **argv)
{
	pid_t kids[2];

	test_init(argc, argv);
	ps = sysconf(_SC_PAGESIZE);
	a = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		setup_fail("mmap");
	fill_pattern(a + ps, (PAGES - 1) * ps, 7);
	fill_pattern(b, PAGES * ps, 8);
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			setup_fail("fork");
		if (kids[i] == 0)
			child(i);
	}

	test_daemon();
	test_waitsig();

	struct shared *s = (struct shared *)a;
	/* child 1 checks b's tail against pattern 8+1000: rewrite it here, after restore */
	fill_pattern(b + CUT * ps, (PAGES - CUT) * ps, 8 + 1000);
	uint8_t *last = b + (PAGES - 1) * ps;
	int was[2] = {last[0], last[1]};
	s->go = 1;
	for (int i = 0; i < 2; i++) {
		int st;
		check(waitpid(kids[i], &st, 0) == kids[i], "waitpid %d", kids[i]);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d saw other contents (status %#x)", i, st);
		check(s->ack[i] == 100 + i, "child %d's answer %d is not in the shared page", i, s->ack[i]);
	}
	/* each child flipped a byte of b's last page, child 1 through its own view */
	for (int i = 0; i < 2; i++)
		check(last[i] == (was[i] ^ 0xff), "child %d's write to b is not shared", i);
	pass();
	return test_result();
}
