/* stopped: the runner SIGSTOPs this test before the checkpoint (tests named *stopped*) and
 * expects it still stopped after restore before it sends SIGCONT; the test checks that it was
 * continued exactly once (SIGCONT handler) and that its state survived. */
#include "zdtmtst.h"

static volatile int conts;
static volatile uint64_t value = 0x57077ed;

static void on_cont(int sig)
{
	conts++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_cont, .sa_flags = SA_RESTART };

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCONT, &sa, NULL);

	test_daemon();
	test_waitsig();

	check(conts == 1, "SIGCONT handler ran %d times, want 1", conts);
	check(value == 0x57077ed, "value changed");
	pass();
	return test_result();
}
