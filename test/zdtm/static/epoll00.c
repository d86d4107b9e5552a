/* epoll00: an epoll (made first, so its fd is below its targets') with a pipe's read end, a
 * pipe's write end (edge-triggered), and two eventfds registered, each with its event mask and
 * data; after restore epoll_wait reports exactly the ready ones, and a target made ready later
 * is reported too. */
#include "zdtmtst.h"

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define D_PIPE_IN 0x1111ULL
#define D_PIPE_OUT 0x2222ULL
#define D_IDLE 0x3333ULL
#define D_EFD 0x4444444455555555ULL

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static uint32_t events_of(struct epoll_event *evs, int n, uint64_t data)
{
	for (int i = 0; i < n; i++)
		if (evs[i].data.u64 == data)
			return evs[i].events;
	return 0;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[8];
	int ep, in[2], out[2], idle, efd, n;

	test_init(argc, argv);
	ep = epoll_create1(0);
	idle = eventfd(0, 0);
	efd = eventfd(2, 0);
	if (ep < 0 || idle < 0 || efd < 0 || pipe(in) || pipe(out))
		setup_fail("epoll/eventfd/pipe");
	if (write(in[1], "x", 1) != 1)
		setup_fail("write");
	if (add(ep, in[0], EPOLLIN, D_PIPE_IN) || add(ep, out[1], EPOLLOUT | EPOLLET, D_PIPE_OUT) ||
	    add(ep, idle, EPOLLIN, D_IDLE) || add(ep, efd, EPOLLIN | EPOLLOUT, D_EFD))
		setup_fail("epoll_ctl");

	test_daemon();
	test_waitsig();

	n = epoll_wait(ep, evs, 8, 0);
	check(n == 3, "epoll_wait reports %d events, not 3", n);
	check(events_of(evs, n, D_PIPE_IN) == EPOLLIN, "pipe read end: %#x", events_of(evs, n, D_PIPE_IN));
	check(events_of(evs, n, D_PIPE_OUT) == EPOLLOUT, "pipe write end: %#x", events_of(evs, n, D_PIPE_OUT));
	check(events_of(evs, n, D_EFD) == (EPOLLIN | EPOLLOUT), "eventfd: %#x", events_of(evs, n, D_EFD));
	check(events_of(evs, n, D_IDLE) == 0, "idle eventfd reported");
	/* Edge-triggered: reported once only. */
	n = epoll_wait(ep, evs, 8, 0);
	check(n == 2 && events_of(evs, n, D_PIPE_OUT) == 0, "pipe write end reported again (%d events)", n);
	check(eventfd_write(idle, 1) == 0, "eventfd_write");
	n = epoll_wait(ep, evs, 8, 0);
	check(n == 3 && events_of(evs, n, D_IDLE) == EPOLLIN, "idle eventfd not reported once written");
	/* The registrations are the restored fds': one removed, it is gone. */
	check(epoll_ctl(ep, EPOLL_CTL_DEL, in[0], NULL) == 0, "EPOLL_CTL_DEL of the pipe: %m");
	n = epoll_wait(ep, evs, 8, 0);
	check(n == 2 && events_of(evs, n, D_PIPE_IN) == 0, "the pipe still reported after DEL");
	pass();
	return test_result();
}
