/* inotify00: an inotify with watches on a directory and on a file in it (wds 1 and 3: a watch
 * removed in between leaves a gap); after restore an event on each arrives with its old wd. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* The next event of fd (within a second), or -1. A read returns every queued event that fits:
 * they are handed out one by one. */
static int next_event(int fd, struct inotify_event *ev, size_t size)
{
	static char queue[8192] __attribute__((aligned(8)));
	static size_t len, off;
	struct inotify_event *e;

	for (int i = 0; off >= len && i < 100; i++) {
		ssize_t n = read(fd, queue, sizeof(queue));
		off = 0;
		len = n > 0 ? (size_t)n : 0;
		if (!len)
			usleep(10000);
	}
	if (off >= len)
		return -1;
	e = (struct inotify_event *)(queue + off);
	off += sizeof(*e) + e->len;
	if (sizeof(*e) + e->len > size)
		return -1;
	memcpy(ev, e, sizeof(*e) + e->len);
	return 0;
}

/* The next event of wd on fd (about name, if given), skipping others: the runner's pidfile is
 * made in the watched directory, and events queued at dump time are not kept. -1 if none. */
static int event_of(int fd, int wd, const char *name, struct inotify_event *ev, size_t size)
{
	while (next_event(fd, ev, size) == 0)
		if (ev->wd == wd && (!name || (ev->len && !strcmp(ev->name, name))))
			return 0;
	return -1;
}

int main(int argc, char **argv)
{
	char buf[sizeof(struct inotify_event) + NAME_MAX + 1] __attribute__((aligned(8)));
	struct inotify_event *ev = (struct inotify_event *)buf;
	int ifd, file, dwd, gap, fwd;

	test_init(argc, argv);
	file = open("watched", O_CREAT | O_RDWR, 0644);
	close(open("gap", O_CREAT | O_RDWR, 0644));
	ifd = inotify_init1(IN_NONBLOCK);
	if (file < 0 || ifd < 0)
		setup_fail("open/inotify_init1");
	dwd = inotify_add_watch(ifd, ".", IN_CREATE | IN_DELETE);
	gap = inotify_add_watch(ifd, "gap", IN_DELETE_SELF);
	fwd = inotify_add_watch(ifd, "watched", IN_MODIFY | IN_CLOSE_WRITE);
	if (dwd < 0 || gap < 0 || fwd < 0 || inotify_rm_watch(ifd, gap))
		setup_fail("inotify_add_watch");
	if (next_event(ifd, ev, sizeof(buf)) || !(ev->mask & IN_IGNORED)) /* the removal's */
		setup_fail("no IN_IGNORED");

	test_daemon();
	test_waitsig();

	check(fcntl(ifd, F_GETFL) & O_NONBLOCK, "lost O_NONBLOCK");
	check(close(open("new", O_CREAT | O_RDWR, 0644)) == 0, "create: %m");
	check(event_of(ifd, dwd, "new", ev, sizeof(buf)) == 0 && (ev->mask & IN_CREATE),
	      "directory event: wd %d (want %d) mask %#x", ev->wd, dwd, ev->mask);
	check(write(file, "x", 1) == 1, "write");
	check(event_of(ifd, fwd, NULL, ev, sizeof(buf)) == 0 && ev->mask == IN_MODIFY,
	      "file event: wd %d (want %d) mask %#x", ev->wd, fwd, ev->mask);
	check(inotify_rm_watch(ifd, gap) < 0 && errno == EINVAL, "wd %d exists", gap);
	pass();
	return test_result();
}
