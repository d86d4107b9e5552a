/* memfd-shared00: a memfd made by the parent before it forks, mapped MAP_SHARED by both tasks
 * (the child also maps a view of its tail, pgoff > 0) and held by no fd: after restore both
 * tasks map ONE memfd (same inode), the contents are intact at the right offsets, and a write
 * by either task is seen by the other. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 16
#define VIEW 4   /* first page of the child's own view */
#define NEW 8    /* pages [NEW, NEW + 2) are rewritten by the parent after restore */
#define FLIP 12  /* page whose first byte the child flips after restore */

struct ctl {
	volatile int go;   /* set by the parent after restore */
	volatile int ack;  /* the child's answer */
	volatile uint64_t ino[2]; /* inodes the child sees through its two mappings */
};

static long ps;

/* Byte at file offset off of region [from, to) of the memfd mapped at base (file offset base_off). */
static void fill_at(uint8_t *base, long base_off, long from, long to, int seed)
{
	for (long off = from; off < to; off++)
		base[off - base_off] = test_pattern(seed, off);
}

static int same_at(const uint8_t *base, long base_off, long from, long to, int seed)
{
	for (long off = from; off < to; off++)
		if (base[off - base_off] != test_pattern(seed, off))
			return 0;
	return 1;
}

/* The inode of the file mapped at p (through /proc/self/map_files), 0 on failure. */
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

/* Both views must show pattern 61, but pages [NEW, NEW + 2) pattern 62 (the parent's write). */
static int contents_ok(const uint8_t *m, const uint8_t *v)
{
	int ok = same_at(m, 0, ps, NEW * ps, 61) && same_at(m, 0, NEW * ps, (NEW + 2) * ps, 62) &&
		 same_at(m, 0, (NEW + 2) * ps, PAGES * ps, 61);
	ok &= same_at(v, VIEW * ps, VIEW * ps, NEW * ps, 61) && same_at(v, VIEW * ps, NEW * ps, (NEW + 2) * ps, 62) &&
	      same_at(v, VIEW * ps, (NEW + 2) * ps, PAGES * ps, 61);
	return ok;
}

static void child(int fd, uint8_t *m)
{
	struct ctl *c = (struct ctl *)m;
	uint8_t *v = mmap(NULL, (PAGES - VIEW) * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, VIEW * ps);
	if (v == MAP_FAILED)
		_exit(2);
	close(fd);
	while (!c->go)
		usleep(1000);
	int ok = contents_ok(m, v);
	c->ino[0] = ino_of_map(m);
	c->ino[1] = ino_of_map(v);
	v[(FLIP - VIEW) * ps] ^= 0xff; /* seen by the parent through its own mapping */
	c->ack = ok ? 100 : -1;
	_exit(ok ? 0 : 1);
}

int main(int argc, char **argv)
{
	struct ctl *c;
	uint8_t *m;
	pid_t kid;
	int fd, st;

	test_init(argc, argv);
	ps = sysconf(_SC_PAGESIZE);
	fd = memfd_create("zdtm-shared00", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, PAGES * ps))
		setup_fail("memfd_create");
	m = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		setup_fail("mmap");
	fill_at(m, 0, ps, PAGES * ps, 61);
	kid = fork();
	if (kid < 0)
		setup_fail("fork");
	if (kid == 0)
		child(fd, m);
	close(fd); /* only the mappings hold the memfd now */

	test_daemon();
	test_waitsig();

	c = (struct ctl *)m;
	int was = m[FLIP * ps];
	fill_at(m, 0, NEW * ps, (NEW + 2) * ps, 62); /* the child must see this */
	c->go = 1;
	check(waitpid(kid, &st, 0) == kid, "waitpid %d", kid);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child saw other contents (status %#x)", st);
	check(c->ack == 100, "the child's answer %d is not in the memfd", c->ack);
	check(m[FLIP * ps] == (uint8_t)(was ^ 0xff), "the child's write is not shared");
	uint64_t mine = ino_of_map(m);
	check(mine && c->ino[0] == mine && c->ino[1] == mine, "inodes: parent %lu, child %lu and %lu",
	      (unsigned long)mine, (unsigned long)c->ino[0], (unsigned long)c->ino[1]);
	check(same_at(m, 0, ps, NEW * ps, 61) && same_at(m, 0, NEW * ps, (NEW + 2) * ps, 62) &&
	      same_at(m, 0, (NEW + 2) * ps, FLIP * ps, 61) && same_at(m, 0, FLIP * ps + 1, PAGES * ps, 61),
	      "the parent's view differs");
	pass();
	return test_result();
}
