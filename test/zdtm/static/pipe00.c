/* pipe00: pipes with data in flight: one inside the task (capacity raised, read end
 * non-blocking) and one to a child that only reads after the restore. Data, capacity and flags
 * come back; both ends still talk to each other. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define INNER 3000
#define OUTER 5000

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = 1; }

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t data[OUTER], back[OUTER];
	int inner[2], outer[2], st;
	sigset_t none;
	pid_t kid;

	test_init(argc, argv);
	signal(SIGUSR1, on_usr1);
	if (pipe(inner) || pipe(outer))
		setup_fail("pipe");
	if (fcntl(inner[1], F_SETPIPE_SZ, 1 << 20) < 0 || fcntl(inner[0], F_SETFL, O_NONBLOCK))
		setup_fail("fcntl");
	fill_pattern(data, sizeof(data), 7);
	if (write(inner[1], data, INNER) != INNER)
		setup_fail("write");
	kid = fork();
	if (kid < 0)
		setup_fail("fork");
	if (kid == 0) { /* reads the outer pipe once told to */
		close(outer[1]);
		sigemptyset(&none);
		while (!go)
			sigsuspend(&none);
		_exit(read_all(outer[0], back, OUTER) == 0 && !memcmp(back, data, OUTER) ? 0 : 1);
	}
	close(outer[0]);
	if (write(outer[1], data, OUTER) != OUTER)
		setup_fail("write");

	test_daemon();
	test_waitsig();

	check(fcntl(inner[1], F_GETPIPE_SZ) == 1 << 20, "capacity %d", fcntl(inner[1], F_GETPIPE_SZ));
	check(fcntl(inner[0], F_GETFL) & O_NONBLOCK, "read end lost O_NONBLOCK");
	check(read_all(inner[0], back, INNER) == 0 && !memcmp(back, data, INNER), "buffered data differs");
	check(read(inner[0], back, 1) < 0 && errno == EAGAIN, "more data than was buffered");
	check(write(inner[1], "x", 1) == 1 && read(inner[0], back, 1) == 1 && back[0] == 'x', "ends not connected");
	kill(kid, SIGUSR1);
	check(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the child did not read back what was in flight (status %#x)", st);
	pass();
	return test_result();
}
