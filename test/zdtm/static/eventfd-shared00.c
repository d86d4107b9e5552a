/* eventfd-shared00: eventfds held by several tasks stay one counter.
 *   E  made by the parent (counter 5), inherited by children A and B, then closed by the parent:
 *      after the restore A adds 7 and B must read 12;
 *   F  made by the parent (counter 2), kept by the parent and inherited by B: after the restore
 *      the parent adds 3 and B must read 5.
 * The tasks take turns through a shared anonymous page; the parent checks the children's exit
 * statuses. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct ctl {
	volatile int step; /* 1 A adds to E, 2 B reads E and F, 3 done */
	volatile int ready;
};

static void wait_step(struct ctl *c, int step)
{
	while (c->step != step)
		usleep(1000);
}

static int child_a(struct ctl *c, int e, int f)
{
	close(f);
	c->ready |= 1;
	wait_step(c, 1);
	uint64_t add = 7;
	int ok = write(e, &add, sizeof(add)) == sizeof(add);
	c->step = 2;
	return ok ? 0 : 1;
}

static int child_b(struct ctl *c, int e, int f)
{
	uint64_t v = 0;
	int ok = 1;
	c->ready |= 2;
	wait_step(c, 2);
	ok &= check(read(e, &v, sizeof(v)) == sizeof(v) && v == 12, "B: E reads %llu, want 12 (not shared?)",
		    (unsigned long long)v);
	v = 0;
	ok &= check(read(f, &v, sizeof(v)) == sizeof(v) && v == 5, "B: F reads %llu, want 5", (unsigned long long)v);
	c->step = 3;
	return ok ? 0 : 1;
}

static pid_t spawn(int (*body)(struct ctl *, int, int), struct ctl *c, int e, int f)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(body(c, e, f));
	}
	return pid;
}

int main(int argc, char **argv)
{
	pid_t kids[2];
	uint64_t v;
	int st;

	test_init(argc, argv);
	struct ctl *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		setup_fail("mmap");
	int e = eventfd(5, EFD_NONBLOCK);
	int f = eventfd(2, EFD_NONBLOCK);
	if (e < 0 || f < 0)
		setup_fail("eventfd");
	kids[0] = spawn(child_a, c, e, f);
	kids[1] = spawn(child_b, c, e, f);
	close(e); /* only the children hold E now */
	for (int i = 0; i < 10000 && c->ready != 3; i++)
		usleep(1000);
	if (c->ready != 3)
		setup_fail("the children did not start");

	test_daemon();
	test_waitsig();

	v = 3;
	check(write(f, &v, sizeof(v)) == sizeof(v), "write F");
	c->step = 1;
	for (int i = 0; i < 2; i++) {
		check(waitpid(kids[i], &st, 0) == kids[i], "child %d is not our child", kids[i]);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %c failed its checks (status %#x)", "AB"[i], st);
	}
	check(c->step == 3, "the children stopped at step %d", c->step);
	check(read(f, &v, sizeof(v)) < 0 && errno == EAGAIN, "F still holds %llu after B read it", (unsigned long long)v);
	pass();
	return test_result();
}
