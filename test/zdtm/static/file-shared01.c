/* file-shared01: locks of open files only siblings share (run with --file-locks). The parent
 * opens two files, forks children A and B (both inherit the fds) and closes its own fds:
 *   F  A takes flock(LOCK_EX) on it;
 *   O  A takes an OFD write lock on bytes 0-99 of it.
 * Both locks belong to the open file, so after the restore B (which holds the same open files)
 * releases them through its own fds, and the parent, on files of its own, must then get both
 * locks (had each child its own open file, B's unlock would leave A's locks in place). */
#include "zdtmtst.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct ctl {
	volatile int step; /* 1 B unlocks, 2 done */
	volatile int ready;
};

static const char f_path[] = "file-shared01.flock";
static const char o_path[] = "file-shared01.ofd";

static int ofd_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	return fcntl(fd, F_OFD_SETLK, &fl);
}

static int child_a(struct ctl *c, int f, int o)
{
	if (flock(f, LOCK_EX | LOCK_NB) || ofd_lock(o, F_WRLCK))
		return 2;
	c->ready |= 1;
	pause();
	return 0;
}

static int child_b(struct ctl *c, int f, int o)
{
	int ok = 1;
	c->ready |= 2;
	while (c->step != 1)
		usleep(1000);
	ok &= flock(f, LOCK_UN) == 0;
	ok &= ofd_lock(o, F_UNLCK) == 0;
	c->step = 2;
	return ok ? 0 : 1;
}

static pid_t spawn(int (*body)(struct ctl *, int, int), struct ctl *c, int f, int o)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(body(c, f, o));
	}
	return pid;
}

int main(int argc, char **argv)
{
	pid_t kids[2];
	int st;

	test_init(argc, argv);
	struct ctl *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		setup_fail("mmap");
	int f = open(f_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int o = open(o_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0 || o < 0)
		setup_fail("open");
	kids[0] = spawn(child_a, c, f, o);
	kids[1] = spawn(child_b, c, f, o);
	close(f), close(o); /* only the children hold them now */
	for (int i = 0; i < 10000 && c->ready != 3; i++)
		usleep(1000);
	if (c->ready != 3)
		setup_fail("the children did not start");
	f = open(f_path, O_RDWR);
	o = open(o_path, O_RDWR);
	if (f < 0 || o < 0 || flock(f, LOCK_EX | LOCK_NB) == 0 || ofd_lock(o, F_WRLCK) == 0)
		setup_fail("A's locks are not taken");
	close(f), close(o);

	test_daemon();
	test_waitsig();

	c->step = 1;
	check(waitpid(kids[1], &st, 0) == kids[1], "child %d is not our child", kids[1]);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child B could not unlock (status %#x)", st);
	f = open(f_path, O_RDWR);
	o = open(o_path, O_RDWR);
	check(f >= 0 && flock(f, LOCK_EX | LOCK_NB) == 0, "F: B's unlock did not release A's flock (not shared?)");
	check(o >= 0 && ofd_lock(o, F_WRLCK) == 0, "O: B's unlock did not release A's OFD lock (not shared?)");
	kill(kids[0], SIGKILL);
	check(waitpid(kids[0], &st, 0) == kids[0], "child %d is not our child", kids[0]);
	unlink(f_path);
	unlink(o_path);
	pass();
	return test_result();
}
