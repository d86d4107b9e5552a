/* fanotify00: a fanotify (FAN_CLASS_NOTIF, O_RDONLY events) with inode marks on a file and on
 * the cwd (events on its children), and an ignored mask on a second file in it; after restore a
 * write to each marked file reports an event whose fd is that file, the ignored one does not. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* The next event of fd about the inode of st with a bit of mask (within a second), skipping
 * others: the runner's pidfile is made in the marked directory, and events queued at dump time
 * are not kept. Returns the event's mask, 0 if none came. */
static unsigned long long event_on(int fd, const struct stat *st, unsigned long long mask)
{
	static char buf[4096] __attribute__((aligned(8)));

	for (int i = 0; i < 100; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
		unsigned long long got = 0;

		if (n <= 0) {
			usleep(10000);
			continue;
		}
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			struct stat s;

			if (m->fd >= 0 && !fstat(m->fd, &s) && s.st_ino == st->st_ino && s.st_dev == st->st_dev &&
			    (m->mask & mask))
				got |= m->mask;
			if (m->fd >= 0)
				close(m->fd);
		}
		if (got)
			return got;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct stat file_st, child_st, ign_st;
	int fan, file, child, ign;

	test_init(argc, argv);
	file = open("marked", O_CREAT | O_RDWR, 0644);
	child = open("child", O_CREAT | O_RDWR, 0644);
	ign = open("ignored", O_CREAT | O_RDWR, 0644);
	fan = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (file < 0 || child < 0 || ign < 0 || fan < 0)
		setup_fail("open/fanotify_init");
	if (fstat(file, &file_st) || fstat(child, &child_st) || fstat(ign, &ign_st))
		setup_fail("fstat");
	if (fanotify_mark(fan, FAN_MARK_ADD, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, "marked") ||
	    fanotify_mark(fan, FAN_MARK_ADD, FAN_MODIFY | FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, ".") ||
	    fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_MODIFY,
			  AT_FDCWD, "ignored"))
		setup_fail("fanotify_mark");

	test_daemon();
	test_waitsig();

	check(fcntl(fan, F_GETFL) & O_NONBLOCK, "lost O_NONBLOCK");
	check(write(ign, "x", 1) == 1, "write ignored");
	check(write(file, "x", 1) == 1, "write marked");
	check(event_on(fan, &file_st, FAN_MODIFY) & FAN_MODIFY, "no FAN_MODIFY on the marked file");
	check(write(child, "x", 1) == 1, "write child");
	check(event_on(fan, &child_st, FAN_MODIFY) & FAN_MODIFY, "no FAN_MODIFY on the directory's child");
	check(close(child) == 0, "close child");
	check(event_on(fan, &child_st, FAN_CLOSE_WRITE) & FAN_CLOSE_WRITE, "no FAN_CLOSE_WRITE on the child");
	check(write(ign, "y", 1) == 1, "write ignored");
	check(!(event_on(fan, &ign_st, FAN_MODIFY) & FAN_MODIFY), "FAN_MODIFY on the ignored file");
	pass();
	return test_result();
}
