/* sk-unix-scm02: anonymous-inode files and a memfd in flight on a stream socketpair
 * (SCM_RIGHTS): an eventfd (counter 5), a memfd (written, at offset 3), an armed periodic
 * timerfd, a signalfd (SIGUSR1) and an inotify instance watching the test's directory. The task
 * keeps its own fd of the eventfd and closes the others, which are then only in flight. After
 * restore the receiver gets all five, in order, each with its state, and the eventfd is the
 * one the task still holds (one counter). */
#include "zdtmtst.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define NFDS 5

/* fd's /proc/self/fdinfo has a line starting with prefix. */
static bool fdinfo_has(int fd, const char *prefix)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_file(path, text, sizeof(text)) < 0)
		return false;
	for (char *line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	int sk[2], fds[NFDS], got[NFDS];
	char buf[32] = { 0 };

	test_init(argc, argv);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	struct itimerspec every = { { 100, 0 }, { 100, 0 } };
	fds[0] = eventfd(5, EFD_NONBLOCK);
	fds[1] = memfd_create("scm02", 0);
	fds[2] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	fds[3] = signalfd(-1, &usr1, SFD_NONBLOCK);
	fds[4] = inotify_init1(IN_NONBLOCK);
	for (int i = 0; i < NFDS; i++)
		if (fds[i] < 0)
			setup_fail("fd %d", i);
	if (write(fds[1], "memory", 6) != 6 || lseek(fds[1], 3, SEEK_SET) != 3 ||
	    timerfd_settime(fds[2], 0, &every, NULL) || inotify_add_watch(fds[4], ".", IN_CREATE) < 0)
		setup_fail("state");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
		setup_fail("socketpair");
	test_send_fds(sk[0], "anon", fds, NFDS);
	for (int i = 1; i < NFDS; i++)
		close(fds[i]);

	test_daemon();
	test_waitsig();

	if (!check(test_recv_fds(sk[1], buf, sizeof(buf) - 1, got, NFDS) == NFDS, "not %d fds in flight", NFDS) ||
	    !check(!strcmp(buf, "anon"), "stream data: %s", buf)) {
		pass();
		return test_result();
	}
	uint64_t v = 0;
	check(write(fds[0], &(uint64_t){ 2 }, 8) == 8 && read(got[0], &v, 8) == 8 && v == 7,
	      "eventfd counter %llu, not the task's eventfd's 5 + 2", (unsigned long long)v);
	memset(buf, 0, sizeof(buf));
	check(lseek(got[1], 0, SEEK_CUR) == 3 && read(got[1], buf, sizeof(buf)) == 3 && !strcmp(buf, "ory"),
	      "memfd offset or contents: %s", buf);
	check(fdinfo_has(got[1], "flags:") && test_fd_holds(got[1], "memory"), "memfd contents");
	struct itimerspec now;
	check(timerfd_gettime(got[2], &now) == 0 && now.it_interval.tv_sec == 100 && now.it_value.tv_sec > 0,
	      "timerfd not armed every 100 s");
	check(fdinfo_has(got[3], "sigmask:\t0000000000000200"), "signalfd mask is not SIGUSR1");
	check(fdinfo_has(got[4], "inotify wd:"), "inotify lost its watch");
	pass();
	return test_result();
}
