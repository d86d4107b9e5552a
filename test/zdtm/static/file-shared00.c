/* file-shared00: open files only siblings share. The parent opens two files, forks children A
 * and B (both inherit the fds) and closes its own fds, so no fd of the parent holds them:
 *   R  a file of known contents, O_RDONLY: A reads 100 bytes before the checkpoint; after the
 *      restore B, A and B read 50 bytes each in turn, and each must get the bytes right after
 *      the other's (one file offset for both);
 *   W  a log, O_WRONLY | O_APPEND, written by both ("A1", "B1" before, "B2", "A2" after): after
 *      one child writes, the other's offset (lseek SEEK_CUR) is at the new end, and O_NONBLOCK
 *      that B sets with F_SETFL shows in A's F_GETFL (one set of status flags);
 *   D  a copy of R, O_RDWR, deleted (a ghost file at restore): A reads 10 bytes
 *      before, B 20 after, then A 30, each right after the other's;
 *   G  a deleted file each child opens again through /proc/self/fd (a file of its own, same
 *      inode): after the restore A writes into it and B must read that (one inode, not two).
 * The children take turns through a shared anonymous page; each exits 0 when all it checked
 * held, and the parent checks their exit statuses and the log's contents. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DATA_LEN 4096
#define SEED 51

struct ctl {
	volatile int step; /* whose turn: 1 B, 2 A, 3 B, 4 done */
	volatile int ready;
};

static const char data_path[] = "file-shared00.data";
static const char log_path[] = "file-shared00.log";
static const char gone_path[] = "file-shared00.gone";
static const char ghost_path[] = "file-shared00.ghost";

static void wait_step(struct ctl *c, int step)
{
	while (c->step != step)
		usleep(1000);
}

/* Reads len bytes at the shared offset; they must be the file's bytes at [at, at + len). */
static int read_at(int fd, long at, long len, const char *who)
{
	uint8_t buf[256];
	long pos = lseek(fd, 0, SEEK_CUR);
	if (!check(read(fd, buf, len) == len, "%s: short read", who))
		return 0;
	for (long i = 0; i < len; i++)
		if (buf[i] != test_pattern(SEED, at + i)) {
			fail("%s: read at offset %ld got the bytes of another offset (not shared?)", who, pos);
			return 0;
		}
	return 1;
}

static int at_end(int fd, const char *who)
{
	struct stat st;
	long pos = lseek(fd, 0, SEEK_CUR);
	return check(fstat(fd, &st) == 0 && pos == st.st_size, "%s: log offset %ld, size %ld (not shared?)", who,
		     pos, (long)st.st_size);
}

static int d_fd, g_fd;

/* A file of the child's own on G's inode; G's inherited fd closed. */
static int reopen_g(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", g_fd);
	int fd = open(path, O_RDWR);
	close(g_fd);
	return fd;
}

static int child_a(struct ctl *c, int r, int w)
{
	int ok = 1, g = reopen_g();
	if (g < 0 || read_at(r, 0, 100, "A before") != 1 || read_at(d_fd, 0, 10, "A before (D)") != 1 || write(w, "A1", 2) != 2)
		return 2;
	c->ready |= 1;
	wait_step(c, 2);
	ok &= read_at(r, 150, 50, "A after");
	ok &= read_at(d_fd, 30, 30, "A after (D)");
	ok &= at_end(w, "A after B2");
	ok &= check(fcntl(w, F_GETFL) & O_NONBLOCK, "A: O_NONBLOCK set by B is not seen");
	ok &= write(w, "A2", 2) == 2;
	ok &= pwrite(g, "ghost", 5, 0) == 5;
	c->step = 3;
	return ok ? 0 : 1;
}

static int child_b(struct ctl *c, int r, int w)
{
	int ok = 1, g = reopen_g();
	char got[8] = {0};
	if (g < 0)
		return 2;
	while (!(c->ready & 1))
		usleep(1000);
	if (write(w, "B1", 2) != 2)
		return 2;
	c->ready |= 2;
	wait_step(c, 1);
	ok &= read_at(r, 100, 50, "B after");
	ok &= read_at(d_fd, 10, 20, "B after (D)");
	ok &= write(w, "B2", 2) == 2;
	ok &= fcntl(w, F_SETFL, O_APPEND | O_NONBLOCK) == 0;
	c->step = 2;
	wait_step(c, 3);
	ok &= read_at(r, 200, 50, "B after A");
	ok &= at_end(w, "B after A2");
	ok &= check(pread(g, got, 5, 0) == 5 && !strcmp(got, "ghost"), "B: G holds '%s', not A's write (two inodes?)", got);
	c->step = 4;
	return ok ? 0 : 1;
}

static pid_t spawn(int (*body)(struct ctl *, int, int), struct ctl *c, int r, int w)
{
	pid_t pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(body(c, r, w));
	}
	return pid;
}

int main(int argc, char **argv)
{
	uint8_t data[DATA_LEN];
	char got[16] = {0};
	pid_t kids[2];
	int r, w, st;

	test_init(argc, argv);
	struct ctl *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		setup_fail("mmap");
	fill_pattern(data, sizeof(data), SEED);
	int fd = open(data_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data) || close(fd))
		setup_fail("%s", data_path);
	r = open(data_path, O_RDONLY);
	w = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0600);
	d_fd = open(gone_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (d_fd < 0 || pwrite(d_fd, data, sizeof(data), 0) != sizeof(data) || unlink(gone_path))
		setup_fail("%s", gone_path);
	if (r < 0 || w < 0 || d_fd < 0)
		setup_fail("open");
	g_fd = open(ghost_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (g_fd < 0 || write(g_fd, "empty", 5) != 5 || unlink(ghost_path))
		setup_fail("%s", ghost_path);
	kids[0] = spawn(child_a, c, r, w);
	kids[1] = spawn(child_b, c, r, w);
	close(r), close(w), close(d_fd), close(g_fd); /* only the children hold them now */
	for (int i = 0; i < 10000 && c->ready != 3; i++)
		usleep(1000);
	if (c->ready != 3)
		setup_fail("the children did not start");

	test_daemon();
	test_waitsig();

	c->step = 1;
	for (int i = 0; i < 2; i++) {
		check(waitpid(kids[i], &st, 0) == kids[i], "child %d is not our child", kids[i]);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %c failed its checks (status %#x)", "AB"[i], st);
	}
	check(c->step == 4, "the children stopped at step %d", c->step);
	fd = open(log_path, O_RDONLY);
	check(fd >= 0 && read(fd, got, sizeof(got) - 1) == 8 && strcmp(got, "A1B1B2A2") == 0, "the log holds '%s'", got);
	unlink(data_path);
	unlink(log_path);
	pass();
	return test_result();
}
