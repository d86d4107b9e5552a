/* file-locks00 (--file-locks): flock (exclusive and shared), POSIX (a write and a read range)
 * and OFD (a write range and a read lock to EOF) locks on files in the cwd. After restore a
 * forked checker sees each of them held, by this task, with its type and range: flock through
 * LOCK_NB from a new open, POSIX with F_GETLK, OFD with F_OFD_GETLK. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_file(const char *name)
{
	int fd = open(name, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		setup_fail("open %s", name);
	return fd;
}

static int set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* Who blocks a lock of this type and range: 0 if none, else the held lock's type must match. */
static int blocked_as(int fd, int cmd, short type, off_t start, off_t len, short held, off_t hstart, off_t hlen,
		      pid_t pid)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl) < 0)
		return 0;
	if (held == F_UNLCK)
		return fl.l_type == F_UNLCK;
	return fl.l_type == held && fl.l_start == hstart && fl.l_len == hlen && fl.l_pid == pid;
}

static int flock_fails(const char *name, int op)
{
	int fd = open(name, O_RDONLY), ret;
	ret = flock(fd, op | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return ret;
}

static int flock_works(const char *name, int op)
{
	int fd = open(name, O_RDONLY), ret;
	ret = flock(fd, op | LOCK_NB) == 0;
	close(fd);
	return ret;
}

/* In a child: every lock the parent holds, as another task sees it. Returns 0, or the number
 * of the first check that failed. */
static int checker(pid_t parent)
{
	int posix = open("file-locks00.posix", O_RDWR), ofd = open("file-locks00.ofd", O_RDWR);
	int ok[] = {
		flock_fails("file-locks00.flock-ex", LOCK_SH),
		flock_works("file-locks00.flock-sh", LOCK_SH),
		flock_fails("file-locks00.flock-sh", LOCK_EX),
		blocked_as(posix, F_GETLK, F_RDLCK, 0, 10, F_WRLCK, 0, 10, parent),
		blocked_as(posix, F_GETLK, F_WRLCK, 25, 1, F_RDLCK, 20, 10, parent),
		blocked_as(posix, F_GETLK, F_RDLCK, 20, 10, F_UNLCK, 0, 0, 0),
		blocked_as(posix, F_GETLK, F_WRLCK, 10, 10, F_UNLCK, 0, 0, 0),
		blocked_as(ofd, F_OFD_GETLK, F_RDLCK, 120, 1, F_WRLCK, 100, 50, -1),
		blocked_as(ofd, F_OFD_GETLK, F_WRLCK, 1000, 1, F_RDLCK, 200, 0, -1),
		blocked_as(ofd, F_OFD_GETLK, F_WRLCK, 150, 50, F_UNLCK, 0, 0, 0),
	};
	for (int i = 0; i < (int)(sizeof(ok) / sizeof(ok[0])); i++)
		if (!ok[i])
			return i + 1;
	return 0;
}

int main(int argc, char **argv)
{
	int ex, sh, posix, ofd, st;
	pid_t kid;

	test_init(argc, argv);
	ex = open_file("file-locks00.flock-ex");
	sh = open_file("file-locks00.flock-sh");
	posix = open_file("file-locks00.posix");
	ofd = open_file("file-locks00.ofd");
	if (flock(ex, LOCK_EX) || flock(sh, LOCK_SH))
		setup_fail("flock");
	if (set_lock(posix, F_SETLK, F_WRLCK, 0, 10) || set_lock(posix, F_SETLK, F_RDLCK, 20, 10))
		setup_fail("F_SETLK");
	if (set_lock(ofd, F_OFD_SETLK, F_WRLCK, 100, 50) || set_lock(ofd, F_OFD_SETLK, F_RDLCK, 200, 0))
		setup_fail("F_OFD_SETLK");

	test_daemon();
	test_waitsig();

	kid = fork();
	if (kid < 0) {
		fail_errno("fork");
	} else if (kid == 0) {
		_exit(checker(getppid()));
	} else {
		check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "locks not held as before: checker check %d failed (status %#x)",
		      WEXITSTATUS(st), st);
	}
	pass();
	return test_result();
}
