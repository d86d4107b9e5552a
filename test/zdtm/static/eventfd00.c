/* eventfd00: eventfds keep their counter, semaphore mode and O_NONBLOCK; one shared with a child
 * stays the same eventfd in both. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int plain, sem, shared, st;
	uint64_t v = 0;
	sigset_t none;
	pid_t kid;

	test_init(argc, argv);
	plain = eventfd(0, EFD_NONBLOCK);
	sem = eventfd(3, EFD_SEMAPHORE);
	shared = eventfd(0, 0);
	if (plain < 0 || sem < 0 || shared < 0)
		setup_fail("eventfd");
	if (eventfd_write(plain, 0x123456789ULL)) /* beyond 32 bits */
		setup_fail("eventfd_write");
	kid = fork();
	if (kid < 0)
		setup_fail("fork");
	if (kid == 0) { /* adds 7 to the shared one when the parent is done */
		sigemptyset(&none);
		if (eventfd_read(shared, &v) || v != 1)
			_exit(1);
		_exit(eventfd_write(shared, 7) ? 2 : 0);
	}

	test_daemon();
	test_waitsig();

	check(fcntl(plain, F_GETFL) & O_NONBLOCK, "plain lost O_NONBLOCK");
	check(!(fcntl(sem, F_GETFL) & O_NONBLOCK), "sem got O_NONBLOCK");
	check(eventfd_read(plain, &v) == 0 && v == 0x123456789ULL, "plain counter %#llx", (unsigned long long)v);
	check(eventfd_read(plain, &v) < 0 && errno == EAGAIN, "plain counter not reset by a read");
	for (int i = 0; i < 3; i++)
		check(eventfd_read(sem, &v) == 0 && v == 1, "semaphore read %d gave %llu", i, (unsigned long long)v);
	fcntl(sem, F_SETFL, O_NONBLOCK);
	check(eventfd_read(sem, &v) < 0 && errno == EAGAIN, "semaphore had more than 3");
	check(eventfd_write(shared, 1) == 0, "write shared");
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	check(eventfd_read(shared, &v) == 0 && v == 7, "shared eventfd got %llu from the child, not 7",
	      (unsigned long long)v);
	pass();
	return test_result();
}
