/* memfd-shared01: memfds a parent and its child share in other ways than both mapping them:
 *   A  (no sealing) an fd both hold (inherited, one open file), mapped by the child only;
 *   B  sealed F_SEAL_GROW | F_SEAL_SHRINK, the parent's fd and a mapping both tasks have;
 *   C  sealed F_SEAL_FUTURE_WRITE after the child mapped it writable (the parent's fd only):
 *      the child's mapping must stay writable, new writes are refused;
 *   D  sealed F_SEAL_WRITE, then mapped read-only by the child (the parent's fd).
 * After restore every memfd is one inode for both tasks, writes through an fd show in the
 * other task's mapping and back, and the seals are what they were. */
#include "zdtmtst.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define PAGES 4

struct ctl { /* page 0 of B */
	volatile int ready, go, ack;
	volatile uint64_t ino[3]; /* A, B, C as the parent sees them after restore */
};

static long ps;

static void fill_at(uint8_t *p, long from, long to, int seed)
{
	for (long off = from; off < to; off++)
		p[off - from] = test_pattern(seed, off);
}

static int same_at(const uint8_t *p, long from, long to, int seed)
{
	for (long off = from; off < to; off++)
		if (p[off - from] != test_pattern(seed, off))
			return 0;
	return 1;
}

static void pwrite_pattern(int fd, long len, int seed)
{
	uint8_t buf[PAGES * 4096 * 4];
	if (len > (long)sizeof(buf))
		setup_fail("buffer");
	fill_at(buf, 0, len, seed);
	if (pwrite(fd, buf, len, 0) != len)
		setup_fail("pwrite");
}

static int make(const char *name, unsigned flags, long len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | flags);
	if (fd < 0 || ftruncate(fd, len))
		setup_fail("memfd_create %s", name);
	return fd;
}

static uint64_t ino_of_map(const void *p)
{
	struct map_entry e;
	struct stat st;
	char path[128];

	if (maps_find(p, &e))
		return 0;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", e.start, e.end);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

static uint64_t ino_of_fd(int fd)
{
	struct stat st;
	return fstat(fd, &st) ? 0 : (uint64_t)st.st_ino;
}

static void child(int a, int b, int c, int d, uint8_t *mb)
{
	struct ctl *ctl = (struct ctl *)mb;
	uint8_t *ma = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	uint8_t *mc = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, c, 0);
	uint8_t *md = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, d, 0);
	if (ma == MAP_FAILED || mc == MAP_FAILED || md == MAP_FAILED)
		_exit(2);
	close(b), close(c), close(d); /* the child keeps A's fd only */
	ctl->ready = 1;
	while (!ctl->go)
		usleep(1000);
	int ok = ino_of_fd(a) == ctl->ino[0] && ino_of_map(ma) == ctl->ino[0];
	ok &= ino_of_map(mb) == ctl->ino[1] && ino_of_map(mc) == ctl->ino[2];
	ok &= same_at(ma, 0, 2 * ps, 71) && !memcmp(ma + 2 * ps, "parent", 6) && same_at(ma + 3 * ps, 3 * ps, 4 * ps, 71);
	ok &= same_at(mb + ps, ps, PAGES * ps, 72) && same_at(mc, 0, 2 * ps, 73) && same_at(md, 0, 2 * ps, 74);
	ma[3 * ps] ^= 0xff; /* the parent reads both back through its fds */
	mc[ps] ^= 0xff;     /* a writable mapping made before F_SEAL_FUTURE_WRITE stays writable */
	ctl->ack = ok ? 100 : -1;
	_exit(ok ? 0 : 1);
}

int main(int argc, char **argv)
{
	struct ctl *ctl;
	uint8_t *mb, byte;
	int a, b, c, d, st;
	pid_t kid;

	test_init(argc, argv);
	ps = sysconf(_SC_PAGESIZE);
	a = make("zdtm-shared01-a", 0, PAGES * ps);
	pwrite_pattern(a, PAGES * ps, 71);
	b = make("zdtm-shared01-b", MFD_ALLOW_SEALING, PAGES * ps);
	mb = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	if (mb == MAP_FAILED)
		setup_fail("mmap");
	fill_at(mb + ps, ps, PAGES * ps, 72);
	c = make("zdtm-shared01-c", MFD_ALLOW_SEALING, 2 * ps);
	pwrite_pattern(c, 2 * ps, 73);
	d = make("zdtm-shared01-d", MFD_ALLOW_SEALING, 2 * ps);
	pwrite_pattern(d, 2 * ps, 74);
	if (fcntl(b, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) || fcntl(d, F_ADD_SEALS, F_SEAL_WRITE))
		setup_fail("F_ADD_SEALS");
	ctl = (struct ctl *)mb;
	kid = fork();
	if (kid < 0)
		setup_fail("fork");
	if (kid == 0)
		child(a, b, c, d, mb);
	for (int i = 0; i < 10000 && !ctl->ready; i++)
		usleep(1000);
	if (!ctl->ready)
		setup_fail("the child did not map its memfds");
	if (fcntl(c, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
		setup_fail("F_SEAL_FUTURE_WRITE");

	test_daemon();
	test_waitsig();

	check(fcntl(a, F_GET_SEALS) == F_SEAL_SEAL, "A seals %#x", fcntl(a, F_GET_SEALS));
	check(fcntl(b, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK), "B seals %#x", fcntl(b, F_GET_SEALS));
	check(fcntl(c, F_GET_SEALS) == F_SEAL_FUTURE_WRITE, "C seals %#x", fcntl(c, F_GET_SEALS));
	check(fcntl(d, F_GET_SEALS) == F_SEAL_WRITE, "D seals %#x", fcntl(d, F_GET_SEALS));
	check(ftruncate(b, ps) < 0 && errno == EPERM, "B: F_SEAL_SHRINK not enforced");
	check(pwrite(c, "x", 1, 0) < 0 && errno == EPERM, "C: F_SEAL_FUTURE_WRITE not enforced");
	check(pwrite(d, "x", 1, 0) < 0 && errno == EPERM, "D: F_SEAL_WRITE not enforced");
	ctl->ino[0] = ino_of_fd(a), ctl->ino[1] = ino_of_fd(b), ctl->ino[2] = ino_of_fd(c);
	check(ctl->ino[1] == ino_of_map(mb), "B: the parent's fd and mapping differ");
	check(pwrite(a, "parent", 6, 2 * ps) == 6, "pwrite A");
	ctl->go = 1;
	check(waitpid(kid, &st, 0) == kid, "waitpid %d", kid);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child saw other memfds (status %#x)", st);
	check(ctl->ack == 100, "the child's answer %d is not in B", ctl->ack);
	check(pread(a, &byte, 1, 3 * ps) == 1 && (byte ^ test_pattern(71, 3 * ps)) == 0xff,
	      "A: the child's write is not seen through the parent's fd");
	check(pread(c, &byte, 1, ps) == 1 && (byte ^ test_pattern(73, ps)) == 0xff,
	      "C: the child's write is not seen through the parent's fd");
	check(same_at(mb + ps, ps, PAGES * ps, 72), "B: contents differ");
	pass();
	return test_result();
}
