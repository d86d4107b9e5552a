/* fpu00: the FPU/SSE control state survives: MXCSR rounding mode and x87 control word in a
 * thread spinning in asm (with two values on the x87 stack), and fenv rounding in main. */
#include "zdtmtst.h"

#include <fenv.h>
#include <pthread.h>
#include <time.h>

#define MXCSR_WANT 0x7f80	/* all exceptions masked, RC = toward zero, FTZ off */
#define FPUCW_WANT 0x0e7f	/* all masked, precision 64 bit, RC = round up */

static volatile int stop;
static volatile uint64_t spins;
static uint32_t mxcsr_got;
static uint16_t fpucw_got;
static long double st0_got, st1_got;

static void *spinner(void *arg)
{
	uint32_t mxcsr = MXCSR_WANT;
	uint16_t cw = FPUCW_WANT;

	asm volatile(
		"ldmxcsr %[mx]\n\t"
		"fldcw %[cw]\n\t"
		"fldpi\n\t"
		"fld1\n\t"
		"1: lock incq %[spins]\n\t"
		"pause\n\t"
		"cmpl $0, %[stop]\n\t"
		"je 1b\n\t"
		"stmxcsr %[mxo]\n\t"
		"fnstcw %[cwo]\n\t"
		"fstpt %[st0]\n\t"
		"fstpt %[st1]\n\t"
		: [spins] "+m"(spins), [mxo] "=m"(mxcsr_got), [cwo] "=m"(fpucw_got), [st0] "=m"(st0_got),
		  [st1] "=m"(st1_got)
		: [mx] "m"(mxcsr), [cw] "m"(cw), [stop] "m"(stop)
		: "cc", "memory");
	return arg;
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	volatile double one = 1.0, three = 3.0;
	pthread_t t;
	double down;

	test_init(argc, argv);
	if (fesetround(FE_DOWNWARD))
		setup_fail("fesetround");
	down = one / three;
	if (pthread_create(&t, NULL, spinner, NULL))
		setup_fail("pthread_create");
	while (!spins)
		nanosleep(&ms, NULL);

	test_daemon();
	test_waitsig();

	check(fegetround() == FE_DOWNWARD, "main thread rounding mode %#x", fegetround());
	check(one / three == down, "1/3 rounds differently");
	check(counter_moves(&spins), "the spinning thread does not run");
	stop = 1;
	pthread_join(t, NULL);
	check(mxcsr_got == MXCSR_WANT, "MXCSR %#x, want %#x", mxcsr_got, MXCSR_WANT);
	check(fpucw_got == FPUCW_WANT, "x87 control word %#x, want %#x", fpucw_got, FPUCW_WANT);
	check(st0_got == 1.0L && st1_got > 3.14159L && st1_got < 3.1416L, "x87 stack %Lg %Lg", st0_got, st1_got);
	pass();
	return test_result();
}
